// Hand-made vectors: each step is a server message built with @msgpack/msgpack
// and the exact state the mirror must hold after it. The shared Go-generated
// vectors run in vectors.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mirror, Schema } from '@tickroom/client';
import { assertMirror, bytes, feed } from './helpers';

const ANGLE_SCALE = 4096 / (2 * Math.PI);
const kinds = [
  {
    id: 0,
    name: 'prop',
    draw: { shape: 'circle', w: 24, h: 24 },
    fields: [
      { name: 'x', type: 'q', scale: 64, pred: 2 },
      { name: 'y', type: 'q', scale: 64, pred: 2 },
      { name: 'angle', type: 'q', scale: ANGLE_SCALE, mod: 4096, pred: 2 },
      { name: 'hp', type: 'u8' },
      { name: 'label', type: 'str' },
      { name: 'score', type: 'i32', pred: 1 },
      { name: 'alive', type: 'bool' },
      { name: 'speed', type: 'f32' },
    ],
  },
  { id: 1, name: 'avatar', fields: [{ name: 'x', type: 'q', scale: 16, pred: 1 }, { name: 'name', type: 'str' }] },
];

function fresh(): Mirror {
  const m = new Mirror();
  m.setSchema(Schema.parse(kinds));
  return m;
}

const prop5 = { x: 6432 / 64, y: 3200 / 64, angle: 4090 / ANGLE_SCALE, hp: 100, label: 'p', score: 7, alive: true, speed: 1.5 };
// prop: [kind, id, x, y, angle, hp, label, score, alive, speed, vx, vy, vangle]
const snapshot10 = bytes([2, 10, [[0, 5, 6432, 3200, 4090, 100, 'p', 7, true, 1.5, 64, -32, 10], [1, 9, 160, 'al']]]);

test('snapshot sets values and pred-2 history', () => {
  const m = fresh();
  assert.equal(feed(m, snapshot10), 'applied');
  assert.equal(m.tick, 10);
  assertMirror(m, { 5: prop5, 9: { x: 10, name: 'al' } });
  const e = m.entities.get(5)!;
  assert.equal(e.h1[0]! - e.h0[0]!, 64, 'x velocity');
  assert.equal(e.h1[2]! - e.h0[2]!, 10, 'angle velocity');
});

test('deltas apply pred 0/1/2 residuals, mod wrapping, created, removed', () => {
  const m = fresh();
  feed(m, snapshot10);
  const before = m.entities.get(5);
  // tick 11: prop 5 changes x (bit 0), angle (2), score (5); avatar 9 x; prop 12 created.
  const d11 = bytes([
    3, 11, 10,
    [[0, 12, 640, 640, 0, 50, 'q', 0, false, 0, 0, 0, -20]],
    [[0b100101, 5, 1, 3, -2], [1, 9, 5]],
    [],
  ]);
  assert.equal(feed(m, d11), 'applied');
  assert.equal(m.tick, 11);
  assertMirror(m, {
    5: { ...prop5, x: (6432 + 64 + 1) / 64, angle: 7 / ANGLE_SCALE /* 4090+10+3 wraps */, score: 5 },
    9: { x: 165 / 16, name: 'al' },
    12: { x: 10, y: 10, angle: 0, hp: 50, label: 'q', score: 0, alive: false, speed: 0 },
  });
  assert.equal(m.entities.get(5), before, 'entity object is stable');

  // tick 12: x of props 5 and 12 in one group (gap 7), angle of 12 runs
  // backwards through 0 (velocity -20 from its record), avatar 9 removed.
  const d12 = bytes([3, 12, 11, [], [[0b1, 5, 0, 7, 2], [0b100, 12, -1], [0b11000000, 5, false, 2.25]], [9]]);
  assert.equal(feed(m, d12), 'applied');
  assertMirror(m, {
    5: { ...prop5, x: (6497 + 65) / 64, angle: 7 / ANGLE_SCALE, score: 5, alive: false, speed: 2.25 },
    12: { x: 642 / 64, y: 10, angle: (4096 - 21) / ANGLE_SCALE, hp: 50, label: 'q', score: 0, alive: false, speed: 0 },
  });
});

test('a delta on the wrong base asks for one resync, then waits for a snapshot', () => {
  const m = fresh();
  feed(m, snapshot10);
  const notified: number[] = [];
  m.subscribe((_, c) => notified.push(c.tick));
  const want = m.toPlain();
  assert.equal(feed(m, bytes([3, 12, 11, [], [[1, 9, 5]], []])), 'resync');
  assert.equal(feed(m, bytes([3, 13, 12, [], [[1, 9, 5]], []])), 'ignored');
  // Even a delta that would fit the old tick waits: the snapshot is on its way.
  assert.equal(feed(m, bytes([3, 11, 10, [], [], []])), 'ignored');
  assert.equal(m.tick, 10);
  assertMirror(m, want as never);
  feed(m, bytes([2, 14, [[1, 9, 320, 'al']]]));
  assertMirror(m, { 9: { x: 20, name: 'al' } });
  assert.equal(feed(m, bytes([3, 15, 14, [], [], []])), 'applied');
  assert.deepEqual(notified, [14, 15], 'listeners see only applied messages, once each');
});

test('a delta naming an unknown entity is not applied at all', () => {
  const m = fresh();
  feed(m, snapshot10);
  const want = m.toPlain();
  let calls = 0;
  m.subscribe(() => calls++);
  // The avatar change is valid, the second group names a missing id 77.
  assert.equal(feed(m, bytes([3, 11, 10, [], [[1, 9, 5], [1, 77, 1]], []])), 'resync');
  assertMirror(m, want as never);
  assert.equal(calls, 0);
  assert.match(m.lastError ?? '', /unknown entity 77/);
});

test('a snapshot keeps surviving entity objects and drops the rest', () => {
  const m = fresh();
  feed(m, snapshot10);
  const avatar = m.entities.get(9);
  feed(m, bytes([2, 30, [[1, 9, 480, 'al']]]));
  assert.equal(m.entities.get(9), avatar);
  assert.equal(m.entities.has(5), false);
  assert.equal(avatar!.num('x', NaN), 30);
});

test('bad records are refused with the reason', () => {
  const m = fresh();
  assert.throws(() => feed(m, bytes([2, 1, [[0, 5, 1, 2]]])), /record has 4 elements, want 13/);
  assert.throws(() => feed(m, bytes([2, 1, [[7, 5]]])), /unknown kind 7/);
  assert.throws(() => feed(m, bytes([2, 1, [[1, 9, 1.5, 'x']]])), /want an integer/);
});

test('schema rejects what it cannot decode', () => {
  assert.throws(() => Schema.parse([{ id: 0, name: 'k', fields: [{ name: 'a', type: 'q' }] }]), /positive scale/);
  assert.throws(() => Schema.parse([{ id: 0, name: 'k', fields: [{ name: 'a', type: 'f64' }] }]), /unknown type/);
  assert.throws(() => Schema.parse([{ id: 0, name: 'k', fields: [{ name: 'a', type: 'str', pred: 2 }] }]), /pred on a str/);
});

test('schema numbers may come in any integer width (64-bit ones decode as bigint)', () => {
  const m = new Mirror();
  const wide = [{ id: 0n, name: 'k', fields: [{ name: 'a', type: 'q', scale: 651.8986469044033, mod: 4096n, pred: 2n }] }];
  m.setSchema(Schema.parse(wide));
  // x = 4095, velocity 2: the next prediction wraps past 4096 to 1.
  feed(m, bytes([2, 1, [[0, 1, 4095, 2]]]));
  feed(m, bytes([3, 2, 1, [], [[1, 1, 0]], []]));
  assertMirror(m, { 1: { a: 1 / 651.8986469044033 } });
});
