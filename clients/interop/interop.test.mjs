// Interop tests: stock, unmodified Yjs clients (yjs + y-websocket + ws from npm) against a real
// `waymark serve` process. Run with `npm test` in this directory after
// `cargo build -p waymark-server` in the workspace root (or set WAYMARK_BIN).

import assert from 'node:assert/strict'
import { after, before, describe, it, test } from 'node:test'
import { isDeepStrictEqual } from 'node:util'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { startServer } from './server.mjs'

// y-websocket reports a message type it has no handler for with
// console.error('Unable to compute message'). Record every console.error so the last test can
// assert that the server never sent a stock client anything it does not understand.
const consoleErrors = []
const originalConsoleError = console.error
console.error = (...args) => {
  consoleErrors.push(args.map(String).join(' '))
  originalConsoleError(...args)
}

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server

/** A map id no other test (or earlier run) uses. */
const mapIdFor = (name) =>
  `interop-${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`

/**
 * Polls `condition` until it returns true; fails after `timeoutMs`, or at once if the server died.
 * `describe()` explains the current state in the failure message.
 */
async function waitFor (what, condition, { timeoutMs = 10_000, describe = () => '' } = {}) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (server.exit !== null) {
      throw new Error(`server exited (${JSON.stringify(server.exit)}) while waiting until ${what}`)
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}. ${describe()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A stock provider for `mapId`, destroyed when the test ends. */
function connect (t, mapId, doc) {
  const provider = new WebsocketProvider(server.url, mapId, doc, {
    WebSocketPolyfill: WebSocket,
    // Providers in one process would otherwise also sync through BroadcastChannel, bypassing the
    // server under test.
    disableBc: true
  })
  t.after(() => {
    provider.destroy()
    doc.destroy()
  })
  return provider
}

/**
 * Declares a test against the shared server. On failure the server's log lines for this test's
 * map (and its global lines) are appended to the error, since they usually explain it.
 */
function serverTest (name, options, fn) {
  it(name, options, async (t) => {
    const mapId = mapIdFor(name.split(' ').slice(0, 3).join('-').replace(/[^A-Za-z0-9._-]/g, ''))
    try {
      await fn(t, mapId)
    } catch (e) {
      const logs = server.logs().split('\n')
        .filter((line) => line.includes(mapId) || !line.includes('"map_id"'))
        .join('\n')
      e.message += `\n--- server log (map ${mapId}) ---\n${logs}`
      throw e
    }
  })
}

/** Journey-map content: a Y.Map, a Y.Array and a Y.Text, as plain JSON. */
const snapshot = (doc) => ({
  journey: doc.getMap('journey').toJSON(),
  stages: doc.getArray('stages').toJSON(),
  notes: doc.getText('notes').toString()
})

/** One user's edits to all three kinds of shared type, in one transaction. */
function edit (doc, who, step) {
  doc.transact(() => {
    doc.getMap('journey').set(`${who}-${step}`, { by: who, step })
    doc.getArray('stages').push([`${who}: stage ${step}`])
    doc.getText('notes').insert(0, `[${who} ${step}]`)
  })
}

/** Whether `snap` holds the edits `edit(doc, who, step)` made. */
const hasEdit = (snap, who, step) =>
  isDeepStrictEqual(snap.journey[`${who}-${step}`], { by: who, step }) &&
  snap.stages.includes(`${who}: stage ${step}`) &&
  snap.notes.includes(`[${who} ${step}]`)

/** The names in a provider's view of everyone's presence, sorted. */
const presentNames = (provider) =>
  [...provider.awareness.getStates().values()]
    .map((state) => state.user?.name)
    .filter(Boolean)
    .sort()

describe('stock y-websocket clients', { concurrency: true }, () => {
  before(async () => {
    server = await startServer()
  })

  after(async () => {
    if (!server) return // it never started; `before` has reported why
    const exit = await server.stop()
    assert.deepEqual(exit, { code: 0, signal: null }, `server did not shut down cleanly\n${server.logs()}`)
  })

  serverTest('two clients converge on concurrent map, array and text edits', { timeout: 30_000 }, async (t, mapId) => {
    const ana = new Y.Doc()
    const ben = new Y.Doc()
    // Offline edits before connecting: each side has content the other lacks.
    edit(ana, 'ana', 1)
    edit(ben, 'ben', 1)
    const pa = connect(t, mapId, ana)
    const pb = connect(t, mapId, ben)
    // Edits while the initial sync is under way, including a conflicting write to the same key.
    edit(ana, 'ana', 2)
    edit(ben, 'ben', 2)
    ana.getMap('journey').set('title', 'Onboarding (Ana)')
    ben.getMap('journey').set('title', 'Onboarding (Ben)')
    await waitFor('both providers synced', () => pa.synced && pb.synced)
    // And edits after the sync, travelling as live updates.
    edit(ana, 'ana', 3)
    edit(ben, 'ben', 3)

    const complete = (snap) =>
      [1, 2, 3].every((step) => hasEdit(snap, 'ana', step) && hasEdit(snap, 'ben', step))
    await waitFor(
      'both documents are equal and hold both sides\' edits',
      () => isDeepStrictEqual(snapshot(ana), snapshot(ben)) && complete(snapshot(ana)),
      { describe: () => `ana: ${JSON.stringify(snapshot(ana))} ben: ${JSON.stringify(snapshot(ben))}` }
    )
    assert.deepEqual(snapshot(ana), snapshot(ben))
    assert.equal(snapshot(ana).stages.length, 6)
    // Both wrote 'title'; both must have settled on the same one of the two.
    assert.ok(['Onboarding (Ana)', 'Onboarding (Ben)'].includes(snapshot(ana).journey.title))
  })

  serverTest('clients see each other\'s presence, and see it go when a client leaves', { timeout: 30_000 }, async (t, mapId) => {
    const [ana, ben, cleo] = ['Ana', 'Ben', 'Cleo'].map((name) => {
      const provider = connect(t, mapId, new Y.Doc())
      provider.awareness.setLocalState({ user: { name } })
      return provider
    })
    const views = () => `ana sees ${presentNames(ana)}, ben sees ${presentNames(ben)}, cleo sees ${presentNames(cleo)}`
    await waitFor(
      'each client sees all three users',
      () => [ana, ben, cleo].every((p) => isDeepStrictEqual(presentNames(p), ['Ana', 'Ben', 'Cleo'])),
      { describe: views }
    )
    assert.deepEqual(ana.awareness.getStates().get(ben.doc.clientID), { user: { name: 'Ben' } })

    // Ben closes the map the ordinary way.
    ben.destroy()
    await waitFor(
      'Ana and Cleo no longer see Ben',
      () => [ana, cleo].every((p) => isDeepStrictEqual(presentNames(p), ['Ana', 'Cleo'])),
      { describe: views }
    )

    // Cleo's connection drops without any goodbye message (crashed tab, lost network): only the
    // server can tell Ana. The deadline is well under the 30 s after which clients expire
    // unrenewed presence by themselves, so a pass means the server removed it.
    cleo.shouldConnect = false // keep the stock client from reconnecting
    cleo.ws.terminate()
    await waitFor(
      'Ana no longer sees Cleo',
      () => isDeepStrictEqual(presentNames(ana), ['Ana']),
      { timeoutMs: 10_000, describe: views }
    )
  })

  serverTest('a client joining later receives everything', { timeout: 30_000 }, async (t, mapId) => {
    const ana = new Y.Doc()
    const ben = new Y.Doc()
    const pa = connect(t, mapId, ana)
    const pb = connect(t, mapId, ben)
    edit(ana, 'ana', 1)
    edit(ben, 'ben', 1)
    await waitFor(
      'Ana and Ben converge',
      () => isDeepStrictEqual(snapshot(ana), snapshot(ben)) && hasEdit(snapshot(ana), 'ben', 1) &&
        hasEdit(snapshot(ana), 'ana', 1) && pa.synced && pb.synced
    )
    pb.destroy()
    edit(ana, 'ana', 2) // made after Ben left

    const cleo = new Y.Doc()
    const pc = connect(t, mapId, cleo)
    await waitFor(
      'the late joiner has everything',
      () => pc.synced && isDeepStrictEqual(snapshot(cleo), snapshot(ana)),
      { describe: () => `ana: ${JSON.stringify(snapshot(ana))} cleo: ${JSON.stringify(snapshot(cleo))}` }
    )
    const snap = snapshot(cleo)
    assert.ok(hasEdit(snap, 'ana', 1) && hasEdit(snap, 'ben', 1) && hasEdit(snap, 'ana', 2), JSON.stringify(snap))
  })

  // y-websocket closes (and reopens) a connection on which it received nothing for 30 s. A client
  // without presence sends nothing on its own, so only the server's keepalives can keep it open.
  serverTest('an idle client without presence stays connected', { timeout: 70_000 }, async (t, mapId) => {
    const provider = connect(t, mapId, new Y.Doc())
    provider.awareness.setLocalState(null) // before the socket opens: nothing is ever announced
    const closes = []
    provider.on('connection-close', (event) => {
      // `null` means the client closed it itself, i.e. its 30 s watchdog fired.
      closes.push(event ? { code: event.code, reason: event.reason } : 'closed by the client watchdog')
    })
    await waitFor('the provider synced', () => provider.synced)

    // The subject of this test is time passing, so here a bounded wait is the point: watch the
    // provider for 40 s and fail as soon as it reports a disconnect.
    const observeMs = 40_000
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        provider.off('status', onStatus)
        resolve()
      }, observeMs)
      function onStatus ({ status }) {
        if (status !== 'disconnected') return
        clearTimeout(timer)
        provider.off('status', onStatus)
        reject(new Error(`idle client disconnected: ${JSON.stringify(closes)}`))
      }
      provider.on('status', onStatus)
    })
    assert.ok(provider.wsconnected, 'still connected after 40 s')
    assert.deepEqual(closes, [])
  })
})

// Runs after the suite above (top-level tests in a file run one after another).
test('stock clients never received a message type they do not know', () => {
  const unknown = consoleErrors.filter((msg) => msg.includes('Unable to compute message'))
  assert.deepEqual(unknown, [], `y-websocket could not handle ${unknown.length} message(s)`)
})
