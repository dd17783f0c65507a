// The Canvas 2D fallback: the same shapes as paths, one setTransform per shape
// (no save/restore, which would copy the whole state), labels on top.

import { CssColorCache } from './color';
import { LabelPainter } from './labels';
import { OnceReporter, type Report } from './report';
import { RING_WIDTH, drawableCount } from './shapes';
import { devicePixels, fitView, layoutSize, newViewTransform } from './transform';
import { FLOATS_PER_INSTANCE, Shape, type Label, type Renderer, type View } from './types';

const TAU = 2 * Math.PI;

export class Canvas2DRenderer implements Renderer {
  readonly name = '2D' as const;
  private readonly colors = new CssColorCache();
  private readonly labels = new LabelPainter(this.colors);
  private readonly warnings: OnceReporter;
  private readonly transform = newViewTransform();
  private devicePixelRatio = NaN;
  private destroyed = false;

  /** Throws when the canvas cannot give a 2D context (e.g. it already has a GPU one). */
  static create(canvas: HTMLCanvasElement, report: Report): Canvas2DRenderer {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('2D: canvas.getContext("2d") returned null');
    return new Canvas2DRenderer(canvas, ctx, report);
  }

  private constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly ctx: CanvasRenderingContext2D,
    report: Report,
  ) {
    this.warnings = new OnceReporter(report);
    const size = layoutSize(canvas);
    this.resize(size.cssWidth, size.cssHeight, size.devicePixelRatio);
  }

  frame(view: View, data: Float32Array, count: number, labels: readonly Label[], labelCount: number): void {
    if (this.destroyed) return;
    const ctx = this.ctx;
    const t = this.transform;
    fitView(view, this.canvas.width, this.canvas.height, t);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = this.colors.get(view.background);
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);

    const n = drawableCount(count, data, Number.MAX_SAFE_INTEGER);
    if (n < count) this.warnings.once('count', `2D: asked for ${count} instances, data holds ${n}`);
    // Style changes are costly on a 2D context: set them only when they differ.
    let lastRgb = -1;
    let lastAlpha = 1;
    for (let i = 0, o = 0; i < n; i++, o += FLOATS_PER_INSTANCE) {
      const alpha = Math.min(1, data[o + 7]);
      if (!(alpha > 0)) continue;
      const rgb = data[o + 5];
      if (rgb !== lastRgb) ctx.fillStyle = this.colors.get((lastRgb = rgb));
      if (alpha !== lastAlpha) ctx.globalAlpha = lastAlpha = alpha;
      // Scale, then rotate counter-clockwise on a y-down screen (see shapes.ts).
      const s = t.scale;
      const cos = Math.cos(data[o + 4]) * s;
      const sin = Math.sin(data[o + 4]) * s;
      ctx.setTransform(cos, -sin, sin, cos, data[o] * s + t.offsetX, data[o + 1] * s + t.offsetY);
      // ellipse() throws on negative radii; the GPU shaders take abs() too.
      drawShape(ctx, data[o + 6], Math.abs(data[o + 2]) / 2, Math.abs(data[o + 3]) / 2);
    }
    this.labels.draw(ctx, t, labels, labelCount);
  }

  resize(cssWidth: number, cssHeight: number, devicePixelRatio: number): void {
    if (this.destroyed) return;
    const width = devicePixels(cssWidth, devicePixelRatio);
    const height = devicePixels(cssHeight, devicePixelRatio);
    if (this.canvas.width === width && this.canvas.height === height && devicePixelRatio === this.devicePixelRatio) return;
    // Assigning a canvas' size clears it and resets the context, even when equal.
    this.canvas.width = width;
    this.canvas.height = height;
    this.devicePixelRatio = devicePixelRatio;
    this.labels.resize(this.ctx, devicePixelRatio);
  }

  destroy(): void {
    this.destroyed = true;
  }
}

/** Fills one shape centred on the origin of the current transform; hw, hh are half sizes. */
function drawShape(ctx: CanvasRenderingContext2D, shape: number, hw: number, hh: number): void {
  switch (Math.round(shape)) {
    case Shape.Rect:
      ctx.fillRect(-hw, -hh, 2 * hw, 2 * hh);
      return;
    case Shape.Arrow:
      ctx.beginPath();
      ctx.moveTo(hw, 0);
      ctx.lineTo(-hw, -hh);
      ctx.lineTo(-hw, hh);
      ctx.closePath();
      ctx.fill();
      return;
    case Shape.Ring: {
      const width = RING_WIDTH * Math.min(hw, hh);
      ctx.beginPath();
      ctx.ellipse(0, 0, hw, hh, 0, 0, TAU);
      ctx.moveTo(Math.max(0, hw - width), 0); // no seam between the two outlines
      ctx.ellipse(0, 0, Math.max(0, hw - width), Math.max(0, hh - width), 0, 0, TAU);
      ctx.fill('evenodd');
      return;
    }
    default:
      ctx.beginPath();
      ctx.ellipse(0, 0, hw, hh, 0, 0, TAU);
      ctx.fill();
  }
}
