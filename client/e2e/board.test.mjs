// Board end to end: A creates a board room from the home page and B opens
// the share link. A double-clicks to create a shape, drags it, recolours and
// deletes it; B sees each step in its mirror and the drag on screen. B also
// sees A's cursor. Runs with WebGPU and with the WebGL2 fallback.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MODES, createRoomFromHome, join, newPage, serverAndBrowser, waitFor, waitForPixels } from './helpers.mjs';

const env = serverAndBrowser();

/** Shapes (kind "shape") in a page's mirror, by id. */
function shapes(page) {
  return page.evaluate(() => {
    const out = {};
    for (const e of window.tickroom.mirror.entities.values()) {
      if (e.kind.name === 'shape') out[e.id] = { id: e.id, x: e.get('x'), y: e.get('y'), w: e.get('w'), h: e.get('h'), color: e.get('color') };
    }
    return out;
  });
}

/** A world point with no shape within `margin`, searched on a grid (seeded shapes exist). */
function emptySpot(page, margin) {
  return page.evaluate((margin) => {
    const list = [...window.tickroom.mirror.entities.values()].filter((e) => e.kind.name === 'shape');
    for (let y = 150; y <= 850; y += 50) {
      for (let x = 200; x <= 1000; x += 50) {
        const clear = list.every((e) => Math.abs(e.get('x') - x) > e.get('w') / 2 + margin || Math.abs(e.get('y') - y) > e.get('h') / 2 + margin);
        if (clear) return { x, y };
      }
    }
    return null;
  }, margin);
}

const project = (page, p) => page.evaluate(({ x, y }) => window.tickroom.project(x, y), p);

for (const mode of MODES) {
  describe(`board (${mode.name})`, () => {
    test('B sees A create, drag, recolour and delete a shape', async () => {
      const a = await newPage(env.browser, { hideGpu: mode.hideGpu });
      const b = await newPage(env.browser, { hideGpu: mode.hideGpu });
      try {
        const link = await createRoomFromHome(a.page, env.server.url, 'board');
        assert.equal(await join(a.page, link, 'alice'), mode.renderer);
        assert.equal(await join(b.page, link, 'bob'), mode.renderer);

        // Create: double-click on empty space.
        const before = await shapes(b.page);
        const spot = await emptySpot(a.page, 140);
        assert.ok(spot, 'an empty spot on the board');
        const at = await project(a.page, spot);
        await a.page.mouse.dblclick(at.x, at.y);
        const created = await waitFor(async () => {
          const now = await shapes(b.page);
          return Object.values(now).find((s) => !(s.id in before));
        }, { message: "A's new shape in B's mirror" });
        // Mouse positions are whole CSS pixels, about 2.2 world units each here.
        assert.ok(Math.abs(created.x - spot.x) < 4 && Math.abs(created.y - spot.y) < 4, `created at ${created.x},${created.y}, want ${spot.x},${spot.y}`);

        // B sees A's cursor (an entity of kind cursor named alice).
        await waitFor(() => b.page.evaluate(() => [...window.tickroom.mirror.entities.values()].some((e) => e.kind.name === 'cursor' && e.get('name') === 'alice')), {
          message: "A's cursor in B's mirror",
        });

        // Drag it by (+150, +100) world units in small steps, as a hand would.
        await waitFor(async () => (await shapes(a.page))[created.id], { message: 'shape in A mirror' });
        const target = { x: created.x + 150, y: created.y + 100 };
        const from = await project(a.page, created);
        const to = await project(a.page, target);
        await a.page.mouse.move(from.x, from.y);
        await a.page.mouse.down();
        for (let i = 1; i <= 10; i++) await a.page.mouse.move(from.x + ((to.x - from.x) * i) / 10, from.y + ((to.y - from.y) * i) / 10);
        await a.page.mouse.up();
        const moved = await waitFor(async () => {
          const s = (await shapes(b.page))[created.id];
          return s && Math.abs(s.x - target.x) < 4 && Math.abs(s.y - target.y) < 4 && s;
        }, { message: `shape ${created.id} at ${target.x},${target.y} in B's mirror` });

        // On B's screen the shape's colour is at the new spot and gone from the old one.
        const bAt = await project(b.page, moved);
        const bWas = await project(b.page, created);
        await waitForPixels(b.page, `board-${mode.name}-B-moved.png`, (shot) =>
          shot.colorNear(bAt.x, bAt.y, moved.color, 4) && !shot.colorNear(bWas.x, bWas.y, moved.color, 4),
          { message: `shape colour #${moved.color.toString(16)} at (${bAt.x}, ${bAt.y}) on B's screen` },
        );

        // Recolour (the dragged shape is selected): pick a palette colour that differs.
        const swatch = await a.page.evaluate((current) => {
          const b = [...document.querySelectorAll('.swatch')].find((el) => Number(el.dataset.color) !== current);
          return Number(b.dataset.color);
        }, moved.color);
        await a.page.locator(`.swatch[data-color="${swatch}"]`).click();
        await waitFor(async () => (await shapes(b.page))[created.id]?.color === swatch, { message: 'recoloured shape in B mirror' });
        await waitForPixels(b.page, `board-${mode.name}-B-recoloured.png`, (shot) => shot.colorNear(bAt.x, bAt.y, swatch, 4), {
          message: 'new colour on B screen',
        });

        // Delete with the Delete key.
        await a.page.keyboard.press('Delete');
        await waitFor(async () => !((await shapes(b.page))[created.id]), { message: 'deleted shape gone from B mirror' });
        assert.deepEqual(a.errors.concat(b.errors), [], 'no page errors');
      } finally {
        await a.context.close();
        await b.context.close();
      }
    });
  });
}
