// The rules behind channels, touchpoints and metrics on the board, without a browser: a channel's
// colour and icon, a metric's current value and off-target state, its trend line, reading bad data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as Y from 'yjs';
import { NEUTRAL_ICON, PALETTE, channelColour, channelIcon, channelLooks } from '../src/channels.js';
import { isDate, isOffTarget, latest, parseNumber, readMeasures, sparkline, today, withUnit } from '../src/measures.js';

test('a channel takes the colour of its place in rank order, modulo 8 (SCHEMA.md §5.7)', () => {
  assert.deepEqual(PALETTE, ['#0e7490', '#7c3aed', '#c2410c', '#15803d', '#2563eb', '#a16207', '#be185d', '#475569']);
  assert.equal(channelColour(0), '#0e7490');
  assert.equal(channelColour(7), '#475569');
  assert.equal(channelColour(8), '#0e7490');
  assert.equal(channelColour(13), '#a16207');
  assert.equal(channelColour(-1), null);
  const looks = channelLooks([{ id: 'b', name: 'Phone' }, { id: 'a', name: 'E-mail' }]);
  assert.deepEqual(looks.get('b'), { colour: '#0e7490', icon: '☎', name: 'Phone' });
  assert.equal(looks.get('a').colour, '#7c3aed');
});

test('a channel\'s icon is guessed from its name', () => {
  const cases = {
    'E-mail': '✉', Email: '✉', 'Monthly newsletter': '✉', Phone: '☎', 'Call centre': '☎', 'Live chat': '💬', SMS: '💬',
    'Text message': '💬', 'Mobile app': '📱', App: '📱', Website: '🌐', 'Web shop': '🌐', Online: '🌐', 'Customer portal': '🌐',
    Store: '🏬', Shop: '🏬', Branch: '🏬', 'In person': '🏬', Letter: '📮', Mail: '📮', Post: '📮', 'Social media': '📣',
    Fax: NEUTRAL_ICON, '': NEUTRAL_ICON, Happenstance: NEUTRAL_ICON, Apple: NEUTRAL_ICON,
  };
  for (const [name, icon] of Object.entries(cases)) assert.equal(channelIcon(name), icon, name);
  assert.equal(channelIcon(undefined), NEUTRAL_ICON);
});

test('the current value is the latest by date, ties to the greatest id (SCHEMA.md §5.10)', () => {
  assert.equal(latest([]), null);
  const xs = [
    { id: 'm1', date: '2026-10-01', value: 1 },
    { id: 'm9', date: '2026-09-30', value: 2 },
    { id: 'm3', date: '2026-10-01', value: 3 },
    { id: 'm2', date: '2026-10-01', value: 4 },
  ];
  assert.equal(latest(xs).id, 'm3');
  assert.equal(latest(xs.slice(0, 2)).id, 'm1');
});

test('off target: below it when higher is better, above it when lower is better, never without one', () => {
  const at = (value) => ({ id: 'x', date: '2026-01-01', value });
  const up = { target: 95, direction: 'higher-is-better' };
  const down = { target: 20, direction: 'lower-is-better' };
  assert.equal(isOffTarget(up, at(71)), true);
  assert.equal(isOffTarget(up, at(95)), false, 'on target exactly');
  assert.equal(isOffTarget(up, at(99)), false);
  assert.equal(isOffTarget(down, at(27)), true);
  assert.equal(isOffTarget(down, at(20)), false);
  assert.equal(isOffTarget(down, at(3)), false);
  assert.equal(isOffTarget({ target: null, direction: 'higher-is-better' }, at(1)), false);
  assert.equal(isOffTarget(up, null), false);
  assert.equal(isOffTarget({ target: 0, direction: 'higher-is-better' }, at(-1)), true, 'a target of 0 is a target');
});

test('the trend line: points left to right in date order, higher values higher, the target on the scale', () => {
  const { points, targetY } = sparkline([60, 80], { width: 100, height: 20, pad: 2, target: 100 });
  assert.deepEqual(points, [[2, 18], [98, 10]]);
  assert.equal(targetY, 2);
  assert.deepEqual(sparkline([5], { width: 100, height: 20 }).points, [[50, 10]], 'one value: in the middle');
  assert.deepEqual(sparkline([3, 3, 3], { width: 10, height: 10, pad: 1 }).points.map(([, y]) => y), [5, 5, 5], 'flat: level');
  assert.deepEqual(sparkline([], {}).points, []);
  const ys = sparkline([10, 30, 20], { width: 50, height: 30 }).points.map(([, y]) => y);
  assert.ok(ys[1] < ys[2] && ys[2] < ys[0], `30 above 20 above 10 (${ys})`);
});

test('values with units, numbers as typed, dates', () => {
  assert.equal(withUnit(71, '%'), '71%');
  assert.equal(withUnit(4.8, 'points'), '4.8 points');
  assert.equal(withUnit(12, null), '12');
  assert.equal(parseNumber('71'), 71);
  assert.equal(parseNumber(' -3.5 '), -3.5);
  assert.equal(parseNumber('4,8'), 4.8);
  assert.equal(parseNumber('1e3'), 1000);
  for (const bad of ['', '71 %', 'abc', '1.2.3', '--1', 'NaN', 'Infinity', '1,2,3']) assert.equal(parseNumber(bad), null, bad);
  assert.ok(isDate('2026-02-28'));
  for (const bad of ['2026-02-30', '2026-13-01', '26-01-01', '2026-1-1', 20260101, null]) assert.equal(isDate(bad), false, String(bad));
  assert.equal(today(new Date(2026, 0, 5, 23, 59)), '2026-01-05');
});

/** A doc with the given collections, each entity a Y.Map of its fields (or a raw value, for bad data). */
function docOf(collections) {
  const doc = new Y.Doc();
  doc.transact(() => {
    for (const [name, entities] of Object.entries(collections)) {
      for (const [id, fields] of Object.entries(entities)) {
        if (fields === null || typeof fields !== 'object') {
          doc.getMap(name).set(id, fields);
          continue;
        }
        const m = new Y.Map();
        doc.getMap(name).set(id, m);
        for (const [k, v] of Object.entries(fields)) m.set(k, v);
      }
    }
  });
  return doc;
}

test('reading tolerates bad data: unknown references, non-numbers, bad dates, entities that are not maps', () => {
  const doc = docOf({
    channels: { c2: { name: 'Phone', rank: 'W' }, c1: { name: 'E-mail', rank: 'V' }, junk: 'not a map' },
    touchpoints: { t1: { name: 'Call', channelId: 'c2', stepId: 's1', owner: 'Support', rank: 'V' }, t2: { name: 'Lost', channelId: 'gone', stepId: 'nowhere', rank: 'W' }, t3: { name: 7 } },
    metrics: {
      m1: { name: 'CSAT', type: 'csat', unit: '%', target: 95, stepId: 's1', rank: 'V' },
      m2: { name: 'Via touchpoint', type: 'weird', target: '12', direction: 'sideways', touchpointId: 't1', rank: 'W' },
      m3: { name: 'Nowhere', stepId: 'gone', rank: 'X' },
    },
    measurements: {
      a: { metricId: 'm1', date: '2026-09-01', value: 80 },
      b: { metricId: 'm1', date: '2026-10-01', value: 71, note: 'after the redesign' },
      c: { metricId: 'm1', date: 'yesterday', value: 99 },
      d: { metricId: 'm1', date: '2026-11-01', value: '100' },
      e: { metricId: 'missing', date: '2026-11-01', value: 5 },
      f: { metricId: 'm1', date: '2026-11-31', value: 5 },
    },
  });
  const r = readMeasures(doc, new Set(['s1']));
  assert.deepEqual(r.channels.map((c) => c.id), ['c1', 'c2'], 'by rank, the non-map skipped');
  assert.deepEqual(r.touchpoints.map((t) => t.id), ['t1', 't2', 't3'], 'a rankless one last');
  assert.equal(r.touchpointById.get('t3').name, '', 'a name of the wrong type reads as empty');
  assert.deepEqual(r.tpByStep.get('s1').map((t) => t.id), ['t1'], 'only touchpoints of a known step are placed');
  assert.equal(r.touchpointById.get('t2').channelGone, true);
  const m1 = r.metricById.get('m1');
  assert.deepEqual(m1.measurements.map((x) => x.id), ['a', 'b'], 'bad dates and non-numbers left out, in date order');
  assert.equal(m1.current.value, 71);
  assert.equal(m1.off, true);
  const m2 = r.metricById.get('m2');
  assert.equal(m2.type, 'custom');
  assert.equal(m2.target, null, 'a target that is a string is no target');
  assert.equal(m2.direction, 'higher-is-better');
  assert.equal(m2.column, 's1', 'placed at its touchpoint\'s step');
  assert.equal(r.metricById.get('m3').column, null);
  assert.deepEqual(r.metricsByStep.get('s1').map((m) => m.id), ['m1', 'm2']);
});

test('an empty document reads as empty collections', () => {
  const r = readMeasures(new Y.Doc(), new Set());
  assert.deepEqual([r.channels, r.touchpoints, r.metrics], [[], [], []]);
});

test('readMap: a persona\'s preferred channels keep their order and drop unknown or repeated ids', async () => {
  const { readMap } = await import('../src/model.js');
  const doc = docOf({
    channels: { c1: { name: 'E-mail', rank: 'V' }, c2: { name: 'Phone', rank: 'W' } },
    personas: { p1: { name: 'Busy parent', rank: 'V', channels: ['c2', 'gone', 'c1', 'c2', 4] }, p2: { name: 'No list', rank: 'W', channels: 'c1' } },
    steps: { s1: { stageId: 'x', name: 'Pays', rank: 'V' } },
    touchpoints: { t1: { name: 'Receipt', stepId: 's1', channelId: 'c1', rank: 'V' } },
  });
  const map = readMap(doc);
  assert.deepEqual(map.personas.map((p) => p.channels), [['c2', 'c1'], []]);
  assert.deepEqual(map.tpByStep.get('s1').map((t) => t.name), ['Receipt']);
});
