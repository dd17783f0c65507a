// The render benchmark page (/bench/render, assets/bench.html): n shapes move
// and spin for a number of frames; the page reports the frame interval (from
// requestAnimationFrame timestamps, which includes GPU back-pressure) and the
// CPU time of renderer.frame() calls.
//
// Query: ?n=1000 shapes, ?renderer=WebGPU|WebGL2|2D (the only back-end tried;
// default order otherwise), ?frames=120 measured after ?warmup=20, ?labels=0.

import { createRenderer, FLOATS_PER_INSTANCE, type Label, type Renderer, type RendererName, type View } from './index';

export interface BenchResult {
  renderer?: RendererName;
  n: number;
  labels: number;
  frames: number;
  canvasWidth?: number;
  canvasHeight?: number;
  /** Interval between requestAnimationFrame timestamps. */
  frameMedianMs?: number;
  frameP95Ms?: number;
  /** CPU time spent inside renderer.frame(). */
  cpuMedianMs?: number;
  cpuP95Ms?: number;
  status: string[];
  error?: string;
}

declare global {
  interface Window {
    benchResult?: BenchResult;
  }
}

const CSS_WIDTH = 800;
const CSS_HEIGHT = 600;
const view: View = { worldWidth: 1600, worldHeight: 1200, background: 0x101820 };
const PALETTE = [0xe6194b, 0x3cb44b, 0xffe119, 0x4363d8, 0xf58231, 0x911eb4, 0x46f0f0, 0xf032e6];

function intParam(params: URLSearchParams, name: string, fallback: number): number {
  const v = Number.parseInt(params.get(name) ?? '', 10);
  return Number.isFinite(v) && v >= 0 ? v : fallback;
}

/** A fixed-seed generator, so every run draws the same scene. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shapes with random positions, sizes, kinds and colours; velocities kept aside. */
function makeScene(n: number): { data: Float32Array; velocity: Float32Array } {
  const random = mulberry32(42);
  const data = new Float32Array(n * FLOATS_PER_INSTANCE);
  const velocity = new Float32Array(n * 3); // vx, vy (world units per frame), spin (radians per frame)
  for (let i = 0; i < n; i++) {
    const o = i * FLOATS_PER_INSTANCE;
    const size = 8 + random() * 24;
    data[o] = random() * view.worldWidth;
    data[o + 1] = random() * view.worldHeight;
    data[o + 2] = size;
    data[o + 3] = size * (0.6 + random() * 0.4);
    data[o + 4] = random() * Math.PI * 2;
    data[o + 5] = PALETTE[i % PALETTE.length];
    data[o + 6] = i % 4;
    data[o + 7] = 0.6 + random() * 0.4;
    velocity[i * 3] = (random() - 0.5) * 8;
    velocity[i * 3 + 1] = (random() - 0.5) * 8;
    velocity[i * 3 + 2] = (random() - 0.5) * 0.1;
  }
  return { data, velocity };
}

/** Moves every shape one frame, bouncing off the world's edges. */
function step(data: Float32Array, velocity: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const o = i * FLOATS_PER_INSTANCE;
    const v = i * 3;
    let x = data[o] + velocity[v];
    let y = data[o + 1] + velocity[v + 1];
    if (x < 0 || x > view.worldWidth) velocity[v] = -velocity[v];
    if (y < 0 || y > view.worldHeight) velocity[v + 1] = -velocity[v + 1];
    x = Math.min(Math.max(x, 0), view.worldWidth);
    y = Math.min(Math.max(y, 0), view.worldHeight);
    data[o] = x;
    data[o + 1] = y;
    data[o + 4] += velocity[v + 2];
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Runs warmup + frames animation frames and resolves with the measurements. */
function measure(renderer: Renderer, n: number, labelList: Label[], warmup: number, frames: number) {
  const { data, velocity } = makeScene(n);
  const intervals = new Float64Array(frames);
  const cpu = new Float64Array(frames);
  return new Promise<{ intervals: Float64Array; cpu: Float64Array }>((resolve) => {
    let frame = 0;
    let last = 0;
    const tick = (now: number): void => {
      step(data, velocity, n);
      for (let i = 0; i < labelList.length; i++) {
        labelList[i].x = data[i * FLOATS_PER_INSTANCE];
        labelList[i].y = data[i * FLOATS_PER_INSTANCE + 1] - 20;
      }
      const start = performance.now();
      renderer.frame(view, data, n, labelList, labelList.length);
      const spent = performance.now() - start;
      const k = frame - warmup;
      if (k >= 0) {
        cpu[k] = spent;
        intervals[k] = now - last;
      }
      last = now;
      frame++;
      if (k + 1 >= frames) resolve({ intervals, cpu });
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

async function main(result: BenchResult, params: URLSearchParams): Promise<void> {
  const canvas = document.getElementById('bench');
  if (!(canvas instanceof HTMLCanvasElement)) throw new Error('bench: no <canvas id="bench">');
  canvas.style.width = `${CSS_WIDTH}px`;
  canvas.style.height = `${CSS_HEIGHT}px`;
  const only = params.get('renderer') as RendererName | null;
  const renderer = await createRenderer(canvas, {
    prefer: only ? [only] : undefined,
    onStatus: (message) => result.status.push(message),
  });
  renderer.resize(CSS_WIDTH, CSS_HEIGHT, devicePixelRatio);
  result.renderer = renderer.name;
  result.canvasWidth = canvas.width;
  result.canvasHeight = canvas.height;
  const labelList: Label[] = [];
  for (let i = 0; i < Math.min(result.labels, result.n); i++) labelList.push({ x: 0, y: 0, text: `player ${i}`, rgb: 0xffffff });

  const { intervals, cpu } = await measure(renderer, result.n, labelList, Math.max(1, intParam(params, 'warmup', 20)), result.frames);
  intervals.sort();
  cpu.sort();
  result.frameMedianMs = round(percentile(intervals, 0.5));
  result.frameP95Ms = round(percentile(intervals, 0.95));
  result.cpuMedianMs = round(percentile(cpu, 0.5));
  result.cpuP95Ms = round(percentile(cpu, 0.95));
  renderer.destroy();
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

const params = new URLSearchParams(location.search);
const result: BenchResult = {
  n: intParam(params, 'n', 1000),
  labels: intParam(params, 'labels', 0),
  frames: Math.max(1, intParam(params, 'frames', 120)),
  status: [],
};
const show = (): void => {
  window.benchResult = result;
  const pre = document.getElementById('result');
  if (pre) pre.textContent = JSON.stringify(result, null, 2);
};
main(result, params).then(show, (e: unknown) => {
  result.error = e instanceof Error ? e.message : String(e);
  show();
});
