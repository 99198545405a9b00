import WebSocket, { WebSocketServer } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { startServer } from './server.mjs'
// 1) a silent server: the stock client must drop the connection by itself after ~30 s
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
await new Promise(r => wss.on('listening', r))
const t0 = Date.now()
const p = new WebsocketProvider(`ws://127.0.0.1:${wss.address().port}`, 'x', new Y.Doc(), { WebSocketPolyfill: WebSocket, disableBc: true })
p.awareness.setLocalState(null)
p.on('status', ({ status }) => console.log('silent server:', status, ((Date.now() - t0) / 1000).toFixed(1), 's'))
// 2) waymark: log what the idle client receives
const server = await startServer()
const q = new WebsocketProvider(server.url, 'idle-probe', new Y.Doc(), { WebSocketPolyfill: WebSocket, disableBc: true })
q.awareness.setLocalState(null)
const t1 = Date.now()
const watch = setInterval(() => {
  if (q.ws && !q.ws.__hooked) { q.ws.__hooked = true; q.ws.on('message', (d) => console.log('waymark ->', Buffer.from(d).toString('hex'), ((Date.now() - t1) / 1000).toFixed(1), 's')) }
}, 10)
setTimeout(async () => { clearInterval(watch); p.destroy(); q.destroy(); wss.close(); console.log('stop', await server.stop()) }, 36_000)
