// The "Export" menu: the map in each export format the server offers, downloaded under the map's
// title, and a preview of the poster. A menu button (WAI-ARIA APG): arrow keys, Home/End and first
// letters move, Enter/Space choose, Escape closes and focus goes back to the button.
import { fetchBlob, saveBlob, explain } from './api.js';
import { h, toast } from './dom.js';

let instances = 0;

/** [format, human name, file extension, hint]. */
const FORMATS = [
  ['json', 'JSON', 'json', 'The whole map, to import elsewhere'],
  ['csv', 'CSV spreadsheet', 'csv', 'One row per card'],
  ['markdown', 'Markdown', 'md', 'A readable document'],
  ['mermaid', 'Mermaid diagram', 'mmd', 'A journey diagram as text'],
  ['svg', 'SVG poster', 'svg', 'The map as a scalable picture'],
  ['png', 'PNG poster', 'png', 'The map as an image'],
  ['pdf', 'PDF poster', 'pdf', 'The map to print'],
];

/**
 * Sheets for a printed poster, landscape: the server keeps its text at 8 pt or more, wrapping a long
 * journey into bands or tiling it over several pages.
 */
const PAPERS = [
  ['a3', 'A3', 'Over several sheets if the map needs it'],
  ['a1', 'A1', 'A wall poster'],
  ['a0', 'A0', 'The largest sheet'],
];

/** A file name made from a title: "Checkout — mobile!" → "checkout-mobile". */
export function slug(title, fallback = 'map') {
  const s = String(title ?? '')
    .normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')
    .slice(0, 80).replace(/-+$/, '');
  return s || fallback;
}


/**
 * The export button and its menu, as one element to place in a toolbar. `ctx.title` (a string, or
 * a function returning the current title) names the downloaded files; it is read at each download.
 */
export function exportMenu(ctx) {
  const n = ++instances;
  const currentTitle = () => (typeof ctx.title === 'function' ? ctx.title() : ctx.title);
  const path = (format, paper) => `/maps/${encodeURIComponent(ctx.mapId)}/export/${format}${paper ? `?paper=${paper}` : ''}`;
  const menuId = `export-menu-${n}`;
  const buttonId = `export-button-${n}`;

  const button = h('button', {
    type: 'button', id: buttonId, class: 'export-button', dataset: { testid: 'export-button' },
    attrs: { 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId },
  }, 'Export', h('span', { class: 'export-caret', attrs: { 'aria-hidden': 'true' } }));

  const item = (testid, name, hint, action) => h('li', { attrs: { role: 'none' } },
    h('button', {
      type: 'button', class: 'export-item', tabIndex: -1, dataset: { testid },
      attrs: { role: 'menuitem' }, onclick: () => {
        close();
        action();
      },
    }, h('span', { class: 'export-item-name', text: name }), hint ? h('span', { class: 'export-item-hint', text: hint }) : null));

  const menu = h('ul', { id: menuId, class: 'export-menu', hidden: true, attrs: { role: 'menu', 'aria-labelledby': buttonId } },
    FORMATS.map(([format, name, ext, hint]) => item(`export-${format}`, name, hint, () => download(format, name, ext))),
    h('li', { attrs: { role: 'separator' }, class: 'export-separator' }),
    PAPERS.map(([paper, sheet, hint]) => item(`export-pdf-${paper}`, `PDF poster on ${sheet}`, hint, () => download('pdf', `PDF poster on ${sheet}`, 'pdf', paper))),
    h('li', { attrs: { role: 'separator' }, class: 'export-separator' }),
    item('export-preview', 'Preview poster', 'See the poster before downloading it', () => preview()));

  const wrap = h('div', { class: 'export' }, button, menu);
  const items = () => [...menu.querySelectorAll('[role=menuitem]')];

  function open(focus = 'first') {
    if (!menu.hidden) return;
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    // Keep the menu inside the window: open leftwards when there is no room on the right.
    wrap.classList.remove('export-align-end');
    const r = menu.getBoundingClientRect();
    if (r.right > document.documentElement.clientWidth - 8) wrap.classList.add('export-align-end');
    const list = items();
    (focus === 'last' ? list[list.length - 1] : list[0])?.focus();
    document.addEventListener('pointerdown', outside, true);
  }

  function close(returnFocus = true) {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (returnFocus) button.focus();
  }

  function outside(e) {
    if (!wrap.contains(e.target)) close(false);
  }

  button.addEventListener('click', () => (menu.hidden ? open() : close()));
  button.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      open('first');
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      open('last');
    }
  });

  menu.addEventListener('keydown', (e) => {
    const list = items();
    const i = list.indexOf(document.activeElement);
    const go = (j) => {
      e.preventDefault();
      list[(j + list.length) % list.length].focus();
    };
    switch (e.key) {
      case 'ArrowDown': go(i + 1); break;
      case 'ArrowUp': go(i - 1); break;
      case 'Home': go(0); break;
      case 'End': go(list.length - 1); break;
      case 'Escape':
        e.preventDefault();
        e.stopPropagation();
        close();
        break;
      case 'Tab':
        close(false);
        break;
      default:
        if (e.key.length === 1 && /\S/.test(e.key)) {
          // Type-ahead: the next item starting with that letter.
          const k = e.key.toLowerCase();
          const order = [...list.slice(i + 1), ...list.slice(0, i + 1)];
          const hit = order.find((el) => el.textContent.trim().toLowerCase().startsWith(k));
          if (hit) {
            e.preventDefault();
            hit.focus();
          }
        }
    }
  });
  menu.addEventListener('focusout', (e) => {
    if (!menu.hidden && e.relatedTarget && !wrap.contains(e.relatedTarget)) close(false);
  });

  let busy = 0;
  function setBusy(delta) {
    busy += delta;
    if (busy > 0) button.setAttribute('aria-busy', 'true');
    else button.removeAttribute('aria-busy');
    wrap.classList.toggle('export-busy', busy > 0);
  }

  async function download(format, name, ext, paper = null) {
    const slow = ['png', 'pdf'].includes(format);
    if (slow) toast(`Preparing the ${name}…`);
    setBusy(1);
    try {
      const blob = await fetchBlob(path(format, paper));
      saveBlob(blob, `${slug(currentTitle(), slug(ctx.mapId))}${paper ? `-${paper}` : ''}.${ext}`);
    } catch (err) {
      toast(`The ${name} could not be exported. ${explain(err)}`, 'error');
    } finally {
      setBusy(-1);
    }
  }

  function preview() {
    const titleId = `export-preview-title-${n}`;
    const stage = h('div', { class: 'export-preview-stage', attrs: { 'aria-busy': 'true' } },
      h('p', { class: 'muted export-preview-note', text: 'Drawing the poster…' }));
    const closeButton = h('button', { type: 'button', class: 'export-preview-close', dataset: { testid: 'export-preview-close' }, onclick: () => dialog.close() }, 'Close');
    const svgButton = h('button', {
      type: 'button', class: 'ghost', disabled: true, dataset: { testid: 'export-preview-download' },
      onclick: () => {
        if (blob) saveBlob(blob, `${slug(currentTitle(), slug(ctx.mapId))}.svg`);
      },
    }, 'Download SVG');
    const dialog = h('dialog', { class: 'export-preview', attrs: { 'aria-labelledby': titleId } },
      h('div', { class: 'export-preview-head' },
        h('h2', { id: titleId }, 'Poster preview', currentTitle() ? h('span', { class: 'muted export-preview-sub', text: ` · ${currentTitle()}` }) : null),
        h('div', { class: 'export-preview-tools' }, svgButton, closeButton)),
      stage);
    let url = null;
    let blob = null;
    dialog.addEventListener('close', () => {
      if (url) URL.revokeObjectURL(url);
      dialog.remove();
      button.focus();
    });
    // A click on the backdrop (outside the dialog's box) closes it too.
    dialog.addEventListener('click', (e) => {
      if (e.target !== dialog) return;
      const r = dialog.getBoundingClientRect();
      if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) dialog.close();
    });
    document.body.append(dialog);
    dialog.showModal();
    closeButton.focus();

    fetchBlob(path('svg')).then((b) => {
      if (!dialog.isConnected) return;
      blob = b;
      url = URL.createObjectURL(b);
      const img = h('img', { class: 'export-preview-img', src: url, alt: `Poster of the map${currentTitle() ? ` “${currentTitle()}”` : ''}` });
      img.addEventListener('error', () => stage.replaceChildren(h('p', { class: 'error-text', text: 'The poster could not be shown.' })));
      stage.replaceChildren(img);
      svgButton.disabled = false;
    }, (err) => {
      if (!dialog.isConnected) return;
      stage.replaceChildren(h('p', { class: 'error-text', attrs: { role: 'alert' }, text: `The poster could not be drawn. ${explain(err)}` }));
    }).finally(() => stage.setAttribute('aria-busy', 'false'));
  }

  return wrap;
}
