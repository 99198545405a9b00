// The insights panel tells the truth about what the board shows: a touchpoint written as a lane card
// without evidence is listed (and clicking it selects that card), a metric at 71 against a target
// of 95 is off target, figures written on metric cards are said to be unchecked, and a map with
// nothing to check never reads "every … is fine".
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { baseOf, eventually, launchBrowser, newPerson, openMap, rest, startServer } from './helpers.mjs';

let server;
let base;
let browser;

const map = {
  schemaVersion: 1,
  meta: { title: 'Checkout', description: '', kind: 'journey-map', scenario: '', goals: '', owner: '' },
  personas: [],
  stages: [{ id: 's1', name: 'Buy', description: '', rank: 'V' }],
  steps: [{ id: 'st1', stageId: 's1', name: 'Pay', description: '', rank: 'V' }],
  lanes: [
    { id: 'lt', kind: 'touchpoints', name: 'Touchpoints', rank: 'V' },
    { id: 'lm', kind: 'metrics', name: 'Metrics', rank: 'W' },
  ],
  cards: [
    { id: 'c-touch', laneId: 'lt', stepId: 'st1', rank: 'V', text: 'Payment page' },
    { id: 'c-metric', laneId: 'lm', stepId: 'st1', rank: 'V', text: 'Conversion 71% (target 95%)' },
  ],
  channels: [],
  touchpoints: [],
  metrics: [{ id: 'm1', name: 'Checkout conversion', type: 'conversion', unit: '%', target: 95, direction: 'higher-is-better', rank: 'V' }],
  measurements: [{ id: 'me1', metricId: 'm1', date: '2026-11-01', value: 71 }],
  links: [],
  emotions: [],
};

before(async () => {
  server = await startServer();
  base = baseOf(server);
  browser = await launchBrowser();
  await rest(base, '/maps/import?id=truthful', { method: 'POST', body: map });
  await rest(base, '/maps', { method: 'POST', body: { id: 'empty-insights', title: 'Nothing yet' } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const section = (page, key) => page.locator(`[data-testid=insights] [data-section=${key}]`);

test('insights count lane cards and never praise what is not there', async () => {
  const page = await newPerson(browser, 'Ana');
  await openMap(page, base, 'truthful');
  await page.locator('[data-testid=panel-insights]').click();
  await section(page, 'touchpoints').locator('.insights-link').first().waitFor();

  const touch = section(page, 'touchpoints');
  assert.equal(await touch.locator('.insights-count').textContent(), '1');
  assert.equal(await touch.locator('.insights-link').textContent(), 'Payment page');
  assert.equal(await touch.locator('.insights-none').count(), 0);

  const off = section(page, 'metrics');
  assert.match(await off.textContent(), /71 against a target of at least 95/);
  const untracked = section(page, 'untracked');
  assert.match(await untracked.textContent(), /Conversion 71% \(target 95%\)/);

  // The finding is the card on the board: clicking it selects that card.
  await touch.locator('.insights-link').click();
  await eventually('the card selected', async () =>
    (await page.locator('[data-testid=card][aria-selected=true], [data-testid=card].selected').allTextContents()).some((t) => t.includes('Payment page')));
  assert.deepEqual(page.errors, []);

  // An empty map: each check says there was nothing to check.
  const empty = await newPerson(browser, 'Ben');
  await openMap(empty, base, 'empty-insights');
  await empty.locator('[data-testid=panel-insights]').click();
  await section(empty, 'touchpoints').locator('.insights-none').waitFor();
  const text = await empty.locator('[data-testid=insights]').textContent();
  assert.match(text, /No touchpoints on this map yet/);
  assert.match(text, /No metric with a target has been measured yet/);
  assert.doesNotMatch(text, /Every touchpoint|Every step has evidence|measured metrics? meets?/);
  assert.deepEqual(empty.errors, []);
});
