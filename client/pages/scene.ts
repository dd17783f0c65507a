// The live scene: a full-window canvas drawn by the renderer from the mirror,
// with remote entities interpolated a couple of ticks back and the own avatar
// (or a dragged shape) placed where local input says.
//
// Per frame nothing is allocated: positions come from SnapshotBuffer.sample()
// (preallocated), instances are packed into one reused Float32Array, and
// labels are a reused pool of Label objects.
//
// A world larger than the screen gets a camera that follows one entity (the
// own avatar: followId); entities off the screen are not packed at all.
// Entities appearing or disappearing fade (fades.ts).
import { InterpolationClock, SnapshotBuffer, TickClock, type Entity, type Mirror } from '@tickroom/client';
import { createRenderer } from '../render/index';
import { fitView, newViewTransform, visibleWorld } from '../render/transform';
import { FLOATS_PER_INSTANCE, Shape, type Label, type Renderer, type View } from '../render/types';
import { Camera } from './camera';
import { drawSpec, numAt, shapeOf, type DrawSpec } from './draw-spec';
import { Fades } from './fades';

/** Without live timing (a replay): how far behind the newest tick entities are drawn. */
const INTERP_DELAY_TICKS = 2;
const LABEL_RGB = 0xe8ecf4;
const HIGHLIGHT_RGB = 0xffffff;
const FLOOR_RGB = 0x161c28;
/** With a camera, lines every GRID_STEP world units show the floor moving under the own avatar. */
const GRID_RGB = 0x1f2738;
const GRID_STEP = 200;
const GRID_LINE = 2;
/** With a camera, at least this much of the world shows (the arena's old field: about a screen). */
const CAMERA_SPAN_WIDTH = 1000;
const CAMERA_SPAN_HEIGHT = 600;
/** The arrow pointing at another player off the screen: its size and its distance from the edge, in CSS pixels. */
const MARKER_PX = 16;
const MARKER_INSET_PX = 14;
/** World units beyond an entity's size that count as on screen: its label sticks out. */
const CULL_MARGIN = 80;

/** Lets controllers draw some entity somewhere other than its interpolated position. */
export interface PositionOverride {
  /** Writes the position of `id` into out[0], out[1] and returns true, or returns false. */
  position(id: number, out: Float64Array): boolean;
}

export class Scene {
  readonly canvas: HTMLCanvasElement;
  readonly view: View = {
    worldWidth: 1000,
    worldHeight: 600,
    background: 0x0b0e14,
    cameraX: NaN,
    cameraY: NaN,
    spanWidth: CAMERA_SPAN_WIDTH,
    spanHeight: CAMERA_SPAN_HEIGHT,
  };
  readonly buffer = new SnapshotBuffer(16, 256);
  readonly clock: TickClock;
  /** Live rooms: the render time adapted to the network's jitter (InterpolationClock); null in replays. */
  readonly live: InterpolationClock | null;
  renderer: Renderer | null = null;
  /** Entity drawn with a highlight ring (the selected shape, or the own avatar). */
  highlightId = -1;
  /** Entities not to draw (e.g. the own cursor, which the real pointer already shows). */
  hiddenId = -1;
  hiddenMember = -1;
  /** Entity the camera follows (the own avatar); -1: no camera, the whole world fits the canvas. */
  followId = -1;
  /** When set, only the entities it shows are drawn (a replay following one member's view). */
  only: { shows(id: number): boolean } | null = null;
  readonly camera = new Camera();
  readonly fades = new Fades();
  override: PositionOverride | null = null;
  /** Called once per frame before packing, with the frame's wall-clock delta. */
  onFrame: ((dtMs: number) => void) | null = null;
  /** Called once per frame after drawing, with the frame's time (measurement tools read the scene here). */
  afterFrame: ((now: number) => void) | null = null;
  /** The (fractional) server tick the remote entities of the last frame were drawn at. */
  renderTick = NaN;
  /** How many instances the last frame drew (the first drawnCount of instances()), for tests and tools. */
  drawnCount = 0;

  private data = new Float32Array(256 * FLOATS_PER_INSTANCE);
  private labels: Label[] = [];
  /** Draw order for the current frame (indices into the sampled frame) and its sort keys. */
  private order = new Int32Array(256);
  private keys = new Float64Array(256);
  private readonly pos = new Float64Array(2);
  /** The world rectangle on screen this frame: left, top, right, bottom. */
  private readonly visible = new Float64Array(4);
  private readonly cssTransform = newViewTransform();
  private readonly transform = newViewTransform();
  private raf = 0;
  private lastFrame = 0;
  private unsubscribe: () => void = () => {};
  private resizeObserver: ResizeObserver | null = null;

  /**
   * @param live ticks arrive over a network (a room, not a replay): draw at
   * an InterpolationClock's render time, and drop frames that come late.
   */
  constructor(
    private readonly mirror: Mirror,
    tickRate: number,
    live = false,
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.id = 'scene';
    this.clock = new TickClock(1000 / tickRate);
    this.live = live ? new InterpolationClock(1000 / tickRate) : null;
    this.buffer.dropLate = live;
    this.buffer.cubic = live;
  }

  /** Creates the renderer (WebGPU, else WebGL2, else 2D) and starts drawing. */
  async start(onStatus: (message: string) => void): Promise<void> {
    this.renderer = await createRenderer(this.canvas, { onStatus });
    const resize = (): void => this.renderer?.resize(this.canvas.clientWidth, this.canvas.clientHeight, devicePixelRatio || 1);
    this.resizeObserver = new ResizeObserver(resize);
    this.resizeObserver.observe(this.canvas);
    resize();
    this.unsubscribe = this.mirror.subscribe((m, change) => this.record(m, change.tick));
    if (this.mirror.tick >= 0) this.record(this.mirror, this.mirror.tick);
    this.raf = requestAnimationFrame(this.frame);
  }

  /**
   * Starts drawing as a page shows it: the renderer's name goes into
   * `label`; if no renderer can start, the label says so, the page is told
   * why through `notice`, and the result is false (the page carries on
   * without a picture).
   */
  async startShowing(label: HTMLElement, notice: (message: string) => void): Promise<boolean> {
    try {
      await this.start(notice);
      label.textContent = this.renderer?.name ?? '';
      return true;
    } catch (err) {
      label.textContent = 'no renderer';
      notice(`Cannot draw the scene: ${(err as Error).message}`);
      return false;
    }
  }

  destroy(): void {
    this.resizeObserver?.disconnect();
    cancelAnimationFrame(this.raf);
    this.unsubscribe();
    this.renderer?.destroy();
    this.renderer = null;
  }

  setTickRate(tickRate: number): void {
    this.clock.setTickMs(1000 / tickRate);
    this.live?.setTickMs(1000 / tickRate);
  }

  setWorld(width: number, height: number): void {
    this.view.worldWidth = width;
    this.view.worldHeight = height;
  }

  /** The last frame's packed instances (FLOATS_PER_INSTANCE each; read, do not keep). */
  instances(): Float32Array {
    return this.data;
  }

  /** World position -> CSS pixels relative to the canvas' top-left corner. */
  project(x: number, y: number): { x: number; y: number } {
    this.fitCss();
    const t = this.transform;
    return { x: x * t.scale + t.offsetX, y: y * t.scale + t.offsetY };
  }

  /** CSS pixels relative to the canvas -> world position. */
  unproject(px: number, py: number): { x: number; y: number } {
    this.fitCss();
    const t = this.transform;
    return { x: (px - t.offsetX) / t.scale, y: (py - t.offsetY) / t.scale };
  }

  private fitCss(): void {
    fitView(this.view, Math.max(1, this.canvas.clientWidth), Math.max(1, this.canvas.clientHeight), this.transform);
  }

  /** Stores this tick's positions for interpolation (once per tick, not per frame). */
  private record(m: Mirror, tick: number): void {
    const now = performance.now();
    this.clock.observe(tick, now);
    this.live?.observe(tick, now);
    const b = this.buffer;
    const fades = this.fades;
    b.begin(tick);
    fades.begin(tick);
    for (const e of m.entities.values()) {
      const s = drawSpec(e.kind);
      if (!s.drawable) continue;
      const x = numAt(e, s.x, 0);
      const y = numAt(e, s.y, 0);
      const angle = s.angle >= 0 ? numAt(e, s.angle, 0) : NaN;
      b.add(e.id, x, y, angle);
      // Following a view: entities crossing its edge fade in and out, as on the member's own page.
      if (this.only === null || this.only.shows(e.id)) fades.see(e, x, y, angle);
    }
    b.end();
    fades.end();
  }

  private readonly frame = (now: number): void => {
    this.raf = requestAnimationFrame(this.frame);
    const r = this.renderer;
    if (r === null) return;
    const dt = this.lastFrame === 0 ? 0 : now - this.lastFrame;
    this.lastFrame = now;
    this.onFrame?.(dt);
    this.renderTick = this.live !== null ? this.live.renderTick(now) : this.clock.tickAt(now) - INTERP_DELAY_TICKS;
    const f = this.buffer.sample(this.renderTick);
    this.aim(f.count, f.ids, f.x, f.y, dt);
    const vis = this.visible;
    const count = this.stackOrder(f.count, f.ids);
    const order = this.order;
    // The field itself, so its edges (where avatars stop) are visible.
    let n = this.put(0, this.view.worldWidth / 2, this.view.worldHeight / 2, this.view.worldWidth, this.view.worldHeight, 0, FLOOR_RGB, Shape.Rect, 1);
    if (this.followId >= 0) n = this.putGrid(n);
    let labelCount = 0;
    let hx = NaN;
    let hy = NaN;
    let hr = 0;
    for (let k = 0; k < count; k++) {
      const i = order[k]!;
      const id = f.ids[i]!;
      const e = this.mirror.entities.get(id)!;
      const s = drawSpec(e.kind);
      let x = f.x[i]!;
      let y = f.y[i]!;
      if (this.override !== null && this.override.position(id, this.pos)) {
        x = this.pos[0]!;
        y = this.pos[1]!;
      }
      const w = numAt(e, s.w, s.defaultW);
      const h = numAt(e, s.h, s.defaultH);
      if (offScreen(vis, x, y, w, h)) {
        // Another player off the screen: an arrow at the edge points the way.
        if (this.followId >= 0 && s.label >= 0 && !s.isCursor) n = this.putMarker(n, x, y, numAt(e, s.color, s.defaultColor));
        continue;
      }
      const angle = f.angle[i]!;
      const alpha = this.fades.alpha(id, this.renderTick);
      n = this.put(n, x, y, w, h, Number.isNaN(angle) ? 0 : angle, numAt(e, s.color, s.defaultColor), shapeOf(e, s), alpha);
      if (id === this.highlightId) {
        hx = x;
        hy = y;
        hr = Math.max(w, h) + 12;
      }
      if (s.label >= 0) {
        const text = e.values[s.label];
        if (typeof text === 'string' && text !== '') {
          const l = this.label(labelCount++);
          l.x = x;
          l.y = s.isCursor ? y + h : y - h / 2 - 10;
          l.text = text;
          l.rgb = LABEL_RGB;
        }
      }
    }
    n = this.putGhosts(n);
    if (!Number.isNaN(hx)) n = this.put(n, hx, hy, hr, hr, 0, HIGHLIGHT_RGB, Shape.Ring, 0.8);
    r.frame(this.view, this.data, n, this.labels, labelCount);
    this.drawnCount = n;
    this.afterFrame?.(now);
  };

  /**
   * Points the camera at the followed entity (where it is drawn: the own
   * avatar's override, else its interpolated position) and works out which
   * part of the world is on screen. Without one to follow, the whole world
   * fits the canvas.
   */
  private aim(count: number, ids: Float64Array, xs: Float64Array, ys: Float64Array, dt: number): void {
    const v = this.view;
    const id = this.followId;
    let found = false;
    if (id >= 0 && this.override !== null && this.override.position(id, this.pos)) found = true;
    else if (id >= 0) {
      for (let i = 0; i < count; i++) {
        if (ids[i] !== id) continue;
        this.pos[0] = xs[i]!;
        this.pos[1] = ys[i]!;
        found = true;
        break;
      }
    }
    if (found) this.camera.follow(this.pos[0]!, this.pos[1]!, dt);
    else if (id < 0) this.camera.reset();
    // Until the followed entity is first seen the whole world shows.
    v.cameraX = this.camera.x;
    v.cameraY = this.camera.y;
    fitView(v, Math.max(1, this.canvas.clientWidth), Math.max(1, this.canvas.clientHeight), this.cssTransform);
    visibleWorld(this.cssTransform, this.visible);
  }

  /**
   * Packs an arrow just inside the screen's edge, on the line from the
   * screen's centre toward (x, y), pointing at it: where a named entity off
   * the screen (another player) is. Its size is in screen pixels.
   */
  private putMarker(n: number, x: number, y: number, rgb: number): number {
    const vis = this.visible;
    const px = 1 / this.cssTransform.scale; // world units per CSS pixel
    const cx = (vis[0]! + vis[2]!) / 2;
    const cy = (vis[1]! + vis[3]!) / 2;
    const hw = (vis[2]! - vis[0]!) / 2 - MARKER_INSET_PX * px;
    const hh = (vis[3]! - vis[1]!) / 2 - MARKER_INSET_PX * px;
    const dx = x - cx;
    const dy = y - cy;
    if (!(hw > 0 && hh > 0) || (dx === 0 && dy === 0)) return n;
    const k = Math.min(hw / Math.abs(dx), hh / Math.abs(dy)); // a zero component gives Infinity: the other one decides
    const size = MARKER_PX * px;
    return this.put(n, cx + dx * k, cy + dy * k, size, size * 0.8, Math.atan2(dy, dx), rgb, Shape.Arrow, 0.85);
  }

  /** Packs the floor's grid lines that are on screen. */
  private putGrid(n: number): number {
    const v = this.view;
    const vis = this.visible;
    const x0 = Math.max(GRID_STEP, Math.ceil(vis[0]! / GRID_STEP) * GRID_STEP);
    for (let x = x0; x < v.worldWidth && x <= vis[2]!; x += GRID_STEP) n = this.put(n, x, v.worldHeight / 2, GRID_LINE, v.worldHeight, 0, GRID_RGB, Shape.Rect, 1);
    const y0 = Math.max(GRID_STEP, Math.ceil(vis[1]! / GRID_STEP) * GRID_STEP);
    for (let y = y0; y < v.worldHeight && y <= vis[3]!; y += GRID_STEP) n = this.put(n, v.worldWidth / 2, y, v.worldWidth, GRID_LINE, 0, GRID_RGB, Shape.Rect, 1);
    return n;
  }

  /** Packs the departed entities still fading out (fades.ts), under the highlight. */
  private putGhosts(n: number): number {
    const fades = this.fades;
    for (let g = 0; g < fades.ghostSlots; g++) {
      const alpha = fades.ghostAlpha(g, this.renderTick);
      if (alpha <= 0) continue;
      const e = fades.ghostEntity[g]!;
      const s = drawSpec(e.kind);
      if (this.hidden(e, s)) continue;
      const x = fades.ghostX[g]!;
      const y = fades.ghostY[g]!;
      const w = numAt(e, s.w, s.defaultW);
      const h = numAt(e, s.h, s.defaultH);
      if (offScreen(this.visible, x, y, w, h)) continue;
      const angle = fades.ghostAngle[g]!;
      n = this.put(n, x, y, w, h, Number.isNaN(angle) ? 0 : angle, numAt(e, s.color, s.defaultColor), shapeOf(e, s), alpha);
    }
    return n;
  }

  /** Entities the page draws some other way: the own cursor, which the real pointer shows. */
  private hidden(e: Entity, s: DrawSpec): boolean {
    if (e.id === this.hiddenId) return true;
    return s.isCursor && this.hiddenMember >= 0 && numAt(e, s.member, -2) === this.hiddenMember;
  }

  /**
   * Fills `order` with the indices (into the sampled frame) of the entities to
   * draw, bottom to top: by the `z` field where kinds have one, cursors above
   * everything, otherwise in id order. Returns how many.
   */
  private stackOrder(count: number, ids: Float64Array): number {
    if (this.order.length < count) {
      this.order = new Int32Array(count * 2);
      this.keys = new Float64Array(count * 2);
    }
    const order = this.order;
    const keys = this.keys;
    let n = 0;
    let layered = false;
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      const e = this.mirror.entities.get(id);
      if (e === undefined) continue;
      const s = drawSpec(e.kind);
      if (this.hidden(e, s) || (this.only !== null && !this.only.shows(id))) continue;
      const key = s.isCursor ? Infinity : numAt(e, s.z, 0);
      if (key !== 0) layered = true;
      order[n] = i;
      keys[n++] = key;
    }
    if (layered) {
      // Insertion sort, stable, so equal keys stay in id order. Shapes get their
      // z when created, so id order is nearly z order: the cost grows only with
      // the shapes raised (moved) since, which suits boards of hundreds.
      for (let a = 1; a < n; a++) {
        const oi = order[a]!;
        const ok = keys[a]!;
        let b = a - 1;
        while (b >= 0 && keys[b]! > ok) {
          order[b + 1] = order[b]!;
          keys[b + 1] = keys[b]!;
          b--;
        }
        order[b + 1] = oi;
        keys[b + 1] = ok;
      }
    }
    return n;
  }

  private put(n: number, x: number, y: number, w: number, h: number, angle: number, rgb: number, shape: Shape, alpha: number): number {
    let o = n * FLOATS_PER_INSTANCE;
    if (o + FLOATS_PER_INSTANCE > this.data.length) {
      // Grows only when the room outgrows every earlier frame.
      const bigger = new Float32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    const d = this.data;
    d[o++] = x;
    d[o++] = y;
    d[o++] = w;
    d[o++] = h;
    d[o++] = angle;
    d[o++] = rgb;
    d[o++] = shape;
    d[o] = alpha;
    return n + 1;
  }

  private label(i: number): Label {
    let l = this.labels[i];
    if (l === undefined) {
      l = { x: 0, y: 0, text: '', rgb: 0 };
      this.labels.push(l);
    }
    return l;
  }
}

/** Whether a w x h thing at (x, y) lies wholly outside the visible rectangle (with room for its label). */
function offScreen(vis: Float64Array, x: number, y: number, w: number, h: number): boolean {
  const r = Math.max(Math.abs(w), Math.abs(h)) / 2 + CULL_MARGIN;
  return x + r < vis[0]! || x - r > vis[2]! || y + r < vis[1]! || y - r > vis[3]!;
}
