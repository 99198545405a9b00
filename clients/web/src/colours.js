// People's colours and initials: pure functions, shared by presence and its unit test.

/**
 * Twelve colours for twelve people: each dark enough for white initials (WCAG AA, 4.5:1 and more)
 * and far enough from every other to tell apart at a glance (test/colours.test.mjs checks both).
 */
export const COLOURS = ['#1f5fa8', '#b3261e', '#1d6b3a', '#6b2fa3', '#c2185b', '#7a4a12', '#a34e00', '#0e6a78', '#5b6b00', '#3b3f99', '#2f3437', '#8a6d00'];

/**
 * The colour to show: the one `clientId` hashes to, unless someone with a lower client id already
 * shows it and another is free. Everyone applies the same rule to what they see, so two people on
 * one colour settle on two colours after one round of presence updates.
 */
export function pickColour(clientId, taken) {
  const own = COLOURS[clientId % COLOURS.length];
  const clash = [...taken].some(([id, colour]) => colour === own && id < clientId);
  if (!clash) return own;
  const used = new Set([...taken].map(([, c]) => c));
  return COLOURS.find((c) => !used.has(c)) ?? own;
}

const segmenter = typeof Intl !== 'undefined' && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

/** The first character a reader sees (a whole grapheme: an accented letter, an emoji, a surrogate pair). */
function first(word) {
  if (segmenter) return segmenter.segment(word)[Symbol.iterator]().next().value?.segment ?? '';
  return Array.from(word)[0] ?? '';
}

/** "Ana Lima" → "AL", "José de Ávila" → "JÁ", "Øyvind" → "Ø", "李 小龍" → "李小". */
export function initials(name = '?') {
  const parts = String(name ?? '').trim().split(/\s+/u).filter(Boolean);
  if (!parts.length) return '?';
  const a = first(parts[0]);
  const b = parts.length > 1 ? first(parts[parts.length - 1]) : '';
  return (a + b).toLocaleUpperCase();
}
