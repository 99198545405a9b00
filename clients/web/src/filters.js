// Filters over the cards: by lane kind, persona, evidence level, severity and owner. Cards that do
// not pass are dimmed, not removed, so the map keeps its shape and nobody loses their place; a
// filter is this page's own view and is not shared with others.
import { h } from './dom.js';
import * as M from './model.js';

let instances = 0;
const EVIDENCE = ['hypothesis', 'reported', 'observed', 'validated'];
const FIELDS = ['kind', 'persona', 'evidence', 'severity', 'owner'];

export class Filters {
  /** `onChange` is called whenever what passes may have changed. */
  constructor(ed, onChange) {
    this.ed = ed;
    this.onChange = onChange;
    this.state = Object.fromEntries(FIELDS.map((f) => [f, '']));
    this.n = ++instances;
    this.build();
    document.addEventListener('pointerdown', (e) => {
      if (!this.menu.hidden && !this.el.contains(e.target)) this.close();
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.menu.hidden && !e.target?.closest?.('dialog')) this.close(this.el.contains(e.target));
    });
  }

  /** How many filters are set. */
  get active() {
    return FIELDS.filter((f) => this.state[f]).length;
  }

  /** A test for cards, made once per pass over the map (the lanes looked up by id). */
  tester() {
    const s = this.state;
    if (!this.active) return () => true;
    const lanes = new Map(this.ed.map.lanes.map((l) => [l.id, l]));
    const severity = s.severity ? Number(s.severity) : 0;
    return (card) => {
      const lane = lanes.get(card.laneId);
      if (s.kind && lane?.kind !== s.kind) return false;
      if (s.persona && card.personaId !== s.persona && lane?.personaId !== s.persona) return false;
      if (s.evidence && (card.evidence ?? 'hypothesis') !== s.evidence) return false;
      if (severity && !(card.severity >= severity)) return false;
      if (s.owner && (card.owner ?? '') !== s.owner) return false;
      return true;
    };
  }

  build() {
    const id = (f) => `filter-${f}-${this.n}`;
    this.selects = {};
    const field = (f, label) => {
      const select = h('select', { id: id(f), dataset: { testid: `filter-${f}` }, onchange: () => this.set(f, select.value) });
      this.selects[f] = select;
      return h('div', { class: 'filter-field' }, h('label', { for: id(f), text: label }), select);
    };
    this.button = h('button', {
      class: 'ghost small filter-button', dataset: { testid: 'filter-button' },
      attrs: { 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'aria-controls': `filter-menu-${this.n}` },
      onclick: () => (this.menu.hidden ? this.open() : this.close()),
    });
    this.clearButton = h('button', {
      class: 'ghost small icon filter-clear', text: '✕', hidden: true, title: 'Clear the filters',
      attrs: { 'aria-label': 'Clear filters' }, dataset: { testid: 'filter-clear' }, onclick: () => this.clear(),
    });
    this.menu = h('div', {
      id: `filter-menu-${this.n}`, class: 'filter-menu', hidden: true, dataset: { testid: 'filter-menu' },
      attrs: { role: 'dialog', 'aria-label': 'Filter cards' },
    },
    h('p', { class: 'filter-hint', text: 'Cards that do not match are dimmed.' }),
    field('kind', 'Lane kind'), field('persona', 'Persona'), field('evidence', 'Evidence'),
    field('severity', 'Severity'), field('owner', 'Owner'),
    h('div', { class: 'filter-actions' },
      h('button', { class: 'small', text: 'Clear all', dataset: { testid: 'filter-clear-all' }, onclick: () => this.clear() }),
      h('button', { class: 'small primary', text: 'Done', onclick: () => this.close(true) })));
    this.el = h('div', { class: 'filters', dataset: { on: 'false' } }, this.button, this.clearButton, this.menu);
    this.renderButton();
  }

  /** The choices, from what the map holds now (kinds with lanes, owners of cards). */
  fillOptions() {
    const map = this.ed.map;
    const kinds = new Set(map.lanes.filter((l) => l.kind !== 'emotions').map((l) => l.kind));
    const owners = new Set();
    for (const c of map.cards.values()) if (c.owner) owners.add(c.owner);
    const names = new Map(M.LANE_KINDS);
    const options = {
      kind: [...kinds].map((k) => [k, names.get(k) ?? k]),
      persona: map.personas.map((p) => [p.id, p.name || 'Persona']),
      evidence: EVIDENCE.map((e) => [e, e[0].toUpperCase() + e.slice(1)]),
      severity: [5, 4, 3, 2, 1].map((n) => [String(n), n === 5 ? '5 only' : `${n} or more`]),
      owner: [...owners].sort((a, b) => a.localeCompare(b)).map((o) => [o, o]),
    };
    for (const f of FIELDS) {
      const list = options[f];
      // A filter set on something since removed stays visible, so it can be cleared.
      if (this.state[f] && !list.some(([v]) => v === this.state[f])) list.push([this.state[f], this.state[f]]);
      this.selects[f].replaceChildren(h('option', { value: '', text: 'Any' }), ...list.map(([v, t]) => h('option', { value: v, text: t })));
      this.selects[f].value = this.state[f];
    }
  }

  open() {
    this.fillOptions();
    this.menu.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.selects.kind.focus();
  }

  close(refocus = false) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    if (refocus) this.button.focus();
  }

  set(field, value) {
    this.state[field] = value;
    this.renderButton();
    this.onChange();
  }

  clear() {
    for (const f of FIELDS) this.state[f] = '';
    for (const s of Object.values(this.selects)) s.value = '';
    this.renderButton();
    this.onChange();
  }

  renderButton() {
    const n = this.active;
    this.button.textContent = n ? `Filters on · ${n}` : 'Filter';
    this.button.setAttribute('aria-label', n ? `Filters: ${n} on` : 'Filter cards');
    this.button.classList.toggle('on', n > 0);
    this.clearButton.hidden = !n;
    this.el.dataset.on = String(n > 0);
  }
}
