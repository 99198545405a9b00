// The map's copy on this device: an IndexedDB database per person and map (through y-indexeddb),
// loaded before the page connects so the map shows at once, even offline, and kept until the
// server has every edit in it; with it, how many of this page's changes the server has not
// confirmed yet, so a reload still knows.
import * as idb from 'lib0/indexeddb';
import { IndexeddbPersistence } from 'y-indexeddb';
import { claims } from './api.js';

// y-indexeddb's stores; `custom` also holds what this module keeps beside the document.
const STORES = [['updates', { autoIncrement: true }], ['custom']];
const UNSENT = 'waymark.unsent';
const CREATED = 'waymark.createdAt';

/**
 * The database of `mapId` for the person of this page's token. Another person's token in the same
 * browser profile gets another database: their unsent edits never load into, or leave from, a
 * page opened with someone else's token. (IndexedDB is per origin, so per server too.)
 */
export function localName(mapId) {
  return `waymark/${mapId}/${encodeURIComponent(claims?.sub ?? '')}`;
}

export function localAvailable() {
  return typeof indexedDB !== 'undefined';
}

async function exists(name) {
  if (!localAvailable()) return false;
  // Browsers without `databases()` cannot tell without opening; opening is harmless there,
  // because the schema is y-indexeddb's own.
  if (!indexedDB.databases) return true;
  try {
    return (await indexedDB.databases()).some((d) => d.name === name);
  } catch {
    return false;
  }
}

/** Whether this device holds a copy of `mapId` for this page's person. */
export const hasLocalCopy = (mapId) => exists(localName(mapId));

/** Deletes the copy of `mapId` on this device (the map is gone from the server). */
export async function clearLocalCopy(mapId) {
  if (await exists(localName(mapId))) await idb.deleteDB(localName(mapId)).catch(() => {});
}

async function readCustom(name, key) {
  const db = await idb.openDB(name, (d) => idb.createStores(d, STORES));
  try {
    const [custom] = idb.transact(db, ['custom'], 'readonly');
    return await idb.get(custom, key);
  } finally {
    db.close();
  }
}

export class LocalCopy {
  /**
   * Loads the copy into `doc`. `createdAt` is the server's `meta.createdAt` of the map, when the
   * page could ask: a copy kept for a map of the same id that was deleted and created again
   * (another `createdAt`) is thrown away rather than merged into the new map.
   */
  constructor(mapId, doc, { createdAt = null } = {}) {
    this.name = localName(mapId);
    this.doc = doc;
    this.loaded = false;
    this.hadContent = false;
    this.unsent = 0;
    this.safe = true;
    this.cleared = false;
    this.persistence = null;
    this.listeners = new Set();
    this.ready = this.open(createdAt).catch(() => {
      // No storage (a private window, a full disk): the page works as before, from memory.
      this.persistence = null;
    });
  }

  async open(createdAt) {
    if (createdAt && await exists(this.name)) {
      const kept = await readCustom(this.name, CREATED).catch(() => null);
      if (kept && kept !== createdAt) await idb.deleteDB(this.name);
    }
    if (this.cleared) return;
    this.persistence = new IndexeddbPersistence(this.name, this.doc);
    await this.persistence.whenSynced;
    if (this.cleared) return;
    this.hadContent = this.doc.store.clients.size > 0;
    this.unsent = Number(await this.persistence.get(UNSENT)) || 0;
    if (createdAt) await this.persistence.set(CREATED, createdAt);
    this.loaded = true;
    this.emit();
  }

  /** Whether `origin` is this copy loading into the document (not an edit of this page). */
  isOrigin(origin) {
    return origin === this.persistence;
  }

  /**
   * Records how many changes are not yet confirmed, after the update that made them: y-indexeddb
   * wrote it in a transaction on `updates` when the document changed, and this transaction spans
   * that store too, so it completes only after that write did. Then the change is safe here.
   */
  saveUnsent(count) {
    this.unsent = count;
    if (!this.persistence?.db || this.cleared) return;
    this.safe = false;
    const mark = (this.mark ?? 0) + 1;
    this.mark = mark;
    // Deferred a turn: y-indexeddb's own update listener may run after the caller's.
    setTimeout(() => {
      if (this.cleared || !this.persistence?.db) return;
      try {
        const tx = this.persistence.db.transaction(['updates', 'custom'], 'readwrite');
        tx.objectStore('custom').put(this.unsent, UNSENT);
        tx.oncomplete = () => {
          if (this.mark === mark) {
            this.safe = true;
            this.emit();
          }
        };
      } catch {
        // the database was closed meanwhile (the page is leaving, or the copy was cleared)
      }
    }, 0);
  }

  /** Throws the copy away: the map was deleted on the server. */
  async clear() {
    this.cleared = true;
    this.loaded = false;
    this.safe = true;
    this.unsent = 0;
    await this.ready;
    await this.persistence?.destroy();
    await idb.deleteDB(this.name).catch(() => {});
    this.emit();
  }

  onChange(fn) {
    this.listeners.add(fn);
  }

  emit() {
    for (const fn of this.listeners) fn();
  }

  destroy() {
    this.persistence?.destroy();
  }
}
