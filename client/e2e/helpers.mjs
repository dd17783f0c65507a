// Shared by the end-to-end tests: a real tickroom server on a free port (with
// extra flags and a data directory when asked), a headless Chromium launched
// as ../shared/BROWSER_TESTING.md says, polling waits with timeouts (no fixed
// sleeps), and screenshot pixel checks.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join as joinPath, resolve } from 'node:path';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifacts = joinPath(root, 'client', 'e2e', 'artifacts');

/**
 * Builds the server once per test file (go build caches), unless
 * TICKROOM_BIN names a binary already built.
 */
function serverBinary() {
  if (process.env.TICKROOM_BIN) return process.env.TICKROOM_BIN;
  const bin = joinPath(root, '.build', 'tickroom');
  try {
    execFileSync('go', ['build', '-o', bin, './cmd/tickroom'], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    throw new Error(`e2e: go build ./cmd/tickroom failed:\n${err.stderr?.toString() ?? err.message}`);
  }
  return bin;
}

/**
 * Starts a real NATS server with JetStream on a free loopback port, built
 * from the nats-server Go module this repository already requires (no
 * install), with its store in a temporary directory removed on stop.
 */
export async function startNats() {
  const bin = joinPath(root, '.build', 'nats-server');
  try {
    execFileSync('go', ['build', '-o', bin, 'github.com/nats-io/nats-server/v2'], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    throw new Error(`e2e: go build nats-server failed:\n${err.stderr?.toString() ?? err.message}`);
  }
  const port = await freePort();
  const dir = mkdtempSync(joinPath(tmpdir(), 'tickroom-e2e-nats-'));
  const child = spawn(bin, ['-js', '-sd', dir, '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((res) => child.once('exit', res));
  await waitFor(() => /Server is ready/.test(log), { timeout: 15_000, message: `nats-server ready:\n${log}` });
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Whether the server binary has a flag (its -help lists it). */
export function hasFlag(name) {
  const out = spawnSync(serverBinary(), ['-help'], { encoding: 'utf8' });
  return new RegExp(`^\\s*-${name}\\b`, 'm').test(`${out.stdout}${out.stderr}`);
}

/**
 * Starts the server on 127.0.0.1 (a secure context, so WebGPU is offered),
 * ready when /healthz answers, with `args` after -addr and its own fresh
 * data directory (-data-dir, under the system's temporary directory,
 * removed on stop): a test never records into the checkout's
 * ./tickroom-data (`make test` checks that it leaves nothing behind).
 * A `dataDir` path is used instead, and kept on stop, and `port` picks
 * the port: a restart on the same data.
 */
export async function startServer({ args = [], dataDir, port: wantPort } = {}) {
  const bin = serverBinary();
  const port = wantPort ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const given = typeof dataDir === 'string';
  const dir = given ? dataDir : mkdtempSync(joinPath(tmpdir(), 'tickroom-e2e-'));
  const all = ['-addr', `127.0.0.1:${port}`, '-data-dir', dir, ...args];
  const child = spawn(bin, all, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  let dead = null;
  void exited.then((e) => (dead = e));
  try {
    await waitFor(
      async () => {
        if (dead) throw new Error(`server exited early (${JSON.stringify(dead)}) with ${all.join(' ')}:\n${log}`);
        try {
          return (await fetch(`${url}/healthz`)).ok;
        } catch {
          return false;
        }
      },
      { timeout: 15_000, message: 'server /healthz' },
    );
  } catch (err) {
    // A server that never came up leaves neither a process nor a directory.
    if (!dead) child.kill('SIGKILL');
    await exited;
    if (!given) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    dataDir: dir,
    log: () => log,
    /** Sends the signal and waits for the process to end; the data directory stays. */
    async kill(signal = 'SIGKILL') {
      if (!dead) child.kill(signal);
      return exited;
    },
    async stop() {
      if (!dead) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      if (!given) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The usual frame of a test file: a server (startServer(serverOptions)) and
 * a browser, started before its tests and closed after them. Returns
 * { server, browser }, filled in once the before hook has run.
 */
export function serverAndBrowser(serverOptions) {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startServer(serverOptions);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/** Creates a room through POST /api/rooms and returns the answer ({ id, shareUrl, ... }). */
export async function createRoomByApi(baseUrl, type, { visibility = 'unlisted', maxPlayers = 8, options = {} } = {}) {
  const res = await fetch(`${baseUrl}/api/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type, options, visibility, maxPlayers }),
  });
  assert.equal(res.status, 201, 'POST /api/rooms');
  return res.json();
}

/** Chromium with exactly the flags ../shared/BROWSER_TESTING.md prescribes. */
/** One JSON API call: its status and decoded body (null when empty); token, if any, as a bearer. */
export async function apiJSON(baseUrl, method, path, body, token) {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--enable-unsafe-webgpu', '--use-angle=swiftshader',
      '--enable-features=Vulkan,CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies',
      '--use-vulkan=swiftshader',
    ],
  });
}

/** The renderer modes the scene tests run in: WebGPU, and WebGL2 with navigator.gpu removed. */
export const MODES = [
  { name: 'webgpu', renderer: 'WebGPU', hideGpu: false },
  { name: 'webgl2', renderer: 'WebGL2', hideGpu: true },
];

/**
 * One page in its own context (one WebGPU page per context). Small viewport:
 * software rendering is slow. With hideGpu the page never sees navigator.gpu.
 */
export async function newPage(browser, { hideGpu = false, width = 960, height = 640 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  if (hideGpu) {
    await context.addInitScript(() => {
      delete Navigator.prototype.gpu;
      delete navigator.gpu;
    });
  }
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return { context, page, errors };
}

/** Polls fn until it returns a truthy value (returned) or the timeout passes. */
/** message: a string, or a function giving one (for values known only when it times out). */
export async function waitFor(fn, { timeout = 10_000, interval = 100, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
      if (Date.now() >= end) throw err;
    }
    if (Date.now() >= end) throw new Error(`timed out after ${timeout} ms waiting for ${typeof message === 'function' ? message() : message} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Waits until the page's window.tickroom is connected and returns its renderer name. */
export async function waitConnected(page, timeout = 20_000) {
  await waitFor(() => page.evaluate(() => window.tickroom?.connection.status.state === 'connected' && window.tickroom.mirror.tick >= 0), {
    timeout,
    message: 'room connection',
  });
  return waitFor(() => page.evaluate(() => window.tickroom.rendererName()), { timeout, message: 'renderer' });
}

/** Opens the room page at `url` in `page` and joins it: fills the name prompt. */
export async function join(page, url, name) {
  await page.goto(url);
  await page.locator('#name-input').fill(name);
  await page.locator('#join-button').click();
  return waitConnected(page);
}

export function saveArtifact(name, buffer) {
  mkdirSync(artifacts, { recursive: true });
  const file = joinPath(artifacts, name);
  writeFileSync(file, buffer);
  return file;
}

/**
 * Takes a screenshot (saved as an artifact) and returns a pixel reader.
 * colorNear(x, y, rgb, radius, tol) tells whether a pixel within radius CSS px
 * of (x, y) is within tol (per channel) of rgb.
 */
export async function screenshot(page, name) {
  await page.bringToFront();
  const buf = await page.screenshot();
  saveArtifact(name, buf);
  const png = PNG.sync.read(buf);
  const at = (x, y) => {
    const i = (png.width * y + x) << 2;
    return [png.data[i], png.data[i + 1], png.data[i + 2]];
  };
  return {
    width: png.width,
    height: png.height,
    at,
    colorNear(cx, cy, rgb, radius = 6, tol = 40) {
      const want = [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255];
      for (let y = Math.max(0, Math.round(cy - radius)); y <= Math.min(png.height - 1, Math.round(cy + radius)); y++) {
        for (let x = Math.max(0, Math.round(cx - radius)); x <= Math.min(png.width - 1, Math.round(cx + radius)); x++) {
          const p = at(x, y);
          if (Math.abs(p[0] - want[0]) <= tol && Math.abs(p[1] - want[1]) <= tol && Math.abs(p[2] - want[2]) <= tol) return true;
        }
      }
      return false;
    },
  };
}

/** A screenshot check that retries (frames arrive asynchronously), saving the last attempt. */
export async function waitForPixels(page, name, check, { timeout = 10_000, message = 'pixels' } = {}) {
  return waitFor(async () => check(await screenshot(page, name)), { timeout, interval: 250, message });
}

/** Creates a room from the home page form and returns its absolute share link. */
export async function createRoomFromHome(page, baseUrl, type) {
  await page.goto(`${baseUrl}/`);
  await waitFor(() => page.locator(`#room-type option[value="${type}"]`).count(), { message: `room type ${type} listed` });
  await page.locator('#room-type').selectOption(type);
  await page.locator('#create-button').click();
  const link = page.locator('#share-link');
  await link.waitFor({ timeout: 10_000 });
  return link.inputValue();
}

export { root };
