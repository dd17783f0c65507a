// The monitor's live chart: a room's tick time (last tick and p99) and its
// delta bandwidth over the last minute, drawn on a 2D canvas: two stacked
// plots sharing the time axis, each scaled to its own maximum.

export interface Sample {
  /** Server time, ms. */
  t: number;
  lastTickMs: number;
  tickP99Ms: number;
  /** NaN for the first sample of a room (no earlier counter to compare with). */
  bytesPerSec: number;
}

const WINDOW_MS = 60_000;
const COLORS = { last: '#4f8cff', p99: '#ff8a3d', bw: '#3ccf91', grid: '#2c3548', text: '#98a2b8' };

export class Chart {
  readonly canvas: HTMLCanvasElement;

  constructor(
    private readonly cssWidth = 360,
    private readonly cssHeight = 170,
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.id = 'admin-chart';
    this.canvas.style.width = `${cssWidth}px`;
    this.canvas.style.height = `${cssHeight}px`;
  }

  draw(samples: readonly Sample[], bytesText: (n: number) => string): void {
    const dpr = devicePixelRatio || 1;
    const c = this.canvas;
    if (c.width !== Math.round(this.cssWidth * dpr)) {
      c.width = Math.round(this.cssWidth * dpr);
      c.height = Math.round(this.cssHeight * dpr);
    }
    const g = c.getContext('2d');
    if (g === null) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, this.cssWidth, this.cssHeight);
    g.font = '11px system-ui, sans-serif';
    const now = samples.length > 0 ? samples[samples.length - 1]!.t : 0;
    const half = (this.cssHeight - 8) / 2;
    const tickMax = niceMax(Math.max(0.1, ...samples.map((s) => Math.max(s.lastTickMs, s.tickP99Ms))));
    const bwMax = niceMax(Math.max(100, ...samples.map((s) => (Number.isFinite(s.bytesPerSec) ? s.bytesPerSec : 0))));
    this.plot(g, samples, now, 0, half, tickMax, [
      [COLORS.p99, (s) => s.tickP99Ms],
      [COLORS.last, (s) => s.lastTickMs],
    ]);
    this.plot(g, samples, now, half + 8, half, bwMax, [[COLORS.bw, (s) => s.bytesPerSec]]);
    g.fillStyle = COLORS.text;
    g.fillText(`tick ms (max ${tickMax}) `, 4, 12);
    const w = g.measureText(`tick ms (max ${tickMax}) `).width;
    g.fillStyle = COLORS.last;
    g.fillText('last', 4 + w, 12);
    g.fillStyle = COLORS.p99;
    g.fillText('p99', 4 + w + g.measureText('last ').width, 12);
    g.fillStyle = COLORS.bw;
    g.fillText(`delta ${bytesText(bwMax)}/s max`, 4, half + 20);
  }

  private plot(
    g: CanvasRenderingContext2D,
    samples: readonly Sample[],
    now: number,
    top: number,
    height: number,
    max: number,
    series: Array<[string, (s: Sample) => number]>,
  ): void {
    g.strokeStyle = COLORS.grid;
    g.lineWidth = 1;
    g.strokeRect(0.5, top + 0.5, this.cssWidth - 1, height - 1);
    const x = (t: number): number => this.cssWidth - ((now - t) / WINDOW_MS) * this.cssWidth;
    const y = (v: number): number => top + height - 2 - (Math.min(v, max) / max) * (height - 4);
    for (const [color, value] of series) {
      g.strokeStyle = color;
      g.lineWidth = 1.5;
      g.beginPath();
      let pen = false;
      for (const s of samples) {
        const v = value(s);
        if (!Number.isFinite(v)) {
          pen = false;
          continue;
        }
        if (pen) g.lineTo(x(s.t), y(v));
        else g.moveTo(x(s.t), y(v));
        pen = true;
      }
      g.stroke();
    }
  }
}

/** Drops samples older than the chart's window. */
export function trimSamples(samples: Sample[], now: number): void {
  let n = 0;
  while (n < samples.length && samples[n]!.t < now - WINDOW_MS) n++;
  if (n > 0) samples.splice(0, n);
}

/** A round axis maximum at or above v: 1, 2 or 5 times a power of ten. */
export function niceMax(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return +(m * p).toPrecision(3);
  return v;
}
