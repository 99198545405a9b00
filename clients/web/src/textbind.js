// Two-way binding of a Y.Text to a <textarea> or <input>: typing becomes minimal Y.Text edits, and
// others' edits (and undo) update the field without moving the caret past what it was on.
import { edit } from './model.js';

/** Binds `field` to `ytext`; returns the function that unbinds. */
export function bindText(field, ytext, doc) {
  field.value = ytext.toString();
  const onInput = () => {
    const before = ytext.toString();
    const after = field.value;
    let start = 0;
    while (start < before.length && start < after.length && before[start] === after[start]) start++;
    let endBefore = before.length;
    let endAfter = after.length;
    while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
      endBefore--;
      endAfter--;
    }
    if (endBefore === start && endAfter === start) return;
    edit(doc, () => {
      if (endBefore > start) ytext.delete(start, endBefore - start);
      if (endAfter > start) ytext.insert(start, after.slice(start, endAfter));
    });
  };
  const onChange = (event) => {
    const now = ytext.toString();
    if (field.value === now) return; // our own typing
    let selStart = field.selectionStart ?? 0;
    let selEnd = field.selectionEnd ?? 0;
    let pos = 0;
    for (const op of event.delta) {
      if (op.retain) pos += op.retain;
      else if (op.insert) {
        const n = typeof op.insert === 'string' ? op.insert.length : 1;
        if (pos < selStart || (pos === selStart && selStart !== selEnd)) selStart += n;
        if (pos < selEnd) selEnd += n;
        pos += n;
      } else if (op.delete) {
        const n = op.delete;
        if (pos < selStart) selStart = Math.max(pos, selStart - n);
        if (pos < selEnd) selEnd = Math.max(pos, selEnd - n);
      }
    }
    field.value = now;
    if (document.activeElement === field) field.setSelectionRange(selStart, selEnd);
  };
  ytext.observe(onChange);
  field.addEventListener('input', onInput);
  return () => {
    ytext.unobserve(onChange);
    field.removeEventListener('input', onInput);
  };
}
