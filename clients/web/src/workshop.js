// The workshop extension (PROTOCOL.md §9.2) on this page's connection: the Extensions answer (100),
// the server's workshop state (103) and commands (102), the server's clock, and the locks it enforces.
// The server holds everything; this keeps only the latest state it sent, so a reload or reconnect
// shows the same workshop again without re-sending anything.
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { toast } from './dom.js';

const EXTENSIONS = 100;
const COMMAND = 102;
const STATE = 103;
const AUTH = 2;

const EMPTY = { session: null, timer: null, follow: null, locks: [], vote: null, round: null };

const ERRORS = {
  forbidden: 'Your role does not allow this.',
  no_workshop: 'There is nothing open for that (no vote or round, or it has ended).',
  not_in_vote: 'That card is not part of this vote.',
  no_votes_left: 'You have no votes left: take one back to place it elsewhere.',
  card_limit: 'You have placed as many votes on that card as allowed.',
  no_vote_there: 'You have no vote on that card to take back.',
  busy: 'A vote or private round is already open: reveal or cancel it first.',
  not_yours: 'That private card is not yours.',
};

export class Workshop {
  constructor(provider) {
    this.provider = provider;
    this.granted = false;
    this.workshop = EMPTY;
    this.you = null;
    this.offset = 0; // server clock minus ours, from the newest state
    this.received = false;
    this.listeners = new Set();
    const handlers = provider.messageHandlers;
    handlers[EXTENSIONS] = (_enc, dec) => {
      const names = [];
      for (let n = decoding.readVarUint(dec); n > 0; n--) names.push(decoding.readVarString(dec));
      this.granted = names.includes('workshop');
    };
    handlers[STATE] = (_enc, dec) => this.receive(decoding.readVarString(dec));
    // y-websocket only logs a refusal; a lock is worth telling the person (their edit was undone).
    handlers[AUTH] = (_enc, dec) => {
      if (decoding.readVarUint(dec) !== 0) return;
      const reason = decoding.readVarString(dec);
      if (reason.startsWith('locked')) toast(lockedMessage(reason), 'error');
      else console.warn(`Permission denied: ${reason}`);
      this.emit('denied', reason);
    };
  }

  receive(json) {
    let msg;
    try {
      msg = JSON.parse(json);
    } catch {
      return;
    }
    if (msg.type === 'state') {
      this.workshop = { ...EMPTY, ...msg.workshop };
      this.you = msg.you ?? null;
      if (typeof msg.now === 'number') this.offset = msg.now - Date.now();
      this.received = true;
      this.emit('state');
    } else if (msg.type === 'error') {
      toast(ERRORS[msg.code] ?? msg.message ?? `The workshop refused ${msg.op}.`, 'error');
      this.emit('error', msg);
    }
  }

  /** Calls `fn(kind, detail)` on every state, error and refusal. */
  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(kind, detail) {
    for (const fn of this.listeners) fn(kind, detail);
  }

  /** The server's time now, in ms since the epoch. */
  now() {
    return Date.now() + this.offset;
  }

  /** Sends a command; false (and a toast) when it cannot be sent now. */
  send(op, fields = {}) {
    const ws = this.provider.ws;
    if (!this.granted || !ws || ws.readyState !== WebSocket.OPEN) {
      toast('Not connected to the workshop right now: try again in a moment.', 'error');
      return false;
    }
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, COMMAND);
    encoding.writeVarString(enc, JSON.stringify({ op, ...fields }));
    ws.send(encoding.toUint8Array(enc));
    return true;
  }

  get facilitator() {
    return this.you?.role === 'facilitator' || this.you?.role === 'owner';
  }

  get active() {
    return !!this.workshop.session;
  }

  /** Milliseconds left on the timer as of now, or null without one. */
  remaining() {
    const t = this.workshop.timer;
    if (!t) return null;
    if (t.running && typeof t.endsAt === 'number') return Math.max(0, t.endsAt - this.now());
    return Math.max(0, t.remaining ?? 0);
  }

  lock(target) {
    return this.workshop.locks?.find((l) => l.target === target) ?? null;
  }

  /**
   * The lock that keeps the caller from changing an entity (`cards`, `lanes`, `steps`, `stages`),
   * given the card's lane; null when it may. Facilitators are never bound (§9.2).
   */
  blocking(collection, id, laneId = null) {
    if (this.facilitator || !this.workshop.locks?.length) return null;
    if (collection === 'cards') return this.lock(`cards/${id}`) ?? (laneId && this.lock(`lanes/${laneId}`));
    if (collection === 'lanes') return this.lock('structure') ?? this.lock(`lanes/${id}`);
    return this.lock('structure');
  }
}

function lockedMessage(reason) {
  const what = reason.replace(/^locked:\s*/, '');
  return `That is locked by the facilitator, so your change was undone${what ? ` (${what})` : ''}.`;
}

/** "4:05", "1:02:03". */
export function clock(ms) {
  const s = Math.ceil(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
