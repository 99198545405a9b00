// The Channels panel (add, rename, reorder, delete the map's channels) and a persona's preferred
// channels in the Personas panel; also the channel chip both use and the details panel reuses.
import { h, confirmDialog } from './dom.js';
import * as M from './model.js';
import { channelLooks } from './channels.js';
import { addChannel, changePersonaChannels, deleteChannel, moveChannel } from './measuresedit.js';

/** A channel as a small coloured chip with its icon and name. */
export function channelChip(look, extra = {}) {
  const el = h('span', { class: 'channel-chip', ...extra },
    h('span', { class: 'channel-icon', text: look.icon, attrs: { 'aria-hidden': 'true' } }),
    h('span', { class: 'channel-name', text: look.name || 'Unnamed channel' }));
  el.style.setProperty('--channel', look.colour);
  return el;
}

function usage(map, id) {
  const touchpoints = map.touchpoints.filter((t) => t.channelId === id).length;
  const personas = map.personas.filter((p) => p.channels.includes(id)).length;
  return { touchpoints, personas };
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

async function remove(ed, channel) {
  const { touchpoints, personas } = usage(ed.map, channel.id);
  if (touchpoints || personas) {
    const lose = [touchpoints && plural(touchpoints, 'touchpoint'), personas && plural(personas, 'persona')].filter(Boolean).join(' and ');
    if (!(await confirmDialog(`Delete the channel “${channel.name}”? ${lose} lose it. (Undo brings it back.)`))) return;
  }
  deleteChannel(ed.doc, channel.id);
}

/** The Channels panel. */
export function renderChannels(el, ed) {
  const map = ed.map;
  const looks = channelLooks(map.channels);
  const rows = map.channels.map((c, i) => {
    const look = looks.get(c.id);
    const { touchpoints, personas } = usage(map, c.id);
    const used = [touchpoints && plural(touchpoints, 'touchpoint'), personas && plural(personas, 'persona')].filter(Boolean).join(', ') || 'not used yet';
    const swatch = h('span', { class: 'channel-swatch', text: look.icon, attrs: { 'aria-hidden': 'true' } });
    swatch.style.setProperty('--channel', look.colour);
    if (ed.readOnly) {
      return h('li', { class: 'channel-row', dataset: { testid: 'channel', id: c.id } }, swatch,
        h('span', { class: 'channel-row-name' }, h('span', { text: c.name || 'Unnamed channel' }), h('span', { class: 'muted small-note', text: used })));
    }
    const name = h('input', { value: c.name, attrs: { 'aria-label': `Name of channel ${i + 1}` }, dataset: { testid: 'channel-name' } });
    name.addEventListener('input', () => M.update(ed.doc, 'channels', c.id, { name: name.value }));
    const label = c.name || `channel ${i + 1}`;
    return h('li', { class: 'channel-row', dataset: { testid: 'channel', id: c.id } }, swatch,
      h('span', { class: 'channel-row-name' }, name, h('span', { class: 'muted small-note', text: used })),
      h('span', { class: 'channel-tools' },
        h('button', { class: 'ghost small icon', text: '↑', disabled: i === 0, attrs: { 'aria-label': `Move ${label} up` }, dataset: { testid: 'channel-up' }, onclick: () => moveChannel(ed.doc, map.channels, c.id, i - 1) }),
        h('button', { class: 'ghost small icon', text: '↓', disabled: i === map.channels.length - 1, attrs: { 'aria-label': `Move ${label} down` }, dataset: { testid: 'channel-down' }, onclick: () => moveChannel(ed.doc, map.channels, c.id, i + 1) }),
        h('button', { class: 'ghost small icon danger-text', text: '✕', attrs: { 'aria-label': `Delete ${label}` }, dataset: { testid: 'channel-delete' }, onclick: () => remove(ed, c) })));
  });
  const parts = [h('p', { class: 'muted small-note', text: 'The media people reach you through. A channel’s colour follows its place in this list, on the board and on the poster alike.' })];
  parts.push(rows.length ? h('ol', { class: 'channel-list' }, ...rows) : h('p', { class: 'muted', text: 'No channels yet.' }));
  if (!ed.readOnly) {
    const input = h('input', { placeholder: 'E-mail, Phone, Store…', attrs: { 'aria-label': 'New channel name' }, dataset: { testid: 'new-channel-name' } });
    const form = h('form', { class: 'channel-add' }, input, h('button', { class: 'primary', type: 'submit', text: 'Add channel', dataset: { testid: 'add-channel' } }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = input.value.trim();
      if (!name) return input.focus();
      addChannel(ed.doc, map.channels, name);
      // The panel is redrawn with the new channel; the field stays ready for the next one.
      ed.afterRender(() => {
        ed.renderPanel(true);
        ed.panelBody.querySelector('[data-testid=new-channel-name]')?.focus();
      });
    });
    parts.push(form);
  }
  el.replaceChildren(...parts);
}

/** A persona's preferred channels, most preferred first: chips, and for editors add, remove, move. */
export function personaChannelsField(ed, persona) {
  const map = ed.map;
  const looks = channelLooks(map.channels);
  const list = persona.channels;
  // Each control changes what is stored when it is used: the panel may not be redrawn yet.
  const change = (f) => changePersonaChannels(ed.doc, persona.id, f);
  const move = (id, by) => change((ids) => {
    const i = ids.indexOf(id);
    if (i < 0 || i + by < 0 || i + by >= ids.length) return ids;
    [ids[i], ids[i + by]] = [ids[i + by], ids[i]];
    return ids;
  });
  const items = list.map((id, i) => {
    const look = looks.get(id);
    const chip = channelChip(look, { dataset: { testid: 'persona-channel', id } });
    if (ed.readOnly) return h('li', {}, chip);
    return h('li', {}, chip, h('span', { class: 'channel-tools' },
      h('button', { class: 'ghost small icon', text: '↑', disabled: i === 0, attrs: { 'aria-label': `Prefer ${look.name} more` }, onclick: () => move(id, -1) }),
      h('button', { class: 'ghost small icon', text: '↓', disabled: i === list.length - 1, attrs: { 'aria-label': `Prefer ${look.name} less` }, onclick: () => move(id, 1) }),
      h('button', { class: 'ghost small icon', text: '✕', attrs: { 'aria-label': `Remove ${look.name}` }, dataset: { testid: 'persona-channel-remove' }, onclick: () => change((ids) => ids.filter((c) => c !== id)) })));
  });
  const parts = [h('span', { class: 'field-label', text: 'Preferred channels' })];
  parts.push(items.length ? h('ol', { class: 'persona-channels' }, ...items) : h('p', { class: 'muted small-note', text: 'None chosen.' }));
  if (!ed.readOnly) {
    const rest = map.channels.filter((c) => !list.includes(c.id));
    if (rest.length) {
      const select = h('select', { attrs: { 'aria-label': `Add a preferred channel for ${persona.name || 'this persona'}` }, dataset: { testid: 'persona-channel-add' } },
        h('option', { value: '', text: 'Add a channel…' }), ...rest.map((c) => h('option', { value: c.id, text: `${looks.get(c.id).icon} ${c.name}` })));
      select.addEventListener('change', () => {
        const id = select.value;
        if (!id) return;
        change((ids) => (ids.includes(id) ? ids : [...ids, id]));
        // A focused field keeps its panel from being redrawn: redraw it now, and keep the place.
        ed.afterRender(() => {
          ed.renderPanel(true);
          ed.panelBody.querySelector(`[data-testid=persona][data-id="${CSS.escape(persona.id)}"] [data-testid=persona-channel-add]`)?.focus();
        });
      });
      parts.push(select);
    } else if (!map.channels.length) parts.push(h('p', { class: 'muted small-note', text: 'Add the map’s channels in the Channels panel first.' }));
  }
  return h('div', { class: 'field persona-channels-field', attrs: { role: 'group', 'aria-label': 'Preferred channels' } }, ...parts);
}
