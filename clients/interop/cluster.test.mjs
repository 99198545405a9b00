// Stock y-websocket clients on two nodes of one cluster: each node a real `waymark serve` process,
// sharing a fresh PostgreSQL database and a redis-server of this test's own.
// Needs redis-server and psql on the PATH, and WAYMARK_TEST_POSTGRES_URL (default: the local
// server as user postgres) pointing at a role that may create databases.

import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { createConnection as connect_, createServer } from 'node:net'
import { after, before, test } from 'node:test'
import { isDeepStrictEqual } from 'node:util'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { startServer } from './server.mjs'

const adminUrl = process.env.WAYMARK_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
const database = `waymark_interop_${process.pid}_${Date.now()}`
const databaseUrl = (() => {
  const u = new URL(adminUrl)
  u.pathname = `/${database}`
  return u.toString()
})()

let redis
const nodes = []

// y-websocket reports a message type it has no handler for with console.error.
const consoleErrors = []
const originalConsoleError = console.error
console.error = (...args) => {
  consoleErrors.push(args.map(String).join(' '))
  originalConsoleError(...args)
}

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer()
  s.on('error', reject)
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address()
    s.close(() => resolve(port))
  })
})

async function waitFor (what, condition, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    for (const n of nodes) {
      if (n.exit !== null) throw new Error(`a node exited while waiting until ${what}\n${n.logs()}`)
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

before(async () => {
  execFileSync('psql', ['-q', adminUrl, '-c', `CREATE DATABASE ${database}`])
  const port = await freePort()
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  let answered = false
  const ping = () => {
    const c = connect_(port, '127.0.0.1', () => c.end('PING\r\n'))
    c.on('data', (d) => { answered ||= d.toString().startsWith('+PONG') })
    c.on('error', () => {})
  }
  const pinging = setInterval(ping, 50)
  try {
    await waitFor('redis-server answers', () => answered)
  } finally {
    clearInterval(pinging)
  }
  const args = ['--database-url', databaseUrl, '--redis-url', `redis://127.0.0.1:${port}`]
  nodes.push(await startServer({ args }), await startServer({ args }))
})

after(async () => {
  for (const n of nodes) {
    const exit = await n.stop()
    assert.deepEqual(exit, { code: 0, signal: null }, `a node did not shut down cleanly\n${n.logs()}`)
  }
  redis?.kill('SIGKILL')
  execFileSync('psql', ['-q', adminUrl, '-c', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`])
})

function connect (t, node, mapId, doc) {
  const provider = new WebsocketProvider(node.url, mapId, doc, { WebSocketPolyfill: WebSocket, disableBc: true })
  t.after(() => {
    provider.destroy()
    doc.destroy()
  })
  return provider
}

test('stock clients on different nodes co-edit a map and see each other', { timeout: 60_000 }, async (t) => {
  const mapId = `interop-cluster-${Date.now().toString(36)}`
  const ana = new Y.Doc()
  const ben = new Y.Doc()
  const pa = connect(t, nodes[0], mapId, ana)
  const pb = connect(t, nodes[1], mapId, ben)
  await waitFor('both synced', () => pa.synced && pb.synced)

  for (let i = 0; i < 20; i++) {
    ana.getMap('cards').set(`ana-${i}`, `from node 0 #${i}`)
    ben.getMap('cards').set(`ben-${i}`, `from node 1 #${i}`)
  }
  ana.getText('notes').insert(0, 'Ana was here. ')
  ben.getText('notes').insert(0, 'Ben too. ')
  const same = () => isDeepStrictEqual(ana.toJSON(), ben.toJSON())
  await waitFor('both documents are equal', () => same() && ana.getMap('cards').size === 40)
  assert.match(ana.getText('notes').toString(), /Ana was here/)
  assert.match(ana.getText('notes').toString(), /Ben too/)

  // Presence crosses nodes, and leaves with its client.
  pa.awareness.setLocalStateField('user', { name: 'Ana' })
  await waitFor('Ben sees Ana', () => pb.awareness.getStates().get(ana.clientID)?.user?.name === 'Ana')
  pa.disconnect()
  await waitFor('Ana is gone for Ben', () => !pb.awareness.getStates().has(ana.clientID))

  // Versions and reviews are announced only to clients that asked (?ext=events): these stock
  // clients must not receive anything they do not understand.
  const base = nodes[0].url.replace('ws://', 'http://').replace(/\/maps$/, '/api/v1/maps')
  const errorsBefore = consoleErrors.length
  const taken = await fetch(`${base}/${mapId}/versions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ label: 'Workshop' })
  })
  assert.equal(taken.status, 201)
  const submitted = await fetch(`${base}/${mapId}/versions/1/review`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reviewers: ['Ana'] })
  })
  assert.equal(submitted.status, 201)
  // A marker edit after the announcements: once Ben has it, anything sent before it has arrived.
  ana.getMap('cards').set('marker', 'after the events')
  pa.connect()
  await waitFor('the marker reached Ben', () => ben.getMap('cards').get('marker') === 'after the events')
  assert.deepEqual(consoleErrors.slice(errorsBefore), [], 'a stock client got a message it does not know')

  // A newcomer on the other node gets the whole map from the shared store.
  const cy = new Y.Doc()
  const pc = connect(t, nodes[0], mapId, cy)
  await waitFor('the newcomer synced', () => pc.synced && cy.getMap('cards').size === 41)
})
