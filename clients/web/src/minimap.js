// The overview: the whole board drawn small in a corner (stages, lanes, a dot per card, the cards
// a search or filter lights in colour) with the rectangle on screen; a click or drag there moves
// the board. A canvas, redrawn at most every REDRAW_MS after a render: a few hundred rectangles
// cost well under a millisecond, and a scroll only redraws the rectangle over a cached picture.
import { h } from './dom.js';

const REDRAW_MS = 250;
const WIDTH = 280; // CSS pixels, at most; a tall map is narrower
const HEIGHT = 160;
const PREF = 'waymark.overview';
// Shown unprompted only when the map is many screens big; smaller maps are easy to scroll.
const AUTO_SCREENS = 16;

export class Minimap {
  constructor(ed) {
    this.ed = ed;
    this.board = ed.board.el;
    this.canvas = h('canvas', {
      class: 'minimap-canvas', dataset: { testid: 'minimap' },
      attrs: { role: 'img', 'aria-label': 'Overview of the whole map; the frame is what is on screen. Click or drag in it to move the board.' },
    });
    this.el = h('div', { class: 'minimap', hidden: true }, this.canvas);
    this.base = document.createElement('canvas'); // the map without the frame
    this.geo = null;
    this.pref = readPref();
    this.toggle = h('button', {
      class: 'ghost small', text: 'Overview', title: 'Show or hide the overview of the whole map',
      attrs: { 'aria-pressed': 'false', 'aria-label': 'Overview of the whole map' }, dataset: { testid: 'minimap-toggle' },
      onclick: () => this.setShown(this.el.hidden),
    });
    this.board.addEventListener('scroll', () => this.frame(), { passive: true });
    window.addEventListener('resize', () => this.schedule());
    this.pointer();
  }

  /** Whether to show it: as chosen here last, or else when the map is big. */
  wanted() {
    if (this.pref !== null) return this.pref;
    const g = this.ed.board.grid.getBoundingClientRect();
    const z = this.ed.zoom?.level ?? 1;
    // At zoom 1: zooming out must not make the overview go away.
    const area = ((g.width / z) * (g.height / z)) / Math.max(1, this.board.clientWidth * this.board.clientHeight);
    return area > AUTO_SCREENS;
  }

  setShown(shown) {
    this.pref = shown;
    try {
      localStorage.setItem(PREF, shown ? 'on' : 'off');
    } catch {
      // Storage may be off (private windows); the choice then lasts for this page only.
    }
    this.schedule(0);
  }

  /**
   * Redraws soon; many renders in a row make one redraw. In a timer task, not an animation frame:
   * renders change the DOM in animation frames, so between frames the layout is clean and reading
   * the lanes' heights costs nothing, where in a frame it could force a second layout of the grid.
   */
  schedule(delay = REDRAW_MS) {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draw();
    }, delay);
  }

  /** Redraws only the frame, on the next animation frame (a scroll sends many events). */
  frame() {
    if (this.framing || this.el.hidden) return;
    this.framing = true;
    requestAnimationFrame(() => {
      this.framing = false;
      this.drawFrame();
    });
  }

  /** Where everything is, in grid pixels at zoom 1, and the scale of the overview. */
  measure() {
    const b = this.ed.board;
    const z = this.ed.zoom?.level ?? 1;
    const g = b.grid.getBoundingClientRect();
    const W = g.width / z;
    const H = g.height / z;
    const corner = b.els.get('corner')?.getBoundingClientRect();
    const corner2 = b.els.get('corner2')?.getBoundingClientRect();
    if (!W || !H || !corner || !corner2) return null;
    const head = corner.width / z;
    const headH = (corner2.bottom - g.top) / z;
    const columns = b.columns ?? [];
    const col = columns.length ? (W - head) / columns.length : 0;
    const lanes = [];
    for (const lane of this.ed.map.lanes) {
      const el = b.els.get(`lane:${lane.id}`);
      if (!el) continue;
      const r = el.getBoundingClientRect();
      lanes.push({ lane, top: (r.top - g.top) / z, height: r.height / z, colour: this.colour(lane.kind, el) });
    }
    const s = Math.min(WIDTH / W, HEIGHT / H);
    return { W, H, head, headH, stageH: (corner.bottom - g.top) / z, col, columns, lanes, s, w: Math.max(40, Math.round(W * s)), h: Math.max(20, Math.round(H * s)) };
  }

  /** A lane kind's colour (board.css), read once per kind: reading styles costs a style pass. */
  colour(kind, el) {
    this.colours ??= new Map();
    if (!this.colours.has(kind)) this.colours.set(kind, getComputedStyle(el).getPropertyValue('--lane').trim() || '#8a94a3');
    return this.colours.get(kind);
  }

  draw() {
    const shown = this.wanted();
    if (this.el.hidden === shown) {
      this.el.hidden = !shown;
      this.toggle.setAttribute('aria-pressed', String(shown));
    }
    if (!shown) return;
    const geo = this.measure();
    this.geo = geo;
    if (!geo) return;
    const dpr = window.devicePixelRatio || 1;
    // Sized only when the size changes: each write to a canvas's size or style costs a style pass.
    const [w, hgt] = [Math.round(geo.w * dpr), Math.round(geo.h * dpr)];
    if (this.canvas.width !== w || this.canvas.height !== hgt) {
      for (const c of [this.canvas, this.base]) {
        c.width = w;
        c.height = hgt;
      }
      this.canvas.style.width = `${geo.w}px`;
      this.canvas.style.height = `${geo.h}px`;
    }
    const ctx = this.base.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    ctx.setTransform(dpr * geo.s, 0, 0, dpr * geo.s, 0, 0);
    const { W, head, headH, stageH, col, columns, lanes } = geo;
    ctx.fillStyle = '#f5f6f8';
    ctx.fillRect(0, 0, W, geo.H);
    // Stages: dark blocks over their columns, a gap between stages.
    ctx.fillStyle = '#2b3a4d';
    let start = 0;
    columns.forEach((c, i) => {
      const last = i === columns.length - 1 || columns[i + 1].stage !== c.stage;
      if (!last) return;
      ctx.fillRect(head + start * col, 0, (i + 1 - start) * col - 1 / geo.s, stageH);
      start = i + 1;
    });
    ctx.fillStyle = '#dfe3e9';
    ctx.fillRect(head, stageH, W - head, headH - stageH);
    const search = this.ed.search;
    const dimmed = this.ed.board.grid.classList.contains('dimmed');
    const px = 1 / geo.s; // one overview pixel, in grid pixels
    lanes.forEach(({ lane, top, height, colour }, li) => {
      ctx.fillStyle = li % 2 ? '#eef1f4' : '#ffffff';
      ctx.fillRect(head, top, W - head, height);
      ctx.fillStyle = colour;
      ctx.fillRect(0, top + px / 2, head, height - px);
      if (lane.kind === 'emotions') return;
      // A dot per card, stacked down its cell, squeezed when the cell holds more than fits.
      columns.forEach((c, i) => {
        if (!c.step) return;
        const cards = this.ed.map.cells.get(`${lane.id}|${c.step.id}`) ?? [];
        if (!cards.length) return;
        const pitch = Math.min(3 * px, (height - 2 * px) / cards.length);
        cards.forEach((card, k) => {
          const lit = !dimmed || search?.isLit(card.id);
          ctx.fillStyle = !lit ? '#cdd3db' : search?.query.trim() ? '#d97706' : colour;
          ctx.fillRect(head + i * col + col * 0.15, top + px + k * pitch, col * 0.7, Math.max(px, pitch * 0.6));
        });
      });
    });
    this.drawFrame();
  }

  /** The cached picture and, over it, the rectangle on screen. */
  drawFrame() {
    const geo = this.geo;
    if (!geo || this.el.hidden) return;
    const dpr = window.devicePixelRatio || 1;
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.drawImage(this.base, 0, 0);
    const z = this.ed.zoom?.level ?? 1;
    const b = this.board;
    const k = dpr * geo.s / z;
    const x = b.scrollLeft * k;
    const y = b.scrollTop * k;
    const w = Math.min(b.clientWidth * k, this.canvas.width - x);
    const hgt = Math.min(b.clientHeight * k, this.canvas.height - y);
    ctx.fillStyle = 'rgb(31 95 168 / 0.12)';
    ctx.fillRect(x, y, w, hgt);
    ctx.strokeStyle = '#1f5fa8';
    ctx.lineWidth = 2 * dpr;
    ctx.strokeRect(x + dpr, y + dpr, Math.max(0, w - 2 * dpr), Math.max(0, hgt - 2 * dpr));
  }

  /** Press, drag: the board's visible rectangle centred on the point under the pointer. */
  pointer() {
    const moveTo = (e) => {
      const geo = this.geo;
      if (!geo) return;
      const r = this.canvas.getBoundingClientRect();
      const z = this.ed.zoom?.level ?? 1;
      const gx = (e.clientX - r.left) / geo.s;
      const gy = (e.clientY - r.top) / geo.s;
      const b = this.board;
      b.scrollTo({ left: gx * z - b.clientWidth / 2, top: gy * z - b.clientHeight / 2, behavior: 'instant' });
    };
    this.canvas.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      this.ed.follow?.breakAway(); // moving the board oneself
      this.canvas.setPointerCapture(e.pointerId);
      moveTo(e);
      const move = (ev) => moveTo(ev);
      const up = () => {
        this.canvas.removeEventListener('pointermove', move);
        this.canvas.removeEventListener('pointerup', up);
        this.canvas.removeEventListener('pointercancel', up);
      };
      this.canvas.addEventListener('pointermove', move);
      this.canvas.addEventListener('pointerup', up);
      this.canvas.addEventListener('pointercancel', up);
    });
  }
}

function readPref() {
  try {
    const v = localStorage.getItem(PREF);
    return v === 'on' ? true : v === 'off' ? false : null;
  } catch {
    return null;
  }
}
