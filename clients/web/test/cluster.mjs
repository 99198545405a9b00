// Two `waymark serve` nodes of one cluster for the browser tests: a fresh PostgreSQL database and a
// redis-server of the test's own (as in ../interop/cluster.test.mjs). Needs redis-server and psql on
// the PATH, and WAYMARK_TEST_POSTGRES_URL (default: the local server as user postgres).
import { execFileSync, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { startServer } from './helpers.mjs';

const adminUrl = process.env.WAYMARK_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

async function redisAnswers(port, deadline) {
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = connect(port, '127.0.0.1', () => c.end('PING\r\n'));
      c.on('data', (d) => resolve(d.toString().startsWith('+PONG')));
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('redis-server did not answer');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the cluster with extra server `args`; `stop()` ends the nodes, redis and the database. */
export async function startCluster(args = []) {
  const database = `waymark_web_${process.pid}_${Date.now()}`;
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  execFileSync('psql', ['-q', adminUrl, '-c', `CREATE DATABASE ${database}`]);
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const nodes = [];
  const stop = async () => {
    for (const n of nodes) await n.stop();
    redis.kill('SIGKILL');
    execFileSync('psql', ['-q', adminUrl, '-c', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]);
  };
  try {
    await redisAnswers(port, Date.now() + 10_000);
    const common = ['--database-url', url.toString(), '--redis-url', `redis://127.0.0.1:${port}`, ...args];
    nodes.push(await startServer({ args: common }), await startServer({ args: common }));
  } catch (e) {
    await stop();
    throw e;
  }
  return { nodes, stop };
}
