// Recording and replay end to end: alice plays an arena room (moving with the
// keyboard, chatting) while bob watches; bob's mirror is sampled as the live
// truth. alice leaves, the room is closed, and bob's page links to the
// recording. The tape, fetched and decoded in Node with @tickroom/client's
// replay reader (the built package), must hold bob's live state at every sampled tick. The
// replay page, sought to a tick in the middle of the walk, must show that
// state in its mirror and on screen, and its scrubber, time and tick text,
// play, step, people and chat must follow.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { apiJSON, hasFlag, join, launchBrowser, newPage, root, saveArtifact, screenshot, startServer, waitFor, waitForPixels } from './helpers.mjs';

const TOKEN = 'e2e-replay-admin';
let server;
let browser;
let lib; // @tickroom/client, for its replay reader in Node
let missing = null; // why the recording tests cannot run on this server

before(async () => {
  lib = await import('@tickroom/client'); // the built package, as the pages use it
  if (!hasFlag('data-dir')) {
    missing = 'the server has no -data-dir flag yet';
    return;
  }
  server = await startServer({ args: ['-admin-token', TOKEN] });
  const res = await fetch(`${server.url}/api/recordings`);
  if (!res.ok) missing = `GET /api/recordings answers ${res.status}`;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const api = (method, path, body, admin = false) => apiJSON(server.url, method, path, body, admin ? TOKEN : undefined);

async function tapeOf(id) {
  const res = await fetch(`${server.url}/api/recordings/${id}/tape`);
  assert.equal(res.status, 200, 'GET tape');
  return new Uint8Array(await res.arrayBuffer());
}

const text = (page, sel) => page.locator(sel).textContent().catch(() => null);

/** m:ss as the page shows it. */
function clock(seconds) {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

test('record an arena session, open its replay from the room page, seek: the scene is the recorded state', async (t) => {
  if (missing) return t.skip(missing);
  const room = (await api('POST', '/api/rooms', { type: 'arena', options: {}, visibility: 'unlisted', maxPlayers: 8 })).body;
  const a = await newPage(browser, { hideGpu: true });
  const b = await newPage(browser, { hideGpu: true });
  const r = await newPage(browser); // the replay, with the default renderer
  try {
    await join(a.page, server.url + room.shareUrl, 'alice');
    await join(b.page, server.url + room.shareUrl, 'bob');
    const info = (await api('GET', `/api/rooms/${room.id}`)).body;
    assert.equal(typeof info.recordingId, 'string', `GET /api/rooms/{id} has recordingId: ${JSON.stringify(info)}`);
    const recId = info.recordingId;
    const self = await a.page.evaluate(() => window.tickroom.selfEntity().id);

    // alice walks; bob's mirror (the server's state, tick by tick) is sampled meanwhile.
    const entityIn = (page) =>
      page.evaluate((id) => {
        const e = window.tickroom.mirror.entities.get(id);
        return e ? { tick: window.tickroom.mirror.tick, x: e.get('x'), y: e.get('y'), color: e.get('color') } : null;
      }, self);
    const start = await waitFor(() => entityIn(b.page), { message: "alice's avatar in bob's mirror" });
    const key = start.x < 500 ? 'KeyD' : 'KeyA';
    const dir = key === 'KeyD' ? 1 : -1;
    const samples = [start];
    await a.page.locator('#scene').focus().catch(() => {});
    await a.page.keyboard.down(key);
    try {
      await waitFor(
        async () => {
          const s = await entityIn(b.page);
          if (s.tick !== samples[samples.length - 1].tick) samples.push(s);
          return (s.x - start.x) * dir > 150;
        },
        { interval: 60, timeout: 15_000, message: 'alice walking' },
      );
    } finally {
      await a.page.keyboard.up(key);
    }
    await a.page.locator('#chat-input').fill('hello replay');
    await a.page.locator('#chat-input').press('Enter');
    await waitFor(async () => /hello replay/.test(await text(b.page, '#chat-log')), { message: 'chat reaches bob' });

    // alice leaves; the room is closed; bob's page links to the recording.
    await a.context.close();
    assert.equal((await api('POST', `/api/admin/rooms/${room.id}/close`, null, true)).status, 204, 'close the room');
    await waitFor(async () => (await text(b.page, '#message h1')) === 'Room closed', { message: "bob's page: room closed" });
    const link = await b.page.locator('#recording-link').getAttribute('href');
    assert.equal(link, `/replay/${recId}`, 'the closed room links to its recording');
    saveArtifact('replay-room-closed.png', await b.page.screenshot());

    const meta = await waitFor(async () => {
      const m = (await api('GET', `/api/recordings/${recId}`)).body;
      return m && !m.inProgress && m;
    }, { timeout: 10_000, message: 'the recording finished' });
    assert.equal(meta.roomId, room.id);
    assert.equal(meta.type, 'arena');
    assert.ok(meta.members.includes('alice') && meta.members.includes('bob'), `members ${meta.members}`);
    const listed = (await api('GET', '/api/recordings')).body;
    assert.ok(listed.some((x) => x.id === recId), 'listed in GET /api/recordings');

    // The tape decoded in Node holds bob's live state at every sampled tick.
    const replay = lib.Replay.fromBytes(await tapeOf(recId));
    assert.equal(replay.tape.damage, null, 'an undamaged tape');
    assert.ok(replay.tape.clean, 'closed cleanly');
    const at = (tick) => {
      assert.equal(replay.seek(tick), tick, `node seek ${tick}`);
      const e = replay.mirror.entities.get(self);
      return { x: e.get('x'), y: e.get('y') };
    };
    for (const s of samples) assert.deepEqual(at(s.tick), { x: s.x, y: s.y }, `tick ${s.tick}: tape == live`);
    const mid = samples[Math.floor(samples.length / 2)];
    assert.ok((mid.x - start.x) * dir > 20, `the middle sample (${mid.x}) is away from the start (${start.x})`);
    const want = at(mid.tick);

    // The replay page, opened from the link, sought to the middle tick.
    await r.page.goto(server.url + link);
    const renderer = await waitFor(() => r.page.evaluate(() => window.tickroom?.replay && window.tickroom.rendererName()), {
      timeout: 20_000,
      message: 'replay page ready',
    });
    const first = await r.page.evaluate(() => window.tickroom.replay.firstTick);
    assert.equal(await r.page.evaluate((t) => window.tickroom.replay.seek(t), mid.tick), mid.tick, 'page seek');
    const got = await r.page.evaluate((id) => {
      const e = window.tickroom.replay.mirror.entities.get(id);
      return { tick: window.tickroom.replay.tick(), x: e.get('x'), y: e.get('y') };
    }, self);
    assert.deepEqual(got, { tick: mid.tick, ...want }, "the page's mirror at the sought tick");
    assert.equal(await text(r.page, '#tick'), `tick ${mid.tick}`);
    assert.match(await text(r.page, '#time'), new RegExp(`^${clock((mid.tick - first) / 20)} / `));
    assert.equal(await r.page.locator('#scrubber').inputValue(), String(mid.tick));
    assert.match(await text(r.page, '#members'), /alice/);
    assert.doesNotMatch(await text(r.page, '#chat-log'), /hello replay/, 'the chat comes later');

    // On screen: alice's colour where she was at that tick, not where she started.
    const p = await r.page.evaluate(({ x, y }) => window.tickroom.project(x, y), want);
    const p0 = await r.page.evaluate(({ x, y }) => window.tickroom.project(x, y), start);
    await waitForPixels(r.page, 'replay-seek.png', (shot) => shot.colorNear(p.x, p.y, start.color, 8) && !shot.colorNear(p0.x, p0.y, start.color, 4), {
      message: `alice's colour #${start.color.toString(16)} at (${p.x}, ${p.y}) on the replay (${renderer})`,
    });

    // The scrubber seeks; keys step; the end has the chat.
    await r.page.locator('#scrubber').evaluate((el, v) => {
      el.value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, first + 10);
    await waitFor(async () => (await text(r.page, '#tick')) === `tick ${first + 10}`, { message: 'scrubber seeks' });
    await r.page.locator('#scene').click();
    await r.page.keyboard.press('ArrowRight');
    assert.equal(await r.page.evaluate(() => window.tickroom.replay.tick()), first + 11, 'ArrowRight steps a tick');
    const last = await r.page.evaluate(() => window.tickroom.replay.lastTick);
    await r.page.keyboard.press('End');
    assert.equal(await text(r.page, '#tick'), `tick ${last}`);
    assert.match(await text(r.page, '#chat-log'), /alice\s*hello replay/);
    await waitFor(() => new URL(r.page.url()).searchParams.get('t') === String(last), { message: 'the address keeps the tick' });

    // Play from the middle: ticks and the time advance; space pauses.
    await r.page.evaluate((t) => window.tickroom.replay.seek(t), mid.tick);
    await r.page.locator('#play').click();
    await waitFor(async () => (await r.page.evaluate(() => window.tickroom.replay.tick())) > mid.tick + 5, { message: 'playing advances' });
    assert.equal(await text(r.page, '#play'), 'Pause');
    await r.page.keyboard.press('Space');
    assert.equal(await r.page.evaluate(() => window.tickroom.replay.playing()), false, 'space pauses');
    assert.notEqual(await text(r.page, '#tick'), `tick ${mid.tick}`);
    await screenshot(r.page, 'replay-played.png');
    assert.deepEqual(r.errors.filter((e) => !/favicon/.test(e)), [], 'no errors on the replay page');

    // A shared link with ?t= opens at that tick.
    await r.page.goto(`${server.url}${link}?t=${mid.tick}`);
    await waitFor(() => r.page.evaluate(() => window.tickroom?.replay?.tick()), { timeout: 15_000, message: 'replay page again' });
    assert.equal(await r.page.evaluate(() => window.tickroom.replay.tick()), mid.tick, 'opens at ?t=');
  } finally {
    await a.context.close().catch(() => {});
    await b.context.close();
    await r.context.close();
  }
});

test('the recordings list links to replays; the home page links to the list', async (t) => {
  if (missing) return t.skip(missing);
  const room = (await api('POST', '/api/rooms', { type: 'board', options: {}, visibility: 'unlisted', maxPlayers: 8 })).body;
  const { context, page, errors } = await newPage(browser, { hideGpu: true });
  try {
    const recId = (await api('GET', `/api/rooms/${room.id}`)).body.recordingId;
    await page.goto(`${server.url}/`);
    await page.locator('#recordings-link').click();
    await page.waitForURL(/\/replays$/);
    const row = page.locator(`#recordings tr[data-recording="${recId}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.match(await row.textContent(), /board/);
    assert.match(await row.textContent(), /recording/, 'in progress');
    saveArtifact('replays-list.png', await page.screenshot());
    await row.locator('a.watch').click();
    await page.waitForURL(new RegExp(`/replay/${recId}`));
    await waitFor(() => page.evaluate(() => window.tickroom?.replay !== undefined), { timeout: 15_000, message: 'replay page' });
    assert.match(await text(page, '#in-progress'), /still being recorded/);
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), []);
  } finally {
    await context.close();
  }
});

test('an unknown recording, and a damaged one', async (t) => {
  if (missing) return t.skip(missing);
  const { context, page } = await newPage(browser, { hideGpu: true });
  try {
    await page.goto(`${server.url}/replay/no-such-recording`);
    await waitFor(async () => (await text(page, '#message h1')) === 'No such recording', { message: 'no such recording page' });
    saveArtifact('replay-unknown.png', await page.screenshot());

    // Damage a finished recording's file in the data directory: the page says
    // where, and still plays what comes before.
    const room = (await api('POST', '/api/rooms', { type: 'arena', options: {}, visibility: 'unlisted', maxPlayers: 8 })).body;
    const recId = (await api('GET', `/api/rooms/${room.id}`)).body.recordingId;
    await waitFor(async () => (await api('GET', `/api/recordings/${recId}`)).body?.lastTick > 60, { timeout: 15_000, message: '3 s recorded' });
    await api('POST', `/api/admin/rooms/${room.id}/close`, null, true);
    await waitFor(async () => (await api('GET', `/api/recordings/${recId}`)).body?.inProgress === false, { message: 'finished' });
    const dir = joinPath(server.dataDir, 'recordings');
    const file = readdirSync(dir).find((f) => f.includes(recId) && f.endsWith('.tape'));
    if (!file) return t.skip(`no file for ${recId} in ${dir}: ${readdirSync(dir)}`);
    const bytes = readFileSync(joinPath(dir, file));
    const tape = lib.readTape(bytes);
    const victim = tape.records.find((rec) => rec.tick === 40 && rec.kind === 2);
    bytes[victim.offset + victim.size - 2] ^= 0xff;
    writeFileSync(joinPath(dir, file), bytes);
    for (const f of readdirSync(dir)) if (f === `${file}.idx`) writeFileSync(joinPath(dir, f), ''); // a stale index must not hide it

    await page.goto(`${server.url}/replay/${recId}`);
    await page.locator('#damage').waitFor({ timeout: 15_000 });
    const banner = await text(page, '#damage');
    assert.match(banner, new RegExp(`byte ${victim.offset}\\b`), banner);
    assert.match(banner, /damaged/);
    assert.equal(await page.evaluate(() => window.tickroom.replay.lastTick), 39, 'plays up to the tick before the damage');
    saveArtifact('replay-damaged.png', await page.screenshot());
  } finally {
    await context.close();
  }
});
