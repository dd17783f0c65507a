// Shared by the render browser test (client/e2e/render.test.mjs) and the
// benchmark runner (run-bench.mjs): build a page bundle with esbuild, serve it
// from 127.0.0.1 (a secure context, needed for navigator.gpu), and launch
// Chromium with WebGPU on SwiftShader as /work/shared/BROWSER_TESTING.md says.

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Exactly the flags from BROWSER_TESTING.md; keep the single merged --enable-features. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--enable-unsafe-webgpu', '--use-angle=swiftshader',
  '--enable-features=Vulkan,CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies',
  '--use-vulkan=swiftshader',
];

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** Bundles entry (relative to the repo root) into outdir and returns the bundle's path. */
export async function buildBundle(entry, outdir, outName) {
  const outfile = path.join(REPO_ROOT, outdir, outName);
  await esbuild.build({
    entryPoints: [path.join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * Serves routes ({ '/path': { type, file } | { type, body } }) on a random
 * 127.0.0.1 port. Returns the base URL and an async close().
 */
export async function serve(routes) {
  const server = createServer(async (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes[pathname];
    if (!route && pathname === '/favicon.ico') {
      res.writeHead(204).end(); // so the page's console shows only real problems
      return;
    }
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    try {
      const body = route.file ? await readFile(route.file) : route.body;
      res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' }).end(body);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Collects the page's console errors and crashes, so a failing test can show them. */
export function recordPageProblems(page) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('crash', () => problems.push('page crashed'));
  return problems;
}
