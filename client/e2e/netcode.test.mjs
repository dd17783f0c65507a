// The netcode harness's short scenario (docs/NETCODE.md), in `make test`: an
// observer page joins an arena room through the latency proxy (40 ms ± 15 ms
// each way, the server-to-client stream stalled 200 ms every 1.5 s) and
// records every animation frame as `make netcode` does, while a second page,
// straight to the server, walks its avatar along a lane. It asserts only
// what holds on any machine however loaded: frames were recorded, every
// drawn position and render tick is a finite number, the render tick never
// goes back, and the walking avatar is never drawn moving against its walk.
// Its speed, smoothness and delay are `make netcode`'s to measure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoomByApi, join, newPage, serverAndBrowser, waitFor } from './helpers.mjs';
import { installRecorder, proxyBinary, readRecording, startProxy } from '../netcode/harness.mjs';

const env = serverAndBrowser();
const SCENARIO = { latency: 40, jitter: 15, stallEvery: 1500, stall: 200 };
const FRAMES = 4096;
/** Frames to record, and how far (world units) the walker must be drawn moving in them. */
const MIN_FRAMES = 150;
const MIN_TRAVEL = 60;

/** The page's own avatar: { id, x, y }. */
const self = (page) =>
  page.evaluate(() => {
    const e = window.tickroom.selfEntity();
    return e ? { id: e.id, x: e.get('x'), y: e.get('y') } : null;
  });

/** Sets the walker's steering (arena inputs are sticky: the server applies the last one every tick). */
const steer = (page, dx, dy) => page.evaluate(([dx, dy]) => window.tickroom.connection.sendInput({ dx, dy }), [dx, dy]);

test('through the latency proxy: frames recorded, positions finite, never drawn backwards', { timeout: 120_000 }, async () => {
  const proxy = await startProxy(proxyBinary(), env.server.port, SCENARIO);
  // The field `make netcode` uses: one 1000 x 600 screen, no rounds (a round's end would move the walker).
  const room = await createRoomByApi(env.server.url, 'arena', { options: { width: 1000, height: 600, coins: 12, round: 0 } });
  const observer = await newPage(env.browser, { width: 640, height: 420 });
  const walker = await newPage(env.browser, { width: 320, height: 240 });
  try {
    await join(observer.page, `${proxy.url}${room.shareUrl}`, 'observer');
    await join(walker.page, `${env.server.url}${room.shareUrl}`, 'walker');
    const own = await waitFor(() => self(observer.page), { message: "observer's avatar" });
    // The walker goes to a lane away from the observer's avatar (they would push each other)...
    const laneY = own.y < 300 ? 480 : 120;
    // Steered from the walker's own page once a tick, as it sees its avatar (a poll would overshoot).
    await walker.page.evaluate((laneY) => {
      const t = window.tickroom;
      const stop = t.mirror.subscribe((m) => {
        const e = t.selfEntity();
        if (!e) return;
        const dy = laneY - e.get('y');
        t.connection.sendInput({ dx: 0, dy: Math.abs(dy) < 0.5 ? 0 : Math.max(-1, Math.min(1, dy / 6)) });
        if (Math.abs(dy) < 0.5) stop();
      });
    }, laneY);
    const lane = await waitFor(
      async () => {
        const w = await self(walker.page);
        return w !== null && Math.abs(w.y - laneY) < 0.5 && w;
      },
      { timeout: 30_000, message: 'walker in its lane' },
    );
    await waitFor(() => observer.page.evaluate((id) => window.tickroom.mirror.entities.has(id), lane.id), { message: 'walker in the observer mirror' });
    // ... then along it, toward the farther wall (at least 500 units to go).
    const dir = lane.x < 500 ? 1 : -1;
    await installRecorder(observer.page, lane.id, FRAMES);
    await observer.page.evaluate(() => (window.__netcode.on = true));
    await steer(walker.page, dir, 0);
    await waitFor(
      () =>
        observer.page.evaluate(
          ({ n, travel }) => {
            const R = window.__netcode;
            return R.n >= n && Math.abs(R.rx[R.n - 1] - R.rx[0]) >= travel;
          },
          { n: MIN_FRAMES, travel: MIN_TRAVEL },
        ),
      { timeout: 60_000, message: `${MIN_FRAMES} frames with the walker drawn ${MIN_TRAVEL} units along` },
    );
    const rec = await readRecording(observer.page);

    assert.ok(rec.n >= MIN_FRAMES, `frames recorded: ${rec.n}`);
    for (let i = 0; i < rec.n; i++) {
      for (const [name, v] of [['t', rec.t[i]], ['render tick', rec.rt[i]], ['walker x', rec.rx[i]], ['walker y', rec.ry[i]], ['own x', rec.ox[i]], ['own y', rec.oy[i]]]) {
        assert.ok(Number.isFinite(v), `frame ${i}: ${name} ${v}`);
      }
      if (i === 0) continue;
      assert.ok(rec.rt[i] >= rec.rt[i - 1], `frame ${i}: render tick went back from ${rec.rt[i - 1]} to ${rec.rt[i]}`);
      assert.ok((rec.rx[i] - rec.rx[i - 1]) * dir >= -1e-6, `frame ${i}: walker drawn moving back, x ${rec.rx[i - 1]} -> ${rec.rx[i]} (walking ${dir > 0 ? 'right' : 'left'})`);
    }
    assert.ok((rec.rx[rec.n - 1] - rec.rx[0]) * dir >= MIN_TRAVEL, 'drawn walking');
    assert.deepEqual(observer.errors.concat(walker.errors).filter((e) => !/favicon/.test(e)), [], 'no page errors');
  } finally {
    await observer.context.close();
    await walker.context.close();
    await proxy.stop();
  }
});
