// What the access-control and workshop interop tests share: the server's secret, tokens minted
// with `waymark token` as a script would, and polling with a deadline.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { WAYMARK_BIN } from './server.mjs'

export const SECRET = 'interop secret, long enough for HS256 signing'

/** A token from `waymark token`, as a script would mint one. */
export async function mint (user, map, role) {
  const { stdout } = await promisify(execFile)(
    WAYMARK_BIN,
    ['token', '--user', user, '--name', user, '--map', map, '--role', role, '--expires-in', '10m'],
    { env: { ...process.env, WAYMARK_AUTH_SECRET: SECRET } }
  )
  return stdout.trim()
}

/** Polls `condition` until it holds; on timeout fails with `what` and the server's log. */
export async function waitFor (server, what, condition, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting until ${what}\n--- server ---\n${server.logs()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
