// The room page at the edge of what it shows: the camera's view transform
// (fitView with a camera), the camera's smoothing, entities fading in and
// out (Fades), and the arena's round clock (the same arithmetic as
// rooms/arena/rounds.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Entity, Schema } from '@tickroom/client';
import { Camera, CAMERA_SNAP } from '../pages/camera';
import { FADE_TICKS, Fades } from '../pages/fades';
import { clockText, roundAt, roundTiming } from '../pages/round';
import { fitView, newViewTransform, visibleWorld } from '../render/transform';
import type { View } from '../render/types';

function view(cameraX: number, cameraY: number): View {
  return { worldWidth: 3000, worldHeight: 1800, background: 0, cameraX, cameraY, spanWidth: 1000, spanHeight: 600 };
}

test('without a camera the whole world fits the canvas', () => {
  const t = newViewTransform();
  fitView(view(NaN, NaN), 1200, 600, t);
  assert.equal(t.scale, 1 / 3);
  assert.deepEqual([t.offsetX, t.offsetY], [100, 0]);
});

test('a camera shows the span around its point, clamped at the world edges', () => {
  const t = newViewTransform();
  const vis = new Float64Array(4);
  const cases: [string, number, number, number[]][] = [
    ['mid-world: centred', 1500, 900, [1000, 600, 2000, 1200]],
    ['top-left corner: clamped', 10, 20, [0, 0, 1000, 600]],
    ['bottom-right corner: clamped', 2999, 1799, [2000, 1200, 3000, 1800]],
    ['near the left edge only', 300, 900, [0, 600, 1000, 1200]],
  ];
  for (const [name, x, y, want] of cases) {
    fitView(view(x, y), 1000, 600, t);
    visibleWorld(t, vis);
    assert.deepEqual([...vis].map((v) => Math.round(v * 1e6) / 1e6 + 0), want, name);
    assert.equal(t.scale, 1, `${name}: scale`);
  }
  // A wider canvas shows more world at the span's scale, never beyond it.
  fitView(view(1500, 900), 2000, 600, t);
  visibleWorld(t, vis);
  assert.deepEqual([...vis], [500, 600, 2500, 1200], 'wide canvas');
  // A world smaller than the span fits whole and stays centred: no camera motion.
  const small: View = { worldWidth: 1000, worldHeight: 600, background: 0, cameraX: 100, cameraY: 100, spanWidth: 1000, spanHeight: 600 };
  const a = newViewTransform();
  const b = newViewTransform();
  fitView(small, 1300, 650, a);
  fitView({ ...small, cameraX: NaN, cameraY: NaN }, 1300, 650, b);
  assert.deepEqual(a, b, 'world the size of the span: same as no camera');
});

test('the camera eases toward its target and snaps on a jump', () => {
  const c = new Camera();
  c.follow(100, 200, 16);
  assert.deepEqual([c.x, c.y], [100, 200], 'first call snaps');
  c.follow(200, 200, 16);
  assert.ok(c.x > 100 && c.x < 200, `eases: x ${c.x}`);
  for (let i = 0; i < 200; i++) c.follow(200, 200, 16);
  assert.ok(Math.abs(c.x - 200) < 1e-6, `settles: x ${c.x}`);
  c.follow(200 + CAMERA_SNAP + 1, 200, 16);
  assert.equal(c.x, 200 + CAMERA_SNAP + 1, 'jump snaps');
  c.follow(c.x - 50, 200, 0);
  assert.equal(c.x, 200 + CAMERA_SNAP + 1, 'a zero-length frame moves nothing');
});

const schema = Schema.parse([{ id: 0, name: 'coin', fields: [{ name: 'x', type: 'q', scale: 4 }, { name: 'y', type: 'q', scale: 4 }] }]);

function coin(id: number): Entity {
  return new Entity(id, schema.kind(0)!);
}

test('entities there from the start show at once; later ones fade in', () => {
  const f = new Fades();
  const a = coin(1);
  f.begin(10);
  f.see(a, 5, 5, NaN);
  f.end();
  assert.equal(f.alpha(1, 9.5), 1, 'first tick: no fade');
  const b = coin(2);
  f.begin(11);
  f.see(a, 5, 5, NaN);
  f.see(b, 7, 7, NaN);
  f.end();
  assert.equal(f.alpha(2, 9.9), 0, 'before it arrives');
  assert.equal(f.alpha(2, 10), 0, 'the tick before it arrives');
  assert.equal(f.alpha(2, 10 + FADE_TICKS / 2), 0.5, 'half way');
  assert.equal(f.alpha(2, 10 + FADE_TICKS), 1, 'done');
  assert.equal(f.alpha(1, 10.5), 1, 'the old one stays opaque');
  assert.equal(f.alpha(99, 10), 1, 'unknown ids are opaque');
});

test('a departed entity leaves a ghost at its last spot that fades out and is dropped', () => {
  const f = new Fades();
  const a = coin(1);
  f.begin(1);
  f.see(a, 5, 6, 0.5);
  f.end();
  f.begin(2);
  f.end();
  let slot = -1;
  for (let g = 0; g < f.ghostSlots; g++) if (f.ghostEntity[g] === a) slot = g;
  assert.ok(slot >= 0, 'a ghost of the departed entity');
  assert.deepEqual([f.ghostX[slot], f.ghostY[slot], f.ghostAngle[slot]], [5, 6, 0.5]);
  assert.equal(f.ghostAlpha(slot, 0.5), 0, 'still drawn live before its last tick');
  assert.equal(f.ghostAlpha(slot, 1), 1, 'starts opaque');
  assert.equal(f.ghostAlpha(slot, 1 + FADE_TICKS / 2), 0.5, 'half way');
  assert.equal(f.ghostAlpha(slot, 1 + FADE_TICKS), 0, 'faded');
  assert.equal(f.ghostEntity[slot], null, 'dropped once faded');
  assert.equal(f.alpha(1, 3), 1, 'no longer tracked');
});

test('going back in time (a replay seek) starts over without fades', () => {
  const f = new Fades();
  f.begin(50);
  f.see(coin(1), 0, 0, NaN);
  f.end();
  f.begin(51);
  f.see(coin(2), 0, 0, NaN);
  f.end();
  f.begin(20);
  f.see(coin(3), 0, 0, NaN);
  f.end();
  assert.equal(f.alpha(3, 19.5), 1, 'shown at once after the seek');
  for (let g = 0; g < f.ghostSlots; g++) assert.equal(f.ghostEntity[g], null, `no ghost in slot ${g}`);
});

test('the round clock matches the server: play, then break, then the next round', () => {
  assert.equal(roundTiming({ round: 0, break: 5 }, 20), null, 'round 0: no rounds');
  assert.equal(roundTiming({}, 20), null, 'no options: no rounds');
  const t = roundTiming({ round: 1, break: 1 }, 20)!;
  assert.deepEqual(t, { play: 20, period: 40 });
  assert.deepEqual(roundAt(t, 1), { round: 1, left: 19, playing: true });
  assert.deepEqual(roundAt(t, 20), { round: 1, left: 0, playing: true }, 'last tick of play');
  assert.deepEqual(roundAt(t, 21), { round: 1, left: 19, playing: false }, 'break');
  assert.deepEqual(roundAt(t, 40), { round: 1, left: 0, playing: false });
  assert.deepEqual(roundAt(t, 41), { round: 2, left: 19, playing: true });
  assert.equal(clockText(179.05), '3:00');
  assert.equal(clockText(61), '1:01');
  assert.equal(clockText(0), '0:00');
});
