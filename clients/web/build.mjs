// Builds the browser editor into dist/, which the server compiles into its binary
// (server/src/web.rs). `--check` builds in memory and fails if dist/ differs from what the sources
// give, so the committed build can never drift from its sources (the test command runs it).
import * as esbuild from 'esbuild';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const check = process.argv.includes('--check');

/** What both builds share: one minified ES2022 bundle each, kept in memory. */
const common = { bundle: true, target: 'es2022', minify: true, legalComments: 'eof', charset: 'utf8', outdir: dist, write: false, logLevel: 'warning' };
const result = await esbuild.build({ ...common, entryPoints: { app: join(root, 'src/main.js') }, format: 'esm' });
// The service worker is a classic script of its own, served from `/sw.js` so that its scope
// covers the list and every map's page.
const worker = await esbuild.build({ ...common, entryPoints: { sw: join(root, 'src/sw.js') }, format: 'iife' });

const outputs = new Map([...result.outputFiles, ...worker.outputFiles].map((f) => [relative(dist, f.path), Buffer.from(f.contents)]));
outputs.set('index.html', await readFile(join(root, 'src/index.html')));

if (check) {
  const stale = [];
  for (const [name, built] of outputs) {
    const committed = await readFile(join(dist, name)).catch(() => null);
    if (!committed || !committed.equals(built)) stale.push(name);
  }
  if (stale.length) {
    console.error(`clients/web/dist is out of step with its sources (${stale.join(', ')}): run \`npm run build\` in clients/web and commit dist/`);
    process.exit(1);
  }
  console.log(`clients/web/dist matches its sources (${[...outputs.keys()].join(', ')})`);
} else {
  await mkdir(dist, { recursive: true });
  for (const [name, built] of outputs) await writeFile(join(dist, name), built);
  for (const [name, built] of outputs) console.log(`dist/${name}  ${(built.length / 1024).toFixed(1)} KiB`);
}
