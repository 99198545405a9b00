// Cards spanning several steps (SCHEMA.md §5.6 `endStepId`): which cards span which columns, the
// band above a lane's cells where spanning cards are drawn across their columns, the resize handle
// on a card's right edge, Shift+Alt+arrow keys, the "Ends at step" field, and a span's length kept
// when its card moves.
import { h } from './dom.js';
import * as M from './model.js';

let uid = 0;

/**
 * The span of `card` as indexes into `map.steps` (which is column order), or null when it does not
 * span: no `endStepId`, an end step that is gone, or one at or before its first step (SCHEMA.md §7:
 * read as no span, never an error).
 */
export function stepSpan(map, card) {
  if (!card?.endStepId || card.endStepId === card.stepId) return null;
  const start = map.steps.findIndex((s) => s.id === card.stepId);
  const end = map.steps.findIndex((s) => s.id === card.endStepId);
  if (start < 0 || end <= start) return null;
  return { start, end, length: end - start + 1 };
}

/**
 * The spanning cards of the board's lanes: card id → { lane, from, to } as indexes of the board's
 * columns (which also hold a stage without steps), and per lane the cards in tracks that never
 * overlap, so that a span is never drawn over another.
 */
export function layoutSpans(map, columns) {
  const colOf = new Map();
  columns.forEach((c, i) => c.step && colOf.set(c.step.id, i));
  const byLane = new Map();
  const cards = new Map();
  for (const card of map.cards.values()) {
    if (!stepSpan(map, card)) continue;
    const from = colOf.get(card.stepId);
    const to = colOf.get(card.endStepId);
    if (from === undefined || to === undefined || to <= from) continue;
    const span = { card, lane: card.laneId, from, to, track: 0 };
    cards.set(card.id, span);
    if (!byLane.has(card.laneId)) byLane.set(card.laneId, []);
    byLane.get(card.laneId).push(span);
  }
  for (const list of byLane.values()) {
    // Left to right, then in the order of the cells' cards; each in the first track it fits in.
    list.sort((a, b) => a.from - b.from || cmpRank(a.card, b.card));
    const ends = [];
    for (const s of list) {
      let t = ends.findIndex((end) => end < s.from);
      if (t < 0) t = ends.length;
      ends[t] = s.to;
      s.track = t;
    }
  }
  return { cards, byLane };
}

function cmpRank(a, b) {
  const ra = String(a.rank ?? '\uffff');
  const rb = String(b.rank ?? '\uffff');
  return ra < rb ? -1 : ra > rb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Draws the band of lane `lane` at grid row `row` when some of its cards span; returns whether it
 * did (the lane's cells then go one row lower). Called by the board for each lane.
 */
export function renderSpanBand(board, lane, row, columns) {
  const spans = board.spans?.byLane.get(lane.id);
  if (!spans?.length) return false;
  const band = board.keyed(`band:${lane.id}`, () => h('div', { class: `span-band k-${lane.kind}`, attrs: { role: 'group' }, dataset: { testid: 'span-band', lane: lane.id } }));
  band.setAttribute('aria-label', `${lane.name}: cards spanning several steps`);
  band.style.gridRow = String(row);
  band.style.gridColumn = `2 / span ${Math.max(1, columns.length)}`;
  band.style.gridTemplateColumns = `repeat(${Math.max(1, columns.length)}, var(--col))`;
  const children = spans.map((s) => {
    const el = board.renderCard(s.card, lane);
    el.style.gridColumn = `${s.from + 1} / span ${s.to - s.from + 1}`;
    el.style.gridRow = String(s.track + 1);
    el.classList.add('spanning');
    return el;
  });
  reorderChildren(band, children);
  return true;
}

/** The grid's row sizes when some lanes have a band: bands as tall as their cards, lanes as usual. */
export function rowTemplate(bandRows, lastRow) {
  if (!bandRows.size) return '';
  const rows = ['3rem', '3.4rem'];
  for (let r = 3; r <= lastRow; r++) rows.push(bandRows.has(r) ? 'auto' : 'minmax(6.5rem, auto)');
  return rows.join(' ');
}

function reorderChildren(parent, children) {
  children.forEach((child, i) => {
    if (parent.children[i] !== child) parent.insertBefore(child, parent.children[i] ?? null);
  });
  while (parent.children.length > children.length) parent.lastElementChild.remove();
}

/** Sets where a card ends; its own first step (or null) clears the span. */
export function setEnd(ed, id, endStepId) {
  const card = ed.map.cards.get(id);
  if (!card || ed.readOnly || ed.blocked('cards', id, true)) return;
  const end = endStepId && endStepId !== card.stepId ? endStepId : null;
  if ((card.endStepId ?? null) === end) return;
  M.update(ed.doc, 'cards', id, { endStepId: end });
}

/**
 * The `endStepId` a card moved to `stepId` keeps: as many steps as it spans now, fewer where the
 * columns run out. Undefined when the card does not span (its field is then left alone).
 */
export function movedEnd(map, card, stepId) {
  const span = stepSpan(map, card);
  if (!span) return undefined;
  const start = map.steps.findIndex((s) => s.id === stepId);
  if (start < 0) return undefined;
  const end = Math.min(map.steps.length - 1, start + span.length - 1);
  return end > start ? map.steps[end].id : null;
}

/** The "Ends at step" field of a card's details: its own first step, or any step after it. */
export function endStepField(ed, card) {
  const id = `span-end-${++uid}`;
  const start = ed.map.steps.findIndex((s) => s.id === card.stepId);
  const span = stepSpan(ed.map, card);
  const later = start < 0 ? [] : ed.map.steps.slice(start + 1);
  const control = h('select', { id, dataset: { testid: 'field-endStepId' }, attrs: { 'aria-describedby': `${id}-hint` } },
    h('option', { value: '', text: start < 0 ? 'Place the card first' : `Only this step (${ed.map.steps[start].name || 'Untitled step'})` }),
    ...later.map((s) => h('option', { value: s.id, text: s.name || 'Untitled step', selected: span && s.id === card.endStepId })));
  control.disabled = ed.readOnly || start < 0;
  control.addEventListener('change', () => setEnd(ed, card.id, control.value || null));
  return h('div', { class: 'field' },
    h('label', { for: id, text: 'Ends at step' }),
    control,
    ed.readOnly ? null : h('p', { id: `${id}-hint`, class: 'field-hint muted', text: 'Or drag the card’s right edge; Shift+Alt+→ and ← on the card.' }));
}

/**
 * Pointer and key gestures for spans on `ed`'s board: the handle on the right edge of the card
 * under the pointer (see `shareHandle`) and Shift+Alt+arrows on a focused card.
 */
export function installSpans(ed) {
  const board = ed.board;
  let resizing = null;
  // The handle sits inside a draggable card: no native drag may start from it.
  board.grid.addEventListener('dragstart', (e) => {
    if (resizing || e.target.closest?.('.span-handle')) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  board.grid.addEventListener('pointerdown', (e) => {
    const handle = e.target.closest?.('.span-handle');
    if (!handle || e.button !== 0) return;
    const cardEl = handle.closest('.card');
    const card = ed.map.cards.get(cardEl?.dataset.id);
    if (!card || ed.readOnly || ed.blocked('cards', card.id, true)) return;
    const from = board.columns.findIndex((c) => c.step?.id === card.stepId);
    if (from < 0) return;
    e.preventDefault();
    e.stopPropagation();
    handle.setPointerCapture(e.pointerId);
    const preview = h('div', { class: 'span-preview', dataset: { testid: 'span-preview' }, attrs: { 'aria-hidden': 'true' } });
    board.canvas.append(preview);
    resizing = { id: card.id, from, to: from, handle, preview, cardEl };
    cardEl.classList.add('resizing');
    track(e);
  });
  const track = (e) => {
    if (!resizing) return;
    resizing.to = columnAt(board, resizing.from, e.clientX);
    drawPreview(board, resizing);
  };
  const finish = (commit) => {
    const r = resizing;
    if (!r) return;
    resizing = null;
    r.preview.remove();
    r.cardEl.classList.remove('resizing');
    if (commit) setEnd(ed, r.id, board.columns[r.to]?.step?.id ?? null);
  };
  board.grid.addEventListener('pointermove', track);
  board.grid.addEventListener('pointerup', (e) => {
    if (!resizing) return;
    track(e);
    finish(true);
  });
  board.grid.addEventListener('pointercancel', () => finish(false));
  board.grid.addEventListener('lostpointercapture', () => finish(false));
  document.addEventListener('keydown', (e) => {
    if (resizing && e.key === 'Escape') finish(false);
  });
  // Before the board's own keys, where Alt+arrows move the card.
  board.grid.addEventListener('keydown', (e) => {
    if (!e.shiftKey || !e.altKey || (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft')) return;
    const cardEl = e.target.closest?.('.card');
    if (!cardEl || e.target !== cardEl || ed.readOnly) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    const card = ed.map.cards.get(cardEl.dataset.id);
    if (!card) return;
    const steps = ed.map.steps;
    const start = steps.findIndex((s) => s.id === card.stepId);
    if (start < 0) return;
    const span = stepSpan(ed.map, card);
    const end = Math.max(start, Math.min(steps.length - 1, (span ? span.end : start) + (e.key === 'ArrowRight' ? 1 : -1)));
    setEnd(ed, card.id, steps[end].id);
    ed.afterRender(() => board.els.get(`card:${card.id}`)?.focus());
  }, true);
}

/** The step column under `x` (client pixels), never left of `from`; a stage without steps is skipped. */
function columnAt(board, from, x) {
  let best = from;
  board.columns.forEach((c, i) => {
    if (i < from || !c.step) return;
    const head = board.els.get(`step:${c.step.id}`);
    if (head && head.getBoundingClientRect().left <= x) best = i;
  });
  return best;
}

function drawPreview(board, r) {
  const head = board.els.get(`step:${board.columns[r.to].step.id}`);
  const card = board.els.get(`card:${r.id}`);
  if (!head || !card) return;
  const zoom = parseFloat(board.canvas.style.zoom) || 1;
  const canvas = board.canvas.getBoundingClientRect();
  const c = card.getBoundingClientRect();
  const end = head.getBoundingClientRect().right - 6 * zoom;
  const s = r.preview.style;
  s.left = `${(c.left - canvas.left) / zoom}px`;
  s.top = `${(c.top - canvas.top) / zoom}px`;
  s.width = `${Math.max(c.width, end - c.left) / zoom}px`;
  s.height = `${c.height / zoom}px`;
  const steps = r.to - r.from + 1;
  r.preview.dataset.steps = String(steps);
  r.preview.textContent = steps > 1 ? `${steps} steps` : '';
}

/**
 * After a render: the span look only on cards that span (or did at the last render), so a render
 * costs nothing per card that does not.
 */
export function decorateSpans(ed) {
  const board = ed.board;
  const spanning = board.spans?.cards ?? new Map();
  if (!ed.readOnly) shareHandle(ed);
  for (const id of new Set([...spanning.keys(), ...(board.spanDecorated ?? [])])) {
    const el = board.els.get(`card:${id}`);
    if (!el) continue;
    const span = spanning.get(id);
    const label = span ? `${span.to - span.from + 1} steps` : '';
    if (el._spanLabel === label) continue;
    el._spanLabel = label;
    if (!span && el.classList.contains('spanning')) {
      el.classList.remove('spanning');
      el.style.gridColumn = '';
      el.style.gridRow = '';
    }
    if (label) el.dataset.span = label;
    else delete el.dataset.span;
  }
  board.spanDecorated = [...spanning.keys()];
}

/**
 * One resize handle for the whole board, moved into the card under the pointer or with the focus:
 * a handle per card would add an element to each of hundreds of cards.
 */
function shareHandle(ed) {
  const board = ed.board;
  if (board.spanHandle) return;
  const handle = h('span', { class: 'span-handle', title: 'Drag to the step where this card ends', dataset: { testid: 'span-handle' }, attrs: { 'aria-hidden': 'true' } });
  board.spanHandle = handle;
  const offer = (e) => {
    if (board.grid.querySelector('.card.resizing')) return;
    const card = e.target.closest?.('.card');
    if (!card || card === handle.parentNode || !card.dataset.id || card.classList.contains('private')) return;
    card.append(handle);
  };
  board.grid.addEventListener('pointerover', offer);
  board.grid.addEventListener('focusin', offer);
}
