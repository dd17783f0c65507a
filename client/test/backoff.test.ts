import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, backoffCeiling } from '@tickroom/client';

test('ceilings double from 500 ms and stop at 10 s', () => {
  const got = Array.from({ length: 8 }, (_, n) => backoffCeiling(n));
  assert.deepEqual(got, [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  let prev = 0;
  for (let n = 0; n < 2000; n++) {
    const c = backoffCeiling(n);
    assert.ok(c >= prev && c <= 10000, `attempt ${n}: ceiling ${c} after ${prev}`);
    prev = c;
  }
});

test('full jitter spans [0, ceiling) with an injected random source', () => {
  const low = new Backoff({ random: () => 0 });
  assert.deepEqual([low.next(), low.next(), low.next()], [0, 0, 0]);
  const high = new Backoff({ random: () => 0.999999 });
  const got = Array.from({ length: 7 }, () => high.next());
  assert.deepEqual(got, [499, 999, 1999, 3999, 7999, 9999, 9999]);
  const mid = new Backoff({ random: () => 0.5 });
  assert.equal(mid.next(), 250);
});

test('reset starts again from the base', () => {
  const b = new Backoff({ random: () => 0.5 });
  b.next();
  b.next();
  b.next();
  assert.equal(b.attempts, 3);
  b.reset();
  assert.equal(b.next(), 250);
});
