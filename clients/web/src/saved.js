// Where this page's edits are, in the top bar and the banner: on this device only, on their way to
// the server, or confirmed by it (outbox.js says what counts as confirmed).
import { h } from './dom.js';

export function savedNote() {
  return h('span', { class: 'saved-note', dataset: { testid: 'saved-state' }, attrs: { role: 'status' }, hidden: true });
}

const changes = (n) => `${n} change${n === 1 ? '' : 's'}`;

/**
 * What to say, for `state` the connection's as the bar shows it: `note` for the bar, `banner` for
 * the line under it while offline (null: nothing to add to the connection's own message).
 */
export function savedState(session, state) {
  const { outbox, local } = session;
  const n = outbox.unsent;
  const kept = local?.loaded;
  if (session.fatal) return { kind: '', note: '', banner: null }; // the banner says what happened
  if (n && state === 'connected') return { kind: 'sending', note: `Sending ${changes(n)}…`, banner: null };
  if (n && kept) return { kind: 'unsent', note: `${changes(n)} not sent`, banner: `Offline — ${changes(n)} saved on this device, not yet sent. They go to the server when the connection returns.` };
  if (n) return { kind: 'unsent', note: `${changes(n)} not sent`, banner: `Offline — ${changes(n)} kept in this tab only, not yet sent: keep the tab open until the connection returns.` };
  if (state === 'connected' && outbox.hadPending) return { kind: 'saved', note: 'All changes saved', banner: null };
  if (state === 'disconnected' && !session.synced && local?.hadContent) {
    return { kind: 'copy', note: 'Copy on this device', banner: 'Offline — showing the copy of this map saved on this device. Edits are kept here and sent when the connection returns.' };
  }
  return { kind: '', note: '', banner: null };
}

/** Brings the bar's note up to date; returns what the banner should say, if anything. */
export function renderSaved(el, session, state) {
  const { kind, note, banner } = savedState(session, state);
  el.hidden = !kind;
  el.dataset.state = kind;
  el.dataset.count = String(session.outbox.unsent);
  if (el.textContent !== note) el.textContent = note;
  if (banner) el.setAttribute('aria-label', banner);
  else el.removeAttribute('aria-label');
  return banner;
}
