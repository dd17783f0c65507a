// How to draw an entity of a kind, worked out once per kind from the schema's
// `draw` hints and conventional field names (x, y, angle, color, w, h, shape,
// name or label), so the per-frame packing only reads indices.
import type { Entity, Kind } from '@tickroom/client';
import { Shape } from '../render/types';

export interface DrawSpec {
  /** False for kinds without x and y: nothing to draw. */
  readonly drawable: boolean;
  readonly x: number;
  readonly y: number;
  /** Field indices, -1 when the kind has no such field. */
  readonly angle: number;
  readonly color: number;
  readonly w: number;
  readonly h: number;
  readonly shape: number;
  readonly label: number;
  readonly member: number;
  /** Stacking order (higher on top), when the kind has a `z` field. */
  readonly z: number;
  readonly defaultShape: Shape;
  readonly defaultW: number;
  readonly defaultH: number;
  readonly defaultColor: number;
  readonly isCursor: boolean;
}

const SHAPE_BY_HINT: Record<string, Shape> = { circle: Shape.Circle, rect: Shape.Rect, arrow: Shape.Arrow, ring: Shape.Ring };
/** Colours for kinds that carry none, picked by kind id. */
const KIND_COLORS = [0x4f8cff, 0xff8a3d, 0x3ccf91, 0xd46cff, 0xf2c94c, 0x56ccf2];

const specs = new WeakMap<Kind, DrawSpec>();

export function drawSpec(kind: Kind): DrawSpec {
  let s = specs.get(kind);
  if (s === undefined) {
    s = makeSpec(kind);
    specs.set(kind, s);
  }
  return s;
}

function makeSpec(kind: Kind): DrawSpec {
  const f = (name: string): number => kind.byName.get(name) ?? -1;
  const isCursor = kind.name === 'cursor';
  const hintShape = kind.draw.shape !== undefined ? SHAPE_BY_HINT[kind.draw.shape] : undefined;
  const size = isCursor ? 18 : 24;
  return {
    drawable: f('x') >= 0 && f('y') >= 0,
    x: f('x'),
    y: f('y'),
    angle: f('angle'),
    color: f('color'),
    w: f('w'),
    h: f('h'),
    shape: f('shape'),
    label: f('name') >= 0 ? f('name') : f('label'),
    member: f('member'),
    z: f('z'),
    defaultShape: hintShape ?? (isCursor ? Shape.Arrow : Shape.Circle),
    defaultW: kind.draw.w ?? size,
    defaultH: kind.draw.h ?? kind.draw.w ?? size,
    defaultColor: KIND_COLORS[kind.id % KIND_COLORS.length]!,
    isCursor,
  };
}

/** A numeric field by index, or `fallback` when the kind lacks it. */
export function numAt(e: Entity, index: number, fallback: number): number {
  if (index < 0) return fallback;
  const v = e.values[index];
  return typeof v === 'number' ? v : fallback;
}

/** Half extents of an entity in world units (for hit tests and label placement). */
export function sizeOf(e: Entity, s: DrawSpec): { w: number; h: number } {
  return { w: numAt(e, s.w, s.defaultW), h: numAt(e, s.h, s.defaultH) };
}

/**
 * Values of a `shape` field, as the board room defines them (rooms/board:
 * 0 rectangle, 1 circle). They are room data, not the renderer's Shape enum.
 */
const SHAPE_FIELD: readonly Shape[] = [Shape.Rect, Shape.Circle];

/** The shape to draw: a `shape` field wins over the kind's hint. */
export function shapeOf(e: Entity, s: DrawSpec): Shape {
  const v = numAt(e, s.shape, -1);
  return SHAPE_FIELD[v] ?? s.defaultShape;
}
