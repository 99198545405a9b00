// The comments panel: notes on the map or one of its entities (SCHEMA.md §5.13), read live from the
// document's `comments` root. Writing goes through the REST API, so commenters (who may not edit the
// document) can comment too; the server writes the comment into the document and it arrives here
// like any other change. Editors and above resolve and reopen comments directly in the document.
import * as Y from 'yjs';
import { api, claims, explain, role, roleAtLeast } from './api.js';
import { h, ago } from './dom.js';
import { edit } from './model.js';
import { myName } from './session.js';

let instances = 0;

/** Longest comment text, in bytes (SCHEMA.md §5.13). */
const MAX_BYTES = 10_000;

/** A collection's entity as a noun: `cards` → "card". */
const NOUNS = {
  meta: 'map details', personas: 'persona', stages: 'stage', steps: 'step', lanes: 'lane', cards: 'card',
  links: 'link', emotions: 'emotion score', channels: 'channel', touchpoints: 'touchpoint', metrics: 'metric',
  measurements: 'measurement', comments: 'comment',
};
const noun = (collection) => NOUNS[collection] ?? collection.replace(/s$/, '');
const article = (word) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

const str = (v) => (typeof v === 'string' ? v : v instanceof Y.Text ? v.toString() : '');
const bytes = (s) => new TextEncoder().encode(s).length;

/** `cards/abc` → { collection: 'cards', id: 'abc' }; anything else reads as no target (the map). */
function parseTarget(v) {
  const s = str(v);
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1) return null;
  return { collection: s.slice(0, slash), id: s.slice(slash + 1) };
}

/** The comments in the document, oldest first, read tolerantly (SCHEMA.md §7). */
function readComments(doc) {
  const out = [];
  doc.getMap('comments').forEach((entry, id) => {
    if (!(entry instanceof Y.Map)) return;
    const createdAt = entry.get('createdAt');
    out.push({
      id,
      text: str(entry.get('text')),
      author: str(entry.get('author')),
      createdAt: typeof createdAt === 'number' && Number.isFinite(createdAt) ? createdAt : null,
      resolved: entry.get('resolved') === true,
      target: parseTarget(entry.get('target')),
    });
  });
  return out.sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function sameTarget(t, sel) {
  return !!t && !!sel && t.collection === sel.collection && t.id === sel.id;
}

function shorten(s, max = 80) {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Renders the comments of `ctx.doc` into `el` (an empty container in the side panel).
 * ctx: `{ mapId, doc, selection() → {collection, id} | null, label(collection, id) → string | null,
 * onSelect(collection, id) }`. The list follows the document by itself; call `refresh()` when the
 * selection changes or entities are renamed (it repaints only what changed). Returns
 * `{ refresh, destroy }`.
 */
export function renderComments(el, ctx) {
  const n = ++instances;
  const mapPath = `/maps/${encodeURIComponent(ctx.mapId)}`;
  const canWrite = roleAtLeast('commenter');
  const canResolve = roleAtLeast('editor');
  const root = ctx.doc.getMap('comments');

  let scope = 'selection'; // 'selection' | 'all'; 'selection' applies only while something is selected
  let showResolved = false;
  let writeOnMap = false; // the writer chose "the whole map" although something is selected
  let painted = null; // what is on screen, to skip repaints that would change nothing
  let fresh = null; // id of a comment this page just posted: marked when it arrives
  let destroyed = false;

  const selection = () => {
    const s = ctx.selection?.() ?? null;
    return s && s.collection && s.id ? s : null;
  };

  /** How a target reads: the entity's label, or that it is gone. */
  function targetName(t) {
    const name = ctx.label?.(t.collection, t.id);
    if (name === null || name === undefined) return { text: `${article(noun(t.collection))} removed ${noun(t.collection)}`, gone: true };
    const short = shorten(String(name));
    return { text: short || `${article(noun(t.collection))} ${noun(t.collection)} without text`, gone: false, full: String(name) };
  }

  // ---- head and filters ----------------------------------------------------------------------
  const status = h('p', { class: 'visually-hidden', attrs: { role: 'status', 'aria-live': 'polite' } });

  const scopeSelection = h('input', { type: 'radio', name: `comments-${n}-scope`, value: 'selection', id: `comments-${n}-scope-selection`,
    onchange: () => { scope = 'selection'; paint(); } });
  const scopeAll = h('input', { type: 'radio', name: `comments-${n}-scope`, value: 'all', id: `comments-${n}-scope-all`,
    onchange: () => { scope = 'all'; paint(); } });
  const scopeSelectionText = h('span', {});
  const scopeAllText = h('span', {});
  const scopeField = h('fieldset', { class: 'comments-scope', dataset: { testid: 'comments-scope' } },
    h('legend', { class: 'visually-hidden', text: 'Show comments on' }),
    h('label', { for: scopeSelection.id, class: 'comments-seg' }, scopeSelection, scopeSelectionText),
    h('label', { for: scopeAll.id, class: 'comments-seg' }, scopeAll, scopeAllText));

  const resolvedBox = h('input', { type: 'checkbox', id: `comments-${n}-resolved`, dataset: { testid: 'comments-show-resolved' },
    onchange: () => { showResolved = resolvedBox.checked; paint(); } });
  const resolvedText = h('span', {});
  const resolvedToggle = h('label', { class: 'comments-resolved-toggle', for: resolvedBox.id }, resolvedBox, resolvedText);

  const list = h('ol', { class: 'comments-list', attrs: { 'aria-labelledby': `comments-${n}-title` } });
  const empty = h('p', { class: 'comments-empty muted' });

  // ---- writing -------------------------------------------------------------------------------
  const form = canWrite ? writeForm() : null;

  const rootEl = h('section', { class: 'comments', dataset: { testid: 'comments' }, attrs: { 'aria-labelledby': `comments-${n}-title` } },
    h('div', { class: 'comments-head' }, h('h2', { id: `comments-${n}-title`, text: 'Comments' })),
    h('div', { class: 'comments-filters' }, scopeField, resolvedToggle),
    status,
    list,
    empty,
    form?.el ?? h('p', { class: 'comments-readonly muted', text: `Your role (${role}) lets you read comments but not write them.` }));
  el.replaceChildren(rootEl);

  function writeForm() {
    const textarea = h('textarea', {
      id: `comments-${n}-text`, rows: 3, placeholder: 'Write a comment…',
      dataset: { testid: 'comment-text' }, attrs: { 'aria-describedby': `comments-${n}-hint` },
      onkeydown: (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          formEl.requestSubmit();
        }
      },
      oninput: () => { error.hidden = true; },
    });
    const onSelection = h('input', { type: 'radio', name: `comments-${n}-about`, value: 'selection', id: `comments-${n}-about-selection`,
      onchange: () => { writeOnMap = false; } });
    const onMap = h('input', { type: 'radio', name: `comments-${n}-about`, value: 'map', id: `comments-${n}-about-map`,
      onchange: () => { writeOnMap = true; } });
    const onSelectionText = h('span', { class: 'comments-about-name' });
    const about = h('fieldset', { class: 'comments-about', dataset: { testid: 'comment-about' } },
      h('legend', { text: 'About' }),
      h('label', { for: onSelection.id, class: 'comments-about-option' }, onSelection, onSelectionText),
      h('label', { for: onMap.id, class: 'comments-about-option' }, onMap, h('span', { text: 'The whole map' })));
    const aboutMap = h('p', { class: 'comments-about-map muted', text: 'About the whole map. Select a card to comment on it.' });
    const error = h('p', { class: 'error-text comments-error', attrs: { role: 'alert' }, hidden: true });
    const button = h('button', { type: 'submit', class: 'primary', dataset: { testid: 'comment-submit' } }, 'Comment');
    let busy = false;

    const formEl = h('form', {
      class: 'comments-write', noValidate: true, attrs: { 'aria-labelledby': `comments-${n}-write-title` },
      onsubmit: async (e) => {
        e.preventDefault();
        if (busy) return;
        const text = textarea.value.trim();
        const fail = (message) => {
          error.textContent = message;
          error.hidden = false;
          textarea.focus();
        };
        if (!text) return fail('Write something first.');
        if (bytes(text) > MAX_BYTES) return fail(`A comment can be at most ${MAX_BYTES.toLocaleString()} bytes; this one has ${bytes(text).toLocaleString()}.`);
        const sel = selection();
        const target = sel && !writeOnMap ? `${sel.collection}/${sel.id}` : undefined;
        const body = { text };
        if (target) body.target = target;
        if (!claims) body.author = myName(); // with a token the server takes the author from it
        busy = true;
        error.hidden = true;
        button.disabled = true;
        button.setAttribute('aria-busy', 'true');
        button.textContent = 'Posting…';
        try {
          const posted = await api(`${mapPath}/comments`, { method: 'POST', body });
          if (destroyed) return;
          textarea.value = '';
          fresh = posted?.id ?? null;
          // Make sure the new comment is in view: it may be on the map while the list shows a card.
          if (scope === 'selection' && selection() && !target) {
            scope = 'all';
          }
          status.textContent = 'Comment posted.';
          paint(true);
        } catch (err) {
          if (!destroyed) fail(`The comment was not posted. ${explain(err)}`);
        } finally {
          busy = false;
          button.disabled = false;
          button.removeAttribute('aria-busy');
          button.textContent = 'Comment';
        }
      },
    },
      h('h3', { id: `comments-${n}-write-title`, class: 'visually-hidden', text: 'Write a comment' }),
      h('label', { for: textarea.id, class: 'visually-hidden', text: 'Comment' }),
      about, aboutMap,
      textarea,
      error,
      h('div', { class: 'comments-write-actions' },
        h('span', { id: `comments-${n}-hint`, class: 'comments-hint muted', text: 'Ctrl+Enter to post' }),
        button));

    /** Brings the "About" choice up to date with the selection. */
    function update(sel) {
      about.hidden = !sel;
      aboutMap.hidden = !!sel;
      if (sel) {
        const t = targetName(sel);
        onSelectionText.textContent = `This ${noun(sel.collection)}: `;
        onSelectionText.append(h('span', { class: 'comments-about-label', text: t.text, title: t.full }));
        onSelection.checked = !writeOnMap;
        onMap.checked = writeOnMap;
      }
    }
    return { el: formEl, update };
  }

  // ---- the list ------------------------------------------------------------------------------

  function when(millis) {
    if (millis === null) return null;
    const d = new Date(millis);
    return h('time', { dateTime: d.toISOString(), title: d.toLocaleString(), text: ago(millis) });
  }

  function item(c, inScope) {
    const who = c.author || 'Someone';
    let where = null;
    if (!inScope) {
      if (!c.target) where = h('span', { class: 'comments-target muted', text: 'on the whole map' });
      else {
        const t = targetName(c.target);
        where = t.gone
          ? h('span', { class: 'comments-target comments-target-gone', text: `on ${t.text}` })
          : h('span', { class: 'comments-target' }, 'on ',
            h('button', {
              type: 'button', class: 'comments-link', title: t.full === t.text ? `Show this ${noun(c.target.collection)} on the map` : t.full,
              attrs: { 'aria-label': `Show ${noun(c.target.collection)} “${t.text}” on the map` },
              onclick: () => ctx.onSelect?.(c.target.collection, c.target.id),
            }, t.text));
      }
    }
    const resolve = canResolve ? h('button', {
      type: 'button', class: 'comments-resolve', dataset: { testid: 'comment-resolve' },
      attrs: { 'aria-label': `${c.resolved ? 'Reopen' : 'Resolve'} the comment by ${who}` },
      onclick: () => toggleResolved(c.id),
    }, c.resolved ? 'Reopen' : 'Resolve') : null;
    return h('li', {
      class: `comments-item${c.resolved ? ' comments-item-resolved' : ''}${c.id === fresh ? ' comments-item-new' : ''}`,
      dataset: { testid: 'comment', id: c.id, resolved: String(c.resolved) },
    },
      h('div', { class: 'comments-byline' },
        h('div', { class: 'comments-who' },
          h('span', { class: 'comments-author', text: who }),
          when(c.createdAt),
          c.resolved ? h('span', { class: 'pill ok comments-resolved-pill', text: 'Resolved' }) : null),
        resolve),
      where,
      c.text.trim()
        ? h('p', { class: 'comments-text', text: c.text })
        : h('p', { class: 'comments-text comments-text-empty', text: '(no text)' }));
  }

  function toggleResolved(id) {
    const entry = root.get(id);
    if (!(entry instanceof Y.Map)) return;
    const now = entry.get('resolved') !== true;
    edit(ctx.doc, () => entry.set('resolved', now));
    status.textContent = now
      ? (showResolved ? 'Comment resolved.' : 'Comment resolved and hidden; show resolved comments to see it again.')
      : 'Comment reopened.';
  }

  function badge(k) {
    return h('span', { class: 'comments-seg-count' }, String(k), h('span', { class: 'visually-hidden', text: ' open' }));
  }

  /** A fingerprint of what the list would show, to leave the DOM alone when nothing changed. */
  function fingerprint(parts) {
    return JSON.stringify(parts);
  }

  function paint(force = false) {
    if (destroyed) return;
    const sel = selection();
    const all = readComments(ctx.doc);
    const onSel = sel ? all.filter((c) => sameTarget(c.target, sel)) : [];
    const inScope = !!sel && scope === 'selection';
    const scoped = inScope ? onSel : all;
    const resolvedCount = scoped.filter((c) => c.resolved).length;
    const shown = showResolved ? scoped : scoped.filter((c) => !c.resolved);
    const open = (cs) => cs.filter((c) => !c.resolved).length;
    const selName = sel ? targetName(sel) : null;

    const view = shown.map((c) => [c.id, c.text, c.author, c.createdAt === null ? '' : ago(c.createdAt), c.resolved,
      inScope ? '' : c.target ? `${c.target.collection}/${c.target.id}:${targetName(c.target).text}` : '']);
    const key = fingerprint([sel?.collection, sel?.id, selName?.text, scope, showResolved, open(all), open(onSel), resolvedCount, writeOnMap, view]);
    if (!force && key === painted) return;
    painted = key;

    // Filters.
    scopeSelection.disabled = !sel;
    scopeSelection.checked = inScope;
    scopeAll.checked = !inScope;
    scopeSelectionText.textContent = sel ? `This ${noun(sel.collection)}` : 'This selection';
    if (sel) scopeSelectionText.append(' ', badge(open(onSel)));
    scopeAllText.textContent = 'All ';
    scopeAllText.append(badge(open(all)));
    scopeField.title = sel ? '' : 'Select a card to see the comments on it';
    resolvedText.textContent = `Show resolved (${resolvedCount})`;

    // Keep the keyboard focus on the same control of the same comment across the repaint.
    const active = document.activeElement;
    const row = list.contains(active) ? active.closest('[data-id]') : null;
    const focusKey = row ? { id: row.dataset.id, index: [...list.querySelectorAll('[data-id]')].indexOf(row), cls: active.className } : null;

    list.replaceChildren(...shown.map((c) => item(c, inScope)));
    list.hidden = !shown.length;

    if (focusKey) {
      // The same comment; else (it was resolved and hidden) the one now in its place.
      const rows = [...list.querySelectorAll('[data-id]')];
      const again = rows.find((r) => r.dataset.id === focusKey.id) ?? rows[Math.min(focusKey.index, rows.length - 1)];
      const cls = focusKey.cls.split(' ')[0];
      const target = (cls && again?.querySelector(`button.${CSS.escape(cls)}`)) || again?.querySelector('button') || resolvedBox;
      target.focus();
    }

    // Empty states.
    let emptyText = '';
    if (!shown.length) {
      const where = inScope ? `on this ${noun(sel.collection)}` : 'on this map';
      if (resolvedCount) emptyText = `No open comments ${where}; ${resolvedCount} resolved ${resolvedCount === 1 ? 'is' : 'are'} hidden.`;
      else emptyText = `No comments ${where} yet.${canWrite ? ' Write the first one below.' : ''}`;
    }
    empty.textContent = emptyText;
    empty.hidden = !emptyText;

    form?.update(sel);

    if (fresh) {
      const added = list.querySelector(`[data-id="${CSS.escape(fresh)}"]`);
      if (added) {
        fresh = null;
        added.scrollIntoView({ block: 'nearest' });
      }
    }
  }

  // Live: any change to the comments (added, resolved, edited) repaints; so does a new minute.
  let scheduled = false;
  const onChange = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      paint();
    });
  };
  root.observeDeep(onChange);
  const clock = setInterval(() => paint(), 30_000);

  paint(true);

  return {
    /** Repaints after the selection changed or entities were renamed; cheap when nothing changed. */
    refresh: () => paint(),
    destroy() {
      destroyed = true;
      root.unobserveDeep(onChange);
      clearInterval(clock);
    },
  };
}
