// Access control with stock clients: y-websocket passes the token as the `token` query parameter
// (its `params` option); a viewer's edits are refused with y-protocols' permission-denied message
// and never reach anyone else; a connection without a token never opens.

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { SECRET, mint, waitFor as waitForOn } from './helpers.mjs'
import { startServer } from './server.mjs'

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server

before(async () => {
  server = await startServer({ args: ['--auth-secret', SECRET] })
})
after(async () => {
  await server?.stop()
})

const waitFor = (what, condition, timeoutMs) => waitForOn(server, what, condition, timeoutMs)

function connect (t, mapId, token) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server.url, mapId, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true,
    params: token ? { token } : {}
  })
  t.after(() => {
    provider.destroy()
    doc.destroy()
  })
  return { doc, provider }
}

test('a viewer reads live but its edits are refused; an editor edits', async (t) => {
  const mapId = `auth-${Date.now().toString(36)}`
  const editor = connect(t, mapId, await mint('ed', mapId, 'editor'))
  const viewer = connect(t, mapId, await mint('vi', mapId, 'viewer'))
  const denied = []
  // y-websocket reports `[2, 0, reason]` through its permission-denied handler, which warns.
  const warn = console.warn
  console.warn = (...args) => {
    denied.push(args.map(String).join(' '))
  }
  t.after(() => { console.warn = warn })

  await waitFor('both synced', () => editor.provider.synced && viewer.provider.synced)
  editor.doc.getMap('stages').set('s1', 'Discover')
  await waitFor('the viewer sees the edit', () => viewer.doc.getMap('stages').get('s1') === 'Discover')

  viewer.doc.getMap('stages').set('s2', 'From a viewer')
  await waitFor('the refusal', () => denied.some((d) => d.includes('read-only')))
  // Later edits still flow, and the refused one never arrived anywhere.
  editor.doc.getMap('stages').set('s3', 'Later')
  await waitFor('the later edit', () => viewer.doc.getMap('stages').get('s3') === 'Later')
  assert.equal(editor.doc.getMap('stages').get('s2'), undefined)
  const late = connect(t, mapId, await mint('ed2', mapId, 'editor'))
  await waitFor('a newcomer synced', () => late.provider.synced)
  assert.deepEqual(late.doc.getMap('stages').toJSON(), { s1: 'Discover', s3: 'Later' })
})

test('without a token the connection never opens', async (t) => {
  const { provider } = connect(t, 'auth-none', null)
  const closes = []
  provider.on('connection-close', (event) => closes.push(event))
  await waitFor('a failed attempt', () => closes.length > 0)
  assert.equal(provider.wsconnected, false)
  assert.equal(provider.synced, false)
})
