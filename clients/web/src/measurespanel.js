// The details of a selected touchpoint or metric: their fields, a metric's measurements newest first
// and the form that records one. Fields write as they change, like the rest of the details panel.
import { h, confirmDialog, promptDialog } from './dom.js';
import * as M from './model.js';
import { channelLooks } from './channels.js';
import { DIRECTIONS, METRIC_TYPES, byDate, isDate, parseNumber, today, withUnit } from './measures.js';
import { addChannel, addMeasurement, addMetric, deleteMeasurement, deleteMetric, deleteTouchpoint } from './measuresedit.js';
import { valueLine } from './measuresboard.js';

let uid = 0;

function field(label, control, note = null) {
  const id = `mf${++uid}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { attrs: { for: id }, text: label }), control, note);
}

function text(ed, collection, entity, key, label, { placeholder = '' } = {}) {
  const control = h('input', { value: entity[key] ?? '', placeholder, dataset: { testid: `field-${key}` } });
  control.disabled = ed.readOnly;
  control.addEventListener('input', () => M.update(ed.doc, collection, entity.id, { [key]: control.value.trim() ? control.value : null }));
  return field(label, control);
}

/** A select of `options` ([value, label]); `blank`: the label of no value (null: a value is required). */
function choice(ed, label, key, current, options, onChange, { blank = '—', gone = null } = {}) {
  const known = options.some(([v]) => v === current);
  const control = h('select', { dataset: { testid: `field-${key}` } },
    blank === null ? null : h('option', { value: '', text: blank, selected: !current }),
    current && !known ? h('option', { value: current, text: gone ?? 'A removed one', selected: true }) : null,
    ...options.map(([v, text]) => h('option', { value: v, text, selected: v === current })));
  control.disabled = ed.readOnly;
  control.addEventListener('change', () => onChange(control.value || null, control));
  return field(label, control);
}

const set = (ed, collection, id, key) => (value) => M.update(ed.doc, collection, id, { [key]: value });
const stepOptions = (map) => map.steps.map((s) => [s.id, s.name || 'Untitled step']);

/** The details of a touchpoint or metric; `el` is the details panel. */
export function renderTypedDetails(el, ed, sel, entity) {
  const parts = sel.collection === 'touchpoints' ? touchpointDetails(ed, entity) : metricDetails(ed, entity);
  el.replaceChildren(...parts.filter(Boolean));
}

function touchpointDetails(ed, t) {
  const map = ed.map;
  const looks = channelLooks(map.channels);
  const NEW = '\u0000new';
  const channel = choice(ed, 'Channel', 'channelId', t.channelId, [...map.channels.map((c) => [c.id, `${looks.get(c.id).icon} ${c.name || 'Unnamed channel'}`]), [NEW, '+ New channel…']],
    async (value, control) => {
      if (value !== NEW) return M.update(ed.doc, 'touchpoints', t.id, { channelId: value });
      const name = await promptDialog('Name of the new channel', '', { confirm: 'Add channel' });
      if (!name) {
        control.value = t.channelId ?? '';
        return;
      }
      addChannel(ed.doc, map.channels, name, { collection: 'touchpoints', id: t.id, field: 'channelId' });
    }, { blank: 'No channel', gone: 'A removed channel' });
  const metrics = map.metrics.filter((m) => m.touchpointId === t.id);
  const measured = h('section', { class: 'typed-related' }, h('h3', { text: 'Metrics of this touchpoint' }),
    metrics.length
      ? h('ul', {}, ...metrics.map((m) => h('li', {}, h('button', { class: 'linklike', text: `${m.name || 'Unnamed metric'}: ${valueLine(m)}`, onclick: () => ed.select('metrics', m.id) }))))
      : h('p', { class: 'muted small-note', text: 'None yet.' }),
    ed.readOnly ? null : h('button', {
      class: 'small', text: '+ Metric for this touchpoint', dataset: { testid: 'touchpoint-add-metric' },
      onclick: () => {
        const id = addMetric(ed.doc, map.metrics, null, 'New metric', { touchpointId: t.id });
        ed.afterRender(() => {
          ed.select('metrics', id);
          ed.panelBody.querySelector('[data-testid=field-name]')?.select();
        });
      },
    }));
  return [
    h('h3', { text: 'Touchpoint' }),
    text(ed, 'touchpoints', t, 'name', 'Name'),
    choice(ed, 'Step', 'stepId', t.stepId, stepOptions(map), set(ed, 'touchpoints', t.id, 'stepId'), { blank: 'No step', gone: 'A removed step' }),
    channel,
    text(ed, 'touchpoints', t, 'owner', 'Owner', { placeholder: 'Who is responsible for it' }),
    measured,
    deleteButton(ed, 'touchpoint', () => deleteTouchpoint(ed.doc, t.id)),
  ];
}

function metricDetails(ed, m) {
  const map = ed.map;
  const tp = m.touchpointId ? map.touchpointById.get(m.touchpointId) : null;
  // The target: a number, checked as it is typed; an empty field removes it.
  const errorId = `target-error-${m.id}`;
  const target = h('input', { value: m.target ?? '', attrs: { inputmode: 'decimal', 'aria-describedby': errorId }, dataset: { testid: 'field-target' } });
  target.disabled = ed.readOnly;
  const targetError = h('p', { class: 'field-error', attrs: { role: 'alert', id: errorId }, dataset: { testid: 'target-error' } });
  target.addEventListener('input', () => {
    const n = parseNumber(target.value);
    const blank = !target.value.trim();
    // The message beside the field now: a redraw keeps the field being typed in, with a new message.
    const error = document.getElementById(errorId) ?? targetError;
    error.textContent = blank || n !== null ? '' : 'The target must be a number, such as 95 or 4.5.';
    target.setAttribute('aria-invalid', String(!blank && n === null));
    if (blank || n !== null) M.update(ed.doc, 'metrics', m.id, { target: blank ? null : n });
  });
  const state = m.target === null || !m.current ? null : m.off ? 'off' : 'on';
  return [
    h('h3', { text: 'Metric' }),
    text(ed, 'metrics', m, 'name', 'Name'),
    h('div', { class: 'field-row' },
      choice(ed, 'Type', 'type', m.type, METRIC_TYPES, set(ed, 'metrics', m.id, 'type'), { blank: null }),
      text(ed, 'metrics', m, 'unit', 'Unit', { placeholder: '%, points, s' })),
    h('div', { class: 'field-row' },
      field('Target', target, targetError),
      choice(ed, 'Direction', 'direction', m.direction, DIRECTIONS, set(ed, 'metrics', m.id, 'direction'), { blank: null })),
    text(ed, 'metrics', m, 'owner', 'Owner', { placeholder: 'Who watches it and acts on it' }),
    h('div', { class: 'field-row' },
      choice(ed, 'Step', 'stepId', m.stepId, stepOptions(map), set(ed, 'metrics', m.id, 'stepId'), { blank: tp ? 'Its touchpoint’s step' : 'No step', gone: 'A removed step' }),
      choice(ed, 'Touchpoint', 'touchpointId', m.touchpointId, map.touchpoints.map((t) => [t.id, t.name || 'Unnamed touchpoint']), set(ed, 'metrics', m.id, 'touchpointId'), { blank: 'No touchpoint', gone: 'A removed touchpoint' })),
    h('p', { class: `metric-summary ${state ?? ''}`, dataset: { testid: 'metric-summary' } },
      h('strong', { text: 'Now: ' }), valueLine(m), state ? ` — ${state === 'off' ? '⚠ off target' : '✓ on target'}` : ''),
    measurements(ed, m),
    deleteButton(ed, 'metric', async () => {
      const n = m.measurements.length;
      if (n && !(await confirmDialog(`Delete the metric “${m.name}” and its ${n} measurement${n > 1 ? 's' : ''}? (Undo brings them back.)`))) return;
      deleteMetric(ed.doc, m.id);
    }),
  ];
}

function measurements(ed, m) {
  const rows = [...m.measurements].sort((a, b) => byDate(b, a)).map((x) => h('li', { class: 'measurement', dataset: { testid: 'measurement', id: x.id } },
    h('span', { class: 'measurement-date', text: x.date }),
    h('span', { class: 'measurement-value', text: withUnit(x.value, m.unit) }),
    h('span', { class: 'measurement-note', text: x.note }),
    ed.readOnly ? null : h('button', {
      class: 'ghost small icon', text: '✕', attrs: { 'aria-label': `Delete the measurement of ${x.date}` }, dataset: { testid: 'measurement-delete' },
      onclick: () => deleteMeasurement(ed.doc, x.id),
    })));
  const section = h('section', { class: 'measurements' }, h('h3', { text: 'Measurements' }),
    rows.length ? h('ol', { class: 'measurement-list' }, ...rows) : h('p', { class: 'muted small-note', text: 'No values recorded yet.' }));
  if (ed.readOnly) return section;
  const date = h('input', { type: 'date', value: today(), dataset: { testid: 'measurement-date', draft: '' } });
  const value = h('input', { attrs: { inputmode: 'decimal', 'aria-required': 'true' }, placeholder: m.unit ? `in ${m.unit}` : '', dataset: { testid: 'measurement-value', draft: '' } });
  const note = h('input', { placeholder: 'Optional', dataset: { testid: 'measurement-note', draft: '' } });
  const error = h('p', { class: 'field-error', attrs: { role: 'alert' }, dataset: { testid: 'measurement-error' } });
  const form = h('form', { class: 'measurement-add', attrs: { 'aria-label': 'Add a measurement' } },
    h('div', { class: 'field-row' }, field('Date', date), field('Value', value)),
    field('Note', note), error,
    h('button', { class: 'primary', type: 'submit', text: 'Add measurement', dataset: { testid: 'add-measurement' } }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    // The fields as they are now: a redraw while someone types keeps this form and the field in
    // focus but may put new twins of the others in it.
    const get = (id) => e.currentTarget.querySelector(`[data-testid=${id}]`);
    const [date, value, note, error] = ['measurement-date', 'measurement-value', 'measurement-note', 'measurement-error'].map(get);
    const n = parseNumber(value.value);
    const problem = !isDate(date.value) ? 'Give the date the value was measured.'
      : !value.value.trim() ? 'Enter the measured value.'
        : n === null ? `“${value.value.trim()}” is not a number: enter digits only, such as 71 or 4.5${m.unit ? ` (the unit, ${m.unit}, is added for you)` : ''}.` : null;
    error.textContent = problem ?? '';
    value.setAttribute('aria-invalid', String(!!problem && isDate(date.value)));
    if (problem) return (isDate(date.value) ? value : date).focus();
    addMeasurement(ed.doc, m.id, date.value, n, note.value);
    ed.afterRender(() => {
      ed.renderPanel(true);
      ed.panelBody.querySelector('[data-testid=measurement-value]')?.focus();
    });
  });
  section.append(form);
  return section;
}

function deleteButton(ed, what, onDelete) {
  if (ed.readOnly) return null;
  return h('div', { class: 'details-actions' }, h('button', {
    class: 'danger', text: `Delete ${what}`, dataset: { testid: 'delete-selected' },
    onclick: async () => {
      await onDelete();
    },
  }));
}
