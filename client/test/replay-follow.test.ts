// The replay page's view follower (client/pages/replay-follow.ts) against a
// tape written by the Go writer: rooms/tape/testdata/views.tape, whose
// records (views decoded) are in views.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RecordKind, readTape } from '@tickroom/client';
import { ViewTimeline, readViews } from '../pages/replay-follow';

const fixture = new URL('../../rooms/tape/testdata/views.tape', import.meta.url);
const expected = new URL('../../rooms/tape/testdata/views.json', import.meta.url);

interface ViewJSON {
  member: number;
  entity: number;
  groups: number[] | null;
}

test('views records read as the Go writer wrote them', () => {
  const tape = readTape(readFileSync(fixture));
  const want = JSON.parse(readFileSync(expected, 'utf8')) as {
    records: Array<{ kind: string; tick: number; offset: number; full?: boolean; views?: ViewJSON[] }>;
  };
  assert.equal(tape.header.version, 2);
  assert.equal(tape.damage, null);
  const views = want.records.filter((r) => r.kind === 'views');
  const got = tape.records.filter((r) => r.kind === RecordKind.Views);
  assert.equal(got.length, views.length);
  assert.ok(views.length >= 5, 'the fixture holds views records');
  for (let i = 0; i < got.length; i++) {
    const r = got[i]!;
    const w = views[i]!;
    assert.equal(r.tick, w.tick);
    assert.equal(r.offset, w.offset);
    const v = readViews(tape.message(r));
    assert.ok(v !== null, `record at tick ${r.tick} reads`);
    assert.equal(v.full, w.full);
    assert.deepEqual(
      v.views.map(([m, x]) => ({ member: m, entity: x === null ? 0 : Math.max(0, x.entity), groups: x === null ? null : [...x.groups].filter((g) => g !== 0).sort((a, b) => a - b) })),
      w.views ?? [], // Go's JSON leaves an empty list out
    );
  }
});

test('the view in effect at any tick: changes, a leave, a full record', () => {
  const tape = readTape(readFileSync(fixture));
  const t = ViewTimeline.fromTape(tape);
  assert.ok(t !== null);
  assert.deepEqual(t.members, [1, 2]);
  const groups = (m: number, tick: number): number[] | null => {
    const v = t.viewAt(m, tick);
    return v === null ? null : [...v.groups].sort((a, b) => a - b);
  };
  assert.equal(groups(1, 0), null, 'not joined yet');
  assert.deepEqual(groups(1, 1), [0, 3, 4, 300]);
  assert.deepEqual(groups(1, 2), [0, 3, 4, 300]);
  assert.deepEqual(groups(1, 3), [0, 4, 300, 70000]);
  assert.deepEqual(groups(1, 99), [0, 4, 300, 70000]);
  assert.equal(t.viewAt(1, 3)!.entity, 5);
  assert.deepEqual(groups(2, 2), [0], 'a view of Everyone only');
  assert.deepEqual(groups(2, 3), [0]);
  assert.equal(groups(2, 4), null, 'left at tick 4');
  assert.equal(groups(2, 5), null);
});

test('a tape without views records has no timeline; bad records are refused', () => {
  const plain = readTape(readFileSync(new URL('../../rooms/tape/testdata/sample.tape', import.meta.url)));
  assert.equal(plain.header.version, 1);
  assert.equal(ViewTimeline.fromTape(plain), null);
  assert.equal(readViews(new Uint8Array([0x92, 0xc3])), null, 'cut short');
  assert.equal(readViews(new Uint8Array([0x92, 0x01, 0x90])), null, 'full is not a bool');
  assert.equal(readViews(new Uint8Array([0x92, 0xc2, 0x91, 0x93, 0x01, 0xc0, 0x91, 0xa1, 0x61])), null, 'a group that is a string');
  assert.equal(readViews(new Uint8Array([0x92, 0xc2, 0x90, 0x00])), null, 'bytes after the record');
  assert.deepEqual(readViews(new Uint8Array([0x92, 0xc2, 0x91, 0x93, 0x01, 0xc0, 0xc0])), { full: false, views: [[1, null]] });
});
