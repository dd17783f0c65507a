// Entry of the browser test page (client/e2e/render.test.mjs): draws a fixed
// scene whose pixels the test checks. Query: ?renderer=NAME picks the only
// back-end to try (otherwise the default order), ?lose=1 loses the device or
// context after the first frames and draws again once it is back, ?error=1
// causes a WebGPU validation error, which must come back as a status,
// ?pad=N adds N invisible shapes first, and ?late=1 creates the renderer
// before the canvas is in the document.

import { createRenderer, FLOATS_PER_INSTANCE, Shape, type Label, type Renderer, type View } from './index';
import { WebGL2Renderer } from './webgl2';
import { WebGPURenderer } from './webgpu';

/** What the test reads back from the page. */
export interface TestResult {
  name?: string;
  error?: string;
  canvasWidth?: number;
  canvasHeight?: number;
  status: string[];
}

declare global {
  interface Window {
    testResult?: TestResult;
    testRenderer?: Renderer;
  }
}

export const CSS_WIDTH = 320;
export const CSS_HEIGHT = 200;

// The world is 2:1 and the canvas 8:5, so the world is letterboxed: scale 1.6,
// 20 CSS px of background above and below. The test's expectations follow.
const view: View = { worldWidth: 200, worldHeight: 100, background: 0x102030 };
// ?camera=1: a camera on world (60, 62) showing at least 100 x 62.5 world
// units: scale 3.2, world x 10..110 and y 30.75..93.25 on the canvas.
if (new URLSearchParams(location.search).get('camera') === '1') {
  view.cameraX = 60;
  view.cameraY = 62;
  view.spanWidth = 100;
  view.spanHeight = 62.5;
}

const shapes: [x: number, y: number, w: number, h: number, angle: number, rgb: number, shape: Shape, alpha: number][] = [
  [40, 50, 40, 40, 0, 0xff0000, Shape.Circle, 1],
  [160, 50, 40, 30, 0, 0x0000ff, Shape.Rect, 1],
  // Pointing up: counter-clockwise by 90 degrees from +x.
  [100, 30, 30, 20, Math.PI / 2, 0x00ff00, Shape.Arrow, 1],
  [100, 75, 30, 30, 0, 0xffff00, Shape.Ring, 1],
  [100, 96, 20, 6, 0, 0xffffff, Shape.Rect, 0.5],
];
const labels: Label[] = [{ x: 40, y: 90, text: 'HELLO', rgb: 0xffffff }];

// ?pad=N puts N invisible (alpha 0) shapes before the known ones, so the
// instance buffer must grow past its initial capacity and the known shapes sit
// at high indices.
const pad = Math.max(0, Number.parseInt(new URLSearchParams(location.search).get('pad') ?? '0', 10) || 0);
const count = pad + shapes.length;
const data = new Float32Array(count * FLOATS_PER_INSTANCE);
for (let i = 0; i < pad; i++) data.set([i % 200, 50, 10, 10, 0, 0xffffff, Shape.Circle, 0], i * FLOATS_PER_INSTANCE);
shapes.forEach((s, i) => data.set(s, (pad + i) * FLOATS_PER_INSTANCE));

const result: TestResult = { status: [] };

function nextFrame(): Promise<number> {
  return new Promise((resolve) => requestAnimationFrame(resolve));
}

async function drawFrames(renderer: Renderer, frames: number): Promise<void> {
  for (let i = 0; i < frames; i++) {
    await nextFrame();
    renderer.frame(view, data, count, labels, labels.length);
  }
}

async function waitForStatus(pattern: RegExp, timeoutMs: number): Promise<void> {
  const start = performance.now();
  while (!result.status.some((s) => pattern.test(s))) {
    if (performance.now() - start > timeoutMs) throw new Error(`no status matching ${pattern} within ${timeoutMs} ms`);
    await nextFrame();
  }
}

async function loseAndRecover(renderer: Renderer): Promise<void> {
  if (renderer instanceof WebGPURenderer) {
    renderer.loseDeviceForTesting();
    await waitForStatus(/recreated/, 10_000);
  } else if (renderer instanceof WebGL2Renderer) {
    renderer.loseContextForTesting(50);
    await waitForStatus(/restored/, 10_000);
  }
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const only = params.get('renderer');
  const canvas = document.createElement('canvas');
  canvas.style.width = `${CSS_WIDTH}px`;
  canvas.style.height = `${CSS_HEIGHT}px`;
  canvas.style.display = 'block';
  const stage = document.getElementById('stage');
  if (!stage) throw new Error('testpage: no #stage');
  // ?late=1: the canvas joins the document only after the renderer exists.
  const late = params.get('late') === '1';
  if (!late) stage.append(canvas);

  const renderer = await createRenderer(canvas, {
    prefer: only ? [only as Renderer['name']] : undefined,
    onStatus: (message) => result.status.push(message),
  });
  window.testRenderer = renderer;
  if (late) stage.append(canvas);
  renderer.resize(CSS_WIDTH, CSS_HEIGHT, devicePixelRatio);
  await drawFrames(renderer, 3);
  if (params.get('lose') === '1') {
    await loseAndRecover(renderer);
    await drawFrames(renderer, 3);
  }
  if (params.get('error') === '1' && renderer instanceof WebGPURenderer) {
    renderer.causeErrorForTesting();
    await waitForStatus(/WebGPU error/, 10_000);
  }
  result.name = renderer.name;
  result.canvasWidth = canvas.width;
  result.canvasHeight = canvas.height;
}

main().then(
  () => (window.testResult = result),
  (e: unknown) => (window.testResult = { ...result, error: e instanceof Error ? e.message : String(e) }),
);
