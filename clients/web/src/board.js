// The map as a grid: stages and steps across, lanes down, cards in cells. Renders by reconciling
// keyed elements (so a remote edit touches only what changed) and turns pointer, drag and keyboard
// gestures into the edits of model.js.
import { h } from './dom.js';
import * as M from './model.js';
import { renderEmotionLane } from './emotion.js';
import { bindText } from './textbind.js';
import { layoutSpans, renderSpanBand, rowTemplate } from './spans.js';
import { extraLanes, renderVirtualHead, typedCell } from './measuresboard.js';

const CARD = 'application/x-waymark-card';
const STEP = 'application/x-waymark-step';
const STAGE = 'application/x-waymark-stage';
const LANE = 'application/x-waymark-lane';

const LANE_NAMES = new Map(M.LANE_KINDS);
/** A step column's width in rem: `--col` in board.css. */
const COLUMN_REM = 15;
const EVIDENCE_MARK = { hypothesis: '○', reported: '◔', observed: '◑', validated: '●' };

export class Board {
  /**
   * `ed` is the editor: `doc`, `map` (the latest read), `readOnly`, `selection`, `select(collection,
   * id)`, `editingCard`.
   */
  constructor(ed) {
    this.ed = ed;
    this.els = new Map();
    // A region rather than an ARIA grid: the layout is a CSS grid without row elements, and every
    // header, cell and card names itself (its lane and step) instead.
    this.grid = h('div', { class: 'grid', attrs: { role: 'region', 'aria-label': ed.readOnly ? 'Journey map, read-only' : 'Journey map' } });
    this.cursors = h('div', { class: 'cursors', attrs: { 'aria-hidden': 'true' } });
    this.canvas = h('div', { class: 'canvas' }, this.grid, this.cursors);
    this.el = h('div', { class: 'board', dataset: { testid: 'board' } }, this.canvas);
    this.editing = null; // { id, unbind, field }
    this.grid.addEventListener('keydown', (e) => this.onKey(e));
    this.grid.addEventListener('dragend', () => this.clearDrop());
    window.addEventListener('resize', () => {
      this.measured = null;
    });
  }

  /**
   * The root font size and the column width in CSS pixels (`--col` in board.css is 15rem, so text
   * scaling widens columns). Read once and again after a resize (zoom is one), never in the middle
   * of a render, where it would force a style pass over the whole grid on every update.
   */
  metrics() {
    if (!this.measured) {
      const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
      this.measured = { rem, col: COLUMN_REM * rem };
    }
    return this.measured;
  }

  /** The element for `key`, made by `create` the first time; `inGrid`: a direct child of the grid. */
  keyed(key, create, inGrid = true) {
    let el = this.els.get(key);
    if (!el) {
      el = create();
      el.dataset.key = key;
      this.els.set(key, el);
    }
    if (inGrid) this.want.push(el);
    el._gen = this.gen;
    return el;
  }

  render() {
    const map = this.ed.map;
    this.want = [];
    // What this render asked for is stamped with its number: the rest is gone from the map.
    this.gen = (this.gen ?? 0) + 1;
    // Columns: every step; a stage without steps keeps one empty column so it can be seen and used.
    const columns = [];
    const groups = [];
    for (const stage of map.stages) {
      const steps = map.steps.filter((s) => s.stageId === stage.id);
      groups.push({ stage, start: columns.length, span: Math.max(1, steps.length), steps });
      if (steps.length) for (const step of steps) columns.push({ step, stage });
      else columns.push({ step: null, stage });
    }
    const orphans = map.steps.filter((s) => !map.stageIds.has(s.stageId));
    if (orphans.length) {
      groups.push({ stage: null, start: columns.length, span: orphans.length, steps: orphans });
      for (const step of orphans) columns.push({ step, stage: null });
    }
    this.columns = columns;
    this.spans = layoutSpans(map, columns);
    const template = `var(--head) repeat(${Math.max(1, columns.length)}, var(--col))`;
    if (this.grid.style.gridTemplateColumns !== template) this.grid.style.gridTemplateColumns = template;

    this.renderCorner();
    for (const g of groups) this.renderStage(g);
    columns.forEach((c, i) => this.renderStep(c, i));
    let row = 3;
    const bandRows = new Set();
    for (const lane of [...map.lanes, ...extraLanes(map)]) {
      if (lane.virtual) {
        renderVirtualHead(this, lane, row);
      } else {
        // Cards spanning several steps get a band of their own above the lane's cells.
        const top = row;
        if (lane.kind !== 'emotions' && renderSpanBand(this, lane, row, columns)) bandRows.add(row++);
        this.renderLaneHead(lane, top, row - top + 1);
      }
      if (lane.kind === 'emotions') this.renderEmotions(lane, row, columns);
      else columns.forEach((c, i) => this.renderCell(lane, c, i, row));
      row++;
    }
    const rows = rowTemplate(bandRows, row);
    if (this.grid.style.gridTemplateRows !== rows) this.grid.style.gridTemplateRows = rows;
    if (!this.ed.readOnly) {
      place(this.keyed('add-lane', () => h('div', { class: 'add-lane' },
        h('button', { class: 'ghost', text: '+ Add lane', dataset: { testid: 'add-lane' }, onclick: () => this.ed.addLane() }),
      )), String(row));
    }
    // Cards whose lane or step is gone (or an emotion lane) have no cell: say so, so they can be
    // found and placed again (SCHEMA.md §7).
    const shown = new Set(map.lanes.filter((l) => l.kind !== 'emotions').map((l) => l.id));
    const stepIds = new Set(columns.filter((c) => c.step).map((c) => c.step.id));
    this.unplaced = [...map.cards.values()].filter((c) => !shown.has(c.laneId) || !stepIds.has(c.stepId));
    if (this.unplaced.length) {
      const note = this.keyed('unplaced', () => h('div', { class: 'unplaced' },
        h('span', {}), h('button', { class: 'small', text: 'Show the first', dataset: { testid: 'show-unplaced' }, onclick: () => this.unplaced[0] && this.ed.select('cards', this.unplaced[0].id) })));
      note.firstChild.textContent = `${this.unplaced.length} card${this.unplaced.length > 1 ? 's are' : ' is'} not in any cell: ${this.unplaced.length > 1 ? 'their' : 'its'} lane or step is gone.`;
      place(note, String(row + 1));
    }
    if (!map.lanes.length || !columns.length) {
      this.keyed('empty-hint', () => h('p', { class: 'empty-hint muted' })).textContent = this.ed.readOnly
        ? 'This map is empty.'
        : !columns.length ? 'Add a stage to start the map.' : 'Add a lane to start placing cards.';
    }
    // Drop what is gone, then put the rest in order (order is the tab order).
    for (const [key, el] of this.els) {
      if (el._gen !== this.gen) {
        el.remove();
        this.els.delete(key);
      }
    }
    const last = this.lastWant;
    if (!last || last.length !== this.want.length || !last.every((el, i) => el === this.want[i])) reorder(this.grid, this.want);
    this.lastWant = this.want;
    this.markSelection();
  }

  renderCorner() {
    const corner = this.keyed('corner', () => h('div', { class: 'corner' },
      h('span', { class: 'corner-label', text: 'Stages' }),
      this.ed.readOnly ? null : h('button', {
        class: 'ghost small', text: '+ Stage', dataset: { testid: 'add-stage' },
        attrs: { 'aria-label': 'Add a stage' }, onclick: () => this.ed.addStage(),
      })));
    place(corner, '1');
    const corner2 = this.keyed('corner2', () => h('div', { class: 'corner corner-steps' }, h('span', { class: 'corner-label', text: 'Steps' })));
    place(corner2, '2');
  }

  renderStage({ stage, start, span }) {
    const key = stage ? `stage:${stage.id}` : 'stage:orphans';
    const el = this.keyed(key, () => {
      const name = h('span', { class: 'head-name' });
      const el = h('div', { class: 'stage-head' }, name);
      el._name = name;
      if (stage && !this.ed.readOnly) {
        el.tabIndex = 0;
        el.draggable = true;
        el.append(h('span', { class: 'head-tools' },
          h('button', { class: 'ghost small', text: '+ Step', attrs: { 'aria-label': `Add a step to ${stage.name}` }, dataset: { testid: 'add-step' }, onclick: (e) => { e.stopPropagation(); this.ed.addStep(stage.id); } })));
        this.headerGestures(el, 'stages', stage.id, STAGE);
      } else if (stage) {
        el.tabIndex = 0;
        el.addEventListener('click', () => this.ed.select('stages', stage.id));
      }
      return el;
    });
    text(el._name, stage ? stage.name || 'Untitled stage' : 'Steps without a stage');
    if (stage && el.dataset.id !== stage.id) el.dataset.id = stage.id;
    place(el, '1', `${start + 2} / span ${span}`);
    attr(el, 'title', stage?.description || '');
  }

  renderStep({ step, stage }, i) {
    const key = step ? `step:${step.id}` : `step-empty:${stage.id}`;
    const el = this.keyed(key, () => {
      const name = h('span', { class: 'head-name' });
      const el = h('div', { class: 'step-head' }, name);
      el._name = name;
      if (step) {
        el.tabIndex = 0;
        if (!this.ed.readOnly) {
          el.draggable = true;
          el.append(h('span', { class: 'head-tools' },
            h('button', { class: 'ghost small icon', text: '+', attrs: { 'aria-label': 'Add a step after this one', title: 'Add a step after this one' }, onclick: (e) => { e.stopPropagation(); this.ed.addStep(step.stageId, step.id); } })));
          this.headerGestures(el, 'steps', step.id, STEP);
        } else el.addEventListener('click', () => this.ed.select('steps', step.id));
      } else {
        el.classList.add('empty');
        if (!this.ed.readOnly) {
          el.append(h('button', { class: 'ghost small', text: '+ Add a step', onclick: () => this.ed.addStep(stage.id) }));
          this.dropTarget(el, [STEP], (type, id) => this.ed.moveStep(id, stage.id, null));
        }
      }
      return el;
    });
    text(el._name, step ? step.name || 'Untitled step' : 'No steps yet');
    if (step && el.dataset.id !== step.id) el.dataset.id = step.id;
    place(el, '2', String(i + 2));
    attr(el, 'title', step?.description || '');
  }

  renderLaneHead(lane, row, rows = 1) {
    const el = this.keyed(`lane:${lane.id}`, () => {
      const name = h('span', { class: 'head-name' });
      const kind = h('span', { class: 'lane-kind' });
      // In a label of their own, so they can stay in sight while a tall lane scrolls under the headers.
      const el = h('div', { class: 'lane-head', tabIndex: 0 }, h('span', { class: 'lane-label' }, name, kind));
      el._name = name;
      el._kind = kind;
      if (!this.ed.readOnly) {
        el.draggable = true;
        this.headerGestures(el, 'lanes', lane.id, LANE);
      } else el.addEventListener('click', () => this.ed.select('lanes', lane.id));
      return el;
    });
    text(el._name, lane.name || LANE_NAMES.get(lane.kind) || lane.kind);
    const persona = lane.personaId && this.ed.map.personas.find((p) => p.id === lane.personaId);
    // The kind under the name, unless the name says it already.
    const kindName = LANE_NAMES.get(lane.kind) ?? lane.kind;
    text(el._kind, [el._name.textContent === kindName ? null : kindName, persona?.name].filter(Boolean).join(' · '));
    if (el.dataset.id !== lane.id) el.dataset.id = lane.id;
    if (el.dataset.kind !== lane.kind) el.dataset.kind = lane.kind;
    place(el, rows > 1 ? `${row} / span ${rows}` : String(row));
  }

  renderEmotions(lane, row, columns) {
    const el = this.keyed(`emo:${lane.id}`, () => h('div', { class: 'emotion-cell', dataset: { testid: 'emotion-lane' } }));
    place(el, String(row), `2 / span ${Math.max(1, columns.length)}`);
    renderEmotionLane(el, lane, columns, this.ed);
  }

  renderCell(lane, column, i, row) {
    const { step, stage } = column;
    const key = step ? `cell:${lane.id}|${step.id}` : `cell:${lane.id}|empty:${stage.id}`;
    const el = this.keyed(key, () => {
      const el = h('div', { class: `cell k-${lane.kind}`, attrs: { role: 'group' } });
      if (step) {
        el.dataset.lane = lane.id;
        el.dataset.step = step.id;
        if (!this.ed.readOnly && !lane.virtual) {
          el._add = h('button', {
            class: 'cell-add', text: '+', dataset: { testid: 'add-card' },
            onclick: () => this.ed.addCard(lane.id, step.id),
          });
          this.cardDrop(el, lane.id, step.id);
        }
      } else el.classList.add('empty');
      return el;
    });
    place(el, String(row), String(i + 2));
    if (!step) return;
    attr(el, 'aria-label', `${lane.name} at ${step.name}`);
    if (el._add) attr(el._add, 'aria-label', `Add a card: ${lane.name} at ${step.name}`);
    const cards = (this.ed.map.cells.get(`${lane.id}|${step.id}`) ?? []).filter((c) => !this.spans.cards.has(c.id));
    const typed = typedCell(this, lane, step);
    const children = cards.map((c) => this.renderCard(c, lane));
    if (typed) children.unshift(...typed.before);
    if (el._add) children.push(el._add);
    if (typed) children.push(...typed.after);
    // Most cells hold what they held at the last render: compare in JS, touch the DOM only on a change.
    const last = el._children;
    if (last && last.length === children.length && last.every((c, k) => c === children[k])) return;
    el._children = children;
    const drop = el.querySelector('.drop-line');
    reorder(el, children);
    if (drop) el.append(drop);
  }

  renderCard(card, lane) {
    const key = `card:${card.id}`;
    const el = this.keyed(key, () => {
      const text = h('div', { class: 'card-text' });
      const meta = h('div', { class: 'card-meta' });
      const el = h('article', { class: 'card', tabIndex: 0, dataset: { testid: 'card', id: card.id } }, text, meta);
      el._text = text;
      el._meta = meta;
      el.addEventListener('click', () => this.ed.select('cards', card.id));
      el.addEventListener('dblclick', () => this.startEditing(card.id));
      if (!this.ed.readOnly) {
        el.draggable = true;
        el.addEventListener('dragstart', (e) => {
          if (this.editing?.id === card.id || this.ed.blocked('cards', card.id)) return e.preventDefault();
          e.dataTransfer.setData(CARD, card.id);
          e.dataTransfer.effectAllowed = 'move';
          el.classList.add('dragging');
        });
        el.addEventListener('dragend', () => el.classList.remove('dragging'));
      }
      return el;
    }, false);
    const links = this.ed.map.linkCounts.get(card.id) ?? 0;
    const persona = card.personaId && this.ed.map.personas.find((p) => p.id === card.personaId);
    const sig = [card.text, card.evidence, card.severity, card.impact, card.effort, card.status, card.owner, card.due, links, lane.kind, persona?.name, card.endStepId, card.imageUrl].join('\u0001');
    if (el._sig !== sig) {
      el._sig = sig;
      if (el._kind !== lane.kind) {
        el.classList.remove(`k-${el._kind}`);
        el.classList.add(`k-${lane.kind}`);
        el._kind = lane.kind;
      }
      if (this.editing?.id !== card.id) el._text.textContent = card.text || '';
      el._text.classList.toggle('placeholder', !card.text);
      if (!card.text && this.editing?.id !== card.id) el._text.textContent = 'Empty card';
      el._meta.replaceChildren(...cardMeta(card, lane, links, persona, this.ed.map));
      el.setAttribute('aria-label', `${LANE_NAMES.get(lane.kind) ?? 'Card'}: ${card.text || 'empty card'}`);
      el.dataset.evidence = card.evidence ?? 'hypothesis';
    }
    return el;
  }

  /** Marks the selected element, and the ones others have selected. */
  markSelection() {
    for (const el of this.grid.querySelectorAll('.selected')) el.classList.remove('selected');
    const sel = this.ed.selection;
    if (sel) {
      const prefix = { cards: 'card', steps: 'step', stages: 'stage', lanes: 'lane', touchpoints: 'tp', metrics: 'metric' }[sel.collection];
      this.els.get(`${prefix}:${sel.id}`)?.classList.add('selected');
    }
  }

  // ---- inline editing of a card's text ----

  startEditing(cardId) {
    if (this.ed.readOnly || this.ed.blocked('cards', cardId, true)) return;
    if (this.editing?.id === cardId) return;
    this.stopEditing();
    const el = this.els.get(`card:${cardId}`);
    const ytext = this.ed.cardText(cardId);
    if (!el || !ytext) return;
    const field = h('textarea', { class: 'card-edit', attrs: { 'aria-label': 'Card text' }, dataset: { testid: 'card-editor' } });
    el.draggable = false;
    el._text.replaceChildren(field);
    el._text.classList.remove('placeholder');
    const unbind = bindText(field, ytext, this.ed.doc);
    this.editing = { id: cardId, unbind, field };
    field.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Escape' || (e.key === 'Enter' && !e.shiftKey)) {
        e.preventDefault();
        this.stopEditing(true);
      }
    });
    field.addEventListener('blur', () => this.stopEditing());
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
    this.ed.select('cards', cardId);
  }

  stopEditing(refocus = false) {
    const editing = this.editing;
    if (!editing) return;
    this.editing = null;
    editing.unbind();
    const el = this.els.get(`card:${editing.id}`);
    if (el) {
      el.draggable = !this.ed.readOnly;
      el._sig = null;
      const card = this.ed.map.cards.get(editing.id);
      el._text.textContent = card?.text || 'Empty card';
      el._text.classList.toggle('placeholder', !card?.text);
      if (refocus) el.focus();
    }
    this.ed.refresh();
  }

  // ---- drag and drop ----

  /** Cards dropped on a cell go where the pointer is among its cards. */
  cardDrop(cell, laneId, stepId) {
    cell.addEventListener('dragover', (e) => {
      if (!e.dataTransfer.types.includes(CARD)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
      const index = this.dropIndex(cell, e.clientY);
      let line = cell.querySelector('.drop-line');
      if (!line) line = h('div', { class: 'drop-line' });
      const cards = [...cell.querySelectorAll('.card:not(.dragging)')];
      cell.insertBefore(line, cards[index] ?? cell.querySelector('.cell-add'));
      cell.classList.add('drop');
    });
    cell.addEventListener('dragleave', (e) => {
      if (!cell.contains(e.relatedTarget)) this.clearDrop();
    });
    cell.addEventListener('drop', (e) => {
      const id = e.dataTransfer.getData(CARD);
      if (!id) return;
      e.preventDefault();
      const index = this.dropIndex(cell, e.clientY);
      this.clearDrop();
      this.ed.moveCard(id, laneId, stepId, index);
    });
  }

  dropIndex(cell, y) {
    const cards = [...cell.querySelectorAll('.card:not(.dragging)')];
    const i = cards.findIndex((c) => {
      const r = c.getBoundingClientRect();
      return y < r.top + r.height / 2;
    });
    return i === -1 ? cards.length : i;
  }

  clearDrop() {
    for (const el of this.grid.querySelectorAll('.drop-line')) el.remove();
    for (const el of this.grid.querySelectorAll('.drop, .drop-before, .drop-after')) el.classList.remove('drop', 'drop-before', 'drop-after');
  }

  dropTarget(el, types, onDrop, { side } = {}) {
    el.addEventListener('dragover', (e) => {
      const type = types.find((t) => e.dataTransfer.types.includes(t));
      if (!type) return;
      e.preventDefault();
      this.clearDrop();
      if (side) el.classList.add(side(e) ? 'drop-after' : 'drop-before');
      else el.classList.add('drop');
    });
    el.addEventListener('dragleave', () => el.classList.remove('drop', 'drop-before', 'drop-after'));
    el.addEventListener('drop', (e) => {
      const type = types.find((t) => e.dataTransfer.types.includes(t));
      if (!type) return;
      e.preventDefault();
      const after = side ? side(e) : false;
      this.clearDrop();
      onDrop(type, e.dataTransfer.getData(type), after);
    });
  }

  /** Select on click, rename on double-click or Enter, drag to reorder. */
  headerGestures(el, collection, id, type) {
    el.addEventListener('click', () => this.ed.select(collection, id));
    el.addEventListener('dblclick', () => this.rename(el, collection, id));
    el.addEventListener('dragstart', (e) => {
      if (this.ed.blocked(collection, id)) return e.preventDefault();
      e.dataTransfer.setData(type, id);
      e.dataTransfer.effectAllowed = 'move';
    });
    const horizontal = collection !== 'lanes';
    const side = (e) => {
      const r = el.getBoundingClientRect();
      return horizontal ? e.clientX > r.left + r.width / 2 : e.clientY > r.top + r.height / 2;
    };
    if (collection === 'steps') {
      this.dropTarget(el, [STEP], (t, dragged, after) => this.ed.moveStep(dragged, null, id, after), { side });
    } else if (collection === 'stages') {
      this.dropTarget(el, [STAGE, STEP], (t, dragged, after) => {
        if (t === STAGE) this.ed.moveStage(dragged, id, after);
        else this.ed.moveStep(dragged, id, null);
      }, { side });
    } else if (collection === 'lanes') {
      this.dropTarget(el, [LANE], (t, dragged, after) => this.ed.moveLane(dragged, id, after), { side });
    }
  }

  rename(el, collection, id) {
    if (this.ed.readOnly || el.querySelector('input') || this.ed.blocked(collection, id, true)) return;
    const entity = this.ed.entity(collection, id);
    if (!entity) return;
    const input = h('input', { class: 'head-input', value: entity.name, attrs: { 'aria-label': 'Name' }, dataset: { testid: 'rename' } });
    el._name.replaceChildren(input);
    el.draggable = false;
    let done = false;
    const finish = (save) => {
      if (done) return;
      done = true;
      if (save && input.value.trim() !== entity.name) M.update(this.ed.doc, collection, id, { name: input.value.trim() });
      el._name.textContent = save ? input.value.trim() : entity.name;
      el.draggable = true;
      el.focus();
    };
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') finish(true);
      if (e.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
    input.addEventListener('click', (e) => e.stopPropagation());
    input.focus();
    input.select();
  }

  // ---- keyboard ----

  onKey(e) {
    const target = e.target;
    if (target.matches('input, textarea, select')) return;
    const card = target.closest('.card');
    const head = target.closest('.step-head, .stage-head, .lane-head');
    if (card) this.cardKey(e, card.dataset.id);
    else if (head?.dataset.id) this.headKey(e, head);
  }

  cardKey(e, id) {
    const card = this.ed.map.cards.get(id);
    if (!card) return;
    const cell = this.ed.map.cells.get(`${card.laneId}|${card.stepId}`) ?? [];
    const index = cell.findIndex((c) => c.id === id);
    const cols = this.columns.filter((c) => c.step);
    const col = cols.findIndex((c) => c.step.id === card.stepId);
    const lanes = this.ed.map.lanes.filter((l) => l.kind !== 'emotions');
    const laneIndex = lanes.findIndex((l) => l.id === card.laneId);
    const ro = this.ed.readOnly;
    if (e.key === 'Enter' && !ro) this.startEditing(id);
    else if ((e.key === 'Delete' || e.key === 'Backspace') && !ro) this.ed.deleteCard(id, true);
    else if (e.key === 'Escape') this.ed.select(null);
    else if (e.altKey && !ro && e.key.startsWith('Arrow')) {
      if (e.key === 'ArrowUp' && index > 0) this.ed.moveCard(id, card.laneId, card.stepId, index - 1);
      else if (e.key === 'ArrowDown' && index < cell.length - 1) this.ed.moveCard(id, card.laneId, card.stepId, index + 1);
      else if (e.key === 'ArrowUp' && laneIndex > 0) this.ed.moveCard(id, lanes[laneIndex - 1].id, card.stepId, Infinity);
      else if (e.key === 'ArrowDown' && laneIndex >= 0 && laneIndex < lanes.length - 1) this.ed.moveCard(id, lanes[laneIndex + 1].id, card.stepId, 0);
      else if (e.key === 'ArrowLeft' && col > 0) this.ed.moveCard(id, card.laneId, cols[col - 1].step.id, Infinity);
      else if (e.key === 'ArrowRight' && col >= 0 && col < cols.length - 1) this.ed.moveCard(id, card.laneId, cols[col + 1].step.id, Infinity);
      else return;
      this.ed.afterRender(() => this.els.get(`card:${id}`)?.focus());
    } else if (e.key.startsWith('Arrow')) {
      let next = null;
      if (e.key === 'ArrowUp') next = cell[index - 1];
      if (e.key === 'ArrowDown') next = cell[index + 1];
      const cellEl = this.els.get(`cell:${card.laneId}|${card.stepId}`);
      const sideways = e.key === 'ArrowLeft' ? -1 : e.key === 'ArrowRight' ? 1 : 0;
      if (sideways && cols[col + sideways]) {
        const other = this.els.get(`cell:${card.laneId}|${cols[col + sideways].step.id}`);
        (other?.querySelector('.card') ?? other?.querySelector('.cell-add'))?.focus();
      } else if (next) this.els.get(`card:${next.id}`)?.focus();
      else if (e.key === 'ArrowDown') cellEl?.querySelector('.cell-add')?.focus();
      else return;
    } else return;
    e.preventDefault();
  }

  headKey(e, head) {
    const id = head.dataset.id;
    const collection = head.classList.contains('step-head') ? 'steps' : head.classList.contains('stage-head') ? 'stages' : 'lanes';
    const ro = this.ed.readOnly;
    if (e.key === 'Enter' && !ro) this.rename(head, collection, id);
    else if (e.key === ' ') this.ed.select(collection, id);
    else if ((e.key === 'Delete' || e.key === 'Backspace') && !ro) this.ed.deleteEntity(collection, id);
    else if (e.altKey && !ro && e.key.startsWith('Arrow')) {
      const forward = e.key === 'ArrowRight' || e.key === 'ArrowDown';
      if (collection === 'lanes' && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) this.ed.nudge('lanes', id, forward);
      else if (collection !== 'lanes' && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) this.ed.nudge(collection, id, forward);
      else return;
      this.ed.afterRender(() => this.grid.querySelector(`[data-id="${CSS.escape(id)}"]`)?.focus());
    } else return;
    e.preventDefault();
  }
}

/** Sets an element's grid row and column, touching the DOM only when they change. */
function place(el, row, column = null) {
  if (el._row !== row) {
    el._row = row;
    el.style.gridRow = row;
  }
  if (column !== null && el._column !== column) {
    el._column = column;
    el.style.gridColumn = column;
  }
}

/** Sets an element's text only when it changes (each write invalidates layout). */
function text(el, value) {
  if (el.textContent !== value) el.textContent = value;
}

/**
 * Sets an attribute only when its value changes (each write invalidates styles), remembering what
 * was set so that an unchanged value costs no DOM read.
 */
function attr(el, name, value) {
  el._attrs ??= Object.create(null);
  if (el._attrs[name] === value) return;
  el._attrs[name] = value;
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/** Puts `children` into `parent` in this order, moving only what is out of place. */
export function reorder(parent, children) {
  let i = 0;
  for (const child of children) {
    const at = parent.children[i];
    if (at !== child) parent.insertBefore(child, at ?? null);
    i++;
  }
  while (parent.children.length > children.length) parent.lastElementChild.remove();
}

/** The small signs of a card: evidence, severity, impact and effort, status, owner, links. */
function cardMeta(card, lane, links, persona, map) {
  const out = [];
  const evidence = card.evidence ?? 'hypothesis';
  out.push(h('span', { class: `badge ev ev-${evidence}`, title: `Evidence: ${evidence}${card.evidenceSource ? ` (${card.evidenceSource})` : ''}`, text: `${EVIDENCE_MARK[evidence] ?? '?'} ${evidence}` }));
  if (card.severity !== null) {
    const s = Math.max(1, Math.min(5, Math.trunc(card.severity)));
    out.push(h('span', { class: `badge sev sev-${s}`, title: `Severity ${s} of 5`, attrs: { 'aria-label': `Severity ${s} of 5` } },
      h('span', { class: 'sev-bars', attrs: { 'aria-hidden': 'true' } }, ...[1, 2, 3, 4, 5].map((n) => h('i', { class: n <= s ? 'on' : '' }))),
      h('span', { text: `S${s}` })));
  }
  if (card.impact !== null || card.effort !== null) {
    out.push(h('span', { class: 'badge', title: 'Impact and effort, 1–5', text: `Impact ${card.impact ?? '–'} · Effort ${card.effort ?? '–'}` }));
  }
  if (card.status) out.push(h('span', { class: `badge status st-${card.status}`, text: card.status.replace('-', ' ') }));
  if (card.owner || card.due) out.push(h('span', { class: 'badge', text: [card.owner, card.due].filter(Boolean).join(' · ') }));
  if (persona) out.push(h('span', { class: 'badge persona', text: persona.name }));
  if (links) out.push(h('span', { class: 'badge link', title: `${links} linked card${links > 1 ? 's' : ''}`, text: `⇄ ${links}` }));
  if (card.imageUrl && /^https?:\/\//.test(card.imageUrl)) {
    out.push(h('img', { class: 'card-image', src: card.imageUrl, alt: card.text || 'Picture', loading: 'lazy', referrerPolicy: 'no-referrer' }));
  }
  return out;
}
