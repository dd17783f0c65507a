// The /admin monitor end to end, against a server started with an admin
// token: the token prompt refuses a wrong token ("unauthorized"), the room
// appears in the live table with its players, its detail lists the members,
// the spectator view draws the scene (without counting as a player), the
// chart draws, a kicked member disappears, and closing the room ends it for
// its members. Also: a server without a token says the admin API is off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoomByApi, join, newPage, saveArtifact, screenshot, serverAndBrowser, startServer, waitFor } from './helpers.mjs';

const TOKEN = 'e2e-admin-token-7f3a';
const env = serverAndBrowser({ args: ['-admin-token', TOKEN] });

const text = (page, sel) => page.locator(sel).textContent().catch(() => null);

test('monitor: token, live table, members, spectator view, chart, kick, close', async () => {
  const room = await createRoomByApi(env.server.url, 'arena');
  const a = await newPage(env.browser, { hideGpu: true });
  const b = await newPage(env.browser, { hideGpu: true });
  const admin = await newPage(env.browser, { width: 1000, height: 800 });
  try {
    await join(a.page, env.server.url + room.shareUrl, 'alice');
    await join(b.page, env.server.url + room.shareUrl, 'bob');
    const alice = await a.page.evaluate(() => ({ member: window.tickroom.connection.welcome.member, entity: window.tickroom.connection.welcome.entity }));
    const bob = await b.page.evaluate(() => window.tickroom.connection.welcome.member);

    // No token yet: the prompt. A wrong token: unauthorized, and the prompt again.
    await admin.page.goto(`${env.server.url}/admin`);
    await admin.page.locator('#admin-token').waitFor();
    saveArtifact('admin-prompt.png', await admin.page.screenshot());
    await admin.page.locator('#admin-token').fill('not-the-token');
    await admin.page.locator('#admin-sign-in').click();
    await waitFor(async () => /unauthorized/.test((await text(admin.page, '#admin-error')) ?? ''), { message: '"unauthorized" after a wrong token' });
    assert.equal(await admin.page.evaluate(() => sessionStorage.getItem('tickroom.adminToken')), null, 'a wrong token is not kept');

    await admin.page.locator('#admin-token').fill(TOKEN);
    await admin.page.locator('#admin-sign-in').click();
    const row = admin.page.locator(`#admin-rooms tr[data-room="${room.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.match(await row.locator('td.players').textContent(), /^2\//, 'two players');
    assert.equal(await admin.page.evaluate(() => sessionStorage.getItem('tickroom.adminToken')), TOKEN, 'the token is kept for the tab');

    // The detail: members, and a spectator view that is not a player.
    await row.click();
    await admin.page.locator(`#admin-members tr[data-member="${alice.member}"]`).waitFor({ timeout: 10_000 });
    assert.match(await text(admin.page, `#admin-members tr[data-member="${alice.member}"] td.name`), /alice/);
    assert.match(await text(admin.page, `#admin-members tr[data-member="${bob}"] td.name`), /bob/);
    const seen = await waitFor(
      () =>
        admin.page.evaluate((id) => {
          const s = window.tickroom.admin.spectator();
          const e = s?.mirror.entities.get(id);
          return s && s.status === 'connected' && s.renderer && e ? { x: e.get('x'), y: e.get('y'), color: e.get('color'), renderer: s.renderer } : null;
        }, alice.entity),
      { timeout: 20_000, message: "alice's avatar in the spectator view" },
    );
    // The view is below the table: bring it on screen, and project after any layout change.
    await admin.page.locator('#spectator-scene').scrollIntoViewIfNeeded();
    let at;
    await waitFor(
      async () => {
        at = await admin.page.evaluate(({ x, y }) => window.tickroom.admin.project(x, y), seen);
        return (await screenshot(admin.page, 'admin-detail.png')).colorNear(at.x, at.y, seen.color, 8);
      },
      { timeout: 10_000, interval: 250, message: `alice's colour #${seen.color.toString(16)} in the spectator view (${seen.renderer})` },
    ).catch((err) => {
      throw new Error(`${err.message} at ${JSON.stringify(at)}`);
    });
    await waitFor(async () => (await row.locator('td.spectators').textContent()) === '1', { message: 'one spectator listed' });
    assert.match(await row.locator('td.players').textContent(), /^2\//, 'the spectator is not a player');
    await waitFor(async () => /\/s$/.test(await row.locator('td.rate').textContent()), { message: 'a bytes/s figure' });
    // The chart has drawn the bandwidth line (#3ccf91) by now.
    await waitFor(
      () =>
        admin.page.evaluate(() => {
          const c = document.getElementById('admin-chart');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 0x3c) < 30 && Math.abs(d[i + 1] - 0xcf) < 30 && Math.abs(d[i + 2] - 0x91) < 30) n++;
          return n > 20;
        }),
      { timeout: 10_000, message: 'the chart draws the bandwidth' },
    );

    // Kick bob: gone from the members, and told so.
    await admin.page.locator(`#admin-members button.kick[data-member="${bob}"]`).click();
    await waitFor(async () => (await b.page.evaluate(() => window.tickroom.status())) === 'removed from the room', { message: "bob's page says he was removed" });
    await waitFor(async () => (await admin.page.locator(`#admin-members tr[data-member="${bob}"]`).count()) === 0, { message: 'bob gone from the members' });
    await waitFor(async () => /^1\//.test(await row.locator('td.players').textContent()), { message: 'one player left' });

    // Close the room (after a confirm): alice sees it closed, the table drops it.
    admin.page.once('dialog', (d) => void d.accept());
    await admin.page.locator('#close-room').click();
    await waitFor(async () => (await text(a.page, '#message h1')) === 'Room closed', { message: "alice's page shows the room closed" });
    await waitFor(async () => (await row.count()) === 0, { message: 'the room leaves the table' });
    assert.match(await text(admin.page, '#room-message'), /closed/);
    saveArtifact('admin-closed.png', await admin.page.screenshot());
    saveArtifact('admin-room-closed-member.png', await a.page.screenshot());
    // The wrong token's 401 is logged by the browser itself.
    assert.deepEqual(admin.errors.filter((e) => !/favicon|status of 401/.test(e)), [], 'no errors on the monitor page');
  } finally {
    await a.context.close();
    await b.context.close();
    await admin.context.close();
  }
});

test('monitor on a server without an admin token: "the admin API is off"', async () => {
  const off = await startServer();
  const { context, page } = await newPage(env.browser, { hideGpu: true });
  try {
    await page.goto(`${off.url}/admin`);
    await page.locator('#admin-token').fill('anything');
    await page.locator('#admin-sign-in').click();
    await waitFor(async () => (await text(page, '#message h1')) === 'The admin API is off', { message: 'admin off page' });
    saveArtifact('admin-off.png', await page.screenshot());
  } finally {
    await context.close();
    await off.stop();
  }
});
