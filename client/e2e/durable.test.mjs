// Durable rooms end to end: shapes drawn on a board in a real browser are
// still there after the room went to sleep, its server was killed with
// SIGKILL and a new server started on the same data directory: the share
// link wakes the room with every shape, and the lobby listed it asleep.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { createRoomByApi, join, launchBrowser, newPage, screenshot, startServer, waitFor } from './helpers.mjs';

const dir = mkdtempSync(joinPath(tmpdir(), 'tickroom-e2e-durable-'));
const args = ['-room-idle', '1s', '-seat-grace', '1s', '-recording-flush', '100ms'];
let server = null;
let browser = null;
after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Shapes (kind "shape") in a page's mirror: id, position, size, colour. */
const shapes = (page) =>
  page.evaluate(() =>
    [...window.tickroom.mirror.entities.values()]
      .filter((e) => e.kind.name === 'shape')
      .map((e) => ({ id: e.id, x: e.get('x'), y: e.get('y'), w: e.get('w'), h: e.get('h'), color: e.get('color') }))
      .sort((a, b) => a.id - b.id),
  );

const roomState = async (id) => {
  const res = await fetch(`${server.url}/api/rooms/${id}`);
  return res.ok ? (await res.json()).state : `HTTP ${res.status}`;
};

test('a board link works after the room slept and its server was killed with SIGKILL', async () => {
  server = await startServer({ args, dataDir: dir });
  browser = await launchBrowser();
  const room = await createRoomByApi(server.url, 'board', { visibility: 'public' });
  const a = await newPage(browser, { hideGpu: true });
  await join(a.page, server.url + room.shareUrl, 'alice');
  const seeded = await shapes(a.page);
  // Draw three shapes with double-clicks on empty board, as a person would.
  for (const [x, y] of [[150, 700], [450, 760], [900, 820]]) {
    const at = await a.page.evaluate(({ x, y }) => window.tickroom.project(x, y), { x, y });
    const n = (await shapes(a.page)).length;
    await a.page.mouse.dblclick(at.x, at.y);
    await waitFor(async () => (await shapes(a.page)).length === n + 1, { message: `shape at ${x},${y}` });
  }
  const drawn = await shapes(a.page);
  assert.equal(drawn.length, seeded.length + 3);
  await a.context.close(); // the tab is gone: the seat expires and the room falls asleep
  await waitFor(async () => (await roomState(room.id)) === 'dormant', { timeout: 15_000, message: 'the room asleep' });

  const { signal } = await server.kill('SIGKILL');
  assert.equal(signal, 'SIGKILL');
  server = await startServer({ args, dataDir: dir, port: server.port });
  assert.equal(await roomState(room.id), 'dormant', 'the new server knows the room before anyone joins');

  const home = await newPage(browser, { hideGpu: true });
  await home.page.goto(`${server.url}/`);
  const row = home.page.locator(`#lobby tr[data-room="${room.id}"]`);
  await row.waitFor({ timeout: 10_000 });
  assert.equal(await row.getAttribute('data-state'), 'dormant');
  assert.match(await row.textContent(), /asleep/);
  await home.context.close();

  const b = await newPage(browser, { hideGpu: true });
  await join(b.page, server.url + room.shareUrl, 'bob');
  await waitFor(async () => (await shapes(b.page)).length === drawn.length, { message: 'every shape back' });
  const back = await shapes(b.page);
  assert.deepEqual(back, drawn, 'the same shapes: ids, positions, sizes, colours');
  assert.equal(await roomState(room.id), 'live');
  await screenshot(b.page, 'durable-board-after-kill9.png');
  await b.context.close();
});
