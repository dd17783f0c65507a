// The world-to-screen mapping shared by every renderer, so shapes and labels
// land on the same pixels whichever back-end draws them.

import type { View } from './types';

/**
 * Maps world units to device pixels: px = x * scale + offsetX, py = y * scale + offsetY.
 * The world rectangle is fitted into the canvas with its aspect kept and
 * centred (letterboxed); y grows downwards in both spaces.
 */
export interface ViewTransform {
  scale: number;
  offsetX: number;
  offsetY: number;
  /** Drawing-buffer size in device pixels the transform was computed for. */
  pixelWidth: number;
  pixelHeight: number;
}

export function newViewTransform(): ViewTransform {
  return { scale: 1, offsetX: 0, offsetY: 0, pixelWidth: 1, pixelHeight: 1 };
}

/**
 * Fills out (instead of returning a new object) so a frame allocates nothing.
 *
 * With a camera the scale fits the span (never less than fitting the whole
 * world), and along each axis the camera point is centred but clamped so
 * that the world's edge stops at the canvas' edge; an axis the whole world
 * fits along is centred as without a camera.
 */
export function fitView(view: View, pixelWidth: number, pixelHeight: number, out: ViewTransform): void {
  const worldWidth = view.worldWidth > 0 ? view.worldWidth : 1;
  const worldHeight = view.worldHeight > 0 ? view.worldHeight : 1;
  let scale = Math.min(pixelWidth / worldWidth, pixelHeight / worldHeight);
  const cx = view.cameraX ?? NaN;
  const cy = view.cameraY ?? NaN;
  // x - x is 0 exactly for finite x (NaN and infinities give NaN); unlike
  // Number.isFinite it boxes no double before the code is optimized.
  const camera = cx - cx === 0 && cy - cy === 0;
  if (camera) {
    const spanW = view.spanWidth !== undefined && view.spanWidth > 0 ? view.spanWidth : worldWidth;
    const spanH = view.spanHeight !== undefined && view.spanHeight > 0 ? view.spanHeight : worldHeight;
    scale = Math.max(scale, Math.min(pixelWidth / spanW, pixelHeight / spanH));
  }
  out.scale = scale;
  out.offsetX = camera ? axisOffset(pixelWidth, worldWidth, scale, cx) : (pixelWidth - worldWidth * scale) / 2;
  out.offsetY = camera ? axisOffset(pixelHeight, worldHeight, scale, cy) : (pixelHeight - worldHeight * scale) / 2;
  out.pixelWidth = pixelWidth;
  out.pixelHeight = pixelHeight;
}

/** The offset that puts centre mid-canvas, clamped to the world's extent along one axis. */
function axisOffset(pixels: number, world: number, scale: number, centre: number): number {
  const shown = pixels / scale;
  if (shown >= world) return (pixels - world * scale) / 2;
  const c = Math.min(world - shown / 2, Math.max(shown / 2, centre));
  return pixels / 2 - c * scale;
}

/** The world rectangle a transform shows, written into out as [left, top, right, bottom]. */
export function visibleWorld(t: ViewTransform, out: Float64Array): void {
  out[0] = -t.offsetX / t.scale;
  out[1] = -t.offsetY / t.scale;
  out[2] = (t.pixelWidth - t.offsetX) / t.scale;
  out[3] = (t.pixelHeight - t.offsetY) / t.scale;
}

/**
 * Writes the GPU form of t into out[offset..offset+5):
 * clip scale x/y, clip offset x/y (clip space has y up, hence the sign flip),
 * and the size of one device pixel in world units (the antialiasing width).
 */
export function writeClipTransform(t: ViewTransform, out: Float32Array, offset: number): void {
  out[offset] = (2 * t.scale) / t.pixelWidth;
  out[offset + 1] = (-2 * t.scale) / t.pixelHeight;
  out[offset + 2] = (2 * t.offsetX) / t.pixelWidth - 1;
  out[offset + 3] = 1 - (2 * t.offsetY) / t.pixelHeight;
  out[offset + 4] = 1 / t.scale;
}

/** Drawing-buffer size for a CSS size: at least 1x1, as a zero-sized GPU canvas is an error. */
export function devicePixels(css: number, devicePixelRatio: number): number {
  return Math.max(1, Math.round(css * devicePixelRatio));
}

/** The canvas' laid-out CSS size, or its attribute size when it is not laid out yet. */
export function layoutSize(canvas: HTMLCanvasElement): { cssWidth: number; cssHeight: number; devicePixelRatio: number } {
  const dpr = typeof devicePixelRatio === 'number' && devicePixelRatio > 0 ? devicePixelRatio : 1;
  const laidOut = canvas.clientWidth > 0 && canvas.clientHeight > 0;
  return {
    cssWidth: laidOut ? canvas.clientWidth : canvas.width,
    cssHeight: laidOut ? canvas.clientHeight : canvas.height,
    devicePixelRatio: laidOut ? dpr : 1,
  };
}
