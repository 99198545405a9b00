// What the end-to-end tests share: a real `waymark` server, headless Chromium (Debian's, driven by
// playwright-core), a TCP proxy that can cut a page's connection, and polling with a deadline.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { startServer } from '../../interop/server.mjs';

export { startServer, WAYMARK_BIN } from '../../interop/server.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Where screenshots go: kept as artifacts of the run, never committed. */
export const ARTIFACTS = process.env.WAYMARK_E2E_ARTIFACTS || fileURLToPath(new URL('../../../target/e2e-artifacts/', import.meta.url));

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A page in its own browser context (its own storage: another person), showing `name` to others.
 * Page errors fail the test that reads `errors`.
 */
export async function newPerson(browser, name, { viewport = { width: 1440, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport });
  await context.addInitScript((n) => localStorage.setItem('waymark.name', n), name);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/WebSocket|Failed to load resource|ERR_CONNECTION/.test(m.text())) page.errors.push(m.text());
  });
  return page;
}

/** Opens a map and waits until it is synced with the server. */
export async function openMap(page, base, mapId, { token } = {}) {
  await page.goto(`${base}/m/${encodeURIComponent(mapId)}${token ? `?token=${token}` : ''}`);
  await page.locator('[data-testid=connection][data-status=connected]').waitFor({ timeout: 15_000 });
}

/** Polls `fn` until it returns a truthy value (returned), or fails with `what` after `timeout` ms. */
export async function eventually(what, fn, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      last = value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Calls the REST API of `base`. */
export async function rest(base, path, { method = 'GET', body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Mints a token with `waymark token`. */
export async function mint(bin, secret, { user, name, map, role }) {
  const { stdout } = await promisify(execFile)(bin, ['token', '--user', user, '--name', name, '--map', map, '--role', role, '--expires-in', '1h'], {
    env: { ...process.env, WAYMARK_AUTH_SECRET: secret },
  });
  return stdout.trim();
}

/** A TCP proxy to `target` ("host:port") whose connections can be cut and later allowed again. */
export async function startProxy(target) {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set();
  let open = true;
  const server = createServer((client) => {
    if (!open) return client.destroy();
    const upstream = connect(port, host);
    sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.pipe(upstream).pipe(client);
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Drops every connection and refuses new ones, as a network outage would. */
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close() {
      open = false;
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The base URL of a started server ("ws://127.0.0.1:PORT/maps" → "http://127.0.0.1:PORT"). */
export function baseOf(server) {
  const u = new URL(server.url);
  return `http://${u.host}`;
}

/**
 * Starts a server (with extra `args`) and headless Chromium before a file's tests and stops them
 * after it, failing if the server did not exit cleanly; `set` receives `{ server, base, browser }`.
 */
export function withServerAndBrowser(set, { args = [] } = {}) {
  let started = {};
  before(async () => {
    const server = await startServer({ args });
    started = { server, base: baseOf(server), browser: await launchBrowser() };
    set(started);
  });
  after(async () => {
    await started.browser?.close();
    const exit = await started.server?.stop();
    assert.equal(exit?.code, 0, `server exit ${JSON.stringify(exit)}\n${started.server?.logs()}`);
  });
}
