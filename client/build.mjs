// Builds the browser client with esbuild.
//
//   node client/build.mjs           app bundle -> assets/dist/app.js (+ app.css),
//                                   and assets/dist/bench.js when client/render/bench.ts exists
//   node client/build.mjs --tests   client/test/*.test.ts -> .build/test/*.test.mjs (for node --test)
//
// The app bundle is committed and embedded in the Go binary, and CI rebuilds it
// and fails when it differs, so the output must be deterministic: no source
// maps, no timestamps, no legal-comment banners, fixed target.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'assets', 'dist');

/** Options shared by every browser bundle. */
const browser = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
};

async function buildApp() {
  mkdirSync(dist, { recursive: true });
  // Remove our own outputs first so a dropped entry (e.g. bench.ts deleted)
  // does not leave a stale file embedded in the binary. dist/.keep stays.
  for (const name of ['app.js', 'app.css', 'bench.js', 'bench.css']) {
    rmSync(join(dist, name), { force: true });
  }
  await esbuild.build({
    ...browser,
    entryPoints: { app: join(root, 'client', 'pages', 'main.ts') },
    outdir: dist,
  });
  const bench = join(root, 'client', 'render', 'bench.ts');
  if (existsSync(bench)) {
    await esbuild.build({ ...browser, entryPoints: { bench }, outdir: dist });
  }
}

async function buildTests() {
  const src = join(root, 'client', 'test');
  const out = join(root, '.build', 'test');
  // A clean directory: node --test runs every file in it, stale ones included.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const entryPoints = readdirSync(src)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(src, f));
  if (entryPoints.length === 0) throw new Error(`build: no tests in ${src}`);
  await esbuild.build({
    entryPoints,
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dependencies load from node_modules at test time; only our TS is bundled.
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}

const tests = process.argv.includes('--tests');
try {
  await (tests ? buildTests() : buildApp());
} catch (err) {
  // esbuild already printed the diagnostics; exit non-zero so npm fails too.
  if (!err?.errors) console.error(err);
  process.exit(1);
}
