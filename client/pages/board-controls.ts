// Board input: double-click empty space to create a shape, drag a shape to
// move it, pick a colour to recolour the selected shape, Delete/Backspace (or
// the button) to delete it; the pointer's position goes out as a cursor op.
// Moves and cursors are throttled to one op per tick; the dragged shape is
// drawn at the pointer until the server's copy catches up.
import type { BoardInput, Connection, Entity } from '@tickroom/client';
import { drawSpec, numAt, shapeOf } from './draw-spec';
import { h, typingInField } from './dom';
import { Shape } from '../render/types';
import type { Scene } from './scene';

export const PALETTE = [0x4f8cff, 0xff5d5d, 0x3ccf91, 0xf2c94c, 0xd46cff, 0xff8a3d, 0x56ccf2, 0xe8ecf4];
const NEW_SIZE = { w: 96, h: 64 };
/** How long a released shape stays where it was dropped if the server never confirms. */
const RELEASE_TIMEOUT_MS = 2000;
/** Longer than the interpolation delay (2 ticks even at a slow 10 Hz). */
const CONFIRM_HOLD_MS = 300;

export class BoardControls {
  readonly toolbar: HTMLElement;
  selected = -1;
  private color = PALETTE[0]!;
  /** Board shape values: 0 rectangle, 1 circle. */
  private newShape: 0 | 1 = 0;
  private dragId = -1;
  private grabX = 0;
  private grabY = 0;
  /** Where the dragged (or just dropped) shape is drawn. */
  private holdId = -1;
  private holdX = 0;
  private holdY = 0;
  private holdSince = 0;
  private confirmedAt = 0;
  private moveDirty = false;
  private cursorX = 0;
  private cursorY = 0;
  private cursorDirty = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly ac = new AbortController();
  private readonly deleteButton: HTMLButtonElement;
  private readonly swatches: HTMLButtonElement[] = [];

  constructor(
    private readonly conn: Connection,
    private readonly scene: Scene,
  ) {
    const sig = { signal: this.ac.signal };
    const c = scene.canvas;
    c.style.touchAction = 'none';
    c.addEventListener('pointerdown', (ev) => this.pointerDown(ev), sig);
    c.addEventListener('pointermove', (ev) => this.pointerMove(ev), sig);
    c.addEventListener('pointerup', (ev) => this.pointerUp(ev), sig);
    c.addEventListener('pointercancel', (ev) => this.pointerUp(ev), sig);
    c.addEventListener('dblclick', (ev) => this.doubleClick(ev), sig);
    addEventListener('keydown', (ev) => this.key(ev), sig);

    scene.override = {
      position: (id, out) => {
        if (id !== this.holdId) return false;
        out[0] = this.holdX;
        out[1] = this.holdY;
        return true;
      },
    };
    scene.onFrame = () => this.releaseHoldWhenConfirmed();

    this.deleteButton = h('button', { type: 'button', id: 'delete-shape', disabled: true, title: 'Delete the selected shape (Delete key)' }, 'Delete');
    this.deleteButton.addEventListener('click', () => this.deleteSelected());
    const shapeSelect = h('select', { id: 'new-shape', 'aria-label': 'shape for new shapes' }, h('option', { value: '0' }, '▭ rectangle'), h('option', { value: '1' }, '◯ circle'));
    shapeSelect.addEventListener('change', () => (this.newShape = shapeSelect.value === '1' ? 1 : 0));
    const palette = h('div', { class: 'palette', role: 'group', 'aria-label': 'colour' });
    for (const rgb of PALETTE) {
      const hex = `#${rgb.toString(16).padStart(6, '0')}`;
      const b = h('button', { type: 'button', class: 'swatch', style: `background:${hex}`, title: hex, 'data-color': rgb });
      b.addEventListener('click', () => this.pickColor(rgb));
      this.swatches.push(b);
      palette.appendChild(b);
    }
    this.toolbar = h('div', { class: 'toolbar', id: 'board-toolbar' }, shapeSelect, palette, this.deleteButton, h('span', { class: 'hint' }, 'double-click to add a shape, drag to move'));
    this.pickColor(this.color);
  }

  startTicking(tickRate: number): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), 1000 / tickRate);
  }

  destroy(): void {
    this.ac.abort();
    if (this.timer !== null) clearInterval(this.timer);
  }

  private send(op: BoardInput): void {
    this.conn.sendInput(op);
  }

  private world(ev: MouseEvent): { x: number; y: number } {
    const r = this.scene.canvas.getBoundingClientRect();
    return this.scene.unproject(ev.clientX - r.left, ev.clientY - r.top);
  }

  /** The topmost shape under a world point: highest z, then highest id, as the scene stacks them. */
  private hit(x: number, y: number): Entity | undefined {
    let best: Entity | undefined;
    let bestZ = -Infinity;
    for (const e of this.conn.mirror.entities.values()) {
      const s = drawSpec(e.kind);
      if (!s.drawable || s.isCursor || e.id === this.conn.welcome?.entity) continue;
      const hw = numAt(e, s.w, s.defaultW) / 2;
      const hh = numAt(e, s.h, s.defaultH) / 2;
      const dx = x - numAt(e, s.x, 0);
      const dy = y - numAt(e, s.y, 0);
      const inside =
        shapeOf(e, s) === Shape.Rect ? Math.abs(dx) <= hw && Math.abs(dy) <= hh : (dx * dx) / (hw * hw) + (dy * dy) / (hh * hh) <= 1;
      if (!inside) continue;
      const z = numAt(e, s.z, 0);
      if (best === undefined || z > bestZ || (z === bestZ && e.id > best.id)) {
        best = e;
        bestZ = z;
      }
    }
    return best;
  }

  private select(id: number): void {
    this.selected = id;
    this.scene.highlightId = id;
    this.deleteButton.disabled = id < 0;
  }

  private pointerDown(ev: PointerEvent): void {
    const p = this.world(ev);
    const e = this.hit(p.x, p.y);
    if (e === undefined) {
      this.select(-1);
      return;
    }
    const s = drawSpec(e.kind);
    this.select(e.id);
    this.dragId = this.holdId = e.id;
    this.grabX = p.x - numAt(e, s.x, 0);
    this.grabY = p.y - numAt(e, s.y, 0);
    this.holdX = numAt(e, s.x, 0);
    this.holdY = numAt(e, s.y, 0);
    this.scene.canvas.setPointerCapture(ev.pointerId);
  }

  private pointerMove(ev: PointerEvent): void {
    const p = this.world(ev);
    this.cursorX = p.x;
    this.cursorY = p.y;
    this.cursorDirty = true;
    if (this.dragId < 0) return;
    this.holdX = Math.round(p.x - this.grabX);
    this.holdY = Math.round(p.y - this.grabY);
    this.moveDirty = true;
  }

  private pointerUp(_ev: PointerEvent): void {
    if (this.dragId < 0) return;
    // The drop position goes out now, not a tick later.
    if (this.moveDirty) this.send({ op: 'move', id: this.dragId, x: this.holdX, y: this.holdY });
    this.moveDirty = false;
    this.dragId = -1;
    this.holdSince = performance.now();
    this.confirmedAt = 0;
  }

  /** Stops drawing a dropped shape at the drop point once the server has it there too. */
  private releaseHoldWhenConfirmed(): void {
    if (this.holdId < 0 || this.dragId >= 0) return;
    const now = performance.now();
    const e = this.conn.mirror.entities.get(this.holdId);
    if (e === undefined || now - this.holdSince > RELEASE_TIMEOUT_MS) {
      this.holdId = -1;
      return;
    }
    const s = drawSpec(e.kind);
    const there = Math.abs(numAt(e, s.x, 0) - this.holdX) < 0.5 && Math.abs(numAt(e, s.y, 0) - this.holdY) < 0.5;
    if (!there) {
      this.confirmedAt = 0;
      return;
    }
    if (this.confirmedAt === 0) this.confirmedAt = now;
    // Interpolation draws a few ticks back: keep holding that long after the mirror agrees.
    if (now - this.confirmedAt > CONFIRM_HOLD_MS) this.holdId = -1;
  }

  private doubleClick(ev: MouseEvent): void {
    const p = this.world(ev);
    if (this.hit(p.x, p.y) !== undefined) return;
    const size = this.newShape === 1 ? { w: NEW_SIZE.h, h: NEW_SIZE.h } : NEW_SIZE;
    this.send({ op: 'create', shape: this.newShape, x: Math.round(p.x), y: Math.round(p.y), w: size.w, h: size.h, color: this.color });
  }

  private pickColor(rgb: number): void {
    this.color = rgb;
    for (const b of this.swatches) b.classList.toggle('current', Number(b.dataset.color) === rgb);
    if (this.selected >= 0) this.send({ op: 'color', id: this.selected, color: rgb });
  }

  private deleteSelected(): void {
    if (this.selected < 0) return;
    this.send({ op: 'delete', id: this.selected });
    this.select(-1);
  }

  private key(ev: KeyboardEvent): void {
    if (typingInField(ev)) return;
    if (ev.key === 'Delete' || ev.key === 'Backspace') {
      ev.preventDefault();
      this.deleteSelected();
    } else if (ev.key === 'Escape') {
      this.select(-1);
    }
  }

  /** Once per tick: the latest drag position and cursor, if they changed. */
  private tick(): void {
    if (this.selected >= 0 && !this.conn.mirror.entities.has(this.selected)) this.select(-1);
    if (this.moveDirty && this.dragId >= 0) {
      this.send({ op: 'move', id: this.dragId, x: this.holdX, y: this.holdY });
      this.moveDirty = false;
    }
    if (this.cursorDirty) {
      this.send({ op: 'cursor', x: Math.round(this.cursorX), y: Math.round(this.cursorY) });
      this.cursorDirty = false;
    }
  }
}
