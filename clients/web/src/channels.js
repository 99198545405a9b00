// How a channel is shown (SCHEMA.md §5.7): its colour by position in rank order, and an icon guessed
// from its name. Pure functions, so the board, the panels and a unit test agree.

/** SCHEMA.md §5.7: the colour of the channel at position i (0-based, in rank order) is PALETTE[i % 8]. */
export const PALETTE = ['#0e7490', '#7c3aed', '#c2410c', '#15803d', '#2563eb', '#a16207', '#be185d', '#475569'];

/** The colour of the channel at `index` in rank order; a missing channel (-1) gets none. */
export function channelColour(index) {
  return index >= 0 ? PALETTE[index % PALETTE.length] : null;
}

/** The glyph of a channel whose name suggests nothing. */
export const NEUTRAL_ICON = '◆';

// First match wins: "e-mail" before "mail", so a newsletter is an envelope and a letter a postbox;
// "in person" before "person"-free words. Whole words (or word starts), so "shopping app" is an app
// only when nothing earlier matched.
const ICONS = [
  [/\be-?mails?\b|\bnewsletters?\b/, '✉'],
  [/\bphones?\b|\bcalls?\b|\bcall cent(er|re)s?\b|\btelephon|\bhotline/, '☎'],
  [/\bchats?\b|\bsms\b|\btext messag|\bmessag|\bwhatsapp\b/, '💬'],
  [/\bapps?\b|\bmobile\b/, '📱'],
  [/\bweb|\bsites?\b|\bonline\b|\bportals?\b|\binternet\b/, '🌐'],
  [/\bstores?\b|\bshops?\b|\bbranch(es)?\b|\bin[- ]person\b|\bcounters?\b|\boutlets?\b/, '🏬'],
  [/\bletters?\b|\bmail\b|\bpost\b|\bpostal\b|\bcouriers?\b/, '📮'],
  [/\bsocial\b|\binstagram\b|\bfacebook\b|\btwitter\b|\blinkedin\b|\btiktok\b/, '📣'],
];

/** The icon of a channel named `name`. */
export function channelIcon(name) {
  const n = String(name ?? '').toLowerCase();
  for (const [re, icon] of ICONS) if (re.test(n)) return icon;
  return NEUTRAL_ICON;
}

/** Colour and icon of every channel of `channels` (in rank order), by id. */
export function channelLooks(channels) {
  return new Map(channels.map((c, i) => [c.id, { colour: channelColour(i), icon: channelIcon(c.name), name: c.name }]));
}
