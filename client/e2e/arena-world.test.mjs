// The arena as a game, in two pages: a field several screens wide whose
// camera follows the own avatar, the scoreboard, and short rounds (12 s of
// play, 4 s of break) whose timer counts down and whose winner both pages
// announce, after which a new round starts from 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoomByApi, join, newPage, saveArtifact, serverAndBrowser, waitFor, waitForPixels } from './helpers.mjs';

const env = serverAndBrowser();

/** The own avatar's world position, where it is drawn in page pixels, and the canvas' centre. */
function camera(page) {
  return page.evaluate(() => {
    const t = window.tickroom;
    const e = t.selfEntity();
    const x = e.get('x');
    const y = e.get('y');
    const r = t.scene.canvas.getBoundingClientRect();
    const origin = t.project(0, 0);
    const scale = t.project(1, 0).x - origin.x;
    return { x, y, color: e.get('color'), drawn: t.project(x, y), origin, scale, centre: { x: r.left + r.width / 2, y: r.top + r.height / 2 } };
  });
}

/** The scoreboard rows on a page: [name, score], in the order shown. */
function scores(page) {
  return page.$$eval('#scores li[data-entity]', (lis) => lis.map((li) => [li.querySelector('.name').textContent, Number(li.querySelector('.score').textContent)]));
}

/** The round panel: its number text, timer text, and the winner banner (null while hidden). */
function round(page) {
  return page.evaluate(() => {
    const banner = document.getElementById('round-winner');
    return {
      number: document.getElementById('round-number')?.textContent ?? null,
      timer: document.getElementById('round-timer')?.textContent ?? null,
      winner: banner && !banner.hidden ? banner.textContent : null,
    };
  });
}

function seconds(text) {
  const m = /^(\d+):(\d\d)$/.exec(text ?? '');
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
}

/**
 * A steering loop on the page: one input per tick toward the nearest coin,
 * slowing so as not to overshoot. In a round's last 2 seconds and in the
 * break it stands still, so that whatever it walks onto before the input
 * takes effect it picks up while the round is on, and it is not standing on
 * a coin when the next round starts (which would score on its first tick).
 */
function startCoinBot(page) {
  return page.evaluate(() => {
    const t = window.tickroom;
    let still = false;
    window.stopBot = t.mirror.subscribe((m) => {
      const self = t.selfEntity();
      if (!self) return;
      const phase = document.getElementById('round')?.dataset.phase;
      const left = /^(\d+):(\d\d)$/.exec(document.getElementById('round-timer')?.textContent ?? '');
      if (phase === 'break' || (phase === 'play' && left && Number(left[1]) * 60 + Number(left[2]) <= 2)) {
        if (!still) t.connection.sendInput({ dx: 0, dy: 0 });
        still = true;
        return;
      }
      still = false;
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
}

test('larger arena: the camera follows, the scoreboard updates, rounds count down and name a winner', async () => {
  const room = await createRoomByApi(env.server.url, 'arena', { options: { round: 12, break: 4 } });
  const a = await newPage(env.browser, { hideGpu: true });
  const b = await newPage(env.browser, { hideGpu: true });
  try {
    await join(a.page, env.server.url + room.shareUrl, 'alice');
    await join(b.page, env.server.url + room.shareUrl, 'bob');

    // The field is larger than the screen: the page shows a window of it.
    const world = await a.page.evaluate(() => {
      const v = window.tickroom.scene.view;
      return { w: v.worldWidth, h: v.worldHeight, far: window.tickroom.project(v.worldWidth, v.worldHeight) };
    });
    assert.deepEqual([world.w, world.h], [3000, 1800], 'world size from the welcome');
    const vp = a.page.viewportSize();
    assert.ok(world.far.x > vp.width && world.far.y > vp.height, `the far corner ${JSON.stringify(world.far)} is off the ${vp.width} x ${vp.height} page`);

    // Camera: the own avatar is drawn at the canvas' centre (it spawned mid-field, away from the clamped edges).
    const near = (p, q, d) => Math.abs(p.x - q.x) <= d && Math.abs(p.y - q.y) <= d;
    const start = await waitFor(async () => {
      const c = await camera(a.page);
      return near(c.drawn, c.centre, 4) && c;
    }, { message: "A's avatar at the centre of A's screen" });

    // A walks right 400 units (still 250 short of where the camera clamps):
    // the avatar stays at the centre and the world moves left under it.
    await a.page.evaluate(() => window.tickroom.connection.sendInput({ dx: 1, dy: 0 }));
    await waitFor(async () => (await camera(a.page)).x >= start.x + 400, { timeout: 20_000, message: 'A walked 400 units right' });
    await a.page.evaluate(() => window.tickroom.connection.sendInput({ dx: 0, dy: 0 }));
    await b.page.evaluate(() => window.tickroom.connection.sendInput({ dx: -1, dy: 0 })); // bob heads off A's screen
    const moved = await waitFor(async () => {
      const c = await camera(a.page);
      return near(c.drawn, c.centre, 4) && c;
    }, { message: "A's avatar back at the centre once the camera caught up" });
    const shift = moved.origin.x - start.origin.x;
    const walk = (moved.x - start.x) * moved.scale;
    // Within the 4 px either centre check allows.
    assert.ok(walk > 200 && Math.abs(shift + walk) <= 8, `the world moved left by the walk: origin shifted ${shift} px for a walk of ${walk} px`);
    await waitForPixels(a.page, 'arena-world-A-centre.png', async (shot) => {
      const c = await camera(a.page);
      return shot.colorNear(c.drawn.x, c.drawn.y, c.color, 8) && near(c.drawn, c.centre, 4);
    }, { message: "A's colour at the centre of A's screen" });

    // bob, off A's screen, is not drawn there; an arrow of his colour at the
    // left edge of A's screen points at him.
    const bob = await b.page.evaluate(() => ({ id: window.tickroom.selfEntity().id, color: window.tickroom.selfEntity().get('color') }));
    await waitFor(async () => (await camera(a.page)).x - (await b.page.evaluate(() => window.tickroom.selfEntity().get('x'))) > 1200, {
      timeout: 30_000,
      message: "bob 1200 units left of alice, off A's screen",
    });
    await b.page.evaluate(() => window.tickroom.connection.sendInput({ dx: 0, dy: 0 }));
    let marker = await waitFor(() => a.page.evaluate(({ color }) => {
      const sc = window.tickroom.scene;
      const d = sc.instances();
      const r = sc.canvas.getBoundingClientRect();
      const scale = window.tickroom.project(1, 0).x - window.tickroom.project(0, 0).x;
      const found = [];
      for (let i = 0, o = 0; i < sc.drawnCount; i++, o += 8) {
        if (d[o + 5] !== color || d[o + 6] !== 2) continue; // bob's colour, an arrow
        const p = window.tickroom.project(d[o], d[o + 1]);
        found.push({ x: p.x - r.left, y: p.y - r.top, w: r.width, h: r.height, angle: d[o + 4], px: d[o + 2] * scale });
      }
      return found.length > 0 && found;
    }, bob), { message: "an arrow of bob's colour on A's screen" });
    // One arrow, 16 px long (the marker), not bob's 36-unit avatar.
    assert.equal(marker.length, 1, `arrows of bob's colour: ${JSON.stringify(marker)}`);
    marker = marker[0];
    assert.ok(Math.abs(marker.px - 16) < 0.5, `the marker is 16 px long: ${marker.px}`);
    assert.ok(marker.x > 0 && marker.x < 40 && marker.y > 0 && marker.y < marker.h, `the arrow at the left edge: ${JSON.stringify(marker)}`);
    assert.ok(Math.abs(Math.abs(marker.angle) - Math.PI) < 0.8, `the arrow points left, toward bob: angle ${marker.angle}`);

    // The round timer counts down on both pages.
    const first = await waitFor(async () => {
      const r = await round(b.page);
      return r.number?.startsWith('Round ') && seconds(r.timer) > 1 && r;
    }, { message: "B's round timer" });
    await waitFor(async () => seconds((await round(b.page)).timer) < seconds(first.timer), { message: `B's timer going down from ${first.timer}` });
    assert.match((await round(a.page)).number ?? '', /^Round \d+$/, "A's round number");

    // Each page's frames: how many coins each draws, and whether one drew a
    // coin part-faded (a picked-up coin fading out, or its successor fading in).
    const countCoins = (page) => page.evaluate(() => {
      const sc = window.tickroom.scene;
      window.coinFrames = { frames: 0, most: 0, faded: 0 };
      sc.afterFrame = () => {
        const d = sc.instances();
        let coins = 0;
        for (let i = 0, o = 0; i < sc.drawnCount; i++, o += 8) {
          if (d[o + 5] !== 0xffc83d || d[o + 6] !== 3) continue; // the coins' colour, a ring
          coins++;
          if (d[o + 7] > 0.05 && d[o + 7] < 0.95) window.coinFrames.faded++;
        }
        window.coinFrames.frames++;
        window.coinFrames.most = Math.max(window.coinFrames.most, coins);
      };
    });
    await countCoins(a.page);
    await countCoins(b.page);

    // Scoreboard: alice collects coins and leads on B's board.
    await startCoinBot(a.page);
    await waitFor(async () => {
      const s = await scores(b.page);
      return s[0]?.[0] === 'alice' && s[0][1] >= 1 && s;
    }, { timeout: 60_000, message: "alice scores and leads B's scoreboard" });
    // alice's pickups happen on her screen: a frame there drew a coin fading.
    await waitFor(() => a.page.evaluate(() => window.coinFrames.faded > 0), { timeout: 40_000, message: 'a part-faded coin in one of A\'s frames' });

    // The round ends: both pages name alice (bob stands still since his
    // walk, so cannot score; a round that ended before her first coin, or
    // that bob's walk won, names someone else, and a later one is hers).
    const over = await waitFor(async () => {
      const r = await round(b.page);
      return r.winner !== null && /^alice wins round \d+!$/.test(r.winner) && r;
    }, { timeout: 60_000, interval: 200, message: 'B announces alice as the winner' });
    await a.page.evaluate(() => window.stopBot());
    await a.page.evaluate(() => window.tickroom.connection.sendInput({ dx: 0, dy: 0 }));
    // Off-screen coins are not drawn: B's screen shows about a ninth of the
    // field, so its frames drew far fewer than the 80 coins.
    const frames = await b.page.evaluate(() => window.coinFrames);
    assert.ok(frames.frames > 0 && frames.most > 0 && frames.most < 40, `B's frames drew at most ${frames.most} of 80 coins (${frames.frames} frames)`);
    assert.match(over.timer, /^next round in \d+:\d\d$/, 'the break counts down to the next round');
    const winnerOnA = await waitFor(async () => (await round(a.page)).winner, { message: 'A announces a winner' });
    assert.equal(winnerOnA, over.winner, 'both pages name the same winner');
    saveArtifact('arena-world-B-winner.png', await b.page.screenshot());

    // The next round starts with every score at 0 and the banner gone.
    const n = Number(/round (\d+)/.exec(over.winner)[1]);
    let seen;
    await waitFor(async () => {
      const r = await round(b.page);
      const s = await scores(b.page);
      seen = { ...r, scores: s };
      return r.number === `Round ${n + 1}` && r.winner === null && s.length === 2 && s.every(([, v]) => v === 0);
    }, { timeout: 20_000, message: () => `round ${n + 1} on B with both scores at 0 (B shows ${JSON.stringify(seen)})` });
    assert.deepEqual(a.errors.concat(b.errors).filter((e) => !/favicon/.test(e)), [], 'no page errors');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('larger arena, spectator: the whole field fits the screen (no camera), rounds shown', async () => {
  const room = await createRoomByApi(env.server.url, 'arena', { options: { round: 30, break: 4 } });
  const a = await newPage(env.browser, { hideGpu: true });
  const s = await newPage(env.browser, { hideGpu: true });
  try {
    await join(a.page, env.server.url + room.shareUrl, 'alice');
    await join(s.page, env.server.url + room.spectateUrl, 'watcher');
    assert.equal(await s.page.evaluate(() => window.tickroom.connection.welcome.spectator), true, 'joined as a spectator');
    const fit = await s.page.evaluate(() => {
      const t = window.tickroom;
      const r = t.scene.canvas.getBoundingClientRect();
      const near = t.project(0, 0);
      const far = t.project(3000, 1800);
      return { follow: t.scene.followId, near, far, r: { left: r.left, top: r.top, right: r.right, bottom: r.bottom } };
    });
    assert.equal(fit.follow, -1, 'a spectator has no own avatar to follow');
    const inside = (p) => p.x >= fit.r.left - 1 && p.x <= fit.r.right + 1 && p.y >= fit.r.top - 1 && p.y <= fit.r.bottom + 1;
    assert.ok(inside(fit.near) && inside(fit.far), `both corners of the field on the spectator's canvas: ${JSON.stringify(fit)}`);
    const r = await waitFor(async () => {
      const x = await round(s.page);
      return x.number === 'Round 1' && seconds(x.timer) > 0 && x;
    }, { message: "the round on the spectator's page" });
    assert.ok(seconds(r.timer) <= 30, `timer ${r.timer}`);
    assert.deepEqual(a.errors.concat(s.errors).filter((e) => !/favicon/.test(e)), [], 'no page errors');
  } finally {
    await a.context.close();
    await s.context.close();
  }
});
