// Others' changes to what one is working on: a notice when someone else deletes the card one is
// editing (who, "Restore it", "Copy text"), and when someone restores a version while one types
// ("X restored version N", "Put my text back"). Who deleted a card travels in the deleter's
// presence (`deleted`, PROTOCOL.md §5), sent just before the deletion itself; a restore is told by
// the `events` extension (PROTOCOL.md §9.1), whose `pre-restore` version names who restored.
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { h, toast } from './dom.js';
import * as M from './model.js';

const EVENT = 101;
/** How long a presence's `deleted` or a restore event explains a deletion, in ms. */
const RECENT = 10_000;
/** A draft older than this is no longer offered back after a restore. */
const DRAFT_MS = 5 * 60_000;

const plain = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v) || (typeof v === 'object' && !(v instanceof Y.AbstractType));

/** A card's fields as plain values (its text as a string), unknown ones included. */
function fieldsOf(ymap) {
  const out = {};
  ymap.forEach((v, k) => {
    if (v instanceof Y.Text) out[k] = v.toString();
    else if (plain(v)) out[k] = v;
  });
  return out;
}

export class Aware {
  constructor(ed) {
    this.ed = ed;
    this.doc = ed.doc;
    this.awareness = ed.session.awareness;
    this.snap = null; // the card one is on, as of the last render
    this.draft = null; // what one last typed: { collection, id, key, value, at }
    this.restorer = null; // { number, author } of the newest pre-restore version
    this.restored = null; // { number, by, at } of the newest restore by someone else
    this.selfRestoreAt = 0;
    this.notices = h('div', { class: 'notices', dataset: { testid: 'notices' }, attrs: { role: 'region', 'aria-label': 'Changes by others' } });
    this.doc.getMap('cards').observe((event, tr) => this.onCards(event, tr));
    ed.session.provider.messageHandlers[EVENT] = (_enc, dec) => this.onEvent(decoding.readVarString(dec));
    document.addEventListener('input', (e) => this.onInput(e), true);
    // This page's own restore (the Versions panel) is not someone else's.
    document.addEventListener('click', (e) => {
      if (e.target.closest?.('[data-testid=confirm-restore]')) this.selfRestoreAt = Date.now();
    }, true);
  }

  /** The card whose text has the focus, or whose details are open. */
  current() {
    const ed = this.ed;
    if (ed.board.editing) return { id: ed.board.editing.id, field: ed.board.editing.field };
    const sel = ed.selection;
    if (ed.panel === 'details' && sel?.collection === 'cards') return { id: sel.id, field: ed.panelBody.querySelector('[data-testid=details-text]') };
    return null;
  }

  /** After each render: remember the card one is on, to bring it back if it goes. */
  remember() {
    const cur = this.current();
    const ymap = cur && this.doc.getMap('cards').get(cur.id);
    if (!(ymap instanceof Y.Map)) {
      this.snap = null;
      return;
    }
    const links = [];
    this.doc.getMap('links').forEach((l, id) => {
      if (l instanceof Y.Map && (l.get('from') === cur.id || l.get('to') === cur.id)) links.push({ id, fields: fieldsOf(l) });
    });
    this.snap = { id: cur.id, fields: fieldsOf(ymap), links };
  }

  onInput(e) {
    const el = e.target;
    const ed = this.ed;
    const testid = el.dataset?.testid;
    if (el.matches?.('[data-testid=card-editor]') && ed.board.editing) {
      this.draft = { collection: 'cards', id: ed.board.editing.id, key: 'text', value: el.value, at: Date.now() };
    } else if (ed.panelBody.contains(el) && ed.selection && el.matches('input, textarea') && testid) {
      const key = testid === 'details-text' ? 'text' : testid.startsWith('field-') ? testid.slice(6) : null;
      if (key) this.draft = { collection: ed.selection.collection, id: ed.selection.id, key, value: el.value, at: Date.now() };
    }
  }

  onCards(event, tr) {
    const mine = tr.origin === M.LOCAL || tr.origin === this.ed.session.undo;
    const gone = [];
    for (const [key, change] of event.changes.keys) if (change.action === 'delete') gone.push(key);
    if (!gone.length) return;
    // Said before the update leaves: awareness goes out at once, the update when the transaction ends.
    if (mine) this.awareness.setLocalStateField('deleted', { cards: gone.slice(0, 50), at: Date.now() });
    else if (this.snap && gone.includes(this.snap.id)) this.lost(this.snap);
  }

  /** Who deleted card `id`: a person whose presence says so, or whoever just restored a version. */
  deleter(id) {
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.awareness.clientID) continue;
      if (state?.deleted?.cards?.includes?.(id) && state.user?.name) return { name: state.user.name };
    }
    if (this.restored && Date.now() - this.restored.at < RECENT) return { name: this.restored.by, version: this.restored.number };
    return null;
  }

  lost(snap) {
    const cur = this.current();
    const typed = cur?.id === snap.id && cur.field ? cur.field.value : String(snap.fields.text ?? '');
    const card = { ...snap, typed };
    const message = h('p', { class: 'notice-text' });
    const say = () => {
      const who = this.deleter(snap.id);
      const what = `“${short(typed) || 'an empty card'}”`;
      message.textContent = who?.version
        ? `${who.name} restored version ${who.version}, which does not have the card you were editing: ${what}.`
        : `${who?.name ?? 'Someone'} deleted the card you were editing: ${what}.`;
      // One notice for one restore: this one says what it did to the card.
      if (who?.version) this.notices.querySelector('[data-kind=version-restored]')?.remove();
      return who;
    };
    const notice = this.notice('card-deleted', message, [
      !this.ed.readOnly && ['Restore it', 'notice-restore', () => this.bringBack(card)],
      ['Copy text', 'notice-copy', () => copy(typed)],
    ]);
    // The deleter's presence may still be on its way; a restore's event comes after its edits.
    if (!say()) {
      const again = () => {
        if (say() || !notice.isConnected) stop();
      };
      const stop = () => {
        this.awareness.off('change', again);
        this.reexplain = null;
      };
      this.awareness.on('change', again);
      this.reexplain = again;
      setTimeout(stop, RECENT);
    }
  }

  /** The card again, with its fields, links and what one had typed, in its lane and step if they exist. */
  bringBack({ id, fields, links, typed }) {
    const ed = this.ed;
    const map = ed.map;
    ed.board.stopEditing(); // the card's old editor went with it
    const lanes = map.lanes.filter((l) => l.kind !== 'emotions');
    const laneOk = lanes.some((l) => l.id === fields.laneId);
    const stepOk = map.steps.some((s) => s.id === fields.stepId);
    if (!lanes.length || !map.steps.length) return toast('There is no lane or step left to put the card in.', 'error');
    const lane = laneOk ? fields.laneId : lanes[0].id;
    const step = stepOk ? fields.stepId : map.steps[0].id;
    M.edit(this.doc, () => {
      const m = new Y.Map();
      this.doc.getMap('cards').set(id, m);
      for (const [k, v] of Object.entries(fields)) if (k !== 'text') m.set(k, v);
      m.set('laneId', lane);
      m.set('stepId', step);
      if (fields.endStepId && !map.steps.some((s) => s.id === fields.endStepId)) m.delete('endStepId');
      m.set('text', new Y.Text(typed));
      const cards = this.doc.getMap('cards');
      for (const l of links) {
        const other = l.fields.from === id ? l.fields.to : l.fields.from;
        if (other !== id && !(cards.get(other) instanceof Y.Map)) continue;
        const lm = new Y.Map();
        this.doc.getMap('links').set(l.id, lm);
        for (const [k, v] of Object.entries(l.fields)) lm.set(k, v);
      }
    });
    if (!laneOk || !stepOk) toast('Its lane or step is gone: the card is back in the first one.');
    ed.afterRender(() => ed.select('cards', id, true));
  }

  onEvent(json) {
    let msg;
    try {
      msg = JSON.parse(json);
    } catch {
      return;
    }
    if (msg?.type === 'version.created' && msg.version?.kind === 'pre-restore') {
      this.restorer = { number: msg.version.number, author: msg.version.author };
    } else if (msg?.type === 'version.restored' && typeof msg.version?.number === 'number') {
      if (Date.now() - this.selfRestoreAt < 30_000) return;
      const by = (this.restorer?.number === msg.safetyVersion && this.restorer.author) || 'Someone';
      this.restored = { number: msg.version.number, by, at: Date.now() };
      // A deletion notice already up was this restore's doing: it says so now.
      this.reexplain?.();
      if (!this.notices.querySelector('[data-kind=card-deleted]')) this.restoredNotice(this.restored);
    }
  }

  /**
   * "X restored version N", offering one's draft back once the restore's edits replaced it: they
   * may arrive just before or just after the event, so the notice follows the document a while.
   */
  restoredNotice({ number, by }) {
    const draft = this.draft && Date.now() - this.draft.at < DRAFT_MS ? this.draft : null;
    let shown = null;
    let el = null;
    const show = () => {
      const now = draft && this.valueOf(draft);
      const differs = !!draft && now !== null && now !== draft.value;
      if (shown === differs && el?.isConnected) return;
      shown = differs;
      const message = h('p', { class: 'notice-text', text: `${by} restored version ${number}.${differs ? ' What you were typing was replaced; you can put it back.' : ''}` });
      el = this.notice('version-restored', message, differs ? [
        !this.ed.readOnly && ['Put my text back', 'notice-put-back', () => this.putBack(draft)],
        ['Copy text', 'notice-copy', () => copy(draft.value)],
      ] : []);
    };
    show();
    if (!draft) return;
    const follow = () => {
      if (el.isConnected) show();
      else this.doc.off('update', follow);
    };
    this.doc.on('update', follow);
    setTimeout(() => this.doc.off('update', follow), RECENT);
  }

  /** The current value of a draft's field, or null when its entity is gone. */
  valueOf({ collection, id, key }) {
    const entity = this.doc.getMap(collection).get(id);
    if (!(entity instanceof Y.Map)) return null;
    const v = entity.get(key);
    return v instanceof Y.Text ? v.toString() : typeof v === 'string' ? v : '';
  }

  putBack({ collection, id, key, value }) {
    if (collection === 'cards' && key === 'text') {
      const text = this.ed.cardText(id);
      if (!text) return;
      M.edit(this.doc, () => {
        text.delete(0, text.length);
        text.insert(0, value);
      });
    } else M.update(this.doc, collection, id, { [key]: value });
  }

  /** Shows a notice with actions `[label, testid, fn]`; each action and ✕ dismiss it. */
  notice(kind, message, actions) {
    this.notices.querySelector(`[data-kind="${kind}"]`)?.remove();
    const el = h('div', { class: 'notice', dataset: { testid: 'notice', kind }, attrs: { role: 'alert' } });
    const close = () => el.remove();
    el.append(message, h('div', { class: 'notice-actions' },
      ...actions.filter(Boolean).map(([label, testid, fn]) => h('button', {
        class: testid === 'notice-copy' ? 'small' : 'small primary', text: label, dataset: { testid },
        onclick: async () => {
          if (await fn() !== false) close();
        },
      })),
      h('button', { class: 'ghost small', text: '✕', dataset: { testid: 'notice-close' }, attrs: { 'aria-label': 'Dismiss' }, onclick: close })));
    this.notices.append(el);
    return el;
  }
}

function short(s, max = 60) {
  const flat = String(s).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied.');
    return true;
  } catch {
    toast('The browser did not allow copying: select the text and copy it yourself.', 'error');
    return false;
  }
}
