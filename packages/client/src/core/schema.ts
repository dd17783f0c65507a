// The entity schema (`kinds` in the welcome, PROTOCOL.md "Schema"). It travels
// with every welcome so the client decodes any room type with no per-type code.

/** Wire type of a field; see PROTOCOL.md for how each is coded. */
export type FieldType = 'q' | 'f32' | 'i8' | 'i16' | 'i32' | 'i64' | 'u8' | 'u16' | 'u32' | 'bool' | 'str';

/** How a numeric value is coded: 0 absolute, 1 delta from h1, 2 linear prediction. */
export type Pred = 0 | 1 | 2;

/** A field as the client uses it (validated and with defaults applied). */
export interface Field {
  readonly index: number;
  readonly name: string;
  readonly type: FieldType;
  /** q fields: the client value is q / scale. 1 for other types. */
  readonly scale: number;
  /** q fields only: the integer lives in [0, mod); 0 means no wrapping. */
  readonly mod: number;
  readonly pred: Pred;
  /** True for q and integer types: the decoder keeps h0/h1 history for them. */
  readonly integral: boolean;
}

/** Render hints a kind may carry (`draw` in the schema). */
export interface DrawHints {
  readonly shape?: 'circle' | 'rect' | 'arrow' | 'ring';
  readonly w?: number;
  readonly h?: number;
}

export interface Kind {
  readonly id: number;
  readonly name: string;
  readonly draw: DrawHints;
  readonly fields: readonly Field[];
  /** Indices of the fields with pred 2, in field order: their velocities trail an entity record. */
  readonly pred2: readonly number[];
  /** Field index by name; missing names are absent. */
  readonly byName: ReadonlyMap<string, number>;
}

/** All kinds of a room, by kind id. */
export class Schema {
  readonly kinds: ReadonlyMap<number, Kind>;

  constructor(kinds: readonly Kind[]) {
    const m = new Map<number, Kind>();
    for (const k of kinds) m.set(k.id, k);
    this.kinds = m;
  }

  kind(id: number): Kind | undefined {
    return this.kinds.get(id);
  }

  kindByName(name: string): Kind | undefined {
    for (const k of this.kinds.values()) if (k.name === name) return k;
    return undefined;
  }

  /** Builds a schema from the welcome's `kinds` value, throwing SchemaError on anything malformed. */
  static parse(raw: unknown): Schema {
    if (!Array.isArray(raw)) throw new SchemaError('kinds is not an array');
    return new Schema(raw.map(parseKind));
  }
}

export class SchemaError extends Error {
  override name = 'SchemaError';
}

const INTEGER_TYPES: ReadonlySet<string> = new Set(['q', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32']);
const ALL_TYPES: ReadonlySet<string> = new Set([...INTEGER_TYPES, 'f32', 'bool', 'str']);
const SHAPES: ReadonlySet<string> = new Set(['circle', 'rect', 'arrow', 'ring']);
/** PROTOCOL.md: a kind has at most 64 fields (the changed mask is 64 bits). */
const MAX_FIELDS = 64;

/**
 * A schema number: any MessagePack width is valid (PROTOCOL.md), and 64-bit
 * integers decode as bigint. Anything else becomes NaN and fails the checks.
 */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return NaN;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseKind(raw: unknown): Kind {
  if (!isRecord(raw)) throw new SchemaError('kind is not a map');
  const { name, fields } = raw;
  const id = num(raw.id);
  if (!Number.isInteger(id)) throw new SchemaError('kind id is not an integer');
  if (typeof name !== 'string') throw new SchemaError(`kind ${id}: name is not a string`);
  if (!Array.isArray(fields)) throw new SchemaError(`kind ${name}: fields is not an array`);
  if (fields.length > MAX_FIELDS) throw new SchemaError(`kind ${name}: ${fields.length} fields, at most ${MAX_FIELDS}`);
  const parsed = fields.map((f, i) => parseField(name, f, i));
  const byName = new Map<string, number>();
  for (const f of parsed) byName.set(f.name, f.index);
  return {
    id,
    name,
    draw: parseDraw(raw.draw),
    fields: parsed,
    pred2: parsed.filter((f) => f.pred === 2).map((f) => f.index),
    byName,
  };
}

function parseField(kind: string, raw: unknown, index: number): Field {
  if (!isRecord(raw)) throw new SchemaError(`kind ${kind}: field ${index} is not a map`);
  const { name, type } = raw;
  if (typeof name !== 'string') throw new SchemaError(`kind ${kind}: field ${index} has no name`);
  if (typeof type !== 'string' || !ALL_TYPES.has(type)) {
    throw new SchemaError(`kind ${kind}: field ${name} has unknown type ${String(type)}`);
  }
  const integral = INTEGER_TYPES.has(type);
  const pred = raw.pred === undefined ? 0 : num(raw.pred);
  if (pred !== 0 && pred !== 1 && pred !== 2) throw new SchemaError(`kind ${kind}: field ${name}: bad pred ${String(pred)}`);
  if (pred !== 0 && !integral) throw new SchemaError(`kind ${kind}: field ${name}: pred on a ${type} field`);
  let scale = 1;
  let mod = 0;
  if (type === 'q') {
    scale = num(raw.scale);
    if (!(scale > 0)) throw new SchemaError(`kind ${kind}: field ${name}: q needs a positive scale`);
    if (raw.mod !== undefined && raw.mod !== null) {
      mod = num(raw.mod);
      if (!Number.isInteger(mod) || mod <= 0) throw new SchemaError(`kind ${kind}: field ${name}: bad mod ${String(raw.mod)}`);
    }
  }
  return { index, name, type: type as FieldType, scale, mod, pred: pred as Pred, integral };
}

function parseDraw(raw: unknown): DrawHints {
  if (!isRecord(raw)) return {};
  const out: { shape?: DrawHints['shape']; w?: number; h?: number } = {};
  if (typeof raw.shape === 'string' && SHAPES.has(raw.shape)) out.shape = raw.shape as DrawHints['shape'];
  const w = num(raw.w);
  const h = num(raw.h);
  if (w > 0) out.w = w;
  if (h > 0) out.h = h;
  return out;
}
