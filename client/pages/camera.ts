// The camera of a world larger than the screen: it follows a target (the
// own avatar) with a short lag, so that starts and stops ease instead of
// jerking the whole world, and jumps when the target does (a respawn).

/** How quickly the camera closes on its target: the gap shrinks by e every this many ms. */
export const CAMERA_LAG_MS = 120;
/** A gap wider than this (world units) is a jump, not a move: the camera snaps. */
export const CAMERA_SNAP = 1500;

export class Camera {
  x = NaN;
  y = NaN;

  /** Moves toward (tx, ty) for a frame of dtMs; the first call (or after reset) snaps. */
  follow(tx: number, ty: number, dtMs: number): void {
    if (Number.isNaN(this.x) || Math.abs(tx - this.x) + Math.abs(ty - this.y) > CAMERA_SNAP) {
      this.x = tx;
      this.y = ty;
      return;
    }
    const k = 1 - Math.exp(-Math.max(0, dtMs) / CAMERA_LAG_MS);
    this.x += (tx - this.x) * k;
    this.y += (ty - this.y) * k;
  }

  reset(): void {
    this.x = NaN;
    this.y = NaN;
  }
}
