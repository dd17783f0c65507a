// Label text drawn with the 2D canvas API: directly by the 2D renderer, and on
// an overlay canvas by the GPU renderers. Text is a fixed CSS size whatever the
// zoom, and outlined so it stays readable over any shape or background.

import type { CssColorCache } from './color';
import type { ViewTransform } from './transform';
import type { Label } from './types';

const LABEL_CSS_PX = 12;
const OUTLINE = 'rgba(0, 0, 0, 0.75)';

export class LabelPainter {
  private font = '';
  private outlineWidth = 1;

  constructor(private readonly colors: CssColorCache) {}

  /** Call after the canvas was resized: resizing resets a 2D context's state. */
  resize(ctx: CanvasRenderingContext2D, devicePixelRatio: number): void {
    this.font = `600 ${Math.round(LABEL_CSS_PX * devicePixelRatio)}px system-ui, sans-serif`;
    this.outlineWidth = 3 * devicePixelRatio;
    ctx.font = this.font;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.lineJoin = 'round';
  }

  /** Draws labels[0..count) centred on their world positions. */
  draw(ctx: CanvasRenderingContext2D, t: ViewTransform, labels: readonly Label[], count: number): void {
    const n = Math.min(count, labels.length);
    if (n <= 0) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.lineWidth = this.outlineWidth;
    ctx.strokeStyle = OUTLINE;
    for (let i = 0; i < n; i++) {
      const label = labels[i];
      const px = label.x * t.scale + t.offsetX;
      const py = label.y * t.scale + t.offsetY;
      ctx.strokeText(label.text, px, py);
      ctx.fillStyle = this.colors.get(label.rgb);
      ctx.fillText(label.text, px, py);
    }
  }
}
