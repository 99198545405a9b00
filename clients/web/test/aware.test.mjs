// Awareness of others' changes, in real Chromium pages on a real server: open comments counted on
// their cards (the badge opens their thread), a notice naming who deleted the card one is editing
// (with "Restore it" and "Copy text"), and one naming who restored a version while one typed (with
// "Put my text back").
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, eventually, newPerson, openMap, rest, withServerAndBrowser } from './helpers.mjs';

const MAP = 'aware';
let server;
let base;
let browser;

withServerAndBrowser((started) => ({ server, base, browser } = started));

const cardEl = (page, id) => page.locator(`[data-testid=card][data-id="${id}"]`);
const badge = (page, id) => cardEl(page, id).getByTestId('comment-badge');
const notice = (page, kind) => page.locator(`[data-testid=notice][data-kind="${kind}"]`);
const serverMap = async () => (await rest(base, `/maps/${MAP}`)).map;
const serverCard = async (id) => (await serverMap()).cards.find((c) => c.id === id);

describe('others\' changes', () => {
  let ana;
  let ben;
  let cards;

  before(async () => {
    await rest(base, '/maps', { method: 'POST', body: { id: MAP, template: 'ecommerce-purchase' } });
    const { map } = await rest(base, `/maps/${MAP}`);
    const linked = new Set(map.links.flatMap((l) => [l.from, l.to]));
    cards = map.cards.filter((c) => linked.has(c.id)).concat(map.cards.filter((c) => !linked.has(c.id)));
    ana = await newPerson(browser, 'Ana Lima');
    ben = await newPerson(browser, 'Ben Okafor');
    await ana.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await openMap(ana, base, MAP);
    await openMap(ben, base, MAP);
  });

  after(() => {
    assert.deepEqual(ana.errors, [], 'errors in Ana\'s page');
    assert.deepEqual(ben.errors, [], 'errors in Ben\'s page');
  });

  test('open comments show as a count on their card; the badge opens the card\'s thread', async () => {
    const card = cards[5];
    assert.equal(await badge(ana, card.id).count(), 0);
    for (const text of ['Is this still true on tablets?', 'Source for the 18 %?']) {
      await rest(base, `/maps/${MAP}/comments`, { method: 'POST', body: { text, target: `cards/${card.id}`, author: 'Cy Park' } });
    }
    await rest(base, `/maps/${MAP}/comments`, { method: 'POST', body: { text: 'About the whole map', author: 'Cy Park' } });
    await eventually('two open comments on the card at Ana', async () => (await badge(ana, card.id).getAttribute('data-count')) === '2');
    assert.equal(await ana.getByTestId('comment-badge').count(), 1, 'only the commented card has a badge');

    // Ben resolves one in his Comments panel: Ana's count follows.
    await cardEl(ben, card.id).click();
    await ben.getByTestId('panel-comments').click();
    await ben.getByTestId('comment').filter({ hasText: 'tablets' }).getByTestId('comment-resolve').click();
    await eventually('one open comment left at Ana', async () => (await badge(ana, card.id).getAttribute('data-count')) === '1');
    assert.equal(await badge(ana, card.id).getAttribute('aria-label'), '1 open comment on this card: show it');

    // Ana's badge opens the Comments panel on that card's thread, by pointer and by keyboard.
    await badge(ana, card.id).click();
    const list = ana.getByTestId('comments');
    await eventually('the thread in Ana\'s panel', async () => (await list.getByTestId('comment').count()) === 1
      && (await list.getByTestId('comment').first().textContent()).includes('Source for the 18 %?'));
    assert.equal(await ana.getByTestId('panel-comments').getAttribute('aria-pressed'), 'true');
    await ana.screenshot({ path: join(ARTIFACTS, 'comment-badges.png') });
    await ana.getByTestId('panel-details').click();
    await badge(ana, card.id).focus();
    await ana.keyboard.press('Enter');
    await eventually('the thread again, by keyboard', async () => (await ana.getByTestId('panel-comments').getAttribute('aria-pressed')) === 'true');
    assert.equal(await ana.locator('[data-testid=card-editor]').count(), 0, 'Enter on the badge does not write on the card');

    await list.getByTestId('comment-resolve').click();
    await eventually('no badge once all are resolved', async () => (await badge(ana, card.id).count()) === 0 && (await badge(ben, card.id).count()) === 0);
    await ana.getByTestId('panel-details').click();
  });

  test('a card deleted while one writes on it: who did it, and "Restore it" brings it back with what was typed', async () => {
    const card = cards[0];
    const { map } = await rest(base, `/maps/${MAP}`);
    const links = map.links.filter((l) => l.from === card.id || l.to === card.id);
    assert.ok(links.length, 'the card has links, to see them restored');
    await cardEl(ana, card.id).dblclick();
    const editor = ana.getByTestId('card-editor');
    await editor.press('End');
    await editor.pressSequentially(' and more');
    await eventually('Ana\'s typing at Ben', async () => (await cardEl(ben, card.id).textContent()).includes('and more'));
    await ana.keyboard.type(' still unsent?');

    await cardEl(ben, card.id).focus();
    await ben.keyboard.press('Delete');
    const n = notice(ana, 'card-deleted');
    await eventually('the notice at Ana', async () => (await n.textContent()).includes('Ben Okafor deleted the card you were editing'));
    await eventually('the card gone at Ana', async () => (await cardEl(ana, card.id).count()) === 0);
    await ana.screenshot({ path: join(ARTIFACTS, 'card-deleted-notice.png') });
    await n.getByTestId('notice-restore').click();
    const typed = `${card.text} and more still unsent?`;
    await eventually('the card back on the server', async () => {
      const c = await serverCard(card.id);
      return c?.text === typed && c.laneId === card.laneId && c.stepId === card.stepId && c.rank === card.rank;
    });
    await eventually('the card back at Ben', async () => (await cardEl(ben, `${card.id}`).textContent()).includes('still unsent?'));
    const back = (await serverMap()).links.filter((l) => l.from === card.id || l.to === card.id);
    assert.deepEqual(back.map((l) => l.id).sort(), links.map((l) => l.id).sort(), 'its links are back too');
    assert.equal(await n.count(), 0, 'the notice is gone');
  });

  test('a card deleted while its details are open: "Copy text" copies it', async () => {
    const card = cards[7];
    await cardEl(ana, card.id).click();
    await eventually('its details', async () => (await ana.getByTestId('details-text').inputValue()) === card.text);
    await cardEl(ben, card.id).click();
    await ben.getByTestId('panel-details').click();
    await ben.getByTestId('delete-selected').click();
    const n = notice(ana, 'card-deleted');
    await eventually('the notice at Ana', async () => (await n.textContent()).includes('Ben Okafor deleted the card you were editing'));
    await n.getByTestId('notice-copy').click();
    await eventually('the text on the clipboard', async () => (await ana.evaluate(() => navigator.clipboard.readText())) === card.text);
    assert.equal(await serverCard(card.id), undefined, 'copying does not bring the card back');
  });

  test('a version restored by someone else while one types: who did it, and "Put my text back"', async () => {
    const card = cards[9];
    await rest(base, `/maps/${MAP}/versions`, { method: 'POST', body: { label: 'Before the workshop', author: 'Ben Okafor' } });
    const { versions } = await rest(base, `/maps/${MAP}/versions`);
    const number = Math.max(...versions.map((v) => v.number));
    await cardEl(ana, card.id).click();
    const text = ana.getByTestId('details-text');
    await text.click();
    await ana.keyboard.press('End');
    await ana.keyboard.type(' — my new idea');
    await eventually('Ana\'s draft on the server', async () => (await serverCard(card.id)).text === `${card.text} — my new idea`);

    await rest(base, `/maps/${MAP}/versions/${number}/restore`, { method: 'POST', body: { author: 'Ben Okafor' } });
    const n = notice(ana, 'version-restored');
    await eventually('the restore notice at Ana', async () => (await n.textContent()).includes(`Ben Okafor restored version ${number}.`));
    await eventually('the restore replaced the text', async () => (await text.inputValue()) === card.text);
    await eventually('the draft offered back', () => n.getByTestId('notice-put-back').isVisible());
    assert.equal(await ana.evaluate(() => document.activeElement?.dataset.testid), 'details-text', 'Ana is still in her field');
    await ana.screenshot({ path: join(ARTIFACTS, 'version-restored-notice.png') });
    assert.equal(await notice(ben, 'version-restored').count(), 1, 'Ben\'s page is told too, with nothing to put back');
    assert.equal(await notice(ben, 'version-restored').getByTestId('notice-put-back').count(), 0);
    await n.getByTestId('notice-put-back').click();
    await eventually('Ana\'s text back on the server', async () => (await serverCard(card.id)).text === `${card.text} — my new idea`);
    assert.equal(await text.inputValue(), `${card.text} — my new idea`);
  });
});
