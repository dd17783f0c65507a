// How entities map to renderer instances: draw hints, conventional field
// names, and the board's shape field values (0 rectangle, 1 circle).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Entity, Schema } from '@tickroom/client';
import { drawSpec, numAt, shapeOf } from '../pages/draw-spec';
import { Shape } from '../render/types';

const schema = Schema.parse([
  {
    id: 0,
    name: 'shape',
    draw: { shape: 'rect', w: 80, h: 60 },
    fields: [
      { name: 'x', type: 'q', scale: 4 },
      { name: 'y', type: 'q', scale: 4 },
      { name: 'w', type: 'q', scale: 4 },
      { name: 'color', type: 'u32' },
      { name: 'shape', type: 'u8' },
      { name: 'z', type: 'u32' },
    ],
  },
  { id: 1, name: 'cursor', draw: { shape: 'arrow', w: 18 }, fields: [{ name: 'x', type: 'q', scale: 4 }, { name: 'y', type: 'q', scale: 4 }, { name: 'member', type: 'u32' }, { name: 'name', type: 'str' }] },
  { id: 2, name: 'score', fields: [{ name: 'points', type: 'u16' }] },
]);

test('field indices and defaults come from the schema', () => {
  const s = drawSpec(schema.kind(0)!);
  assert.deepEqual([s.drawable, s.x, s.y, s.w, s.h, s.color, s.shape, s.z, s.label], [true, 0, 1, 2, -1, 3, 4, 5, -1]);
  assert.deepEqual([s.defaultW, s.defaultH, s.defaultShape], [80, 60, Shape.Rect]);
  const c = drawSpec(schema.kind(1)!);
  assert.deepEqual([c.isCursor, c.label, c.member, c.defaultShape, c.defaultW, c.defaultH], [true, 3, 2, Shape.Arrow, 18, 18]);
  assert.equal(drawSpec(schema.kind(2)!).drawable, false, 'no x/y: not drawn');
  assert.equal(drawSpec(schema.kind(0)!), s, 'computed once per kind');
});

test("the board's shape field picks rectangle or circle; other values fall back to the hint", () => {
  const kind = schema.kind(0)!;
  const e = new Entity(7, kind);
  e.setFromRecord([0, 7, 400, 400, 320, 0xff0000, 1, 3]);
  assert.equal(shapeOf(e, drawSpec(kind)), Shape.Circle);
  e.setFromRecord([0, 7, 400, 400, 320, 0xff0000, 0, 3]);
  assert.equal(shapeOf(e, drawSpec(kind)), Shape.Rect);
  e.setFromRecord([0, 7, 400, 400, 320, 0xff0000, 9, 3]);
  assert.equal(shapeOf(e, drawSpec(kind)), Shape.Rect, 'unknown value: the kind hint');
  assert.equal(numAt(e, drawSpec(kind).w, -1), 80);
  assert.equal(numAt(e, drawSpec(kind).h, 60), 60, 'missing field: fallback');
});
