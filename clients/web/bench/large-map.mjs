#!/usr/bin/env node
// Benchmark (not a test): the browser editor on a large, realistic map. Generates a map with
// generate-map.mjs (8 stages × 5 steps, 12 lanes, 600 cards, 40 links, 2 personas' emotion
// curves), imports it into a fresh `waymark serve`, opens it in headless Chromium and measures:
//   1. loading: time to connected and to all cards on screen, the first full render, JS heap, DOM size;
//   2. live editing: while a second page edits (a card's text every 100 ms, a card moved every
//      500 ms), the edit-to-DOM latency, the render time per update, long tasks and frames;
//   3. scrolling the board from left to right with the mouse wheel: frames and the worst gap.
// Prints a table, then the figures as JSON (to stdout, or to the file given as first argument).
//
//   node bench/large-map.mjs [out.json] [--duration 20] [--cards 600] [--seed 1] [--profile [dir]]
//
// Env: WAYMARK_BIN (default: target/release/waymark if built, else target/debug/waymark),
// WAYMARK_WEB_DIR (default: clients/web/dist), CHROMIUM_PATH (default: /usr/bin/chromium).
// --profile serves an unminified build of the editor (with a source map, in a temporary
// directory), records Chrome CPU profiles of the load and of the editing window and a trace of the
// editing window, saves them, and prints the hot functions with their source file and line, and the
// main thread's time per trace event (Layout, Paint, ...). Its figures include the profilers' cost.
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { generateMap } from './generate-map.mjs';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

// ---- arguments ----

function parseArgs(argv) {
  const opts = { out: null, duration: 20, cards: 600, seed: 1, profile: null, scroll: 3, zoom: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--duration') opts.duration = Number(next());
    else if (a === '--cards') opts.cards = Number(next());
    else if (a === '--seed') opts.seed = Number(next());
    else if (a === '--scroll') opts.scroll = Number(next());
    else if (a === '--zoom') opts.zoom = next();
    else if (a === '--profile') opts.profile = argv[i + 1] && !argv[i + 1].startsWith('--') ? next() : '';
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/large-map.mjs [out.json] [--duration s] [--cards n] [--seed n] [--scroll s] [--zoom level|fit] [--profile [dir]]');
      process.exit(0);
    } else if (!a.startsWith('--') && !opts.out) opts.out = a;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

const log = (...a) => console.error('[bench]', ...a);

// Importers of the generator from this file keep working.
export { generateMap };

// ---- statistics ----

function pct(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const round = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? null : Math.round(v * 10 ** d) / 10 ** d);
function summary(values, d = 1) {
  if (!values.length) return { n: 0, p50: null, p95: null, max: null, mean: null };
  return { n: values.length, p50: round(pct(values, 50), d), p95: round(pct(values, 95), d), max: round(Math.max(...values), d), mean: round(values.reduce((a, b) => a + b, 0) / values.length, d) };
}

/** Polls `fn` until it returns something truthy, or fails after `timeout` ms. */
async function until(what, fn, timeout = 15_000, every = 25) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- in-page instrumentation (page A), installed before the editor's script runs ----

function instrumentPage() {
  const b = (window.__bench = { renders: [], longtasks: [], connectedAt: null, navStart: performance.timeOrigin });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch { b.noLongtasks = true; }
  // The editor sets window.waymarkEditor in its constructor, before its first render: wrap the
  // render and its parts there, so every render is logged with its breakdown.
  let editor;
  Object.defineProperty(window, 'waymarkEditor', {
    configurable: true,
    get: () => editor,
    set(ed) {
      editor = ed;
      const part = {};
      // In CPU profiles these wrappers appear as benchWrapper and benchRender.
      const wrap = (obj, name, label) => {
        if (!obj || obj[name]?.benchWrapped) return;
        const fn = obj[name];
        obj[name] = function benchWrapper(...args) {
          const t = performance.now();
          try { return fn.apply(this, args); } finally { part[label] = (part[label] ?? 0) + performance.now() - t; }
        };
        obj[name].benchWrapped = true;
      };
      wrap(ed.board, 'render', 'board');
      wrap(ed.board, 'renderEmotions', 'emotions');
      wrap(ed.presence, 'refresh', 'presence');
      wrap(ed, 'renderPanel', 'panel');
      const render = ed.render;
      ed.render = function benchRender() {
        for (const k of Object.keys(part)) part[k] = 0;
        wrap(this.comments, 'refresh', 'comments'); // the comments panel, when it is open
        const at = performance.now();
        render.call(this);
        b.renders.push({
          at, end: performance.now(), wall: Date.now(), ms: this.lastRender, cards: this.map.cards.size,
          board: part.board ?? 0, emotions: part.emotions ?? 0, presence: part.presence ?? 0, panel: (part.panel ?? 0) + (part.comments ?? 0),
        });
      };
      const renderStatus = ed.renderStatus;
      ed.renderStatus = function (...args) {
        renderStatus.apply(this, args);
        if (!b.connectedAt && this.statusEl.dataset.status === 'connected') b.connectedAt = { wall: Date.now(), perf: performance.now() };
      };
    },
  });
}

/** Counts animation frames until stopped; returns the count and the gaps between them. */
function startFrames() {
  const f = (window.__frames = { times: [], running: true, start: performance.now() });
  const tick = (t) => {
    f.times.push(t);
    if (f.running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
function stopFrames() {
  const f = window.__frames;
  f.running = false;
  const end = performance.now();
  const gaps = [];
  for (let i = 1; i < f.times.length; i++) gaps.push(f.times[i] - f.times[i - 1]);
  return { start: f.start, end, frames: f.times.length, gaps };
}
function frameFigures({ start, end, frames, gaps }) {
  const seconds = (end - start) / 1000;
  return {
    seconds: round(seconds, 2), frames, fps: round(frames / seconds, 1), worstGapMs: round(Math.max(0, ...gaps), 1),
    p95GapMs: round(pct(gaps, 95), 1), gapsOver50ms: gaps.filter((g) => g > 50).length, gapsOver100ms: gaps.filter((g) => g > 100).length,
  };
}
async function longtasksIn(page, start, end) {
  const tasks = await page.evaluate(([s, e]) => window.__bench.longtasks.filter((t) => t.start >= s && t.start < e), [start, end]);
  const durations = tasks.map((t) => t.duration);
  return { count: tasks.length, maxMs: round(Math.max(0, ...durations), 1), totalMs: round(durations.reduce((a, b) => a + b, 0), 0) };
}

// CDP: Performance.getMetrics gives cumulative main-thread times (seconds) and counts.
async function cdpMetrics(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}
function metricDelta(before, after) {
  const d = (k) => after[k] - before[k];
  return {
    scriptMs: round(d('ScriptDuration') * 1000, 0), layoutMs: round(d('LayoutDuration') * 1000, 0), styleMs: round(d('RecalcStyleDuration') * 1000, 0),
    taskMs: round(d('TaskDuration') * 1000, 0), layouts: d('LayoutCount'), styleRecalcs: d('RecalcStyleCount'),
  };
}

// ---- profiling support: an unminified build with a source map, and a reader of CPU profiles ----

async function buildForProfiling(dir) {
  const esbuild = await import('esbuild');
  await mkdir(dir, { recursive: true });
  await esbuild.build({
    entryPoints: { app: join(WEB, 'src/main.js') }, bundle: true, format: 'esm', target: 'es2022', minify: false,
    sourcemap: 'external', charset: 'utf8', outdir: dir, logLevel: 'warning',
  });
  await writeFile(join(dir, 'index.html'), await readFile(join(WEB, 'src/index.html')));
  return JSON.parse(await readFile(join(dir, 'app.js.map'), 'utf8'));
}

/** Decodes a source map's mappings into a lookup (0-based line and column → source:line). */
function sourceMapLookup(map) {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lines = [];
  let src = 0; let sLine = 0; let sCol = 0;
  for (const line of map.mappings.split(';')) {
    const segs = [];
    let col = 0;
    for (const seg of line.split(',')) {
      if (!seg) continue;
      const vals = [];
      let v = 0; let shift = 0;
      for (const ch of seg) {
        const d = B64.indexOf(ch);
        v += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          vals.push(v & 1 ? -(v >>> 1) : v >>> 1);
          v = 0; shift = 0;
        }
      }
      col += vals[0];
      if (vals.length >= 4) {
        src += vals[1]; sLine += vals[2]; sCol += vals[3];
        segs.push([col, src, sLine]);
      }
    }
    lines.push(segs);
  }
  return (line, column) => {
    const segs = lines[line];
    if (!segs?.length) return null;
    let best = null;
    for (const s of segs) { if (s[0] <= column) best = s; else break; }
    best ??= segs[0];
    return `${map.sources[best[1]].replace(/^.*?\/clients\/web\//, '').replace(/^.*?node_modules\//, 'node_modules/')}:${best[2] + 1}`;
  };
}

/** Self and total time per function of a CPU profile, the hottest first. */
function hotSpots(profile, lookup, top = 25) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = new Map();
  const key = (n) => {
    if (keyOf.has(n.id)) return keyOf.get(n.id);
    const cf = n.callFrame;
    let where = '';
    if (cf.url.includes('/assets/app.js') && lookup) where = lookup(cf.lineNumber, cf.columnNumber) ?? '';
    else if (cf.url) where = `${cf.url.replace(/^.*\//, '')}:${cf.lineNumber + 1}`;
    const k = `${cf.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    keyOf.set(n.id, k);
    return k;
  };
  const self = new Map();
  const total = new Map();
  let all = 0;
  let idle = 0;
  const samples = profile.samples;
  const deltas = profile.timeDeltas;
  for (let i = 0; i < samples.length; i++) {
    const dt = (deltas[i + 1] ?? 0) / 1000; // a sample lasts until the next one
    const n = nodes.get(samples[i]);
    const k = key(n);
    if (k === '(idle)') { idle += dt; continue; }
    all += dt;
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set();
    for (let id = n.id; id !== undefined; id = parent.get(id)) {
      const kk = key(nodes.get(id));
      if (seen.has(kk) || kk === '(root)') continue;
      seen.add(kk);
      total.set(kk, (total.get(kk) ?? 0) + dt);
    }
  }
  const list = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, ms]) => ({ fn, ms: round(ms, 0), pct: round((100 * ms) / all, 1) }));
  return { busyMs: round(all, 0), idleMs: round(idle, 0), self: list(self), total: list(total) };
}

/**
 * Where the renderer's main thread of the page that set the user-timing mark `markName` spent its
 * time, from a Chrome trace: self time per trace event (Layout, UpdateLayoutTree, Paint,
 * FunctionCall, ...), so that the profiler's "(program)" (native work) is broken down too.
 */
function traceBreakdown(trace, markName, top = 20) {
  const events = trace.traceEvents ?? trace;
  const mark = events.find((e) => e.name === markName);
  if (!mark) return null;
  const { pid } = mark;
  const tid = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === pid && e.args?.name === 'CrRendererMain')?.tid ?? mark.tid;
  const xs = events.filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && typeof e.dur === 'number')
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const self = new Map();
  const count = new Map();
  const stack = [];
  let busy = 0;
  const first = xs[0]?.ts ?? 0;
  let last = first;
  const done = (n) => self.set(n.name, (self.get(n.name) ?? 0) + n.self);
  for (const e of xs) {
    while (stack.length && stack.at(-1).end <= e.ts) done(stack.pop());
    const parent = stack.at(-1);
    if (parent) parent.self -= Math.min(e.dur, parent.end - e.ts);
    else busy += e.dur;
    stack.push({ name: e.name, end: e.ts + e.dur, self: e.dur });
    count.set(e.name, (count.get(e.name) ?? 0) + 1);
    last = Math.max(last, e.ts + e.dur);
  }
  while (stack.length) done(stack.pop());
  return {
    spanMs: round((last - first) / 1000, 0), busyMs: round(busy / 1000, 0),
    self: [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: round(us / 1000, 0), pct: round((100 * us) / busy, 1), count: count.get(name) })),
  };
}

// ---- the benchmark ----

async function main(opts) {
  // The server binary and the editor files must be chosen before the helpers read the environment.
  if (!process.env.WAYMARK_BIN) {
    const release = join(ROOT, 'target/release/waymark');
    process.env.WAYMARK_BIN = existsSync(release) ? release : join(ROOT, 'target/debug/waymark');
  }
  // Info level: the server must log "listening"; per-update debug logging would cost the server time.
  process.env.RUST_LOG ||= 'info';
  const { startServer, WAYMARK_BIN } = await import('../../interop/server.mjs');
  const { CHROMIUM, baseOf, newPerson, rest } = await import('../test/helpers.mjs');
  const { chromium } = await import('playwright-core');

  let profileDir = null;
  let lookup = null;
  if (opts.profile !== null) {
    profileDir = opts.profile || await mkdtemp(join(tmpdir(), 'waymark-bench-profile-'));
    await mkdir(profileDir, { recursive: true });
    const build = join(profileDir, 'web');
    lookup = sourceMapLookup(await buildForProfiling(build));
    process.env.WAYMARK_WEB_DIR = build;
    log(`profiling: serving an unminified build from ${build}`);
  } else {
    process.env.WAYMARK_WEB_DIR ||= join(WEB, 'dist');
    try {
      execFileSync(process.execPath, ['build.mjs', '--check'], { cwd: WEB, stdio: 'pipe' });
    } catch {
      log('WARNING: clients/web/dist is older than its sources; run `node build.mjs` in clients/web');
    }
  }
  const binKind = WAYMARK_BIN.includes('/release/') ? 'release' : WAYMARK_BIN.includes('/debug/') ? 'debug' : 'custom';
  log(`server ${WAYMARK_BIN} (${binKind}), editor from ${process.env.WAYMARK_WEB_DIR}`);

  const gen = generateMap({ cards: opts.cards, seed: opts.seed });
  const { map } = gen;
  const results = {
    benchmark: 'clients/web/bench/large-map.mjs',
    date: new Date().toISOString(),
    environment: { server: WAYMARK_BIN, build: binKind, webDir: process.env.WAYMARK_WEB_DIR, profiled: !!profileDir, node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model },
    map: { stages: map.stages.length, steps: map.steps.length, lanes: map.lanes.length, cards: map.cards.length, links: map.links.length, emotions: map.emotions.length, personas: map.personas.length, seed: opts.seed, jsonBytes: JSON.stringify(map).length },
  };

  const server = await startServer();
  const base = baseOf(server);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--enable-precise-memory-info'], // unrounded performance.memory
  });
  results.environment.chromium = browser.version();
  try {
    const mapId = 'bench-large';
    const t = Date.now();
    await rest(base, `/maps/import?id=${mapId}`, { method: 'POST', body: map });
    results.map.importMs = Date.now() - t;
    log(`imported ${map.cards.length} cards in ${results.map.importMs} ms`);

    // ---- 1. load in page A ----
    const a = await newPerson(browser, 'Bench A', { viewport: { width: 1600, height: 1000 } });
    await a.context().addInitScript(instrumentPage);
    const cdpA = await a.context().newCDPSession(a);
    await cdpA.send('Performance.enable');
    let loadProfile = null;
    if (profileDir) {
      await a.goto(`${base}/`); // same origin first, so the renderer (and the profiler in it) stays
      await cdpA.send('Profiler.enable');
      await cdpA.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdpA.send('Profiler.start');
    }
    const expected = map.cards.length;
    const t0 = Date.now();
    await a.goto(`${base}/m/${mapId}`);
    const gotoMs = Date.now() - t0;
    await until('page A connected', () => a.evaluate(() => window.__bench.connectedAt !== null));
    await until(`all ${expected} cards in page A`, () => a.evaluate((n) => document.querySelectorAll('[data-testid=card]').length >= n, expected), 60_000);
    // Settled: no render for 500 ms.
    await until('page A idle', () => a.evaluate(() => { const r = window.__bench.renders.at(-1); return r && performance.now() - r.end > 500; }), 30_000);
    if (profileDir) {
      const { profile } = await cdpA.send('Profiler.stop');
      await writeFile(join(profileDir, 'load.cpuprofile'), JSON.stringify(profile));
      loadProfile = hotSpots(profile, lookup);
    }
    const load = await a.evaluate(({ t0, expected }) => {
      const b = window.__bench;
      const full = b.renders.find((r) => r.cards >= expected);
      return {
        connected: b.connectedAt.wall - t0,
        allCards: full.wall - t0,
        // The same two from the navigation's start in the page (excludes Playwright's own overhead).
        connectedFromNav: b.connectedAt.perf, allCardsFromNav: full.end,
        firstFullRender: { ms: full.ms, board: full.board, emotions: full.emotions, presence: full.presence, panel: full.panel, readMapAndRest: full.ms - full.board - full.presence - full.panel },
        rendersDuringLoad: b.renders.length,
        longtasks: b.longtasks.filter((t) => t.start <= full.end + 1000),
      };
    }, { t0, expected });
    await cdpA.send('HeapProfiler.collectGarbage');
    const size = async () => {
      const page = await a.evaluate(() => ({ heapUsed: performance.memory.usedJSHeapSize, heapTotal: performance.memory.totalJSHeapSize, elements: document.getElementsByTagName('*').length, svgElements: document.querySelectorAll('svg *').length }));
      const m = await cdpMetrics(cdpA);
      return { ...page, nodes: m.Nodes, listeners: m.JSEventListeners };
    };
    const loaded = await size();
    results.load = {
      gotoMs, connectedMs: load.connected, allCardsMs: load.allCards,
      connectedFromNavMs: round(load.connectedFromNav, 0), allCardsFromNavMs: round(load.allCardsFromNav, 0),
      firstFullRenderMs: round(load.firstFullRender.ms, 1),
      firstFullRenderParts: Object.fromEntries(Object.entries(load.firstFullRender).filter(([k]) => k !== 'ms').map(([k, v]) => [k, round(v, 1)])),
      rendersDuringLoad: load.rendersDuringLoad,
      longtasks: { count: load.longtasks.length, maxMs: round(Math.max(0, ...load.longtasks.map((t) => t.duration)), 1) },
      heapUsedMB: round(loaded.heapUsed / 2 ** 20, 1), heapTotalMB: round(loaded.heapTotal / 2 ** 20, 1),
      domElements: loaded.elements, domNodes: loaded.nodes, svgElements: loaded.svgElements, eventListeners: loaded.listeners,
    };
    log(`loaded: ${load.allCards} ms to all cards, first full render ${round(load.firstFullRender.ms)} ms`);

    // A zoom for the rest of the run: at "fit" all 600 cards are on screen, so every edit and every
    // frame paints the whole map, the heaviest case for the renderer.
    if (opts.zoom) {
      results.environment.zoom = await a.evaluate((z) => {
        const zoom = window.waymarkEditor.zoom;
        if (!zoom) throw new Error('--zoom: this editor has no zoom');
        if (z === 'fit') zoom.fit();
        else zoom.set(Number(z));
        return zoom.level;
      }, opts.zoom);
      await a.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      log(`zoomed to ${Math.round(results.environment.zoom * 100)} %`);
    }

    // Idle frames, as a baseline for the frame rate headless Chromium gives at all.
    await a.evaluate(startFrames);
    await sleep(2000);
    results.idleFrames = frameFigures(await a.evaluate(stopFrames));

    // ---- 2. live editing: page B edits, page A is measured ----
    const bPage = await newPerson(browser, 'Bench B', { viewport: { width: 1280, height: 800 } });
    await bPage.goto(`${base}/m/${mapId}`);
    await until('page B synced', () => bPage.evaluate((n) => document.querySelector('[data-testid=connection]')?.dataset.status === 'connected'
      && window.waymarkEditor?.map.cards.size >= n, expected), 60_000);
    await until('page B has the cards to edit', () => bPage.evaluate((ids) => ids.every((id) => typeof window.waymarkEditor.doc.getMap('cards').get(id)?.get('text')?.insert === 'function'), gen.textIds));
    await until('page A idle again', () => a.evaluate(() => performance.now() - (window.__bench.renders.at(-1)?.end ?? 0) > 500), 30_000);

    // The observer on A: every "bench <time>" that appears in one of the edited cards.
    await a.evaluate((ids) => {
      const b = window.__bench;
      b.latencies = [];
      const seen = new Set();
      const cards = ids.map((id) => document.querySelector(`[data-testid=card][data-id="${id}"]`));
      if (cards.some((c) => !c)) throw new Error('an edited card is missing in page A');
      b.observer = new MutationObserver(() => {
        const now = Date.now();
        for (const card of cards) {
          const m = /^bench (\d+)$/.exec(card.querySelector('.card-text')?.textContent ?? '');
          if (m && !seen.has(m[1])) {
            seen.add(m[1]);
            b.latencies.push(now - Number(m[1]));
          }
        }
      });
      for (const card of cards) b.observer.observe(card, { subtree: true, childList: true, characterData: true });
    }, gen.textIds);

    const durationMs = opts.duration * 1000;
    const metricsBefore = await cdpMetrics(cdpA);
    const rendersBefore = await a.evaluate(() => window.__bench.renders.length);
    const win = await a.evaluate(() => performance.now());
    await a.evaluate(startFrames);
    if (profileDir) {
      await browser.startTracing(a, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'v8.execute'] });
      await a.evaluate(() => performance.mark('waymark-bench-page-a'));
      await cdpA.send('Profiler.start');
    }
    // B: a text edit every 100 ms (20 cards in turn), a move every 500 ms (10 cards in turn).
    await bPage.evaluate(({ textIds, moveIds, stepIds, laneIds, durationMs }) => {
      const ed = window.waymarkEditor;
      const doc = ed.doc;
      const cards = doc.getMap('cards');
      const s = (window.__edits = { text: 0, moves: 0, done: false });
      let i = 0;
      let j = 0;
      const texts = setInterval(() => {
        const ytext = cards.get(textIds[i++ % textIds.length]).get('text');
        doc.transact(() => {
          const now = Date.now();
          ytext.delete(0, ytext.length);
          ytext.insert(0, `bench ${now}`);
        });
        s.text++;
      }, 100);
      const moves = setInterval(() => {
        // To another cell, as a drag would: three steps to the right, one lane down (both wrap).
        const card = cards.get(moveIds[j++ % moveIds.length]);
        const step = stepIds.indexOf(card.get('stepId'));
        const lane = laneIds.indexOf(card.get('laneId'));
        doc.transact(() => {
          card.set('stepId', stepIds[(step + 3) % stepIds.length]);
          card.set('laneId', laneIds[(lane + 1) % laneIds.length]);
        });
        s.moves++;
      }, 500);
      setTimeout(() => {
        clearInterval(texts);
        clearInterval(moves);
        s.done = true;
      }, durationMs);
    }, { ...gen, durationMs });
    await sleep(durationMs);
    const edits = await until('page B to finish editing', () => bPage.evaluate(() => window.__edits.done && window.__edits), 10_000);
    const frames = await a.evaluate(stopFrames);
    const winEnd = await a.evaluate(() => performance.now());
    let editProfile = null;
    if (profileDir) {
      const { profile } = await cdpA.send('Profiler.stop');
      await writeFile(join(profileDir, 'edits.cpuprofile'), JSON.stringify(profile));
      editProfile = hotSpots(profile, lookup);
      const trace = await browser.stopTracing();
      await writeFile(join(profileDir, 'edits.trace.json'), trace);
      editProfile.trace = traceBreakdown(JSON.parse(trace.toString('utf8')), 'waymark-bench-page-a');
    }
    const metricsAfter = await cdpMetrics(cdpA);
    // The last edits still on their way: wait (with a deadline) until A has seen them all.
    let missing = 0;
    try {
      await until('page A to show every edit', () => a.evaluate((n) => window.__bench.latencies.length >= n, edits.text), 5000);
    } catch {
      missing = edits.text - await a.evaluate(() => window.__bench.latencies.length);
    }
    const live = await a.evaluate((from) => {
      const b = window.__bench;
      b.observer.disconnect();
      return { latencies: b.latencies, renders: b.renders.slice(from) };
    }, rendersBefore);
    const renderMs = live.renders.map((r) => r.ms);
    const part = (k) => summary(live.renders.map((r) => r[k]));
    results.editing = {
      seconds: opts.duration,
      edits: { text: edits.text, moves: edits.moves, seenInA: live.latencies.length, missing },
      latencyMs: summary(live.latencies, 0),
      renders: live.renders.length,
      renderMs: summary(renderMs),
      renderParts: { board: part('board'), emotions: part('emotions'), presence: part('presence'), panel: part('panel'), readMapAndRest: summary(live.renders.map((r) => r.ms - r.board - r.presence - r.panel)) },
      rendersOver16ms: renderMs.filter((v) => v > 16).length,
      longtasks: await longtasksIn(a, win, winEnd),
      frames: frameFigures(frames),
      mainThread: metricDelta(metricsBefore, metricsAfter),
    };
    log(`editing: ${edits.text} text edits, ${edits.moves} moves; latency p50 ${results.editing.latencyMs.p50} ms, render p50 ${results.editing.renderMs.p50} ms`);
    await bPage.context().close();
    await until('page A idle after editing', () => a.evaluate(() => performance.now() - (window.__bench.renders.at(-1)?.end ?? 0) > 500), 30_000);
    await cdpA.send('HeapProfiler.collectGarbage');
    const after = await size();
    results.editing.heapUsedAfterMB = round(after.heapUsed / 2 ** 20, 1);
    results.editing.domNodesAfter = after.nodes;
    results.editing.eventListenersAfter = after.listeners;

    // ---- 3. scrolling the board from left to right ----
    const board = a.locator('[data-testid=board]');
    await board.evaluate((el) => { el.scrollLeft = 0; });
    const box = await board.boundingBox();
    await a.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const { scrollWidth, clientWidth } = await board.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
    const distance = scrollWidth - clientWidth;
    const stepsN = Math.max(1, Math.round((opts.scroll * 1000) / 50)); // one wheel event every 50 ms
    const dx = Math.ceil(distance / stepsN);
    const m0 = await cdpMetrics(cdpA);
    const s0 = await a.evaluate(() => performance.now());
    await a.evaluate(startFrames);
    const wheelStart = Date.now();
    for (let k = 0; k < stepsN; k++) {
      await a.mouse.wheel(dx, 0);
      const wait = wheelStart + (k + 1) * 50 - Date.now();
      if (wait > 0) await sleep(wait);
    }
    const wheelMs = Date.now() - wheelStart;
    let reachedEnd = true;
    try {
      await until('the board to reach its right edge', () => board.evaluate((el) => el.scrollLeft >= el.scrollWidth - el.clientWidth - 1), 5000, 10);
    } catch { reachedEnd = false; }
    const scrollEndMs = Date.now() - wheelStart;
    const scrollFrames = await a.evaluate(stopFrames);
    const s1 = await a.evaluate(() => performance.now());
    results.scroll = {
      distancePx: distance, wheelEvents: stepsN, deltaPx: dx, wheelMs, reachedEnd, toEndMs: scrollEndMs,
      frames: frameFigures(scrollFrames),
      longtasks: await longtasksIn(a, s0, s1),
      mainThread: metricDelta(m0, await cdpMetrics(cdpA)),
      rendersDuringScroll: await a.evaluate((t) => window.__bench.renders.filter((r) => r.at >= t).length, s0),
    };
    if (a.errors.length) results.pageErrors = a.errors;
    if (profileDir) results.profile = { dir: profileDir, load: loadProfile, edits: editProfile };
  } finally {
    await browser.close();
    await server.stop();
  }
  return results;
}

function table(r) {
  const rows = [];
  const row = (what, value) => rows.push([what, value]);
  const dist = (s, unit = 'ms') => (s.n ? `p50 ${s.p50} / p95 ${s.p95} / max ${s.max} ${unit} (n=${s.n})` : 'no samples');
  row('server build', `${r.environment.build} (${r.environment.server})`);
  if (r.environment.zoom) row('zoom (page A)', `${Math.round(r.environment.zoom * 100)} %`);
  row('map', `${r.map.steps} steps, ${r.map.lanes} lanes, ${r.map.cards} cards, ${r.map.links} links, ${r.map.emotions} emotion scores; JSON ${round(r.map.jsonBytes / 1024, 0)} KiB`);
  row('load: goto → connected', `${r.load.connectedMs} ms (${r.load.connectedFromNavMs} ms from navigation start)`);
  row('load: goto → all cards in DOM', `${r.load.allCardsMs} ms (${r.load.allCardsFromNavMs} ms from navigation start)`);
  const p = r.load.firstFullRenderParts;
  row('load: first full render', `${r.load.firstFullRenderMs} ms (board ${p.board}, of it emotion lane ${p.emotions}; readMap+rest ${p.readMapAndRest}; panel ${p.panel}; presence ${p.presence})`);
  row('load: long tasks', `${r.load.longtasks.count}, longest ${r.load.longtasks.maxMs} ms`);
  row('load: JS heap (after GC)', `${r.load.heapUsedMB} MB used / ${r.load.heapTotalMB} MB`);
  row('load: DOM', `${r.load.domElements} elements, ${r.load.domNodes} nodes, ${r.load.eventListeners} listeners`);
  row('idle: frames', `${r.idleFrames.fps} fps, worst gap ${r.idleFrames.worstGapMs} ms`);
  const e = r.editing;
  row('edit: edits by B', `${e.edits.text} text + ${e.edits.moves} moves in ${e.seconds} s; ${e.edits.seenInA} seen in A, ${e.edits.missing} missing`);
  row('edit: B edit → A DOM latency', dist(e.latencyMs));
  row('edit: A render per update', dist(e.renderMs));
  row('edit:   of it board.render', dist(e.renderParts.board));
  row('edit:   of it emotion lane', dist(e.renderParts.emotions));
  row('edit:   of it readMap+rest', dist(e.renderParts.readMapAndRest));
  row('edit: renders > 16 ms', `${e.rendersOver16ms} of ${e.renders}`);
  row('edit: long tasks', `${e.longtasks.count}, longest ${e.longtasks.maxMs} ms, total ${e.longtasks.totalMs} ms`);
  row('edit: frames', `${e.frames.fps} fps, worst gap ${e.frames.worstGapMs} ms, p95 gap ${e.frames.p95GapMs} ms, ${e.frames.gapsOver50ms} gaps > 50 ms`);
  const mt = e.mainThread;
  row('edit: main thread (CDP)', `script ${mt.scriptMs} ms, layout ${mt.layoutMs} ms (${mt.layouts}×), style ${mt.styleMs} ms (${mt.styleRecalcs}×), tasks ${mt.taskMs} ms`);
  row('edit: heap / DOM after', `${e.heapUsedAfterMB} MB, ${e.domNodesAfter} nodes, ${e.eventListenersAfter} listeners`);
  const s = r.scroll;
  row('scroll: distance', `${s.distancePx} px in ${s.wheelEvents} wheel events over ${s.wheelMs} ms; at the right edge after ${s.toEndMs} ms${s.reachedEnd ? '' : ' (NOT REACHED)'}`);
  row('scroll: frames', `${s.frames.fps} fps, worst gap ${s.frames.worstGapMs} ms, p95 gap ${s.frames.p95GapMs} ms, ${s.frames.gapsOver50ms} gaps > 50 ms`);
  row('scroll: long tasks', `${s.longtasks.count}, longest ${s.longtasks.maxMs} ms; layout ${s.mainThread.layoutMs} ms, style ${s.mainThread.styleMs} ms`);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

function profileTable(name, p) {
  if (!p) return '';
  const lines = [`\n${name}: ${p.busyMs} ms busy (${p.idleMs} ms idle) — self time / total time, top functions`];
  for (const x of p.self.slice(0, 15)) lines.push(`  self  ${String(x.ms).padStart(6)} ms ${String(x.pct).padStart(5)}%  ${x.fn}`);
  for (const x of p.total.slice(0, 15)) lines.push(`  total ${String(x.ms).padStart(6)} ms ${String(x.pct).padStart(5)}%  ${x.fn}`);
  if (p.trace) {
    lines.push(`  main thread from the trace: ${p.trace.busyMs} ms busy of ${p.trace.spanMs} ms; self time per event`);
    for (const x of p.trace.self.slice(0, 12)) lines.push(`  trace ${String(x.ms).padStart(6)} ms ${String(x.pct).padStart(5)}%  ${x.name} (${x.count}×)`);
  }
  return lines.join('\n');
}

// Run only when executed, so that `generateMap` can be imported by other scripts.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parseArgs(process.argv.slice(2));
  const results = await main(opts);
  await report(results, opts.out);
}

async function report(results, out) {
  console.log(table(results));
  if (results.profile) {
    console.log(profileTable('profile of the load', results.profile.load));
    console.log(profileTable('profile of the editing window', results.profile.edits));
    console.log(`\nprofiles saved in ${results.profile.dir} (open the .cpuprofile files in Chrome DevTools)`);
  }
  if (out) {
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nfigures written to ${out}`);
  } else {
    console.log(JSON.stringify(results, null, 2));
  }
}
