// How big the board is drawn: 25 %–200 % (lower only to fit a wide map), by the buttons, Ctrl/⌘ +
// wheel around the pointer, Ctrl/⌘ + `=` `-` `0`, and "fit" (the whole width on screen).
//
// CSS `zoom` on the grid's canvas, not a transform: a transform leaves the scroll area, sticky
// headers and `getBoundingClientRect` at the unscaled size, so scrolling, sticky positioning and
// drop targets would all need correcting; with `zoom` the browser lays the grid out at the new size
// and every client coordinate is on screen where it looks. Positions that other people see (cursor,
// view) stay in grid pixels at zoom 1 (PROTOCOL.md §5), so they divide by the level.
import { h } from './dom.js';

export const MIN_ZOOM = 0.25;
export const MAX_ZOOM = 2;
/** The levels the buttons and keys step through; the wheel goes in between. */
const LEVELS = [0.25, 0.33, 0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2];
// One notch of a mouse wheel (deltaY 100) zooms by about 16 %; a trackpad pinch sends small deltas.
const WHEEL_RATE = 0.0015;

export class Zoom {
  constructor(ed) {
    this.ed = ed;
    this.level = 1;
    this.board = ed.board.el;
    this.listeners = new Set();
    this.board.addEventListener('wheel', (e) => {
      if (!(e.ctrlKey || e.metaKey)) return;
      e.preventDefault(); // the page's own zoom otherwise
      const delta = e.deltaMode === 1 ? e.deltaY * 33 : e.deltaY;
      this.byUser(this.level * Math.exp(-delta * WHEEL_RATE), this.pointAt(e));
    }, { passive: false });
    document.addEventListener('keydown', (e) => this.onKey(e));
    this.pad();
  }

  /**
   * Scrolling something into view (a search hit, a focused card) keeps it out from under the
   * sticky header rows and lane names, at any zoom.
   */
  pad() {
    const { rem } = this.ed.board.metrics();
    this.board.style.scrollPaddingTop = `${Math.round(6.4 * rem * this.level)}px`;
    this.board.style.scrollPaddingLeft = `${Math.round(Math.min(12 * rem, window.innerWidth * 0.22) * this.level)}px`;
  }

  on(fn) {
    this.listeners.add(fn);
  }

  /** The lowest level: 25 %, or less when that is what it takes to show the whole width. */
  get floor() {
    return Math.min(MIN_ZOOM, this.fitLevel());
  }

  /** The level at which the grid's whole width fits the board's visible width. */
  fitLevel() {
    const grid = this.ed.board.grid.getBoundingClientRect().width / this.level;
    if (!grid) return 1;
    const width = grid + 2 * this.ed.board.metrics().rem; // and the canvas's margin at the right (board.css)
    // A pixel to spare: rounding must not leave a horizontal scroll bar.
    return Math.floor(((this.board.clientWidth - 2) / width) * 1000) / 1000;
  }

  /** A point on the board (its visible area) under an event. */
  pointAt(e) {
    const r = this.board.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  /**
   * Sets the level, keeping the grid point under `anchor` (board coordinates; its centre unless
   * given) where it is on screen.
   */
  set(level, anchor = null) {
    const z = Math.min(MAX_ZOOM, Math.max(this.floor, Math.round(level * 1000) / 1000));
    if (z === this.level) return;
    const b = this.board;
    const a = anchor ?? { x: b.clientWidth / 2, y: b.clientHeight / 2 };
    const gx = (b.scrollLeft + a.x) / this.level;
    const gy = (b.scrollTop + a.y) / this.level;
    this.level = z;
    this.ed.board.canvas.style.zoom = z === 1 ? '' : String(z);
    // Other people's pointers keep their size: the layer is zoomed, the arrows are not.
    this.ed.board.cursors.style.setProperty('--unzoom', String(1 / z));
    b.scrollLeft = gx * z - a.x;
    b.scrollTop = gy * z - a.y;
    this.pad();
    this.renderLabel();
    this.ed.follow?.publish();
    for (const fn of this.listeners) fn();
  }

  /** A zoom the person asked for: it is acting on one's own, so it ends following a leader. */
  byUser(level, anchor) {
    this.ed.follow?.breakAway();
    this.set(level, anchor);
  }

  /** The next level up (+1) or down (-1) from the current one. */
  step(direction) {
    const z = this.level;
    const next = direction > 0 ? LEVELS.find((l) => l > z + 0.001) ?? MAX_ZOOM : [...LEVELS].reverse().find((l) => l < z - 0.001) ?? this.floor;
    this.byUser(next);
  }

  /** The whole width of the map on screen, from its first column; a narrow map stays at 100 %. */
  fit() {
    this.ed.follow?.breakAway();
    const top = this.board.scrollTop / this.level;
    this.set(Math.min(1, this.fitLevel()), { x: 0, y: 0 });
    this.board.scrollTo({ left: 0, top: top * this.level, behavior: 'instant' });
  }

  onKey(e) {
    if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
    const t = e.target;
    // Text fields keep their keys; dialogs over the board are not the board.
    if (t?.closest?.('dialog') || t?.isContentEditable) return;
    const key = e.key;
    if (key === '=' || key === '+' || e.code === 'NumpadAdd') this.step(1);
    else if (key === '-' || key === '_' || e.code === 'NumpadSubtract') this.step(-1);
    else if (key === '0' || e.code === 'Numpad0') this.byUser(1);
    else return;
    e.preventDefault();
  }

  /** The −, %, +, fit buttons. */
  controls() {
    this.label = h('button', {
      class: 'ghost small zoom-level', dataset: { testid: 'zoom-level' }, title: 'Back to 100 % (Ctrl+0)',
      onclick: () => this.byUser(1),
    });
    this.renderLabel();
    return h('div', { class: 'zoom', attrs: { role: 'group', 'aria-label': 'Zoom' } },
      h('button', { class: 'ghost small icon', text: '−', title: 'Zoom out (Ctrl+−)', attrs: { 'aria-label': 'Zoom out' }, dataset: { testid: 'zoom-out' }, onclick: () => this.step(-1) }),
      this.label,
      h('button', { class: 'ghost small icon', text: '+', title: 'Zoom in (Ctrl+=)', attrs: { 'aria-label': 'Zoom in' }, dataset: { testid: 'zoom-in' }, onclick: () => this.step(1) }),
      h('button', { class: 'ghost small', text: 'Fit', title: 'The whole width of the map on screen', attrs: { 'aria-label': 'Fit the whole map to the screen' }, dataset: { testid: 'zoom-fit' }, onclick: () => this.fit() }));
  }

  renderLabel() {
    if (!this.label) return;
    const pct = `${Math.round(this.level * 100)} %`;
    this.label.textContent = pct;
    this.label.setAttribute('aria-label', `Zoom ${pct}: back to 100 %`);
    this.label.dataset.zoom = String(this.level);
  }
}
