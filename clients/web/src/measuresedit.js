// The edits of channels, touchpoints, metrics and measurements, each one transaction (SCHEMA.md §6):
// deleting a channel or touchpoint clears the references to it, deleting a metric deletes its
// measurements, and every recorded value is an entity of its own (§5.10).
import * as Y from 'yjs';
import { create, edit, rankAt } from './model.js';

/** Adds a channel at the end; returns its id. With `then`, a reference to it is set in the same transaction. */
export function addChannel(doc, channels, name, then = null) {
  let id;
  edit(doc, () => {
    id = create(doc, 'channels', { name, rank: rankAt(channels, channels.length) });
    if (then) {
      const e = doc.getMap(then.collection).get(then.id);
      if (e instanceof Y.Map) e.set(then.field, id);
    }
  });
  return id;
}

/** Moves a channel to `index` of the others (its colour follows its new position, §5.7). */
export function moveChannel(doc, channels, id, index) {
  const e = doc.getMap('channels').get(id);
  if (!(e instanceof Y.Map)) return;
  edit(doc, () => e.set('rank', rankAt(channels, index, id)));
}

function each(doc, collection, fn) {
  doc.getMap(collection).forEach((e, id) => {
    if (e instanceof Y.Map) fn(e, id);
  });
}

export function deleteChannel(doc, id) {
  edit(doc, () => {
    doc.getMap('channels').delete(id);
    for (const collection of ['touchpoints', 'cards']) each(doc, collection, (e) => { if (e.get('channelId') === id) e.delete('channelId'); });
    each(doc, 'personas', (p) => {
      const list = p.get('channels');
      if (Array.isArray(list) && list.includes(id)) {
        const rest = list.filter((c) => c !== id);
        if (rest.length) p.set('channels', rest);
        else p.delete('channels');
      }
    });
  });
}

/** A persona's preferred channels, most preferred first (SCHEMA.md §5.2: a plain array of ids). */
/**
 * Changes a persona's preferred channels: `change` gets the ids stored now (not those last drawn,
 * which a quick second change would overwrite) and returns the new list.
 */
export function changePersonaChannels(doc, personaId, change) {
  const p = doc.getMap('personas').get(personaId);
  if (!(p instanceof Y.Map)) return;
  edit(doc, () => {
    const stored = p.get('channels');
    const ids = change(Array.isArray(stored) ? stored.filter((c) => typeof c === 'string') : []);
    if (ids.length) p.set('channels', [...ids]);
    else p.delete('channels');
  });
}

export function addTouchpoint(doc, touchpoints, stepId, name) {
  let id;
  edit(doc, () => { id = create(doc, 'touchpoints', { name, stepId, rank: rankAt(touchpoints, touchpoints.length) }); });
  return id;
}

export function deleteTouchpoint(doc, id) {
  edit(doc, () => {
    doc.getMap('touchpoints').delete(id);
    for (const collection of ['metrics', 'cards']) each(doc, collection, (e) => { if (e.get('touchpointId') === id) e.delete('touchpointId'); });
  });
}

/** `fields`: more of its fields, e.g. the touchpoint it measures. */
export function addMetric(doc, metrics, stepId, name, fields = {}) {
  let id;
  edit(doc, () => { id = create(doc, 'metrics', { name, type: 'custom', stepId, ...fields, rank: rankAt(metrics, metrics.length) }); });
  return id;
}

export function deleteMetric(doc, id) {
  edit(doc, () => {
    doc.getMap('metrics').delete(id);
    const measurements = doc.getMap('measurements');
    measurements.forEach((x, xid) => {
      if (x instanceof Y.Map && x.get('metricId') === id) measurements.delete(xid);
    });
  });
}

/** Records one value: a new entity, so two people recording at once both keep theirs. */
export function addMeasurement(doc, metricId, date, value, note = '') {
  let id;
  edit(doc, () => { id = create(doc, 'measurements', { metricId, date, value, note: note.trim() || null }); });
  return id;
}

export function deleteMeasurement(doc, id) {
  edit(doc, () => doc.getMap('measurements').delete(id));
}
