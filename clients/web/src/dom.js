// Building DOM elements without a framework: `h('button', { class: 'x', onclick }, 'Label')`.

/**
 * Creates an element. Props: `class`, `text`, `for`, `style` (an object), `dataset` (an object), `on*`
 * (listeners), `attrs` (an object of attributes), anything else is set as a property. Children may
 * be nodes, strings, numbers, arrays of those, or null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'for') el.htmlFor = value;
    else if (key === 'style') Object.assign(el.style, value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'attrs') for (const [a, v] of Object.entries(value)) { if (v !== null && v !== undefined && v !== false) el.setAttribute(a, v === true ? '' : v); }
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el[key] = value;
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** An SVG element, attributes set as given. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [a, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(a, v);
  append(el, children);
  return el;
}

/** A short message at the bottom of the window, read out by screen readers. */
export function toast(message, kind = 'info') {
  let host = document.getElementById('toasts');
  if (!host) {
    host = h('div', { id: 'toasts', attrs: { role: 'status', 'aria-live': 'polite' } });
    document.body.append(host);
  }
  const el = h('div', { class: `toast toast-${kind}`, text: message });
  host.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

/** "3 minutes ago", "yesterday", or a date. */
export function ago(millis) {
  const s = Math.round((Date.now() - millis) / 1000);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (s < 45) return rtf.format(-s, 'second');
  if (s < 2700) return rtf.format(-Math.round(s / 60), 'minute');
  if (s < 79200) return rtf.format(-Math.round(s / 3600), 'hour');
  if (s < 86400 * 26) return rtf.format(-Math.round(s / 86400), 'day');
  return new Date(millis).toLocaleDateString();
}

/** Asks a yes/no question in a modal dialog; resolves to true when confirmed. */
export function confirmDialog(message, { confirm = 'Delete', danger = true } = {}) {
  return new Promise((resolve) => {
    const yes = h('button', { class: danger ? 'danger' : 'primary', text: confirm, dataset: { testid: 'confirm-yes' } });
    const no = h('button', { text: 'Cancel', dataset: { testid: 'confirm-no' } });
    const dialog = h('dialog', { attrs: { 'aria-label': message } }, h('p', { text: message }), h('div', { class: 'actions' }, no, yes));
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener('click', () => done(true));
    no.addEventListener('click', () => done(false));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    yes.focus();
  });
}

/** Asks for one line of text; resolves to it, or null when cancelled. */
export function promptDialog(message, value = '', { confirm = 'OK' } = {}) {
  return new Promise((resolve) => {
    const input = h('input', { value, attrs: { 'aria-label': message }, dataset: { testid: 'prompt-input' } });
    const form = h('form', { attrs: { method: 'dialog' } },
      h('label', { text: message }), input,
      h('div', { class: 'actions' },
        h('button', { type: 'button', text: 'Cancel', onclick: () => done(null) }),
        h('button', { class: 'primary', type: 'submit', text: confirm, dataset: { testid: 'prompt-ok' } })));
    const dialog = h('dialog', {}, form);
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      done(input.value.trim() || null);
    });
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.select();
  });
}
