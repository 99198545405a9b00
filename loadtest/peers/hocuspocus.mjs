// Starts a stock Hocuspocus server (no extensions, no persistence) on 127.0.0.1:$PORT, for
// ../compare.sh.
import { Server } from '@hocuspocus/server'

const server = new Server({
  port: Number(process.env.PORT),
  address: '127.0.0.1',
  quiet: true
})
await server.listen()
console.log(`hocuspocus listening on 127.0.0.1:${process.env.PORT}`)
