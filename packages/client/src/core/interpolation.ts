// Entity interpolation: remote entities are drawn a couple of ticks in the
// past, between two states the client already has, so motion stays smooth
// when deltas arrive with jitter (the approach of
// @geckos.io/snapshot-interpolation).
//
// A bounded ring of position snapshots keyed by tick is filled once per tick
// (push) and read once per frame (sample). Every array is preallocated and
// reused: sample() allocates nothing, push() allocates only when the entity
// count outgrows the capacity (then it doubles).

const TWO_PI = Math.PI * 2;
/** A move longer than this (|dx| + |dy|, world units a tick) is a teleport: drawn linearly, not curved. */
const CUBIC_MAX_STEP = 64;

/** Positions by entity in parallel arrays, ids ascending (so two can be merged in one pass). */
class Positions {
  count = 0;
  ids: Float64Array;
  x: Float64Array;
  y: Float64Array;
  /** NaN for entities without an angle. */
  angle: Float64Array;

  constructor(capacity: number) {
    this.ids = new Float64Array(capacity);
    this.x = new Float64Array(capacity);
    this.y = new Float64Array(capacity);
    this.angle = new Float64Array(capacity);
  }

  /** Grows every array to hold at least `capacity` entities, keeping the contents. */
  grow(capacity: number): void {
    if (capacity <= this.ids.length) return;
    this.ids = growArray(this.ids, capacity);
    this.x = growArray(this.x, capacity);
    this.y = growArray(this.y, capacity);
    this.angle = growArray(this.angle, capacity);
  }
}

/** One tick's positions. */
class Slot extends Positions {
  tick = -1;
}

/** The interpolated state for one frame; owned by the buffer and overwritten by each sample(). */
export class InterpolatedFrame extends Positions {}

function growArray(a: Float64Array, min: number): Float64Array {
  let n = Math.max(1, a.length);
  while (n < min) n *= 2;
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

/**
 * A Catmull-Rom tangent limited as Fritsch and Carlson do, so that the curve
 * is monotone on each axis between two ticks: 0 where the motion turns,
 * starts or stops on that axis (the secants either side differ in sign or
 * one is 0), and at most 3x the smaller secant. Without it an avatar that
 * starts walking first dips back a little, and one that stops overshoots.
 */
function monotone(m: number, before: number, after: number): number {
  if (before * after <= 0) return 0;
  const lim = 3 * Math.min(Math.abs(before), Math.abs(after));
  return m > 0 ? Math.min(m, lim) : Math.max(m, -lim);
}

/** Interpolates angles (radians) the short way around the circle. */
export function lerpAngle(a: number, b: number, t: number): number {
  let d = (b - a) % TWO_PI;
  if (d >= Math.PI) d -= TWO_PI;
  else if (d < -Math.PI) d += TWO_PI;
  return a + d * t;
}

export class SnapshotBuffer {
  readonly frame: InterpolatedFrame;
  private readonly slots: Slot[];
  /** Index of the newest slot; -1 when empty. */
  private newest = -1;
  private size = 0;
  private capacity: number;
  private writing: Slot | null = null;
  private lastAddedId = -Infinity;
  private sorted = true;
  /** Where a dropped late tick is written (and forgotten); made on first use. */
  private discard: Slot | null = null;
  /**
   * When true, a tick older than the newest but still within the slots held
   * (frames reordered on the way) is dropped instead of clearing the buffer;
   * only a tick older than everything held means the state went back. Off by
   * default: a replay that steps back wants the buffer cleared.
   */
  dropLate = false;
  /**
   * When true, sample() follows a cubic Hermite curve through the ticks
   * instead of straight lines, its tangents from the ticks either side
   * (Catmull-Rom: the schema carries positions, not velocities), limited so
   * each axis stays monotone between ticks (no dip back when motion starts,
   * no overshoot when it stops). Motion at constant velocity is drawn exactly
   * as before; a turn has no kink at the tick. Moves longer than
   * CUBIC_MAX_STEP a tick (a teleport) stay linear.
   */
  cubic = false;

  /**
   * @param slots how many ticks to keep (bounded memory: older ticks are overwritten)
   * @param entities initial entity capacity per tick (grows by doubling)
   */
  constructor(slots = 16, entities = 256) {
    if (slots < 2) throw new Error('SnapshotBuffer: need at least 2 slots');
    this.capacity = entities;
    this.slots = Array.from({ length: slots }, () => new Slot(entities));
    this.frame = new InterpolatedFrame(entities);
  }

  /** Ticks currently held. */
  get length(): number {
    return this.size;
  }

  get newestTick(): number {
    return this.newest < 0 ? -1 : this.slots[this.newest]!.tick;
  }

  get oldestTick(): number {
    return this.newest < 0 ? -1 : this.slotAt(this.size - 1).tick;
  }

  /** Drops everything (a new room, or state that went back in time). */
  clear(): void {
    this.newest = -1;
    this.size = 0;
  }

  /** Starts the positions of `tick`; call add() for each entity, then end(). */
  begin(tick: number): void {
    if (this.dropLate && this.newest >= 0 && tick < this.newestTick && tick >= this.newestTick - this.slots.length) {
      this.discard ??= new Slot(this.capacity);
      this.discard.grow(this.capacity);
      this.writing = this.discard;
      this.writing.tick = tick;
      this.writing.count = 0;
      this.lastAddedId = -Infinity;
      this.sorted = true;
      return;
    }
    if (this.newest >= 0 && tick < this.newestTick) this.clear();
    if (this.newest >= 0 && tick === this.newestTick) {
      // Same tick again (a snapshot right after its delta): rewrite in place.
      this.writing = this.slots[this.newest]!;
    } else {
      this.newest = (this.newest + 1) % this.slots.length;
      this.size = Math.min(this.size + 1, this.slots.length);
      this.writing = this.slots[this.newest]!;
    }
    this.writing.tick = tick;
    this.writing.count = 0;
    this.lastAddedId = -Infinity;
    this.sorted = true;
  }

  add(id: number, x: number, y: number, angle: number): void {
    const s = this.writing;
    if (s === null) throw new Error('SnapshotBuffer.add outside begin/end');
    if (s.count === this.capacity) this.growAll(this.capacity * 2);
    const i = s.count++;
    s.ids[i] = id;
    s.x[i] = x;
    s.y[i] = y;
    s.angle[i] = angle;
    if (id <= this.lastAddedId) this.sorted = false;
    this.lastAddedId = id;
  }

  end(): void {
    const s = this.writing;
    if (s === null) return;
    if (s === this.discard) {
      this.writing = null;
      return;
    }
    if (!this.sorted) sortSlot(s);
    this.writing = null;
  }

  /**
   * Fills and returns `frame` with positions at a fractional tick: linear
   * (or, with `cubic`, a Hermite curve) between the two held ticks around
   * it, clamped to the oldest and newest (no extrapolation). Entities missing from the older tick appear at their
   * newest position; entities gone from the newer one are left out.
   */
  sample(renderTick: number): InterpolatedFrame {
    const out = this.frame;
    out.count = 0;
    if (this.size === 0) return out;
    let newer = this.slots[this.newest]!;
    let older = newer;
    let t = 1;
    let kOlder = 0;
    if (renderTick < newer.tick) {
      // Walk back to the first slot at or before renderTick.
      for (let k = 1; k < this.size; k++) {
        const s = this.slotAt(k);
        older = s;
        kOlder = k;
        if (s.tick <= renderTick) break;
        newer = s;
      }
      if (older === newer || older.tick > renderTick) {
        older = newer;
        t = 1;
      } else {
        t = (renderTick - older.tick) / (newer.tick - older.tick);
      }
    }
    // The ticks either side, for the cubic's tangents (null where not held).
    const cubic = this.cubic && older !== newer;
    const prev = cubic && kOlder + 1 < this.size ? this.slotAt(kOlder + 1) : null;
    const next = cubic && kOlder >= 2 ? this.slotAt(kOlder - 2) : null;
    const h = newer.tick - older.tick;
    const t2 = t * t;
    const t3 = t2 * t;
    const h00 = 2 * t3 - 3 * t2 + 1;
    const h10 = (t3 - 2 * t2 + t) * h;
    const h01 = -2 * t3 + 3 * t2;
    const h11 = (t3 - t2) * h;
    let j = 0;
    let jp = 0;
    let jn = 0;
    for (let i = 0; i < newer.count; i++) {
      const id = newer.ids[i]!;
      while (j < older.count && older.ids[j]! < id) j++;
      const o = out.count++;
      out.ids[o] = id;
      if (older !== newer && j < older.count && older.ids[j] === id) {
        const x0 = older.x[j]!;
        const y0 = older.y[j]!;
        const x1 = newer.x[i]!;
        const y1 = newer.y[i]!;
        // Secant slope (units a tick): the tangent where a neighbour is missing.
        let mx0 = (x1 - x0) / h;
        let my0 = (y1 - y0) / h;
        let mx1 = mx0;
        let my1 = my0;
        let smooth = cubic && Math.abs(x1 - x0) + Math.abs(y1 - y0) <= CUBIC_MAX_STEP * h;
        if (smooth && prev !== null) {
          while (jp < prev.count && prev.ids[jp]! < id) jp++;
          if (jp < prev.count && prev.ids[jp] === id) {
            const xp = prev.x[jp]!;
            const yp = prev.y[jp]!;
            const hp = older.tick - prev.tick;
            if (Math.abs(x0 - xp) + Math.abs(y0 - yp) > CUBIC_MAX_STEP * hp) smooth = false;
            mx0 = monotone((x1 - xp) / (newer.tick - prev.tick), (x0 - xp) / hp, mx0);
            my0 = monotone((y1 - yp) / (newer.tick - prev.tick), (y0 - yp) / hp, my0);
          }
        }
        if (smooth && next !== null) {
          while (jn < next.count && next.ids[jn]! < id) jn++;
          if (jn < next.count && next.ids[jn] === id) {
            const xn = next.x[jn]!;
            const yn = next.y[jn]!;
            const hn = next.tick - newer.tick;
            if (Math.abs(xn - x1) + Math.abs(yn - y1) > CUBIC_MAX_STEP * hn) smooth = false;
            mx1 = monotone((xn - x0) / (next.tick - older.tick), mx1, (xn - x1) / hn);
            my1 = monotone((yn - y0) / (next.tick - older.tick), my1, (yn - y1) / hn);
          }
        }
        if (smooth) {
          out.x[o] = h00 * x0 + h10 * mx0 + h01 * x1 + h11 * mx1;
          out.y[o] = h00 * y0 + h10 * my0 + h01 * y1 + h11 * my1;
        } else {
          out.x[o] = x0 + (x1 - x0) * t;
          out.y[o] = y0 + (y1 - y0) * t;
        }
        const a0 = older.angle[j]!;
        const a1 = newer.angle[i]!;
        out.angle[o] = Number.isNaN(a0) || Number.isNaN(a1) ? a1 : lerpAngle(a0, a1, t);
      } else {
        out.x[o] = newer.x[i]!;
        out.y[o] = newer.y[i]!;
        out.angle[o] = newer.angle[i]!;
      }
    }
    return out;
  }

  /** k = 0 is the newest slot, k = size-1 the oldest. */
  private slotAt(k: number): Slot {
    const n = this.slots.length;
    return this.slots[(this.newest - k + n) % n]!;
  }

  private growAll(capacity: number): void {
    this.capacity = capacity;
    for (const s of this.slots) s.grow(capacity);
    this.discard?.grow(capacity);
    this.frame.grow(capacity);
  }
}

/** Insertion sort by id over the slot's parallel arrays: near-sorted input costs O(n). */
function sortSlot(s: Slot): void {
  for (let i = 1; i < s.count; i++) {
    const id = s.ids[i]!;
    const x = s.x[i]!;
    const y = s.y[i]!;
    const a = s.angle[i]!;
    let k = i - 1;
    while (k >= 0 && s.ids[k]! > id) {
      s.ids[k + 1] = s.ids[k]!;
      s.x[k + 1] = s.x[k]!;
      s.y[k + 1] = s.y[k]!;
      s.angle[k + 1] = s.angle[k]!;
      k--;
    }
    s.ids[k + 1] = id;
    s.x[k + 1] = x;
    s.y[k + 1] = y;
    s.angle[k + 1] = a;
  }
}

/**
 * Estimates the server's current (fractional) tick from when ticks arrive,
 * smoothing arrival jitter so the render time advances steadily.
 */
export class TickClock {
  private offset = NaN;

  /** @param tickMs milliseconds per tick (1000 / tickRate) */
  constructor(private tickMs: number) {}

  setTickMs(tickMs: number): void {
    this.tickMs = tickMs;
    this.offset = NaN;
  }

  /** Records that `tick` arrived at `nowMs`. */
  observe(tick: number, nowMs: number): void {
    const est = nowMs - tick * this.tickMs;
    // Jumps (first tick, a stall, a reconnect) are taken at once; jitter is
    // averaged out so the render time neither stutters nor runs backwards.
    if (Number.isNaN(this.offset) || Math.abs(est - this.offset) > 4 * this.tickMs) this.offset = est;
    else this.offset += (est - this.offset) * 0.1;
  }

  /** The estimated server tick at `nowMs` (fractional); NaN before the first observe(). */
  tickAt(nowMs: number): number {
    return (nowMs - this.offset) / this.tickMs;
  }
}

/** Options of an InterpolationClock (milliseconds). */
export interface InterpolationClockOptions {
  /** Least delay behind the arrival of the newest tick: one tick interval plus this (default 10). */
  marginMs?: number;
  /** Most delay it will choose, whatever the jitter and stalls (default 180). */
  maxDelayMs?: number;
  /** Largest lag (from the target) caught up smoothly; a bigger one is jumped (forward only; default 500). */
  jumpMs?: number;
}

/** Arrival times kept for the latency floor and the jitter (ticks). */
const CLOCK_WINDOW = 64;
/** A gap between arrivals longer than this many ticks is a stall (or a freeze), not jitter. */
const STALL_TICKS = 3;
/** A frame may come this long before the gap reaches STALL_TICKS and still show that drawing went on. */
const FRAME_SLACK_MS = 20;
/** Stalls are planned for (the delay grows to cover them) when two came within this long. */
const STALL_MEMORY_MS = 15_000;
/** Time-scale bounds: slower by up to 10 %, faster by up to 15 %, in proportion to the lag error over this many ms. */
const SLOWEST = 0.9;
const FASTEST = 1.15;
const SCALE_GAIN_MS = 1000;
/** Errors smaller than this leave the time scale at 1. */
const DEADBAND_MS = 4;

/**
 * The render time of remote entities, adapted to the network: an
 * interpolation delay that follows the measured jitter, reached by bounded
 * changes of the render time's speed, never running backwards.
 *
 * observe(tick, now) for every tick as it arrives. The arrival timeline is
 * anchored on the earliest arrivals of a sliding window (the latency floor:
 * a late first packet or a burst does not shift it), and the jitter is the
 * 90th percentile of how much later than that floor ticks come, stalls left
 * out. The target delay is one tick interval (interpolation needs the next
 * tick) plus 1.25x that jitter plus a margin; when stalls recur (two within
 * 15 s) it also covers the longest recent one, up to maxDelayMs. A gap in
 * arrivals is a stall only if frames were drawn during it (renderTick
 * called): a page that stopped drawing stopped handling messages too.
 *
 * renderTick(now) once per frame: advances the render tick by the frame's
 * time at a scale in [0.9, 1.15] steering the delay to its target, holds at
 * the newest tick received when data stops (no extrapolation), and jumps
 * forward only when it has fallen more than jumpMs behind (a freeze, a
 * hidden tab). When no tick has come for two intervals it slows down (to
 * 0.3 at the least) so that what is buffered lasts: over the rest of a
 * typical stall when stalls recur, else through the last interval.
 *
 * Allocation-free after construction.
 */
export class InterpolationClock {
  private readonly offsets = new Float64Array(CLOCK_WINDOW);
  private readonly devs = new Float64Array(CLOCK_WINDOW);
  private readonly scratch = new Float64Array(CLOCK_WINDOW);
  private head = 0;
  private count = 0;
  private devHead = 0;
  private devCount = 0;
  private floor = NaN;
  private lastTick = -1;
  private lastArrival = NaN;
  private burstUntil = -1;
  private lastStallAt = -Infinity;
  private stallBefore = -Infinity;
  private stallMs = 0;
  private r = NaN;
  private lastNow = NaN;
  private readonly marginMs: number;
  private readonly maxDelayMs: number;
  private readonly jumpMs: number;
  /** The last render tick returned. */
  tick = NaN;
  /** Render speed of the last frame (1 = real time). */
  scale = 1;
  /** 90th percentile of arrival lateness over the floor, stalls left out (ms). */
  jitterMs = 0;

  /** @param tickMs milliseconds per tick (1000 / tickRate) */
  constructor(
    private tickMs: number,
    opts: InterpolationClockOptions = {},
  ) {
    this.marginMs = opts.marginMs ?? 10;
    this.maxDelayMs = opts.maxDelayMs ?? 180;
    this.jumpMs = opts.jumpMs ?? 500;
  }

  /** A new tick length starts over; the same one (a reconnect's welcome) keeps the timing. */
  setTickMs(tickMs: number): void {
    if (tickMs === this.tickMs) return;
    this.tickMs = tickMs;
    this.reset();
  }

  /** Forgets everything (a new room, or ticks that went back). */
  reset(): void {
    this.head = this.count = this.devHead = this.devCount = 0;
    this.floor = this.r = this.lastNow = this.lastArrival = NaN;
    this.lastTick = this.burstUntil = -1;
    this.lastStallAt = this.stallBefore = -Infinity;
    this.stallMs = this.jitterMs = 0;
    this.tick = NaN;
    this.scale = 1;
  }

  /** The delay it steers to (ms behind the arrival timeline). */
  get targetDelayMs(): number {
    const base = this.tickMs + this.marginMs;
    let cover = 1.25 * this.jitterMs;
    if (this.stallsRecur()) cover = Math.max(cover, this.stallMs);
    return Math.min(this.maxDelayMs, Math.max(base, base + cover));
  }

  /** How far (ms) the last render tick was behind the arrival timeline. */
  get delayMs(): number {
    return (this.arrivalTick(this.lastNow) - this.tick) * this.tickMs;
  }

  /** Records that `tick` arrived at `nowMs`. */
  observe(tick: number, nowMs: number): void {
    if (this.lastTick >= 0 && tick <= this.lastTick) {
      // A duplicate, or a tick older than one already seen (reordered):
      // nothing new about timing. Far older means the ticks went back: start over.
      if (tick < this.lastTick - CLOCK_WINDOW) this.reset();
      else return;
    }
    const T = this.tickMs;
    const gap = nowMs - this.lastArrival;
    if (gap > STALL_TICKS * T) {
      // A gap: what arrives in the burst after it is not jitter.
      this.burstUntil = tick + Math.ceil(gap / T) + 1;
      // It is a network stall, to plan for, only if frames went on during it
      // (the last frame came well into the gap). A page that was not drawing
      // (a long task on a busy machine, a hidden tab) handled nothing, ticks
      // included: its gap says nothing about the network, and counting it
      // would stretch the delay to cover pauses that frames never showed.
      const drawn = this.lastNow - this.lastArrival; // how far into the gap frames went on
      if (drawn > STALL_TICKS * T - FRAME_SLACK_MS) {
        this.stallBefore = this.lastStallAt;
        this.lastStallAt = nowMs;
        // Only what frames saw is the network's: a pause at its end is not.
        const len = Math.min(gap, drawn + FRAME_SLACK_MS) - T;
        this.stallMs = nowMs - this.stallBefore < STALL_MEMORY_MS ? Math.max(this.stallMs, len) : len;
      }
    }
    this.lastArrival = nowMs;
    this.lastTick = tick;
    const off = nowMs - tick * T;
    this.offsets[this.head] = off;
    this.head = (this.head + 1) % CLOCK_WINDOW;
    if (this.count < CLOCK_WINDOW) this.count++;
    let floor = Infinity;
    for (let i = 0; i < this.count; i++) floor = Math.min(floor, this.offsets[i]!);
    this.floor = floor;
    if (tick > this.burstUntil) {
      this.devs[this.devHead] = off;
      this.devHead = (this.devHead + 1) % CLOCK_WINDOW;
      if (this.devCount < CLOCK_WINDOW) this.devCount++;
    }
    this.jitterMs = this.percentile90(floor);
  }

  /**
   * The fractional tick to draw at `nowMs` (call once per frame, with
   * non-decreasing times); NaN before the first observe().
   */
  renderTick(nowMs: number): number {
    if (Number.isNaN(this.floor)) return NaN;
    const T = this.tickMs;
    const target = this.targetDelayMs;
    const arrival = this.arrivalTick(nowMs);
    if (Number.isNaN(this.r)) {
      this.r = Math.min(arrival - target / T, this.lastTick);
      this.lastNow = nowMs;
      this.tick = this.r;
      return this.r;
    }
    const dt = Math.max(0, nowMs - this.lastNow);
    this.lastNow = nowMs;
    const err = (arrival - this.r) * T - dt - target; // after this frame at scale 1; > 0: too far behind
    let scale = 1;
    if (err > this.jumpMs) {
      this.r = Math.max(this.r, Math.min(arrival - target / T, this.lastTick));
      this.scale = 1;
      this.tick = this.r;
      return this.r;
    }
    if (Math.abs(err) > DEADBAND_MS) scale = Math.min(FASTEST, Math.max(SLOWEST, 1 + err / SCALE_GAIN_MS));
    const since = nowMs - this.lastArrival;
    if (since > 2 * T) {
      // Data stopped (no tick for two intervals). When stalls recur, stretch
      // what is buffered over the rest of a typical one; in any case slow
      // down through the last interval rather than stop dead at its end.
      const ahead = Math.max(0, this.lastTick - this.r);
      if (this.stallsRecur() && this.stallMs > since) scale = Math.min(scale, Math.max(0.3, (ahead * T) / (this.stallMs - since + T)));
      if (ahead < 1) scale = Math.min(scale, 0.3 + 0.7 * ahead);
    }
    this.scale = scale;
    this.r = Math.max(this.r, Math.min(this.r + (dt / T) * scale, this.lastTick));
    this.tick = this.r;
    return this.r;
  }

  /** Two stalls came within STALL_MEMORY_MS, the last one within it too. */
  private stallsRecur(): boolean {
    return this.lastStallAt - this.stallBefore < STALL_MEMORY_MS && this.lastArrival - this.lastStallAt < STALL_MEMORY_MS;
  }

  private arrivalTick(nowMs: number): number {
    return (nowMs - this.floor) / this.tickMs;
  }

  /** 90th percentile of (offset - floor) over the jitter window, sorted in a preallocated scratch array. */
  private percentile90(floor: number): number {
    const n = this.devCount;
    if (n === 0) return 0;
    const s = this.scratch;
    for (let i = 0; i < n; i++) {
      const v = this.devs[i]! - floor;
      let k = i - 1;
      while (k >= 0 && s[k]! > v) {
        s[k + 1] = s[k]!;
        k--;
      }
      s[k + 1] = v;
    }
    return Math.max(0, s[Math.min(n - 1, Math.floor(0.9 * n))]!);
  }
}
