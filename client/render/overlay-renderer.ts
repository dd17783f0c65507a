// What the two GPU renderers share: canvas sizing, the 2D label overlay, and
// the shell of a frame. A subclass draws its shapes (drawShapes) and frees
// its own GPU objects (release); the rest lives here once.

import { LabelOverlay } from './overlay';
import { OnceReporter, type Report } from './report';
import { devicePixels, fitView, layoutSize, newViewTransform } from './transform';
import type { Label, View } from './types';

export abstract class OverlayRenderer<Scene> {
  /** Null while the device or context is lost. */
  protected scene: Scene | null;
  protected readonly overlay: LabelOverlay;
  protected readonly warnings: OnceReporter;
  protected readonly transform = newViewTransform();
  protected destroyed = false;

  protected constructor(
    protected readonly canvas: HTMLCanvasElement,
    scene: Scene,
    protected readonly report: Report,
  ) {
    this.scene = scene;
    this.warnings = new OnceReporter(report);
    this.overlay = new LabelOverlay(canvas);
  }

  /** Sizes the canvas to its layout; subclasses call it at the end of their constructor. */
  protected fitToLayout(): void {
    const size = layoutSize(this.canvas);
    this.resize(size.cssWidth, size.cssHeight, size.devicePixelRatio);
  }

  frame(view: View, data: Float32Array, count: number, labels: readonly Label[], labelCount: number): void {
    if (this.destroyed) return;
    fitView(view, this.canvas.width, this.canvas.height, this.transform);
    if (this.scene) this.drawShapes(this.scene, view, data, count);
    this.overlay.draw(this.transform, labels, labelCount);
  }

  resize(cssWidth: number, cssHeight: number, devicePixelRatio: number): void {
    if (this.destroyed) return;
    const width = devicePixels(cssWidth, devicePixelRatio);
    const height = devicePixels(cssHeight, devicePixelRatio);
    // Assigning even an unchanged size would reallocate the drawing buffer.
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    this.overlay.resize(width, height, cssWidth, cssHeight, devicePixelRatio);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.overlay.destroy();
    this.release();
  }

  protected abstract drawShapes(scene: Scene, view: View, data: Float32Array, count: number): void;

  /** Frees the subclass's GPU objects and listeners, once. */
  protected abstract release(): void;
}
