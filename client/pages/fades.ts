// Entities that appear or disappear fade in and out over FADE_TICKS instead
// of popping: a coin picked up and the new one placed, a shape deleted, and
// (with interest groups) an entity crossing the edge of a member's view.
//
// The scene tells Fades what each recorded tick holds (once per tick); a
// frame asks for alphas and the ghosts of departed entities, and allocates
// nothing. Tracked records are pooled, ghosts live in a fixed ring.
import type { Entity } from '@tickroom/client';

/** How many ticks a fade takes (a quarter of a second at 20 ticks a second). */
export const FADE_TICKS = 5;
/** Departed entities drawn fading at once; past this the oldest ghost is dropped early. */
const GHOSTS = 128;

class Tracked {
  id = 0;
  entity: Entity | null = null;
  /** Tick the entity first appeared in; -Infinity: there from the start, no fade. */
  arrived = -Infinity;
  /** The record (stamp) that last saw it. */
  stamp = 0;
  x = 0;
  y = 0;
  angle = NaN;
}

export class Fades {
  private readonly tracked = new Map<number, Tracked>();
  private readonly spare: Tracked[] = [];
  private stamp = 0;
  private lastTick = -1;
  /** True while recording the first tick (or the first after a reset): what is there already shows at once. */
  private initial = true;
  private tick = -1;
  readonly ghostEntity: (Entity | null)[] = new Array<Entity | null>(GHOSTS).fill(null);
  readonly ghostX = new Float64Array(GHOSTS);
  readonly ghostY = new Float64Array(GHOSTS);
  readonly ghostAngle = new Float64Array(GHOSTS);
  /** The render tick at which the ghost starts to fade: its last tick, one before the one it is gone from. */
  private readonly ghostStart = new Float64Array(GHOSTS);
  private nextGhost = 0;

  /** Starts recording tick; a tick before the last one (a replay stepping back) starts over without fades. */
  begin(tick: number): void {
    if (tick < this.lastTick) this.reset();
    this.initial = this.lastTick < 0;
    this.lastTick = tick;
    this.tick = tick;
    this.stamp++;
  }

  /** The entity is in this tick, drawn at (x, y, angle). */
  see(e: Entity, x: number, y: number, angle: number): void {
    let t = this.tracked.get(e.id);
    if (t === undefined) {
      t = this.spare.pop() ?? new Tracked();
      t.id = e.id;
      t.arrived = this.initial ? -Infinity : this.tick;
      this.tracked.set(e.id, t);
    }
    t.entity = e;
    t.stamp = this.stamp;
    t.x = x;
    t.y = y;
    t.angle = angle;
  }

  /** Ends the tick: whatever was not seen has departed and becomes a ghost. */
  end(): void {
    for (const t of this.tracked.values()) {
      if (t.stamp === this.stamp) continue;
      this.tracked.delete(t.id);
      const g = this.nextGhost;
      this.nextGhost = (g + 1) % GHOSTS;
      this.ghostEntity[g] = t.entity;
      this.ghostX[g] = t.x;
      this.ghostY[g] = t.y;
      this.ghostAngle[g] = t.angle;
      this.ghostStart[g] = this.tick - 1;
      t.entity = null;
      this.spare.push(t);
    }
  }

  /** Forgets everything: the next tick recorded shows at once. */
  reset(): void {
    for (const t of this.tracked.values()) {
      t.entity = null;
      this.spare.push(t);
    }
    this.tracked.clear();
    this.ghostEntity.fill(null);
    this.lastTick = -1;
  }

  /** An entity's opacity at renderTick: rising from 0 to 1 over FADE_TICKS after it arrived. */
  alpha(id: number, renderTick: number): number {
    const t = this.tracked.get(id);
    if (t === undefined) return 1;
    return fade(renderTick - (t.arrived - 1));
  }

  /** Slots of the ghost ring to look at: 0 .. ghostSlots-1. */
  get ghostSlots(): number {
    return GHOSTS;
  }

  /**
   * A ghost's opacity at renderTick: 0 while the entity is still drawn
   * live (renderTick before its last tick), then falling to 0 over
   * FADE_TICKS; a ghost faded out is dropped.
   */
  ghostAlpha(slot: number, renderTick: number): number {
    if (this.ghostEntity[slot] === null) return 0;
    const since = renderTick - this.ghostStart[slot]!;
    if (since < 0) return 0;
    const a = 1 - fade(since);
    if (a <= 0) this.ghostEntity[slot] = null;
    return a;
  }
}

function fade(ticks: number): number {
  return Math.min(1, Math.max(0, ticks / FADE_TICKS));
}
