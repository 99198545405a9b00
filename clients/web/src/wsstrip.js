// The workshop strip under the top bar, for everyone while a workshop runs: the timer (counted down
// from the server's clock, so every page shows the same time), the open vote and one's votes left,
// the private round, and whether this page follows the leader. Also the hand and reaction buttons.
import { h } from './dom.js';
import { clock } from './workshop.js';
import { REACTIONS } from './presence.js';

export class Strip {
  constructor(ed) {
    this.ed = ed;
    this.ws = ed.session.workshop;
    this.timerText = h('span', { class: 'ws-time', dataset: { testid: 'timer-time' } });
    this.timerLabel = h('span', { class: 'ws-timer-label', dataset: { testid: 'timer-label' } });
    this.timer = h('div', { class: 'ws-timer', dataset: { testid: 'timer' }, attrs: { role: 'timer', 'aria-live': 'off' } }, this.timerText, this.timerLabel);
    this.info = h('div', { class: 'ws-info' });
    this.el = h('div', { class: 'ws-strip', hidden: true, dataset: { testid: 'ws-strip' } },
      h('span', { class: 'ws-title', dataset: { testid: 'ws-title' } }), this.timer, this.info);
    this.beeps = 0;
    this.ws.on((kind) => kind === 'state' && this.render());
    ed.follow.on(() => this.render());
    setInterval(() => this.tick(), 250);
    // Browsers let a page play sound only after a gesture: the first click anywhere unlocks it.
    document.addEventListener('pointerdown', () => this.audio(), { once: true });
    this.render();
  }

  /** The hand and reaction buttons, for the top bar. */
  controls() {
    const p = this.ed.presence;
    this.handBtn = h('button', {
      class: 'ghost icon-btn', text: '✋', title: 'Raise your hand', dataset: { testid: 'raise-hand' },
      attrs: { 'aria-pressed': 'false', 'aria-label': 'Raise your hand' },
      onclick: () => {
        p.toggleHand();
        this.renderHand();
      },
    });
    const menu = h('div', { class: 'react-menu', hidden: true, dataset: { testid: 'react-menu' } },
      ...REACTIONS.map((emoji) => h('button', {
        class: 'ghost', text: emoji, dataset: { testid: 'reaction-button', emoji }, attrs: { 'aria-label': `React with ${emoji}` },
        onclick: () => {
          p.react(emoji);
          menu.hidden = true;
        },
      })));
    const react = h('button', { class: 'ghost icon-btn', text: '☺', title: 'React', dataset: { testid: 'react' }, attrs: { 'aria-label': 'React' }, onclick: () => { menu.hidden = !menu.hidden; } });
    return h('span', { class: 'presence-tools' }, this.handBtn, h('span', { class: 'react-wrap' }, react, menu));
  }

  renderHand() {
    const up = this.ed.presence.handRaised;
    this.handBtn.setAttribute('aria-pressed', String(up));
    this.handBtn.title = up ? 'Lower your hand' : 'Raise your hand';
  }

  audio() {
    try {
      this.ctx ??= new AudioContext();
      if (this.ctx.state === 'suspended') this.ctx.resume();
    } catch {
      this.ctx = null; // no sound here: the flash says it
    }
    return this.ctx;
  }

  beep() {
    this.beeps++;
    this.timer.dataset.beeps = String(this.beeps);
    const ctx = this.audio();
    if (!ctx) return;
    const t = ctx.currentTime;
    for (const [at, freq] of [[0, 880], [0.25, 660]]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + at);
      gain.gain.exponentialRampToValueAtTime(0.2, t + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.22);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + at);
      osc.stop(t + at + 0.25);
    }
  }

  tick() {
    const t = this.ws.workshop.timer;
    const left = this.ws.remaining();
    if (left === null) {
      this.timer.hidden = true;
      this.lastLeft = null;
      return;
    }
    this.timer.hidden = false;
    const state = !t.running ? 'paused' : left === 0 ? 'done' : left <= 10_000 ? 'ending' : 'running';
    const text = clock(left);
    if (this.timerText.textContent !== text) this.timerText.textContent = text;
    const label = state === 'paused' ? `Paused${t.label ? ` · ${t.label}` : ''}` : state === 'done' ? `Time is up${t.label ? ` · ${t.label}` : ''}` : t.label || 'Timer';
    if (this.timerLabel.textContent !== label) this.timerLabel.textContent = label;
    if (this.timer.dataset.state !== state) this.timer.dataset.state = state;
    this.timer.dataset.remaining = String(Math.ceil(left / 1000));
    // A beep when it reaches zero while watched, not when a page opens on a timer long run out.
    if (state === 'done' && this.lastLeft && this.lastLeft > 0) this.beep();
    this.lastLeft = left;
  }

  render() {
    const w = this.ws.workshop;
    const you = this.ws.you;
    const f = this.ed.follow;
    const shown = !!(w.session || w.timer || w.vote || w.round || w.follow);
    this.el.hidden = !shown;
    this.el.querySelector('.ws-title').textContent = w.session ? `Workshop${w.session.title ? `: ${w.session.title}` : ''}` : 'Workshop';
    const parts = [];
    if (w.vote) {
      parts.push(h('span', { class: 'ws-pill vote', dataset: { testid: 'vote-status' } },
        `Dot-vote${w.vote.title ? ` “${w.vote.title}”` : ''} · `,
        h('strong', { dataset: { testid: 'votes-left', left: String(you?.votesLeft ?? 0) }, text: `votes left: ${you?.votesLeft ?? 0}` }),
        this.ws.facilitator && typeof w.vote.voters === 'number' ? ` · ${w.vote.voters} voted` : ''));
    }
    if (w.round) {
      const counts = w.round.counts;
      const text = this.ws.facilitator && counts
        ? privateCount(counts)
        : `Private round: your new cards are only visible to you until they are revealed${you?.cards?.length ? ` (${you.cards.length} so far)` : ''}`;
      parts.push(h('span', { class: 'ws-pill round', dataset: { testid: 'round-status' }, text }));
    }
    if (w.locks?.some((l) => l.target === 'structure')) {
      const by = w.locks.find((l) => l.target === 'structure').by;
      parts.push(h('span', { class: 'ws-pill lock', title: `Locked by ${by}`, dataset: { testid: 'structure-locked' }, text: `🔒 Structure locked by ${by}` }));
    }
    if (f.leaderClient !== null) {
      parts.push(f.following
        ? h('span', { class: 'ws-pill follow', dataset: { testid: 'follow-status', state: 'following' } },
          `Following ${f.leaderName} `, h('button', { class: 'small', text: 'Stop', onclick: () => f.breakAway() }))
        : h('span', { class: 'ws-pill follow off', dataset: { testid: 'follow-status', state: 'stopped' } },
          'You stopped following — ', h('button', { class: 'small primary', text: 'Follow again', dataset: { testid: 'follow-again' }, onclick: () => f.followAgain() })));
    } else if (w.follow && this.ws.facilitator) {
      parts.push(h('span', { class: 'ws-pill follow', dataset: { testid: 'follow-status', state: 'leading' }, text: 'Everyone follows you' }));
    }
    this.info.replaceChildren(...parts);
    this.tick();
  }
}

/** "5 private cards from 3 people". */
export function privateCount(counts) {
  const people = Object.values(counts).filter((n) => n > 0).length;
  const cards = Object.values(counts).reduce((a, n) => a + n, 0);
  return `${cards} private card${cards === 1 ? '' : 's'} from ${people} ${people === 1 ? 'person' : 'people'}`;
}
