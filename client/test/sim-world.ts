// A small server-side world for tests: entities of a schema whose values the
// test sets, encoded into snapshot and delta messages the way PROTOCOL.md
// says (pred 0/1/2 residuals, mod wrapping, groups by field mask, gap-coded
// ids). It stands in for the Go encoder where a test needs many ticks of
// realistic messages (recordings), and its plain state is the truth a mirror
// must equal.
import { Encoder } from '@msgpack/msgpack';

export interface SimField {
  name: string;
  type: 'q' | 'u8' | 'u16' | 'u32' | 'i32' | 'str';
  scale?: number;
  mod?: number;
  pred?: 0 | 1 | 2;
}

export interface SimKind {
  id: number;
  name: string;
  draw?: Record<string, unknown>;
  fields: SimField[];
}

interface SimEntity {
  id: number;
  kind: SimKind;
  /** Integral fields: the integer; str fields: the string. */
  value: Array<number | string>;
  h0: number[];
  h1: number[];
  /** Bit i: field i changed since the last delta. */
  changed: number;
  created: boolean;
}

const encoder = new Encoder({ useBigInt64: true });

function wrapSigned(v: number, mod: number): number {
  let m = v % mod;
  if (m < -mod / 2) m += mod;
  else if (m >= mod / 2) m -= mod;
  return m;
}

function wrapPos(v: number, mod: number): number {
  const m = v % mod;
  return m < 0 ? m + mod : m;
}

export class SimWorld {
  /** Ascending ids. */
  private list: SimEntity[] = [];
  private readonly byId = new Map<number, SimEntity>();
  private removed: number[] = [];
  private nextId = 0;
  tick = 0;

  constructor(readonly kinds: SimKind[]) {}

  get size(): number {
    return this.list.length;
  }

  /** Spawns an entity; values by field name (q fields in world units). */
  spawn(kindId: number, values: Record<string, number | string>, id = this.nextId): number {
    const kind = this.kinds.find((k) => k.id === kindId)!;
    this.nextId = Math.max(this.nextId, id + 1);
    const n = kind.fields.length;
    const e: SimEntity = { id, kind, value: kind.fields.map((f) => (f.type === 'str' ? '' : 0)), h0: new Array(n).fill(0), h1: new Array(n).fill(0), changed: 0, created: true };
    this.byId.set(id, e);
    this.list.push(e);
    this.list.sort((a, b) => a.id - b.id);
    for (const [k, v] of Object.entries(values)) this.set(id, k, v);
    for (let i = 0; i < n; i++) {
      if (kind.fields[i]!.type !== 'str') e.h0[i] = e.h1[i] = e.value[i] as number;
    }
    return id;
  }

  remove(id: number): void {
    if (!this.byId.delete(id)) return;
    this.list = this.list.filter((e) => e.id !== id);
    this.removed.push(id);
  }

  /** Sets a field by index (q fields in world units: quantized here). */
  setAt(id: number, i: number, v: number | string): void {
    const e = this.byId.get(id)!;
    const f = e.kind.fields[i]!;
    let nv: number | string = v;
    if (f.type === 'q') {
      nv = Math.round((v as number) * f.scale!);
      if (f.mod) nv = wrapPos(nv, f.mod);
    }
    if (e.value[i] !== nv) {
      e.value[i] = nv;
      e.changed |= 1 << i;
    }
  }

  set(id: number, name: string, v: number | string): void {
    this.setAt(id, this.byId.get(id)!.kind.fields.findIndex((f) => f.name === name), v);
  }

  /** A field's client value. */
  get(id: number, name: string): number | string {
    const e = this.byId.get(id)!;
    const i = e.kind.fields.findIndex((f) => f.name === name);
    const f = e.kind.fields[i]!;
    return f.type === 'q' ? (e.value[i] as number) / f.scale! : e.value[i]!;
  }

  /** Id -> field name -> client value: what a mirror must hold. */
  plain(): Record<string, Record<string, number | string>> {
    const out: Record<string, Record<string, number | string>> = {};
    for (const e of this.list) {
      const o: Record<string, number | string> = {};
      e.kind.fields.forEach((f, i) => {
        const v = e.value[i]!;
        o[f.name] = f.type === 'q' ? (v as number) / f.scale! : v;
      });
      out[String(e.id)] = o;
    }
    return out;
  }

  /** `[2, tick, [records]]` of the current state (history untouched). */
  snapshot(): Uint8Array {
    return encoder.encode([2, this.tick, this.list.map((e) => this.record(e))]);
  }

  /** Ends a tick: `[3, tick, tick-1, created, changed, removed]` with everything set since the last one. */
  delta(): Uint8Array {
    const base = this.tick;
    this.tick++;
    const created: unknown[] = [];
    const groups: Array<{ mask: number; arr: unknown[]; last: number }> = [];
    for (const e of this.list) {
      if (e.created) {
        // The record carries the values with no velocity: start the history there.
        e.created = false;
        e.changed = 0;
        e.kind.fields.forEach((f, i) => {
          if (f.type !== 'str') e.h0[i] = e.h1[i] = e.value[i] as number;
        });
        created.push(this.record(e));
        continue;
      }
      const mask = e.changed;
      if (mask === 0) continue;
      e.changed = 0;
      let g = groups.find((x) => x.mask === mask);
      if (g === undefined) groups.push((g = { mask, arr: [mask], last: -1 }));
      g.arr.push(g.last < 0 ? e.id : e.id - g.last);
      g.last = e.id;
      const fields = e.kind.fields;
      for (let i = 0; i < fields.length; i++) {
        if ((mask & (1 << i)) === 0) continue;
        const f = fields[i]!;
        if (f.type === 'str') {
          g.arr.push(e.value[i]);
          continue;
        }
        const v = e.value[i] as number;
        const h1 = e.h1[i]!;
        const pred = f.pred ?? 0;
        let r = pred === 0 ? v : pred === 1 ? v - h1 : v - (h1 + (h1 - e.h0[i]!));
        if (f.mod && pred !== 0) r = wrapSigned(r, f.mod);
        g.arr.push(r);
        e.h0[i] = h1;
        e.h1[i] = v;
      }
    }
    const removed = this.removed.sort((a, b) => a - b).map((id, k, a) => (k === 0 ? id : id - a[k - 1]!));
    this.removed = [];
    return encoder.encode([3, this.tick, base, created, groups.map((g) => g.arr), removed]);
  }

  private record(e: SimEntity): unknown[] {
    const rec: unknown[] = [e.kind.id, e.id, ...e.value];
    e.kind.fields.forEach((f, i) => {
      if (f.pred !== 2) return;
      const vel = e.h1[i]! - e.h0[i]!;
      rec.push(f.mod ? wrapSigned(vel, f.mod) : vel);
    });
    return rec;
  }
}

const POS = { type: 'q', scale: 64, pred: 2 } as const;
const ANGLE = { type: 'q', scale: 4096 / (2 * Math.PI), mod: 4096, pred: 2 } as const;

/** The arena-bench room's schema (rooms/arenabench): props and players. */
export const BENCH_KINDS: SimKind[] = [
  {
    id: 0,
    name: 'prop',
    draw: { shape: 'circle', w: 24, h: 24 },
    fields: [{ name: 'x', ...POS }, { name: 'y', ...POS }, { name: 'angle', ...ANGLE }, { name: 'hp', type: 'u8' }, { name: 'color', type: 'u32' }, { name: 'label', type: 'str' }],
  },
  {
    id: 1,
    name: 'player',
    draw: { shape: 'arrow', w: 32, h: 32 },
    fields: [{ name: 'x', ...POS }, { name: 'y', ...POS }, { name: 'angle', ...ANGLE }, { name: 'hp', type: 'u8' }, { name: 'color', type: 'u32' }, { name: 'name', type: 'str' }],
  },
];

const X = 0;
const Y = 1;
const A = 2;
const HP = 3;

/**
 * The arena-bench scene as rooms/arenabench steps it: 100 props on circles,
 * a quarter of them moving each tick, an hp change every 20 ticks, players
 * walking by their inputs (the load generator's ClientInput). step() runs
 * one tick and returns its delta.
 */
export class BenchScene {
  readonly world = new SimWorld(BENCH_KINDS);
  readonly players: number[] = [];
  private readonly hp: number[] = [];
  private readonly pos = new Map<number, { x: number; y: number }>();

  constructor(readonly props = 100) {
    for (let i = 0; i < props; i++) {
      this.world.spawn(0, { x: (i % 10) * 100 + 50, y: Math.floor(i / 10) * 60 + 30, angle: 0, hp: 100, color: 0x3366ff + i, label: `prop-${i}` }, i);
      this.hp.push(100);
    }
  }

  addPlayer(name: string, id?: number): number {
    const pid = this.world.spawn(1, { x: 500, y: 300, angle: 0, hp: 100, color: 0xff6633, name }, id ?? Math.max(this.props, ...this.players.map((p) => p + 1)));
    this.players.push(pid);
    this.pos.set(pid, { x: 500, y: 300 });
    return pid;
  }

  removePlayer(id: number): void {
    this.world.remove(id);
    this.players.splice(this.players.indexOf(id), 1);
  }

  step(): Uint8Array {
    const t = this.world.tick + 1;
    for (let i = 0; i < this.props; i++) {
      if ((i + t) % 4 !== 0) continue;
      const phase = (t + i) * 0.05;
      this.world.setAt(i, X, 500 + 400 * Math.cos(phase));
      this.world.setAt(i, Y, 300 + 250 * Math.sin(phase));
      this.world.setAt(i, A, phase % (2 * Math.PI));
    }
    if (t % 20 === 0 && this.props > 0) {
      const i = (t / 20) % this.props;
      this.hp[i] = (this.hp[i]! + 7) % 101;
      this.world.setAt(i, HP, this.hp[i]!);
    }
    this.players.forEach((id, c) => {
      const a = t * 0.1 + c;
      const dx = Math.cos(a);
      const dy = Math.sin(a);
      const p = this.pos.get(id)!;
      p.x = Math.max(0, Math.min(1000, p.x + 5 * dx));
      p.y = Math.max(0, Math.min(600, p.y + 5 * dy));
      this.world.setAt(id, X, p.x);
      this.world.setAt(id, Y, p.y);
      this.world.setAt(id, A, Math.atan2(dy, dx));
    });
    return this.world.delta();
  }
}

/** The wire schema (`kinds`) of a set of SimKinds, for a tape header or welcome. */
export function wireKinds(kinds: SimKind[]): unknown[] {
  return kinds.map((k) => ({ id: k.id, name: k.name, draw: k.draw, fields: k.fields.map((f) => ({ ...f })) }));
}
