// The editor's ranks (SCHEMA.md §3) behave as the Rust crate's: same results, always in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { between, byRank, isValid, sortByRank } from '../src/rank.js';

test('the same ranks as the reference algorithm', () => {
  assert.equal(between(null, null), 'V');
  assert.equal(between('V', null), 'W');
  assert.equal(between(null, 'V'), 'U');
  assert.equal(between('V', 'W'), 'VV');
  assert.equal(between('zz', null), 'zzV');
  // An invalid neighbour counts as absent; an upper bound not above the lower one too.
  assert.equal(between('V0', null), 'V');
  assert.equal(between('W', 'V'), 'X');
});

test('a rank between two neighbours always exists and stays short', () => {
  const cases = [[null, null], ['V', null], [null, 'V'], ['V', 'W'], ['V', 'V1'], ['Vz', 'W'], ['1', '11'], [null, '1'], [null, '01'], ['zzz', null]];
  for (const [a, b] of cases) {
    const m = between(a, b);
    assert.ok(isValid(m), `${m} between ${a} and ${b}`);
    if (a) assert.ok(a < m, `${a} < ${m}`);
    if (b) assert.ok(m < b, `${m} < ${b}`);
  }
  const first = between(null, null);
  let upper = between(first, null);
  for (let i = 0; i < 500; i++) {
    upper = between(first, upper);
    assert.ok(first < upper && isValid(upper));
  }
  assert.ok(upper.length < 120, `grew to ${upper.length}`);
});

test('sorting: by rank, then id, invalid ranks last', () => {
  const sorted = [{ id: 'b', rank: 'V' }, { id: 'x', rank: '' }, { id: 'a', rank: 'V' }, { id: 'c', rank: 'U' }, { id: 'd' }].sort(byRank);
  assert.deepEqual(sorted.map((e) => e.id), ['c', 'a', 'b', 'd', 'x']);
  // The editor's faster sort of many cards gives the same order, in place.
  const list = [{ id: 'b', rank: 'V' }, { id: 'x', rank: '' }, { id: 'a', rank: 'V' }, { id: 'c', rank: 'U' }, { id: 'd' }, { id: 'e', rank: 'U0' }];
  assert.equal(sortByRank(list), list);
  assert.deepEqual(list.map((e) => e.id), [...list].sort(byRank).map((e) => e.id));
  assert.deepEqual(list.map((e) => e.id), ['c', 'a', 'b', 'd', 'e', 'x']);
});
