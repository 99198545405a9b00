// Cards spanning several steps (SCHEMA.md §5.6 `endStepId`), end to end in real Chromium pages: a
// span dragged out by the card's right edge, drawn across exactly its columns for both people, set
// and cleared in the Details panel and by keys, kept when the card moves, and read sensibly when
// the steps are reordered under it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, baseOf, eventually, mint, newPerson, openMap, rest, startServer, WAYMARK_BIN, withServerAndBrowser } from './helpers.mjs';

const MAP = 'spans';
let server;
let base;
let browser;

withServerAndBrowser((started) => ({ server, base, browser } = started));

const rect = (locator) => locator.evaluate((el) => { const r = el.getBoundingClientRect(); return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height }; });
const cardEl = (page, id) => page.locator(`[data-testid=card][data-id="${id}"]`);
const stepHead = (page, id) => page.locator(`.step-head[data-id="${id}"]`);
const serverCard = async (id) => (await rest(base, `/maps/${MAP}`)).map.cards.find((c) => c.id === id);
const serverSteps = async () => (await rest(base, `/maps/${MAP}`)).map.steps.map((s) => s.id);
const overlaps = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;

/** Whether the card's box starts in the column of step `first` and ends in that of step `last`. */
async function covers(page, id, first, last) {
  const box = await rect(cardEl(page, id));
  const a = await rect(stepHead(page, first));
  const b = await rect(stepHead(page, last));
  // The card keeps a small margin inside its first and last columns, never more than a tenth of one.
  const slack = a.width / 10;
  return box.left >= a.left - 1 && box.left <= a.left + slack && box.right <= b.right + 1 && box.right >= b.right - slack;
}

/** Drags the card's right edge to the middle of step `to`'s column. */
async function dragEdge(page, id, to) {
  const card = cardEl(page, id);
  await card.scrollIntoViewIfNeeded();
  await card.hover();
  const handle = await rect(card.getByTestId('span-handle'));
  const head = await rect(stepHead(page, to));
  const y = handle.top + handle.height / 2;
  await page.mouse.move(handle.left + handle.width / 2, y);
  await page.mouse.down();
  await page.mouse.move(head.left + head.width / 2, y, { steps: 12 });
  await eventually('the preview while dragging', () => page.getByTestId('span-preview').isVisible());
  await page.mouse.up();
}

describe('a card spanning steps', () => {
  let ana;
  let ben;
  let steps;
  let card;
  let lane;

  before(async () => {
    await rest(base, '/maps', { method: 'POST', body: { id: MAP, template: 'ecommerce-purchase' } });
    const { map } = await rest(base, `/maps/${MAP}`);
    steps = map.steps.map((s) => s.id);
    lane = map.lanes.find((l) => l.kind === 'pain-points').id;
    // A card with room for three steps and neighbours in the cells it will cover.
    card = map.cards.find((c) => c.laneId === lane && steps.indexOf(c.stepId) <= steps.length - 4);
    assert.ok(card, 'the template has a pain point with three steps after it');
    ana = await newPerson(browser, 'Ana Lima');
    ben = await newPerson(browser, 'Ben Okafor');
    await openMap(ana, base, MAP);
    await openMap(ben, base, MAP);
  });

  after(() => {
    assert.deepEqual(ana.errors, [], 'errors in Ana\'s page');
    assert.deepEqual(ben.errors, [], 'errors in Ben\'s page');
  });

  test('dragging the right edge spans the card over three steps, live for the other person', async () => {
    const i = steps.indexOf(card.stepId);
    const [first, mid, last] = [steps[i], steps[i + 1], steps[i + 2]];
    // Cards of another lane's covered cells, to check they stay in sight.
    await cardEl(ana, card.id).click();
    await dragEdge(ana, card.id, last);
    await eventually('endStepId on the server', async () => (await serverCard(card.id))?.endStepId === last);
    for (const page of [ana, ben]) {
      await eventually('the card drawn over its three columns', () => covers(page, card.id, first, last));
      assert.equal(await page.locator(`.cell[data-step="${mid}"] [data-id="${card.id}"]`).count(), 0, 'no longer inside one cell');
      // What the covered cells hold is still there, and not under the span.
      const span = await rect(cardEl(page, card.id));
      const neighbours = page.locator(`.cell[data-lane="${lane}"] [data-testid=card]`);
      for (let n = 0; n < await neighbours.count(); n++) {
        const other = neighbours.nth(n);
        assert.ok(await other.isVisible());
        assert.ok(!overlaps(span, await rect(other)), 'a cell\'s card overlaps the span');
      }
    }
    assert.equal(await cardEl(ben, card.id).getAttribute('data-span'), '3 steps');
    const where = await rect(cardEl(ana, card.id));
    await ana.getByTestId('board').evaluate((b, dx) => b.scrollBy({ left: dx, behavior: 'instant' }), where.left - 260);
    await ana.screenshot({ path: join(ARTIFACTS, 'span-card.png') });
  });

  test('the Details panel sets and clears where the card ends', async () => {
    const i = steps.indexOf(card.stepId);
    await cardEl(ben, card.id).click();
    const end = ben.getByTestId('field-endStepId');
    await eventually('the end step in Ben\'s details', async () => (await end.inputValue()) === steps[i + 2]);
    // Only the card's own step and later ones are offered.
    const offered = await end.locator('option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(offered, ['', ...steps.slice(i + 1)]);
    await end.selectOption(steps[i + 1]);
    await eventually('two steps on the server', async () => (await serverCard(card.id))?.endStepId === steps[i + 1]);
    await eventually('two columns at Ana', () => covers(ana, card.id, steps[i], steps[i + 1]));
    await end.selectOption('');
    await eventually('no span on the server', async () => (await serverCard(card.id))?.endStepId === undefined);
    await eventually('back in its cell at Ana', async () => (await ana.locator(`.cell[data-lane="${lane}"][data-step="${steps[i]}"] [data-id="${card.id}"]`).count()) === 1);
    // Dragging the edge back onto the first step clears a span too.
    await cardEl(ana, card.id).focus();
    await ana.keyboard.press('Shift+Alt+ArrowRight');
    await eventually('one more step by key', async () => (await serverCard(card.id))?.endStepId === steps[i + 1]);
    await dragEdge(ana, card.id, steps[i]);
    await eventually('dropped on its first step: no span', async () => (await serverCard(card.id))?.endStepId === undefined);
  });

  test('a moved card keeps its length; a reorder of steps keeps it drawn sensibly', async () => {
    const i = steps.indexOf(card.stepId);
    await cardEl(ana, card.id).focus();
    await ana.keyboard.press('Shift+Alt+ArrowRight');
    await eventually('two steps', async () => (await serverCard(card.id))?.endStepId === steps[i + 1]);
    // Dragged one step right (into the next cell of its lane): still two steps long.
    const target = ana.locator(`.cell[data-lane="${lane}"][data-step="${steps[i + 2]}"]`);
    await target.scrollIntoViewIfNeeded();
    // Held by its right part: its left part may be under the lane names after the scroll.
    const box = await rect(cardEl(ana, card.id));
    await cardEl(ana, card.id).dragTo(target, { sourcePosition: { x: box.width - 60, y: 12 } });
    await eventually('moved with its span', async () => {
      const c = await serverCard(card.id);
      return c?.stepId === steps[i + 2] && c?.endStepId === steps[i + 3];
    });
    await eventually('drawn over the two new columns at Ben', () => covers(ben, card.id, steps[i + 2], steps[i + 3]));

    // Its end step dragged before its first: read as no span, the card sits in its first cell.
    await ana.locator(`.step-head[data-id="${steps[i + 3]}"]`).dragTo(stepHead(ana, steps[i + 2]), { targetPosition: { x: 5, y: 10 } });
    await eventually('the steps reordered', async () => {
      const order = await serverSteps();
      return order.indexOf(steps[i + 3]) < order.indexOf(steps[i + 2]);
    });
    for (const page of [ana, ben]) {
      await eventually('in its first cell, as one step', async () => (await page.locator(`.cell[data-lane="${lane}"][data-step="${steps[i + 2]}"] [data-id="${card.id}"]`).count()) === 1);
      assert.equal(await cardEl(page, card.id).getAttribute('data-span'), null);
    }
    // And dragged back after it: the span is drawn again over both.
    await ana.locator(`.step-head[data-id="${steps[i + 3]}"]`).dragTo(stepHead(ana, steps[i + 2]), { targetPosition: { x: 200, y: 10 } });
    for (const page of [ana, ben]) await eventually('spanning again', () => covers(page, card.id, steps[i + 2], steps[i + 3]));
    assert.equal((await serverCard(card.id)).endStepId, steps[i + 3], 'the stored span never changed');
  });

});

test('a viewer sees spans without handles; a span another client wrote badly reads as none', async () => {
  const secret = 'spans-secret-that-is-at-least-32-bytes-long';
  const authed = await startServer({ args: ['--auth-secret', secret] });
  const at = baseOf(authed);
  try {
    const editor = await mint(WAYMARK_BIN, secret, { user: 'ed', name: 'Ed Itor', map: 'team-*', role: 'editor' });
    const viewer = await mint(WAYMARK_BIN, secret, { user: 'vi', name: 'Vi Ewer', map: 'team-*', role: 'viewer' });
    await rest(at, '/maps', { method: 'POST', token: editor, body: { id: 'team-spans', template: 'ecommerce-purchase' } });
    const { map } = await rest(at, '/maps/team-spans', { token: editor });
    const steps = map.steps.map((s) => s.id);
    const [spanned, broken, gone] = map.cards.filter((c) => steps.indexOf(c.stepId) > 0 && steps.indexOf(c.stepId) < steps.length - 2);
    const ed = await newPerson(browser, 'ignored');
    const vi = await newPerson(browser, 'ignored');
    await openMap(ed, at, 'team-spans', { token: editor });
    await openMap(vi, at, 'team-spans', { token: viewer });
    await cardEl(ed, spanned.id).focus();
    await ed.keyboard.press('Shift+Alt+ArrowRight');
    // What a careless client might write: an end before the first step, and one that does not exist.
    await ed.evaluate(([b, g, before]) => {
      const cards = window.waymarkEditor.doc.getMap('cards');
      cards.get(b).set('endStepId', before);
      cards.get(g).set('endStepId', 'no-such-step');
    }, [broken.id, gone.id, steps[0]]);
    const next = steps[steps.indexOf(spanned.stepId) + 1];
    await eventually('the span at the viewer', () => covers(vi, spanned.id, spanned.stepId, next));
    assert.equal(await vi.getByTestId('span-handle').count(), 0, 'no resize handle for a viewer');
    for (const c of [broken, gone]) {
      await eventually('a bad span drawn in its cell', async () => (await vi.locator(`.cell[data-step="${c.stepId}"] [data-id="${c.id}"]`).count()) === 1
        && (await vi.locator(`.cell[data-step="${c.stepId}"] [data-id="${c.id}"]`).getAttribute('data-span')) === null);
    }
    await cardEl(vi, spanned.id).click();
    assert.ok(await vi.getByTestId('field-endStepId').isDisabled(), 'the viewer cannot change the span');
    assert.equal(await vi.getByTestId('field-endStepId').inputValue(), next);
    assert.deepEqual(vi.errors, []);
    assert.deepEqual(ed.errors, []);
    await ed.context().close();
    await vi.context().close();
  } finally {
    await authed.stop();
  }
});
