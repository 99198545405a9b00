// The workshop side panel. Facilitators (and owners) run the workshop from it: session, timer,
// follow, locks, dot-votes, private rounds and attendance; everyone else sees the same state
// read-only, and everyone sees the newest vote's results ranked.
import { h } from './dom.js';
import { clock } from './workshop.js';
import { newestVote } from './wsboard.js';
import { privateCount } from './wsstrip.js';
import { renderAttendance } from './attendance.js';
import * as M from './model.js';

const PRESETS = [1, 3, 5, 10];
const LANE_NAMES = new Map(M.LANE_KINDS);

/** Renders the panel into `el`; returns a function that redraws it when what it shows changed. */
export function renderWorkshopPanel(el, ed) {
  const ws = ed.session.workshop;
  let sig = null;
  const redraw = (force = false) => {
    // Rebuilt only when the workshop changed, and not under someone typing in it.
    if (!force && el.contains(document.activeElement) && document.activeElement.matches('input, select')) return;
    const results = newestVote(ed.doc);
    const w = ws.workshop;
    const next = JSON.stringify([w, ws.you, results && [results.id, [...results.totals]], ed.selection, ed.map.lanes.map((l) => [l.id, l.name])]);
    if (!force && next === sig) return;
    sig = next;
    el.replaceChildren(...(ws.facilitator ? facilitatorView(ed) : participantView(ed)), resultsView(ed, results));
    if (ws.facilitator) el.append(renderAttendance(ed));
  };
  redraw(true);
  return redraw;
}

const section = (title, ...children) => h('section', { class: 'ws-section' }, h('h3', { text: title }), ...children);
const button = (text, testid, onclick, cls = '') => h('button', { class: cls, text, dataset: { testid }, onclick });
const when = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function facilitatorView(ed) {
  const ws = ed.session.workshop;
  const w = ws.workshop;
  const send = (op, fields) => ws.send(op, fields);
  const out = [];

  if (!w.session) {
    const title = h('input', { placeholder: 'Title (optional)', attrs: { 'aria-label': 'Workshop title' }, dataset: { testid: 'ws-title-input' } });
    out.push(section('Session', h('p', { class: 'muted', text: 'Start the workshop: attendance counts from now.' }),
      h('div', { class: 'ws-row' }, title, button('Start workshop', 'ws-session-start', () => send('session.start', title.value.trim() ? { title: title.value.trim() } : {}), 'primary'))));
  } else {
    out.push(section('Session', h('p', { text: `“${w.session.title || 'Workshop'}” since ${when(w.session.startedAt)}, started by ${w.session.startedBy}.` }),
      button('End workshop', 'ws-session-end', () => send('session.end'), 'danger')));
  }

  const label = h('input', { placeholder: 'Label, e.g. Silent writing', attrs: { 'aria-label': 'Timer label' }, dataset: { testid: 'ws-timer-label' } });
  const minutes = h('input', { type: 'number', min: '0.1', step: 'any', value: '2', attrs: { 'aria-label': 'Minutes' }, class: 'narrow', dataset: { testid: 'ws-timer-minutes' } });
  const start = (m) => send('timer.start', { seconds: Math.max(1, Math.round(m * 60)), ...(label.value.trim() ? { label: label.value.trim() } : {}) });
  const timer = w.timer;
  out.push(section('Timer',
    timer ? h('p', { dataset: { testid: 'ws-timer-state' }, text: `${timer.label || 'Timer'}: ${timer.running ? 'running' : `paused with ${clock(timer.remaining ?? 0)} left`}.` }) : null,
    h('div', { class: 'ws-row' }, label),
    h('div', { class: 'ws-row' }, ...PRESETS.map((m) => button(`${m} min`, `ws-timer-${m}`, () => start(m), 'small'))),
    h('div', { class: 'ws-row' }, minutes, h('span', { text: 'min' }), button('Start', 'ws-timer-start', () => start(Number(minutes.value) || 1), 'small primary')),
    timer ? h('div', { class: 'ws-row' },
      timer.running ? button('Pause', 'ws-timer-pause', () => send('timer.pause'), 'small') : button('Resume', 'ws-timer-resume', () => send('timer.resume'), 'small'),
      button('+1 min', 'ws-timer-add', () => send('timer.add', { seconds: 60 }), 'small'),
      button('Stop', 'ws-timer-stop', () => send('timer.stop'), 'small danger')) : null));

  out.push(section('Follow',
    w.follow
      ? h('div', { class: 'ws-row' }, h('span', { text: `Everyone follows ${w.follow.leader}.` }), button('Stop', 'ws-follow-stop', () => send('follow.stop'), 'small'))
      : h('div', { class: 'ws-row' }, button('Follow me', 'ws-follow-start', () => send('follow.start', { client: ed.session.awareness.clientID }), 'small primary'),
        h('span', { class: 'muted', text: 'Everyone sees what you see until they scroll away.' }))));

  const structure = ws.lock('structure');
  const sel = ed.selection;
  const target = sel && (sel.collection === 'cards' || sel.collection === 'lanes') ? `${sel.collection}/${sel.id}` : null;
  out.push(section('Locks',
    h('div', { class: 'ws-row' },
      structure ? button('Unlock structure', 'ws-unlock-structure', () => send('unlock', { target: 'structure' }), 'small')
        : button('Lock structure', 'ws-lock-structure', () => send('lock', { target: 'structure' }), 'small'),
      target && !ws.lock(target) ? button(`Lock selected ${sel.collection === 'cards' ? 'card' : 'lane'}`, 'ws-lock-selection', () => send('lock', { target }), 'small') : null),
    w.locks.length ? h('ul', { class: 'ws-locks' }, ...w.locks.map((l) => h('li', { dataset: { testid: 'ws-lock' } },
      h('span', { text: `🔒 ${lockName(ed, l.target)} · by ${l.by}` }),
      button('Unlock', 'ws-unlock', () => send('unlock', { target: l.target }), 'ghost small')))) : h('p', { class: 'muted', text: 'Nothing is locked. Participants can change everything their role allows.' })));

  out.push(voteSection(ed));

  if (!w.round) {
    const secs = h('input', { type: 'number', min: '0', step: 'any', placeholder: 'min', class: 'narrow', attrs: { 'aria-label': 'Round minutes (optional)' }, dataset: { testid: 'ws-round-minutes' } });
    out.push(section('Private round', h('p', { class: 'muted', text: 'New cards stay with their authors until you reveal them all at once.' }),
      h('div', { class: 'ws-row' }, secs, h('span', { text: 'min (optional timer)' }),
        button('Start round', 'ws-round-start', () => send('round.start', Number(secs.value) > 0 ? { seconds: Math.round(Number(secs.value) * 60) } : {}), 'small primary'))));
  } else {
    out.push(section('Private round', h('p', { dataset: { testid: 'ws-round-count' }, text: privateCount(w.round.counts ?? {}) }),
      h('div', { class: 'ws-row' }, button('Reveal all', 'ws-round-reveal', () => send('round.reveal'), 'small primary'),
        button('Cancel round', 'ws-round-cancel', () => send('round.cancel'), 'small danger'))));
  }
  return out;
}

function lockName(ed, target) {
  if (target === 'structure') return 'Structure (stages, steps, lanes)';
  const [kind, id] = target.split('/');
  if (kind === 'lanes') return `Lane “${ed.label('lanes', id) ?? id}”`;
  return `Card “${(ed.label('cards', id) ?? id).slice(0, 40)}”`;
}

/** The cards a vote scope covers: `lane:<id>`, `kind:<lane kind>` or `selection`. */
function cardsOf(ed, scope) {
  const cards = [...ed.map.cards.values()];
  const [what, value] = scope.split(':');
  if (what === 'lane') return cards.filter((c) => c.laneId === value);
  if (what === 'kind') {
    const lanes = new Set(ed.map.lanes.filter((l) => l.kind === value).map((l) => l.id));
    return cards.filter((c) => lanes.has(c.laneId));
  }
  const sel = ed.selection;
  if (!sel) return [];
  if (sel.collection === 'cards') return cards.filter((c) => c.id === sel.id);
  if (sel.collection === 'lanes') return cards.filter((c) => c.laneId === sel.id);
  if (sel.collection === 'steps') return cards.filter((c) => c.stepId === sel.id);
  if (sel.collection === 'stages') {
    const steps = new Set(ed.map.steps.filter((s) => s.stageId === sel.id).map((s) => s.id));
    return cards.filter((c) => steps.has(c.stepId));
  }
  return [];
}

function voteSection(ed) {
  const ws = ed.session.workshop;
  const vote = ws.workshop.vote;
  if (vote) {
    return section('Dot-vote',
      h('p', { dataset: { testid: 'ws-vote-info' }, text: `“${vote.title || 'Vote'}” on ${vote.cards.length} cards, ${vote.perPerson} votes each (at most ${vote.perCard} per card).` }),
      h('p', { dataset: { testid: 'ws-vote-voters', voters: String(vote.voters ?? 0) }, text: `${vote.voters ?? 0} ${vote.voters === 1 ? 'person has' : 'people have'} voted so far. Nobody sees anyone's votes until you reveal.` }),
      h('div', { class: 'ws-row' }, button('Reveal results', 'ws-vote-reveal', () => ws.send('vote.reveal'), 'small primary'),
        button('Cancel vote', 'ws-vote-cancel', () => ws.send('vote.cancel'), 'small danger')));
  }
  const kinds = [...new Set(ed.map.lanes.filter((l) => l.kind !== 'emotions').map((l) => l.kind))];
  const scope = h('select', { attrs: { 'aria-label': 'Cards to vote on' }, dataset: { testid: 'ws-vote-scope' } },
    h('option', { value: 'selection', text: 'The selection (card, lane, step or stage)' }),
    ...ed.map.lanes.filter((l) => l.kind !== 'emotions').map((l) => h('option', { value: `lane:${l.id}`, text: `Lane: ${l.name || LANE_NAMES.get(l.kind)}` })),
    ...kinds.map((k) => h('option', { value: `kind:${k}`, text: `Every ${LANE_NAMES.get(k) ?? k} card` })));
  const title = h('input', { placeholder: 'Question, e.g. Biggest pain?', attrs: { 'aria-label': 'Vote title' }, dataset: { testid: 'ws-vote-title' } });
  const perPerson = h('input', { type: 'number', min: '1', max: '100', value: '3', class: 'narrow', attrs: { 'aria-label': 'Votes per person' }, dataset: { testid: 'ws-vote-per-person' } });
  const perCard = h('input', { type: 'number', min: '1', max: '100', value: '1', class: 'narrow', attrs: { 'aria-label': 'Most votes per card' }, dataset: { testid: 'ws-vote-per-card' } });
  const open = () => {
    const cards = cardsOf(ed, scope.value).map((c) => c.id).slice(0, 500);
    if (!cards.length) return ed.toast('No cards there to vote on: choose a lane or select something first.', 'error');
    const per = Math.max(1, Math.min(100, Math.round(Number(perPerson.value) || 3)));
    ws.send('vote.open', { cards, perPerson: per, perCard: Math.max(1, Math.min(per, Math.round(Number(perCard.value) || 1))), ...(title.value.trim() ? { title: title.value.trim() } : {}) });
  };
  return section('Dot-vote', title, scope,
    h('div', { class: 'ws-row' }, perPerson, h('span', { text: 'votes each, at most' }), perCard, h('span', { text: 'per card' })),
    button('Open vote', 'ws-vote-open', open, 'small primary'));
}

function participantView(ed) {
  const ws = ed.session.workshop;
  const w = ws.workshop;
  const out = [];
  out.push(section('Session', h('p', { dataset: { testid: 'ws-session' }, text: w.session ? `“${w.session.title || 'Workshop'}” since ${when(w.session.startedAt)}, run by ${w.session.startedBy}.` : 'No workshop is running.' })));
  if (w.timer) out.push(section('Timer', h('p', { text: `${w.timer.label || 'Timer'}: ${w.timer.running ? 'running' : 'paused'}.` })));
  if (w.vote) {
    out.push(section('Dot-vote', h('p', { text: `“${w.vote.title || 'Vote'}”: you have ${ws.you?.votesLeft ?? 0} of ${w.vote.perPerson} votes left (at most ${w.vote.perCard} per card). Use the “+ Vote” buttons on the highlighted cards; click a dot to take a vote back. Nobody sees your votes until the facilitator reveals them.` })));
  }
  if (w.round) {
    out.push(section('Private round', h('p', { text: `Cards you add now are private: only you see them until the facilitator reveals the round. You have ${ws.you?.cards?.length ?? 0}.` })));
  }
  if (w.locks.length) out.push(section('Locked', h('ul', { class: 'ws-locks' }, ...w.locks.map((l) => h('li', { text: `🔒 ${lockName(ed, l.target)} · by ${l.by}` })))));
  return out;
}

function resultsView(ed, results) {
  if (!results) return section('Results', h('p', { class: 'muted', text: 'No vote has been revealed on this map yet.' }));
  const rows = [...results.totals].filter(([id]) => ed.map.cards.has(id)).sort((a, b) => b[1] - a[1]);
  let rank = 0;
  let last = null;
  return section(`Results${results.title ? `: ${results.title}` : ''}`,
    h('p', { class: 'muted', text: `Revealed ${when(results.revealedAt)}; ${results.voters} ${results.voters === 1 ? 'person' : 'people'} voted.` }),
    h('ol', { class: 'ws-results', dataset: { testid: 'ws-results' } }, ...rows.map(([id, n], i) => {
      if (n !== last) rank = i + 1;
      last = n;
      return h('li', { dataset: { testid: 'result-row', card: id, votes: String(n) } },
        h('span', { class: 'ws-rank', text: String(rank) }),
        h('button', { class: 'linklike', text: ed.label('cards', id) || 'Empty card', onclick: () => ed.reveal('cards', id) }),
        h('span', { class: `vote-total${n ? '' : ' zero'}`, text: `● ${n}` }));
    })));
}
