// A 2D canvas stacked exactly over a GPU canvas, where the GPU renderers draw
// their labels: text through the 2D API is crisp and cheap, while text on the
// GPU would need a glyph atlas.

import { CssColorCache } from './color';
import { LabelPainter } from './labels';
import type { ViewTransform } from './transform';
import type { Label } from './types';

export class LabelOverlay {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly painter = new LabelPainter(new CssColorCache());
  /** Whether the last frame drew anything, so an empty frame clears only once. */
  private dirty = false;
  private left = NaN;
  private top = NaN;
  private cssWidth = NaN;
  private cssHeight = NaN;
  private devicePixelRatio = NaN;
  private destroyed = false;

  constructor(private readonly under: HTMLCanvasElement) {
    const canvas = under.ownerDocument.createElement('canvas');
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('labels: no 2D context for the overlay canvas');
    canvas.className = 'tickroom-label-overlay';
    canvas.setAttribute('aria-hidden', 'true');
    // Clicks and hovers must reach the scene canvas underneath.
    canvas.style.position = 'absolute';
    canvas.style.pointerEvents = 'none';
    this.canvas = canvas;
    this.ctx = ctx;
    this.attach();
  }

  /**
   * Matches the scene canvas' drawing-buffer size and CSS box. A no-op when
   * nothing changed, as assigning a canvas' size clears it even when equal.
   */
  resize(pixelWidth: number, pixelHeight: number, cssWidth: number, cssHeight: number, devicePixelRatio: number): void {
    const c = this.canvas;
    if (c.width === pixelWidth && c.height === pixelHeight && cssWidth === this.cssWidth && cssHeight === this.cssHeight && devicePixelRatio === this.devicePixelRatio) return;
    this.cssWidth = cssWidth;
    this.cssHeight = cssHeight;
    this.devicePixelRatio = devicePixelRatio;
    c.width = pixelWidth;
    c.height = pixelHeight;
    c.style.width = `${cssWidth}px`;
    c.style.height = `${cssHeight}px`;
    this.place();
    // Resizing reset the context's text state.
    this.painter.resize(this.ctx, devicePixelRatio);
    this.dirty = false;
  }

  draw(t: ViewTransform, labels: readonly Label[], count: number): void {
    this.place();
    if (this.dirty) this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.dirty = count > 0;
    this.painter.draw(this.ctx, t, labels, count);
  }

  /**
   * Keeps the overlay right after the scene canvas, also when the canvas was
   * not in the document yet when the renderer was made, or has moved since.
   */
  private attach(): void {
    if (this.destroyed || this.canvas.previousSibling === this.under || !this.under.parentNode) return;
    this.under.insertAdjacentElement('afterend', this.canvas);
  }

  destroy(): void {
    this.destroyed = true;
    this.canvas.remove();
  }

  /**
   * Both canvases share an offset parent (the overlay is absolutely positioned,
   * the scene canvas is laid out normally), so copying the scene canvas' offset
   * plus its border stacks the overlay on its content box. Checked every frame
   * because the canvas can move without resizing (content above it changes);
   * inside requestAnimationFrame the layout is normally clean, so reading the
   * offsets is cheap, and the style is written only when they changed.
   */
  private place(): void {
    this.attach();
    const u = this.under;
    const left = u.offsetLeft + u.clientLeft;
    const top = u.offsetTop + u.clientTop;
    if (left === this.left && top === this.top) return;
    this.left = left;
    this.top = top;
    this.canvas.style.left = `${left}px`;
    this.canvas.style.top = `${top}px`;
  }
}
