// A tickroom server started with extra flags (e.g. -admin-token, -data-dir),
// for the replay and admin tests; otherwise as helpers.mjs's startServer:
// built once (go build caches) unless TICKROOM_BIN names a binary, on a free
// port of 127.0.0.1, ready when /healthz answers.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, waitFor } from './helpers.mjs';

function serverBinary() {
  if (process.env.TICKROOM_BIN) return process.env.TICKROOM_BIN;
  const bin = join(root, '.build', 'tickroom');
  try {
    execFileSync('go', ['build', '-o', bin, './cmd/tickroom'], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    throw new Error(`e2e: go build ./cmd/tickroom failed:\n${err.stderr?.toString() ?? err.message}`);
  }
  return bin;
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

/** Whether the binary has a flag (its -help lists it). */
export function hasFlag(name) {
  const out = spawnSync(serverBinary(), ['-help'], { encoding: 'utf8' });
  return new RegExp(`^\\s*-${name}\\b`, 'm').test(`${out.stdout}${out.stderr}`);
}

/**
 * Starts the server with `args` after -addr, and a fresh data directory
 * (-data-dir, removed on stop) when `dataDir` is true, or 'optional' and the
 * binary has the flag.
 */
export async function startServerWith(args = [], { dataDir = true } = {}) {
  const bin = serverBinary();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const useDir = dataDir === 'optional' ? hasFlag('data-dir') : dataDir;
  const dir = useDir ? mkdtempSync(join(tmpdir(), 'tickroom-e2e-')) : null;
  const all = ['-addr', `127.0.0.1:${port}`, ...(dir ? ['-data-dir', dir] : []), ...args];
  const child = spawn(bin, all, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  let dead = null;
  void exited.then((e) => (dead = e));
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
  return {
    url,
    dataDir: dir,
    log: () => log,
    async stop() {
      if (!dead) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
