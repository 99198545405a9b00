// The list of maps at `/`: every map the caller may see, newest first, a form to start a new one
// (blank or from a template) and, for owners, deleting one.
import { api, roleAtLeast, role, explain } from './api.js';
import { h, toast, ago } from './dom.js';

const KINDS = [
  ['journey-map', 'Journey map'],
  ['experience-map', 'Experience map'],
  ['service-blueprint', 'Service blueprint'],
];
const KIND_NAMES = Object.fromEntries(KINDS);

/** Above this many maps a filter box is shown. */
const FILTER_FROM = 6;

/** Errors that mean the caller has no usable token. */
const TOKEN_ERRORS = ['token_missing', 'token_expired', 'token_invalid'];


function kindName(kind) {
  return KIND_NAMES[kind] ?? kind;
}

/** Renders the page into `root`. */
export function renderList(root) {
  document.title = 'Waymark';
  const canCreate = roleAtLeast('editor');
  const canDelete = roleAtLeast('owner');

  const alert = h('div', { class: 'maplist-alert', attrs: { role: 'alert' }, hidden: true });
  const listHost = h('div', { class: 'maplist-listhost', attrs: { 'aria-busy': 'true' } },
    h('p', { class: 'muted maplist-loading', text: 'Loading maps…' }));
  const count = h('span', { class: 'maplist-count muted' });
  const filterInput = h('input', {
    id: 'maplist-filter', type: 'search', autocomplete: 'off', placeholder: 'Title or id',
    oninput: () => paint(),
  });
  const filter = h('div', { class: 'maplist-filter', hidden: true },
    h('label', { for: 'maplist-filter', text: 'Filter maps' }), filterInput);

  let maps = [];

  function showError(err) {
    const access = TOKEN_ERRORS.includes(err?.code);
    alert.hidden = false;
    alert.replaceChildren(h('strong', { text: access ? 'Access needed. ' : 'Something went wrong. ' }), ...explainNode(explain(err)));
    // Without a valid token nothing can be created either.
    if (access && panel) {
      panel.hidden = true;
      panel.parentElement?.classList.add('maplist-body-single');
    }
  }
  function clearError() {
    alert.hidden = true;
    alert.replaceChildren();
  }

  async function load() {
    listHost.setAttribute('aria-busy', 'true');
    try {
      const res = await api('/maps');
      maps = [...(res.maps ?? [])].sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0));
      clearError();
      paint();
    } catch (err) {
      listHost.replaceChildren(h('p', { class: 'muted', text: 'The maps could not be loaded.' }),
        h('button', { type: 'button', onclick: load, text: 'Try again' }));
      showError(err);
    } finally {
      listHost.setAttribute('aria-busy', 'false');
    }
  }

  function paint() {
    filter.hidden = maps.length < FILTER_FROM;
    const q = filter.hidden ? '' : filterInput.value.trim().toLowerCase();
    const shown = q ? maps.filter((m) => `${m.title} ${m.id}`.toLowerCase().includes(q)) : maps;
    count.textContent = maps.length ? `${maps.length} ${maps.length === 1 ? 'map' : 'maps'}` : '';
    if (!maps.length) {
      listHost.replaceChildren(h('div', { class: 'maplist-empty' },
        h('p', { class: 'maplist-empty-title', text: 'No maps yet.' }),
        h('p', { class: 'muted', text: canCreate
          ? 'Start one with the form on this page: a blank map, or one of the templates to see how a finished map looks.'
          : 'There is no map you can open yet, and your role cannot create one.' })));
      return;
    }
    if (!shown.length) {
      listHost.replaceChildren(h('p', { class: 'muted maplist-nomatch', text: `No map matches “${filterInput.value.trim()}”.` }));
      return;
    }
    listHost.replaceChildren(h('ul', { class: 'maplist-list', dataset: { testid: 'map-list' } }, shown.map(row)));
  }

  function row(m) {
    const title = m.title?.trim() || 'Untitled map';
    const when = new Date(m.updatedAt);
    return h('li', { class: 'maplist-row', dataset: { testid: 'map-row', mapId: m.id } },
      h('div', { class: 'maplist-main' },
        h('a', { class: 'maplist-title', href: `/m/${encodeURIComponent(m.id)}`, text: title }),
        h('div', { class: 'maplist-meta' },
          h('span', { class: 'maplist-kind', text: kindName(m.kind) }),
          h('span', { attrs: { 'aria-hidden': 'true' }, text: '·' }),
          h('span', { title: when.toLocaleString() }, `updated ${ago(m.updatedAt)}`),
          h('span', { attrs: { 'aria-hidden': 'true' }, text: '·' }),
          h('code', { class: 'maplist-id', title: 'Map id' }, m.id),
          m.reviewOverdue
            ? h('span', { class: 'pill danger', title: m.reviewDue ? `Review was due on ${m.reviewDue}` : null },
              m.reviewDue ? `Review overdue (due ${m.reviewDue})` : 'Review overdue')
            : m.reviewDue ? h('span', { class: 'pill', text: `Review due ${m.reviewDue}` }) : null)),
      canDelete
        ? h('button', {
          type: 'button', class: 'danger ghost maplist-delete', dataset: { testid: 'delete-map' },
          attrs: { 'aria-label': `Delete map “${title}”` }, onclick: (e) => confirmDelete(m, title, e.currentTarget),
        }, 'Delete')
        : null);
  }

  function confirmDelete(m, title, opener) {
    const error = h('p', { class: 'error-text', attrs: { role: 'alert' }, hidden: true });
    const confirm = h('button', { type: 'button', class: 'danger', dataset: { testid: 'confirm-delete' } }, 'Delete map');
    const cancel = h('button', { type: 'button', text: 'Cancel', onclick: () => dialog.close() });
    const dialog = h('dialog', { class: 'maplist-dialog', attrs: { 'aria-labelledby': 'maplist-delete-title' } },
      h('h2', { id: 'maplist-delete-title' }, `Delete “${title}”?`),
      h('p', {}, 'The map, its versions and its comments are removed for everyone, and anyone editing it is disconnected. This cannot be undone.'),
      error,
      h('div', { class: 'actions' }, cancel, confirm));
    confirm.addEventListener('click', async () => {
      confirm.disabled = cancel.disabled = true;
      confirm.textContent = 'Deleting…';
      try {
        await api(`/maps/${encodeURIComponent(m.id)}`, { method: 'DELETE' });
        maps = maps.filter((x) => x.id !== m.id);
        dialog.close();
        paint();
        toast(`Deleted “${title}”.`);
        listHost.querySelector('a, button')?.focus();
      } catch (err) {
        if (err.code === 'map_not_found') {
          maps = maps.filter((x) => x.id !== m.id);
          dialog.close();
          paint();
          toast(`“${title}” had already been deleted.`);
          return;
        }
        error.hidden = false;
        error.textContent = explain(err);
        confirm.disabled = cancel.disabled = false;
        confirm.textContent = 'Delete map';
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener.isConnected) opener.focus();
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  }

  const panel = canCreate ? createPanel(showError, clearError) : null;
  const page = h('div', { class: 'maplist-page' },
    h('header', { class: 'maplist-header' },
      h('div', { class: 'maplist-brand' },
        h('span', { class: 'maplist-logo', attrs: { 'aria-hidden': 'true' } }),
        h('h1', { text: 'Waymark' })),
      h('p', { class: 'maplist-tagline muted', text: 'Customer journey maps, made together' })),
    h('main', { class: `maplist-body${canCreate ? '' : ' maplist-body-single'}` },
      h('section', { class: 'maplist-maps', attrs: { 'aria-labelledby': 'maplist-maps-title' } },
        h('div', { class: 'maplist-section-head' }, h('h2', { id: 'maplist-maps-title', text: 'Maps' }), count),
        alert, filter, listHost),
      panel));

  root.replaceChildren(page);
  load();
}

/** Replaces `code` spans written with backticks by <code>. */
function explainNode(text) {
  return text.split(/`([^`]+)`/).map((part, i) => (i % 2 ? h('code', {}, part) : part));
}

/** The "New map" panel: a blank map of a kind, or one of the server's templates. */
function createPanel(showError, clearError) {
  const title = h('input', { id: 'maplist-new-title', name: 'title', autocomplete: 'off', maxLength: 200,
    placeholder: 'e.g. Checkout on mobile', dataset: { testid: 'new-map-title' } });
  const kind = h('select', { id: 'maplist-new-kind', name: 'kind', dataset: { testid: 'new-map-kind' } },
    KINDS.map(([value, name]) => h('option', { value, text: name })));
  const id = h('input', { id: 'maplist-new-id', name: 'id', autocomplete: 'off', spellcheck: false, maxLength: 128,
    pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]*', placeholder: 'generated if empty',
    attrs: { 'aria-describedby': 'maplist-new-id-hint' }, dataset: { testid: 'new-map-id' } });
  const status = h('p', { class: 'maplist-form-error error-text', attrs: { role: 'alert' }, hidden: true });
  const create = h('button', { type: 'submit', class: 'primary', dataset: { testid: 'create-map' } }, 'Create map');
  const templates = h('div', { class: 'maplist-templates', attrs: { 'aria-busy': 'true' } },
    h('p', { class: 'muted', text: 'Loading templates…' }));
  let busy = false;

  function fail(err) {
    status.hidden = false;
    status.replaceChildren(...explainNode(explain(err)));
    if ([...TOKEN_ERRORS, 'network'].includes(err.code)) showError(err);
    if (err.code === 'map_exists' || err.code === 'invalid_map_id') {
      details.open = true;
      id.focus();
      id.select();
    }
  }

  async function submit(body, button) {
    if (busy) return;
    const idValue = id.value.trim();
    if (idValue) {
      if (!id.checkValidity()) {
        fail({ code: 'invalid_map_id' });
        return;
      }
      body.id = idValue;
    }
    const t = title.value.trim();
    if (t) body.title = t;
    busy = true;
    status.hidden = true;
    clearError();
    const label = [...button.childNodes];
    button.setAttribute('aria-busy', 'true');
    if (button === create) button.textContent = 'Creating…';
    else button.append(h('span', { class: 'maplist-template-busy', text: 'Creating…' }));
    for (const b of form.querySelectorAll('button')) b.disabled = true;
    try {
      const created = await api('/maps', { method: 'POST', body });
      location.assign(`/m/${encodeURIComponent(created.id)}`);
    } catch (err) {
      fail(err);
      busy = false;
      button.removeAttribute('aria-busy');
      button.replaceChildren(...label);
      for (const b of form.querySelectorAll('button')) b.disabled = false;
    }
  }

  const details = h('details', { class: 'maplist-more' },
    h('summary', { text: 'Choose the map’s id' }),
    h('label', { for: 'maplist-new-id', text: 'Map id (optional)' }),
    id,
    h('p', { id: 'maplist-new-id-hint', class: 'maplist-hint muted' },
      'Part of the map’s address: ', h('code', {}, '/m/your-id'), '. Letters, digits, “.”, “_” and “-”.'));

  const form = h('form', {
    class: 'maplist-form', noValidate: true, attrs: { 'aria-labelledby': 'maplist-new-heading' },
    onsubmit: (e) => {
      e.preventDefault();
      submit({ kind: kind.value }, create);
    },
  },
    h('label', { for: 'maplist-new-title', text: 'Title' }), title,
    h('label', { for: 'maplist-new-kind', text: 'Kind' }), kind,
    details,
    h('div', { class: 'maplist-form-actions' }, create),
    status,
    h('h3', { class: 'maplist-templates-title', id: 'maplist-templates-title', text: 'Or start from a template' }),
    h('p', { class: 'maplist-hint muted', text: 'A filled-in example to adapt. The title and id above are used if you gave them.' }),
    templates);

  api('/templates').then(
    (res) => {
      const list = res.templates ?? [];
      templates.replaceChildren(list.length
        ? h('ul', { class: 'maplist-template-list', attrs: { 'aria-labelledby': 'maplist-templates-title' } },
          list.map((t) => h('li', {},
            h('button', {
              type: 'button', class: 'maplist-template', dataset: { testid: `template-${t.name}` },
              attrs: { 'aria-describedby': `maplist-template-${t.name}-desc` },
              onclick: (e) => submit({ template: t.name }, e.currentTarget),
            },
              h('span', { class: 'maplist-template-title', text: t.title }),
              h('span', { class: 'maplist-template-desc', id: `maplist-template-${t.name}-desc`, text: t.description })))))
        : h('p', { class: 'muted', text: 'This server offers no templates.' }));
    },
    (err) => templates.replaceChildren(h('p', { class: 'error-text', text: `Templates could not be loaded: ${explain(err)}` })),
  ).finally(() => templates.setAttribute('aria-busy', 'false'));

  return h('section', { class: 'maplist-new', attrs: { 'aria-labelledby': 'maplist-new-heading' } },
    h('h2', { id: 'maplist-new-heading', text: 'New map' }), form);
}
