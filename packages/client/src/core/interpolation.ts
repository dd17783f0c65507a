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
    if (!this.sorted) sortSlot(s);
    this.writing = null;
  }

  /**
   * Fills and returns `frame` with positions at a fractional tick: linear
   * between the two held ticks around it, clamped to the oldest and newest
   * (no extrapolation). Entities missing from the older tick appear at their
   * newest position; entities gone from the newer one are left out.
   */
  sample(renderTick: number): InterpolatedFrame {
    const out = this.frame;
    out.count = 0;
    if (this.size === 0) return out;
    let newer = this.slots[this.newest]!;
    let older = newer;
    let t = 1;
    if (renderTick < newer.tick) {
      // Walk back to the first slot at or before renderTick.
      for (let k = 1; k < this.size; k++) {
        const s = this.slotAt(k);
        older = s;
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
    let j = 0;
    for (let i = 0; i < newer.count; i++) {
      const id = newer.ids[i]!;
      while (j < older.count && older.ids[j]! < id) j++;
      const o = out.count++;
      out.ids[o] = id;
      if (older !== newer && j < older.count && older.ids[j] === id) {
        out.x[o] = older.x[j]! + (newer.x[i]! - older.x[j]!) * t;
        out.y[o] = older.y[j]! + (newer.y[i]! - older.y[j]!) * t;
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
