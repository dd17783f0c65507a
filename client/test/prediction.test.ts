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
