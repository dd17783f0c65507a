// The contract between the scene code (live rooms, replays, benchmark page)
// and the renderers (WebGPU, WebGL2, Canvas 2D). Everything a frame needs is
// packed by the caller into one reusable Float32Array, so a frame allocates
// nothing and a renderer uploads it with a single write.

/** Shapes a renderer can draw. Values are stored in the instance buffer. */
export const enum Shape {
  Circle = 0,
  Rect = 1,
  /** An arrow-like triangle pointing along +x, rotated by angle: avatars, cursors. */
  Arrow = 2,
  /** A ring (circle outline): highlights, pickups. */
  Ring = 3,
}

/**
 * Floats per instance in the packed buffer:
 * [x, y, w, h, angle, rgb, shape, alpha]
 * - x, y: centre in world units; w, h: size in world units
 * - angle: radians, counter-clockwise from +x (world y grows downwards, as on screen)
 * - rgb: 0xRRGGBB stored as a float (exact up to 2^24)
 * - shape: a Shape value; alpha: 0..1
 */
export const FLOATS_PER_INSTANCE = 8;

/** A text label drawn at a world position (names of avatars, cursors, props). */
export interface Label {
  x: number;
  y: number;
  text: string;
  rgb: number;
}

/**
 * The visible part of the world: without a camera the whole world fitted
 * into the canvas, aspect kept; with one (cameraX, cameraY finite) a window
 * of at least spanWidth x spanHeight world units around the camera, kept
 * inside the world (see fitView).
 */
export interface View {
  worldWidth: number;
  worldHeight: number;
  /** Background colour 0xRRGGBB. */
  background: number;
  /** The world point to show at the canvas' centre, clamped so no space beyond the world shows; NaN or absent: no camera. */
  cameraX?: number;
  cameraY?: number;
  /** With a camera: the world area at least shown (default the whole world). */
  spanWidth?: number;
  spanHeight?: number;
}

export type RendererName = 'WebGPU' | 'WebGL2' | '2D';

export interface Renderer {
  readonly name: RendererName;
  /** Draws one frame: count instances from data (FLOATS_PER_INSTANCE each), then labels. */
  frame(view: View, data: Float32Array, count: number, labels: readonly Label[], labelCount: number): void;
  /** Called when the canvas' CSS size or devicePixelRatio changed. */
  resize(cssWidth: number, cssHeight: number, devicePixelRatio: number): void;
  /** Releases GPU objects and listeners. */
  destroy(): void;
}

export interface RendererOptions {
  /** Try only these back-ends, in this order. Default ['WebGPU', 'WebGL2', '2D']. */
  prefer?: RendererName[];
  /** Called when the renderer lost its device and is recreating it, or failed for good. */
  onStatus?: (message: string) => void;
}
