// One open map: its Y.Doc, the WebSocket provider that syncs it, presence (awareness) and undo.
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { COLLECTIONS, LOCAL } from './model.js';
import { claims, roleAtLeast, token } from './api.js';
import { COLOURS } from './colours.js';
import { Workshop } from './workshop.js';
import { LocalCopy, localAvailable } from './localcopy.js';
import { Outbox } from './outbox.js';

const NAME_KEY = 'waymark.name';

/** The name shown to others: the token's, else one the user chose, else a guest name. */
export function myName() {
  if (claims?.name) return claims.name;
  if (claims?.sub) return claims.sub;
  let name = localStorage.getItem(NAME_KEY);
  if (!name) {
    name = `Guest ${Math.floor(100 + Math.random() * 900)}`;
    localStorage.setItem(NAME_KEY, name);
  }
  return name;
}

export function rememberName(name) {
  localStorage.setItem(NAME_KEY, name);
}

export function colourOf(clientId) {
  return COLOURS[clientId % COLOURS.length];
}

/**
 * Close codes after which reconnecting cannot help (PROTOCOL.md §7), and what to tell the user.
 * Every other close (a restart, an outage, a rate limit, storage trouble) is retried with backoff.
 */
const FINAL_CLOSES = {
  1002: 'The server could not read a message from this page. Reload the page to continue.',
  1003: 'The server could not read a message from this page. Reload the page to continue.',
  1007: 'The server could not apply an edit from this page. Reload the page to continue.',
  1008: 'The server refused this page\'s presence as too large. Reload the page to continue.',
  1009: 'An edit was larger than the server accepts; it was not saved. Reload the page to continue.',
  4001: 'Your access token has expired. Open the map again with a new link.',
  4003: 'Your access has been revoked. Sign in again to continue.',
  4004: 'This map has been deleted.',
  4009: 'The map has reached the size limit of the server; the last edit was not saved. Reload the page to continue.',
  4403: 'Your access token does not cover this map any more.',
};

export class Session {
  /**
   * `verified`: the page has just seen the map on the server; `createdAt`: the server's
   * `meta.createdAt` of it (see LocalCopy).
   */
  constructor(mapId, { verified = false, createdAt = null } = {}) {
    this.mapId = mapId;
    this.doc = new Y.Doc();
    // Only a page that can send its edits keeps a copy: a viewer's would hold edits it can never
    // send (PROTOCOL.md §1.5), and it reads the map from the server each time.
    this.local = roleAtLeast('editor') && localAvailable() ? new LocalCopy(mapId, this.doc, { createdAt }) : null;
    this.outbox = new Outbox(mapId, this.doc, { verified });
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.provider = new WebsocketProvider(`${scheme}://${location.host}/maps`, mapId, this.doc, {
      // `ext=workshop` (PROTOCOL.md §9.2): the server then sends the workshop's state to this page;
      // `events` (§9.1) tells it of versions restored (aware.js).
      params: token ? { token, ext: 'workshop,events' } : { ext: 'workshop,events' },
      // The server sends its own step 1 and answers ours; one resync a minute catches anything lost.
      resyncInterval: 60_000,
      maxBackoffTime: 2500,
      shouldReconnect: (event) => !(event.code in FINAL_CLOSES),
      WebSocketPolyfill: this.outbox.socketClass(),
      connect: false,
    });
    // Tabs of one person share edits directly; a tab opened with another person's token does not.
    this.provider.bcChannel += `#${claims?.sub ?? ''}`;
    this.outbox.foreign = (origin) => origin === this.provider || !!this.local?.isOrigin(origin);
    this.outbox.onChange(() => {
      this.local?.saveUnsent(this.outbox.unsent);
      this.emit();
    });
    this.local?.onChange(() => this.emit());
    // The stored copy first: the map shows without waiting for the server, and the server is then
    // sent only what it lacks.
    Promise.resolve(this.local?.ready).then(() => {
      if (this.destroyed) return;
      this.outbox.restore(this.local?.loaded ? this.local.unsent : 0);
      this.provider.connect();
    });
    this.workshop = new Workshop(this.provider);
    this.awareness = this.provider.awareness;
    this.awareness.setLocalStateField('user', {
      name: myName(),
      color: colourOf(this.doc.clientID),
      id: claims?.sub ?? null,
    });
    this.undo = new Y.UndoManager(
      COLLECTIONS.map((name) => this.doc.getMap(name)),
      { trackedOrigins: new Set([LOCAL]), captureTimeout: 600 },
    );
    this.status = 'connecting';
    this.synced = false;
    this.fatal = null;
    this.listeners = new Set();
    this.provider.on('status', ({ status }) => {
      this.status = status;
      this.emit();
    });
    this.provider.on('sync', (synced) => {
      this.synced = this.synced || synced;
      this.emit();
    });
    this.provider.on('closed', ({ code, reason }) => {
      this.fatal = { code, message: FINAL_CLOSES[code] ?? `The server closed the connection (${code} ${reason}).` };
      // A deleted map's copy must not bring it back, here or in the next page that opens it.
      if (code === 4004) this.local?.clear();
      this.emit();
    });
  }

  /** Calls `fn` on every change of connection state. */
  onState(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit() {
    for (const fn of this.listeners) fn(this);
  }

  destroy() {
    this.destroyed = true;
    this.outbox.destroy();
    this.local?.destroy();
    this.undo.destroy();
    this.provider.destroy();
    this.doc.destroy();
  }
}
