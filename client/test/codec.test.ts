import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '@msgpack/msgpack';
import {
  ProtocolError,
  ServerTag,
  decodeServerMessage,
  encodeChat,
  encodeInput,
  encodePing,
  encodeResync,
} from '@tickroom/client';
import { bytes } from './helpers';

test('client messages encode as PROTOCOL.md lays them out', () => {
  assert.deepEqual(decode(encodeInput(7, { dx: 1, dy: -0.5 })), [1, 7, { dx: 1, dy: -0.5 }]);
  assert.deepEqual(decode(encodeChat('hi')), [2, 'hi']);
  assert.deepEqual(decode(encodeChat('psst', 3)), [2, 'psst', 3]);
  assert.deepEqual(decode(encodePing(12.5)), [3, 12.5]);
  assert.deepEqual(decode(encodeResync()), [4]);
});

test('delta groups and removed ids are un-gapped', () => {
  const msg = decodeServerMessage(bytes([3, 11, 10, [], [[0b101, 4, 10, 20, 3, 11, 21]], [3, 2, 5]]));
  assert.equal(msg.tag, ServerTag.Delta);
  if (msg.tag !== ServerTag.Delta) return;
  assert.deepEqual(msg.removed, [3, 5, 10]);
  const g = msg.changed[0]!;
  assert.equal(g.width, 2);
  assert.deepEqual(g.ids, [4, 7]);
  assert.deepEqual(g.values, [10, 20, 11, 21]);
});

test('a 64-bit mask keeps its high bits', () => {
  const mask = (1n << 63n) | (1n << 33n) | 1n;
  const msg = decodeServerMessage(bytes([3, 2, 1, [], [[mask, 1, 5, 6, 7]], []]));
  if (msg.tag !== ServerTag.Delta) return assert.fail('not a delta');
  const g = msg.changed[0]!;
  assert.equal(g.maskLo, 1);
  assert.equal(g.maskHi, (1 << 31 >>> 0) + 2);
  assert.equal(g.width, 3);
});

test('malformed messages raise ProtocolError with a reason', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['not msgpack', new Uint8Array([0xc1])],
    ['not an array', bytes({ a: 1 })],
    ['unknown tag', bytes([99])],
    ['short delta', bytes([3, 1, 0, []])],
    ['group width mismatch', bytes([3, 1, 0, [], [[0b11, 1, 5]], []])],
    ['float tick', bytes([2, 1.5, []])],
  ];
  for (const [name, data] of cases) {
    assert.throws(() => decodeServerMessage(data), ProtocolError, name);
  }
});

test('events and pong decode', () => {
  const ev = decodeServerMessage(bytes([4, { type: 'chat', from: 2, name: 'bo', text: 'yo', to: 1, tick: 9 }]));
  assert.deepEqual(ev, { tag: 4, event: { type: 'chat', from: 2, name: 'bo', text: 'yo', to: 1, tick: 9 } });
  const pong = decodeServerMessage(bytes([6, 123.25, 77]));
  assert.deepEqual(pong, { tag: 6, clientTime: 123.25, tick: 77 });
  const err = decodeServerMessage(bytes([5, 'rate_limited', 'slow down']));
  assert.deepEqual(err, { tag: 5, code: 'rate_limited', message: 'slow down' });
});
