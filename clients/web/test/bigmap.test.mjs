// Getting around a big map (the benchmark's 600 cards over 40 steps): zoom by buttons, Ctrl+wheel
// and keys, fit to screen, sticky headers, other people's pointers and drag and drop while zoomed,
// the overview, search and filters, driven in real Chromium pages as a person would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, baseOf, eventually, launchBrowser, newPerson, openMap, rest, startServer } from './helpers.mjs';
import { generateMap } from '../bench/generate-map.mjs';

const MAP = 'bigmap';
let server;
let base;
let browser;
let generated;

before(async () => {
  server = await startServer();
  base = baseOf(server);
  browser = await launchBrowser();
  generated = generateMap({ cards: 600, seed: 1 });
  await rest(base, `/maps/import?id=${MAP}`, { method: 'POST', body: generated.map });
});

after(async () => {
  await browser?.close();
  const exit = await server?.stop();
  assert.equal(exit?.code, 0, `server exit ${JSON.stringify(exit)}\n${server?.logs()}`);
});

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const zoomOf = async (page) => Number(await page.getByTestId('zoom-level').getAttribute('data-zoom'));
const rect = (locator) => locator.evaluate((el) => { const r = el.getBoundingClientRect(); return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height }; });
const boardRect = (page) => rect(page.getByTestId('board'));
/** The board's scroll position and client size. */
const scrollOf = (page) => page.getByTestId('board').evaluate((b) => ({ x: b.scrollLeft, y: b.scrollTop, w: b.clientWidth, h: b.clientHeight }));
const scrollTo = (page, x, y) => page.getByTestId('board').evaluate((b, [x, y]) => b.scrollTo({ left: x, top: y, behavior: 'instant' }), [x, y]);
const card = (page, id) => page.locator(`[data-testid=card][data-id="${id}"]`);
const opacityOf = (page, id) => card(page, id).evaluate((el) => Number(getComputedStyle(el).opacity));

/** Clicks − or + until the zoom is `level` (one of the levels the buttons step through). */
async function zoomTo(page, level) {
  for (let i = 0; i < 12 && (await zoomOf(page)) !== level; i++) await page.getByTestId((await zoomOf(page)) > level ? 'zoom-out' : 'zoom-in').click();
  await eventually(`${level * 100} %`, async () => (await zoomOf(page)) === level);
}

async function openBig(name) {
  const page = await newPerson(browser, name);
  await openMap(page, base, MAP);
  await eventually('600 cards on screen', async () => (await page.locator('[data-testid=card]').count()) === 600, 15_000);
  return page;
}

describe('a 600-card, 40-step map', () => {
  let ana;
  let ben;

  before(async () => {
    [ana, ben] = await Promise.all([openBig('Ana Lima'), openBig('Ben Okafor')]);
  });

  after(() => {
    assert.deepEqual(ana.errors, [], 'errors in Ana\'s page');
    assert.deepEqual(ben.errors, [], 'errors in Ben\'s page');
  });

  test('zoom: buttons, keys, Ctrl+wheel around the pointer, 25 % floor, fit to screen', async () => {
    const width = (await rect(card(ana, 'card-0'))).width;
    await ana.getByTestId('zoom-in').click();
    await eventually('110 %', async () => (await zoomOf(ana)) === 1.1);
    await ana.getByTestId('zoom-out').click();
    await ana.getByTestId('zoom-out').click();
    await eventually('90 %', async () => (await zoomOf(ana)) === 0.9);
    assert.equal(await ana.getByTestId('zoom-level').textContent(), '90 %');
    assert.ok(Math.abs((await rect(card(ana, 'card-0'))).width - width * 0.9) < 2, 'cards are drawn at 90 %');

    // Keys, with the focus on the board.
    await card(ana, 'card-0').focus();
    await ana.keyboard.press('Control+0');
    await eventually('100 % again', async () => (await zoomOf(ana)) === 1);
    await ana.keyboard.press('Control+Equal');
    await eventually('Ctrl+= zooms in', async () => (await zoomOf(ana)) === 1.1);
    await ana.keyboard.press('Control+Minus');
    await ana.keyboard.press('Control+Minus');
    await eventually('Ctrl+- zooms out', async () => (await zoomOf(ana)) === 0.9);
    await ana.keyboard.press('Control+0');
    await eventually('Ctrl+0 resets', async () => (await zoomOf(ana)) === 1);

    // Ctrl+wheel: out, and the grid point under the pointer stays under it.
    await scrollTo(ana, 1500, 400);
    const b = await boardRect(ana);
    const at = { x: b.left + 500, y: b.top + 300 };
    const s0 = await scrollOf(ana);
    await ana.mouse.move(at.x, at.y);
    await ana.keyboard.down('Control');
    await ana.mouse.wheel(0, 300);
    await ana.keyboard.up('Control');
    const z = await eventually('Ctrl+wheel zoomed out', async () => { const v = await zoomOf(ana); return v < 0.9 && v; });
    const s1 = await scrollOf(ana);
    assert.ok(Math.abs((s0.x + 500) / 1 - (s1.x + 500) / z) < 3 && Math.abs((s0.y + 300) - (s1.y + 300) / z) < 3,
      `the point under the pointer stays (${JSON.stringify([s0, s1, z])})`);

    // Down through 25 %, and on a map this wide on to the level that shows its whole width, no lower.
    const levels = [];
    for (let i = 0; i < 9; i++) {
      await ana.getByTestId('zoom-out').click();
      levels.push(await zoomOf(ana));
    }
    assert.ok(levels.includes(0.25), `the steps pass 25 % (${levels})`);
    const floor = levels.at(-1);
    assert.ok(floor < 0.25 && levels.at(-2) === floor, `and stop at the fit level (${levels})`);
    // Fit: from 100 % to that level, from the first column.
    await ana.keyboard.press('Control+0');
    await eventually('100 %', async () => (await zoomOf(ana)) === 1);
    await scrollTo(ana, 2000, 300);
    await ana.getByTestId('zoom-fit').click();
    await eventually('fitted', async () => (await zoomOf(ana)) === floor);
    const board = await boardRect(ana);
    const steps = await ana.locator('.step-head').evaluateAll((els) => els.map((el) => { const r = el.getBoundingClientRect(); return [r.left, r.right]; }));
    assert.equal(steps.length, 40);
    for (const [l, r] of steps) assert.ok(l >= board.left - 1 && r <= board.left + (await scrollOf(ana)).w + 1, `step column [${l}, ${r}] within the board [${board.left}, ${board.right}]`);
    assert.equal((await scrollOf(ana)).x, 0);
    await shot(ana, 'bigmap-fit');
    await ana.keyboard.press('Control+0');
    await eventually('back to 100 %', async () => (await zoomOf(ana)) === 1);
  });

  test('stage and step headers stay at the top, lane names at the left, in front of the cards', async () => {
    for (const zoom of [1, 0.5]) {
      await zoomTo(ana, zoom);
      await scrollTo(ana, 0, 0);
      const board = await boardRect(ana);
      await scrollTo(ana, 3000 * zoom, 2000 * zoom);
      await eventually('scrolled', async () => (await scrollOf(ana)).y > 1000 * zoom);
      const s = await scrollOf(ana);
      // A step in the middle of the screen, its stage, a lane in the middle.
      const col = Math.floor(((s.x + s.w / 2) / zoom - 192) / 240);
      const step = await rect(ana.locator('.step-head').nth(col));
      const stage = await rect(ana.locator('.stage-head').nth(Math.floor(col / 5)));
      assert.ok(Math.abs(stage.top - board.top) < 1.5, `stage header at the top (${stage.top} vs ${board.top}, zoom ${zoom})`);
      assert.ok(Math.abs(step.top - stage.bottom) < 1.5, `step header under it (${step.top} vs ${stage.bottom})`);
      const lane = await ana.locator('.lane-head').evaluateAll((els, top) => els.map((el) => el.getBoundingClientRect().toJSON()).find((r) => r.bottom > top + 300), board.top);
      assert.ok(Math.abs(lane.left - board.left) < 1.5, `lane name at the left (${lane.left} vs ${board.left})`);
      // A lane that starts above the header rows shows its name under them; a stage its name.
      const names = await ana.locator('.lane-head').evaluateAll((els, below) => els
        .map((el) => [el.getBoundingClientRect(), el.querySelector('.head-name').getBoundingClientRect()])
        .filter(([r]) => r.top < below && r.bottom > below + 60).map(([, n]) => n.top), step.bottom);
      for (const top of names) assert.ok(top >= step.bottom - 1, `a lane's name stays in sight (${top} vs ${step.bottom})`);
      const stageName = await rect(ana.locator('.stage-head').nth(Math.floor(col / 5)).locator('.head-name'));
      assert.ok(stageName.left >= board.left + lane.width - 1 && stageName.right <= board.right, `the stage's name in sight (${stageName.left})`);
      // In front: what is at a header's centre is the header, not a card scrolled under it.
      const hit = await ana.evaluate(([x, y]) => document.elementFromPoint(x, y)?.closest('.step-head, .stage-head, .card, .lane-head, .corner')?.className, [(step.left + step.right) / 2, (step.top + step.bottom) / 2]);
      assert.match(hit, /step-head/);
      const corner = await ana.evaluate(([x, y]) => document.elementFromPoint(x, y)?.closest('.corner, .lane-head, .stage-head')?.className, [board.left + 5, board.top + 5]);
      assert.match(corner, /corner/);
      if (zoom === 1) await shot(ana, 'bigmap-sticky');
    }
    await ana.keyboard.press('Control+0');
    await eventually('back to 100 %', async () => (await zoomOf(ana)) === 1);
  });

  test('others\' pointers, clicks and drag and drop stay on target when zoomed', async () => {
    // Ben at 50 % points at a card; Ana at 150 % sees his pointer on that card.
    const target = 'card-300';
    await zoomTo(ben, 0.5);
    await card(ben, target).scrollIntoViewIfNeeded();
    const r = await rect(card(ben, target));
    await ben.mouse.move(r.left + r.width / 2, r.top + r.height / 2);
    await ben.mouse.move(r.left + r.width / 2 + 2, r.top + r.height / 2 + 2);
    await zoomTo(ana, 1.5);
    await card(ana, target).evaluate((el) => el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' }));
    await eventually('Ben\'s pointer on the card at Ana', async () => {
      const c = await rect(card(ana, target));
      const p = await rect(ana.locator('[data-testid=cursor][data-name="Ben Okafor"] svg'));
      // The arrow's tip is its top-left corner (the path starts at 1, 1).
      return p.left > c.left && p.left < c.right && p.top > c.top && p.top < c.bottom;
    });
    const arrow = await rect(ana.locator('[data-testid=cursor][data-name="Ben Okafor"] svg'));
    assert.ok(arrow.width < 20, `pointers keep their size (${arrow.width})`);

    // A click selects what is under it; a drag lands in the cell it is dropped on (Ben, at 50 %).
    await card(ben, 'card-301').click();
    await eventually('card-301 selected', async () => (await card(ben, 'card-301').getAttribute('class')).includes('selected'));
    const moved = generated.map.cards.find((c) => c.id === 'card-301');
    const to = generated.stepIds[(generated.stepIds.indexOf(moved.stepId) + 1) % 40];
    const cell = ben.locator(`.cell[data-lane="${moved.laneId}"][data-step="${to}"]`);
    await card(ben, 'card-301').dragTo(cell);
    await eventually('card-301 moved at Ana', async () => (await ana.evaluate(() => window.waymarkEditor.map.cards.get('card-301').stepId)) === to);
    await ana.keyboard.press('Control+0');
    await ben.keyboard.press('Control+0');
  });

  test('a follower takes the leader\'s zoom and view', async () => {
    await ana.getByTestId('panel-workshop').click();
    await ana.getByTestId('ws-follow-start').click();
    await eventually('Ben follows', async () => (await ben.getByTestId('follow-status').getAttribute('data-state')) === 'following');
    await ana.getByTestId('zoom-out').click();
    await ana.getByTestId('zoom-out').click();
    await eventually('Ben at Ana\'s zoom', async () => (await zoomOf(ben)) === 0.8);
    await scrollTo(ana, 800, 400);
    await eventually('Ben at Ana\'s view', async () => {
      const s = await scrollOf(ben);
      return Math.abs(s.x - 800) <= 3 && Math.abs(s.y - 400) <= 3;
    });
    await ana.getByTestId('ws-follow-stop').click();
    await eventually('follow over', async () => (await ben.getByTestId('follow-status').count()) === 0);
    await ana.keyboard.press('Control+0');
    await ben.keyboard.press('Control+0');
    await ana.getByTestId('panel-details').click();
  });

  test('the overview shows the map and moves the board', async () => {
    const mini = ana.getByTestId('minimap');
    await mini.waitFor();
    await scrollTo(ana, 0, 0);
    const m = await rect(mini);
    assert.ok(m.width > 150 && m.height > 20, `an overview of the whole map (${m.width}×${m.height})`);
    // A click at three quarters of its width centres the board there.
    await mini.click({ position: { x: m.width * 0.75, y: m.height * 0.5 } });
    const grid = await rect(ana.locator('.grid'));
    await eventually('the board moved', async () => {
      const s = await scrollOf(ana);
      return Math.abs(s.x + s.w / 2 - grid.width * 0.75) < grid.width * 0.02 && s.y > 0;
    });
    // Dragging moves it along.
    const before = (await scrollOf(ana)).x;
    await ana.mouse.move(m.left + m.width * 0.75, m.top + m.height * 0.5);
    await ana.mouse.down();
    await ana.mouse.move(m.left + m.width * 0.4, m.top + m.height * 0.5, { steps: 5 });
    await ana.mouse.up();
    await eventually('dragged left', async () => (await scrollOf(ana)).x < before - grid.width * 0.3);
    await shot(ana, 'bigmap-minimap');
  });

  test('search: Ctrl+F, a count, next and previous scroll to each match, others dimmed', async () => {
    const q = 'invoice';
    const expected = generated.map.cards.filter((c) => c.text.toLowerCase().includes(q));
    assert.ok(expected.length >= 3, `the map has a few cards about ${q}`);
    await card(ana, 'card-5').click();
    await ana.keyboard.press('Control+f');
    const input = ana.getByTestId('search-input');
    await eventually('the search field has the focus', () => input.evaluate((el) => el === document.activeElement));
    await input.pressSequentially(q);
    const count = ana.getByTestId('search-count');
    await eventually('the first of them', async () => (await count.textContent()) === `1 of ${expected.length}`);
    const inView = async () => {
      const hit = ana.locator('.card.current-hit');
      if ((await hit.count()) !== 1) return false;
      const [c, b] = [await rect(hit), await boardRect(ana)];
      return c.left >= b.left && c.right <= b.right && c.top >= b.top && c.bottom <= b.bottom && hit.getAttribute('data-id');
    };
    const first = await eventually('the first match on screen', inView);
    await input.press('Enter');
    await eventually('2 of N', async () => (await count.textContent()) === `2 of ${expected.length}`);
    const second = await eventually('the second match on screen', async () => { const id = await inView(); return id !== first && id; });
    assert.ok((await card(ana, second).textContent()).toLowerCase().includes(q));
    await input.press('Shift+Enter');
    await eventually('back to 1 of N', async () => (await count.textContent()) === `1 of ${expected.length}` && (await inView()) === first);
    assert.equal(await ana.locator('.card.hit').count(), expected.length, 'every match is marked');
    const other = generated.map.cards.find((c) => !c.text.toLowerCase().includes(q)).id;
    await eventually('others dimmed', async () => (await opacityOf(ana, other)) < 0.5);
    await shot(ana, 'bigmap-search');
    await input.press('Escape');
    await eventually('search over: nothing dimmed', async () => (await opacityOf(ana, other)) === 1 && (await count.textContent()) === '');
  });

  test('filters dim what does not match, say they are on, and clear', async () => {
    const pain = generated.map.cards.find((c) => c.laneId === 'lane-pain-points' && c.severity >= 4);
    const mild = generated.map.cards.find((c) => c.laneId === 'lane-pain-points' && c.severity <= 2);
    const action = generated.map.cards.find((c) => c.laneId === 'lane-actions');
    await ana.getByTestId('filter-button').click();
    await ana.getByTestId('filter-kind').selectOption('pain-points');
    await eventually('actions dimmed', async () => (await opacityOf(ana, action.id)) < 0.5);
    assert.equal(await opacityOf(ana, pain.id), 1);
    assert.equal(await opacityOf(ana, mild.id), 1);
    await ana.getByTestId('filter-severity').selectOption('4');
    await eventually('mild pains dimmed', async () => (await opacityOf(ana, mild.id)) < 0.5);
    assert.equal(await opacityOf(ana, pain.id), 1);
    assert.equal(await ana.getByTestId('filter-button').textContent(), 'Filters on · 2');
    await card(ana, pain.id).evaluate((el) => el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' }));
    await shot(ana, 'bigmap-filters');
    await ana.keyboard.press('Escape');
    await eventually('menu closed', () => ana.getByTestId('filter-menu').isHidden());
    assert.ok(await ana.getByTestId('filter-clear').isVisible(), 'a clear button while filters are on');
    await ana.getByTestId('filter-clear').click();
    await eventually('nothing dimmed', async () => (await opacityOf(ana, action.id)) === 1 && (await opacityOf(ana, mild.id)) === 1);
    assert.equal(await ana.getByTestId('filter-button').textContent(), 'Filter');
    assert.ok(await ana.getByTestId('filter-clear').isHidden());
  });
});
