// The journey map as the editor sees it (read from the Y.Doc per SCHEMA.md) and every edit the
// editor makes, each one transaction, following SCHEMA.md §6.
import * as Y from 'yjs';
import { between, byRank, sortByRank } from './rank.js';
import { personaChannels, readMeasures } from './measures.js';

/** Transaction origin of this editor's own edits: what undo tracks. */
export const LOCAL = Symbol('local edit');

export const COLLECTIONS = ['meta', 'personas', 'stages', 'steps', 'lanes', 'cards', 'links', 'emotions', 'channels', 'touchpoints', 'metrics', 'measurements', 'comments'];

export const LANE_KINDS = [
  ['actions', 'Customer actions'],
  ['touchpoints', 'Touchpoints'],
  ['channels', 'Channels'],
  ['thoughts', 'Thoughts'],
  ['feelings', 'Feelings and quotes'],
  ['emotions', 'Emotion curve'],
  ['pain-points', 'Pain points'],
  ['opportunities', 'Opportunities'],
  ['improvements', 'Improvement actions'],
  ['metrics', 'Metrics'],
  ['frontstage', 'Frontstage'],
  ['backstage', 'Backstage'],
  ['support', 'Support processes'],
  ['text', 'Text'],
  ['images', 'Images'],
];
export const EVIDENCE = ['hypothesis', 'reported', 'observed', 'validated'];
export const STATUSES = ['open', 'planned', 'in-progress', 'done', 'dropped'];
export const LIFECYCLE = ['prospect', 'new', 'active', 'loyal', 'at-risk', 'churned'];

const ID_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A new random entity id (SCHEMA.md §2): 12 base-62 characters. */
export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => ID_CHARS[b % 62]).join('');
}

const str = (v) => (typeof v === 'string' ? v : v instanceof Y.Text ? v.toString() : '');
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const opt = (v) => (typeof v === 'string' && v !== '' ? v : null);

function entities(doc, name, read) {
  const out = [];
  doc.getMap(name).forEach((value, id) => {
    if (value instanceof Y.Map) out.push({ id, ...read(value) });
  });
  return out;
}

/** Reads the whole map into plain, sorted objects. */
export function readMap(doc) {
  const meta = doc.getMap('meta');
  const personas = entities(doc, 'personas', (m) => ({
    name: str(m.get('name')), description: str(m.get('description')), goals: str(m.get('goals')),
    needs: str(m.get('needs')), challenges: str(m.get('challenges')), lifecycleStage: str(m.get('lifecycleStage')), rank: m.get('rank'),
    channels: m.get('channels'),
  })).sort(byRank);
  const stages = entities(doc, 'stages', (m) => ({ name: str(m.get('name')), description: str(m.get('description')), rank: m.get('rank') })).sort(byRank);
  const stageIds = new Set(stages.map((s) => s.id));
  const steps = entities(doc, 'steps', (m) => ({
    stageId: str(m.get('stageId')), name: str(m.get('name')), description: str(m.get('description')), rank: m.get('rank'),
  }));
  // Columns: steps in stage order, then rank; steps of a missing stage go in an "Unsorted" group.
  const stageOrder = new Map(stages.map((s, i) => [s.id, i]));
  steps.sort((a, b) => (stageOrder.get(a.stageId) ?? 1e9) - (stageOrder.get(b.stageId) ?? 1e9) || byRank(a, b));
  const lanes = entities(doc, 'lanes', (m) => ({
    kind: str(m.get('kind')) || 'text', name: str(m.get('name')), personaId: opt(m.get('personaId')), rank: m.get('rank'),
  })).sort(byRank);
  const cards = entities(doc, 'cards', (m) => {
    const text = m.get('text');
    return {
      laneId: str(m.get('laneId')), stepId: str(m.get('stepId')), endStepId: opt(m.get('endStepId')), rank: m.get('rank'),
      text: str(text), ytext: text instanceof Y.Text ? text : null, personaId: opt(m.get('personaId')),
      evidence: opt(m.get('evidence')), evidenceSource: opt(m.get('evidenceSource')),
      severity: num(m.get('severity')), impact: num(m.get('impact')), effort: num(m.get('effort')),
      status: opt(m.get('status')), owner: opt(m.get('owner')), due: opt(m.get('due')), imageUrl: opt(m.get('imageUrl')),
    };
  });
  const links = entities(doc, 'links', (m) => ({ from: str(m.get('from')), to: str(m.get('to')), kind: str(m.get('kind')) }));
  const linkCounts = new Map();
  for (const l of links) {
    linkCounts.set(l.from, (linkCounts.get(l.from) ?? 0) + 1);
    if (l.to !== l.from) linkCounts.set(l.to, (linkCounts.get(l.to) ?? 0) + 1);
  }
  const emotions = new Map();
  doc.getMap('emotions').forEach((v, k) => {
    if (typeof v === 'number' && Number.isFinite(v)) emotions.set(k, Math.max(-2, Math.min(2, Math.trunc(v))));
  });
  const measures = readMeasures(doc, new Set(steps.map((s) => s.id)));
  const channelIds = new Set(measures.channels.map((c) => c.id));
  for (const p of personas) p.channels = personaChannels(p.channels instanceof Y.Array ? p.channels.toArray() : p.channels, channelIds);
  // Cards by cell, in rank order.
  const cells = new Map();
  for (const c of sortByRank(cards)) {
    const key = `${c.laneId}|${c.stepId}`;
    if (!cells.has(key)) cells.set(key, []);
    cells.get(key).push(c);
  }
  return {
    meta: { title: str(meta.get('title')), kind: str(meta.get('kind')), description: str(meta.get('description')) },
    personas, stages, stageIds, steps, lanes, cards: new Map(cards.map((c) => [c.id, c])), cells, links, linkCounts, emotions,
    ...measures,
  };
}

/** Runs `fn` as one local, undoable transaction. */
export function edit(doc, fn) {
  doc.transact(fn, LOCAL);
}

function setFields(map, fields) {
  for (const [k, v] of Object.entries(fields)) {
    if (v === null || v === undefined || v === '') map.delete(k);
    else map.set(k, v);
  }
}

/** Sets fields of one entity; null or '' removes a field. */
export function update(doc, collection, id, fields) {
  const entity = doc.getMap(collection).get(id);
  if (!(entity instanceof Y.Map)) return;
  edit(doc, () => setFields(entity, fields));
}

export function create(doc, collection, fields) {
  const id = newId();
  const m = new Y.Map();
  doc.getMap(collection).set(id, m);
  setFields(m, fields);
  return id;
}

/** The rank that places an entity after `index - 1` and before `index` of `sorted` (without `self`). */
export function rankAt(sorted, index, self = null) {
  const list = sorted.filter((e) => e.id !== self);
  const before = list[index - 1]?.rank ?? null;
  const after = list[index]?.rank ?? null;
  return between(before, after);
}

export function addCard(doc, laneId, stepId, index, cellCards, text = '') {
  let id;
  edit(doc, () => {
    const ytext = new Y.Text();
    id = create(doc, 'cards', { laneId, stepId, rank: rankAt(cellCards, index) });
    doc.getMap('cards').get(id).set('text', ytext);
    if (text) ytext.insert(0, text);
  });
  return id;
}

/** Moves a card to position `index` of a cell (the cell's cards without the card itself). */
export function moveCard(doc, cardId, laneId, stepId, index, cellCards, extra = {}) {
  update(doc, 'cards', cardId, { laneId, stepId, rank: rankAt(cellCards, index, cardId), ...extra });
}

function deleteCardIn(doc, id) {
  doc.getMap('cards').delete(id);
  const links = doc.getMap('links');
  links.forEach((l, lid) => {
    if (l instanceof Y.Map && (l.get('from') === id || l.get('to') === id)) links.delete(lid);
  });
}

export function deleteCard(doc, id) {
  edit(doc, () => deleteCardIn(doc, id));
}

export function addStage(doc, index, stages, name) {
  let id;
  edit(doc, () => {
    id = create(doc, 'stages', { name, rank: rankAt(stages, index) });
    create(doc, 'steps', { stageId: id, name: 'New step', rank: between(null, null) });
  });
  return id;
}

export function addStep(doc, stageId, index, stageSteps, name) {
  let id;
  edit(doc, () => { id = create(doc, 'steps', { stageId, name, rank: rankAt(stageSteps, index) }); });
  return id;
}

export function addLane(doc, index, lanes, kind, name) {
  let id;
  edit(doc, () => { id = create(doc, 'lanes', { kind, name, rank: rankAt(lanes, index) }); });
  return id;
}

export function addPersona(doc, personas, name) {
  let id;
  edit(doc, () => { id = create(doc, 'personas', { name, rank: rankAt(personas, personas.length) }); });
  return id;
}

function deleteStepIn(doc, stepId) {
  doc.getMap('steps').delete(stepId);
  doc.getMap('cards').forEach((c, id) => {
    if (c instanceof Y.Map && c.get('stepId') === stepId) deleteCardIn(doc, id);
    else if (c instanceof Y.Map && c.get('endStepId') === stepId) c.delete('endStepId');
  });
  const emotions = doc.getMap('emotions');
  for (const key of [...emotions.keys()]) if (key.endsWith(`/${stepId}`)) emotions.delete(key);
}

export function deleteStep(doc, stepId) {
  edit(doc, () => deleteStepIn(doc, stepId));
}

export function deleteStage(doc, stageId) {
  edit(doc, () => {
    doc.getMap('stages').delete(stageId);
    doc.getMap('steps').forEach((s, id) => {
      if (s instanceof Y.Map && s.get('stageId') === stageId) deleteStepIn(doc, id);
    });
  });
}

export function deleteLane(doc, laneId) {
  edit(doc, () => {
    doc.getMap('lanes').delete(laneId);
    doc.getMap('cards').forEach((c, id) => {
      if (c instanceof Y.Map && c.get('laneId') === laneId) deleteCardIn(doc, id);
    });
  });
}

export function deletePersona(doc, personaId) {
  edit(doc, () => {
    doc.getMap('personas').delete(personaId);
    const emotions = doc.getMap('emotions');
    for (const key of [...emotions.keys()]) if (key.startsWith(`${personaId}/`)) emotions.delete(key);
  });
}

/** Sets (or, with null, removes) a persona's emotion score at a step (SCHEMA.md §5.12). */
export function setEmotion(doc, personaId, stepId, score) {
  edit(doc, () => {
    const key = `${personaId ?? '*'}/${stepId}`;
    if (score === null) doc.getMap('emotions').delete(key);
    else doc.getMap('emotions').set(key, Math.max(-2, Math.min(2, Math.round(score))));
  });
}

export function addLink(doc, from, to, kind) {
  edit(doc, () => create(doc, 'links', { from, to, kind }));
}

export function deleteLink(doc, id) {
  edit(doc, () => doc.getMap('links').delete(id));
}

export function setTitle(doc, title) {
  edit(doc, () => doc.getMap('meta').set('title', title));
}
