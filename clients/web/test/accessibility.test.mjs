// Legibility and semantics checked by axe-core (WCAG 2.1 A and AA rules: contrast, names, labels,
// roles) on every page and panel, at the normal text size and at twice that size.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, baseOf, launchBrowser, rest, startServer } from './helpers.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let server;
let base;
let browser;

before(async () => {
  server = await startServer();
  base = baseOf(server);
  browser = await launchBrowser();
  await rest(base, '/maps', { method: 'POST', body: { id: 'a11y', template: 'service-blueprint' } });
  await rest(base, '/maps/a11y/versions', { method: 'POST', body: { label: 'Workshop 1' } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The WCAG A/AA violations axe finds in the page as it is now, one line each. */
async function violations(page) {
  // axe is injected as an inline script, which the pages' Content-Security-Policy would refuse:
  // the context bypasses CSP for this test only.
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }));
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

for (const [size, fontSize] of [['normal', null], ['twice the', '32px']]) {
  test(`the list, the editor and its panels pass axe at ${size} text size`, async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
    const page = await context.newPage();
    if (fontSize) await context.addInitScript((px) => document.addEventListener('DOMContentLoaded', () => { document.documentElement.style.fontSize = px; }), fontSize);
    const found = [];
    const check = async (where) => found.push(...(await violations(page)).map((v) => `${where}: ${v}`));

    await page.goto(`${base}/`);
    await page.locator('[data-testid=map-row]').first().waitFor();
    await check('list');
    await page.goto(`${base}/m/a11y`);
    await page.locator('[data-testid=connection][data-status=connected]').waitFor();
    await page.locator('[data-testid=card]').nth(3).click();
    await check('editor with a card selected');
    for (const panel of ['personas', 'comments', 'insights', 'versions']) {
      await page.locator(`[data-testid=panel-${panel}]`).click();
      await page.locator(panel === 'personas' ? '[data-testid=persona]' : `[data-testid=${panel}] button`).first().waitFor();
      await check(`${panel} panel`);
    }
    await page.locator('[data-testid=export-button]').click();
    await page.locator('[data-testid=export-json]').waitFor();
    await check('export menu');
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=filter-button]').click();
    await page.locator('[data-testid=filter-menu]').waitFor();
    await check('filter menu');
    await page.keyboard.press('Escape');
    if (fontSize) await page.screenshot({ path: join(ARTIFACTS, 'editor-large-text.png') });
    assert.deepEqual(found, []);
    await context.close();
  });
}
