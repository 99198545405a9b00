// The workshop on the grid: lock signs, dot-vote controls, revealed totals and one's own private
// cards, laid over what board.js renders after each render. Each decoration is redrawn only when
// what it shows changed.
import * as Y from 'yjs';
import { h, promptDialog } from './dom.js';

/** The newest revealed vote of the document's `votes` root (SCHEMA.md §5.14), or null. */
export function newestVote(doc) {
  let best = null;
  doc.getMap('votes').forEach((v, id) => {
    if (!(v instanceof Y.Map)) return;
    const at = Number(v.get('revealedAt')) || 0;
    if (best && best.revealedAt >= at) return;
    const totals = new Map();
    const t = v.get('totals');
    if (t instanceof Y.Map) t.forEach((n, card) => totals.set(card, Number(n) || 0));
    const voters = v.get('voters') instanceof Y.Map ? v.get('voters').size : 0;
    best = { id, title: String(v.get('title') ?? ''), revealedAt: at, totals, voters };
  });
  return best;
}

/** What a card's workshop state is written as when nothing is locked, voted or revealed. */
const QUIET = JSON.stringify({ lock: null, vote: null, total: null, rank: null });

export function decorateBoard(ed) {
  const ws = ed.session.workshop;
  const board = ed.board;
  const w = ws.workshop;
  const participant = !ws.facilitator;
  board.grid.classList.toggle('ws-structure-locked', !!ws.lock('structure'));
  board.grid.classList.toggle('ws-blocked', participant && !!ws.lock('structure'));
  const results = newestVote(ed.doc);
  const vote = w.vote;
  const inVote = new Set(vote?.cards ?? []);
  board.grid.classList.toggle('ws-voting', !!vote);
  for (const lane of ed.map.lanes) {
    const el = board.els.get(`lane:${lane.id}`);
    if (el) decorateLane(ed, el, lane, ws.lock(`lanes/${lane.id}`));
  }
  // Cells and cards change only with the workshop's locks, vote and results, which most renders
  // (someone typing) leave as they were: then each cell and card costs one comparison.
  const locks = w.locks ?? {};
  const anyLock = Object.keys(locks).length > 0;
  const cellSig = `${participant}|${anyLock ? JSON.stringify(locks) : ''}`;
  for (const [key, el] of board.els) {
    if (el._wsCell === cellSig || !key.startsWith('cell:') || !el.dataset.lane) continue;
    el._wsCell = cellSig;
    el.classList.toggle('ws-locked', participant && !!ws.blocking('cards', null, el.dataset.lane));
  }
  const quiet = !anyLock && !vote && !results;
  for (const card of ed.map.cards.values()) {
    const el = board.els.get(`card:${card.id}`);
    if (!el) continue;
    if (quiet && el._wsSig === QUIET) continue;
    const lock = ws.lock(`cards/${card.id}`) ?? ws.lock(`lanes/${card.laneId}`);
    const mine = ws.you?.votes?.[card.id] ?? 0;
    const state = {
      lock: lock && { by: lock.by, own: lock.target === `cards/${card.id}` },
      vote: inVote.has(card.id) ? { mine, left: ws.you?.votesLeft ?? 0, perCard: vote.perCard ?? 1 } : null,
      total: results?.totals.has(card.id) ? results.totals.get(card.id) : null,
      rank: results?.totals.has(card.id) ? rankOf(results, card.id) : null,
    };
    decorateCard(ed, el, card, state, participant);
    el.classList.toggle('ws-out-of-vote', !!vote && !inVote.has(card.id));
  }
  placePrivateCards(ed);
}

function rankOf(results, id) {
  const n = results.totals.get(id);
  let rank = 1;
  for (const v of results.totals.values()) if (v > n) rank++;
  return rank;
}

function decorateLane(ed, el, lane, lock) {
  const ws = ed.session.workshop;
  const sig = JSON.stringify([lock?.by ?? null, ws.facilitator, ws.active]);
  if (el._wsSig === sig) return;
  el._wsSig = sig;
  el.querySelector('.ws-lane')?.remove();
  el.classList.toggle('ws-locked', !!lock);
  const parts = [];
  if (lock) parts.push(h('span', { class: 'lock-sign', text: '🔒', title: `Locked by ${lock.by}`, dataset: { testid: 'lock-sign' }, attrs: { 'aria-label': `Locked by ${lock.by}` } }));
  if (ws.facilitator) {
    parts.push(h('button', {
      class: 'ghost small icon', text: lock ? '🔓' : '🔒', dataset: { testid: 'lane-lock' },
      title: lock ? 'Unlock this lane' : 'Lock this lane and its cards',
      attrs: { 'aria-label': `${lock ? 'Unlock' : 'Lock'} the lane ${lane.name}` },
      onclick: (e) => {
        e.stopPropagation();
        ws.send(lock ? 'unlock' : 'lock', { target: `lanes/${lane.id}` });
      },
    }));
  }
  if (parts.length) el.append(h('span', { class: 'ws-lane' }, ...parts));
}

function decorateCard(ed, el, card, state, participant) {
  const sig = JSON.stringify(state);
  if (el._wsSig === sig) return;
  el._wsSig = sig;
  el.querySelector(':scope > .ws-deco')?.remove();
  el.classList.toggle('ws-locked', !!state.lock);
  if (participant && state.lock) el.draggable = false;
  else if (!ed.readOnly && ed.board.editing?.id !== card.id) el.draggable = true;
  const parts = [];
  if (state.lock) {
    parts.push(h('span', { class: 'lock-sign', text: '🔒', title: `Locked by ${state.lock.by}${state.lock.own ? '' : ' (its lane)'}`, dataset: { testid: 'lock-sign' }, attrs: { 'aria-label': `Locked by ${state.lock.by}` } }));
  }
  if (state.total !== null) {
    parts.push(h('span', {
      class: `vote-total${state.total ? '' : ' zero'}`, dataset: { testid: 'vote-total', votes: String(state.total) },
      title: `${state.total} vote${state.total === 1 ? '' : 's'}, ranked ${state.rank}`, text: `● ${state.total}`,
    }));
  }
  if (state.vote) parts.push(voteControl(ed, card, state.vote));
  if (parts.length) el.append(h('div', { class: 'ws-deco' }, ...parts));
}

/** One's own dots on a card of the open vote: a dot per vote placed (click to take back), and “+”. */
function voteControl(ed, card, { mine, left, perCard }) {
  const ws = ed.session.workshop;
  const stop = (fn) => (e) => {
    e.stopPropagation();
    fn();
  };
  const dots = Array.from({ length: mine }, (_, i) => h('button', {
    class: 'vote-dot', text: '●', dataset: { testid: 'vote-dot' }, title: 'Your vote: click to take it back',
    attrs: { 'aria-label': `Take back vote ${i + 1} from this card` }, onclick: stop(() => ws.send('vote.retract', { card: card.id })),
  }));
  const canAdd = left > 0 && mine < perCard;
  return h('div', { class: 'vote-ctl', dataset: { testid: 'vote-ctl', mine: String(mine) } },
    ...dots,
    h('button', {
      class: 'vote-add', text: mine ? '+' : '+ Vote', dataset: { testid: 'vote-add' }, disabled: !canAdd,
      title: canAdd ? 'Place one of your votes here' : left ? 'You placed as many votes here as allowed' : 'No votes left',
      attrs: { 'aria-label': `Vote for: ${card.text || 'empty card'}` }, onclick: stop(() => ws.send('vote.cast', { card: card.id })),
    }),
    mine ? h('button', {
      class: 'vote-remove', text: '−', dataset: { testid: 'vote-remove' }, title: 'Take one vote back',
      attrs: { 'aria-label': 'Take one vote back' }, onclick: stop(() => ws.send('vote.retract', { card: card.id })),
    }) : null);
}

/** This participant's private cards of the open round, in their cells: only this page has them. */
function placePrivateCards(ed) {
  const ws = ed.session.workshop;
  const cards = ws.workshop.round ? ws.you?.cards ?? [] : [];
  ed.privateEls ??= new Map();
  const keep = new Set();
  for (const c of cards) {
    const cell = ed.board.els.get(`cell:${c.lane}|${c.step}`);
    if (!cell) continue;
    keep.add(c.id);
    let el = ed.privateEls.get(c.id);
    if (!el) {
      el = h('article', { class: 'card private', tabIndex: 0, dataset: { testid: 'private-card', id: c.id } },
        h('div', { class: 'card-text' }),
        h('div', { class: 'private-note' },
          h('span', { text: '🔒 Only you see this until it is revealed' }),
          h('button', { class: 'ghost small icon', text: '✎', title: 'Change', attrs: { 'aria-label': 'Change this private card' }, onclick: () => editPrivate(ed, el._card) }),
          h('button', { class: 'ghost small icon', text: '✕', title: 'Remove', dataset: { testid: 'private-remove' }, attrs: { 'aria-label': 'Remove this private card' }, onclick: () => ws.send('round.remove', { id: el._card.id }) })));
      el.addEventListener('dblclick', () => editPrivate(ed, el._card));
      ed.privateEls.set(c.id, el);
    }
    el._card = c;
    if (el.firstChild.textContent !== c.text) el.firstChild.textContent = c.text;
    const add = cell.querySelector(':scope > .cell-add');
    if (el.parentNode !== cell || el.nextSibling !== add) cell.insertBefore(el, add ?? null);
  }
  for (const [id, el] of ed.privateEls) {
    if (!keep.has(id)) {
      el.remove();
      ed.privateEls.delete(id);
    }
  }
}

async function editPrivate(ed, card) {
  const text = await promptDialog('Your private card', card.text, { confirm: 'Save' });
  if (text && text !== card.text) ed.session.workshop.send('round.edit', { id: card.id, text });
}

/** A card added during a private round: sent to the server, which keeps it private. */
export async function addPrivateCard(ed, laneId, stepId) {
  const text = await promptDialog('A private card: only you see it until the facilitator reveals the round', '', { confirm: 'Add card' });
  if (text) ed.session.workshop.send('round.add', { lane: laneId, step: stepId, text });
}
