// Takes the README's screenshots from the real editor: `node test/screenshots.mjs` (after
// `cargo build -p waymark-server`) writes docs/screenshots/*.png. Ten people on one map for the
// workshop (a facilitator and nine participants, some with hands raised, one reacting), then a map
// managed after the workshop: touchpoints on their channels, metrics with their trend, a card
// spanning three steps.
import { fileURLToPath } from 'node:url';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WAYMARK_BIN, baseOf, eventually, launchBrowser, mint, newPerson, openMap, rest, startServer } from './helpers.mjs';

const OUT = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const SECRET = 'screenshots-secret-at-least-32-bytes-long';
const NAMES = ['Fay Facilitator', 'Ana Lima', 'Ben Okafor', 'Cid Ström', 'Dana Whitfield', 'Émile Durand', 'Farah Haddad', 'Gus Ortega', 'Hana Sato', 'Ivo Petrov'];
const viewport = { width: 1280, height: 800 };
let base;

await mkdir(OUT, { recursive: true });
const server = await startServer({ args: ['--auth-secret', SECRET] });
base = baseOf(server);
const browser = await launchBrowser();
try {
  const tokens = await Promise.all(NAMES.map((name, i) => mint(WAYMARK_BIN, SECRET, { user: name.split(' ')[0].toLowerCase(), name, map: 'demo-*', role: i ? 'editor' : 'facilitator' })));
  await rest(base, '/maps', { method: 'POST', token: tokens[0], body: { id: 'demo-checkout', template: 'ecommerce-purchase' } });
  const { map } = await rest(base, '/maps/demo-checkout', { token: tokens[0] });
  const pains = map.lanes.find((l) => l.kind === 'pain-points').id;
  const pages = [];
  for (const [i, name] of NAMES.entries()) {
    const page = await newPerson(browser, name, { viewport });
    await openMap(page, base, 'demo-checkout', { token: tokens[i] });
    pages.push(page);
  }
  const [fay, ana, ben, cid] = pages;
  // Pointers spread over the board, a few hands up and a reaction.
  for (const [i, p] of pages.entries()) {
    if (!i) continue;
    await p.mouse.move(260 + (i % 4) * 230, 260 + Math.floor(i / 4) * 170);
  }
  for (const p of [pages[4], pages[2], pages[7]]) await p.getByTestId('raise-hand').click();
  await fay.getByTestId('panel-workshop').click();
  await fay.getByTestId('ws-title-input').fill('Checkout pains');
  await fay.getByTestId('ws-session-start').click();
  await fay.getByTestId('ws-timer-label').fill('Silent writing');
  await fay.getByTestId('ws-timer-5').click();
  await eventually('the timer', async () => (await ana.getByTestId('timer').getAttribute('data-state')) === 'running');
  await ben.getByTestId('react').click();
  await ben.locator('[data-testid=reaction-button][data-emoji="🎉"]').click();
  await eventually('the reaction', async () => (await fay.locator('[data-testid=reaction]').count()) === 1);
  await fay.mouse.move(700, 500);
  await fay.screenshot({ path: join(OUT, 'workshop-presence-timer.png') });

  // A private round: three participants write; the facilitator sees only how many.
  await fay.getByTestId('ws-round-start').click();
  const ideas = ['Coupon field hidden on mobile', 'Shipping cost shown too late', 'Card declined without a reason'];
  for (const [i, p] of [ana, ben, cid].entries()) {
    await eventually('the round', async () => (await p.getByTestId('round-status').count()) === 1);
    await p.locator(`.cell[data-lane="${pains}"][data-step="${map.steps[i + 1].id}"] [data-testid=add-card]`).click();
    await p.getByTestId('prompt-input').fill(ideas[i]);
    await p.getByTestId('prompt-ok').click();
  }
  await ana.locator(`.cell[data-lane="${pains}"][data-step="${map.steps[3].id}"] [data-testid=add-card]`).click();
  await ana.getByTestId('prompt-input').fill('Address form forgets what I typed');
  await ana.getByTestId('prompt-ok').click();
  await eventually('the count', async () => (await fay.getByTestId('ws-round-count').textContent()).startsWith('4 private'));
  await ana.locator('[data-testid=private-card]').first().evaluate((el) => el.scrollIntoView({ block: 'center', inline: 'center' }));
  await ana.screenshot({ path: join(OUT, 'workshop-private-round.png') });
  await fay.locator('[data-testid=ws-round-count]').scrollIntoViewIfNeeded();
  await fay.screenshot({ path: join(OUT, 'workshop-facilitator.png') });
  await fay.getByTestId('ws-round-reveal').click();

  // A dot-vote on the pain points, revealed.
  await fay.getByTestId('ws-vote-title').fill('Biggest pain?');
  await fay.getByTestId('ws-vote-scope').selectOption(`lane:${pains}`);
  await fay.getByTestId('ws-vote-open').click();
  const ids = await Promise.all(ideas.map((t) => fay.locator(`[data-testid=card]:has-text("${t}")`).getAttribute('data-id')));
  const plan = [[0, 1, 2], [0, 1], [0, 2], [1, 0], [0], [2, 1], [0], [1], [0, 1]];
  for (const [i, picks] of plan.entries()) {
    const p = pages[i + 1];
    for (const k of picks) {
      const left = await p.getByTestId('votes-left').getAttribute('data-left');
      await p.locator(`[data-testid=card][data-id="${ids[k]}"] [data-testid=vote-add]`).click();
      await eventually('the vote', async () => (await p.getByTestId('votes-left').getAttribute('data-left')) === String(left - 1));
    }
  }
  await fay.getByTestId('ws-vote-reveal').click();
  await eventually('the results', async () => (await ana.locator('[data-testid=vote-total]').count()) > 0);
  await ana.getByTestId('panel-workshop').click();
  await ana.locator(`[data-testid=card][data-id="${ids[0]}"]`).evaluate((el) => el.scrollIntoView({ block: 'center', inline: 'center' }));
  await ana.mouse.move(5, 400);
  await ana.screenshot({ path: join(OUT, 'workshop-vote-results.png') });
  await journeyShots(tokens[1]);
  console.log(`screenshots in ${OUT}`);
} finally {
  await browser.close();
  await server.stop();
}

/** The journey after the workshop: measured monthly, with an action spanning three steps. */
async function journeyShots(token) {
  const { map } = await rest(base, '/maps/demo-checkout', { token });
  const extra = [['Checkout conversion', '2026-11-01', 63.5], ['Cart abandonment', '2026-11-01', 24.0], ['Post-delivery CSAT', '2026-11-01', 86.0], ['Post-delivery CSAT', '2026-09-01', 81.0]];
  for (const [i, [name, date, value]] of extra.entries()) {
    map.measurements.push({ id: `shot${i}`, metricId: map.metrics.find((m) => m.name === name).id, date, value });
  }
  const action = map.cards.find((c) => c.text.startsWith('Integrate a wallet'));
  const at = map.steps.findIndex((s) => s.id === action.stepId);
  action.endStepId = map.steps[at + 2].id;
  await rest(base, '/maps/import?id=demo-journey', { method: 'POST', token, body: map });
  const page = await newPerson(browser, 'Ana Lima', { viewport: { width: 1600, height: 1200 } });
  await openMap(page, base, 'demo-journey', { token });
  await page.getByTestId('zoom-out').click();
  await eventually('zoomed out', async () => (await page.getByTestId('zoom-level').textContent()).trim() !== '100 %');
  const tile = page.locator('[data-testid=metric]', { hasText: 'Cart abandonment' });
  await tile.waitFor();
  await tile.scrollIntoViewIfNeeded();
  await tile.click();
  await page.getByTestId('side-panel').getByTestId('measurement').first().waitFor();
  const spanning = page.locator('[data-testid=card]', { hasText: 'Integrate a wallet' });
  await spanning.evaluate((el) => el.scrollIntoView({ block: 'end', inline: 'center' }));
  await page.mouse.move(5, 450);
  await page.screenshot({ path: join(OUT, 'journey-touchpoints-span.png') });
  await tile.evaluate((el) => el.scrollIntoView({ block: 'center', inline: 'center' }));
  await page.screenshot({ path: join(OUT, 'journey-metrics.png') });
  await page.context().close();
}
