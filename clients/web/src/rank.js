// Fractional ranks (SCHEMA.md §3), the same algorithm as the Rust crate's `schema::rank`.

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = 62;

const VALID = /^[0-9A-Za-z]*[1-9A-Za-z]$/;

export function isValid(rank) {
  return typeof rank === 'string' && VALID.test(rank);
}

function midpoint(lo, hi) {
  const dLo = lo.length ? lo[0] : 0;
  const rest = lo.slice(1);
  if (!hi) {
    if (!lo.length) return [BASE / 2];
    if (dLo + 1 < BASE) return [dLo + 1];
    return [dLo, ...midpoint(rest, null)];
  }
  const dHi = hi[0];
  if (dLo === dHi) return [dLo, ...midpoint(rest, hi.slice(1))];
  if (dHi > dLo + 1) return [lo.length ? Math.floor((dLo + dHi) / 2) : dHi - 1];
  if (hi.length > 1) return [dHi];
  return [dLo, ...midpoint(rest, null)];
}

function less(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i];
  return a.length < b.length;
}

/** A rank strictly between `before` and `after` (either may be null: the start or the end). */
export function between(before, after) {
  const parse = (r) => [...r].map((c) => DIGITS.indexOf(c));
  const lo = isValid(before) ? parse(before) : [];
  let hi = isValid(after) ? parse(after) : null;
  if (hi && lo.length && !less(lo, hi)) hi = null;
  return midpoint(lo, hi).map((d) => DIGITS[d]).join('').replace(/0+$/, '');
}

/** Compares entities by rank, then id; missing or invalid ranks last (SCHEMA.md §3). */
export function byRank(a, b) {
  const va = isValid(a.rank);
  const vb = isValid(b.rank);
  if (va !== vb) return va ? -1 : 1;
  if (va && a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Sorts `list` in place as `byRank` does, testing each rank once (maps have hundreds of cards). */
export function sortByRank(list) {
  const keyed = list.map((e) => ({ valid: isValid(e.rank), e }));
  keyed.sort((a, b) => {
    if (a.valid !== b.valid) return a.valid ? -1 : 1;
    const x = a.e;
    const y = b.e;
    if (a.valid && x.rank !== y.rank) return x.rank < y.rank ? -1 : 1;
    return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
  });
  keyed.forEach((k, i) => { list[i] = k.e; });
  return list;
}
