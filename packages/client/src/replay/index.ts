/**
 * replay: recordings (docs/TAPE.md) in the browser, with no DOM, so
 * the replay page, the unit tests and the end-to-end tests (in Node) share it.
 *
 * - crc32c    crc32c(bytes, start, end, crc): the tape's frame checksum.
 * - tape      readTape(bytes) -> Tape: header, records (kind, tick, byte
 *             ranges), damage (where and why reading stopped), footer.
 * - ops       decodeOps, scanMembership: the ops of an ops record.
 * - history   ReplayHistory: members and chat log as of any tick.
 * - clock     PlaybackClock: fractional tick advancing at tickRate * speed.
 * - player    Replay: keyframe index, seek(tick) into a core Mirror, play,
 *             pause, speed, step, update(dtMs) per animation frame.
 *
 * Typical use:
 *   const replay = Replay.fromBytes(await (await fetch(tapeUrl)).arrayBuffer());
 *   replay.seek(1200);           // replay.mirror holds the state at tick 1200
 *   replay.play(); replay.update(16.7);
 */
export * from './clock.js';
export * from './crc32c.js';
export * from './history.js';
export * from './ops.js';
export * from './player.js';
export * from './tape.js';
