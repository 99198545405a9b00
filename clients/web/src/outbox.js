// Which of this page's changes the server is known to have, and the gate every connection passes
// through: the WebSocket the provider is given, which first asks the REST API whether the map
// still exists (a connection to a deleted map would create it anew, PROTOCOL.md §1.2, and this
// page's copy would fill it again) and watches the sync messages go by.
//
// The server acknowledges nothing (PROTOCOL.md §3.2), but it answers every SyncStep1 with a
// SyncStep2, in order, and everything a client sent before that SyncStep1 is durable when the
// answer comes. y-websocket's `synced` is the answer to the step 1 it sends on connecting, before
// its own step 2 carries the offline edits, so it proves nothing about them; this page sends one
// more step 1 after its step 2 (and after edits made while connected), and a change counts as sent
// when the answer to a step 1 sent after it arrives.
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { api } from './api.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** Edits closer together than this are one change, as the undo manager groups them. */
const CHANGE_GAP = 600;
/** How long after the last edit made while connected the page asks for its confirmation. */
const PROBE_DELAY = 800;

/**
 * The close this page reports when the REST API refuses the map (an HTTP status), with the code
 * the server would have closed with (PROTOCOL.md §7); other failures are retried with backoff.
 */
const REFUSALS = { 401: 4001, 403: 4403, 404: 4004 };

export class Outbox {
  /**
   * `verified`: the page has just seen the map on the server, so the first connection need not
   * ask again.
   */
  constructor(mapId, doc, { verified = false } = {}) {
    this.mapId = mapId;
    this.doc = doc;
    this.verified = verified;
    /** Whether an update's origin is not an edit of this page (the server's, the stored copy's). */
    this.foreign = () => false;
    this.seq = 0;
    this.confirmed = -1;
    /** The sequence number of the last update of each change not yet confirmed. */
    this.pending = [];
    this.hadPending = false;
    this.lastAt = -Infinity;
    this.socket = null;
    this.timer = null;
    this.listeners = new Set();
    // Registered before the provider's listener, so an edit is counted before it is sent.
    doc.on('update', (update, origin) => this.changed(origin));
  }

  /** How many changes of this page the server has not confirmed. */
  get unsent() {
    return this.pending.length;
  }

  /** Changes a previous page left unconfirmed (read from the stored copy). */
  restore(count) {
    if (!count) return;
    this.pending = [...new Array(count).fill(0), ...this.pending];
    this.hadPending = true;
    this.emit();
  }

  changed(origin) {
    if (this.foreign(origin)) return;
    this.seq += 1;
    const now = performance.now();
    if (this.pending.length && now - this.lastAt < CHANGE_GAP) this.pending[this.pending.length - 1] = this.seq;
    else this.pending.push(this.seq);
    this.lastAt = now;
    this.hadPending = true;
    this.emit();
  }

  /** Every frame this page sends; `replied` once its step 2 is out, after which edits go out as made. */
  sent(socket, bytes) {
    if (bytes[0] !== 0) return;
    if (bytes[1] === 0) socket.probes.push(socket.replied ? this.seq : null);
    else if (bytes[1] === 1) {
      socket.replied = true;
      this.probe(socket);
    } else if (bytes[1] === 2 && socket.replied) this.probeSoon(socket);
  }

  received(socket, bytes) {
    if (bytes[0] !== 0 || bytes[1] !== 1) return;
    const covered = socket.probes.shift();
    if (covered == null || covered <= this.confirmed) return;
    this.confirmed = covered;
    this.pending = this.pending.filter((seq) => seq > covered);
    this.emit();
  }

  probe(socket) {
    clearTimeout(this.timer);
    if (socket.readyState !== OPEN) return;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0);
    encoding.writeVarUint(encoder, 0);
    encoding.writeVarUint8Array(encoder, Y.encodeStateVector(this.doc));
    socket.send(encoding.toUint8Array(encoder));
  }

  probeSoon(socket) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.socket === socket && this.pending.length) this.probe(socket);
    }, PROBE_DELAY);
  }

  /** 0 when a connection may be opened, else the close code that says why not. */
  async admit() {
    if (this.verified) {
      this.verified = false;
      return 0;
    }
    try {
      await api(`/maps/${encodeURIComponent(this.mapId)}/activity?limit=1`);
      return 0;
    } catch (e) {
      return REFUSALS[e.status] ?? 1006;
    }
  }

  /** The WebSocket class for the provider: a real one, opened once `admit` allows. */
  socketClass() {
    const outbox = this;
    return class GatedSocket {
      constructor(url, protocols) {
        this.readyState = CONNECTING;
        this.binaryType = 'arraybuffer';
        this.onopen = this.onmessage = this.onerror = this.onclose = null;
        this.ws = null;
        this.probes = [];
        this.replied = false;
        outbox.admit().then((refusal) => {
          if (this.readyState !== CONNECTING) return;
          if (refusal) return this.finish({ code: refusal, reason: '' });
          const ws = new WebSocket(url, protocols);
          ws.binaryType = 'arraybuffer';
          this.ws = ws;
          ws.onopen = (e) => {
            this.readyState = OPEN;
            outbox.socket = this;
            this.onopen?.(e);
          };
          ws.onmessage = (e) => {
            this.onmessage?.(e);
            outbox.received(this, new Uint8Array(e.data));
          };
          ws.onerror = (e) => this.onerror?.(e);
          ws.onclose = (e) => this.finish(e);
        });
      }

      get CONNECTING() { return CONNECTING; }
      get OPEN() { return OPEN; }
      get CLOSING() { return CLOSING; }
      get CLOSED() { return CLOSED; }

      send(data) {
        if (this.readyState !== OPEN) return;
        this.ws.send(data);
        outbox.sent(this, data instanceof Uint8Array ? data : new Uint8Array(data));
      }

      close() {
        if (this.readyState === CLOSED) return;
        if (this.ws) {
          this.readyState = CLOSING;
          this.ws.close();
        } else {
          this.readyState = CLOSED;
        }
      }

      finish(event) {
        this.readyState = CLOSED;
        if (outbox.socket === this) outbox.socket = null;
        this.onclose?.(event);
      }
    };
  }

  onChange(fn) {
    this.listeners.add(fn);
  }

  emit() {
    for (const fn of this.listeners) fn();
  }

  destroy() {
    clearTimeout(this.timer);
  }
}
