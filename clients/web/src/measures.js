// Channels, touchpoints, metrics and measurements (SCHEMA.md §5.7–5.10) as the editor reads them,
// and the rules for showing a metric: its current value, whether it is off target, its trend line.
// Reading never fails: bad values are dropped like the rest of readMap (SCHEMA.md §7).
import * as Y from 'yjs';
import { byRank } from './rank.js';

export const METRIC_TYPES = [
  ['csat', 'CSAT'], ['nps', 'NPS'], ['ces', 'CES'], ['conversion', 'Conversion'], ['drop-off', 'Drop-off'], ['custom', 'Custom'],
];
export const DIRECTIONS = [['higher-is-better', '↑ higher is better'], ['lower-is-better', '↓ lower is better']];
const TYPES = new Set(METRIC_TYPES.map(([t]) => t));

const str = (v) => (typeof v === 'string' ? v : v instanceof Y.Text ? v.toString() : '');
const opt = (v) => (typeof v === 'string' && v !== '' ? v : null);
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A real calendar date written `YYYY-MM-DD` (SCHEMA.md §2). */
export function isDate(v) {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

function entities(doc, name, read) {
  const out = [];
  doc.getMap(name).forEach((value, id) => {
    if (value instanceof Y.Map) {
      const e = read(value);
      if (e) out.push({ id, ...e });
    }
  });
  return out;
}

/** Measurements in the order a trend line draws them: by date, then id (the tie rule of §5.10). */
export function byDate(a, b) {
  return a.date < b.date ? -1 : a.date > b.date ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** SCHEMA.md §5.10: the measurement with the latest date, ties to the greatest id; null for none. */
export function latest(measurements) {
  let best = null;
  for (const m of measurements) if (!best || byDate(m, best) > 0) best = m;
  return best;
}

/**
 * Whether a metric is off target (SCHEMA.md §5.10): its current value below the target when higher
 * is better, above it when lower is better. Without a target or a value it is neither on nor off.
 */
export function isOffTarget(metric, current) {
  if (metric.target === null || metric.target === undefined || !current) return false;
  return metric.direction === 'lower-is-better' ? current.value > metric.target : current.value < metric.target;
}

/** A value with its unit, as the poster writes it: `61.5%`, but `4.8 points`. */
export function withUnit(value, unit) {
  const u = unit ?? '';
  if (!u) return String(value);
  return /^\p{L}/u.test(u) ? `${value} ${u}` : `${value}${u}`;
}

/**
 * The points of a trend line of `values` (in date order) in a `width`×`height` box, `pad` inside its
 * edges; higher values higher up. The scale takes in `target` too, so its line can be drawn (`targetY`).
 */
export function sparkline(values, { width = 100, height = 24, pad = 2, target = null } = {}) {
  const all = target === null ? values : [...values, target];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const y = (v) => (hi === lo ? height / 2 : pad + (hi - v) / (hi - lo) * (height - 2 * pad));
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const round = (n) => Math.round(n * 10) / 10;
  const points = values.map((v, i) => [round(values.length > 1 ? pad + i * step : width / 2), round(y(v))]);
  return { points, targetY: target === null || !values.length ? null : round(y(target)) };
}

/**
 * A number as a person types it: `71`, `-3.5`, `4,8` (a decimal comma), `1e3`; null for anything
 * else (`71 %`, `abc`, an empty field), so the form can say what is wrong instead of storing it.
 */
export function parseNumber(text) {
  const t = String(text ?? '').trim().replace(/^([-+]?\d*),(\d+)$/, '$1.$2');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** Today's date, `YYYY-MM-DD`, in the person's own time zone. */
export function today(now = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

/**
 * Reads the four collections. `stepIds`: the map's steps, to place touchpoints and metrics in their
 * columns. Dangling references are kept on the entity (so the details panel shows them as gone) but
 * place nothing; measurements of a missing metric, without a valid date or a number are left out.
 */
export function readMeasures(doc, stepIds) {
  const channels = entities(doc, 'channels', (m) => ({ name: str(m.get('name')), rank: m.get('rank') })).sort(byRank);
  const channelIds = new Set(channels.map((c) => c.id));
  const touchpoints = entities(doc, 'touchpoints', (m) => ({
    name: str(m.get('name')), channelId: opt(m.get('channelId')), stepId: opt(m.get('stepId')), owner: opt(m.get('owner')), rank: m.get('rank'),
  })).sort(byRank);
  const touchpointById = new Map(touchpoints.map((t) => [t.id, t]));
  const metrics = entities(doc, 'metrics', (m) => {
    const type = str(m.get('type'));
    return {
      name: str(m.get('name')), type: TYPES.has(type) ? type : 'custom', unit: opt(m.get('unit')), target: num(m.get('target')),
      direction: m.get('direction') === 'lower-is-better' ? 'lower-is-better' : 'higher-is-better',
      stepId: opt(m.get('stepId')), touchpointId: opt(m.get('touchpointId')), owner: opt(m.get('owner')), rank: m.get('rank'),
    };
  }).sort(byRank);
  const metricById = new Map(metrics.map((m) => [m.id, m]));
  const series = new Map(metrics.map((m) => [m.id, []]));
  entities(doc, 'measurements', (m) => {
    const metricId = m.get('metricId');
    const date = m.get('date');
    const value = num(m.get('value'));
    if (!series.has(metricId) || !isDate(date) || value === null) return null;
    return { metricId, date, value, note: str(m.get('note')) };
  }).forEach((x) => series.get(x.metricId).push(x));
  const tpByStep = new Map();
  const metricsByStep = new Map();
  const push = (index, key, e) => {
    if (!index.has(key)) index.set(key, []);
    index.get(key).push(e);
  };
  for (const t of touchpoints) {
    t.placed = !!t.stepId && stepIds.has(t.stepId);
    if (t.placed) push(tpByStep, t.stepId, t);
    if (t.channelId && !channelIds.has(t.channelId)) t.channelGone = true;
  }
  for (const m of metrics) {
    m.measurements = series.get(m.id).sort(byDate);
    m.current = latest(m.measurements);
    m.off = isOffTarget(m, m.current);
    // Its own step, else the step of the touchpoint it measures.
    const tpStep = m.touchpointId ? touchpointById.get(m.touchpointId)?.stepId : null;
    m.column = m.stepId && stepIds.has(m.stepId) ? m.stepId : tpStep && stepIds.has(tpStep) ? tpStep : null;
    if (m.column) push(metricsByStep, m.column, m);
  }
  return { channels, touchpoints, touchpointById, metrics, metricById, tpByStep, metricsByStep };
}

/** A persona's preferred channels (SCHEMA.md §5.2): the ids of channels that exist, in order, once each. */
export function personaChannels(value, channelIds) {
  if (!Array.isArray(value)) return [];
  return [...new Set(value.filter((c) => typeof c === 'string' && channelIds.has(c)))];
}
