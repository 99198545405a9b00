// The versions panel: named versions of the map, taking one, comparing two (or one with the map as
// it is now), restoring one, and the review cycle (submit to reviewers, approve or request changes).
import { api, fetchBlob, saveBlob, roleAtLeast, role, claims, explain } from './api.js';
import { h, toast, ago } from './dom.js';

let instances = 0;

const KIND_LABELS = { manual: null, auto: ['Auto-saved', ''], 'pre-restore': ['Before a restore', 'warn'] };
const REVIEW_STATES = {
  'in-review': ['In review', 'warn'],
  approved: ['Approved', 'ok'],
  'changes-requested': ['Changes requested', 'danger'],
};
/** The map's collection for each entity kind of a comparison (none for the map and emotions). */
const COLLECTIONS = {
  persona: 'personas', stage: 'stages', step: 'steps', lane: 'lanes', card: 'cards', channel: 'channels',
  touchpoint: 'touchpoints', metric: 'metrics', measurement: 'measurements', link: 'links',
};
const NOUNS = { meta: 'map', emotion: 'emotion score' };
const GROUPS = [
  ['added', 'Added'],
  ['changed', 'Changed'],
  ['moved', 'Moved'],
  ['removed', 'Removed'],
];


/** Today as YYYY-MM-DD in the viewer's time zone. */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function pill(text, kind = '', title) {
  return h('span', { class: `pill${kind ? ` ${kind}` : ''}`, title, text });
}

function when(millis) {
  return h('time', { dateTime: new Date(millis).toISOString(), title: new Date(millis).toLocaleString(), text: ago(millis) });
}

/** A field value of a comparison, short and readable. */
function value(v) {
  if (v === null || v === undefined || v === '') return h('span', { class: 'versions-empty-value', text: 'empty' });
  let s = typeof v === 'string' ? `“${v}”` : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (s.length > 90) s = `${s.slice(0, 88)}…${typeof v === 'string' ? '”' : ''}`;
  return h('span', { class: 'versions-value', text: s });
}

/** "camelCase" field names as words: `endStepId` → "end step". */
function fieldName(field) {
  return field.replace(/Id$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

const named = (ref) => ref?.name ?? `(missing ${ref?.id})`;
const stepText = (p) => {
  let s = named(p.step);
  if (p.endStep) s += ` to ${named(p.endStep)}`;
  if (p.step.stageName) s += ` (${p.step.stageName})`;
  return s;
};

/** Where an added or removed entity sits: "in What the customer does, at Pays (Purchase)". */
function place(p) {
  if (!p) return '';
  const parts = [];
  if (p.stage) parts.push(`in stage ${named(p.stage)}`);
  if (p.lane) parts.push(`in ${named(p.lane)}`);
  if (p.step) parts.push(`at ${stepText(p)}`);
  return parts.join(', ');
}

/** One side of a move, leaving out what both sides share: "Visits the site (Awareness)". */
function side(p, other) {
  const parts = [];
  if (p.stage) parts.push(`stage ${named(p.stage)}`);
  if (p.lane && p.lane.id !== other.lane?.id) parts.push(named(p.lane));
  if (p.step && (p.step.id !== other.step?.id || p.endStep?.id !== other.endStep?.id)) parts.push(stepText(p));
  return parts.join(', ') || 'its place';
}

/**
 * Renders the versions of `ctx.mapId` into `el` (an empty container in the side panel).
 * `ctx.onRestored(result)` is called after a restore; the optional `ctx.onSelect(collection, id)`
 * lets entities in a comparison with the current map be shown on the board. Returns `{ refresh }`.
 */
export function renderVersions(el, ctx) {
  const n = ++instances;
  const mapPath = `/maps/${encodeURIComponent(ctx.mapId)}`;
  const canTake = roleAtLeast('facilitator');
  const canDecide = roleAtLeast('owner');
  const me = claims?.sub ?? null;

  let versions = [];
  let compared = null; // { from, to } of the comparison on show

  const stamp = h('span', { class: 'versions-stamp muted', attrs: { role: 'status' } });
  const refreshButton = h('button', {
    type: 'button', class: 'ghost versions-refresh', attrs: { 'aria-label': 'Refresh versions' },
    onclick: () => refresh(),
  }, h('span', { attrs: { 'aria-hidden': 'true' }, text: '↻' }), 'Refresh');
  const approval = h('div', { class: 'versions-approval' });
  const listHost = h('div', { class: 'versions-listhost', attrs: { 'aria-busy': 'true' } },
    h('p', { class: 'muted', text: 'Loading versions…' }));
  const result = h('div', { class: 'versions-compare-result', dataset: { testid: 'compare-result' }, hidden: true, tabIndex: -1 });

  // Compare two versions.
  const fromSelect = h('select', { id: `versions-${n}-from`, dataset: { testid: 'compare-from' } });
  const toSelect = h('select', { id: `versions-${n}-to`, dataset: { testid: 'compare-to' } });
  const compareButton = h('button', { type: 'submit', dataset: { testid: 'compare-two' } }, 'Compare');
  const compareForm = h('form', {
    class: 'versions-compare', hidden: true, attrs: { 'aria-labelledby': `versions-${n}-compare-title` },
    onsubmit: (e) => {
      e.preventDefault();
      compare(fromSelect.value, toSelect.value);
    },
  },
    h('h3', { id: `versions-${n}-compare-title`, text: 'Compare' }),
    h('div', { class: 'versions-compare-fields' },
      h('div', {}, h('label', { for: fromSelect.id, text: 'From' }), fromSelect),
      h('div', {}, h('label', { for: toSelect.id, text: 'To' }), toSelect),
      compareButton));

  const root = h('section', { class: 'versions', dataset: { testid: 'versions' }, attrs: { 'aria-labelledby': `versions-${n}-title` } },
    h('div', { class: 'versions-head' }, h('h2', { id: `versions-${n}-title`, text: 'Versions' }), stamp, refreshButton),
    approval,
    canTake ? takeForm() : null,
    compareForm,
    result,
    h('h3', { class: 'versions-list-title', text: 'History' }),
    listHost);
  el.replaceChildren(root);

  function takeForm() {
    const label = h('input', { id: `versions-${n}-label`, maxLength: 200, autocomplete: 'off', required: true,
      placeholder: 'e.g. After workshop 2', dataset: { testid: 'version-label' } });
    const description = h('textarea', { id: `versions-${n}-description`, rows: 2, maxLength: 10000,
      placeholder: 'What this version is, for whom', dataset: { testid: 'version-description' } });
    const error = h('p', { class: 'error-text versions-error', attrs: { role: 'alert' }, hidden: true });
    const button = h('button', { type: 'submit', class: 'primary', dataset: { testid: 'take-version' } }, 'Take version');
    let busy = false;
    return h('form', {
      class: 'versions-take', noValidate: true, attrs: { 'aria-labelledby': `versions-${n}-take-title` },
      onsubmit: async (e) => {
        e.preventDefault();
        if (busy) return;
        error.hidden = true;
        const text = label.value.trim();
        if (!text) {
          error.hidden = false;
          error.textContent = 'Give the version a label, so others can tell it apart.';
          label.focus();
          return;
        }
        busy = true;
        button.setAttribute('aria-busy', 'true');
        button.textContent = 'Taking…';
        try {
          const info = await api(`${mapPath}/versions`, { method: 'POST', body: { label: text, description: description.value.trim() } });
          label.value = '';
          description.value = '';
          toast(`Took version ${info.number}, “${info.label}”.`);
          await refresh();
          listHost.querySelector(`[data-number="${info.number}"]`)?.classList.add('versions-row-new');
        } catch (err) {
          error.hidden = false;
          error.textContent = explain(err);
        } finally {
          busy = false;
          button.removeAttribute('aria-busy');
          button.textContent = 'Take version';
        }
      },
    },
      h('h3', { id: `versions-${n}-take-title`, text: 'Take a version' }),
      h('label', { for: label.id, text: 'Label' }), label,
      h('label', { for: description.id }, 'Description ', h('span', { class: 'muted versions-optional', text: '(optional)' })), description,
      error,
      h('div', { class: 'versions-take-actions' }, button));
  }

  function paintApproval(data) {
    if (data.lastApproved === null || data.lastApproved === undefined) {
      approval.replaceChildren(h('p', { class: 'muted', text: 'No version has been approved yet.' }));
      return;
    }
    const approved = versions.find((v) => v.number === data.lastApproved);
    approval.replaceChildren(
      h('p', { class: 'versions-approval-line' },
        pill('Approved', 'ok'), ' ',
        h('span', {}, `Version ${data.lastApproved}${approved ? `, “${approved.label}”` : ''} is the newest approved.`)),
      data.changedSinceApproved
        ? h('p', { class: 'versions-approval-line' }, pill('Changed since', 'warn'), ' ',
          h('span', { text: 'The map has changed since. ' }),
          h('button', { type: 'button', class: 'versions-linkish', onclick: () => compare(String(data.lastApproved), 'current') }, 'See what changed'))
        : h('p', { class: 'versions-approval-line' }, pill('Unchanged', 'ok'), ' ', h('span', { text: 'The map is as it was approved.' })));
  }

  function paintSelects() {
    const keepFrom = fromSelect.value;
    const keepTo = toSelect.value;
    const options = () => versions.map((v) => h('option', { value: String(v.number), text: `v${v.number} · ${v.label}` }));
    fromSelect.replaceChildren(...options());
    toSelect.replaceChildren(h('option', { value: 'current', text: 'Current map' }), ...options());
    if (keepFrom && versions.some((v) => String(v.number) === keepFrom)) fromSelect.value = keepFrom;
    if (keepTo && (keepTo === 'current' || versions.some((v) => String(v.number) === keepTo))) toSelect.value = keepTo;
    // Nothing to compare before the first version.
    compareForm.hidden = !versions.length;
  }

  function paintList() {
    // Repainting replaces the buttons: keep the keyboard focus on the same control of the same row.
    const active = document.activeElement;
    const row = listHost.contains(active) ? active.closest('[data-number]') : null;
    const key = row ? { number: row.dataset.number, testid: active.dataset?.testid } : null;
    paintRows();
    if (key) {
      const again = listHost.querySelector(`[data-number="${key.number}"]`);
      (again?.querySelector(`[data-testid="${key.testid}"]`) ?? again?.querySelector('button') ?? refreshButton).focus();
    }
  }

  function paintRows() {
    if (!versions.length) {
      listHost.replaceChildren(h('p', { class: 'versions-none muted' },
        canTake ? 'No versions yet. Take one to mark where the map stands: you can come back to it, compare with it and send it for review.'
          : 'No versions yet.'));
      return;
    }
    listHost.replaceChildren(h('ol', { class: 'versions-list', attrs: { reversed: true } }, versions.map(row)));
  }

  function row(v) {
    const kind = KIND_LABELS[v.kind] === undefined ? [v.kind, ''] : KIND_LABELS[v.kind];
    const review = v.review ?? null;
    const stateInfo = review ? REVIEW_STATES[review.state] ?? [review.state, ''] : null;
    const labelId = `versions-${n}-v${v.number}`;
    const actions = [
      h('button', {
        type: 'button', class: 'versions-small', dataset: { testid: 'compare' },
        attrs: { 'aria-label': `Compare with current: version ${v.number}` },
        onclick: () => compare(String(v.number), 'current'),
      }, 'Compare with current'),
      canTake ? h('button', {
        type: 'button', class: 'versions-small', dataset: { testid: 'restore' },
        attrs: { 'aria-label': `Restore version ${v.number}` }, onclick: (e) => confirmRestore(v, e.currentTarget),
      }, 'Restore') : null,
      canTake && !review ? h('button', {
        type: 'button', class: 'versions-small', dataset: { testid: 'submit-review' },
        attrs: { 'aria-label': `Submit for review: version ${v.number}` }, onclick: (e) => submitReview(v, e.currentTarget),
      }, 'Submit for review') : null,
      canDecide && review?.state === 'in-review' && mayDecide(review) ? h('button', {
        type: 'button', class: 'versions-small primary', dataset: { testid: 'decide' },
        attrs: { 'aria-label': `Decide on version ${v.number}` }, onclick: (e) => decide(v, e.currentTarget),
      }, 'Approve or request changes') : null,
    ];
    return h('li', { class: 'versions-row', dataset: { testid: 'version-row', number: String(v.number) }, attrs: { 'aria-labelledby': labelId } },
      h('div', { class: 'versions-row-head' },
        h('span', { class: 'versions-number', text: `v${v.number}` }),
        h('span', { class: 'versions-label', id: labelId },
          h('span', { class: 'visually-hidden', text: `Version ${v.number}: ` }), v.label),
        kind ? pill(kind[0], kind[1]) : null,
        stateInfo ? pill(stateInfo[0], stateInfo[1]) : null),
      h('div', { class: 'versions-byline' }, v.author ? `by ${v.author} · ` : '', when(v.createdAt)),
      v.description ? h('p', { class: 'versions-description', text: v.description }) : null,
      review ? reviewBlock(review) : null,
      h('div', { class: 'versions-actions' }, actions));
  }

  /** Without authentication anyone may decide for a reviewer; with it, only a pending reviewer. */
  function mayDecide(r) {
    return !me || (r.reviewers.includes(me) && !r.decisions.some((d) => d.reviewer === me));
  }

  function reviewBlock(r) {
    const overdue = r.state === 'in-review' && r.due && r.due < today();
    const decided = new Map(r.decisions.map((d) => [d.reviewer, d]));
    return h('div', { class: 'versions-review' },
      h('p', { class: 'versions-review-line' },
        'Submitted for review ', r.submittedBy ? `by ${r.submittedBy} ` : '', when(r.submittedAt),
        r.due ? [' · ', overdue ? pill(`Overdue: due ${r.due}`, 'danger') : `due ${r.due}`] : null),
      h('ul', { class: 'versions-reviewers', attrs: { 'aria-label': 'Reviewers' } }, r.reviewers.map((name) => {
        const d = decided.get(name);
        const [mark, text, cls] = !d ? ['…', 'waiting', 'pending']
          : d.verdict === 'approved' ? ['✓', 'approved', 'approved'] : ['✗', 'requested changes', 'changes'];
        return h('li', { class: `versions-reviewer versions-reviewer-${cls}` },
          h('span', { class: 'versions-mark', attrs: { 'aria-hidden': 'true' }, text: mark }),
          h('span', {}, h('strong', { text: name }), ` ${text}`, d ? [' ', when(d.at)] : null),
          d?.comment ? h('q', { class: 'versions-comment', text: d.comment }) : null);
      })));
  }

  // --- dialogs ---------------------------------------------------------------------------------

  /** Opens a modal dialog; it is removed on close and focus goes back to `opener`. */
  function openDialog(opener, titleText, content, actions) {
    const id = `versions-${n}-dialog-title`;
    const dialog = h('dialog', { class: 'versions-dialog', attrs: { 'aria-labelledby': id } },
      h('h2', { id, text: titleText }), content, h('div', { class: 'actions' }, actions));
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener?.isConnected) opener.focus();
      else refreshButton.focus();
    });
    document.body.append(dialog);
    dialog.showModal();
    return dialog;
  }

  function busyButtons(dialog, busy) {
    for (const b of dialog.querySelectorAll('button')) b.disabled = busy;
  }

  function confirmRestore(v, opener) {
    const error = h('p', { class: 'error-text', attrs: { role: 'alert' }, hidden: true });
    const cancel = h('button', { type: 'button', text: 'Cancel', onclick: () => dialog.close() });
    const confirm = h('button', { type: 'button', class: 'primary', dataset: { testid: 'confirm-restore' } }, `Restore version ${v.number}`);
    const dialog = openDialog(opener, `Restore version ${v.number}, “${v.label}”?`, [
      h('p', {}, 'The map changes back to how it was in this version, for everyone working on it. They stay connected and keep editing.'),
      h('p', { class: 'muted' }, 'The map as it is now is saved first as a version of its own, so this can be undone by restoring that one.'),
      error,
    ], [cancel, confirm]);
    cancel.focus();
    confirm.addEventListener('click', async () => {
      busyButtons(dialog, true);
      confirm.textContent = 'Restoring…';
      try {
        const res = await api(`${mapPath}/versions/${v.number}/restore`, { method: 'POST' });
        dialog.close();
        const safety = res?.safetyVersion?.number;
        toast(`Restored version ${v.number}.${safety ? ` The map as it was is saved as version ${safety}.` : ''}`);
        try {
          ctx.onRestored?.(res);
        } finally {
          refresh();
        }
      } catch (err) {
        error.hidden = false;
        error.textContent = explain(err);
        busyButtons(dialog, false);
        confirm.textContent = `Restore version ${v.number}`;
      }
    });
  }

  function submitReview(v, opener) {
    const reviewers = h('input', { id: `versions-${n}-reviewers`, autocomplete: 'off', required: true,
      placeholder: 'e.g. ana, ben', dataset: { testid: 'review-reviewers' }, attrs: { 'aria-describedby': `versions-${n}-reviewers-hint` } });
    const due = h('input', { id: `versions-${n}-due`, type: 'date', min: today(), dataset: { testid: 'review-due' } });
    const error = h('p', { class: 'error-text', attrs: { role: 'alert' }, hidden: true });
    const cancel = h('button', { type: 'button', text: 'Cancel', onclick: () => dialog.close() });
    const confirm = h('button', { type: 'submit', class: 'primary', dataset: { testid: 'confirm-submit-review' } }, 'Submit for review');
    const form = h('form', { class: 'versions-dialog-form', noValidate: true, id: `versions-${n}-review-form` },
      h('p', { class: 'muted' }, `Each reviewer approves version ${v.number} or asks for changes. It is approved once all of them approve.`),
      h('label', { for: reviewers.id, text: 'Reviewers' }), reviewers,
      h('p', { class: 'versions-hint muted', id: `versions-${n}-reviewers-hint` },
        me ? 'Their user ids, separated by commas.' : 'Their names, separated by commas.'),
      h('label', { for: due.id }, 'Due date ', h('span', { class: 'muted versions-optional', text: '(optional)' })), due,
      error);
    confirm.setAttribute('form', form.id);
    const dialog = openDialog(opener, `Submit version ${v.number} for review`, form, [cancel, confirm]);
    reviewers.focus();
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const names = [...new Set(reviewers.value.split(',').map((s) => s.trim()).filter(Boolean))];
      if (!names.length) {
        error.hidden = false;
        error.textContent = 'Name at least one reviewer.';
        reviewers.focus();
        return;
      }
      busyButtons(dialog, true);
      try {
        const body = { reviewers: names };
        if (due.value) body.due = due.value;
        await api(`${mapPath}/versions/${v.number}/review`, { method: 'POST', body });
        dialog.close();
        toast(`Version ${v.number} is with ${names.join(', ')} for review.`);
        refresh();
      } catch (err) {
        error.hidden = false;
        error.textContent = explain(err);
        busyButtons(dialog, false);
      }
    });
  }

  function decide(v, opener) {
    const r = v.review;
    const pending = r.reviewers.filter((name) => !r.decisions.some((d) => d.reviewer === name));
    const error = h('p', { class: 'error-text', attrs: { role: 'alert' }, hidden: true });
    const comment = h('textarea', { id: `versions-${n}-comment`, rows: 3, maxLength: 10000, dataset: { testid: 'decide-comment' },
      placeholder: 'What should change, or why it is good to go' });
    let reviewerField;
    let reviewerSelect = null;
    if (me) {
      reviewerField = pending.includes(me)
        ? h('p', {}, 'Deciding as ', h('strong', { text: claims?.name ? `${claims.name} (${me})` : me }), '.')
        : h('p', { class: 'error-text' }, `You (${me}) are not a reviewer of this version, or have already decided: only ${pending.join(', ') || 'nobody'} can still decide.`);
    } else {
      reviewerSelect = h('select', { id: `versions-${n}-reviewer`, dataset: { testid: 'decide-reviewer' } },
        pending.map((name) => h('option', { value: name, text: name })));
      reviewerField = [h('label', { for: reviewerSelect.id, text: 'Reviewer' }), reviewerSelect];
    }
    const cancel = h('button', { type: 'button', text: 'Cancel', onclick: () => dialog.close() });
    const changes = h('button', { type: 'button', class: 'danger', dataset: { testid: 'decide-changes' } }, 'Request changes');
    const approve = h('button', { type: 'button', class: 'primary', dataset: { testid: 'decide-approve' } }, 'Approve');
    const blocked = me && !pending.includes(me);
    changes.disabled = approve.disabled = Boolean(blocked);
    const dialog = openDialog(opener, `Review version ${v.number}, “${v.label}”`, [
      reviewerField,
      h('label', { for: comment.id }, 'Comment ', h('span', { class: 'muted versions-optional', text: '(optional)' })), comment,
      error,
    ], [cancel, changes, approve]);
    (reviewerSelect ?? comment).focus();

    async function send(verdict) {
      if (verdict === 'changes-requested' && !comment.value.trim()) {
        error.hidden = false;
        error.textContent = 'Say what should change, so the team knows what to do.';
        comment.focus();
        return;
      }
      busyButtons(dialog, true);
      try {
        const body = { verdict };
        if (comment.value.trim()) body.comment = comment.value.trim();
        if (reviewerSelect) body.reviewer = reviewerSelect.value;
        const res = await api(`${mapPath}/versions/${v.number}/review/decisions`, { method: 'POST', body });
        dialog.close();
        const state = res?.review?.state;
        toast(state === 'approved' ? `Version ${v.number} is approved.`
          : state === 'changes-requested' ? `Changes requested on version ${v.number}.`
            : `Decision recorded on version ${v.number}.`);
        refresh();
      } catch (err) {
        error.hidden = false;
        error.textContent = explain(err);
        busyButtons(dialog, false);
      }
    }
    approve.addEventListener('click', () => send('approved'));
    changes.addEventListener('click', () => send('changes-requested'));
  }

  // --- comparing -------------------------------------------------------------------------------

  function sideName(which) {
    if (which === 'current') return 'the current map';
    const v = versions.find((x) => String(x.number) === String(which));
    return v ? `v${v.number} “${v.label}”` : `version ${which}`;
  }

  async function compare(from, to) {
    if (!from) return;
    fromSelect.value = from;
    toSelect.value = to;
    result.hidden = false;
    if (from === to) {
      result.replaceChildren(h('p', { class: 'muted', text: 'Choose two different versions to compare.' }));
      return;
    }
    result.setAttribute('aria-busy', 'true');
    result.replaceChildren(h('p', { class: 'muted', text: `Comparing ${sideName(from)} with ${sideName(to)}…` }));
    try {
      const res = await api(`${mapPath}/compare?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      compared = { from, to };
      paintChanges(res.changes, from, to);
    } catch (err) {
      result.replaceChildren(h('p', { class: 'error-text', attrs: { role: 'alert' }, text: `The comparison failed. ${explain(err)}` }));
    } finally {
      result.removeAttribute('aria-busy');
      result.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      result.focus({ preventScroll: true });
    }
  }

  function paintChanges(changes, from, to) {
    const s = changes.summary ?? {};
    const total = (s.added ?? 0) + (s.changed ?? 0) + (s.moved ?? 0) + (s.removed ?? 0);
    const live = to === 'current' && typeof ctx.onSelect === 'function';
    const titleId = `versions-${n}-result-title`;
    result.setAttribute('aria-labelledby', titleId);

    const label = (item, group) => {
      const collection = COLLECTIONS[item.kind];
      const text = item.label || item.id;
      return live && collection && group !== 'removed'
        ? h('button', { type: 'button', class: 'versions-linkish', title: 'Show on the map', onclick: () => ctx.onSelect(collection, item.id) }, text)
        : h('span', { class: 'versions-entity', text });
    };
    const noun = (kind) => h('span', { class: 'versions-kind', text: NOUNS[kind] ?? kind });

    const item = {
      added: (c) => h('li', {}, noun(c.kind), ' ', label(c, 'added'), c.placement ? h('div', { class: 'versions-where', text: place(c.placement) }) : null),
      removed: (c) => h('li', {}, noun(c.kind), ' ', label(c, 'removed'), c.placement ? h('div', { class: 'versions-where', text: place(c.placement) }) : null),
      changed: (c) => h('li', {}, noun(c.kind), ' ', label(c, 'changed'),
        h('ul', { class: 'versions-fields' }, (c.fields ?? []).map((f) => h('li', {},
          h('span', { class: 'versions-field', text: fieldName(f.field) }), ' ',
          value(f.old), h('span', { class: 'versions-arrow', attrs: { 'aria-label': 'changed to' }, text: ' → ' }), value(f.new))))),
      moved: (c) => h('li', {}, noun(c.kind), ' ', label(c, 'moved'),
        h('div', { class: 'versions-where' },
          c.parentChanged
            ? [side(c.from, c.to), h('span', { class: 'versions-arrow', attrs: { 'aria-label': 'moved to' }, text: ' → ' }), side(c.to, c.from)]
            : `reordered${c.from?.position && c.to?.position ? `: position ${c.from.position.index} → ${c.to.position.index} of ${c.to.position.of}` : ''}`)),
    };

    const counts = GROUPS.filter(([k]) => s[k]).map(([k, name]) => pill(`${s[k]} ${name.toLowerCase()}`,
      k === 'added' ? 'ok' : k === 'removed' ? 'danger' : k === 'changed' ? 'warn' : ''));

    const download = h('button', {
      type: 'button', class: 'ghost versions-small', dataset: { testid: 'compare-markdown' },
      onclick: async () => {
        try {
          const blob = await fetchBlob(`${mapPath}/compare?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&format=markdown`);
          saveBlob(blob, `${ctx.mapId}-changes-v${from}-to-${to === 'current' ? 'current' : `v${to}`}.md`);
        } catch (err) {
          toast(`The summary could not be downloaded. ${explain(err)}`, 'error');
        }
      },
    }, 'Download as Markdown');
    const close = h('button', {
      type: 'button', class: 'ghost versions-small', dataset: { testid: 'compare-close' },
      onclick: () => {
        result.hidden = true;
        result.replaceChildren();
        compared = null;
        compareButton.focus();
      },
    }, 'Close');

    result.replaceChildren(
      h('h3', { id: titleId, class: 'versions-result-title' }, `${sideName(from)} → ${sideName(to)}`),
      h('div', { class: 'versions-result-bar' },
        total
          ? h('div', { class: 'versions-counts' }, counts)
          : h('p', { class: 'versions-none', text: 'No differences: the two are the same.' }),
        h('div', { class: 'versions-result-tools' }, total ? download : null, close)),
      ...GROUPS.filter(([k]) => changes[k]?.length).map(([k, name]) => h('section', { class: `versions-group versions-group-${k}` },
        h('h4', {}, name, h('span', { class: 'versions-group-count', text: ` (${changes[k].length})` })),
        h('ul', { class: 'versions-changes' }, changes[k].map(item[k])))));
  }

  // --- loading ---------------------------------------------------------------------------------

  let loading = null;
  async function refresh() {
    if (loading) return loading;
    listHost.setAttribute('aria-busy', 'true');
    refreshButton.setAttribute('aria-busy', 'true');
    loading = (async () => {
      try {
        const data = await api(`${mapPath}/versions`);
        versions = [...(data.versions ?? [])].sort((a, b) => b.number - a.number);
        paintApproval(data);
        paintSelects();
        paintList();
        const now = new Date();
        stamp.textContent = `as of ${now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
        if (compared && !result.hidden) {
          const { from, to } = compared;
          if ([from, to].every((x) => x === 'current' || versions.some((v) => String(v.number) === x))) {
            // A comparison with the live map may have moved on: redo it quietly.
            if (to === 'current') {
              api(`${mapPath}/compare?from=${encodeURIComponent(from)}&to=current`)
                .then((res) => !result.hidden && paintChanges(res.changes, from, to), () => {});
            }
          }
        }
      } catch (err) {
        listHost.replaceChildren(h('div', { attrs: { role: 'alert' } },
          h('p', { class: 'error-text', text: `The versions could not be loaded. ${explain(err)}` })));
      } finally {
        listHost.setAttribute('aria-busy', 'false');
        refreshButton.removeAttribute('aria-busy');
        loading = null;
      }
    })();
    return loading;
  }

  refresh();
  return { refresh };
}
