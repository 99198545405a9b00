// Attendance of the workshop session for the facilitator (GET /api/v1/maps/{id}/attendance): a
// table of who was there, and the same as CSV or JSON to download.
import { h } from './dom.js';
import { api, explain, fetchBlob, saveBlob } from './api.js';

const time = (ms) => (typeof ms === 'number' ? new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '—');

export function renderAttendance(ed) {
  const path = `/maps/${encodeURIComponent(ed.mapId)}/attendance`;
  const body = h('div', { dataset: { testid: 'ws-attendance' } });
  const load = async () => {
    body.replaceChildren(h('p', { class: 'muted', text: 'Loading…' }));
    try {
      const res = await api(path);
      const list = res.attendance ?? [];
      if (!list.length) return body.replaceChildren(h('p', { class: 'muted', text: 'No session yet: start a workshop and attendance counts from then.' }));
      body.replaceChildren(h('table', { class: 'ws-attendance' },
        h('thead', {}, h('tr', {}, ...['Who', 'Joined', 'Left', 'Minutes', 'Votes'].map((t) => h('th', { text: t, attrs: { scope: 'col' } })))),
        h('tbody', {}, ...list.map((a) => h('tr', { dataset: { testid: 'attendance-row', user: a.user } },
          h('td', { text: a.user }), h('td', { text: time(a.firstJoined) }), h('td', { text: a.lastLeft ? time(a.lastLeft) : 'here' }),
          h('td', { text: String(Math.round((a.presentMs ?? 0) / 60000)) }), h('td', { text: String(a.votesCast ?? 0) }))))));
    } catch (e) {
      body.replaceChildren(h('p', { class: 'error', text: `Attendance could not be loaded: ${explain(e)}` }));
    }
  };
  const download = (format) => async () => {
    try {
      const blob = await fetchBlob(`${path}${format === 'csv' ? '?format=csv' : ''}`);
      saveBlob(blob, `${ed.mapId}-attendance.${format}`);
    } catch (e) {
      ed.toast(`Attendance could not be downloaded: ${explain(e)}`, 'error');
    }
  };
  return h('section', { class: 'ws-section' }, h('h3', { text: 'Attendance' }),
    h('div', { class: 'ws-row' },
      h('button', { class: 'small', text: 'Show attendance', dataset: { testid: 'ws-attendance-load' }, onclick: load }),
      h('button', { class: 'small', text: 'CSV', title: 'Download as CSV', dataset: { testid: 'ws-attendance-csv' }, onclick: download('csv') }),
      h('button', { class: 'small', text: 'JSON', title: 'Download as JSON', dataset: { testid: 'ws-attendance-json' }, onclick: download('json') })),
    body);
}
