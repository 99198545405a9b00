// The top bar's word on where this page's edits are: on this device only, on their way to the
// server, or confirmed by it (see outbox.js for what counts as confirmed).
import { h } from './dom.js';

export function savedNote() {
  return h('span', { class: 'saved-note', dataset: { testid: 'saved-state' }, attrs: { role: 'status' }, hidden: true });
}

const changes = (n) => `${n} change${n === 1 ? '' : 's'}`;

/** Brings the note up to date with the session; `state` is the connection's, as the bar shows it. */
export function renderSaved(el, session, state) {
  const { outbox, local } = session;
  const n = outbox.unsent;
  let kind = '';
  let text = '';
  if (session.fatal) {
    // The banner says what happened; a count of edits that cannot go anywhere would only confuse.
  } else if (n && state === 'connected') {
    kind = 'sending';
    text = `Sending ${changes(n)}…`;
  } else if (n) {
    kind = 'unsent';
    text = local?.loaded ? `${changes(n)} saved on this device, not yet sent` : `${changes(n)} kept in this tab only, not yet sent`;
  } else if (state === 'connected' && outbox.hadPending) {
    kind = 'saved';
    text = 'All changes saved';
  } else if (state === 'disconnected' && !session.synced && local?.hadContent) {
    kind = 'copy';
    text = 'Showing the copy saved on this device';
  }
  el.hidden = !kind;
  el.dataset.state = kind;
  el.dataset.count = String(n);
  if (el.textContent !== text) el.textContent = text;
}
