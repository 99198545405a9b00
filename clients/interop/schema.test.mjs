// A stock Yjs client following protocol/SCHEMA.md by hand, and the server's REST API reading what
// it wrote (and the other way round). Nothing here uses Waymark code: only SCHEMA.md.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { startServer } from './server.mjs'

let server
let api

before(async () => {
  server = await startServer()
  api = server.url.replace(/^ws:/, 'http:').replace(/\/maps$/, '/api/v1')
})
after(async () => { await server?.stop() })

async function waitFor (what, condition, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await condition()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}\n${server.logs()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

function connect (t, mapId) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server.url, mapId, doc, { WebSocketPolyfill: WebSocket, disableBc: true })
  t.after(() => { provider.destroy(); doc.destroy() })
  return { doc, provider, synced: new Promise((resolve) => provider.once('sync', resolve)) }
}

/** A Y.Map holding `fields`, as SCHEMA.md describes entities. */
function entity (fields) {
  const m = new Y.Map()
  for (const [k, v] of Object.entries(fields)) m.set(k, v)
  return m
}

describe('SCHEMA.md with a stock Yjs client', () => {
  it('a map written by hand is read correctly by the server', async (t) => {
    const { doc, synced } = connect(t, 'js-written')
    await synced
    doc.transact(() => {
      doc.getMap('meta').set('schemaVersion', 1)
      doc.getMap('meta').set('title', 'Written by hand')
      doc.getMap('meta').set('kind', 'service-blueprint')
      doc.getMap('channels').set('ch1', entity({ name: 'Front desk', rank: 'V' }))
      doc.getMap('personas').set('p1', entity({ name: 'Lena', rank: 'V', channels: ['ch1'] }))
      doc.getMap('stages').set('arrive', entity({ name: 'Arrive', rank: 'V' }))
      doc.getMap('stages').set('stay', entity({ name: 'Stay', rank: 'W' }))
      doc.getMap('steps').set('checkin', entity({ stageId: 'arrive', name: 'Check in', rank: 'V' }))
      doc.getMap('steps').set('sleep', entity({ stageId: 'stay', name: 'Sleeps', rank: 'V' }))
      doc.getMap('lanes').set('front', entity({ kind: 'frontstage', name: 'Front desk', rank: 'V' }))
      doc.getMap('lanes').set('pain', entity({ kind: 'pain-points', name: 'Pains', rank: 'W' }))
      doc.getMap('cards').set('c1', entity({
        laneId: 'pain', stepId: 'checkin', rank: 'V', text: new Y.Text('Queue at 23:00'),
        severity: 4, evidence: 'observed', evidenceSource: 'Mystery guest'
      }))
      doc.getMap('emotions').set('p1/checkin', -2)
    })
    // Concurrent-safe moves as SCHEMA.md prescribes: set placement fields, never re-insert.
    doc.getMap('cards').get('c1').set('stepId', 'sleep')
    doc.getMap('cards').get('c1').get('text').insert(0, 'Long ')

    const body = await waitFor('the server has the edits', async () => {
      const res = await fetch(`${api}/maps/js-written`)
      if (res.status !== 200) return null
      const json = await res.json()
      return json.map.cards[0]?.text === 'Long Queue at 23:00' ? json : null
    })
    assert.deepEqual(body.warnings, [])
    const m = body.map
    assert.equal(m.meta.title, 'Written by hand')
    assert.equal(m.meta.kind, 'service-blueprint')
    assert.deepEqual(m.stages.map((s) => s.name), ['Arrive', 'Stay'])
    assert.deepEqual(m.steps.map((s) => s.id), ['checkin', 'sleep'])
    assert.equal(m.cards[0].stepId, 'sleep')
    assert.equal(m.cards[0].severity, 4)
    assert.deepEqual(m.personas[0].channels, ['ch1'])
    assert.deepEqual(m.emotions, [{ personaId: 'p1', stepId: 'checkin', score: -2 }])
  })

  it('a map created through the API reads correctly in a stock client', async (t) => {
    const res = await fetch(`${api}/maps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'js-template', template: 'saas-onboarding' })
    })
    assert.equal(res.status, 201)
    const { doc, synced } = connect(t, 'js-template')
    await synced
    await waitFor('the template arrived', () => doc.getMap('cards').size >= 20)
    assert.equal(doc.getMap('meta').get('title'), 'SaaS onboarding')
    const stages = [...doc.getMap('stages').values()].sort((a, b) => (a.get('rank') < b.get('rank') ? -1 : 1))
    assert.equal(stages[0].get('name'), 'Sign-up')
    const card = [...doc.getMap('cards').values()][0]
    assert.ok(card.get('text') instanceof Y.Text)
    assert.ok(card.get('text').toString().length > 0)
    const steps = new Set(doc.getMap('steps').keys())
    for (const c of doc.getMap('cards').values()) assert.ok(steps.has(c.get('stepId')))
  })
})
