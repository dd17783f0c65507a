// The WebGL2 renderer: one instanced draw call for every shape, fed by a
// per-instance attribute buffer that a frame refills with one bufferSubData.
// Labels go on a 2D overlay canvas. Survives context loss and restore.

import { channel } from './color';
import { OverlayRenderer } from './overlay-renderer';
import { errorMessage, type Report } from './report';
import { drawableCount } from './shapes';
import { writeClipTransform } from './transform';
import { FLOATS_PER_INSTANCE, type Renderer, type View } from './types';
import { createGlScene, deleteGlScene, ensureGlCapacity, type GlScene } from './webgl2-setup';

/**
 * gl.getError() stalls until the GPU process answers, so it is read only every
 * this many frames: errors are still reported, just not on the frame they happen.
 */
const ERROR_CHECK_FRAMES = 120;

export class WebGL2Renderer extends OverlayRenderer<GlScene> implements Renderer {
  readonly name = 'WebGL2' as const;
  private readonly clip = new Float32Array(5);
  private framesSinceErrorCheck = 0;

  /** Throws when WebGL2 is unusable. */
  static create(canvas: HTMLCanvasElement, report: Report): WebGL2Renderer {
    // Opaque and without depth or MSAA: every frame clears, and shapes antialias themselves.
    const gl = canvas.getContext('webgl2', { alpha: false, antialias: false, depth: false, stencil: false });
    if (!gl) throw new Error('WebGL2: canvas.getContext("webgl2") returned null');
    return new WebGL2Renderer(canvas, gl, createGlScene(gl), report);
  }

  private constructor(
    canvas: HTMLCanvasElement,
    private readonly gl: WebGL2RenderingContext,
    scene: GlScene,
    report: Report,
  ) {
    super(canvas, scene, report);
    canvas.addEventListener('webglcontextlost', this.onLost);
    canvas.addEventListener('webglcontextrestored', this.onRestored);
    this.fitToLayout();
  }

  protected override release(): void {
    this.canvas.removeEventListener('webglcontextlost', this.onLost);
    this.canvas.removeEventListener('webglcontextrestored', this.onRestored);
    if (this.scene) deleteGlScene(this.gl, this.scene);
    this.scene = null;
    // Browsers cap live WebGL contexts; give this one back now rather than at GC.
    this.gl.getExtension('WEBGL_lose_context')?.loseContext();
  }

  /** Loses the context and restores it a moment later, so tests can check the recovery. */
  loseContextForTesting(restoreAfterMs: number): void {
    const ext = this.gl.getExtension('WEBGL_lose_context');
    if (!ext) throw new Error('WebGL2: WEBGL_lose_context is not available');
    ext.loseContext();
    setTimeout(() => ext.restoreContext(), restoreAfterMs);
  }

  protected override drawShapes(scene: GlScene, view: View, data: Float32Array, count: number): void {
    const gl = this.gl;
    const n = drawableCount(count, data, Number.MAX_SAFE_INTEGER);
    if (n < count) this.warnings.once('count', `WebGL2: asked for ${count} instances, data holds ${n}`);
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    const bg = view.background;
    gl.clearColor(channel(bg, 16), channel(bg, 8), channel(bg, 0), 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (n > 0) {
      // The instance buffer, vertex array and program stay bound from setup.
      ensureGlCapacity(gl, scene, n);
      gl.bufferSubData(gl.ARRAY_BUFFER, 0, data, 0, n * FLOATS_PER_INSTANCE);
      writeClipTransform(this.transform, this.clip, 0);
      gl.uniform2f(scene.clipScale, this.clip[0], this.clip[1]);
      gl.uniform2f(scene.clipOffset, this.clip[2], this.clip[3]);
      gl.uniform1f(scene.pixel, this.clip[4]);
      gl.drawArraysInstanced(gl.TRIANGLES, 0, 6, n);
    }
    if (++this.framesSinceErrorCheck >= ERROR_CHECK_FRAMES) this.checkErrors();
  }

  private checkErrors(): void {
    this.framesSinceErrorCheck = 0;
    const error = this.gl.getError();
    // CONTEXT_LOST_WEBGL is reported by the lost event already.
    if (error !== this.gl.NO_ERROR && error !== this.gl.CONTEXT_LOST_WEBGL) {
      this.warnings.once(`gl${error}`, `WebGL2 error 0x${error.toString(16)} while drawing`);
    }
  }

  private readonly onLost = (event: Event): void => {
    // Without preventDefault the browser never restores the context.
    event.preventDefault();
    this.scene = null; // its objects died with the context
    this.report('WebGL2 context lost; waiting for the browser to restore it');
  };

  private readonly onRestored = (): void => {
    try {
      this.scene = createGlScene(this.gl);
      this.report('WebGL2 context restored');
    } catch (e) {
      this.report(`WebGL2 could not rebuild after a context restore, giving up: ${errorMessage(e)}`);
    }
  };
}
