// Client-side prediction of the own avatar in `arena` rooms.
//
// The server is authoritative and ~1 round trip behind the player's keys. So
// each input is applied locally at once, remembered until the server says it
// applied it (the avatar's `seq` field), and on every server state the
// prediction is rebuilt as: server position + every input not yet applied.
// When that disagrees with what was on screen, the difference is kept as an
// offset that decays over a few frames (never faster than the avatar walks)
// instead of snapping; only a jump past SNAP_DISTANCE snaps.
//
// The movement model mirrors the server's arena step: one input moves one
// tick: x += speed * dx, y += speed * dy, clamped to the world.

export interface ArenaModel {
  /** World units per tick at |d| = 1. */
  speed: number;
  width: number;
  height: number;
}

/** Reads `speed`, `width`, `height` from a welcome's options, defaulting to 6, 1000, 600. */
export function arenaModel(options: Readonly<Record<string, unknown>>): ArenaModel {
  const pick = (k: string, d: number): number => {
    const v = options[k];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : d;
  };
  return { speed: pick('speed', 6), width: pick('width', 1000), height: pick('height', 600) };
}

/** Corrections larger than this (world units) snap: a respawn or teleport, not drift. */
const SNAP_DISTANCE = 150;
/** Share of the remaining correction kept per 1/60 s frame (~0.1 s to fade to 10%). */
const DECAY_PER_60HZ_FRAME = 0.7;
/**
 * The fade never moves the avatar faster than this (world units a second:
 * the arena's top speed, 2 units a 60 Hz frame), so a correction looks like
 * walking, not a jerk. On a page that misses its timer under load, errors of
 * two or three steps came and their first frame of fade moved the avatar
 * 4 px and more (docs/NETCODE.md); small errors fade as before.
 */
const MAX_CORRECTION_PER_S = 120;
/**
 * Nor more than this in any one frame (world units, one 60 Hz frame's
 * walk): on a page drawing at 30 fps the speed cap alone let a frame move
 * 4 units (2.6 px at 0.64 px a unit; docs/NETCODE.md).
 */
const MAX_CORRECTION_PER_FRAME = 2;

export class ArenaPredictor {
  /** Position after the server state plus unacknowledged inputs. */
  predictedX = NaN;
  predictedY = NaN;
  /** What to draw: the prediction plus the fading correction. */
  x = NaN;
  y = NaN;
  /**
   * How far (world units) corrections moved the drawn position during the
   * last frame(): the fade of the offset plus any snap since the frame before.
   * What a player sees as the avatar being pulled; measurement tools read it.
   */
  lastCorrection = 0;
  /**
   * Spreads each input's step over this many ms of frames instead of drawing
   * it at once (0, the default, draws it at once). Set to the tick length, an
   * avatar held moving glides at constant speed instead of stepping once a
   * tick, and still moves on the first frame after a key.
   */
  glideMs = 0;
  private lagX = 0;
  private lagY = 0;
  private glideLeft = 0;
  private offsetX = 0;
  private offsetY = 0;
  private snapped = 0;
  // Pending inputs as a ring of parallel arrays (seq, dx, dy): no allocation per input.
  private seqs: Float64Array;
  private dxs: Float64Array;
  private dys: Float64Array;
  private head = 0;
  private count = 0;

  constructor(
    private model: ArenaModel,
    capacity = 256,
  ) {
    this.seqs = new Float64Array(capacity);
    this.dxs = new Float64Array(capacity);
    this.dys = new Float64Array(capacity);
  }

  /** Inputs sent but not yet applied by the server. */
  get pending(): number {
    return this.count;
  }

  get hasState(): boolean {
    return !Number.isNaN(this.predictedX);
  }

  setModel(model: ArenaModel): void {
    this.model = model;
  }

  /** Forgets everything (a new seat); the next reconcile() starts fresh. */
  reset(): void {
    this.count = 0;
    this.head = 0;
    this.predictedX = this.predictedY = this.x = this.y = NaN;
    this.offsetX = this.offsetY = 0;
    this.lagX = this.lagY = this.glideLeft = 0;
    this.snapped = this.lastCorrection = 0;
  }

  /** Records an input just sent with `seq` and moves the prediction by it. */
  input(seq: number, dx: number, dy: number): void {
    const cap = this.seqs.length;
    if (this.count === cap) {
      // The server is not acknowledging: drop the oldest rather than grow without bound.
      this.head = (this.head + 1) % cap;
      this.count--;
    }
    const i = (this.head + this.count) % cap;
    this.seqs[i] = seq;
    this.dxs[i] = dx;
    this.dys[i] = dy;
    this.count++;
    if (this.hasState) {
      const px = this.predictedX;
      const py = this.predictedY;
      this.predictedX = this.clampX(px + this.model.speed * clamp1(dx));
      this.predictedY = this.clampY(py + this.model.speed * clamp1(dy));
      if (this.glideMs > 0) {
        // Drawn trailing by the step, which frame() closes over glideMs.
        this.lagX += this.predictedX - px;
        this.lagY += this.predictedY - py;
        this.glideLeft = this.glideMs;
      }
      this.place();
    }
  }

  /**
   * Takes a server state of the avatar: its position and `seq`, the last input
   * the server applied. Rebuilds the prediction and turns any jump into a
   * correction offset.
   */
  reconcile(serverX: number, serverY: number, ackSeq: number): void {
    const cap = this.seqs.length;
    while (this.count > 0 && this.seqs[this.head]! <= ackSeq) {
      this.head = (this.head + 1) % cap;
      this.count--;
    }
    let px = serverX;
    let py = serverY;
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % cap;
      px = this.clampX(px + this.model.speed * clamp1(this.dxs[i]!));
      py = this.clampY(py + this.model.speed * clamp1(this.dys[i]!));
    }
    if (this.hasState) {
      // Keep what is on screen where it is: shift the jump into the offset.
      this.offsetX += this.predictedX - px;
      this.offsetY += this.predictedY - py;
      if (Math.hypot(this.offsetX, this.offsetY) > SNAP_DISTANCE) {
        this.snapped += Math.hypot(this.offsetX, this.offsetY);
        this.offsetX = this.offsetY = 0;
        this.lagX = this.lagY = 0;
      }
    }
    this.predictedX = px;
    this.predictedY = py;
    this.place();
  }

  /** Advances the correction fade by `dtMs` of wall time; call once per frame. */
  frame(dtMs: number): void {
    const keep = Math.pow(DECAY_PER_60HZ_FRAME, Math.max(0, dtMs) / (1000 / 60));
    const ox = this.offsetX;
    const oy = this.offsetY;
    let cx = ox * (1 - keep);
    let cy = oy * (1 - keep);
    const c = Math.hypot(cx, cy);
    const cap = Math.min(MAX_CORRECTION_PER_FRAME, (MAX_CORRECTION_PER_S * Math.max(0, dtMs)) / 1000);
    if (c > cap) {
      cx *= cap / c;
      cy *= cap / c;
    }
    this.offsetX -= cx;
    this.offsetY -= cy;
    if (Math.abs(this.offsetX) < 0.01) this.offsetX = 0;
    if (Math.abs(this.offsetY) < 0.01) this.offsetY = 0;
    this.lastCorrection = this.snapped + Math.hypot(ox - this.offsetX, oy - this.offsetY);
    this.snapped = 0;
    if (this.glideLeft > 0) {
      const f = Math.min(1, Math.max(0, dtMs) / this.glideLeft);
      this.lagX -= this.lagX * f;
      this.lagY -= this.lagY * f;
      this.glideLeft -= Math.max(0, dtMs);
    } else this.lagX = this.lagY = 0;
    this.place();
  }

  /** What to draw: the prediction, less the glide still to go, plus the fading correction. */
  private place(): void {
    this.x = this.predictedX - this.lagX + this.offsetX;
    this.y = this.predictedY - this.lagY + this.offsetY;
  }

  private clampX(x: number): number {
    return Math.min(this.model.width, Math.max(0, x));
  }

  private clampY(y: number): number {
    return Math.min(this.model.height, Math.max(0, y));
  }
}

function clamp1(v: number): number {
  return Math.min(1, Math.max(-1, v));
}
