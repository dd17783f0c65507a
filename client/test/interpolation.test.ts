import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnapshotBuffer, TickClock, lerpAngle } from '@tickroom/client';

const close = (got: number, want: number, msg: string): void =>
  assert.ok(Math.abs(got - want) < 1e-9, `${msg}: got ${got}, want ${want}`);

function push(buf: SnapshotBuffer, tick: number, ents: Array<[number, number, number, number]>): void {
  buf.begin(tick);
  for (const [id, x, y, a] of ents) buf.add(id, x, y, a);
  buf.end();
}

test('samples linearly between the ticks around the render time', () => {
  const buf = new SnapshotBuffer(8, 4);
  push(buf, 10, [[1, 0, 0, 0], [2, 100, 100, NaN]]);
  push(buf, 11, [[1, 10, 20, 1], [2, 100, 50, NaN]]);
  const f = buf.sample(10.25);
  assert.equal(f.count, 2);
  close(f.x[0]!, 2.5, 'x');
  close(f.y[0]!, 5, 'y');
  close(f.angle[0]!, 0.25, 'angle');
  close(f.y[1]!, 87.5, 'y of 2');
  assert.ok(Number.isNaN(f.angle[1]!), 'no angle stays NaN');
});

test('clamps to the oldest and newest ticks held (no extrapolation)', () => {
  const buf = new SnapshotBuffer(4, 4);
  push(buf, 5, [[1, 0, 0, 0]]);
  push(buf, 6, [[1, 6, 0, 0]]);
  close(buf.sample(100).x[0]!, 6, 'after newest');
  close(buf.sample(-3).x[0]!, 0, 'before oldest');
});

test('angles take the short way around', () => {
  close(lerpAngle(6.2, 0.1, 0.5), 6.2 + (0.1 + 2 * Math.PI - 6.2) / 2, 'across 0 upwards');
  close(lerpAngle(0.1, 6.2, 0.5), 0.1 - (0.1 + 2 * Math.PI - 6.2) / 2, 'across 0 downwards');
  close(lerpAngle(1, 2, 0.5), 1.5, 'plain');
  const buf = new SnapshotBuffer(4, 4);
  push(buf, 1, [[1, 0, 0, 2 * Math.PI - 0.1]]);
  push(buf, 2, [[1, 0, 0, 0.1]]);
  const a = buf.sample(1.5).angle[0]!;
  close(Math.cos(a), 1, 'midway through 0 is 0 (cos)');
});

test('the buffer is bounded: old ticks are overwritten', () => {
  const buf = new SnapshotBuffer(4, 2);
  for (let t = 1; t <= 100; t++) push(buf, t, [[1, t, 0, 0]]);
  assert.equal(buf.length, 4);
  assert.equal(buf.oldestTick, 97);
  assert.equal(buf.newestTick, 100);
  close(buf.sample(98.5).x[0]!, 98.5, 'x');
});

test('entities appear at their newest position and vanish when removed; ids may arrive unsorted', () => {
  const buf = new SnapshotBuffer(4, 1); // capacity 1 forces growth on push
  push(buf, 1, [[3, 30, 0, 0], [1, 10, 0, 0], [2, 20, 0, 0]]);
  push(buf, 2, [[4, 400, 0, 0], [1, 11, 0, 0], [3, 31, 0, 0]]);
  const f = buf.sample(1.5);
  const got = Array.from({ length: f.count }, (_, i) => [f.ids[i], f.x[i]]);
  assert.deepEqual(got, [[1, 10.5], [3, 30.5], [4, 400]]);
});

test('sample does not allocate new arrays once sized', () => {
  const buf = new SnapshotBuffer(4, 8);
  push(buf, 1, [[1, 0, 0, 0]]);
  push(buf, 2, [[1, 1, 0, 0]]);
  const f = buf.sample(1.5);
  const xs = f.x;
  for (let i = 0; i < 100; i++) buf.sample(1 + i / 100);
  assert.equal(buf.sample(1.5), f);
  assert.equal(f.x, xs);
});

test('a tick older than the newest clears the buffer (new state stream)', () => {
  const buf = new SnapshotBuffer(4, 2);
  push(buf, 50, [[1, 50, 0, 0]]);
  push(buf, 3, [[1, 3, 0, 0]]);
  assert.equal(buf.length, 1);
  close(buf.sample(50).x[0]!, 3, 'x');
});

test('TickClock smooths jitter and follows jumps', () => {
  const c = new TickClock(50);
  c.observe(100, 1000);
  close(c.tickAt(1000), 100, 'first');
  close(c.tickAt(1025), 100.5, 'half a tick later');
  c.observe(101, 1080); // 30 ms late: only a tenth of that moves the estimate
  // The estimate moves 3 of the 30 ms, so tick 101 is taken to have been due 27 ms ago.
  close(c.tickAt(1080), 101 + 27 / 50, 'jitter damped');
  c.observe(500, 99999); // a stall: jump
  close(c.tickAt(99999), 500, 'jump');
});

test('cubic: constant velocity is drawn exactly as the straight line', () => {
  const buf = new SnapshotBuffer(8, 2);
  buf.cubic = true;
  for (let k = 0; k < 6; k++) push(buf, 10 + k, [[1, 6 * k, 100 - 3 * k, NaN]]);
  for (const r of [10.5, 11, 11.25, 12.7, 13.1, 14.9]) {
    const f = buf.sample(r);
    close(f.x[0]!, 6 * (r - 10), `x at ${r}`);
    close(f.y[0]!, 100 - 3 * (r - 10), `y at ${r}`);
  }
});

test('cubic: a reversal has no kink at its tick, and stays near the straight lines', () => {
  const xs = [0, 6, 12, 18, 24, 18, 12, 6, 0];
  const lin = new SnapshotBuffer(16, 2);
  const cub = new SnapshotBuffer(16, 2);
  cub.cubic = true;
  xs.forEach((x, k) => {
    push(lin, k, [[1, x, 0, NaN]]);
    push(cub, k, [[1, x, 0, NaN]]);
  });
  const e = 1e-4;
  const slope = (b: SnapshotBuffer, r: number): number => (b.sample(r + e).x[0]! - b.sample(r - e).x[0]!) / (2 * e);
  // Either side of tick 4 (the turn): linear goes +6 then -6 a tick; the curve goes through 0 smoothly.
  assert.ok(Math.abs(slope(lin, 4 - 0.01) - 6) < 1e-6 && Math.abs(slope(lin, 4 + 0.01) + 6) < 1e-6, 'linear kinks');
  assert.ok(Math.abs(slope(cub, 4 - 0.001) - slope(cub, 4 + 0.001)) < 0.1, `cubic slope ${slope(cub, 3.999)} then ${slope(cub, 4.001)}`);
  for (let r = 0; r <= 8; r += 0.05) {
    const d = Math.abs(cub.sample(r).x[0]! - lin.sample(r).x[0]!);
    assert.ok(d <= 1, `at ${r} the curve is ${d} from the line`);
  }
});

test('cubic: monotone between ticks: no dip back when motion starts, no overshoot when it stops', () => {
  // Still, then walking right 6 a tick, then still again; y walks down then stops.
  const xs = [0, 0, 0, 6, 12, 18, 24, 24, 24];
  const ys = [50, 50, 50, 47, 44, 41, 41, 41, 41];
  const buf = new SnapshotBuffer(16, 2);
  buf.cubic = true;
  xs.forEach((x, k) => push(buf, k, [[1, x, ys[k]!, NaN]]));
  let px = -Infinity;
  let py = Infinity;
  for (let r = 0; r <= 8; r += 0.01) {
    const f = buf.sample(r);
    const x = f.x[0]!;
    const y = f.y[0]!;
    assert.ok(x >= px - 1e-9, `x went back at ${r}: ${px} -> ${x}`);
    assert.ok(y <= py + 1e-9, `y went back at ${r}: ${py} -> ${y}`);
    assert.ok(x >= -1e-9 && x <= 24 + 1e-9 && y >= 41 - 1e-9 && y <= 50 + 1e-9, `outside the path at ${r}: ${x}, ${y}`);
    px = x;
    py = y;
  }
  // Still exact at constant velocity in the middle.
  close(buf.sample(4.5).x[0]!, 15, 'x mid-walk');
});

test('cubic: a teleport stays a straight line', () => {
  const buf = new SnapshotBuffer(8, 2);
  buf.cubic = true;
  push(buf, 1, [[1, 0, 0, NaN]]);
  push(buf, 2, [[1, 6, 0, NaN]]);
  push(buf, 3, [[1, 500, 0, NaN]]);
  push(buf, 4, [[1, 506, 0, NaN]]);
  close(buf.sample(2.5).x[0]!, 253, 'linear across the teleport');
});

test('dropLate: a late tick within the held range is dropped, one older than everything clears', () => {
  const buf = new SnapshotBuffer(4, 2);
  buf.dropLate = true;
  push(buf, 10, [[1, 0, 0, NaN]]);
  push(buf, 12, [[1, 12, 0, NaN]]);
  push(buf, 11, [[1, 999, 0, NaN]]); // reordered on the way
  assert.equal(buf.newestTick, 12);
  assert.equal(buf.length, 2);
  close(buf.sample(11).x[0]!, 6, 'the late tick was not used');
  push(buf, 2, [[1, 5, 0, NaN]]); // the state went back
  assert.equal(buf.length, 1);
  assert.equal(buf.newestTick, 2);
});
