// The browser editor end to end: real Chromium pages on a real `waymark serve`, co-editing one map.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, baseOf, eventually, launchBrowser, newPerson, openMap, rest, startProxy, startServer } from './helpers.mjs';

let server;
let base;
let browser;

before(async () => {
  server = await startServer();
  base = baseOf(server);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  const exit = await server?.stop();
  assert.equal(exit?.code, 0, `server exit ${JSON.stringify(exit)}\n${server?.logs()}`);
});

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
    proxy.restore();
    await ana.locator('[data-testid=connection][data-status=connected]').waitFor({ timeout: 15_000 });
    await eventually('the offline edit at Ben', async () => (await cardWithText(ben, 'Written while offline').count()) === 1);
    await eventually('Ben\'s edit at Ana', async () => (await cardWithText(ana, 'Written by Ben meanwhile').count()) === 1);
    assert.equal(await ana.locator('[data-testid=banner]').isVisible(), false, 'the banner is gone');
    assert.deepEqual([...ana.errors, ...ben.errors], []);
  } finally {
    await ana.context().close();
    await ben.context().close();
    await proxy.close();
  }
});

test('screenshots: the list, the editor with a template map, and its export', async () => {
  await templateMap('screenshot-map');
  const page = await newPerson(browser, 'Ana Lima', { viewport: { width: 1600, height: 1000 } });
  await page.goto(`${base}/`);
  await page.locator('[data-testid=map-row][data-map-id="screenshot-map"]').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'list.png') });
  await openMap(page, base, 'screenshot-map');
  const cards = (await rest(base, '/maps/screenshot-map')).map.cards.length;
  await eventually('every card drawn', async () => (await page.locator('[data-testid=card]').count()) === cards);
  await page.screenshot({ path: join(ARTIFACTS, 'editor.png') });
  await page.locator('[data-testid=export-button]').click();
  await page.locator('[data-testid=export-preview]').click();
  const poster = page.locator('dialog img');
  await eventually('the poster preview loaded', () => poster.evaluate((img) => img.complete && img.naturalWidth > 0));
  await page.screenshot({ path: join(ARTIFACTS, 'export.png') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
