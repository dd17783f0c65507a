import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArenaPredictor, arenaModel } from '@tickroom/client';

const model = { speed: 6, width: 1000, height: 600 };

test('arenaModel reads options with defaults', () => {
  assert.deepEqual(arenaModel({}), { speed: 6, width: 1000, height: 600 });
  assert.deepEqual(arenaModel({ speed: 4, width: 800, height: 'x' }), { speed: 4, width: 800, height: 600 });
});

test('inputs move the prediction at once and replay on top of server state', () => {
  const p = new ArenaPredictor(model);
  p.reconcile(100, 100, 0);
  p.input(1, 1, 0);
  p.input(2, 1, 0);
  p.input(3, 0, 1);
  assert.deepEqual([p.predictedX, p.predictedY], [112, 106]);
  // The server applied inputs 1 and 2 exactly as predicted: no correction.
  p.reconcile(112, 100, 2);
  assert.equal(p.pending, 1);
  assert.deepEqual([p.predictedX, p.predictedY, p.x, p.y], [112, 106, 112, 106]);
});

test('a disagreement becomes a correction that fades instead of snapping', () => {
  const p = new ArenaPredictor(model);
  p.reconcile(100, 100, 0);
  p.input(1, 1, 0);
  // The server was blocked (say by an obstacle): input 1 did not move it.
  p.reconcile(100, 100, 1);
  assert.equal(p.predictedX, 100);
  assert.equal(p.x, 106, 'drawn where it was');
  let last = p.x;
  for (let i = 0; i < 30; i++) {
    p.frame(1000 / 60);
    assert.ok(p.x <= last && p.x >= 100, `frame ${i}: ${p.x} moves toward 100`);
    last = p.x;
  }
  assert.equal(p.x, 100, 'converged');
});

test('a large jump (respawn) snaps', () => {
  const p = new ArenaPredictor(model);
  p.reconcile(100, 100, 0);
  p.reconcile(900, 500, 0);
  assert.deepEqual([p.x, p.y], [900, 500]);
});

test('movement clamps to the world and inputs clamp to [-1, 1]', () => {
  const p = new ArenaPredictor(model);
  p.reconcile(998, 2, 0);
  p.input(1, 5, -1);
  assert.deepEqual([p.predictedX, p.predictedY], [1000, 0]);
});

test('pending inputs are bounded when the server stops acknowledging', () => {
  const p = new ArenaPredictor(model, 4);
  p.reconcile(0, 0, 0);
  for (let s = 1; s <= 10; s++) p.input(s, 1, 0);
  assert.equal(p.pending, 4);
  p.reconcile(0, 0, 0);
  assert.equal(p.predictedX, 24, 'only the newest 4 replay');
});

test('with glideMs the steps of held inputs glide at constant speed, moving from the first frame', () => {
  const p = new ArenaPredictor(model);
  p.glideMs = 50;
  p.reconcile(100, 100, 0);
  const frame = 1000 / 60;
  // Virtual clock: an input every 50 ms (a key held), a frame every 1/60 s.
  // Inputs 5 ms after a frame: a frame never falls on the same instant as an input.
  let nextInput = 5;
  let seq = 0;
  const xs: number[] = [];
  for (let now = frame; now < 2000; now += frame) {
    while (nextInput <= now) {
      p.input(++seq, 1, 0);
      nextInput += 50;
    }
    p.frame(frame);
    xs.push(p.x);
  }
  assert.ok(xs[0]! > 100 && xs[0]! < 106, `first frame moved part of a step: ${xs[0]}`);
  const steps = xs.slice(1).map((x, i) => x - xs[i]!);
  assert.ok(steps.every((d) => d > 0), 'always forward');
  const mean = steps.reduce((a, b) => a + b, 0) / steps.length;
  const sd = Math.sqrt(steps.reduce((a, b) => a + (b - mean) ** 2, 0) / steps.length);
  assert.ok(Math.abs(mean - 2) < 0.01, `6 units a tick is 2 a frame: ${mean}`);
  assert.ok(sd / mean < 0.1, `speed CV ${sd / mean}`);
  // Without the glide the same inputs step: 6 units every third frame.
  const q = new ArenaPredictor(model);
  q.reconcile(100, 100, 0);
  q.input(1, 1, 0);
  q.frame(frame);
  assert.equal(q.x, 106);
});

test('a correction fades to a tenth within about 100 ms, never more than a third of it a frame', () => {
  const p = new ArenaPredictor(model);
  p.reconcile(100, 100, 0);
  p.input(1, 1, 0);
  p.reconcile(100, 100, 1); // one step (6 units) off
  let max = 0;
  let t = 0;
  while (Math.abs(p.x - 100) > 0.6) {
    p.frame(1000 / 60);
    t += 1000 / 60;
    max = Math.max(max, p.lastCorrection);
  }
  assert.ok(t <= 120, `a tenth left after ${t} ms`); // 0.7 a 60 Hz frame: 12% after 100 ms, 8% after 117
  assert.ok(max <= 6 * 0.31, `largest correction in one frame ${max}`);
});

test('a correction never moves the avatar faster than it walks (2 units a 60 Hz frame), nor 2 units in any frame, and still converges', () => {
  for (const off of [12, 18, 40, 140]) {
    const p = new ArenaPredictor(model);
    p.reconcile(100, 100, 0);
    p.reconcile(100 - off, 100, 0); // off units behind what was drawn (under the snap distance)
    assert.equal(p.x, 100, 'drawn where it was');
    let max = 0;
    let perFrame = 0;
    let frames = 0;
    for (; p.x !== 100 - off && frames < 600; frames++) {
      for (const dt of [1000 / 60, 1000 / 30]) {
        const was = p.x;
        p.frame(dt);
        assert.ok(p.x <= was, `${off}: toward the server, never past it`);
        max = Math.max(max, p.lastCorrection / (dt / (1000 / 60)));
        perFrame = Math.max(perFrame, p.lastCorrection);
      }
    }
    assert.ok(max <= 2 + 1e-9, `${off}: largest correction a 60 Hz frame's worth ${max}`);
    assert.ok(max > 1.9, `${off}: the cap is what held it: ${max}`);
    assert.ok(perFrame <= 2 + 1e-9, `${off}: largest correction in one (30 Hz) frame ${perFrame}`);
    assert.equal(p.x, 100 - off, `${off}: converged`);
  }
});
