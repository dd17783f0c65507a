// Following one member's view in a replay (docs/TAPE.md "views"): two
// members play a field-bench room (views on) in two pages, one of them
// walking across cells; the entity ids in its live mirror are sampled tick
// by tick. The room is closed; the replay page, following that member, must
// draw exactly the entities of its view at every sampled tick (sought out of
// order, so seeking finds the view in effect there), the whole world when
// following nobody, and point its camera at the member's player.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiJSON, join, launchBrowser, newPage, screenshot, startServer, waitFor } from './helpers.mjs';

const TOKEN = 'e2e-replay-views-admin';
let server;
let browser;

before(async () => {
  server = await startServer({ args: ['-admin-token', TOKEN] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const api = (method, path, body, admin = false) => apiJSON(server.url, method, path, body, admin ? TOKEN : undefined);

/** The page's own member number and player, and the ids in its mirror at its tick. */
const liveView = (page) =>
  page.evaluate(() => {
    const t = window.tickroom;
    const w = t.connection.welcome;
    return { tick: t.mirror.tick, member: w.member, entity: w.entity, ids: [...t.mirror.entities.keys()].sort((a, b) => a - b) };
  });

test('a field-bench replay follows one member: exactly its view at every sampled tick', async (t) => {
  const room = (await api('POST', '/api/rooms', { type: 'field-bench', options: {}, visibility: 'unlisted', maxPlayers: 8 })).body;
  const a = await newPage(browser, { hideGpu: true });
  const b = await newPage(browser, { hideGpu: true });
  const r = await newPage(browser, { hideGpu: true });
  try {
    await join(a.page, server.url + room.shareUrl, 'ann');
    await join(b.page, server.url + room.shareUrl, 'bob');
    const recId = (await api('GET', `/api/rooms/${room.id}`)).body.recordingId;
    assert.equal(typeof recId, 'string', 'the room is recorded');

    // ann walks right (10 units a tick: a 250-unit cell every 25 ticks) while her view is sampled.
    const samples = [];
    await waitFor(
      async () => {
        await a.page.evaluate(() => window.tickroom.connection.sendInput({ dx: 1, dy: 0.2 }));
        const s = await liveView(a.page);
        if (samples.length === 0 || s.tick !== samples[samples.length - 1].tick) samples.push(s);
        return samples.length >= 25 && s.tick - samples[0].tick > 80;
      },
      { interval: 100, timeout: 30_000, message: "ann walking, her view sampled" },
    );
    const bob = await liveView(b.page);
    const ann = samples[0];
    const distinct = new Set(samples.map((s) => s.ids.join(',')));
    assert.ok(distinct.size > 3, `ann's view changed while she walked (${distinct.size} distinct sets)`);

    assert.equal((await api('POST', `/api/admin/rooms/${room.id}/close`, null, true)).status, 204, 'close the room');
    await waitFor(async () => (await api('GET', `/api/recordings/${recId}`)).body?.inProgress === false, { timeout: 10_000, message: 'the recording finished' });

    await r.page.goto(`${server.url}/replay/${recId}`);
    await waitFor(() => r.page.evaluate(() => window.tickroom?.replay !== undefined && window.tickroom.rendererName() !== null), {
      timeout: 20_000,
      message: 'replay page ready',
    });
    const rp = (fn, arg) => r.page.evaluate(fn, arg);
    assert.deepEqual(await rp(() => window.tickroom.replay.viewMembers()), [ann.member, bob.member].sort((x, y) => x - y), 'views of both members');
    const options = await r.page.locator('#follow option').allTextContents();
    assert.deepEqual(options, ['whole world', "ann's view", "bob's view"]);

    // The whole world: every prop, far more than a view.
    const mid = samples[Math.floor(samples.length / 2)];
    await rp((tk) => window.tickroom.replay.seek(tk), mid.tick);
    const world = await rp(() => window.tickroom.replay.shownIds());
    assert.ok(world.length >= 4096, `the whole world shows ${world.length} entities`);
    assert.equal(await rp(() => window.tickroom.replay.cameraEntity()), -1, 'no camera on the whole world');

    // Follow ann through the select; then seek to each sample, backwards and forwards.
    await r.page.locator('#follow').selectOption(String(ann.member));
    assert.equal(await rp(() => window.tickroom.replay.followed()), ann.member);
    const order = [...samples].reverse().concat(samples.filter((_, i) => i % 3 === 0));
    for (const s of order) {
      assert.equal(await rp((tk) => window.tickroom.replay.seek(tk), s.tick), s.tick, `seek ${s.tick}`);
      assert.deepEqual(await rp(() => window.tickroom.replay.shownIds()), s.ids, `tick ${s.tick}: the replay following ann shows her live view`);
    }
    await waitFor(async () => (await rp(() => window.tickroom.replay.cameraEntity())) === ann.entity, { message: "the camera follows ann's player" });
    await screenshot(r.page, 'replay-follow-ann.png');
    // Playing while following: entities crossing the view's edge fade (scene.ts), the view follows the ticks.
    await rp((tk) => window.tickroom.replay.seek(tk), samples[0].tick);
    await rp(() => window.tickroom.replay.play());
    await waitFor(async () => (await rp(() => window.tickroom.replay.tick())) > samples[0].tick + 20, { message: 'playing while following' });
    await rp(() => window.tickroom.replay.pause());
    const playedTo = await rp(() => window.tickroom.replay.tick());
    // Forward from where playing stopped (deltas, not a keyframe reload) to the next sample.
    const next = samples.find((s) => s.tick >= playedTo) ?? samples[samples.length - 1];
    await rp((tk) => window.tickroom.replay.seek(tk), next.tick);
    assert.deepEqual(await rp(() => window.tickroom.replay.shownIds()), next.ids, `tick ${next.tick} after playing to ${playedTo}`);
    await screenshot(r.page, 'replay-follow-played.png');

    // bob's view is another one; whole world again restores everything.
    await rp((tk) => window.tickroom.replay.seek(tk), bob.tick);
    await r.page.locator('#follow').selectOption(String(bob.member));
    assert.deepEqual(await rp(() => window.tickroom.replay.shownIds()), bob.ids, "bob's view at his sampled tick");
    await r.page.locator('#follow').selectOption('');
    assert.equal(await rp(() => window.tickroom.replay.followed()), null);
    assert.ok((await rp(() => window.tickroom.replay.shownIds())).length >= 4096, 'the whole world again');
    assert.deepEqual(r.errors.filter((e) => !/favicon/.test(e)), [], 'no errors on the replay page');
  } finally {
    await a.context.close();
    await b.context.close();
    await r.context.close();
  }
});
