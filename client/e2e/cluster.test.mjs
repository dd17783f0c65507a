// A cluster end to end: two tickroom nodes on one NATS server. A board made
// on node A is opened in one browser page through A and in another through
// node B (relayed): shapes drawn in either page show in both. Then A is
// killed with SIGKILL: the page on B reconnects by itself, to B, which has
// taken the room over from its log, with every shape, and drawing goes on.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRoomByApi, join, launchBrowser, newPage, screenshot, startNats, startServer, waitFor } from './helpers.mjs';

let nats = null;
let a = null;
let b = null;
let browser = null;
after(async () => {
  await browser?.close();
  await a?.stop();
  await b?.stop();
  await nats?.stop();
});

const shapes = (page) =>
  page.evaluate(() =>
    [...window.tickroom.mirror.entities.values()]
      .filter((e) => e.kind.name === 'shape')
      .map((e) => ({ id: e.id, x: e.get('x'), y: e.get('y'), w: e.get('w'), h: e.get('h'), color: e.get('color') }))
      .sort((p, q) => p.id - q.id),
  );

/** Draws a shape with a double-click on the board at world (x, y). */
async function draw(page, x, y) {
  const at = await page.evaluate(({ x, y }) => window.tickroom.project(x, y), { x, y });
  const n = (await shapes(page)).length;
  await page.mouse.dblclick(at.x, at.y);
  await waitFor(async () => (await shapes(page)).length === n + 1, { message: `shape at ${x},${y}` });
}

test('one board through two nodes, and through a kill -9 of its owner', async () => {
  nats = await startNats();
  const args = ['-nats', nats.url, '-lease-ttl', '1s'];
  a = await startServer({ args });
  b = await startServer({ args });
  browser = await launchBrowser();
  const room = await createRoomByApi(a.url, 'board', { visibility: 'public' });
  const info = await (await fetch(`${b.url}/api/rooms/${room.id}`)).json();
  assert.equal(info.owner, `127.0.0.1:${a.port}`, 'node B names node A as the owner');

  const onA = await newPage(browser, { hideGpu: true });
  const onB = await newPage(browser, { hideGpu: true });
  await join(onA.page, a.url + room.shareUrl, 'alice');
  await join(onB.page, b.url + room.shareUrl, 'bob');
  await draw(onA.page, 150, 700);
  await draw(onB.page, 450, 760);
  await waitFor(async () => JSON.stringify(await shapes(onA.page)) === JSON.stringify(await shapes(onB.page)), {
    message: 'both pages showing the same shapes',
  });
  const before = await shapes(onB.page);
  await screenshot(onB.page, 'cluster-board-relayed.png');

  await onA.context.close();
  await a.kill('SIGKILL');
  // The page on B is sent back (1012) when A's lease expires, reconnects to
  // B with its token, and B rebuilds the room from its log.
  let seen = '';
  await waitFor(
    async () => {
      // "reconnected": the welcome of the seat resumed on the new owner
      // (the old connection may still look connected for a moment).
      const s = await onB.page.evaluate(() => window.tickroom.connection.status);
      const r = await fetch(`${b.url}/api/rooms/${room.id}`);
      const owner = r.ok ? (await r.json()).owner : `HTTP ${r.status}`;
      seen = `status ${JSON.stringify(s)}, owner ${owner}`;
      return s.state === 'connected' && s.text === 'reconnected' && owner === `127.0.0.1:${b.port}`;
    },
    { timeout: 20_000, message: 'the page back in the room, now run by B' },
  ).catch((err) => {
    throw new Error(`${err.message}: ${seen}\n${b.log()}`);
  });
  await waitFor(async () => JSON.stringify(await shapes(onB.page)) === JSON.stringify(before), {
    timeout: 10_000,
    message: 'every shape after the takeover',
  });
  await draw(onB.page, 900, 820);
  await screenshot(onB.page, 'cluster-board-after-owner-kill9.png');
  assert.equal(onB.errors.length, 0, `page errors: ${onB.errors.join('\n')}`);
});
