// The editor under authentication: a viewer's token shows a read-only map that still updates live;
// no token, no map.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WAYMARK_BIN, baseOf, eventually, launchBrowser, mint, newPerson, openMap, rest, startServer } from './helpers.mjs';

const SECRET = 'e2e-secret-that-is-at-least-32-bytes-long';
let server;
let base;
let browser;
let editorToken;
let viewerToken;

before(async () => {
  server = await startServer({ args: ['--auth-secret', SECRET] });
  base = baseOf(server);
  browser = await launchBrowser();
  editorToken = await mint(WAYMARK_BIN, SECRET, { user: 'ana', name: 'Ana Editor', map: 'acme-*', role: 'editor' });
  viewerToken = await mint(WAYMARK_BIN, SECRET, { user: 'vic', name: 'Vic Viewer', map: 'acme-*', role: 'viewer' });
  await rest(base, '/maps', { method: 'POST', token: editorToken, body: { id: 'acme-map', template: 'saas-onboarding' } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a viewer token shows the map read-only, and others\' edits still arrive', async () => {
  const vic = await newPerson(browser, 'ignored');
  const ana = await newPerson(browser, 'ignored');
  await openMap(vic, base, 'acme-map', { token: viewerToken });
  await openMap(ana, base, 'acme-map', { token: editorToken });
  const { map } = await rest(base, '/maps/acme-map', { token: viewerToken });

  // The token left the address bar; the names shown are the tokens'.
  assert.ok(!vic.url().includes('token='), vic.url());
  await eventually('Vic in Ana\'s presence list', async () => (await ana.locator('[data-testid=avatar][data-name="Vic Viewer"]').count()) === 1);

  await vic.locator('[data-testid=read-only]').waitFor();
  assert.equal(await vic.locator('[data-testid=card]').count(), map.cards.length, 'the viewer sees every card');
  for (const control of ['add-card', 'add-stage', 'add-lane', 'undo', 'delete-selected']) {
    assert.equal(await vic.locator(`[data-testid=${control}]`).count(), 0, `no ${control} for a viewer`);
  }
  assert.equal(await vic.locator('[data-testid=map-title]').getAttribute('readonly'), '');
  const card = vic.locator('[data-testid=card]').first();
  await card.dblclick();
  await card.press('Enter');
  await card.press('Delete');
  assert.equal(await vic.locator('[data-testid=card-editor]').count(), 0, 'no card opens for writing');
  assert.ok(await vic.locator('[data-testid=details-text]').isDisabled(), 'the details are read-only');
  const point = vic.locator('[data-testid=emotion-point]').first();
  const score = await point.getAttribute('data-score');
  await point.scrollIntoViewIfNeeded();
  await point.focus();
  await vic.keyboard.press('ArrowUp');
  await vic.keyboard.press('ArrowUp');
  assert.equal(await point.getAttribute('data-score'), score, 'the emotion point does not move');
  assert.deepEqual((await rest(base, '/maps/acme-map', { token: viewerToken })).map, map, 'nothing changed on the server');

  // The editor's edit reaches the viewer live.
  const lane = map.lanes.find((l) => l.kind === 'actions').id;
  await ana.locator(`.cell[data-lane="${lane}"][data-step="${map.steps[0].id}"] [data-testid=add-card]`).click();
  await ana.locator('[data-testid=card-editor]').pressSequentially('Seen by the viewer');
  await ana.keyboard.press('Enter');
  await eventually('the editor\'s card at the viewer', async () => (await vic.locator('[data-testid=card]', { hasText: 'Seen by the viewer' }).count()) === 1);

  // The list: the viewer's maps, nothing to create or delete.
  await vic.goto(`${base}/`);
  await vic.locator('[data-testid=map-row][data-map-id="acme-map"]').waitFor();
  assert.equal(await vic.locator('[data-testid=create-map]').count(), 0);
  assert.equal(await vic.locator('[data-testid=delete-map]').count(), 0);
  assert.deepEqual([...vic.errors, ...ana.errors], []);
  await vic.context().close();
  await ana.context().close();
});

test('a commenter comments on a card; the editor sees it live and resolves it', async () => {
  const commenterToken = await mint(WAYMARK_BIN, SECRET, { user: 'cora', name: 'Cora Commenter', map: 'acme-*', role: 'commenter' });
  const cora = await newPerson(browser, 'ignored');
  const ana = await newPerson(browser, 'ignored');
  await openMap(cora, base, 'acme-map', { token: commenterToken });
  await openMap(ana, base, 'acme-map', { token: editorToken });
  const { map } = await rest(base, '/maps/acme-map', { token: editorToken });
  const card = map.cards[2];

  await cora.locator('[data-testid=read-only]').waitFor();
  await cora.locator(`[data-testid=card][data-id="${card.id}"]`).click();
  await cora.locator('[data-testid=panel-comments]').click();
  await cora.locator('[data-testid=comment-text]').fill('Do we have evidence for this?');
  await cora.locator('[data-testid=comment-submit]').click();

  await ana.locator('[data-testid=panel-comments]').click();
  await ana.getByTestId('comments-scope').getByLabel(/All/).check();
  const comment = ana.locator('[data-testid=comment]', { hasText: 'Do we have evidence for this?' });
  await comment.waitFor();
  assert.match(await comment.textContent(), /Cora Commenter/, 'the author is the token\'s name');
  const { comments } = await rest(base, '/maps/acme-map/comments', { token: editorToken });
  assert.deepEqual(comments.map((c) => [c.text, c.target]), [['Do we have evidence for this?', `cards/${card.id}`]]);

  // The commenter may not resolve; the editor may, and the commenter sees it resolved.
  assert.equal(await cora.locator('[data-testid=comment-resolve]').count(), 0);
  await comment.locator('[data-testid=comment-resolve]').click();
  await eventually('resolved at Cora', async () => (await cora.locator('[data-testid=comment][data-resolved="true"]').count()) === 1
    || (await cora.locator('[data-testid=comment]', { hasText: 'Do we have evidence' }).count()) === 0);
  assert.equal((await rest(base, '/maps/acme-map/comments', { token: editorToken })).comments[0].resolved, true);
  assert.deepEqual([...cora.errors, ...ana.errors], []);
  await cora.context().close();
  await ana.context().close();
});

test('without a token the pages say how to get in', async () => {
  const page = await newPerson(browser, 'Nobody');
  await page.goto(`${base}/m/acme-map`);
  assert.match(await page.locator('[data-testid=page-error]').textContent(), /access token/);
  await page.goto(`${base}/`);
  await eventually('the list\'s explanation', async () => /token/i.test(await page.locator('body').textContent()));
  await page.context().close();
});
