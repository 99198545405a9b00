// People's colours and initials, without a browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COLOURS, initials, pickColour } from '../src/colours.js';

const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
const linear = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const luminance = (hex) => {
  const [r, g, b] = rgb(hex).map(linear);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
/** CIE L*a*b* (D65), for a perceptual distance. */
function lab(hex) {
  const [r, g, b] = rgb(hex).map(linear);
  const xyz = [(0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883];
  const f = (t) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const [fx, fy, fz] = xyz.map(f);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

test('twelve colours, each readable under white initials and distinct from the others', () => {
  assert.equal(new Set(COLOURS).size, 12);
  for (const c of COLOURS) {
    const contrast = 1.05 / (luminance(c) + 0.05);
    assert.ok(contrast >= 4.5, `${c}: contrast ${contrast.toFixed(2)} with white`);
  }
  let min = Infinity;
  for (let i = 0; i < COLOURS.length; i++) {
    for (let j = i + 1; j < COLOURS.length; j++) {
      const [a, b] = [lab(COLOURS[i]), lab(COLOURS[j])];
      const d = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
      assert.ok(d >= 20, `${COLOURS[i]} and ${COLOURS[j]} are too close (ΔE ${d.toFixed(1)})`);
      min = Math.min(min, d);
    }
  }
});

test('a colour someone with a lower id shows is given up for a free one', () => {
  const own = COLOURS[13 % 12];
  assert.equal(pickColour(13, new Map()), own);
  assert.equal(pickColour(13, new Map([[20, own]])), own, 'the higher id moves, not this one');
  const moved = pickColour(13, new Map([[1, own]]));
  assert.notEqual(moved, own);
  assert.ok(COLOURS.includes(moved));
});

test('initials: first and last word, whole characters', () => {
  assert.equal(initials('Ana Lima'), 'AL');
  assert.equal(initials('  fay   de la  Cruz '), 'FC');
  assert.equal(initials('Øyvind'), 'Ø');
  assert.equal(initials('élodie ávila'), 'ÉÁ');
  assert.equal(initials('𝒜lice 𝒵oe'), '𝒜𝒵');
  assert.equal(initials('👩🏽‍💻 Dev'), '👩🏽‍💻D');
  assert.equal(initials(''), '?');
  assert.equal(initials(null), '?');
});
