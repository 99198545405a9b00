// Open comments on the board: each card with unresolved comments (SCHEMA.md §5.13, `target`
// `cards/<id>`) carries a small badge with their number, which opens the Comments panel on its
// thread. Redrawn after each render, touching only cards whose count changed.
import * as Y from 'yjs';
import { h } from './dom.js';

/** Unresolved comments per card id. */
export function openCounts(doc) {
  const counts = new Map();
  doc.getMap('comments').forEach((c) => {
    if (!(c instanceof Y.Map) || c.get('resolved') === true) return;
    const target = c.get('target');
    if (typeof target !== 'string' || !target.startsWith('cards/')) return;
    const id = target.slice('cards/'.length);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  });
  return counts;
}

export function decorateComments(ed) {
  const counts = openCounts(ed.doc);
  for (const card of ed.map.cards.values()) {
    const el = ed.board.els.get(`card:${card.id}`);
    if (!el) continue;
    const n = counts.get(card.id) ?? 0;
    if (el._comments === n && (!n || el._commentBadge?.parentNode === el)) continue;
    el._comments = n;
    el.classList.toggle('has-comments', n > 0);
    if (!n) {
      el._commentBadge?.remove();
      continue;
    }
    if (!el._commentBadge) {
      el._commentBadge = h('button', {
        class: 'comment-badge', dataset: { testid: 'comment-badge' },
        onclick: (e) => {
          e.stopPropagation();
          ed.select('cards', card.id);
          ed.openPanel('comments');
        },
        ondblclick: (e) => e.stopPropagation(),
        onkeydown: (e) => e.stopPropagation(), // its own Enter and Space, not the card's keys
      });
    }
    const badge = el._commentBadge;
    badge.textContent = `💬 ${n}`;
    badge.dataset.count = String(n);
    badge.title = `${n} open comment${n === 1 ? '' : 's'}: show ${n === 1 ? 'it' : 'them'}`;
    badge.setAttribute('aria-label', `${n} open comment${n === 1 ? '' : 's'} on this card: show ${n === 1 ? 'it' : 'them'}`);
    if (badge.parentNode !== el) el.append(badge);
  }
}
