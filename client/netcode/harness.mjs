// The netcode feel harness (docs/NETCODE.md; `make netcode`): a real
// server, the latency proxy (cmd/tickroom-netcode) in front of it, and a
// headless Chromium on an arena room through the proxy. A scripted remote
// player (a Node client of @tickroom/client, straight to the server) walks a
// known lane back and forth at full speed; the page's own avatar is driven
// by key events. The page records every animation frame into preallocated
// arrays; the server's recording of the room (its tape) gives the true
// positions of every tick. Scores per scenario come out as a table, and as
// JSON with NETCODE_JSON=FILE (or --json FILE).
//
//   node --experimental-websocket client/netcode/harness.mjs [--only S2] [--seconds 20] [--json FILE] [--strip DIR] [--dump DIR]
import { spawn, execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { createInterface } from 'node:readline';
import { execSync } from 'node:child_process';
import { launchBrowser, newPage, root, startServer, waitFor } from '../e2e/helpers.mjs';
import { PNG } from 'pngjs';
import { scores } from './scores.mjs';

const args = process.argv.slice(2);
const opt = (name, d) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : d;
};
const SECONDS = Number(opt('seconds', '20'));
const ONLY = opt('only', '');
const JSON_OUT = opt('json', process.env.NETCODE_JSON || '');
const STRIP_DIR = opt('strip', '');
/** Where to write each scenario's raw recording and truth as JSON (for looking into a score), or ''. */
const DUMP_DIR = opt('dump', process.env.NETCODE_DUMP || '');

/** Latency per direction (RTT is twice), jitter, stalls of the server-to-client stream, one freeze. */
export const SCENARIOS = {
  S0: { latency: 0, jitter: 0 },
  S1: { latency: 30, jitter: 5 },
  S2: { latency: 50, jitter: 20 },
  S3: { latency: 75, jitter: 30, stallEvery: 5000, stall: 250 },
  S4: { latency: 50, jitter: 0, freeze: 1000 },
};

const LANE_TICKS = 40; // the remote player reverses every 40 ticks (2 s at 20 Hz)
const FRAMES = 4096; // preallocated frames per recording (68 s at 60 Hz)

export function proxyBinary() {
  const bin = joinPath(root, '.build', 'tickroom-netcode');
  execFileSync('go', ['build', '-o', bin, './cmd/tickroom-netcode'], { cwd: root, stdio: 'pipe' });
  return bin;
}

/** Starts the proxy in front of `port` with scenario `s`; resolves to { url, freeze(ms), stop() }. */
export async function startProxy(bin, port, s) {
  const flags = ['-target', `127.0.0.1:${port}`, '-latency', `${s.latency}ms`, '-jitter', `${s.jitter}ms`, '-control', '-max-duration', '5m', '-seed', '14'];
  if (s.stallEvery) flags.push('-stall-every', `${s.stallEvery}ms`, '-stall', `${s.stall}ms`);
  const child = spawn(bin, flags, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (l) => waiting.shift()?.(JSON.parse(l)));
  const next = () => new Promise((res) => waiting.push(res));
  const first = await next();
  const exited = new Promise((res) => child.once('exit', res));
  return {
    url: `http://${first.addr}`,
    startUnixMs: first.startUnixMs,
    async freeze(ms) {
      const ack = next();
      child.stdin.write(`freeze ${ms}ms\n`);
      return (await ack).freezeUnixMs;
    },
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}

/**
 * The remote player: joins straight to the server, walks to a lane away from
 * `avoidY`, then goes right and left at full speed, reversing every
 * LANE_TICKS ticks. Its inputs are sticky (the arena applies the last one
 * every tick), so it sends one per reversal.
 */
async function startBot(lib, serverUrl, roomId, avoidY) {
  const conn = new lib.Connection({ url: `${serverUrl.replace('http', 'ws')}/ws/${roomId}`, name: 'bot' });
  const laneY = avoidY < 300 ? 480 : 120;
  const startX = 380;
  let phase = 'lane';
  let t0 = -1;
  let dir = 1;
  const unsub = conn.mirror.subscribe((m, change) => {
    const id = conn.welcome?.entity;
    const self = id === undefined ? undefined : m.entities.get(id);
    if (!self) return;
    const x = self.num('x', 0);
    const y = self.num('y', 0);
    if (phase === 'lane') {
      const dx = startX - x;
      const dy = laneY - y;
      const d = Math.hypot(dx, dy);
      if (d < 0.5) {
        phase = 'walk';
        t0 = change.tick;
        conn.sendInput({ dx: 1, dy: 0 });
        return;
      }
      const k = Math.min(1, d / 6) / d;
      conn.sendInput({ dx: dx * k, dy: dy * k });
      return;
    }
    if ((change.tick - t0) % LANE_TICKS === 0 && change.tick !== t0) {
      dir = -dir;
      conn.sendInput({ dx: dir, dy: 0 });
    }
  });
  conn.start();
  await waitFor(() => phase === 'walk', { timeout: 30_000, message: 'remote player in its lane' });
  return {
    id: () => conn.welcome.entity,
    stop() {
      unsub();
      conn.stop();
    },
  };
}

/** Installs the per-frame recorder in the page (preallocated arrays, filled by the scene's afterFrame hook). */
export function installRecorder(page, botId, frames) {
  return page.evaluate(
    ({ botId, N }) => {
      const t = window.tickroom;
      const sc = t.scene;
      const f64 = () => new Float64Array(N);
      const R = {
        n: 0,
        on: false,
        t: f64(), rt: f64(), newest: f64(), lastAt: f64(), rx: f64(), ry: f64(),
        ox: f64(), oy: f64(), px: f64(), py: f64(), corr: f64(), pend: f64(), target: f64(), jitter: f64(),
        keys: [],
        lastTick: -1,
        lastTickAt: 0,
      };
      window.__netcode = R;
      R.na = 0;
      R.aK = f64();
      R.aT = f64();
      t.mirror.subscribe((m, c) => {
        R.lastTick = c.tick;
        R.lastTickAt = performance.now();
        if (R.on && R.na < N) {
          R.aK[R.na] = c.tick;
          R.aT[R.na++] = R.lastTickAt;
        }
      });
      const key = (down) => (e) => {
        if (R.on && !e.repeat) R.keys.push([performance.now(), R.n, e.code, down]);
      };
      addEventListener('keydown', key(1), true);
      addEventListener('keyup', key(0), true);
      sc.afterFrame = (now) => {
        if (!R.on || R.n >= N) return;
        const i = R.n++;
        R.t[i] = now;
        R.rt[i] = sc.renderTick;
        R.newest[i] = R.lastTick;
        R.lastAt[i] = R.lastTickAt;
        const f = sc.buffer.frame;
        let rx = NaN;
        let ry = NaN;
        for (let k = 0; k < f.count; k++) {
          if (f.ids[k] === botId) {
            rx = f.x[k];
            ry = f.y[k];
            break;
          }
        }
        R.rx[i] = rx;
        R.ry[i] = ry;
        const p = t.predictor();
        R.ox[i] = p ? p.x : NaN;
        R.oy[i] = p ? p.y : NaN;
        R.px[i] = p ? p.predictedX : NaN;
        R.py[i] = p ? p.predictedY : NaN;
        R.corr[i] = p ? p.lastCorrection : NaN;
        R.pend[i] = p ? p.pending : NaN;
        R.target[i] = sc.live ? sc.live.targetDelayMs : NaN;
        R.jitter[i] = sc.live ? sc.live.jitterMs : NaN;
      };
    },
    { botId, N: frames },
  );
}

export async function readRecording(page) {
  return page.evaluate(() => {
    const R = window.__netcode;
    R.on = false;
    const a = (x) => Array.from(x.subarray(0, R.n));
    const p0 = window.tickroom.project(0, 0);
    const p1 = window.tickroom.project(100, 0);
    return {
      n: R.n,
      t: a(R.t), rt: a(R.rt), newest: a(R.newest), lastAt: a(R.lastAt), rx: a(R.rx), ry: a(R.ry),
      ox: a(R.ox), oy: a(R.oy), px: a(R.px), py: a(R.py), corr: a(R.corr), pend: a(R.pend),
      target: a(R.target), jitter: a(R.jitter),
      arrivals: { tick: Array.from(R.aK.subarray(0, R.na)), at: Array.from(R.aT.subarray(0, R.na)) },
      keys: R.keys,
      timeOrigin: performance.timeOrigin,
      pxPerUnit: (p1.x - p0.x) / 100,
      renderer: window.tickroom.rendererName(),
      selfId: window.tickroom.selfEntity()?.id ?? -1,
    };
  });
}

/** Positions of `ids` at every tick of the room's recording: Map id -> { first, x: [], y: [] }. */
async function truthFromTape(lib, serverUrl, recId, ids, lastTickNeeded) {
  await waitFor(
    async () => {
      const r = await fetch(`${serverUrl}/api/recordings/${recId}`);
      return r.ok && (await r.json()).lastTick >= lastTickNeeded;
    },
    { timeout: 20_000, message: `recording up to tick ${lastTickNeeded}` },
  );
  const bytes = new Uint8Array(await (await fetch(`${serverUrl}/api/recordings/${recId}/tape`)).arrayBuffer());
  const replay = lib.Replay.fromBytes(bytes);
  const out = new Map(ids.map((id) => [id, { first: replay.firstTick, x: [], y: [] }]));
  for (let tick = replay.firstTick; tick <= replay.lastTick; tick++) {
    replay.seek(tick);
    for (const id of ids) {
      const e = replay.mirror.entities.get(id);
      const o = out.get(id);
      o.x.push(e ? e.num('x', NaN) : NaN);
      o.y.push(e ? e.num('y', NaN) : NaN);
    }
  }
  return out;
}

/**
 * A frame strip as a picture: `frames` frames from `from`, `step` px each,
 * left to right; up is the remote avatar's x. White: where it was drawn.
 * Green: the true x at the time each frame represents. Grey: the x of the
 * newest tick received, what a client without interpolation would draw (a
 * staircase, one step a tick). Red at the bottom: frames the buffer ran dry.
 * Gliding is a smooth white line through the grey stairs.
 */
function traceImage(rec, truth, from = 120, frames = 300, step = 2) {
  const W = frames * step;
  const H = 240;
  const png = new PNG({ width: W, height: H });
  png.data.fill(0);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  const end = Math.min(rec.n, from + frames);
  const tx = (r) => {
    const k = Math.floor(r);
    const a = truth.x[k - truth.first];
    const b = truth.x[k + 1 - truth.first];
    return a === undefined || b === undefined ? NaN : a + (b - a) * (r - k);
  };
  const newestX = (i) => truth.x[rec.newest[i] - truth.first] ?? NaN;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = from; i < end; i++) {
    for (const v of [rec.rx[i], tx(rec.rt[i]), newestX(i)]) {
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  const put = (x, y, [r, g, b]) => {
    if (x < 0 || x >= W || y < 0 || y >= H) return;
    const o = (y * W + x) * 4;
    png.data[o] = r;
    png.data[o + 1] = g;
    png.data[o + 2] = b;
  };
  const yOf = (v) => Math.round(H - 16 - ((v - lo) / Math.max(1, hi - lo)) * (H - 32));
  for (let i = from; i < end; i++) {
    const x = (i - from) * step;
    const n = newestX(i);
    if (Number.isFinite(n)) for (let dx = 0; dx < step; dx++) put(x + dx, yOf(n), [110, 110, 110]);
    const t = tx(rec.rt[i]);
    if (Number.isFinite(t)) put(x, yOf(t), [40, 200, 90]);
    if (Number.isFinite(rec.rx[i])) {
      const y = yOf(rec.rx[i]);
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) put(x + dx, y + dy, [255, 255, 255]);
    }
    if (rec.rt[i] >= rec.newest[i] - 1e-9) for (let y = H - 6; y < H; y++) for (let dx = 0; dx < step; dx++) put(x + dx, y, [220, 50, 50]);
  }
  return PNG.sync.write(png);
}

/** Holds D and A in turn (0.9 s each, 0.4 s apart), until stop() is called. */
function driveOwn(page) {
  let running = true;
  const done = (async () => {
    await page.locator('#scene').focus().catch(() => {});
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    for (let k = 0; running; k++) {
      const key = k % 2 === 0 ? 'KeyD' : 'KeyA';
      await page.keyboard.down(key);
      await sleep(900);
      await page.keyboard.up(key);
      await sleep(400);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

async function runScenario(name, s, env) {
  const proxy = await startProxy(env.proxyBin, env.server.port, s);
  const res = await fetch(`${env.server.url}/api/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // The arena as it was when these scenarios were written: one 1000 x 600
    // screen (the lanes and the own avatar all on it, the camera still),
    // 12 coins and no rounds.
    body: JSON.stringify({ type: 'arena', options: { width: 1000, height: 600, coins: 12, round: 0 }, visibility: 'unlisted', maxPlayers: 8 }),
  });
  const room = await res.json();
  const { context, page, errors } = await newPage(env.browser, { hideGpu: env.hideGpu, width: 640, height: 420 });
  let bot = null;
  try {
    await page.goto(`${proxy.url}${room.shareUrl}`);
    await page.locator('#name-input').fill('observer');
    await page.locator('#join-button').click();
    await waitFor(() => page.evaluate(() => window.tickroom?.connection.status.state === 'connected' && window.tickroom.selfEntity() !== null), {
      timeout: 30_000,
      message: 'observer joined',
    });
    await waitFor(() => page.evaluate(() => window.tickroom.rendererName()), { timeout: 30_000, message: 'renderer' });
    const ownY = await page.evaluate(() => window.tickroom.selfEntity().get('y'));
    bot = await startBot(env.lib, env.server.url, room.id, ownY);
    const botId = bot.id();
    await installRecorder(page, botId, FRAMES);
    // Let the interpolation settle on the walking bot before recording.
    await new Promise((r) => setTimeout(r, 1500));
    await page.evaluate(() => (window.__netcode.on = true));
    const drive = driveOwn(page);
    const t0 = Date.now();
    let freezeUnixMs = null;
    while (Date.now() - t0 < SECONDS * 1000) {
      if (s.freeze && freezeUnixMs === null && Date.now() - t0 > (SECONDS * 1000) / 3) freezeUnixMs = await proxy.freeze(s.freeze);
      await new Promise((r) => setTimeout(r, 100));
    }
    await drive.stop();
    const rec = await readRecording(page);
    // Screenshots after the measurement (they would disturb it).
    const strip = [];
    while (STRIP_DIR && strip.length < 4) strip.push(await page.screenshot());
    const recId = (await (await fetch(`${env.server.url}/api/rooms/${room.id}`)).json()).recordingId;
    const lastRt = Math.ceil(Math.max(...rec.rt.filter(Number.isFinite))) + 2;
    const truth = await truthFromTape(env.lib, env.server.url, recId, [botId, rec.selfId], lastRt);
    if (STRIP_DIR) {
      mkdirSync(STRIP_DIR, { recursive: true });
      strip.forEach((buf, i) => writeFileSync(joinPath(STRIP_DIR, `netcode-${name}-${String(i).padStart(2, '0')}.png`), buf));
      writeFileSync(joinPath(STRIP_DIR, `netcode-${name}-strip.png`), traceImage(rec, truth.get(botId)));
      // One second, 10 px a frame, so each tick's step (three frames at 60 Hz)
      // is plain to see: the first second from frame 150 on with no underrun
      // in it (the glide between ticks; the whole strip shows the stalls).
      let z = 150;
      const dry = (i) => rec.rt[i] >= rec.newest[i] - 1e-9;
      while (z + 60 < rec.n && Array.from({ length: 60 }, (_, k) => dry(z + k)).some(Boolean)) z++;
      if (z + 60 >= rec.n) z = 150;
      writeFileSync(joinPath(STRIP_DIR, `netcode-${name}-strip-zoom.png`), traceImage(rec, truth.get(botId), z, 60, 10));
    }
    if (DUMP_DIR) {
      mkdirSync(DUMP_DIR, { recursive: true });
      writeFileSync(joinPath(DUMP_DIR, `netcode-${name}.json`), JSON.stringify({ rec, truth: truth.get(botId), own: truth.get(rec.selfId) }));
    }
    const freeze = freezeUnixMs === null ? null : { startMs: freezeUnixMs - rec.timeOrigin, ms: s.freeze };
    const out = scores(rec, truth.get(botId), { tickMs: 50, laneTicks: LANE_TICKS, freeze, speed: 6 });
    out.renderer = rec.renderer;
    out.page_errors = errors.filter((e) => !/favicon/.test(e)).length;
    return out;
  } finally {
    bot?.stop();
    await context.close();
    await proxy.stop();
  }
}

const COLUMNS = [
  ['remote_speed_cv', 3], ['remote_stutter_per_s', 2], ['remote_jump_per_s', 2], ['underrun_share', 3], ['remote_error_p99', 1],
  ['own_response_frames_p95', 0], ['correction_px_per_frame_max', 2], ['correction_px_steady_max', 2], ['interp_delay_ms', 0],
  ['backwards_frames', 0], ['recover_ms', 0], ['renderer_hitches', 0], ['frames', 0], ['fps', 1],
];

function table(results) {
  const head = ['', ...COLUMNS.map(([c]) => c)];
  const rows = Object.entries(results).map(([name, r]) => [name, ...COLUMNS.map(([c, d]) => (r[c] === null || r[c] === undefined ? '-' : Number(r[c]).toFixed(d)))]);
  const md = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  return md.join('\n');
}

async function main() {
  const lib = await import('@tickroom/client');
  const proxyBin = proxyBinary();
  const server = await startServer();
  const browser = await launchBrowser();
  const env = { lib, proxyBin, server, browser, hideGpu: process.env.NETCODE_RENDERER === 'webgl2' };
  const results = {};
  const started = Date.now();
  try {
    for (const [name, s] of Object.entries(SCENARIOS)) {
      if (ONLY && !ONLY.split(',').includes(name)) continue;
      process.stderr.write(`netcode: ${name} (${JSON.stringify(s)}) ...\n`);
      results[name] = await runScenario(name, s, env);
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  let commit = process.env.NETCODE_COMMIT || '';
  if (!commit) {
    try {
      commit = execSync('git rev-parse --short HEAD', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      commit = 'unknown';
    }
  }
  const load = execSync('cat /proc/loadavg').toString().trim().split(' ').slice(0, 3).join(' ');
  console.log(table(results));
  console.log(`\ncommit ${commit}, load average ${load}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (JSON_OUT) {
    writeFileSync(JSON_OUT, JSON.stringify({ commit, load, seconds: SECONDS, scenarios: results }, null, 2) + '\n');
    console.log(`wrote ${JSON_OUT}`);
  }
}

// Run as a program (not when a test imports its parts).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
