// Workshop mode with stock clients (PROTOCOL.md §9.2): y-websocket never negotiates the extension,
// so it never sees a workshop message, yet the facilitator's locks bind it. A stock editor's change
// to a locked card is undone on its own side and never shows on anyone else's, and the results of a
// revealed vote arrive as ordinary document content.

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
    params: { token }
  })
  // Every message type the stock client was sent, to show it never saw an extension's.
  const types = new Set()
  provider.on('status', ({ status }) => {
    if (status === 'connected') {
      provider.ws.addEventListener('message', (e) => types.add(new Uint8Array(e.data)[0]))
    }
  })
  t.after(() => {
    provider.destroy()
    doc.destroy()
  })
  return { doc, provider, types }
}

/** `[tag, varString json]`, lib0's encoding, written out by hand. */
function jsonMessage (tag, value) {
  const bytes = new TextEncoder().encode(JSON.stringify(value))
  const out = [tag]
  let n = bytes.length
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return Uint8Array.from([...out, ...bytes])
}

/** A facilitator speaking the workshop extension over a bare WebSocket. */
async function facilitator (t, mapId, token) {
  const ws = new WebSocket(`${server.url}/${mapId}?token=${token}&ext=workshop`)
  ws.binaryType = 'arraybuffer'
  const states = []
  ws.on('message', (data) => {
    const bytes = new Uint8Array(data)
    if (bytes[0] === 103) states.push(JSON.parse(new TextDecoder().decode(bytes.subarray(bytes[1] < 0x80 ? 2 : 3))))
  })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  t.after(() => ws.close())
  return { send: (cmd) => ws.send(jsonMessage(102, cmd)), states }
}

/** A small board as the schema has it: a stage, a step, a lane and a card. */
function board (doc) {
  doc.transact(() => {
    const map = (fields) => {
      const m = new Y.Map()
      for (const [k, v] of Object.entries(fields)) m.set(k, v)
      return m
    }
    doc.getMap('stages').set('s1', map({ name: 'Buy', rank: 'V' }))
    doc.getMap('steps').set('st1', map({ stageId: 's1', name: 'Pay', rank: 'V' }))
    doc.getMap('lanes').set('l1', map({ kind: 'pain-points', name: 'Pains', rank: 'V' }))
    const card = map({ laneId: 'l1', stepId: 'st1', rank: 'V' })
    card.set('text', new Y.Text('Slow checkout'))
    doc.getMap('cards').set('c1', card)
    const other = map({ laneId: 'l1', stepId: 'st1', rank: 'W' })
    other.set('text', new Y.Text('Hidden fees'))
    doc.getMap('cards').set('c2', other)
  })
}

const text = (doc, id) => doc.getMap('cards').get(id)?.get('text')?.toString()

test('a stock editor cannot change locked content, and sees revealed votes', async (t) => {
  const mapId = `ws-${Date.now().toString(36)}`
  const ana = connect(t, mapId, await mint('ana', mapId, 'editor'))
  const ben = connect(t, mapId, await mint('ben', mapId, 'editor'))
  await waitFor('both synced', () => ana.provider.synced && ben.provider.synced)
  board(ana.doc)
  await waitFor('the board on the other client', () => text(ben.doc, 'c1') === 'Slow checkout')

  const fay = await facilitator(t, mapId, await mint('fay', mapId, 'facilitator'))
  fay.send({ op: 'lock', target: 'cards/c1' })
  await waitFor('the lock', () => fay.states.some((s) => s.workshop?.locks?.length === 1))

  const denied = []
  const warn = console.warn
  console.warn = (...args) => { denied.push(args.map(String).join(' ')) }
  t.after(() => { console.warn = warn })
  const mine = ana.doc.getMap('cards').get('c1').get('text')
  mine.insert(mine.length, ' LOCKED-EDIT')
  await waitFor('the refusal', () => denied.some((d) => d.includes('locked')))
  await waitFor('the change undone on its own side', () => text(ana.doc, 'c1') === 'Slow checkout')
  // An edit of an unlocked card still flows; the locked one never showed on the other client.
  const seen = []
  ben.doc.on('update', () => seen.push(text(ben.doc, 'c1')))
  const free = ana.doc.getMap('cards').get('c2').get('text')
  free.insert(free.length, ' at the end')
  await waitFor('the free edit', () => text(ben.doc, 'c2') === 'Hidden fees at the end')
  assert.equal(text(ben.doc, 'c1'), 'Slow checkout')
  assert.ok(seen.every((s) => s === 'Slow checkout'), `the other client saw ${JSON.stringify(seen)}`)

  // A vote, revealed: stock clients read the totals from the document.
  fay.send({ op: 'vote.open', title: 'Pain', cards: ['c1', 'c2'], perPerson: 2 })
  await waitFor('the vote', () => fay.states.some((s) => s.workshop?.vote))
  fay.send({ op: 'vote.cast', card: 'c2' })
  await waitFor('the vote cast', () => fay.states.some((s) => s.you?.votes?.c2 === 1))
  fay.send({ op: 'vote.reveal' })
  await waitFor('the totals', () => ben.doc.getMap('votes').size === 1)
  const [result] = [...ben.doc.getMap('votes').values()]
  assert.deepEqual(result.get('totals').toJSON(), { c1: 0, c2: 1 })
  // Neither stock client was ever sent a message type outside y-protocols' 0–3.
  for (const c of [ana, ben]) assert.ok([...c.types].every((type) => type <= 3), [...c.types].join(','))
})
