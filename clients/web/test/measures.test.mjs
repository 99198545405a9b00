// Channels, touchpoints and metrics on the board, end to end: real Chromium pages on a real
// `waymark serve` (with tokens, so a viewer can be tested too). An editor builds a channel, a
// touchpoint and a metric with dated values as a person would; a second editor sees it live; the
// REST export holds the entities; a viewer sees the tiles but no controls.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARTIFACTS, WAYMARK_BIN, baseOf, eventually, launchBrowser, mint, newPerson, openMap, rest, startServer } from './helpers.mjs';

const SECRET = 'e2e-measures-secret-at-least-32-bytes-long';
const MAP = 'measures-map';
let server;
let base;
let browser;
const tokens = {};

/** Two steps, a touchpoints and a metrics lane, one persona, one free-text metric card; nothing typed yet. */
const MAP_JSON = {
  schemaVersion: 1,
  meta: { title: 'Order follow-up', description: '', kind: 'journey-map', scenario: '', goals: '', owner: '' },
  personas: [{ id: 'p1', name: 'Busy parent', description: '', goals: '', needs: '', challenges: '', channels: [], rank: 'V' }],
  stages: [{ id: 'st1', name: 'After the order', description: '', rank: 'V' }],
  steps: [{ id: 's1', stageId: 'st1', name: 'Gets the confirmation', description: '', rank: 'V' }, { id: 's2', stageId: 'st1', name: 'Waits', description: '', rank: 'W' }],
  lanes: [{ id: 'l-tp', kind: 'touchpoints', name: 'Touchpoints', rank: 'V' }, { id: 'l-m', kind: 'metrics', name: 'Metrics', rank: 'W' }],
  cards: [{ id: 'c1', laneId: 'l-m', stepId: 's1', rank: 'V', text: 'Ask support how many call about the e-mail' }],
  channels: [], touchpoints: [], metrics: [], measurements: [], links: [], emotions: [],
};

before(async () => {
  server = await startServer({ args: ['--auth-secret', SECRET] });
  base = baseOf(server);
  browser = await launchBrowser();
  for (const [who, name, role] of [['ana', 'Ana Lima', 'editor'], ['ben', 'Ben Okafor', 'editor'], ['vic', 'Vic Viewer', 'viewer']]) {
    tokens[who] = await mint(WAYMARK_BIN, SECRET, { user: who, name, map: 'measures-*', role });
  }
  await rest(base, `/maps/import?id=${MAP}`, { method: 'POST', token: tokens.ana, body: MAP_JSON });
});

after(async () => {
  await browser?.close();
  const exit = await server?.stop();
  assert.equal(exit?.code, 0, `server exit ${JSON.stringify(exit)}\n${server?.logs()}`);
});

const exported = () => rest(base, `/maps/${MAP}/export/json`, { token: tokens.ana });
const cell = (page, lane, step) => page.locator(`.cell[data-lane="${lane}"][data-step="${step}"]`);
const tile = (page) => cell(page, 'l-m', 's1').locator('[data-testid=metric]');
const colourOf = (locator) => locator.evaluate((el) => getComputedStyle(el).borderLeftColor);

/** What a person sees of the metric tile: its value line, its status word, its trend line's points. */
async function tileView(page) {
  const t = tile(page);
  if ((await t.count()) !== 1) return null;
  return {
    value: await t.getByTestId('metric-value').textContent(),
    status: (await t.getByTestId('metric-status').count()) ? await t.getByTestId('metric-status').textContent() : null,
    state: await t.getAttribute('data-state'),
    points: await t.locator('[data-testid=sparkline] circle').count(),
    line: await t.locator('[data-testid=sparkline] polyline').count(),
  };
}

describe('measuring a journey on the board', () => {
  let ana;
  let ben;

  before(async () => {
    ana = await newPerson(browser, 'Ana Lima');
    ben = await newPerson(browser, 'Ben Okafor');
    await openMap(ana, base, MAP, { token: tokens.ana });
    await openMap(ben, base, MAP, { token: tokens.ben });
  });

  after(() => {
    assert.deepEqual(ana.errors, [], 'errors in Ana\'s page');
    assert.deepEqual(ben.errors, [], 'errors in Ben\'s page');
  });

  test('a channel, a touchpoint on it with an owner, a metric with a target and two values, seen live and exported', async () => {
    // A channel, in the Channels panel.
    await ana.getByTestId('panel-channels').click();
    await ana.getByTestId('new-channel-name').fill('E-mail newsletter');
    await ana.getByTestId('new-channel-name').press('Enter');
    await eventually('the channel listed', async () => (await ana.locator('[data-testid=channel] [data-testid=channel-name]').first().inputValue().catch(() => '')) === 'E-mail newsletter');

    // A touchpoint at the first step: it opens in the details with its name ready to type over.
    await cell(ana, 'l-tp', 's1').hover();
    await cell(ana, 'l-tp', 's1').getByTestId('add-touchpoint').click();
    const name = ana.locator('[data-testid=side-panel] [data-testid=field-name]');
    await eventually('the new touchpoint\'s name has the focus', () => name.evaluate((el) => el === document.activeElement));
    await ana.keyboard.type('Order confirmation');
    await ana.getByTestId('field-channelId').selectOption({ label: '✉ E-mail newsletter' });
    await ana.getByTestId('field-owner').fill('CRM team');
    const chip = cell(ana, 'l-tp', 's1').getByTestId('touchpoint');
    await eventually('the chip on the board', async () => (await chip.count()) === 1 && (await chip.locator('.tp-meta').textContent()) === 'E-mail newsletter · CRM team');
    assert.equal(await chip.locator('.tp-icon').textContent(), '✉');
    assert.equal(await colourOf(chip), 'rgb(14, 116, 144)', 'the first channel\'s colour, #0e7490');
    assert.equal(await chip.locator('.tp-name').textContent(), 'Order confirmation');
    assert.equal(await chip.locator('.tp-meta').textContent(), 'E-mail newsletter · CRM team');
    // Before the cell's free-text cards (the metric lane's card stays, too).
    assert.equal(await cell(ana, 'l-m', 's1').getByTestId('card').count(), 1);

    // A metric of that touchpoint, with a target; a target that is not a number is refused with a reason.
    await ana.getByTestId('touchpoint-add-metric').click();
    await eventually('the metric in the details', async () => (await ana.locator('[data-testid=side-panel] h3').first().textContent()) === 'Metric');
    await ana.locator('[data-testid=side-panel] [data-testid=field-name]').fill('Confirmation CSAT');
    await ana.getByTestId('field-type').selectOption('csat');
    await ana.getByTestId('field-unit').fill('%');
    await ana.getByTestId('field-target').fill('ninety');
    await eventually('the target refused', async () => (await ana.getByTestId('target-error').textContent()).includes('must be a number'));
    // Ben edits the same metric meanwhile: Ana's panel is redrawn under her, and the field she is
    // typing in keeps what she typed, the focus and the message explaining it.
    await eventually('the metric on Ben\'s board', async () => (await tile(ben).count()) === 1);
    await tile(ben).click();
    await ben.locator('[data-testid=side-panel] [data-testid=field-owner]').fill('Ops');
    await eventually('Ben\'s owner in Ana\'s panel', async () => (await ana.getByTestId('field-owner').inputValue()) === 'Ops');
    assert.equal(await ana.evaluate(() => document.activeElement?.dataset.testid), 'field-target');
    assert.equal(await ana.getByTestId('field-target').inputValue(), 'ninety');
    assert.match(await ana.getByTestId('target-error').textContent(), /must be a number/);
    await ana.keyboard.type('!');
    assert.match(await ana.getByTestId('target-error').textContent(), /must be a number/, 'typing on after the redraw still explains');
    await ana.getByTestId('field-target').fill('95');
    await eventually('the target accepted', async () => (await ana.getByTestId('target-error').textContent()) === '');
    assert.equal(await ana.getByTestId('field-direction').inputValue(), 'higher-is-better');
    await ana.getByTestId('field-owner').fill('Service lead');

    // Values: one is required, and must be a number.
    const date = ana.getByTestId('measurement-date');
    const value = ana.getByTestId('measurement-value');
    const today = new Date();
    const p = (n) => String(n).padStart(2, '0');
    assert.equal(await date.inputValue(), `${today.getFullYear()}-${p(today.getMonth() + 1)}-${p(today.getDate())}`, 'the date starts as today');
    await ana.getByTestId('add-measurement').click();
    await eventually('a value asked for', async () => (await ana.getByTestId('measurement-error').textContent()) === 'Enter the measured value.');
    await value.fill('80 percent');
    await value.press('Enter');
    await eventually('not a number', async () => (await ana.getByTestId('measurement-error').textContent()).includes('is not a number'));
    await date.fill('2026-09-01');
    await value.fill('80');
    await value.press('Enter');
    await eventually('the first value listed', async () => (await ana.getByTestId('measurement').count()) === 1);
    await ana.getByTestId('measurement-date').fill('2026-10-01');
    await ana.getByTestId('measurement-value').fill('71');
    await ana.getByTestId('measurement-note').fill('after the redesign');
    await ana.getByTestId('add-measurement').click();
    await eventually('both values listed, newest first', async () => {
      const dates = await ana.locator('[data-testid=measurement] .measurement-date').allTextContents();
      return dates.join() === '2026-10-01,2026-09-01';
    });

    // On the board, at the touchpoint's step: 71 % against 95 %, off target, a trend of two points.
    const expected = { value: '71% / target 95%', status: '⚠ Off target', state: 'off', points: 2, line: 1 };
    await eventually('the tile at Ana', async () => JSON.stringify(await tileView(ana)) === JSON.stringify(expected));
    await eventually('the same tile at Ben', async () => JSON.stringify(await tileView(ben)) === JSON.stringify(expected));
    assert.equal(await cell(ben, 'l-tp', 's1').getByTestId('touchpoint').locator('.tp-meta').textContent(), 'E-mail newsletter · CRM team');
    assert.match(await tile(ben).getAttribute('aria-label'), /off target/);
    // The trend line rises to the right: the later, lower value is drawn lower.
    const ys = await tile(ben).locator('[data-testid=sparkline] circle').evaluateAll((cs) => cs.map((c) => [Number(c.getAttribute('cx')), Number(c.getAttribute('cy'))]));
    assert.ok(ys[0][0] < ys[1][0] && ys[0][1] < ys[1][1], `80 then 71: left to right, going down (${JSON.stringify(ys)})`);
    await tile(ana).click();
    await ana.screenshot({ path: join(ARTIFACTS, 'measures-board.png') });

    // The export holds the entities with their fields.
    const json = await exported();
    assert.deepEqual(json.channels.map(({ name }) => ({ name })), [{ name: 'E-mail newsletter' }]);
    const [tp] = json.touchpoints;
    assert.deepEqual({ ...tp, id: undefined, rank: undefined }, { id: undefined, rank: undefined, name: 'Order confirmation', stepId: 's1', channelId: json.channels[0].id, owner: 'CRM team' });
    const [metric] = json.metrics;
    assert.equal(metric.name, 'Confirmation CSAT');
    assert.equal(metric.type, 'csat');
    assert.equal(metric.unit, '%');
    assert.equal(metric.target, 95);
    assert.equal(metric.touchpointId, tp.id);
    assert.equal(metric.owner, 'Service lead');
    assert.deepEqual(json.measurements.map(({ metricId, date, value, note }) => ({ metricId, date, value, note })).sort((a, b) => a.date.localeCompare(b.date)), [
      { metricId: metric.id, date: '2026-09-01', value: 80, note: undefined },
      { metricId: metric.id, date: '2026-10-01', value: 71, note: 'after the redesign' },
    ]);

    // The poster shows them too: the touchpoint with its channel and owner, the metric's latest
    // value against target, off target, and its trend; printed on A1 from the Export menu.
    const res = await fetch(`${base}/api/v1/maps/${MAP}/export/svg`, { headers: { authorization: `Bearer ${tokens.ana}` } });
    const svg = await res.text();
    for (const words of ['Order confirmation', 'Owner: CRM team', 'Confirmation CSAT', '71% / target 95% ↑', '▼ off target', 'channel: E-mail newsletter']) {
      assert.ok(svg.includes(words), `the poster shows “${words}”`);
    }
    assert.match(svg, /<polyline points="[^"]+" fill="none" stroke="#b3261e" stroke-width="2"/, 'a red trend line');
    await ana.getByTestId('export-button').click();
    const [download] = await Promise.all([ana.waitForEvent('download'), ana.getByTestId('export-pdf-a1').click()]);
    assert.match(download.suggestedFilename(), /-a1\.pdf$/);
    const pdf = await readFile(await download.path());
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const box = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(pdf.toString('latin1'));
    assert.ok(box && Math.abs(Number(box[1]) - 2383.9) < 1 && Math.abs(Number(box[2]) - 1683.8) < 1, `an A1 landscape page (${box?.[0]})`);
  });

  test('a newer value on target turns the tile, deleting it turns it back; each value is its own entity', async () => {
    await tile(ben).click();
    await ben.getByTestId('measurement-date').fill('2026-11-01');
    await ben.getByTestId('measurement-value').fill('96,5');
    await ben.getByTestId('add-measurement').click();
    await eventually('on target at Ana', async () => (await tileView(ana))?.status === '✓ On target' && (await tileView(ana)).value === '96.5% / target 95%');
    assert.equal((await exported()).measurements.length, 3);
    const newest = ben.getByTestId('measurement').first();
    assert.equal(await newest.locator('.measurement-date').textContent(), '2026-11-01');
    await newest.getByTestId('measurement-delete').click();
    await eventually('off target again at Ana', async () => (await tileView(ana))?.state === 'off' && (await tileView(ana)).points === 2);
    assert.equal((await exported()).measurements.length, 2);
  });

  test('a channel made from the touchpoint\'s details, reordered, deleted: colours follow, references cleared', async () => {
    const chip = cell(ana, 'l-tp', 's1').getByTestId('touchpoint');
    await chip.click();
    await ana.getByTestId('field-channelId').selectOption({ label: '+ New channel…' });
    await ana.getByTestId('prompt-input').fill('Call centre');
    await ana.getByTestId('prompt-ok').click();
    await eventually('the touchpoint on the new channel', async () => (await chip.locator('.tp-icon').textContent()) === '☎' && (await colourOf(chip)) === 'rgb(124, 58, 237)');
    // Moved to the top of the list, it takes the first colour.
    await ana.getByTestId('panel-channels').click();
    await ana.getByRole('button', { name: 'Move Call centre up' }).click();
    await eventually('the first colour at Ben', async () => (await colourOf(cell(ben, 'l-tp', 's1').getByTestId('touchpoint'))) === 'rgb(14, 116, 144)');
    // Deleted (after a question, since a touchpoint uses it): the touchpoint has no channel.
    await ana.getByRole('button', { name: 'Delete Call centre' }).click();
    await ana.getByTestId('confirm-yes').click();
    await eventually('no channel at Ben', async () => (await cell(ben, 'l-tp', 's1').getByTestId('touchpoint').locator('.tp-meta').textContent()) === 'No channel · CRM team');
    const json = await exported();
    assert.deepEqual(json.channels.map((c) => c.name), ['E-mail newsletter']);
    assert.equal(json.touchpoints[0].channelId, undefined);
  });

  test('a persona\'s preferred channels: added in order, reordered, removed', async () => {
    await ana.getByTestId('add-channel').waitFor();
    for (const n of ['Mobile app', 'Store']) {
      await ana.getByTestId('new-channel-name').fill(n);
      await ana.getByTestId('add-channel').click();
      await eventually(`${n} listed`, async () => (await ana.getByTestId('channel').count()) === (n === 'Store' ? 3 : 2));
    }
    await ana.getByTestId('panel-personas').click();
    const persona = ana.locator('[data-testid=persona][data-id=p1]');
    for (const label of ['🏬 Store', '📱 Mobile app', '✉ E-mail newsletter']) await persona.getByTestId('persona-channel-add').selectOption({ label });
    const chips = () => persona.getByTestId('persona-channel').allTextContents();
    await eventually('three chips in the order chosen', async () => (await chips()).join() === '🏬Store,📱Mobile app,✉E-mail newsletter');
    await persona.getByRole('button', { name: 'Prefer Mobile app more' }).click();
    await eventually('Mobile app first', async () => (await chips()).join() === '📱Mobile app,🏬Store,✉E-mail newsletter');
    await persona.getByRole('button', { name: 'Remove Store' }).click();
    await eventually('Store removed', async () => (await chips()).join() === '📱Mobile app,✉E-mail newsletter');
    const json = await exported();
    const byName = new Map(json.channels.map((c) => [c.name, c.id]));
    await eventually('the persona\'s channels on the server', async () => JSON.stringify((await exported()).personas[0].channels) === JSON.stringify([byName.get('Mobile app'), byName.get('E-mail newsletter')]));
    await ben.getByTestId('panel-personas').click();
    await eventually('the chips at Ben', async () => (await ben.locator('[data-testid=persona][data-id=p1] [data-testid=persona-channel]').allTextContents()).join() === '📱Mobile app,✉E-mail newsletter');
    await ana.screenshot({ path: join(ARTIFACTS, 'measures-persona-channels.png') });
  });

  test('a viewer sees the chips, tiles and channels, and no control to change them', async () => {
    const vic = await newPerson(browser, 'ignored');
    await openMap(vic, base, MAP, { token: tokens.vic });
    await vic.getByTestId('read-only').waitFor();
    await eventually('the tile at Vic', async () => (await tileView(vic))?.state === 'off');
    assert.equal(await cell(vic, 'l-tp', 's1').getByTestId('touchpoint').count(), 1);
    for (const control of ['add-touchpoint', 'add-metric', 'add-card', 'keep-typed-lane']) assert.equal(await vic.locator(`[data-testid=${control}]`).count(), 0, `no ${control}`);
    await tile(vic).click();
    await eventually('the metric\'s details', async () => (await vic.getByTestId('measurement').count()) === 2);
    for (const control of ['add-measurement', 'measurement-delete', 'delete-selected', 'touchpoint-add-metric']) assert.equal(await vic.locator(`[data-testid=${control}]`).count(), 0, `no ${control}`);
    assert.ok(await vic.getByTestId('field-target').isDisabled());
    assert.ok(await vic.getByTestId('field-name').isDisabled());
    await vic.getByTestId('panel-channels').click();
    await eventually('the channels listed', async () => (await vic.getByTestId('channel').count()) === 3);
    assert.equal(await vic.locator('[data-testid=side-panel] input, [data-testid=side-panel] button:not([aria-label="Close panel"])').count(), 0, 'no fields or buttons in the Channels panel');
    await vic.getByTestId('panel-personas').click();
    await eventually('the persona\'s chips', async () => (await vic.getByTestId('persona-channel').count()) === 2);
    assert.equal(await vic.getByTestId('persona-channel-add').count(), 0);
    assert.deepEqual(vic.errors, []);
    await vic.context().close();
  });

  test('typed touchpoints and metrics of a map without such lanes show in lanes of their own, which can be kept', async () => {
    const id = 'measures-nolanes';
    const { lanes, cards, ...rest0 } = MAP_JSON;
    await rest(base, `/maps/import?id=${id}`, { method: 'POST', token: tokens.ana, body: {
      ...rest0, lanes: [{ id: 'l-a', kind: 'actions', name: 'Actions', rank: 'V' }], cards: [],
      touchpoints: [{ id: 't1', name: 'Parcel tracking page', stepId: 's2', rank: 'V' }],
      metrics: [{ id: 'm1', name: 'Where-is-my-order calls', type: 'custom', unit: 'calls', target: 50, direction: 'lower-is-better', stepId: 's2', rank: 'V' }],
      measurements: [{ id: 'x1', metricId: 'm1', date: '2026-10-01', value: 42 }],
    } });
    const page = await newPerson(browser, 'Ana Lima');
    await openMap(page, base, id, { token: tokens.ana });
    const typed = page.getByTestId('typed-lane');
    await eventually('two lanes of their own', async () => (await typed.count()) === 2);
    assert.equal(await page.locator('.cell[data-lane="~touchpoints"][data-step="s2"] [data-testid=touchpoint] .tp-name').textContent(), 'Parcel tracking page');
    const t = page.locator('.cell[data-lane="~metrics"][data-step="s2"] [data-testid=metric]');
    assert.equal(await t.getByTestId('metric-value').textContent(), '42 calls / target 50 calls');
    assert.equal(await t.getByTestId('metric-status').textContent(), '✓ On target');
    assert.equal(await page.locator('.cell[data-lane="~metrics"] [data-testid=add-card]').count(), 0, 'no free-text cards in a lane the map does not have');
    await typed.filter({ hasText: 'Touchpoints' }).getByTestId('keep-typed-lane').click();
    await eventually('a real touchpoints lane', async () => {
      const { map } = await rest(base, `/maps/${id}`, { token: tokens.ana });
      return map.lanes.some((l) => l.kind === 'touchpoints');
    });
    await eventually('the touchpoint in it', async () => (await typed.count()) === 1 && (await page.locator('.lane-head[data-kind=touchpoints]').count()) === 1
      && (await page.locator('.cell.k-touchpoints [data-testid=touchpoint]').count()) === 1);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});
