// Redrawing a side panel while someone works in it: the new content takes the old one's place, but
// a text field being typed in stays the very same element (its focus, caret and what is typed, and
// the message its `aria-describedby` names), and a focused select or button is focused again in the
// new content, so remote edits can show at once.

/** Elements one types in: these are kept rather than rebuilt. */
const TYPED = 'input:not([type=checkbox]):not([type=radio]), textarea';

/** How a control is found again in the new content: its test id and its place among its likes. */
function keyOf(el, root) {
  const id = el.dataset?.testid;
  if (!id) return null;
  const likes = [...root.querySelectorAll(`[data-testid="${CSS.escape(id)}"]`)];
  return { id, index: likes.indexOf(el) };
}

function find(root, key) {
  const likes = root.querySelectorAll(`[data-testid="${CSS.escape(key.id)}"]`);
  return likes[Math.min(key.index, likes.length - 1)] ?? null;
}

/**
 * Fills `container` with `build(el)`'s content (built into a detached element first). Returns
 * `{ kept }`: the old element kept in place of its new twin (which `build` made and which is thrown
 * away), or null.
 */
export function replaceKeepingFocus(container, build) {
  const active = document.activeElement;
  const inside = active && active !== container && container.contains(active) ? active : null;
  const key = inside && keyOf(inside, container);
  const next = document.createElement(container.tagName);
  const result = build(next);
  carryDrafts(container, next);
  if (!key) {
    container.replaceChildren(...next.childNodes);
    return { result, kept: null, twin: null };
  }
  const twin = find(next, key);
  if (inside.matches(TYPED) && twin && twin.tagName === inside.tagName && sameDepth(container, inside, next, twin)) {
    // What the field's message says was worked out from what is typed, which the new content lacks.
    const described = inside.getAttribute('aria-describedby');
    const message = described ? document.getElementById(described)?.textContent : null;
    graft(container, inside, next, twin);
    const twinMessage = message && document.getElementById(described);
    if (twinMessage) twinMessage.textContent = message;
    return { result, kept: inside, twin };
  }
  container.replaceChildren(...next.childNodes);
  // A select or button carries nothing typed: its new twin takes the focus.
  if (twin) twin.focus({ preventScroll: true });
  return { result, kept: null, twin: null };
}

/**
 * Fields marked `data-draft` hold what someone is preparing and has not put into the document yet
 * (a measurement before "Add"): their values go over to the new content.
 */
function carryDrafts(container, next) {
  for (const el of container.querySelectorAll('[data-draft]')) {
    const key = keyOf(el, container);
    const twin = key && find(next, key);
    if (twin && twin !== el && 'value' in twin) twin.value = el.value;
  }
}

function chain(root, el) {
  const out = [];
  for (let n = el; n && n !== root; n = n.parentElement) out.unshift(n);
  return out;
}

function sameDepth(oldRoot, oldEl, newRoot, newEl) {
  const a = chain(oldRoot, oldEl);
  const b = chain(newRoot, newEl);
  return a.length === b.length && a.every((n, i) => n.tagName === b[i].tagName);
}

/**
 * Puts the new children in place around the path to the kept element, level by level, never
 * moving an element on that path (moving the focused element would blur it).
 */
function graft(oldRoot, kept, newRoot, twin) {
  const olds = [oldRoot, ...chain(oldRoot, kept)];
  const news = [newRoot, ...chain(newRoot, twin)];
  for (let level = 0; level < olds.length - 1; level++) {
    const parent = olds[level];
    const stay = olds[level + 1];
    const incoming = [...news[level].childNodes];
    const at = incoming.indexOf(news[level + 1]);
    for (const child of [...parent.childNodes]) if (child !== stay) child.remove();
    incoming.forEach((child, i) => {
      if (i < at) parent.insertBefore(child, stay);
      else if (i > at) parent.append(child);
    });
    if (level + 1 < olds.length - 1) copyAttributes(news[level + 1], stay);
  }
  // The kept field follows whether it may be used; its value is what the person is typing.
  kept.disabled = twin.disabled;
}

function copyAttributes(from, to) {
  for (const { name } of [...to.attributes]) if (!from.hasAttribute(name)) to.removeAttribute(name);
  for (const { name, value } of [...from.attributes]) if (to.getAttribute(name) !== value) to.setAttribute(name, value);
}
