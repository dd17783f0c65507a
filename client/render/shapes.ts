// What an instance in the packed buffer means, in terms every back-end must
// agree on. The GPU back-ends draw shapes as signed distance fields, the 2D
// canvas as paths; both follow these notes.
//
// Local coordinates: a shape spans [-w/2, w/2] x [-h/2, h/2] before rotation.
// - Circle: the ellipse inscribed in that box (a circle when w == h).
// - Rect: the box itself.
// - Arrow: the triangle (w/2, 0), (-w/2, -h/2), (-w/2, h/2); its tip is local +x.
// - Ring: the Circle's outline, RING_WIDTH of the radius thick, drawn inwards.
//
// Rotation: angle is counter-clockwise on screen, where y grows downwards, so
// local (lx, ly) lands at (x + lx*cos + ly*sin, y - lx*sin + ly*cos).

import { FLOATS_PER_INSTANCE } from './types';

/** Ring thickness as a fraction of the ring's outer radius (min(w, h) / 2). */
export const RING_WIDTH = 0.2;

/**
 * The number of instances a frame may read: count, but never past the end of
 * data or past limit. A shortfall is a bug upstream, which callers report.
 */
export function drawableCount(count: number, data: Float32Array, limit: number): number {
  if (!(count > 0)) return 0; // also NaN
  return Math.max(0, Math.min(Math.floor(count), Math.floor(data.length / FLOATS_PER_INSTANCE), limit));
}
