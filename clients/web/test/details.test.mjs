// The Details panel in real Chromium pages: closing it is respected (a click on a card does not
// bring it back; the Details button and Alt+Enter do), and it follows other people's edits to the
// selected card and its links while one types in it, without losing the focus or what is typed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, eventually, newPerson, openMap, rest, withServerAndBrowser } from './helpers.mjs';

const MAP = 'details';
let server;
let base;
let browser;

withServerAndBrowser((started) => ({ server, base, browser } = started));

const cardEl = (page, id) => page.locator(`[data-testid=card][data-id="${id}"]`);
const panel = (page) => page.getByTestId('side-panel');
const focusedTestId = (page) => page.evaluate(() => document.activeElement?.dataset?.testid ?? null);
const linkRows = (page) => panel(page).getByTestId('link');
const serverMap = async () => (await rest(base, `/maps/${MAP}`)).map;

describe('the Details panel', () => {
  let ana;
  let ben;
  let map;
  let pain;
  let other;
  let opportunity;
  let links; // the pain point's links at the start

  before(async () => {
    await rest(base, '/maps', { method: 'POST', body: { id: MAP, template: 'ecommerce-purchase' } });
    ({ map } = await rest(base, `/maps/${MAP}`));
    const laneOf = (kind) => map.lanes.find((l) => l.kind === kind).id;
    // A pain point and an opportunity not linked to each other, and some other card.
    pain = map.cards.find((c) => c.laneId === laneOf('pain-points'));
    const linked = new Set(map.links.filter((l) => l.from === pain.id || l.to === pain.id).flatMap((l) => [l.from, l.to]));
    opportunity = map.cards.find((c) => c.laneId === laneOf('opportunities') && !linked.has(c.id));
    links = linked.size ? linked.size - 1 : 0;
    other = map.cards.find((c) => c.laneId === laneOf('actions'));
    assert.ok(pain && opportunity && other, 'the template has unlinked pain points and opportunities');
    ana = await newPerson(browser, 'Ana Lima');
    ben = await newPerson(browser, 'Ben Okafor');
    await openMap(ana, base, MAP);
    await openMap(ben, base, MAP);
  });

  after(() => {
    assert.deepEqual(ana.errors, [], 'errors in Ana\'s page');
    assert.deepEqual(ben.errors, [], 'errors in Ben\'s page');
  });

  test('a closed panel stays closed on clicks; the Details button and Alt+Enter open it', async () => {
    await cardEl(ana, other.id).click();
    await eventually('the card in the open panel', async () => (await panel(ana).getByTestId('details-text').inputValue()) === other.text);
    await panel(ana).getByRole('button', { name: 'Close panel' }).click();
    assert.ok(await panel(ana).isHidden());
    for (const id of [pain.id, other.id, pain.id]) {
      await cardEl(ana, id).click();
      await eventually('the card selected', async () => (await cardEl(ana, id).getAttribute('class')).includes('selected'));
      assert.ok(await panel(ana).isHidden(), 'a click on a card opened the closed panel');
    }
    assert.equal(await ana.getByTestId('panel-details').getAttribute('aria-pressed'), 'false');
    await ana.getByTestId('panel-details').click();
    await eventually('the selected card in the reopened panel', async () => (await panel(ana).getByTestId('details-text').inputValue()) === pain.text);
    // While open, a click shows the clicked card.
    await cardEl(ana, other.id).click();
    await eventually('the other card shown', async () => (await panel(ana).getByTestId('details-text').inputValue()) === other.text);
    // By keyboard: closed again, Alt+Enter on a focused card opens its details.
    await ana.getByTestId('panel-details').click();
    assert.ok(await panel(ana).isHidden());
    await cardEl(ana, pain.id).focus();
    await ana.keyboard.press('Alt+Enter');
    await eventually('opened by Alt+Enter', async () => (await panel(ana).isVisible()) && (await panel(ana).getByTestId('details-text').inputValue()) === pain.text);
    assert.equal(await ana.locator('[data-testid=card-editor]').count(), 0, 'Alt+Enter does not start writing on the card');
  });

  test('links added, renamed and removed by someone else show while one types in the card\'s text', async () => {
    await cardEl(ana, pain.id).click();
    const text = panel(ana).getByTestId('details-text');
    await text.click();
    await ana.keyboard.press('End');
    await ana.keyboard.type(' (half typed');
    assert.equal(await linkRows(ana).count(), links);

    // Ben links the opportunity to the pain point from his own Details panel.
    await cardEl(ben, pain.id).click();
    await panel(ben).getByTestId('link-target').selectOption(opportunity.id);
    await eventually('Ben sees his own new link at once', async () => (await linkRows(ben).count()) === links + 1);
    await eventually('the link in Ana\'s panel', async () => (await linkRows(ana).count()) === links + 1
      && (await linkRows(ana).filter({ hasText: opportunity.text }).count()) === 1);
    assert.equal(await focusedTestId(ana), 'details-text', 'Ana\'s focus stayed in the text');

    // Ben renames the linked opportunity on the board.
    await cardEl(ben, opportunity.id).dblclick();
    const editor = ben.getByTestId('card-editor');
    await editor.press('Control+A');
    await editor.pressSequentially('A size finder on every product page');
    await editor.press('Enter');
    await eventually('the new name in Ana\'s link', async () => (await linkRows(ana).filter({ hasText: 'A size finder on every product page' }).count()) === 1);
    assert.equal(await focusedTestId(ana), 'details-text');

    // Ana goes on typing where she was: nothing of it was lost or moved.
    await ana.keyboard.type(', still typing)');
    await eventually('Ana\'s whole text on the server', async () => (await serverMap()).cards.find((c) => c.id === pain.id).text === `${pain.text} (half typed, still typing)`);
    await ana.screenshot({ path: join(ARTIFACTS, 'details-live-links.png') });

    // Ben removes the link.
    await cardEl(ben, pain.id).click();
    await linkRows(ben).filter({ hasText: 'A size finder' }).getByTestId('unlink').click();
    await eventually('the link gone from Ana\'s panel', async () => (await linkRows(ana).count()) === links);
    assert.equal(await focusedTestId(ana), 'details-text');
    assert.equal(await text.inputValue(), `${pain.text} (half typed, still typing)`);
  });

  test('one\'s own link choice shows at once, and a field being typed in survives others\' edits', async () => {
    await cardEl(ana, pain.id).click();
    const choose = panel(ana).getByTestId('link-target');
    await choose.focus();
    await choose.selectOption(opportunity.id);
    await eventually('the new link listed while the chooser has the focus', async () => (await linkRows(ana).count()) === links + 1);
    assert.equal(await focusedTestId(ana), 'link-target', 'the chooser keeps the focus');
    assert.equal(await choose.locator(`option[value="${opportunity.id}"]`).count(), 0, 'a linked card is no longer offered');
    await linkRows(ana).filter({ hasText: 'A size finder' }).getByTestId('unlink').click();
    await eventually('unlinked', async () => (await linkRows(ana).count()) === links
      && (await serverMap()).links.every((l) => !([l.from, l.to].includes(pain.id) && [l.from, l.to].includes(opportunity.id))));

    // Ana types an evidence source; Ben changes the severity of the same card meanwhile.
    const source = panel(ana).getByTestId('field-evidenceSource');
    await source.click();
    await source.press('Control+A');
    await ana.keyboard.type('Usability test');
    await cardEl(ben, pain.id).click();
    const severity = String(pain.severity === 5 ? 1 : 5);
    await panel(ben).getByTestId('field-severity').selectOption(severity);
    await eventually('Ben\'s severity in Ana\'s panel', async () => (await panel(ana).getByTestId('field-severity').inputValue()) === severity);
    assert.equal(await focusedTestId(ana), 'field-evidenceSource');
    await ana.keyboard.type(' #3');
    assert.equal(await source.inputValue(), 'Usability test #3');
    await eventually('both edits on the server', async () => {
      const c = (await serverMap()).cards.find((x) => x.id === pain.id);
      return c.evidenceSource === 'Usability test #3' && String(c.severity) === severity;
    });
    // The label still names the field it labels.
    assert.equal(await panel(ana).getByLabel('Evidence source').getAttribute('data-testid'), 'field-evidenceSource');
  });
});
