// The editor without a network: the service worker opens a map seen before, the copy in IndexedDB
// keeps edits across reloads and closed tabs until the server confirms them, and a copy never
// brings back a deleted map or reaches another person.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, WAYMARK_BIN, baseOf, eventually, launchBrowser, mint, newPerson, openMap, rest, startProxy, startServer } from './helpers.mjs';

const SECRET = 'e2e-secret-that-is-at-least-32-bytes-long';
let server;
let base;
let authServer;
let authBase;
let browser;

before(async () => {
  server = await startServer();
  base = baseOf(server);
  authServer = await startServer({ args: ['--auth-secret', SECRET] });
  authBase = baseOf(authServer);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  const exits = [await server?.stop(), await authServer?.stop()];
  assert.deepEqual(exits.map((e) => e?.code), [0, 0], `server exits ${JSON.stringify(exits)}\n${server?.logs()}`);
});

async function templateMap(at, id, token) {
  await rest(at, '/maps', { method: 'POST', token, body: { id, template: 'ecommerce-purchase' } });
  const { map } = await rest(at, `/maps/${id}`, { token });
  return { map, lane: (kind) => map.lanes.find((l) => l.kind === kind).id, steps: map.steps.map((s) => s.id) };
}

/** Another page in the same browser profile (same storage, same service worker). */
async function samePerson(context) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/WebSocket|Failed to load resource|ERR_CONNECTION|ERR_INTERNET_DISCONNECTED/.test(m.text())) page.errors.push(m.text());
  });
  return page;
}

async function addCard(page, lane, step, text) {
  await page.locator(`.cell[data-lane="${lane}"][data-step="${step}"] [data-testid=add-card]`).click();
  await page.locator('[data-testid=card-editor]').pressSequentially(text);
  await page.keyboard.press('Enter');
}

const cardWithText = (page, text) => page.locator('[data-testid=card]', { hasText: text });
const note = (page) => page.locator('[data-testid=saved-state]');
const localDatabases = (page) => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));

/** The bar says `count` (at least one) changes wait on this device. */
async function saysUnsent(page) {
  await eventually('the bar saying changes wait on this device', async () => /^[1-9]\d* changes? not sent$/.test(await note(page).textContent())
    && /^Offline — [1-9]\d* changes? saved on this device, not yet sent/.test(await page.locator('[data-testid=banner]').textContent())
    && (await page.locator('[data-testid=connection]').getAttribute('data-status')) === 'disconnected');
}

async function serverCards(at, id, token) {
  return (await rest(at, `/maps/${id}`, { token })).map.cards.map((c) => c.text);
}

test('an edit made offline survives a reload and a closed tab, and reaches the server when it returns', async () => {
  const m = await templateMap(base, 'offline-kept');
  const proxy = await startProxy(new URL(base).host);
  const ana = await newPerson(browser, 'Ana');
  const ben = await newPerson(browser, 'Ben');
  const context = ana.context();
  const dialogs = [];
  try {
    await openMap(ana, proxy.url, 'offline-kept');
    await openMap(ben, base, 'offline-kept');
    await eventually('the service worker controlling the page', () => ana.evaluate(() => !!navigator.serviceWorker.controller));

    proxy.cut();
    await context.setOffline(true);
    await ana.locator('[data-testid=connection][data-status=disconnected]').waitFor();
    await addCard(ana, m.lane('actions'), m.steps[1], 'Written on the train');
    await saysUnsent(ana);
    assert.equal(await ana.evaluate(() => window.waymarkEditor.unsent), true, 'the page knows the edit is not sent');
    await eventually('the edit safe in IndexedDB', () => ana.evaluate(() => window.waymarkEditor.session.local.safe));
    assert.ok(!(await serverCards(base, 'offline-kept')).includes('Written on the train'), 'nothing crossed the cut connection');

    // A reload, still offline: the page comes from the service worker, the map from IndexedDB,
    // and the browser does not ask before leaving, since the edit is kept on this device.
    ana.on('dialog', (d) => {
      dialogs.push(d.type());
      d.accept();
    });
    await ana.reload();
    await cardWithText(ana, 'Written on the train').waitFor();
    await saysUnsent(ana);
    assert.equal(await ana.locator('[data-testid=loading]').isVisible(), false, 'the map shows without the server');
    assert.equal(await ana.locator('[data-testid=card]').count(), m.map.cards.length + 1, 'every card from the copy');
    await ana.screenshot({ path: join(ARTIFACTS, 'offline.png') });
    assert.deepEqual(dialogs, [], 'no "leave the page?" prompt for edits kept on this device');

    // The tab closed and a new one opened, still offline.
    assert.deepEqual(ana.errors, []);
    await ana.close();
    const again = await samePerson(context);
    again.on('dialog', (d) => {
      dialogs.push(d.type());
      d.accept();
    });
    await again.goto(`${proxy.url}/m/offline-kept`);
    await cardWithText(again, 'Written on the train').waitFor();
    await saysUnsent(again);

    // Online again: the edit reaches the server and the other person; the bar says so.
    proxy.restore();
    await context.setOffline(false);
    await again.locator('[data-testid=connection][data-status=connected]').waitFor({ timeout: 15_000 });
    await eventually('the edit on the server', async () => (await serverCards(base, 'offline-kept')).includes('Written on the train'));
    await eventually('the edit at Ben', async () => (await cardWithText(ben, 'Written on the train').count()) === 1);
    await eventually('the bar saying all is saved', async () => (await note(again).textContent()) === 'All changes saved');
    assert.equal(await again.evaluate(() => window.waymarkEditor.unsent), false);
    assert.equal(await again.locator('[data-testid=banner]').isVisible(), false);
    assert.equal((await serverCards(base, 'offline-kept')).filter((t) => t === 'Written on the train').length, 1, 'sent once');
    await again.screenshot({ path: join(ARTIFACTS, 'offline-sent.png') });
    assert.deepEqual(dialogs, []);
    assert.deepEqual([...again.errors, ...ben.errors], []);
  } finally {
    await context.close();
    await ben.context().close();
    await proxy.close();
  }
});

test('an edit made while connected is confirmed, and a new server version is picked up online', async () => {
  const m = await templateMap(base, 'online-confirmed');
  const ana = await newPerson(browser, 'Ana');
  await openMap(ana, base, 'online-confirmed');
  await eventually('the service worker controlling the page', () => ana.evaluate(() => !!navigator.serviceWorker.controller));
  await addCard(ana, m.lane('actions'), m.steps[0], 'Written online');
  await eventually('the bar saying all is saved', async () => (await note(ana).textContent()) === 'All changes saved');
  assert.ok((await serverCards(base, 'online-confirmed')).includes('Written online'));
  // The worker answers from the network while it can: what the server serves now is what loads.
  const served = await (await fetch(`${base}/assets/app.js`)).text();
  const loaded = await ana.evaluate(async () => (await fetch('/assets/app.js')).text());
  assert.equal(loaded, served);
  assert.deepEqual(ana.errors, []);
  await ana.context().close();
});

test('a map deleted while the tab was away does not come back, and its copy is cleared', async () => {
  const m = await templateMap(base, 'offline-doomed');
  const proxy = await startProxy(new URL(base).host);
  const ana = await newPerson(browser, 'Ana');
  try {
    await openMap(ana, proxy.url, 'offline-doomed');
    await eventually('a copy on this device', async () => (await localDatabases(ana)).includes('waymark/offline-doomed/'));
    proxy.cut();
    await ana.context().setOffline(true);
    await ana.locator('[data-testid=connection][data-status=disconnected]').waitFor();
    await addCard(ana, m.lane('actions'), m.steps[0], 'Written for a map that is gone');
    await saysUnsent(ana);

    await rest(base, '/maps/offline-doomed', { method: 'DELETE' });
    proxy.restore();
    await ana.context().setOffline(false);
    await ana.locator('[data-testid=connection][data-status=closed]').waitFor({ timeout: 15_000 });
    assert.match(await ana.locator('[data-testid=banner]').textContent(), /deleted/);
    assert.equal(await ana.evaluate(() => window.waymarkEditor.session.provider.shouldConnect), false, 'no reconnection is scheduled');
    await eventually('the copy cleared', async () => !(await localDatabases(ana)).includes('waymark/offline-doomed/'));
    const { maps } = await rest(base, '/maps');
    assert.ok(!maps.some((x) => x.id === 'offline-doomed'), 'the map stays deleted');
    assert.equal(await ana.evaluate(() => window.waymarkEditor.unsent), false, 'nothing is waiting to be sent');

    await ana.reload();
    await ana.locator('[data-testid=page-error]').waitFor();
    assert.match(await ana.locator('[data-testid=page-error]').textContent(), /no map “offline-doomed”/);
    await assert.rejects(rest(base, '/maps/offline-doomed'), /404/);
    assert.deepEqual(ana.errors, []);
  } finally {
    await ana.context().close();
    await proxy.close();
  }
});

test('a copy of a map deleted and created again under the same id does not merge into the new map', async () => {
  const m = await templateMap(base, 'offline-reborn');
  const proxy = await startProxy(new URL(base).host);
  const first = await newPerson(browser, 'Ana');
  const context = first.context();
  try {
    await openMap(first, proxy.url, 'offline-reborn');
    proxy.cut();
    await first.locator('[data-testid=connection][data-status=disconnected]').waitFor();
    await addCard(first, m.lane('actions'), m.steps[0], 'Written for the old map');
    await saysUnsent(first);
    await eventually('the edit safe in IndexedDB', () => first.evaluate(() => window.waymarkEditor.session.local.safe));
    assert.deepEqual(first.errors, []);
    await first.close();

    await rest(base, '/maps/offline-reborn', { method: 'DELETE' });
    const reborn = await templateMap(base, 'offline-reborn');
    assert.notEqual(reborn.map.meta.createdAt, m.map.meta.createdAt);
    proxy.restore();
    const again = await samePerson(context);
    await openMap(again, proxy.url, 'offline-reborn');
    // An edit made now reaches the server after anything the page sent when it connected.
    await addCard(again, reborn.lane('actions'), reborn.steps[1], 'Written for the new map');
    await eventually('the new edit on the server', async () => (await serverCards(base, 'offline-reborn')).includes('Written for the new map'));
    assert.ok(!(await serverCards(base, 'offline-reborn')).includes('Written for the old map'), 'the old copy stayed out of the new map');
    assert.equal(await cardWithText(again, 'Written for the old map').count(), 0);
    assert.deepEqual(again.errors, []);
  } finally {
    await context.close();
    await proxy.close();
  }
});

test('another person\'s token in the same browser never sees or sends the copy; a viewer keeps none', async () => {
  const ana = await mint(WAYMARK_BIN, SECRET, { user: 'ana', name: 'Ana Editor', map: 'shared-*', role: 'editor' });
  const ben = await mint(WAYMARK_BIN, SECRET, { user: 'ben', name: 'Ben Editor', map: 'shared-*', role: 'editor' });
  const vic = await mint(WAYMARK_BIN, SECRET, { user: 'vic', name: 'Vic Viewer', map: 'shared-*', role: 'viewer' });
  const m = await templateMap(authBase, 'shared-desk', ana);
  const proxy = await startProxy(new URL(authBase).host);
  const first = await newPerson(browser, 'ignored');
  const context = first.context();
  try {
    // Ana writes offline and closes the tab: her edit waits in this browser.
    await openMap(first, proxy.url, 'shared-desk', { token: ana });
    proxy.cut();
    await first.locator('[data-testid=connection][data-status=disconnected]').waitFor();
    await addCard(first, m.lane('actions'), m.steps[0], 'Ana\'s unsent idea');
    await saysUnsent(first);
    await eventually('the edit safe in IndexedDB', () => first.evaluate(() => window.waymarkEditor.session.local.safe));
    await first.close();
    proxy.restore();

    // Ben, on the same computer, opens the map: not a trace of Ana's edit, here or on the server.
    const second = await samePerson(context);
    await openMap(second, proxy.url, 'shared-desk', { token: ben });
    assert.equal(await second.locator('[data-testid=card]').count(), m.map.cards.length);
    assert.equal(await cardWithText(second, 'Ana\'s unsent idea').count(), 0);
    assert.equal(await note(second).isVisible(), false, 'Ben has nothing waiting');

    // Vic, a viewer, reads the map and keeps no copy.
    const third = await samePerson(context);
    await openMap(third, proxy.url, 'shared-desk', { token: vic });
    await third.locator('[data-testid=read-only]').waitFor();
    assert.ok(!(await localDatabases(third)).some((name) => name.endsWith('/vic')), 'no database for the viewer');
    assert.ok(!(await serverCards(authBase, 'shared-desk', ana)).includes('Ana\'s unsent idea'));

    // Ana comes back with her link: her edit goes out under her name.
    const fourth = await samePerson(context);
    await openMap(fourth, proxy.url, 'shared-desk', { token: ana });
    await eventually('Ana\'s edit on the server', async () => (await serverCards(authBase, 'shared-desk', ana)).includes('Ana\'s unsent idea'));
    await eventually('Ana\'s edit at Ben', async () => (await cardWithText(second, 'Ana\'s unsent idea').count()) === 1);
    await eventually('the bar saying all is saved', async () => (await note(fourth).textContent()) === 'All changes saved');
    assert.deepEqual([...second.errors, ...third.errors, ...fourth.errors], []);
  } finally {
    await context.close();
    await proxy.close();
  }
});
