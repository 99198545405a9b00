// The details panel: every field of the selected card, step, stage or lane, and the personas.
// Fields write on change (text fields as you type, through Y.Text for a card's text).
import { h } from './dom.js';
import * as M from './model.js';
import { bindText } from './textbind.js';
import { endStepField } from './spans.js';
import { renderTypedDetails } from './measurespanel.js';
import { personaChannelsField } from './channelspanel.js';

const LANE_NAMES = new Map(M.LANE_KINDS);
let uid = 0;

function field(label, control) {
  const id = `f${++uid}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { attrs: { for: id }, text: label }), control);
}

/** A text input (or textarea) writing `key` of an entity as the user types. */
function textField(ed, collection, id, key, label, value, { long = false, type = 'text' } = {}) {
  const control = long
    ? h('textarea', { value: value ?? '', rows: 3 })
    : h('input', { type, value: value ?? '' });
  control.disabled = ed.readOnly;
  control.dataset.testid = `field-${key}`;
  control.addEventListener(type === 'date' ? 'change' : 'input', () => M.update(ed.doc, collection, id, { [key]: control.value.trim() ? control.value : null }));
  return field(label, control);
}

function selectField(ed, collection, id, key, label, value, options, { number = false, blank = '—' } = {}) {
  const control = h('select', {}, h('option', { value: '', text: blank }),
    ...options.map(([v, text]) => h('option', { value: String(v), text, selected: String(value ?? '') === String(v) })));
  control.disabled = ed.readOnly;
  control.dataset.testid = `field-${key}`;
  control.addEventListener('change', () => {
    const v = control.value === '' ? null : number ? Number(control.value) : control.value;
    M.update(ed.doc, collection, id, { [key]: v });
  });
  return field(label, control);
}

const scale = (words) => [1, 2, 3, 4, 5].map((n) => [n, `${n} — ${words[n - 1]}`]);

/** Renders the details of `ed.selection` into `el`; returns a cleanup function. */
export function renderDetails(el, ed) {
  const sel = ed.selection;
  const entity = sel && ed.entity(sel.collection, sel.id);
  if (!entity) {
    el.replaceChildren(h('p', { class: 'muted', text: ed.readOnly
      ? 'Select a card, step or lane to see its details.'
      : 'Select a card, step or lane to edit its details. Double-click a card or press Enter to write on it; drag cards between cells, or move them with Alt + arrow keys.' }));
    return () => {};
  }
  if (sel.collection === 'touchpoints' || sel.collection === 'metrics') {
    renderTypedDetails(el, ed, sel, entity);
    return () => {};
  }
  const cleanups = [];
  const parts = [];
  if (sel.collection === 'cards') parts.push(...cardDetails(ed, entity, cleanups));
  else if (sel.collection === 'lanes') {
    parts.push(h('h3', { text: 'Lane' }),
      textField(ed, 'lanes', entity.id, 'name', 'Name', entity.name),
      selectField(ed, 'lanes', entity.id, 'kind', 'Kind', entity.kind, M.LANE_KINDS, { blank: 'Text' }),
      selectField(ed, 'lanes', entity.id, 'personaId', 'Persona', entity.personaId, ed.map.personas.map((p) => [p.id, p.name]), { blank: 'All personas' }));
  } else {
    const what = sel.collection === 'steps' ? 'Step' : 'Stage';
    parts.push(h('h3', { text: what }),
      textField(ed, sel.collection, entity.id, 'name', 'Name', entity.name),
      textField(ed, sel.collection, entity.id, 'description', 'Description', entity.description, { long: true }));
    if (sel.collection === 'steps') {
      parts.push(selectField(ed, 'steps', entity.id, 'stageId', 'Stage', entity.stageId, ed.map.stages.map((s) => [s.id, s.name]), { blank: 'No stage' }));
    }
  }
  if (!ed.readOnly) {
    parts.push(h('div', { class: 'details-actions' },
      h('button', { class: 'danger', text: `Delete ${sel.collection === 'cards' ? 'card' : sel.collection.slice(0, -1)}`, dataset: { testid: 'delete-selected' },
        onclick: () => ed.deleteEntity(sel.collection, sel.id) })));
  }
  el.replaceChildren(...parts);
  return () => cleanups.forEach((f) => f());
}

function cardDetails(ed, card, cleanups) {
  const lane = ed.map.lanes.find((l) => l.id === card.laneId);
  const kind = lane?.kind ?? 'text';
  const text = h('textarea', { rows: 4, attrs: { 'aria-label': 'Card text' }, dataset: { testid: 'details-text' } });
  text.disabled = ed.readOnly;
  const ytext = ed.readOnly ? null : ed.cardText(card.id);
  // Owned by the element: a redraw while it is typed in keeps it and its binding (panelkeep.js).
  if (ytext) {
    text._unbind = bindText(text, ytext, ed.doc);
    text._ytext = ytext;
    cleanups.push(() => text._unbind?.());
  }
  else text.value = card.text;
  // Where the card is: also how a card whose lane or step is gone (SCHEMA.md §7) is placed again.
  const place = (key, options, current) => {
    const control = h('select', { dataset: { testid: `field-${key}` } },
      options.some(([v]) => v === current) ? null : h('option', { value: '', text: 'Not placed', selected: true }),
      ...options.map(([v, label]) => h('option', { value: v, text: label, selected: v === current })));
    control.disabled = ed.readOnly;
    control.addEventListener('change', () => {
      const lane = key === 'laneId' ? control.value : card.laneId;
      const step = key === 'stepId' ? control.value : card.stepId;
      if (control.value) ed.moveCard(card.id, lane, step, Infinity);
    });
    return field(key === 'laneId' ? 'Lane' : 'Step', control);
  };
  const out = [
    h('h3', { text: `${LANE_NAMES.get(kind) ?? 'Card'} card` }),
    field('Text', text),
    h('div', { class: 'field-row' },
      place('laneId', ed.map.lanes.filter((l) => l.kind !== 'emotions').map((l) => [l.id, l.name || LANE_NAMES.get(l.kind) || l.kind]), card.laneId),
      place('stepId', ed.map.steps.map((s) => [s.id, s.name || 'Untitled step']), card.stepId)),
    endStepField(ed, card),
    h('div', { class: 'field-row' },
      selectField(ed, 'cards', card.id, 'evidence', 'Evidence', card.evidence, M.EVIDENCE.map((e) => [e, e]), { blank: 'hypothesis' }),
      textField(ed, 'cards', card.id, 'evidenceSource', 'Evidence source', card.evidenceSource)),
  ];
  if (kind === 'pain-points' || card.severity !== null) {
    out.push(selectField(ed, 'cards', card.id, 'severity', 'Severity', card.severity, scale(['minor', 'annoying', 'serious', 'severe', 'critical']), { number: true }));
  }
  if (kind === 'opportunities' || kind === 'improvements' || card.impact !== null || card.effort !== null) {
    out.push(h('div', { class: 'field-row' },
      selectField(ed, 'cards', card.id, 'impact', 'Impact', card.impact, scale(['tiny', 'small', 'medium', 'large', 'huge']), { number: true }),
      selectField(ed, 'cards', card.id, 'effort', 'Effort', card.effort, scale(['trivial', 'small', 'medium', 'large', 'huge']), { number: true })));
  }
  if (kind === 'improvements' || kind === 'opportunities' || card.status) {
    out.push(selectField(ed, 'cards', card.id, 'status', 'Status', card.status, M.STATUSES.map((s) => [s, s.replace('-', ' ')])),
      h('div', { class: 'field-row' },
        textField(ed, 'cards', card.id, 'owner', 'Owner', card.owner),
        textField(ed, 'cards', card.id, 'due', 'Due', card.due, { type: 'date' })));
  }
  if (kind === 'images' || card.imageUrl) out.push(textField(ed, 'cards', card.id, 'imageUrl', 'Picture URL (https)', card.imageUrl));
  if (ed.map.personas.length) {
    out.push(selectField(ed, 'cards', card.id, 'personaId', 'Persona', card.personaId, ed.map.personas.map((p) => [p.id, p.name]), { blank: 'All personas' }));
  }
  out.push(linkSection(ed, card, kind));
  return out;
}

/** Links between cards: what addresses a pain point, what implements an opportunity. */
function linkSection(ed, card, kind) {
  const map = ed.map;
  const laneKind = (c) => map.lanes.find((l) => l.id === c.laneId)?.kind;
  const name = (id) => map.cards.get(id)?.text || 'a removed card';
  const rows = map.links.filter((l) => l.from === card.id || l.to === card.id).map((l) => {
    const other = l.from === card.id ? l.to : l.from;
    const verb = l.kind === 'addresses' ? (l.from === card.id ? 'Addresses' : 'Addressed by')
      : l.kind === 'implements' ? (l.from === card.id ? 'Implements' : 'Implemented by') : 'Related to';
    return h('li', { dataset: { testid: 'link' } },
      h('button', { class: 'linklike', text: `${verb}: ${name(other)}`, onclick: () => ed.select('cards', other, true) }),
      ed.readOnly ? null : h('button', { class: 'ghost small', text: 'Unlink', dataset: { testid: 'unlink' }, attrs: { 'aria-label': `Unlink ${name(other)}` }, onclick: () => M.deleteLink(ed.doc, l.id) }));
  });
  const section = h('section', { class: 'links' }, h('h3', { text: 'Links' }), rows.length ? h('ul', {}, ...rows) : h('p', { class: 'muted', text: 'Not linked to other cards.' }));
  if (ed.readOnly) return section;
  // Candidates: for a pain point, opportunities and actions; for an opportunity, pain points and
  // actions; for an action, opportunities and pain points; otherwise any card.
  const wanted = {
    'pain-points': ['opportunities', 'improvements'],
    opportunities: ['pain-points', 'improvements'],
    improvements: ['opportunities', 'pain-points'],
  }[kind];
  // Cards already linked to this one (a card linked elsewhere may still be linked here).
  const linked = new Set(map.links.filter((l) => l.from === card.id || l.to === card.id).flatMap((l) => [l.from, l.to]).filter((x) => x !== card.id));
  const candidates = [...map.cards.values()].filter((c) => c.id !== card.id && !linked.has(c.id) && (!wanted || wanted.includes(laneKind(c))));
  if (!candidates.length) return section;
  const select = h('select', { attrs: { 'aria-label': 'Card to link' }, dataset: { testid: 'link-target' } },
    h('option', { value: '', text: wanted ? `Link ${kind === 'pain-points' ? 'an opportunity or action' : kind === 'opportunities' ? 'a pain point or action' : 'an opportunity or pain point'}…` : 'Link a card…' }),
    ...candidates.slice(0, 500).map((c) => h('option', { value: c.id, text: `${(map.lanes.find((l) => l.id === c.laneId)?.name ?? '')}: ${c.text.slice(0, 60) || 'empty card'}` })));
  select.addEventListener('change', () => {
    const other = map.cards.get(select.value);
    if (!other) return;
    const otherKind = laneKind(other);
    // The direction and kind SCHEMA.md §5.11 defines.
    if (otherKind === 'opportunities' && kind === 'pain-points') M.addLink(ed.doc, other.id, card.id, 'addresses');
    else if (kind === 'opportunities' && otherKind === 'pain-points') M.addLink(ed.doc, card.id, other.id, 'addresses');
    else if (otherKind === 'improvements' && kind === 'opportunities') M.addLink(ed.doc, other.id, card.id, 'implements');
    else if (kind === 'improvements' && otherKind === 'opportunities') M.addLink(ed.doc, card.id, other.id, 'implements');
    else if (otherKind === 'improvements' && kind === 'pain-points') M.addLink(ed.doc, other.id, card.id, 'addresses');
    else if (kind === 'improvements' && otherKind === 'pain-points') M.addLink(ed.doc, card.id, other.id, 'addresses');
    else M.addLink(ed.doc, card.id, other.id, 'relates');
  });
  section.append(select);
  return section;
}

/** The personas panel: every persona's fields, add and delete. */
export function renderPersonas(el, ed) {
  const parts = [];
  for (const p of ed.map.personas) {
    parts.push(h('details', { class: 'persona-block', open: ed.map.personas.length <= 2, dataset: { testid: 'persona', id: p.id } },
      h('summary', { text: p.name || 'Unnamed persona' }),
      textField(ed, 'personas', p.id, 'name', 'Name', p.name),
      textField(ed, 'personas', p.id, 'description', 'Background', p.description, { long: true }),
      textField(ed, 'personas', p.id, 'goals', 'Goals', p.goals, { long: true }),
      textField(ed, 'personas', p.id, 'needs', 'Needs', p.needs, { long: true }),
      textField(ed, 'personas', p.id, 'challenges', 'Challenges', p.challenges, { long: true }),
      selectField(ed, 'personas', p.id, 'lifecycleStage', 'Lifecycle stage', p.lifecycleStage, M.LIFECYCLE.map((s) => [s, s])),
      personaChannelsField(ed, p),
      ed.readOnly ? null : h('div', { class: 'details-actions' },
        h('button', { class: 'danger', text: 'Delete persona', onclick: () => ed.deleteEntity('personas', p.id) }))));
  }
  if (!parts.length) parts.push(h('p', { class: 'muted', text: 'No personas yet.' }));
  if (!ed.readOnly) {
    parts.push(h('button', { class: 'primary', text: '+ Add persona', dataset: { testid: 'add-persona' },
      onclick: () => M.addPersona(ed.doc, ed.map.personas, 'New persona') }));
  }
  el.replaceChildren(...parts);
}
