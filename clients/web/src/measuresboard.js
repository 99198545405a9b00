// Typed touchpoints and metrics on the grid: a chip per touchpoint in the touchpoints lane and a tile
// per metric (current value, target, direction, trend line) in the metrics lane, before the cell's
// free-text cards, and the lane that shows them when the map has no lane of that kind. board.js asks
// this module for each cell's extra elements; each is rebuilt only when what it shows changed.
import { h, svg } from './dom.js';
import { channelLooks } from './channels.js';
import { sparkline, withUnit } from './measures.js';
import { addMetric, addTouchpoint } from './measuresedit.js';
import { addLane } from './model.js';

const KINDS = { touchpoints: 'Touchpoints', metrics: 'Metrics' };
const SPARK = { width: 120, height: 28, pad: 3 };
const perMap = new WeakMap();

/**
 * Per read of the map: which lane shows the typed entities of each kind (the first lane of that kind
 * for all personas, else the first of that kind), and the lanes to add for kinds with typed entities
 * but no lane: such a lane is drawn read-only after the others (`virtual`), so nothing typed is hidden.
 */
function layout(map) {
  let out = perMap.get(map);
  if (out) return out;
  const hosts = {};
  const virtual = [];
  for (const kind of Object.keys(KINDS)) {
    const lanes = map.lanes.filter((l) => l.kind === kind);
    const host = lanes.find((l) => !l.personaId) ?? lanes[0];
    const any = kind === 'touchpoints' ? map.touchpoints.length : map.metrics.length;
    if (host) hosts[kind] = host.id;
    else if (any) {
      const lane = { id: `~${kind}`, kind, name: KINDS[kind], personaId: null, virtual: true };
      hosts[kind] = lane.id;
      virtual.push(lane);
    }
  }
  out = { hosts, virtual, looks: channelLooks(map.channels) };
  perMap.set(map, out);
  return out;
}

/** Lanes the board draws after the map's own: the kinds that have typed entities but no lane. */
export function extraLanes(map) {
  return layout(map).virtual;
}

/** The head of a lane drawn for typed entities only: its name, a note, and a way to keep it as a lane. */
export function renderVirtualHead(board, lane, row) {
  const ed = board.ed;
  const el = board.keyed(`lane:${lane.id}`, () => {
    const el = h('div', { class: 'lane-head typed-lane', dataset: { kind: lane.kind, testid: 'typed-lane' } },
      h('span', { class: 'lane-label' },
        h('span', { class: 'head-name', text: lane.name }),
        h('span', { class: 'lane-kind', text: `Not a lane of this map: its ${lane.kind} are shown here` })));
    if (!ed.readOnly) {
      el.append(h('button', {
        class: 'ghost small', text: 'Add as a lane', dataset: { testid: 'keep-typed-lane' },
        attrs: { 'aria-label': `Add a ${lane.name} lane to the map` },
        onclick: () => addLane(ed.doc, ed.map.lanes.length, ed.map.lanes, lane.kind, lane.name),
      }));
    }
    return el;
  });
  el.style.gridRow = String(row);
}

/**
 * What a cell shows besides its cards: `before` (chips or tiles, in rank order) and `after` (the
 * button that adds a typed entity at this step), for the lane that hosts that kind.
 */
export function typedCell(board, lane, step) {
  const map = board.ed.map;
  const { hosts, looks } = layout(map);
  if (hosts[lane.kind] !== lane.id) return null;
  const ed = board.ed;
  const before = lane.kind === 'touchpoints'
    ? (map.tpByStep.get(step.id) ?? []).map((t) => touchpointChip(board, t, looks))
    : (map.metricsByStep.get(step.id) ?? []).map((m) => metricTile(board, m, map));
  const after = [];
  if (!ed.readOnly) {
    const key = `typed-add:${lane.kind}|${step.id}`;
    const what = lane.kind === 'touchpoints' ? 'Touchpoint' : 'Metric';
    const button = board.keyed(key, () => h('button', {
      class: 'cell-add typed-add', text: `+ ${what}`, dataset: { testid: `add-${what.toLowerCase()}` },
      onclick: () => addTyped(ed, lane.kind, step.id),
    }), false);
    const label = `Add a ${what.toLowerCase()} at ${step.name || 'this step'}`;
    if (button.getAttribute('aria-label') !== label) button.setAttribute('aria-label', label);
    after.push(button);
  }
  return { before, after };
}

function addTyped(ed, kind, stepId) {
  if (ed.blocked(kind, null, true)) return;
  const id = kind === 'touchpoints'
    ? addTouchpoint(ed.doc, ed.map.touchpoints, stepId, 'New touchpoint')
    : addMetric(ed.doc, ed.map.metrics, stepId, 'New metric');
  ed.afterRender(() => {
    ed.showDetails(kind, id);
    const name = ed.panelBody.querySelector('[data-testid=field-name]');
    name?.focus();
    name?.select();
  });
}

/** Sets `el`'s content from `build()` when `sig` differs from the last one it was built for. */
function rebuild(el, sig, build) {
  if (el._sig === sig) return el;
  el._sig = sig;
  build();
  return el;
}

function touchpointChip(board, t, looks) {
  const ed = board.ed;
  const el = board.keyed(`tp:${t.id}`, () => h('button', {
    class: 'tp-chip', dataset: { testid: 'touchpoint', id: t.id }, onclick: () => ed.showDetails('touchpoints', t.id),
  }), false);
  const look = t.channelId ? looks.get(t.channelId) : null;
  return rebuild(el, [t.name, t.owner, look?.name, look?.colour, look?.icon].join('\u0001'), () => {
    el.style.setProperty('--channel', look?.colour ?? 'var(--ink-3)');
    el.replaceChildren(
      h('span', { class: 'tp-icon', text: look?.icon ?? '·', attrs: { 'aria-hidden': 'true' } }),
      h('span', { class: 'tp-body' },
        h('span', { class: 'tp-name', text: t.name || 'Unnamed touchpoint' }),
        h('span', { class: 'tp-meta', text: [look?.name ?? 'No channel', t.owner].filter(Boolean).join(' · ') })));
    el.dataset.channel = t.channelId && look ? t.channelId : '';
    el.setAttribute('aria-label', `Touchpoint: ${t.name || 'unnamed'}, ${look ? `channel ${look.name}` : 'no channel'}${t.owner ? `, owner ${t.owner}` : ''}`);
  });
}

/** "61.5% / target 65%", "27% / target 20%", "no value yet". */
export function valueLine(m) {
  const value = m.current ? withUnit(m.current.value, m.unit) : 'no value yet';
  return m.target === null ? value : `${value} / target ${withUnit(m.target, m.unit)}`;
}

function metricTile(board, m, map) {
  const ed = board.ed;
  const el = board.keyed(`metric:${m.id}`, () => h('button', {
    class: 'metric-tile', dataset: { testid: 'metric', id: m.id }, onclick: () => ed.showDetails('metrics', m.id),
  }), false);
  const values = m.measurements.map((x) => x.value);
  const tp = m.touchpointId ? map.touchpointById.get(m.touchpointId) : null;
  const sig = JSON.stringify([m.name, m.unit, m.target, m.direction, m.owner, tp?.name, values, m.current?.date]);
  return rebuild(el, sig, () => {
    const lower = m.direction === 'lower-is-better';
    const state = m.target === null || !m.current ? 'none' : m.off ? 'off' : 'on';
    el.dataset.state = state;
    const status = { off: '⚠ Off target', on: '✓ On target', none: '' }[state];
    el.replaceChildren(...[
      h('span', { class: 'metric-head' },
        h('span', { class: 'metric-name', text: m.name || 'Unnamed metric' }),
        h('span', { class: 'metric-dir', text: lower ? '↓' : '↑', title: lower ? 'Lower is better' : 'Higher is better', attrs: { 'aria-hidden': 'true' } })),
      h('span', { class: 'metric-value', dataset: { testid: 'metric-value' }, text: valueLine(m) }),
      status ? h('span', { class: `metric-status ${state}`, dataset: { testid: 'metric-status' }, text: status }) : null,
      values.length ? trend(values, m) : null,
      tp || m.owner ? h('span', { class: 'metric-meta', text: [tp?.name, m.owner].filter(Boolean).join(' · ') }) : null,
    ].filter(Boolean));
    el.setAttribute('aria-label', `Metric: ${m.name || 'unnamed'}, ${valueLine(m)}${state === 'off' ? ', off target' : state === 'on' ? ', on target' : ''}, ${lower ? 'lower' : 'higher'} is better`);
  });
}

function trend(values, m) {
  const { points, targetY } = sparkline(values, { ...SPARK, target: m.target });
  const d = points.map(([x, y]) => `${x},${y}`).join(' ');
  return svg('svg', { class: 'metric-spark', width: SPARK.width, height: SPARK.height, viewBox: `0 0 ${SPARK.width} ${SPARK.height}`, 'aria-hidden': 'true', 'data-testid': 'sparkline' },
    targetY === null ? null : svg('line', { class: 'spark-target', x1: 0, x2: SPARK.width, y1: targetY, y2: targetY }),
    points.length > 1 ? svg('polyline', { class: 'spark-line', points: d }) : null,
    ...points.map(([x, y]) => svg('circle', { class: 'spark-point', cx: x, cy: y, r: 2.2 })));
}
