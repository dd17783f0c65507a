// Arena input: WASD / arrow keys, or a pointer (mouse or touch) dragged in the
// direction to go. While anything is held an input {dx, dy} goes out once per
// tick, and one zero input on release, so the server stops the avatar. Each
// input is also fed to the predictor so the own avatar moves at once: a key
// pressed or released sends at once and restarts the tick timer from there
// (waiting for the timer cost up to a tick, 3 frames, before the avatar moved).
import { ArenaPredictor, arenaModel, type Connection } from '@tickroom/client';
import { typingInField } from './dom';
import type { Scene } from './scene';

const KEYS: Record<string, [number, number]> = {
  KeyW: [0, -1],
  ArrowUp: [0, -1],
  KeyS: [0, 1],
  ArrowDown: [0, 1],
  KeyA: [-1, 0],
  ArrowLeft: [-1, 0],
  KeyD: [1, 0],
  ArrowRight: [1, 0],
};
/** Pointer drag (CSS px) that means full speed; shorter drags go slower. */
const FULL_SPEED_DRAG = 60;
const DEAD_ZONE = 6;

export class ArenaControls {
  readonly predictor: ArenaPredictor;
  private readonly held = new Set<string>();
  private pointerId = -1;
  private originX = 0;
  private originY = 0;
  private pointerDx = 0;
  private pointerDy = 0;
  private lastSentZero = true;
  private timer: ReturnType<typeof setInterval> | null = null;
  private tickMs = 50;
  private readonly ac = new AbortController();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly conn: Connection,
    private readonly scene: Scene,
    private selfId: number,
  ) {
    this.predictor = new ArenaPredictor(arenaModel(conn.welcome?.options ?? {}));
    const sig = { signal: this.ac.signal };
    addEventListener('keydown', (ev) => this.key(ev, true), sig);
    addEventListener('keyup', (ev) => this.key(ev, false), sig);
    // Keys released while the window had no focus never send keyup.
    addEventListener('blur', () => this.held.clear(), sig);
    const c = scene.canvas;
    c.addEventListener('pointerdown', (ev) => this.pointerDown(ev), sig);
    c.addEventListener('pointermove', (ev) => this.pointerMove(ev), sig);
    c.addEventListener('pointerup', (ev) => this.pointerUp(ev), sig);
    c.addEventListener('pointercancel', (ev) => this.pointerUp(ev), sig);
    c.style.touchAction = 'none';

    // The own avatar is drawn at the predicted position, corrections fading per frame.
    scene.onFrame = (dt) => this.predictor.frame(dt);
    scene.override = {
      position: (id, out) => {
        if (id !== this.selfId || !this.predictor.hasState) return false;
        out[0] = this.predictor.x;
        out[1] = this.predictor.y;
        return true;
      },
    };
    scene.highlightId = selfId;
    this.unsubscribe = conn.mirror.subscribe((m) => {
      const self = m.entities.get(this.selfId);
      if (self === undefined) return;
      // Without a `seq` field nothing is ever acknowledged: then show the server's position only.
      this.predictor.reconcile(self.num('x', 0), self.num('y', 0), self.num('seq', Infinity));
    });
  }

  /** A new welcome (reconnect): same seat keeps its pending inputs; a new seat starts over. */
  rejoined(selfId: number, tickRate: number): void {
    if (selfId !== this.selfId) this.predictor.reset();
    this.selfId = selfId;
    this.scene.highlightId = selfId;
    this.predictor.setModel(arenaModel(this.conn.welcome?.options ?? {}));
    this.startTicking(tickRate);
  }

  startTicking(tickRate: number): void {
    this.tickMs = 1000 / tickRate;
    // One input a tick: each step glides over the tick instead of jumping.
    this.predictor.glideMs = this.tickMs;
    this.restartTimer();
  }

  private restartTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  destroy(): void {
    this.ac.abort();
    this.unsubscribe();
    if (this.timer !== null) clearInterval(this.timer);
  }

  private key(ev: KeyboardEvent, down: boolean): void {
    if (!(ev.code in KEYS) || typingInField(ev)) return;
    ev.preventDefault(); // arrows would scroll the page
    const had = this.held.has(ev.code);
    if (down) this.held.add(ev.code);
    else this.held.delete(ev.code);
    if (had !== down && this.timer !== null) {
      // The direction changed: send it now, and the next one a tick later.
      this.tick();
      this.restartTimer();
    }
  }

  private pointerDown(ev: PointerEvent): void {
    if (this.pointerId !== -1) return;
    this.pointerId = ev.pointerId;
    this.scene.canvas.setPointerCapture(ev.pointerId);
    this.originX = ev.clientX;
    this.originY = ev.clientY;
    this.pointerDx = this.pointerDy = 0;
  }

  private pointerMove(ev: PointerEvent): void {
    if (ev.pointerId !== this.pointerId) return;
    const vx = ev.clientX - this.originX;
    const vy = ev.clientY - this.originY;
    const len = Math.hypot(vx, vy);
    if (len < DEAD_ZONE) {
      this.pointerDx = this.pointerDy = 0;
      return;
    }
    const speed = Math.min(1, len / FULL_SPEED_DRAG);
    this.pointerDx = (vx / len) * speed;
    this.pointerDy = (vy / len) * speed;
  }

  private pointerUp(ev: PointerEvent): void {
    if (ev.pointerId !== this.pointerId) return;
    this.pointerId = -1;
    this.pointerDx = this.pointerDy = 0;
  }

  /** Once per tick: send the held direction, or a single zero on release. */
  private tick(): void {
    let dx = 0;
    let dy = 0;
    if (this.pointerId !== -1) {
      dx = this.pointerDx;
      dy = this.pointerDy;
    } else {
      for (const code of this.held) {
        const d = KEYS[code]!;
        dx += d[0];
        dy += d[1];
      }
      dx = Math.max(-1, Math.min(1, dx));
      dy = Math.max(-1, Math.min(1, dy));
      // Diagonals as fast as straight moves.
      if (dx !== 0 && dy !== 0) {
        dx *= Math.SQRT1_2;
        dy *= Math.SQRT1_2;
      }
    }
    const zero = dx === 0 && dy === 0;
    if (zero && this.lastSentZero) return;
    const seq = this.conn.sendInput({ dx, dy });
    if (seq < 0) return; // not connected: try again next tick
    this.lastSentZero = zero;
    this.predictor.input(seq, dx, dy);
  }
}
