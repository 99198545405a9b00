// Who is here: the people on the map, their pointers over the grid and what they have selected,
// carried in awareness states `{ user: { name, color, id }, cursor: { x, y }, selection }`.
import { h } from './dom.js';

const CURSOR_INTERVAL = 80; // ms between pointer updates: smooth enough, well under the server's rate limit

export class Presence {
  constructor(ed) {
    this.ed = ed;
    this.awareness = ed.session.awareness;
    this.avatars = h('div', { class: 'presence', dataset: { testid: 'presence' }, attrs: { 'aria-label': 'People on this map', role: 'list' } });
    this.cursorEls = new Map();
    this.awareness.on('change', () => this.render());
    this.trackPointer();
    this.render();
  }

  others() {
    const out = [];
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.awareness.clientID || !state?.user) continue;
      out.push({ clientId, ...state });
    }
    return out;
  }

  render() {
    const me = this.awareness.getLocalState()?.user;
    const others = this.others();
    // Pointer moves change states many times a second; the list of people only now and then.
    const sig = JSON.stringify([me, others.map((o) => [o.clientId, o.user])]);
    if (sig !== this.sig) {
      this.sig = sig;
      this.renderPeople(me, others);
    }
    this.renderCursors(others);
    this.renderSelections(others);
  }

  renderPeople(me, others) {
    const people = [
      h('span', { attrs: { role: 'listitem' } }, h('button', {
        class: 'avatar me', style: { background: me?.color }, title: `${me?.name} (you)`,
        dataset: { testid: 'avatar-me' }, disabled: !this.ed.canRename, onclick: () => this.ed.rename(),
      }, face(me?.name, ` (you)${this.ed.canRename ? ': change your name' : ''}`))),
      ...others.map((o) => h('span', {
        class: 'avatar', style: { background: o.user.color }, title: o.user.name,
        attrs: { role: 'listitem' }, dataset: { testid: 'avatar', name: o.user.name },
      }, face(o.user.name))),
    ];
    this.avatars.replaceChildren(...people);
  }

  renderCursors(others) {
    const layer = this.ed.board.cursors;
    const seen = new Set();
    for (const o of others) {
      if (!o.cursor || typeof o.cursor.x !== 'number' || typeof o.cursor.y !== 'number') continue;
      seen.add(o.clientId);
      let el = this.cursorEls.get(o.clientId);
      if (!el) {
        el = h('div', { class: 'cursor', dataset: { testid: 'cursor' } });
        el.innerHTML = '<svg width="18" height="22" viewBox="0 0 18 22"><path d="M1 1l15 9-7 1.5L5.5 20z" stroke="#fff" stroke-width="1.5"/></svg><span class="cursor-name"></span>';
        layer.append(el);
        this.cursorEls.set(o.clientId, el);
      }
      el.style.transform = `translate(${o.cursor.x}px, ${o.cursor.y}px)`;
      el.style.color = o.user.color;
      el.querySelector('path').setAttribute('fill', o.user.color);
      const name = el.querySelector('.cursor-name');
      name.textContent = o.user.name;
      name.style.background = o.user.color;
      el.dataset.name = o.user.name;
    }
    for (const [id, el] of this.cursorEls) {
      if (!seen.has(id)) {
        el.remove();
        this.cursorEls.delete(id);
      }
    }
  }

  renderSelections(others) {
    const grid = this.ed.board.grid;
    for (const el of grid.querySelectorAll('.remote-selected')) {
      el.classList.remove('remote-selected');
      el.style.removeProperty('--remote');
    }
    for (const tag of grid.querySelectorAll('.sel-tag')) tag.remove();
    for (const o of others) {
      const sel = o.selection;
      if (!sel || typeof sel.id !== 'string') continue;
      const prefix = { cards: 'card', steps: 'step', stages: 'stage', lanes: 'lane' }[sel.collection];
      const el = prefix && this.ed.board.els.get(`${prefix}:${sel.id}`);
      if (!el) continue;
      el.classList.add('remote-selected');
      el.style.setProperty('--remote', o.user.color);
      el.append(h('span', { class: 'sel-tag', style: { background: o.user.color }, text: o.user.name, dataset: { testid: 'selection-tag' } }));
    }
  }

  /** Re-applies others' selection marks after the grid re-rendered. */
  refresh() {
    this.renderSelections(this.others());
  }

  trackPointer() {
    const canvas = this.ed.board.canvas;
    let last = 0;
    let pending = null;
    const send = () => {
      pending = null;
      last = performance.now();
      this.awareness.setLocalStateField('cursor', this.cursor);
    };
    canvas.addEventListener('pointermove', (e) => {
      const r = canvas.getBoundingClientRect();
      this.cursor = { x: Math.round(e.clientX - r.left), y: Math.round(e.clientY - r.top) };
      const wait = CURSOR_INTERVAL - (performance.now() - last);
      if (wait <= 0) send();
      else if (!pending) pending = setTimeout(send, wait);
    });
    canvas.addEventListener('pointerleave', () => {
      clearTimeout(pending);
      pending = null;
      this.cursor = null;
      this.awareness.setLocalStateField('cursor', null);
    });
  }

  setSelection(selection) {
    this.awareness.setLocalStateField('selection', selection);
  }

  setName(name) {
    const user = this.awareness.getLocalState()?.user ?? {};
    this.awareness.setLocalStateField('user', { ...user, name });
  }
}

/** Initials to see, and the whole name (with `more`) for screen readers. */
function face(name, more = '') {
  return [h('span', { attrs: { 'aria-hidden': 'true' }, text: initials(name) }), h('span', { class: 'visually-hidden', text: `${name}${more}` })];
}

function initials(name = '?') {
  const parts = String(name).trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
}
