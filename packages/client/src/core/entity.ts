// One mirrored entity: its current field values plus the per-field integer
// history (h0, h1) that pred 1/2 residuals are decoded against (PROTOCOL.md
// "Value coding").
import { ProtocolError, toInt, toNumber } from './codec.js';
import type { WireValue } from './messages.js';
import type { Field, Kind } from './schema.js';

/** A decoded field value: q and numeric types are numbers, bool and str as such. */
export type FieldValue = number | string | boolean;

/** Field name -> value type of a kind: a generated RoomType's kinds['avatar']. */
export type Fields = { [field: string]: FieldValue };

/** `F` types the fields by name when the room type is known (Mirror.ofKind). */
export class Entity<F extends Fields = Fields> {
  /** Stable for the life of the entity: ids are never reused within a room. */
  readonly id: number;
  /** Replaced (same id) when a later welcome brings a fresh schema object. */
  kind: Kind;
  /** Indexed by field index. */
  readonly values: FieldValue[];
  /** Previous integer per field (integral fields only; NaN elsewhere). */
  readonly h0: Float64Array;
  /** Current integer per field: the q value before dividing by scale. */
  readonly h1: Float64Array;

  constructor(id: number, kind: Kind) {
    this.id = id;
    this.kind = kind;
    const n = kind.fields.length;
    this.values = new Array<FieldValue>(n).fill(0);
    this.h0 = new Float64Array(n);
    this.h1 = new Float64Array(n);
  }

  /** The value of the field named `name`, or undefined when the kind has no such field. */
  get<K extends keyof F & string>(name: K): F[K] | undefined {
    const i = this.kind.byName.get(name);
    return i === undefined ? undefined : (this.values[i] as F[K]);
  }

  /** A numeric field by name, or `fallback` when absent or not a number. */
  num(name: keyof F & string, fallback: number): number {
    const v = this.get(name);
    return typeof v === 'number' ? v : fallback;
  }

  /** A string field by name, or `fallback`. */
  str(name: keyof F & string, fallback: string): string {
    const v = this.get(name);
    return typeof v === 'string' ? v : fallback;
  }

  /** Field name -> value, for tests and debugging (allocates). */
  toPlain(): F {
    const out: Fields = {};
    for (const f of this.kind.fields) out[f.name] = this.values[f.index]!;
    return out as F;
  }

  /**
   * Sets every field from an entity record `[kind, id, v0..vN-1, vel...]`
   * (absolute values, then velocities of the pred-2 fields).
   */
  setFromRecord(rec: readonly unknown[]): void {
    const fields = this.kind.fields;
    const n = fields.length;
    const want = 2 + n + this.kind.pred2.length;
    if (rec.length !== want) {
      throw new ProtocolError(`entity ${this.id} (${this.kind.name}): record has ${rec.length} elements, want ${want}`);
    }
    for (let i = 0; i < n; i++) {
      const f = fields[i]!;
      const wire = rec[2 + i];
      if (f.integral) {
        const v = wrap(f, toInt(wire, fieldWhat(this, f)));
        this.h0[i] = v;
        this.h1[i] = v;
        this.values[i] = f.type === 'q' ? v / f.scale : v;
      } else {
        this.values[i] = plainValue(this, f, wire);
        this.h0[i] = NaN;
        this.h1[i] = NaN;
      }
    }
    // h0 = v - vel: only the difference h1 - h0 matters to pred 2, and for mod
    // fields any representative of it modulo `mod` predicts the same value.
    const pred2 = this.kind.pred2;
    for (let j = 0; j < pred2.length; j++) {
      const i = pred2[j]!;
      this.h0[i] = this.h1[i]! - toInt(rec[2 + n + j], `${fieldWhat(this, fields[i]!)} velocity`);
    }
  }

  /** Applies one residual from a delta's changed group to field `i`. */
  applyResidual(i: number, wire: WireValue): void {
    const f = this.kind.fields[i];
    if (f === undefined) throw new ProtocolError(`entity ${this.id} (${this.kind.name}): no field ${i}`);
    if (!f.integral) {
      this.values[i] = plainValue(this, f, wire);
      return;
    }
    const r = toInt(wire, fieldWhat(this, f));
    const h1 = this.h1[i]!;
    let v: number;
    switch (f.pred) {
      case 0:
        v = r;
        break;
      case 1:
        v = h1 + r;
        break;
      case 2:
        v = h1 + (h1 - this.h0[i]!) + r;
        break;
    }
    v = wrap(f, v);
    this.h0[i] = h1;
    this.h1[i] = v;
    this.values[i] = f.type === 'q' ? v / f.scale : v;
  }
}

/** Non-negative modulo for mod fields (JS % keeps the dividend's sign). */
function wrap(f: Field, v: number): number {
  if (f.mod === 0) return v;
  const m = v % f.mod;
  return m < 0 ? m + f.mod : m;
}

function fieldWhat(e: Entity, f: Field): string {
  return `entity ${e.id} (${e.kind.name}) field ${f.name}`;
}

function plainValue(e: Entity, f: Field, wire: unknown): FieldValue {
  switch (f.type) {
    case 'bool':
      if (typeof wire !== 'boolean') throw new ProtocolError(`${fieldWhat(e, f)}: want a bool`);
      return wire;
    case 'str':
      if (typeof wire !== 'string') throw new ProtocolError(`${fieldWhat(e, f)}: want a string`);
      return wire;
    default:
      return toNumber(wire, fieldWhat(e, f));
  }
}
