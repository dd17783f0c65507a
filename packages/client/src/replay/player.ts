// A recording as something to watch: the tape's records indexed by tick, a
// mirror rebuilt for any tick through the nearest keyframe, and a playback
// clock that walks the mirror forward tick by tick.
//
// Seeking to tick T (docs/TAPE.md "Seeking"): load the last keyframe at or
// before T into the mirror, then apply the deltas of the ticks after it up to
// T. Moving forward from the mirror's own tick skips the keyframe when no
// keyframe lies in between, so playing costs one delta a tick. Guarded by
// client/test/replay.test.ts (seek equals a straight replay from the start at
// every tick).
import { Mirror, ProtocolError, Schema, ServerTag, decodeServerMessage } from '../core/index.js';
import { PlaybackClock } from './clock.js';
import { ReplayHistory } from './history.js';
import { scanMembership } from './ops.js';
import { RecordKind, readTape, type Tape } from './tape.js';

/** Deltas worth applying rather than loading a keyframe (a snapshot costs about this many). */
const FORWARD_SLACK = 30;

export class Replay {
  readonly tape: Tape;
  readonly schema: Schema;
  readonly mirror: Mirror;
  readonly tickRate: number;
  /** Tick of the first keyframe: no state exists before it. */
  readonly firstTick: number;
  /** The last tick with state. */
  readonly lastTick: number;
  readonly history = new ReplayHistory();
  readonly clock: PlaybackClock;
  /** Why the mirror could not reach a tick (a delta it refused), or null. */
  error: string | null = null;
  /**
   * Called before the mirror is rebuilt from a keyframe (a jump rather than a
   * step forward), e.g. to drop a scene's interpolation history.
   */
  onRebuild: (() => void) | null = null;

  /** Keyframe ticks ascending, and their record indices. */
  private readonly keyTicks: number[] = [];
  private readonly keyRecords: number[] = [];
  /** Record index of the delta (or ops) record of tick deltaBase + i; -1 for none. */
  private readonly deltaRecords: Int32Array;
  private readonly deltaBase: number;

  constructor(tape: Tape, mirror: Mirror = new Mirror()) {
    this.tape = tape;
    this.mirror = mirror;
    this.tickRate = tape.header.tickRate;
    this.schema = Schema.parse(tape.header.schema);

    const deltas: number[] = [];
    let base = -1;
    let last = -1;
    const records = tape.records;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      switch (r.kind) {
        case RecordKind.Keyframe:
          if (this.keyTicks.length > 0 && r.tick <= this.keyTicks[this.keyTicks.length - 1]!) break; // only ascending ones can be searched
          this.keyTicks.push(r.tick);
          this.keyRecords.push(i);
          last = Math.max(last, r.tick);
          break;
        case RecordKind.Ops:
        case RecordKind.Delta:
          if (r.kind === RecordKind.Ops) {
            scanMembership(tape.ops(r), {
              join: (m, name) => this.history.join(r.tick, m, name),
              leave: (m) => this.history.leave(r.tick, m),
            });
          }
          // An ops record carries its tick's delta after the ops.
          if (r.msgEnd === r.msgStart) break;
          if (base < 0) base = r.tick;
          if (r.tick < base) break;
          while (deltas.length < r.tick - base) deltas.push(-1);
          deltas[r.tick - base] = i;
          last = Math.max(last, r.tick);
          break;
        case RecordKind.Event:
          this.addEvent(r.tick, tape.message(r));
          break;
      }
    }
    if (this.keyTicks.length === 0) throw new ReplayError('the recording holds no keyframe: there is no state to show');
    this.deltaBase = Math.max(0, base);
    this.deltaRecords = Int32Array.from(deltas);
    this.firstTick = this.keyTicks[0]!;
    this.lastTick = last;
    this.clock = new PlaybackClock(this.tickRate, this.firstTick, this.lastTick);
    this.seek(this.firstTick);
  }

  /** Reads a tape's bytes (see readTape for what throws) and indexes it. */
  static fromBytes(bytes: ArrayBuffer | Uint8Array): Replay {
    return new Replay(readTape(bytes));
  }

  /** The mirror's tick: the state being shown. */
  get tick(): number {
    return this.mirror.tick;
  }

  get keyframeCount(): number {
    return this.keyTicks.length;
  }

  get playing(): boolean {
    return this.clock.playing;
  }

  /** Seconds from the first keyframe to `tick`. */
  secondsAt(tick: number): number {
    return (tick - this.firstTick) / this.tickRate;
  }

  /**
   * Rebuilds the state at `tick` (clamped to the recording) and moves the
   * playback position there. Returns the tick the mirror reached: less than
   * asked only when the tape lacks a delta on the way (see `error`).
   */
  seek(tick: number): number {
    const t = Math.min(this.lastTick, Math.max(this.firstTick, Math.floor(tick)));
    this.clock.set(t);
    return this.moveTo(t);
  }

  /** Steps by `ticks` (negative: back) and pauses. */
  step(ticks: number): number {
    this.clock.playing = false;
    return this.seek(this.tick + ticks);
  }

  play(): void {
    if (this.clock.position >= this.lastTick) this.seek(this.firstTick);
    this.clock.playing = true;
  }

  pause(): void {
    this.clock.playing = false;
    this.clock.set(this.tick);
  }

  toggle(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  setSpeed(speed: number): void {
    this.clock.setSpeed(speed);
  }

  /** Advances playback by a frame's wall-clock time; true when the tick changed. */
  update(dtMs: number): boolean {
    const before = this.tick;
    const target = this.clock.advance(dtMs);
    if (target !== before) this.moveTo(target);
    return this.tick !== before;
  }

  private moveTo(t: number): number {
    const k = this.keyframeAt(t);
    const from = this.mirror.tick;
    // Forward from the mirror's tick when that is no more deltas than going
    // through the keyframe (give or take what a snapshot costs): so playing
    // never reloads, and never drops the scene's interpolation history.
    const forward =
      this.error === null && from >= 0 && !this.mirror.waitingForSnapshot && from <= t && t - from <= t - this.keyTicks[k]! + FORWARD_SLACK;
    if (!forward) this.loadKeyframe(k);
    this.applyDeltas(t);
    return this.mirror.tick;
  }

  /** Index of the last keyframe at or before `tick` (the first one when none is). */
  private keyframeAt(tick: number): number {
    const ticks = this.keyTicks;
    let lo = 0;
    let hi = ticks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ticks[mid]! <= tick) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
  }

  private loadKeyframe(k: number): void {
    this.onRebuild?.();
    this.error = null;
    const rec = this.tape.records[this.keyRecords[k]!]!;
    const msg = decodeServerMessage(this.tape.message(rec));
    if (msg.tag !== ServerTag.Snapshot && msg.tag !== ServerTag.ViewSnapshot) {
      throw new ReplayError(`keyframe at tick ${rec.tick} is not a snapshot (message type ${msg.tag})`);
    }
    this.mirror.setSchema(this.schema);
    if (msg.tag === ServerTag.Snapshot) this.mirror.applySnapshot(msg);
    else this.mirror.applyViewSnapshot(msg); // a views room's recording: every group
  }

  private applyDeltas(t: number): void {
    const m = this.mirror;
    while (m.tick < t) {
      const next = m.tick + 1;
      const i = next - this.deltaBase;
      const idx = i >= 0 && i < this.deltaRecords.length ? this.deltaRecords[i]! : -1;
      if (idx < 0) {
        this.error = `the recording has no delta for tick ${next}`;
        return;
      }
      let msg;
      try {
        msg = decodeServerMessage(this.tape.message(this.tape.records[idx]!));
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.error = `tick ${next}: ${err.message}`;
        return;
      }
      if (msg.tag !== ServerTag.Delta && msg.tag !== ServerTag.ViewDelta) {
        this.error = `tick ${next}: the record holds message type ${msg.tag}, not a delta`;
        return;
      }
      if ((msg.tag === ServerTag.Delta ? m.applyDelta(msg) : m.applyViewDelta(msg)) !== 'applied') {
        this.error = `tick ${next}: ${m.lastError ?? 'delta refused'}`;
        return;
      }
    }
  }

  private addEvent(tick: number, bytes: Uint8Array): void {
    try {
      const msg = decodeServerMessage(bytes);
      if (msg.tag === ServerTag.Event) this.history.event(tick, msg.event);
    } catch (err) {
      // An event this client cannot read is left out; the state is unaffected.
      if (!(err instanceof ProtocolError)) throw err;
    }
  }
}

/** A tape that reads but cannot be replayed (no keyframe, a keyframe that is not a snapshot). */
export class ReplayError extends Error {
  override name = 'ReplayError';
}
