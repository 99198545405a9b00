// `waymark watch` following a map that a stock Yjs client (y-websocket) edits: the change is
// printed as it happens, with the editor's name from its presence.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after, before, test } from 'node:test'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { waitFor } from './helpers.mjs'
import { WAYMARK_BIN, startServer } from './server.mjs'

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server

before(async () => {
  server = await startServer()
})
after(async () => {
  await server?.stop()
})

test('waymark watch prints an edit made by a stock Yjs client, with who made it', async (t) => {
  const mapId = `watched-${Date.now().toString(36)}`
  const http = server.url.replace('ws://', 'http://').replace(/\/maps$/, '')
  const watch = spawn(WAYMARK_BIN, ['watch', mapId, '--json', '--count', '1'], {
    env: { ...process.env, WAYMARK_URL: http },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const out = []
  const err = []
  createInterface({ input: watch.stdout }).on('line', (l) => out.push(l))
  createInterface({ input: watch.stderr }).on('line', (l) => err.push(l))
  const exited = new Promise((resolve) => watch.on('exit', (code) => resolve(code)))
  t.after(() => {
    watch.kill()
    watch.stdout.destroy()
    watch.stderr.destroy()
  })
  await waitFor(server, 'watch to follow the map', () => err.some((l) => l.startsWith('following')))

  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server.url, mapId, doc, { WebSocketPolyfill: WebSocket, disableBc: true })
  t.after(() => { provider.destroy(); doc.destroy() })
  provider.awareness.setLocalStateField('user', { name: 'Ana', color: '#c33' })
  await waitFor(server, 'the stock client to sync', () => provider.synced)
  // Presence first, so that the watcher knows the name when the edit comes: once another client
  // has Ana's presence, the server has relayed it to the watcher too, ahead of the edit.
  const otherDoc = new Y.Doc()
  const other = new WebsocketProvider(server.url, mapId, otherDoc, { WebSocketPolyfill: WebSocket, disableBc: true })
  t.after(() => { other.destroy(); otherDoc.destroy() })
  await waitFor(server, 'Ana\'s presence to be relayed', () =>
    [...other.awareness.getStates().values()].some((s) => s.user?.name === 'Ana'))
  const stage = new Y.Map()
  doc.transact(() => {
    doc.getMap('stages').set('discover', stage)
    stage.set('name', 'Discover')
    stage.set('rank', 'V')
  })

  let timer
  const code = await Promise.race([
    exited,
    new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`watch printed nothing in 10 s: ${err.join('\n')}`)), 10_000)
    })
  ])
  clearTimeout(timer)
  assert.equal(code, 0, err.join('\n'))
  assert.equal(out.length, 1, out.join('\n'))
  const line = JSON.parse(out[0])
  assert.equal(line.change, 'added')
  assert.equal(line.kind, 'stage')
  assert.equal(line.label, 'Discover')
  assert.deepEqual(line.by, ['Ana'])
})
