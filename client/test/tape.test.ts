// The tape reader (packages/client/src/replay/tape.ts) against docs/TAPE.md: the worked
// examples byte for byte, tick codes, and damage: a tape cut or corrupted
// anywhere never throws past the header, returns only records before the
// damage, and says where it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { RecordKind, TapeFormatError, crc32c, decodeOps, readTape, scanMembership, type Tape } from '@tickroom/client';
import { bytes, hexToBytes } from './helpers';
import { TapeWriter, encodeOps } from './tape-writer';

const enc = new TextEncoder();
const SCHEMA = [{ id: 0, name: 'dot', fields: [{ name: 'x', type: 'u8' }] }];

test('crc32c: the check value, the TAPE.md example frames, and continuation', () => {
  assert.equal(crc32c(enc.encode('123456789')), 0xe3069283);
  // A quiet delta at tick 10: CRC a9 06 5e 0f (little-endian) over the 9 bytes before it.
  assert.equal(crc32c(hexToBytes('0a07960' + '30a09909090')), 0x0f5e06a9);
  const ops = hexToBytes('0b191191950301a005c40982a2647801a264790096030b0a909090');
  assert.equal(crc32c(ops), 0x514e14bc);
  // Any split continues to the same checksum; slicing-by-8 equals byte at a time.
  const data = new Uint8Array(1000).map((_, i) => (i * 131 + 7) & 255);
  const whole = crc32c(data);
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
    assert.equal(crc32c(data, cut, data.length, crc32c(data, 0, cut)), whole, `split at ${cut}`);
  }
  let slow = ~0 >>> 0;
  for (const b of data) {
    slow ^= b;
    for (let k = 0; k < 8; k++) slow = slow & 1 ? (slow >>> 1) ^ 0x82f63b78 : slow >>> 1;
  }
  assert.equal(whole, ~slow >>> 0);
});

test('the TAPE.md example frames read back as written', () => {
  const w = new TapeWriter({ schema: SCHEMA, startTick: 9 });
  const headerSize = w.bytes().length;
  w.raw(hexToBytes('0a07960' + '30a09909090a9065e0f'));
  w.raw(hexToBytes('0b191191950301a005c40982a2647801a264790096030b0a909090bc144e51'));
  const tape = readTape(w.bytes());
  assert.equal(tape.damage, null);
  assert.equal(tape.footer, null, 'no end record: in progress');
  assert.equal(tape.clean, false);
  assert.equal(tape.records.length, 2);
  const [d, o] = tape.records;
  assert.deepEqual([d!.kind, d!.tick, d!.offset, d!.size], [RecordKind.Delta, 10, headerSize, 13]);
  assert.deepEqual([...tape.message(d!)], [0x96, 0x03, 0x0a, 0x09, 0x90, 0x90, 0x90]);
  assert.deepEqual([o!.kind, o!.tick], [RecordKind.Ops, 11]);
  assert.deepEqual([...tape.message(o!)], [0x96, 0x03, 0x0b, 0x0a, 0x90, 0x90, 0x90]);
  assert.deepEqual(decodeOps(tape.ops(o!)), [{ kind: 3, member: 1, name: '', seq: 5, payload: bytes({ dx: 1, dy: 0 }) }]);
  // Our writer produces exactly these bytes from the same records.
  const again = new TapeWriter({ schema: SCHEMA, startTick: 9 })
    .tick(10, hexToBytes('96030a09909090'))
    .tick(11, hexToBytes('96030b0a909090'), hexToBytes('91950301a005c40982a2647801a2647900'))
    .bytes();
  assert.deepEqual(again, w.bytes());
});

test('header fields, tick codes (relative, absolute, backwards), events and the end record', () => {
  const w = new TapeWriter({ schema: SCHEMA, roomId: 'r1', type: 'arena', tickRate: 30, startTick: 0, startedAt: 1_712_345_678_901, options: { width: 800 } });
  w.keyframe(0, bytes([2, 0, []]))
    .tick(1, bytes([3, 1, 0, [], [], []]))
    .event(1, bytes([4, { type: 'chat', from: 1, name: 'al', text: 'hi', tick: 1 }]))
    .tick(200, bytes([3, 200, 199, [], [], []])) // a jump of more than 30: absolute
    .keyframe(200, bytes([2, 200, []]))
    .tick(150, bytes([3, 150, 149, [], [], []])) // backwards: absolute
    .end();
  const b = w.bytes();
  const tape = readTape(b);
  assert.equal(tape.damage, null);
  assert.ok(tape.clean);
  assert.deepEqual(tape.footer, { records: 6, endedAt: 1_700_000_100_000 });
  assert.deepEqual(
    tape.records.map((r) => [r.kind, r.tick]),
    [[1, 0], [2, 1], [4, 1], [2, 200], [1, 200], [2, 150]],
  );
  assert.equal(b[w.offsets[4]!], RecordKind.Keyframe | (31 << 3), 'keyframes carry an absolute tick');
  assert.equal(b[w.offsets[1]!], RecordKind.Delta | (1 << 3));
  assert.equal(b[w.offsets[2]!], RecordKind.Event, 'tick code 0: same tick');
  const h = tape.header;
  assert.deepEqual([h.roomId, h.type, h.tickRate, h.startTick, h.startedAt, h.seed], ['r1', 'arena', 30, 0, 1_712_345_678_901, 7]);
  assert.deepEqual(h.options, { width: 800 });
  assert.deepEqual(h.schema, SCHEMA);
  assert.equal(tape.validSize, b.length);
});

function sampleTape(): { bytes: Uint8Array; offsets: number[]; headerSize: number } {
  const w = new TapeWriter({ schema: SCHEMA });
  const headerSize = w.bytes().length;
  w.keyframe(0, bytes([2, 0, [[0, 1, 5]]]));
  for (let t = 1; t <= 40; t++) {
    const delta = bytes([3, t, t - 1, [], [[1, 1, t % 7]], []]);
    if (t % 9 === 0) w.tick(t, delta, encodeOps([[3, 1, '', t, bytes({ dx: 1 })]]));
    else w.tick(t, delta);
    if (t % 10 === 0) w.keyframe(t, bytes([2, t, [[0, 1, t % 7]]]));
    if (t % 13 === 0) w.event(t, bytes([4, { type: 'chat', from: 1, name: 'al', text: `t${t}`, tick: t }]));
  }
  w.end();
  return { bytes: w.bytes(), offsets: w.offsets, headerSize };
}

/** Records as comparable tuples. */
function shape(t: Tape): Array<[number, number, number]> {
  return t.records.map((r) => [r.kind, r.tick, r.offset]);
}

test('a tape cut at every offset: records before the cut, truncated damage inside a frame', () => {
  const { bytes: full, offsets, headerSize } = sampleTape();
  const all = shape(readTape(full));
  const frameStarts = new Set([...offsets, full.length]);
  for (let n = 0; n < full.length; n++) {
    const cut = full.slice(0, n);
    if (n < headerSize) {
      assert.throws(() => readTape(cut), TapeFormatError, `cut at ${n} (header)`);
      continue;
    }
    const tape = readTape(cut);
    const got = shape(tape);
    assert.deepEqual(got, all.slice(0, got.length), `cut at ${n}: a prefix of the records`);
    if (frameStarts.has(n)) {
      assert.equal(tape.damage, null, `cut at ${n}: a frame boundary is not damage`);
      assert.equal(tape.validSize, n);
    } else {
      assert.ok(tape.damage, `cut at ${n}: damage reported`);
      assert.equal(tape.damage.truncated, true, `cut at ${n}: ${tape.damage.reason}`);
      assert.equal(tape.damage.offset, [...offsets].reverse().find((o) => o < n), `cut at ${n}: the frame's offset`);
      assert.equal(tape.damage.records, got.length);
      assert.match(tape.damage.reason, /file ends inside the frame/);
    }
    assert.equal(tape.footer, null);
  }
});

test('a byte corrupted anywhere after the header: no throw, a prefix, damage at or before it', () => {
  const { bytes: full, offsets, headerSize } = sampleTape();
  const all = shape(readTape(full));
  for (let i = headerSize; i < full.length; i++) {
    for (const flip of [0x01, 0x80, 0xff]) {
      const bad = full.slice();
      bad[i] ^= flip;
      const tape = readTape(bad);
      const got = shape(tape);
      assert.deepEqual(got, all.slice(0, got.length), `byte ${i} ^ ${flip}: a prefix`);
      assert.ok(tape.damage, `byte ${i} ^ ${flip}: damage reported`);
      const frame = [...offsets].reverse().find((o) => o <= i)!;
      assert.equal(tape.damage.offset, frame, `byte ${i} ^ ${flip}: damage at its frame (${tape.damage.reason})`);
    }
  }
});

test('corrupt frames say why; data after the end record is damage', () => {
  const base = new TapeWriter({ schema: SCHEMA }).keyframe(0, bytes([2, 0, []]));
  const at = base.bytes().length;
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['bad kind', new TapeWriter({ schema: SCHEMA }).frame(7, 1, new Uint8Array([1])).bytes(), /bad record kind 7/],
    ['zero kind', new TapeWriter({ schema: SCHEMA }).raw(new Uint8Array([0, 0, 0, 0, 0, 0])).bytes(), /bad record kind 0/],
    ['long varint', new TapeWriter({ schema: SCHEMA }).raw(new Uint8Array([0xfa, ...new Array(10).fill(0xff), 1])).bytes(), /uvarint overflows/],
    ['over the limit', new TapeWriter({ schema: SCHEMA }).raw(new Uint8Array([0x02, 0x80, 0x80, 0x80, 0x40])).bytes(), /over the limit/],
    ['ops length', new TapeWriter({ schema: SCHEMA }).frame(3, 1, new Uint8Array([5, 1, 2])).bytes(), /ops length does not fit/],
    ['after end', base.end().raw(new Uint8Array([1, 2, 3])).bytes(), /data after the end record/],
  ];
  for (const [name, b, want] of cases) {
    const tape = readTape(b);
    assert.ok(tape.damage, name);
    assert.match(tape.damage.reason, want, name);
    assert.equal(tape.damage.truncated, false, name);
  }
  const after = readTape(cases[5]![1]);
  assert.equal(after.records.length, 1);
  assert.ok(after.footer, 'the end record itself was read');
  assert.equal(after.damage!.offset, cases[5]![1].length - 3);
  assert.ok(at > 0);
});

test('headers that cannot be read are TapeFormatErrors', () => {
  const good = new TapeWriter({ schema: SCHEMA }).bytes();
  const reason = (b: Uint8Array): string => {
    try {
      readTape(b);
    } catch (err) {
      assert.ok(err instanceof TapeFormatError);
      return err.reason;
    }
    return 'no error';
  };
  assert.match(reason(enc.encode('<!doctype html>')), /not a tape/);
  assert.match(reason(new Uint8Array()), /empty/);
  const v3 = good.slice();
  v3[8] = 3;
  assert.match(reason(v3), /version 3/);
  const crc = good.slice();
  crc[20] ^= 1;
  assert.match(reason(crc), /header checksum mismatch/);
  assert.match(reason(good.slice(0, good.length - 1)), /ends inside the header/);
});

test('ops: join and leave found without decoding inputs, other forms decoded', () => {
  const seen: string[] = [];
  const sink = { join: (m: number, n: string) => seen.push(`+${m}:${n}`), leave: (m: number) => seen.push(`-${m}`) };
  const big = new Uint8Array(300).fill(7);
  scanMembership(
    encodeOps([
      [1, 1, 'alice', 0, null],
      [3, 1, '', 70000, big],
      [1, 300, 'bob with a long name that is over 31 bytes', 0, null],
      [2, 1, '', 0, null],
    ]),
    sink,
  );
  assert.deepEqual(seen, ['+1:alice', '+300:bob with a long name that is over 31 bytes', '-1']);
  seen.length = 0;
  // The struct's map form.
  scanMembership(bytes([{ k: 1, m: 2, n: 'carol' }, { k: 3, m: 2, s: 1, p: new Uint8Array([0x80]) }]), sink);
  assert.deepEqual(seen, ['+2:carol']);
  seen.length = 0;
  scanMembership(new Uint8Array([0xc1]), sink);
  assert.deepEqual(seen, [], 'garbage: nothing');
});

// The lead commits a tape written by the Go writer with its records as JSON;
// until then this test has nothing to read.
const fixture = new URL('../../rooms/tape/testdata/sample.tape', import.meta.url);
const expected = new URL('../../rooms/tape/testdata/sample.json', import.meta.url);
test('a tape written by the Go writer (rooms/tape/testdata/sample.tape)', { skip: !existsSync(fixture) && 'fixture not committed yet' }, () => {
  const tape = readTape(readFileSync(fixture));
  const want = JSON.parse(readFileSync(expected, 'utf8')) as {
    records: Array<{ kind: string | number; tick: number; offset?: number }>;
    damage?: unknown;
  };
  assert.equal(tape.damage, null);
  assert.equal(tape.records.length, want.records.filter((r) => r.kind !== 'end' && r.kind !== 5).length);
  want.records
    .filter((r) => r.kind !== 'end' && r.kind !== 5)
    .forEach((w, i) => {
      const r = tape.records[i]!;
      assert.equal(r.tick, w.tick, `record ${i} tick`);
      if (w.offset !== undefined) assert.equal(r.offset, w.offset, `record ${i} offset`);
    });
});
