// Who is here: the people on the map, their pointers over the grid and what they have selected,
// raised hands and reactions, carried in awareness states `{ user: { name, color, id }, cursor,
// selection, view, hand, reaction }` (PROTOCOL.md §5).
import { h } from './dom.js';
import { initials, pickColour } from './colours.js';

const CURSOR_INTERVAL = 80; // ms between pointer updates: smooth enough, well under the server's rate limit
const SHOWN = 5; // others shown as avatars; the rest fold into "+N", so the bar never wraps
const REACTION_MS = 4000;
const LABEL_IDLE_MS = 2500; // a still pointer's name fades, so it does not sit on a card
export const REACTIONS = ['👍', '❤️', '🎉', '😂', '🤔', '👏'];

export class Presence {
  constructor(ed) {
    this.ed = ed;
    this.awareness = ed.session.awareness;
    this.avatars = h('div', { class: 'presence', dataset: { testid: 'presence' }, attrs: { 'aria-label': 'People on this map', role: 'list' } });
    this.cursorEls = new Map();
    this.chipEls = new Map();
    this.seenReactions = new Map(); // clientId → [at, shown until]: others' clocks differ from ours
    this.open = false;
    this.awareness.on('change', () => this.render());
    this.trackPointer();
    ed.board.el.addEventListener('scroll', () => this.renderCursors(this.others()), { passive: true });
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
    this.settleColour(me, others);
    const now = Date.now();
    for (const o of others) {
      const at = o.reaction?.at;
      if (typeof at !== 'number' || typeof o.reaction.emoji !== 'string') continue;
      if (this.seenReactions.get(o.clientId)?.[0] !== at) {
        this.seenReactions.set(o.clientId, [at, now + REACTION_MS]);
        setTimeout(() => this.render(), REACTION_MS + 50);
      }
    }
    const mine = this.awareness.getLocalState();
    // Pointer and view moves change states many times a second; the list of people only now and then.
    const sig = JSON.stringify([me, mine?.hand, this.reactionOf(mine, true), this.open,
      others.map((o) => [o.clientId, o.user, o.hand, this.reactionOf(o)])]);
    if (sig !== this.sig) {
      this.sig = sig;
      this.renderPeople(me, others);
    }
    this.renderCursors(others);
    this.renderSelections(others);
  }

  /** Two people hashed to one colour: the one with the higher client id takes a free colour. */
  settleColour(me, others) {
    if (!me) return;
    const taken = new Map(others.map((o) => [o.clientId, o.user.color]));
    const colour = pickColour(this.awareness.clientID, taken);
    if (colour !== me.color && [...taken.values()].includes(me.color)) {
      this.awareness.setLocalStateField('user', { ...me, color: colour });
    }
  }

  reactionOf(state, mine = false) {
    const r = state?.reaction;
    if (!r || typeof r.emoji !== 'string') return null;
    if (mine) return Date.now() - r.at < REACTION_MS ? r.emoji : null;
    const seen = this.seenReactions.get(state.clientId);
    return seen && seen[0] === r.at && Date.now() < seen[1] ? r.emoji : null;
  }

  /** Raised hands in the order they went up: clientId → 1, 2, … */
  handOrder(others) {
    const mine = this.awareness.getLocalState();
    const all = [...others, { clientId: this.awareness.clientID, ...mine }]
      .filter((o) => typeof o.hand === 'number').sort((a, b) => a.hand - b.hand);
    return new Map(all.map((o, i) => [o.clientId, i + 1]));
  }

  renderPeople(me, others) {
    const hands = this.handOrder(others);
    // Raised hands first, so the facilitator sees them even when the bar folds.
    const sorted = [...others].sort((a, b) => (hands.get(a.clientId) ?? 1e9) - (hands.get(b.clientId) ?? 1e9));
    const shown = sorted.length > SHOWN + 1 ? sorted.slice(0, SHOWN) : sorted;
    const folded = sorted.slice(shown.length);
    const mine = this.awareness.getLocalState();
    const items = [
      h('span', { class: 'person', attrs: { role: 'listitem' } }, h('button', {
        class: 'avatar me', style: { background: me?.color }, title: `${me?.name} (you)`,
        dataset: { testid: 'avatar-me' }, disabled: !this.ed.canRename, onclick: () => this.ed.rename(),
      }, face(me?.name, ` (you)${this.ed.canRename ? ': change your name' : ''}`)), marks(hands.get(this.awareness.clientID), this.reactionOf(mine, true))),
      ...shown.map((o) => this.person(o, hands.get(o.clientId))),
    ];
    if (folded.length) {
      const list = h('div', { class: 'people-more', hidden: !this.open, dataset: { testid: 'people-more' } },
        ...folded.map((o) => h('button', {
          class: 'ghost person-row', dataset: { testid: 'person-row', name: o.user.name }, onclick: () => this.jump(o.clientId),
        }, h('span', { class: 'dot', style: { background: o.user.color } }), o.user.name, hands.has(o.clientId) ? ` ✋${hands.get(o.clientId)}` : '')));
      items.push(h('span', { class: 'person', attrs: { role: 'listitem' } },
        h('button', {
          class: 'avatar more', text: `+${folded.length}`, title: `${folded.length} more: ${folded.map((o) => o.user.name).join(', ')}`,
          dataset: { testid: 'avatar-more' }, attrs: { 'aria-expanded': String(this.open) },
          onclick: () => { this.open = !this.open; this.render(); },
        }), list));
    }
    this.avatars.replaceChildren(...items);
  }

  person(o, hand) {
    return h('span', { class: 'person', attrs: { role: 'listitem' } },
      h('button', {
        class: 'avatar', style: { background: o.user.color }, title: `${o.user.name}: go to what they see`,
        dataset: { testid: 'avatar', name: o.user.name }, onclick: () => this.jump(o.clientId),
      }, face(o.user.name, hand ? `, hand raised (${hand})` : '')),
      marks(hand, this.reactionOf(o)));
  }

  jump(clientId) {
    this.open = false;
    this.ed.follow?.jumpTo(clientId);
    this.render();
  }

  renderCursors(others) {
    const layer = this.ed.board.cursors;
    const board = this.ed.board.el;
    const view = { left: board.scrollLeft, top: board.scrollTop, right: board.scrollLeft + board.clientWidth, bottom: board.scrollTop + board.clientHeight };
    const zoom = this.ed.follow?.zoom ?? 1;
    const seen = new Set();
    const offscreen = new Set();
    for (const o of others) {
      if (!o.cursor || typeof o.cursor.x !== 'number' || typeof o.cursor.y !== 'number') continue;
      seen.add(o.clientId);
      let el = this.cursorEls.get(o.clientId);
      if (!el) {
        el = h('div', { class: 'cursor', dataset: { testid: 'cursor' } });
        el.innerHTML = '<svg width="16" height="20" viewBox="0 0 18 22"><path d="M1 1l15 9-7 1.5L5.5 20z" stroke="#fff" stroke-width="1.5"/></svg><span class="cursor-name"></span>';
        layer.append(el);
        this.cursorEls.set(o.clientId, el);
      }
      const at = `${o.cursor.x},${o.cursor.y}`;
      if (el._at !== at) {
        el._at = at;
        el.style.transform = `translate(${o.cursor.x}px, ${o.cursor.y}px)`;
        el.classList.remove('idle');
        clearTimeout(el._idle);
        el._idle = setTimeout(() => el.classList.add('idle'), LABEL_IDLE_MS);
      }
      el.style.color = o.user.color;
      el.querySelector('path').setAttribute('fill', o.user.color);
      const name = el.querySelector('.cursor-name');
      if (name.textContent !== o.user.name) name.textContent = o.user.name;
      name.style.background = o.user.color;
      el.dataset.name = o.user.name;
      const x = o.cursor.x * zoom;
      const y = o.cursor.y * zoom;
      if (x < view.left || x > view.right || y < view.top || y > view.bottom) {
        offscreen.add(o.clientId);
        this.chip(o, x, y, view);
      }
    }
    for (const [id, el] of this.cursorEls) {
      if (!seen.has(id)) {
        clearTimeout(el._idle);
        el.remove();
        this.cursorEls.delete(id);
      }
    }
    for (const [id, el] of this.chipEls) {
      if (!offscreen.has(id)) {
        el.remove();
        this.chipEls.delete(id);
      }
    }
  }

  /** A small chip at the board's edge pointing at someone whose pointer is out of sight. */
  chip(o, x, y, view) {
    let el = this.chipEls.get(o.clientId);
    if (!el) {
      el = h('button', { class: 'edge-chip', dataset: { testid: 'edge-chip' } });
      el.addEventListener('click', () => {
        const c = this.others().find((p) => p.clientId === o.clientId)?.cursor;
        const board = this.ed.board.el;
        const zoom = this.ed.follow?.zoom ?? 1; // the cursor is in grid pixels at zoom 1, the scroll is not
        if (c) board.scrollTo({ left: c.x * zoom - board.clientWidth / 2, top: c.y * zoom - board.clientHeight / 2, behavior: 'smooth' });
      });
      this.ed.edgeLayer.append(el);
      this.chipEls.set(o.clientId, el);
    }
    const w = view.right - view.left;
    const hgt = view.bottom - view.top;
    const cx = Math.min(Math.max(x - view.left, 8), w - 60);
    const cy = Math.min(Math.max(y - view.top, 8), hgt - 30);
    const arrow = x < view.left ? '←' : x > view.right ? '→' : y < view.top ? '↑' : '↓';
    el.textContent = `${arrow} ${initials(o.user.name)}`;
    el.title = `${o.user.name} is pointing out of sight: go there`;
    el.dataset.name = o.user.name;
    el.style.background = o.user.color;
    el.style.transform = `translate(${Math.round(cx)}px, ${Math.round(cy)}px)`;
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
      const zoom = this.ed.follow?.zoom ?? 1;
      this.cursor = { x: Math.round((e.clientX - r.left) / zoom), y: Math.round((e.clientY - r.top) / zoom) };
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

  get handRaised() {
    return typeof this.awareness.getLocalState()?.hand === 'number';
  }

  toggleHand() {
    this.awareness.setLocalStateField('hand', this.handRaised ? null : Date.now());
  }

  react(emoji) {
    this.awareness.setLocalStateField('reaction', { emoji, at: Date.now() });
    setTimeout(() => this.render(), REACTION_MS + 50);
  }
}

/** A raised hand (with its place in the queue) and a passing reaction, over an avatar. */
function marks(hand, reaction) {
  return [
    hand ? h('span', { class: 'hand', dataset: { testid: 'hand' }, title: `Hand raised, ${ordinal(hand)}`, text: `✋${hand}` }) : null,
    reaction ? h('span', { class: 'reaction', dataset: { testid: 'reaction' }, text: reaction }) : null,
  ];
}

function ordinal(n) {
  return n === 1 ? 'first' : n === 2 ? 'second' : n === 3 ? 'third' : `number ${n}`;
}

/** Initials to see, and the whole name (with `more`) for screen readers. */
function face(name, more = '') {
  return [h('span', { attrs: { 'aria-hidden': 'true' }, text: initials(name) }), h('span', { class: 'visually-hidden', text: `${name}${more}` })];
}
