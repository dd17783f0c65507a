// Builds @tickroom/client into dist/: one ESM file per entry point
// (esbuild, minified, @msgpack/msgpack and react left as imports; the react
// entry imports the core by the package's name, so an app that uses both
// holds one copy of it) and the .d.ts declarations (tsc). `npm pack` runs it
// (prepack); the repository's `npm run build` runs it before the app.
//
// The output is deterministic: the app bundle built from it is committed.
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

const common = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15', 'node20'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
  external: ['@msgpack/msgpack', 'react', '@tickroom/client'],
};

try {
  rmSync(dist, { recursive: true, force: true });
  await esbuild.build({ ...common, entryPoints: { index: join(here, 'src', 'index.ts') }, outdir: dist });
  await esbuild.build({ ...common, entryPoints: { 'react/index': join(here, 'src', 'react', 'index.ts') }, outdir: dist });
  // tsc from wherever npm installed it (the repository's devDependencies).
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
} catch (err) {
  if (!err?.errors && !err?.status) console.error(err);
  process.exit(1);
}
