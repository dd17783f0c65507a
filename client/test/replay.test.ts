// The Replay model (packages/client/src/replay/player.ts): seeking to any tick through the
// nearest keyframe gives exactly the state a client that received every
// message saw at that tick (and the simulated truth); playback advances at
// tickRate * speed; members and chat are as they were at the tick; a damaged
// tape replays up to its damage. Ends with the seek-time measurement on a
// synthetic one-hour arena-bench tape (logged, not asserted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mirror, Schema, decodeServerMessage, type DeltaMessage, type SnapshotMessage } from '@tickroom/client';
import { Replay, ReplayError, readTape } from '@tickroom/client';
import { assertMirror, bytes } from './helpers';
import { BENCH_KINDS, BenchScene, wireKinds } from './sim-world';
import { TapeWriter, encodeOps } from './tape-writer';

const TICK_RATE = 20;

interface Recorded {
  tape: Uint8Array;
  /** The simulated state after each tick (index = tick). */
  truth: Array<Record<string, Record<string, number | string>>>;
  offsets: number[];
}

/**
 * A room recorded for `ticks` ticks with a keyframe every `every`: players
 * join (ops and events), chat, one leaves, props move.
 */
function record(ticks: number, every: number, props = 12): Recorded {
  const scene = new BenchScene(props);
  const w = new TapeWriter({ schema: wireKinds(BENCH_KINDS), type: 'arena-bench', tickRate: TICK_RATE });
  const truth = [scene.world.plain()];
  w.keyframe(0, scene.world.snapshot());
  const players = new Map<number, number>(); // member -> entity
  for (let t = 1; t <= ticks; t++) {
    const ops: Array<[number, number, string, number, Uint8Array | null]> = [];
    const events: Uint8Array[] = [];
    const member = players.size + 1;
    if (t === 3 || t === 40 || t === 41) {
      const name = ['ann', 'ben', 'cy'][players.size]!;
      players.set(member, scene.addPlayer(name, 1000 + member));
      ops.push([1, member, name, 0, null]);
      events.push(bytes([4, { type: 'join', member, name, entity: 1000 + member }]));
    }
    if (t === 120) {
      scene.removePlayer(players.get(2)!);
      players.delete(2);
      ops.push([2, 2, '', 0, null]);
      events.push(bytes([4, { type: 'leave', member: 2, name: 'ben', reason: 'left' }]));
    }
    if (t % 5 === 0) ops.push([3, 1, '', t, bytes({ dx: 1, dy: 0 })]);
    if (t === 50 || t === 90) events.push(bytes([4, { type: 'chat', from: 1, name: 'ann', text: `hello at ${t}`, tick: t }]));
    if (t === 95) events.push(bytes([4, { type: 'offline', member: 3, name: 'cy' }]));
    const delta = scene.step();
    w.tick(t, delta, ops.length > 0 ? encodeOps(ops) : undefined);
    if (t % every === 0) w.keyframe(t, scene.world.snapshot());
    for (const e of events) w.event(t, e);
    truth.push(scene.world.plain());
  }
  w.end();
  return { tape: w.bytes(), truth, offsets: w.offsets };
}

test('seek to every tick equals the state of a client that received every message', () => {
  const rec = record(260, 25);
  const replay = Replay.fromBytes(rec.tape);
  assert.equal(replay.firstTick, 0);
  assert.equal(replay.lastTick, 260);
  assert.equal(replay.keyframeCount, 11);

  // The live client: snapshot at 0, then every delta in order.
  const live = new Mirror();
  live.setSchema(Schema.parse(wireKinds(BENCH_KINDS)));
  const tape = readTape(rec.tape);
  const byTick = new Map<number, DeltaMessage>();
  for (const r of tape.records) {
    const msg = decodeServerMessage(tape.message(r));
    if (r.kind === 1 && r.tick === 0) live.applySnapshot(msg as SnapshotMessage);
    if ((r.kind === 2 || r.kind === 3) && r.msgEnd > r.msgStart) byTick.set(r.tick, msg as DeltaMessage);
  }
  // Forwards, backwards and jumping around all land on the same state.
  const order = [...Array(261).keys()];
  const backwards = [...order].reverse();
  let seed = 1;
  const shuffled = [...order].sort(() => ((seed = (seed * 16807) % 2147483647) & 1 ? 1 : -1));
  const liveAt: Array<Record<string, Record<string, unknown>>> = [live.toPlain()];
  for (let t = 1; t <= 260; t++) {
    assert.equal(live.applyDelta(byTick.get(t)!), 'applied', `live delta ${t}`);
    liveAt.push(live.toPlain());
  }
  for (const [name, ticks] of [['forwards', order], ['backwards', backwards], ['shuffled', shuffled]] as const) {
    for (const t of ticks) {
      assert.equal(replay.seek(t), t, `${name}: reached ${t}`);
      assertMirror(replay.mirror, liveAt[t]!, 1e-9, `${name} tick ${t} vs live`);
      assertMirror(replay.mirror, rec.truth[t]!, 1e-9, `${name} tick ${t} vs truth`);
    }
  }
  assert.equal(replay.error, null);
});

test('seek clamps to the recording; step moves one tick and pauses', () => {
  const replay = Replay.fromBytes(record(60, 25).tape);
  assert.equal(replay.seek(-5), 0);
  assert.equal(replay.seek(1e9), 60);
  assert.equal(replay.seek(30.7), 30);
  replay.play();
  assert.equal(replay.step(1), 31);
  assert.equal(replay.playing, false);
  assert.equal(replay.step(-2), 29);
});

test('playback advances at tickRate * speed and stops at the end', () => {
  const replay = Replay.fromBytes(record(100, 25).tape);
  let rebuilt = 0;
  replay.onRebuild = () => rebuilt++;
  replay.play();
  assert.ok(replay.update(500), 'ticks advance');
  assert.equal(replay.tick, 10, '0.5 s at 20 Hz');
  replay.setSpeed(4);
  for (let i = 0; i < 10; i++) replay.update(25); // 0.25 s at 4x
  assert.equal(replay.tick, 30);
  assert.equal(rebuilt, 0, 'playing steps forward without reloading keyframes');
  replay.setSpeed(0.25);
  replay.update(1000);
  assert.equal(replay.tick, 35);
  replay.setSpeed(100);
  assert.equal(replay.clock.speed, 8, 'speed clamps to 8x');
  replay.pause();
  assert.equal(replay.update(1000), false, 'paused: no change');
  replay.play();
  replay.update(10_000);
  assert.equal(replay.tick, 100, 'stops at the last tick');
  assert.equal(replay.playing, false);
  replay.play();
  assert.equal(replay.tick, 0, 'play at the end starts over');
  assert.equal(replay.playing, true);
  assert.equal(rebuilt, 2, 'a jump of 65 ticks and the restart went through keyframes');
});

test('members and chat as they were at the tick', () => {
  const replay = Replay.fromBytes(record(150, 25).tape);
  const names = (t: number): string[] => replay.history.membersAt(t).members.map((m) => `${m.member}:${m.name}${m.online ? '' : ' (offline)'}`);
  assert.deepEqual(names(2), []);
  assert.deepEqual(names(3), ['1:ann']);
  assert.deepEqual(names(41), ['1:ann', '2:ben', '3:cy']);
  assert.deepEqual(names(100), ['1:ann', '2:ben', '3:cy (offline)']);
  assert.deepEqual(names(130), ['1:ann', '3:cy (offline)']);
  assert.deepEqual(names(10), ['1:ann'], 'going back in time');
  const v = replay.history.membersAt(10).version;
  assert.equal(replay.history.membersAt(20).version, v, 'no change, same version');
  assert.deepEqual(replay.history.memberNames(), ['ann', 'ben', 'cy']);
  const chatUpTo = (t: number): string[] =>
    replay.history.log.slice(0, replay.history.logCount(t)).flatMap((e) => (e.kind === 'chat' ? [e.chat.text] : []));
  assert.deepEqual(chatUpTo(49), []);
  assert.deepEqual(chatUpTo(50), ['hello at 50']);
  assert.deepEqual(chatUpTo(150), ['hello at 50', 'hello at 90']);
  const lines = replay.history.log.map((e) => `${e.tick} ${e.kind}`);
  assert.deepEqual(lines, ['3 join', '40 join', '41 join', '50 chat', '90 chat', '120 leave']);
});

test('a damaged tape replays up to the damage', () => {
  const rec = record(200, 25);
  // Corrupt a byte in the frame of tick 130's delta: everything from there on is gone.
  const tape = readTape(rec.tape);
  const victim = tape.records.find((r) => r.tick === 130 && (r.kind === 2 || r.kind === 3))!;
  const bad = rec.tape.slice();
  bad[victim.offset + victim.size - 1] ^= 0x55;
  const replay = Replay.fromBytes(bad);
  assert.ok(replay.tape.damage);
  assert.equal(replay.tape.damage.offset, victim.offset);
  assert.equal(replay.lastTick, 129);
  assert.equal(replay.seek(500), 129);
  assertMirror(replay.mirror, rec.truth[129]!, 1e-9, 'tick 129');
  // Cut short in the middle of a frame, like a download that stopped.
  const cut = Replay.fromBytes(rec.tape.slice(0, victim.offset + 3));
  assert.equal(cut.tape.damage?.truncated, true);
  assert.equal(cut.lastTick, 129);
  // Cut before the first keyframe: nothing to show.
  assert.throws(() => Replay.fromBytes(rec.tape.slice(0, rec.offsets[0]! + 4)), ReplayError);
});

test('seek time on a one-hour arena-bench tape (measured, not asserted)', () => {
  const hour = 3600 * TICK_RATE;
  const every = 5 * TICK_RATE;
  const t0 = performance.now();
  const scene = new BenchScene(100);
  for (let p = 0; p < 8; p++) scene.addPlayer(`player${p}`);
  const w = new TapeWriter({ schema: wireKinds(BENCH_KINDS), type: 'arena-bench', tickRate: TICK_RATE });
  scene.world.delta(); // the players' creation, folded into tick 0's state
  scene.world.tick = 0;
  w.keyframe(0, scene.world.snapshot());
  // The load generator's inputs: float64 dx, dy (25 bytes) from every player every tick.
  const input = bytes({ dx: 0.5000001, dy: -0.5000001 });
  for (let t = 1; t <= hour; t++) {
    const delta = scene.step();
    w.tick(t, delta, encodeOps(Array.from({ length: 8 }, (_, k) => [3, k + 1, '', t, input])));
    if (t % every === 0) w.keyframe(t, scene.world.snapshot());
  }
  w.end();
  const data = w.bytes();
  const built = performance.now();
  const replay = Replay.fromBytes(data);
  const loaded = performance.now();
  assert.equal(replay.lastTick, hour);
  assert.equal(replay.mirror.entities.size, 108);
  const avg = (data.length - replay.tape.dataStart) / hour;

  // Worst case: the tick just before a keyframe (every-1 deltas after the previous one).
  const times: number[] = [];
  let seed = 42;
  for (let i = 0; i < 200; i++) {
    seed = (seed * 16807) % 2147483647;
    const k = seed % (hour / every);
    const t = k * every + every - 1;
    const s = performance.now();
    assert.equal(replay.seek(t), t);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const p = (q: number): string => times[Math.floor(q * (times.length - 1))]!.toFixed(2);
  console.log(
    `# one-hour arena-bench tape: ${(data.length / 1e6).toFixed(1)} MB, ${replay.tape.records.length} records, ` +
      `${avg.toFixed(0)} bytes a tick; built in ${((built - t0) / 1000).toFixed(1)} s; read+index ${(loaded - built).toFixed(0)} ms; ` +
      `seek to a tick ${every - 1} deltas after its keyframe: median ${p(0.5)} ms, p90 ${p(0.9)} ms, max ${p(1)} ms`,
  );
});
