// Arena end to end: A creates a room from the home page, B opens the share
// link, A moves with the keyboard, and B sees A's avatar move both in its
// mirror and on screen. Runs once with WebGPU and once with navigator.gpu
// removed, to prove the WebGL2 fallback draws too.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MODES, createRoomByApi, createRoomFromHome, join, newPage, saveArtifact, serverAndBrowser, waitFor, waitForPixels } from './helpers.mjs';

const env = serverAndBrowser();

/** An entity in the page's own mirror: {id, x, y, color, tick (the mirror's)} or null. */
function entityIn(page, id) {
  return page.evaluate((id) => {
    const e = window.tickroom.mirror.entities.get(id);
    return e ? { id, x: e.get('x'), y: e.get('y'), color: e.get('color'), tick: window.tickroom.mirror.tick } : null;
  }, id);
}

for (const mode of MODES) {
  describe(`arena (${mode.name})`, () => {
    test('B sees A move', async () => {
      const a = await newPage(env.browser, { hideGpu: mode.hideGpu });
      const b = await newPage(env.browser, { hideGpu: mode.hideGpu });
      try {
        const link = await createRoomFromHome(a.page, env.server.url, 'arena');
        assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/r\/[A-Za-z0-9_-]{22}$/, 'share link');
        assert.equal(await join(a.page, link, 'alice'), mode.renderer, 'A renderer');
        assert.equal(await join(b.page, link, 'bob'), mode.renderer, 'B renderer');
        const renderer = await b.page.locator('#renderer').textContent();
        assert.equal(renderer, mode.renderer, '#renderer shows the back-end');

        const selfA = await a.page.evaluate(() => {
          const e = window.tickroom.selfEntity();
          return { id: e.id, x: e.get('x'), y: e.get('y') };
        });
        const start = await waitFor(() => entityIn(b.page, selfA.id), { message: "A's avatar in B's mirror" });
        // Both spawned in the middle of a field several screens wide, so a
        // wall is far; A walks toward B, so that it stays on B's screen
        // (B's camera follows B).
        const selfB = await b.page.evaluate(() => window.tickroom.selfEntity().get('x'));
        const key = start.x < selfB ? 'KeyD' : 'KeyA';
        const dir = key === 'KeyD' ? 1 : -1;
        await a.page.locator('#scene').focus().catch(() => {});
        await a.page.keyboard.down(key);
        try {
          await waitFor(async () => {
            const e = await entityIn(b.page, selfA.id);
            return e && (e.x - start.x) * dir > 120;
          }, { message: "A's avatar moving in B's mirror", timeout: 15_000 });
        } finally {
          await a.page.keyboard.up(key);
        }
        // Released: the zero input stops it. "Still" means the same position
        // across 10 ticks B has applied (a busy page may apply ticks late, so
        // wall-clock stillness would prove nothing).
        let last = await entityIn(b.page, selfA.id);
        const stopped = await waitFor(async () => {
          const e = await entityIn(b.page, selfA.id);
          if (e.x !== last.x || e.y !== last.y) last = e;
          return e.tick - last.tick >= 10 && e;
        }, { interval: 200, timeout: 15_000, message: 'avatar stops after key release' });
        assert.ok((stopped.x - start.x) * dir > 120, `moved from ${start.x} to ${stopped.x}`);
        // A's own mirror agrees with B's: both hold the server's state.
        let seen;
        await waitFor(async () => {
          seen = await entityIn(a.page, selfA.id);
          return seen.x === stopped.x && seen.y === stopped.y;
        }, { message: "A's mirror equals B's" }).catch((err) => {
          throw new Error(`${err.message}: B ${JSON.stringify(stopped)}, A ${JSON.stringify(seen)}`);
        });

        // On B's screen A's avatar (its colour) is drawn at the new spot, not
        // the old. Each page has its own camera, so each projects for itself
        // (once the camera has settled: it eases after its target).
        const project = (page, p) => page.evaluate(({ x, y }) => window.tickroom.project(x, y), p);
        let at;
        let was;
        await waitForPixels(b.page, `arena-${mode.name}-B.png`, async (shot) => {
          at = await project(b.page, stopped);
          was = await project(b.page, start);
          return shot.colorNear(at.x, at.y, stopped.color, 8) && !shot.colorNear(was.x, was.y, stopped.color, 4);
        }, { message: () => `A's colour #${stopped.color.toString(16)} at (${at?.x}, ${at?.y}) on B's screen` });
        let own;
        await waitForPixels(a.page, `arena-${mode.name}-A.png`, async (shot) => {
          own = await project(a.page, stopped);
          return shot.colorNear(own.x, own.y, stopped.color, 8);
        }, { message: () => `A's avatar at (${own?.x}, ${own?.y}) on A's own screen` });
        assert.deepEqual(a.errors.concat(b.errors).filter((e) => !/favicon/.test(e)), [], 'no page errors');
      } finally {
        await a.context.close();
        await b.context.close();
      }
    });
  });
}

/** The scoreboard rows on a page: [name, score], in the order shown. */
function scores(page) {
  return page.$$eval('#scores li[data-entity]', (lis) => lis.map((li) => [li.querySelector('.name').textContent, Number(li.querySelector('.score').textContent)]));
}

test('scoreboard: every avatar with its score, highest first, updating live', async () => {
  const room = await createRoomByApi(env.server.url, 'arena');
  const a = await newPage(env.browser, { hideGpu: true });
  const b = await newPage(env.browser, { hideGpu: true });
  try {
    await join(a.page, env.server.url + room.shareUrl, 'alice');
    await join(b.page, env.server.url + room.shareUrl, 'bob');
    await waitFor(async () => {
      const s = await scores(b.page);
      return s.length === 2 && s.some(([n, v]) => n === 'alice' && v === 0) && s.some(([n, v]) => n === 'bob (you)' && v === 0);
    }, { message: "both avatars at 0 on B's scoreboard" });

    // alice walks to the nearest coin: a steering loop on her own page, one
    // input per tick, slowing down so as not to overshoot (speed 6 a tick).
    await a.page.evaluate(() => {
      const t = window.tickroom;
      window.stopBot = t.mirror.subscribe((m) => {
        const self = t.selfEntity();
        if (!self) return;
        let coin = null;
        let dist = Infinity;
        for (const e of m.entities.values()) {
          if (e.kind.name !== 'coin') continue;
          const d = Math.hypot(e.get('x') - self.get('x'), e.get('y') - self.get('y'));
          if (d < dist) [coin, dist] = [e, d];
        }
        if (coin === null || dist === 0) return;
        const k = Math.min(1, dist / 6) / dist;
        t.connection.sendInput({ dx: (coin.get('x') - self.get('x')) * k, dy: (coin.get('y') - self.get('y')) * k });
      });
    });
    const board = await waitFor(async () => {
      const s = await scores(b.page);
      return s[0]?.[0] === 'alice' && s[0][1] >= 1 && s;
    }, { timeout: 30_000, message: "alice scores and leads B's scoreboard" });
    await a.page.evaluate(() => window.stopBot());
    assert.deepEqual(board[1], ['bob (you)', 0], 'bob second, at 0');
    // The board shows what the mirror holds.
    const mirrored = await b.page.evaluate(() =>
      [...window.tickroom.mirror.entities.values()].filter((e) => e.kind.name === 'avatar').map((e) => [e.get('name'), e.get('score')]),
    );
    const shown = await scores(b.page);
    for (const [name, score] of shown) {
      assert.ok(mirrored.some(([n, v]) => name.startsWith(n) && v >= score), `${name} ${score} is in B's mirror (${JSON.stringify(mirrored)})`);
    }
    assert.match(await a.page.locator('#scores li.self').textContent(), /alice \(you\)/, "A's own row is marked");
    saveArtifact('arena-scoreboard-B.png', await b.page.screenshot());
    assert.deepEqual(a.errors.concat(b.errors).filter((e) => !/favicon/.test(e)), [], 'no page errors');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});
