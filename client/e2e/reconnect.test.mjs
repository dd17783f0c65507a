// Reconnection end to end: B loses the network (context.setOffline), the
// client notices the silence, retries with backoff, and when the network is
// back it resumes its seat: same member, same entity. Then B's socket is
// closed from the page and the same holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoomByApi, join, newPage, serverAndBrowser, waitFor } from './helpers.mjs';

const env = serverAndBrowser();

const seat = (page) =>
  page.evaluate(() => ({
    member: window.tickroom.connection.welcome.member,
    entity: window.tickroom.selfEntity()?.id,
    resumed: window.tickroom.connection.welcome.resumed,
    state: window.tickroom.connection.status.state,
    tick: window.tickroom.mirror.tick,
  }));

test('B goes offline and back and keeps its seat and entity; A sees presence', async () => {
  const room = await createRoomByApi(env.server.url, 'arena', { maxPlayers: 4 });
  // WebGL2 (no WebGPU) keeps this test about the network and light on the software GPU.
  const a = await newPage(env.browser, { hideGpu: true });
  const b = await newPage(env.browser, { hideGpu: true });
  try {
    await join(a.page, env.server.url + room.shareUrl, 'alice');
    await join(b.page, env.server.url + room.shareUrl, 'bob');
    const first = await seat(b.page);
    assert.ok(first.entity > 0, 'B has an avatar');

    await b.context.setOffline(true);
    await waitFor(() => b.page.evaluate(() => /^reconnecting/.test(window.tickroom.status())), {
      message: 'B notices the dead network and shows "reconnecting"',
    });
    const text = await b.page.locator('#status').textContent();
    assert.match(text, /^reconnecting( in \d+ s|…)$/);
    await b.context.setOffline(false);

    const back = await waitFor(async () => {
      const s = await seat(b.page);
      return s.state === 'connected' && s.resumed && s.tick > first.tick && s;
    }, { timeout: 20_000, message: 'B resumed its seat' });
    assert.equal(back.member, first.member, 'same member number');
    assert.equal(back.entity, first.entity, 'same entity id');
    await waitFor(() => a.page.evaluate((m) => document.querySelector(`#members li[data-member="${m}"]`)?.classList.contains('online'), first.member), {
      message: 'A sees B online',
    });
    assert.ok(await a.page.evaluate((id) => window.tickroom.mirror.entities.has(id), first.entity), "B's avatar still in A's mirror");

    // A socket closed under the page (not by the server) also resumes.
    await b.page.evaluate(() => window.tickroom.connection.currentSocket.close(4000, 'test'));
    const again = await waitFor(async () => {
      const s = await seat(b.page);
      return s.state === 'connected' && s.resumed && s.tick > back.tick && s;
    }, { timeout: 20_000, message: 'B resumed after its socket closed' });
    assert.equal(again.entity, first.entity, 'same entity id after close');

    // B closes its tab: A sees B offline (the seat is held for the grace period).
    await b.context.close();
    await waitFor(() => a.page.evaluate((m) => document.querySelector(`#members li[data-member="${m}"]`)?.classList.contains('offline'), first.member), {
      message: 'A sees B offline',
    });
  } finally {
    await a.context.close();
    await b.context.close();
  }
});
