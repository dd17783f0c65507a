// Picks the best renderer this browser offers: WebGPU, then WebGL2, then the
// 2D canvas, unless opts.prefer says otherwise.

import { Canvas2DRenderer } from './canvas2d';
import { errorMessage, reporter, type Report } from './report';
import type { Renderer, RendererName, RendererOptions } from './types';
import { WebGL2Renderer } from './webgl2';
import { WebGPURenderer } from './webgpu';

export * from './types';

const DEFAULT_ORDER: readonly RendererName[] = ['WebGPU', 'WebGL2', '2D'];

/**
 * Creates the first renderer in the preferred order that works on canvas.
 * Each back-end that fails is logged with its reason before the next is tried;
 * if none works the returned promise rejects with every reason.
 *
 * A back-end that fails after taking the canvas' context (rare: e.g. a shader
 * that does not compile) leaves the canvas unusable for the ones after it.
 */
export async function createRenderer(canvas: HTMLCanvasElement, opts: RendererOptions = {}): Promise<Renderer> {
  const report = reporter(opts.onStatus);
  const order = opts.prefer && opts.prefer.length > 0 ? opts.prefer : DEFAULT_ORDER;
  const failures: string[] = [];
  for (const name of order) {
    try {
      return await create(name, canvas, report);
    } catch (e) {
      const reason = errorMessage(e);
      failures.push(`${name}: ${reason}`);
      console.warn(`render: ${name} unavailable: ${reason}`);
    }
  }
  throw new Error(`render: no renderer works here (${failures.join('; ')})`);
}

function create(name: RendererName, canvas: HTMLCanvasElement, report: Report): Promise<Renderer> | Renderer {
  switch (name) {
    case 'WebGPU':
      return WebGPURenderer.create(canvas, report);
    case 'WebGL2':
      return WebGL2Renderer.create(canvas, report);
    case '2D':
      return Canvas2DRenderer.create(canvas, report);
  }
}
