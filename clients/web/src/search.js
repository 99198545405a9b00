// Finding cards by their text (the view bar's field; Ctrl/⌘+F on the board goes to it), and what the search and the filters light:
// matching cards are marked, the others dimmed, Enter and Shift+Enter go to the next and previous
// match in reading order (column by column, lane by lane), "3 of 12" counts them.
import { h } from './dom.js';

let instances = 0;

export class Search {
  constructor(ed, filters) {
    this.ed = ed;
    this.filters = filters;
    this.query = '';
    this.hits = []; // card ids, in reading order
    this.current = -1;
    this.lit = new Set(); // elements marked now, so a refresh touches only what changes
    this.build();
    document.addEventListener('keydown', (e) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.key.toLowerCase() !== 'f') return;
      // Only on the board: elsewhere (a panel, a dialog) the browser's own find is what is wanted.
      const at = document.activeElement;
      if (at && at !== document.body && !this.ed.boardArea?.contains(at)) return;
      e.preventDefault();
      this.open();
    });
  }

  build() {
    const id = `search-${++instances}`;
    this.input = h('input', {
      type: 'search', id, class: 'search-input', placeholder: 'Find cards', autocomplete: 'off',
      attrs: { 'aria-label': 'Find cards by text' }, dataset: { testid: 'search-input' },
    });
    this.count = h('span', { class: 'search-count', dataset: { testid: 'search-count' }, attrs: { role: 'status', 'aria-live': 'polite' } });
    this.input.addEventListener('input', () => {
      this.query = this.input.value;
      this.current = -1;
      this.refresh();
      if (this.hits.length) this.go(0);
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.go(this.current + (e.shiftKey ? -1 : 1));
      } else if (e.key === 'Escape') {
        e.preventDefault();
        this.close();
      }
    });
    const button = (text, label, testid, onclick) => h('button', { class: 'ghost small icon', text, title: label, attrs: { 'aria-label': label }, dataset: { testid }, onclick });
    this.buttons = [
      button('↑', 'Previous match (Shift+Enter)', 'search-prev', () => this.go(this.current - 1)),
      button('↓', 'Next match (Enter)', 'search-next', () => this.go(this.current + 1)),
      button('✕', 'Clear the search (Escape)', 'search-clear', () => this.close()),
    ];
    this.el = h('div', { class: 'search', dataset: { testid: 'search' }, attrs: { role: 'search', 'aria-label': 'Find cards' } },
      h('span', { class: 'search-icon', text: '⌕', attrs: { 'aria-hidden': 'true' } }), this.input, this.count, this.buttons);
    this.renderCount();
  }

  /** Ctrl/⌘+F: to the search field, its text selected to type over. */
  open() {
    this.input.focus();
    this.input.select();
  }

  /** Ends the search; the card last shown takes the focus, so the keyboard goes on from there. */
  close() {
    const at = this.hits[this.current];
    this.input.value = '';
    this.query = '';
    this.refresh();
    const el = at && this.ed.board.els.get(`card:${at}`);
    if (el) el.focus({ preventScroll: true });
  }

  /** Shows the i-th match (wrapping around). */
  go(i) {
    const n = this.hits.length;
    if (!n) return;
    this.current = ((i % n) + n) % n;
    this.mark();
    this.renderCount();
    const el = this.ed.board.els.get(`card:${this.hits[this.current]}`);
    if (!el) return;
    this.ed.follow?.breakAway(); // going somewhere oneself
    el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
  }

  /**
   * Recomputes the matches and what is lit, after a render or a change of query or filters. With
   * neither on it does nothing, so an ordinary render pays nothing for it.
   */
  refresh() {
    const q = this.query.trim().toLocaleLowerCase();
    const filtering = this.filters.active > 0;
    const grid = this.ed.board.grid;
    if (!q && !filtering) {
      if (this.lit.size || this.hits.length || grid.classList.contains('dimmed')) {
        for (const el of this.lit) el.classList.remove('lit', 'hit', 'current-hit');
        this.lit.clear();
        this.hits = [];
        this.current = -1;
        grid.classList.remove('dimmed', 'searching');
      }
      this.renderCount();
      this.ed.minimap?.schedule();
      return;
    }
    const pass = this.filters.tester();
    const map = this.ed.map;
    const previous = this.hits[this.current];
    const hits = [];
    const lit = new Set();
    // Reading order: the board's columns, then its lanes, then each cell's order.
    for (const column of this.ed.board.columns ?? []) {
      if (!column.step) continue;
      for (const lane of map.lanes) {
        for (const card of map.cells.get(`${lane.id}|${column.step.id}`) ?? []) {
          if (!pass(card)) continue;
          if (q && !(card.text ?? '').toLocaleLowerCase().includes(q)) continue;
          hits.push(card.id);
          const el = this.ed.board.els.get(`card:${card.id}`);
          if (el) lit.add(el);
        }
      }
    }
    for (const el of this.lit) if (!lit.has(el)) el.classList.remove('lit', 'hit', 'current-hit');
    for (const el of lit) {
      if (!this.lit.has(el)) el.classList.add('lit');
      el.classList.toggle('hit', !!q);
    }
    this.lit = lit;
    this.hits = hits;
    // The match shown stays the one shown while others' edits come and go.
    const keep = previous ? hits.indexOf(previous) : -1;
    this.current = keep >= 0 ? keep : Math.min(this.current, hits.length - 1);
    grid.classList.add('dimmed');
    grid.classList.toggle('searching', !!q);
    this.mark();
    this.renderCount();
    this.ed.minimap?.schedule();
  }

  mark() {
    const id = this.hits[this.current];
    for (const el of this.ed.board.grid.querySelectorAll('.current-hit')) if (el.dataset.id !== id) el.classList.remove('current-hit');
    if (id && this.query.trim()) this.ed.board.els.get(`card:${id}`)?.classList.add('current-hit');
  }

  /** Whether a card is lit now (for the overview): all are, with neither search nor filters. */
  isLit(id) {
    return !this.ed.board.grid.classList.contains('dimmed') || this.lit.has(this.ed.board.els.get(`card:${id}`));
  }

  renderCount() {
    const q = this.query.trim();
    const n = this.hits.length;
    const text = !q ? '' : !n ? 'No match' : this.current >= 0 ? `${this.current + 1} of ${n}` : `${n} found`;
    if (this.count.textContent !== text) this.count.textContent = text;
    for (const b of this.buttons) b.disabled = !q;
    this.buttons[0].disabled = this.buttons[1].disabled = n < 1 || !q;
  }
}
