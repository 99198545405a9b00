// Starts a real `waymark serve` process for the interop tests and stops it again.

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The server binary: $WAYMARK_BIN, else the workspace's debug build. */
export const WAYMARK_BIN =
  process.env.WAYMARK_BIN ||
  fileURLToPath(new URL('../../target/debug/waymark', import.meta.url))

/**
 * Starts the server on a free port (with extra command-line `args`) with a fresh data directory and waits until it logs
 * "listening". Everything it prints is kept in memory (see `logs`) so a failing test can show it.
 */
export async function startServer ({ startTimeoutMs = 20_000, args = [] } = {}) {
  if (!existsSync(WAYMARK_BIN)) {
    throw new Error(
      `server binary not found at ${WAYMARK_BIN}: run \`cargo build -p waymark-server\` ` +
        'in the workspace root, or set WAYMARK_BIN'
    )
  }
  // $WAYMARK_WEB_DIR serves the editor from a build on disk, so working on it needs no server rebuild.
  const webDir = process.env.WAYMARK_WEB_DIR ? ['--web-dir', process.env.WAYMARK_WEB_DIR] : []
  const dataDir = await mkdtemp(join(tmpdir(), 'waymark-interop-'))
  const child = spawn(
    WAYMARK_BIN,
    ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, '--log-format', 'json', ...webDir, ...args],
    {
      // Debug logs of the server's own crate make a failure easier to diagnose.
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info,waymark_server=debug' },
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )

  const lines = []
  let exit = null // { code, signal } once the process has ended
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal }
      resolve(exit)
    })
  })
  // A spawn failure (e.g. not executable) arrives as 'error' rather than 'exit'.
  const spawnFailed = new Promise((resolve, reject) => child.on('error', reject))

  let onListening
  const listening = new Promise((resolve) => { onListening = resolve })
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line)
    let entry
    try { entry = JSON.parse(line) } catch { return }
    if (entry.message === 'listening' && typeof entry.addr === 'string') onListening(entry.addr)
  })
  createInterface({ input: child.stderr }).on('line', (line) => lines.push(`[stderr] ${line}`))

  const server = {
    /** Base URL to hand to WebsocketProvider; the map id is appended by the provider. */
    url: null,
    /** The process's exit status, or null while it runs. */
    get exit () { return exit },
    /** Everything the server printed so far, one string. */
    logs: () => lines.join('\n'),
    /** SIGTERM, then wait for the exit (SIGKILL if it does not come); removes the data. */
    async stop ({ timeoutMs = 15_000 } = {}) {
      if (exit === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
        await exited
        clearTimeout(timer)
      }
      await rm(dataDir, { recursive: true, force: true })
      return exit
    }
  }

  let timer
  const timedOut = new Promise((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`server did not log "listening" within ${startTimeoutMs} ms`)),
      startTimeoutMs
    )
  })
  try {
    const addr = await Promise.race([
      listening,
      spawnFailed,
      timedOut,
      exited.then((e) => { throw new Error(`server exited before listening: ${JSON.stringify(e)}`) })
    ])
    server.url = `ws://${addr}/maps`
    return server
  } catch (e) {
    await server.stop()
    e.message += `\n--- server output ---\n${server.logs()}`
    throw e
  } finally {
    clearTimeout(timer)
  }
}
