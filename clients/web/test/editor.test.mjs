// The browser editor end to end: real Chromium pages on a real `waymark serve`, co-editing one map.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, eventually, newPerson, openMap, rest, startProxy, withServerAndBrowser } from './helpers.mjs';

let server;
let base;
let browser;

withServerAndBrowser((started) => ({ server, base, browser } = started));

/** A fresh map from the e-commerce template, and the ids of some of its lanes and steps. */
async function templateMap(id) {
  await rest(base, '/maps', { method: 'POST', body: { id, template: 'ecommerce-purchase' } });
  const { map } = await rest(base, `/maps/${id}`);
  const lane = (kind) => map.lanes.find((l) => l.kind === kind).id;
  return { map, lane, steps: map.steps.map((s) => s.id) };
}

const cardsIn = (page, lane, step) => page.locator(`.cell[data-lane="${lane}"][data-step="${step}"] [data-testid=card]`);
const cardWithText = (page, text) => page.locator('[data-testid=card]', { hasText: text });

describe('two editors on one map', () => {
  let ana;
  let ben;
  let m;

  before(async () => {
    m = await templateMap('coedit');
    ana = await newPerson(browser, 'Ana Lima');
    ben = await newPerson(browser, 'Ben Okafor');
    await openMap(ana, base, 'coedit');
    await openMap(ben, base, 'coedit');
  });

  after(() => {
    assert.deepEqual(ana.errors, [], 'errors in Ana\'s page');
    assert.deepEqual(ben.errors, [], 'errors in Ben\'s page');
  });

  test('a card added, edited, dragged and deleted in one page appears in the other', async () => {
    const actions = m.lane('actions');
    const pains = m.lane('pain-points');
    const [s0, s1] = m.steps;
    const before0 = await cardsIn(ben, actions, s0).count();

    // Add: the new card opens for writing; what is typed reaches the other page as it is typed.
    await ana.locator(`.cell[data-lane="${actions}"][data-step="${s0}"] [data-testid=add-card]`).click();
    const editor = ana.locator('[data-testid=card-editor]');
    await editor.waitFor();
    await editor.pressSequentially('Scans the QR code on the poster');
    await editor.press('Enter');
    await eventually('the new card at Ben', async () => (await cardsIn(ben, actions, s0).count()) === before0 + 1
      && (await cardsIn(ben, actions, s0).last().textContent()).includes('Scans the QR code on the poster'));

    // Edit: a change in the middle of the text.
    const card = cardWithText(ana, 'Scans the QR code');
    await card.dblclick();
    await editor.waitFor();
    await editor.press('End');
    await editor.pressSequentially(' twice');
    await editor.press('Escape');
    await eventually('the edit at Ben', async () => (await cardWithText(ben, 'on the poster twice').count()) === 1);

    // Drag into another lane and step.
    const target = `.cell[data-lane="${pains}"][data-step="${s1}"]`;
    await card.dragTo(ana.locator(target));
    await eventually('the card in its new cell at Ben', async () => (await ben.locator(`${target} [data-testid=card]`, { hasText: 'poster twice' }).count()) === 1);
    assert.equal(await cardsIn(ben, actions, s0).count(), before0, 'the card left its old cell');

    // Delete with the keyboard.
    await cardWithText(ana, 'poster twice').focus();
    await ana.keyboard.press('Delete');
    await eventually('the card gone at Ben', async () => (await cardWithText(ben, 'poster twice').count()) === 0);
    const { map } = await rest(base, '/maps/coedit');
    assert.ok(!map.cards.some((c) => c.text.includes('poster')), 'the server no longer has the card');
  });

  test('presence: who is here, pointers and selections come and go', async () => {
    await eventually('Ana in Ben\'s presence list', async () => (await ben.locator('[data-testid=avatar][data-name="Ana Lima"]').count()) === 1);
    const board = await ana.locator('[data-testid=board]').boundingBox();
    await ana.mouse.move(board.x + 400, board.y + 300);
    await ana.mouse.move(board.x + 420, board.y + 310);
    const cursor = ben.locator('[data-testid=cursor][data-name="Ana Lima"]');
    await eventually('Ana\'s pointer at Ben', () => cursor.isVisible());

    const card = m.map.cards.find((c) => c.laneId === m.lane('pain-points'));
    await ana.locator(`[data-testid=card][data-id="${card.id}"]`).click();
    await eventually('Ana\'s selection at Ben', async () => (await ben.locator(`[data-testid=card][data-id="${card.id}"] [data-testid=selection-tag]`).textContent()) === 'Ana Lima');

    // A third person comes and goes.
    const cy = await newPerson(browser, 'Cy Park');
    await openMap(cy, base, 'coedit');
    await eventually('Cy at Ben', async () => (await ben.locator('[data-testid=avatar][data-name="Cy Park"]').count()) === 1);
    const cyBoard = await cy.locator('[data-testid=board]').boundingBox();
    await cy.mouse.move(cyBoard.x + 200, cyBoard.y + 200);
    await cy.mouse.move(cyBoard.x + 210, cyBoard.y + 220);
    await eventually('Cy\'s pointer at Ben', () => ben.locator('[data-testid=cursor][data-name="Cy Park"]').isVisible());
    await cy.context().close();
    await eventually('Cy gone from Ben\'s presence', async () => (await ben.locator('[data-testid=avatar][data-name="Cy Park"]').count()) === 0
      && (await ben.locator('[data-testid=cursor][data-name="Cy Park"]').count()) === 0);
  });

  test('an emotion point dragged in one page moves in the other', async () => {
    const point = ana.locator('[data-testid=emotion-point]').first();
    await point.scrollIntoViewIfNeeded();
    const persona = await point.getAttribute('data-persona');
    const step = await point.getAttribute('data-step');
    const before = Number((await point.getAttribute('data-score')) || 0);
    const target = before >= 1 ? -2 : 2;
    const box = await point.boundingBox();
    const unit = await ana.evaluate(() => 1.6 * parseFloat(getComputedStyle(document.documentElement).fontSize));
    await ana.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await ana.mouse.down();
    await ana.mouse.move(box.x + box.width / 2, box.y + box.height / 2 - (target - before) * unit, { steps: 8 });
    await ana.mouse.up();
    const selector = `[data-testid=emotion-point][data-persona="${persona}"][data-step="${step}"]`;
    await eventually('the moved point at Ben', async () => (await ben.locator(selector).getAttribute('data-score')) === String(target));
    const { map } = await rest(base, '/maps/coedit');
    assert.equal(map.emotions.find((e) => (e.personaId ?? '*') === persona && e.stepId === step).score, target);
  });

  test('undo takes back one\'s own edits only', async () => {
    const actions = m.lane('actions');
    const step = m.steps[2];
    await ben.locator(`.cell[data-lane="${actions}"][data-step="${step}"] [data-testid=add-card]`).click();
    await ben.locator('[data-testid=card-editor]').pressSequentially('Ben was here');
    await ben.keyboard.press('Enter');
    await ana.locator(`.cell[data-lane="${actions}"][data-step="${step}"] [data-testid=add-card]`).click();
    await ana.locator('[data-testid=card-editor]').pressSequentially('Ana was here');
    await ana.keyboard.press('Enter');
    await eventually('both cards at both', async () => (await cardWithText(ana, 'Ben was here').count()) === 1 && (await cardWithText(ben, 'Ana was here').count()) === 1);
    // Adding the card and typing its text is one step to undo.
    await ana.locator('[data-testid=undo]').click();
    await eventually('Ana\'s card undone at Ben', async () => (await cardWithText(ben, 'Ana was here').count()) === 0);
    assert.equal(await cardWithText(ana, 'Ben was here').count(), 1, 'Ben\'s card survives Ana\'s undo');
    await ana.locator('[data-testid=redo]').click();
    await eventually('Ana\'s card redone at Ben', async () => (await cardWithText(ben, 'Ana was here').count()) === 1);
  });

  test('a reload shows the persisted map', async () => {
    const { map } = await rest(base, '/maps/coedit');
    await ana.reload();
    await ana.locator('[data-testid=connection][data-status=connected]').waitFor();
    await eventually('every card after the reload', async () => (await ana.locator('[data-testid=card]').count()) === map.cards.length);
    assert.equal(await cardWithText(ana, 'Ana was here').count(), 1);
    assert.equal(await ana.locator('[data-testid=map-title]').inputValue(), map.meta.title);
  });
});

test('the keyboard alone moves, writes, renames, scores and deletes', async () => {
  const m = await templateMap('keyboard');
  const page = await newPerson(browser, 'Kim');
  await openMap(page, base, 'keyboard');
  const serverCard = async (id) => (await rest(base, '/maps/keyboard')).map.cards.find((c) => c.id === id);
  const card = m.map.cards.find((c) => c.laneId === m.lane('actions'));
  const col = m.steps.indexOf(card.stepId);
  await page.locator(`[data-testid=card][data-id="${card.id}"]`).focus();

  // Alt+→ moves the card one step right; focus stays on it.
  await page.keyboard.press('Alt+ArrowRight');
  await eventually('the card one step right', async () => (await serverCard(card.id))?.stepId === m.steps[col + 1]);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.id), card.id);

  // Enter writes on it, Enter again finishes.
  await page.keyboard.press('Enter');
  await page.keyboard.press('End');
  await page.keyboard.type(' (by keyboard)');
  await page.keyboard.press('Enter');
  await eventually('the text on the server', async () => (await serverCard(card.id))?.text.endsWith('(by keyboard)'));
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.id), card.id, 'focus back on the card');

  // A step renamed: Enter on its header.
  const step = m.steps[0];
  await page.locator(`.step-head[data-id="${step}"]`).focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Sees the ad on TV');
  await page.keyboard.press('Enter');
  await eventually('the renamed step', async () => (await rest(base, '/maps/keyboard')).map.steps.find((s) => s.id === step).name === 'Sees the ad on TV');

  // An emotion score with the arrow keys, and undone with Ctrl+Z.
  const point = page.locator('[data-testid=emotion-point]').first();
  const before = await point.getAttribute('data-score');
  await point.focus();
  await page.keyboard.press(before === '2' ? 'ArrowDown' : 'ArrowUp');
  const moved = String(Number(before || 0) + (before === '2' ? -1 : 1));
  await eventually('the new score', async () => (await page.locator('[data-testid=emotion-point]').first().getAttribute('data-score')) === moved);
  await page.locator(`[data-testid=card][data-id="${card.id}"]`).focus();
  await page.keyboard.press('Control+z');
  await eventually('the score undone', async () => (await page.locator('[data-testid=emotion-point]').first().getAttribute('data-score')) === before);

  // Delete removes the focused card.
  await page.locator(`[data-testid=card][data-id="${card.id}"]`).focus();
  await page.keyboard.press('Delete');
  await eventually('the card deleted on the server', async () => (await serverCard(card.id)) === undefined);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a map another client wrote badly still opens, and a lost card can be placed again', async () => {
  const m = await templateMap('malformed');
  const ana = await newPerson(browser, 'Ana');
  const ben = await newPerson(browser, 'Ben');
  await openMap(ana, base, 'malformed');
  await openMap(ben, base, 'malformed');
  // Another client's mistakes (SCHEMA.md §7): an entity that is not a map, a score out of range, a
  // rank that is not a rank, and a card in a lane that does not exist.
  await ana.evaluate((stepId) => {
    const doc = window.waymarkEditor.doc;
    const YMap = doc.getMap('meta').constructor;
    doc.transact(() => {
      doc.getMap('cards').set('junk', 'not an entity');
      doc.getMap('stages').set('odd', 42);
      doc.getMap('emotions').set(`*/${stepId}`, 7);
      const card = new YMap();
      doc.getMap('cards').set('lost', card);
      card.set('laneId', 'gone');
      card.set('stepId', stepId);
      card.set('rank', '!!');
      card.set('text', 'Lost card');
    });
  }, m.steps[0]);
  const note = ben.locator('.unplaced');
  await eventually('the unplaced notice at Ben', async () => /1 card is not in any cell/.test((await note.textContent().catch(() => '')) ?? ''));
  await ben.locator('[data-testid=show-unplaced]').click();
  await ben.locator('[data-testid=field-laneId]').selectOption(m.lane('actions'));
  await eventually('the card placed again, at Ana', async () => (await ana.locator(`.cell[data-lane="${m.lane('actions')}"] [data-testid=card]`, { hasText: 'Lost card' }).count()) === 1);
  assert.equal(await ana.locator('.unplaced').count(), 0);
  assert.equal(await ana.locator('[data-testid=card]').count(), m.map.cards.length + 1, 'every real card still drawn');
  assert.deepEqual([...ana.errors, ...ben.errors], []);
  await ana.context().close();
  await ben.context().close();
});

test('a map deleted while open says so and is not recreated by reconnecting', async () => {
  await templateMap('doomed');
  const ana = await newPerson(browser, 'Ana');
  await openMap(ana, base, 'doomed');
  await rest(base, '/maps/doomed', { method: 'DELETE' });
  await ana.locator('[data-testid=connection][data-status=closed]').waitFor();
  assert.match(await ana.locator('[data-testid=banner]').textContent(), /deleted/);
  assert.equal(await ana.evaluate(() => window.waymarkEditor.session.provider.shouldConnect), false, 'no reconnection is scheduled');
  const { maps } = await rest(base, '/maps');
  assert.ok(!maps.some((x) => x.id === 'doomed'), 'the map stays deleted');
  await ana.context().close();
});

test('versions: take one, compare it with the map, restore it for everyone', async () => {
  const m = await templateMap('versioned');
  const ana = await newPerson(browser, 'Ana');
  const ben = await newPerson(browser, 'Ben');
  await openMap(ana, base, 'versioned');
  await openMap(ben, base, 'versioned');

  await ana.locator('[data-testid=panel-versions]').click();
  await ana.locator('[data-testid=version-label]').fill('Before the workshop');
  await ana.locator('[data-testid=take-version]').click();
  const row = ana.locator('[data-testid=version-row]', { hasText: 'Before the workshop' });
  await row.waitFor();
  const number = await row.getAttribute('data-number');

  // Ben changes a card; the comparison names it.
  const card = m.map.cards.find((c) => c.laneId === m.lane('pain-points'));
  await ben.locator(`[data-testid=card][data-id="${card.id}"]`).dblclick();
  const editor = ben.locator('[data-testid=card-editor]');
  await editor.fill('Rewritten in the workshop');
  await editor.press('Enter');
  await eventually('Ben\'s edit at Ana', async () => (await ana.locator(`[data-testid=card][data-id="${card.id}"]`).textContent()).includes('Rewritten in the workshop'));
  await row.locator('[data-testid=compare]').click();
  const result = ana.locator('[data-testid=compare-result]');
  await eventually('the comparison', async () => /Rewritten in the workshop/.test(await result.textContent()));

  // Restoring brings the old text back at Ben, live.
  await row.locator('[data-testid=restore]').click();
  await ana.locator('[data-testid=confirm-restore]').click();
  await eventually('the restored text at Ben', async () => (await ben.locator(`[data-testid=card][data-id="${card.id}"]`).textContent()).includes(card.text));
  const { versions } = await rest(base, '/maps/versioned/versions');
  assert.ok(versions.some((v) => v.kind === 'pre-restore'), 'a safety version was taken before the restore');
  assert.ok(versions.some((v) => String(v.number) === number && v.label === 'Before the workshop'));
  assert.deepEqual([...ana.errors, ...ben.errors], []);
  await ana.context().close();
  await ben.context().close();
});

test('a page whose connection drops keeps its edits and sends them when it returns', async () => {
  const m = await templateMap('offline');
  const proxy = await startProxy(new URL(base).host);
  const ana = await newPerson(browser, 'Ana');
  const ben = await newPerson(browser, 'Ben');
  try {
    await openMap(ana, proxy.url, 'offline');
    await openMap(ben, base, 'offline');
    proxy.cut();
    await ana.locator('[data-testid=banner]').waitFor({ state: 'visible' });
    assert.match(await ana.locator('[data-testid=banner]').textContent(), /edits are kept/);
    const lane = m.lane('opportunities');
    const step = m.steps[0];
    await ana.locator(`.cell[data-lane="${lane}"][data-step="${step}"] [data-testid=add-card]`).click();
    await ana.locator('[data-testid=card-editor]').pressSequentially('Written while offline');
    await ana.keyboard.press('Enter');
    // Meanwhile Ben edits too.
    await ben.locator(`.cell[data-lane="${lane}"][data-step="${step}"] [data-testid=add-card]`).click();
    await ben.locator('[data-testid=card-editor]').pressSequentially('Written by Ben meanwhile');
    await ben.keyboard.press('Enter');
    assert.equal(await cardWithText(ben, 'Written while offline').count(), 0, 'nothing crossed the cut connection');
    assert.equal(await cardWithText(ana, 'Written while offline').count(), 1, 'the offline edit is shown where it was made');
    assert.equal(await ana.evaluate(() => window.waymarkEditor.unsent), true, 'the page counts the edit as not sent');
    proxy.restore();
    await ana.locator('[data-testid=connection][data-status=connected]').waitFor({ timeout: 15_000 });
    await eventually('the offline edit at Ben', async () => (await cardWithText(ben, 'Written while offline').count()) === 1);
    await eventually('Ben\'s edit at Ana', async () => (await cardWithText(ana, 'Written by Ben meanwhile').count()) === 1);
    assert.equal(await ana.locator('[data-testid=banner]').isVisible(), false, 'the banner is gone');
    await eventually('the server confirming the offline edit', () => ana.evaluate(() => !window.waymarkEditor.unsent));
    assert.deepEqual([...ana.errors, ...ben.errors], []);
  } finally {
    await ana.context().close();
    await ben.context().close();
    await proxy.close();
  }
});

test('screenshots: the list, the editor with a template map, and its export', async () => {
  const m = await templateMap('screenshot-map');
  const page = await newPerson(browser, 'Ana Lima', { viewport: { width: 1600, height: 1000 } });
  await page.goto(`${base}/`);
  await page.locator('[data-testid=map-row][data-map-id="screenshot-map"]').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'list.png') });

  // The editor with a colleague on the map: their pointer and their selection show.
  const ben = await newPerson(browser, 'Ben Okafor', { viewport: { width: 1600, height: 1000 } });
  await openMap(page, base, 'screenshot-map');
  await openMap(ben, base, 'screenshot-map');
  await eventually('every card drawn', async () => (await page.locator('[data-testid=card]').count()) === m.map.cards.length);
  const pain = m.map.cards.find((c) => c.laneId === m.lane('pain-points'));
  await ben.locator(`[data-testid=card][data-id="${pain.id}"]`).click();
  const box = await ben.locator(`[data-testid=card][data-id="${pain.id}"]`).boundingBox();
  await ben.mouse.move(box.x + box.width * 0.8, box.y + box.height + 30, { steps: 4 });
  await page.locator(`[data-testid=card][data-id="${pain.id}"] [data-testid=selection-tag]`).waitFor();
  await eventually('Ben\'s pointer', () => page.locator('[data-testid=cursor][data-name="Ben Okafor"]').isVisible());
  await page.locator('[data-testid=card]', { hasText: 'Interactive size finder' }).click();
  await page.mouse.move(10, 500);
  await page.screenshot({ path: join(ARTIFACTS, 'editor.png') });

  await page.locator('[data-testid=export-button]').click();
  await page.locator('[data-testid=export-preview]').click();
  const poster = page.locator('dialog img');
  await eventually('the poster preview loaded', () => poster.evaluate((img) => img.complete && img.naturalWidth > 0));
  await page.screenshot({ path: join(ARTIFACTS, 'export.png') });
  assert.deepEqual([...page.errors, ...ben.errors], []);
  await page.context().close();
  await ben.context().close();
});
