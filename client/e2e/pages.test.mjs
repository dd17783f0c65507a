// The pages around the scene: the lobby lists public rooms (not unlisted
// ones) and refreshes; an unknown room id gets a clear "no such room" page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoomByApi, createRoomFromHome, join, newPage, saveArtifact, serverAndBrowser, waitFor } from './helpers.mjs';

const env = serverAndBrowser();
const createRoom = (type, visibility) => createRoomByApi(env.server.url, type, { visibility });

test('the lobby lists public rooms only, and picks up new ones', async () => {
  const { context, page, errors } = await newPage(env.browser, { hideGpu: true });
  try {
    const listed = await createRoom('board', 'public');
    const hidden = await createRoom('board', 'unlisted');
    await page.goto(`${env.server.url}/`);
    const row = page.locator(`#lobby tr[data-room="${listed.id}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /board0\/8/);
    // Created after the page loaded: shows up within a refresh or two.
    const later = await createRoom('arena', 'public');
    await page.locator(`#lobby tr[data-room="${later.id}"]`).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator(`#lobby tr[data-room="${hidden.id}"]`).count(), 0, 'unlisted room not in the lobby');
    saveArtifact('lobby.png', await page.screenshot());
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('an unknown room id shows "No such room"', async () => {
  const { context, page } = await newPage(env.browser, { hideGpu: true });
  try {
    await page.goto(`${env.server.url}/r/AAAAAAAAAAAAAAAAAAAAAA`);
    await waitFor(async () => (await page.locator('#message h1').textContent().catch(() => null)) === 'No such room', {
      message: 'no such room page',
    });
    saveArtifact('no-such-room.png', await page.screenshot());
  } finally {
    await context.close();
  }
});

test('chat: to everyone, and a direct message by clicking a member', async () => {
  const room = await createRoom('arena', 'unlisted');
  const a = await newPage(env.browser, { hideGpu: true });
  const b = await newPage(env.browser, { hideGpu: true });
  try {
    await join(a.page, env.server.url + room.shareUrl, 'alice');
    await join(b.page, env.server.url + room.shareUrl, 'bob');

    await a.page.locator('#chat-input').fill('hello all');
    await a.page.locator('#chat-input').press('Enter');
    await waitFor(async () => /alice\s*hello all/.test(await b.page.locator('#chat-log').textContent()), { message: 'chat reaches B' });

    const aliceMember = await a.page.evaluate(() => window.tickroom.connection.welcome.member);
    await b.page.locator(`#members li[data-member="${aliceMember}"]`).click();
    assert.match(await b.page.locator('#chat-target').textContent(), /to alice only/);
    await b.page.locator('#chat-input').fill('psst');
    await b.page.locator('#chat-input').press('Enter');
    await waitFor(async () => (await a.page.locator('#chat-log li.dm').count()) === 1, { message: 'direct message reaches A' });
    assert.match(await a.page.locator('#chat-log li.dm').textContent(), /bob → alice\s*psst/);
    saveArtifact('chat-A.png', await a.page.screenshot());
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('home: the share link is readable in full at any width, and the copy button says it copied', async () => {
  for (const width of [960, 360]) {
    const { context, page, errors } = await newPage(env.browser, { hideGpu: true, width, height: 700 });
    try {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.url });
      const link = await createRoomFromHome(page, env.server.url, 'board');
      assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/r\/[A-Za-z0-9_-]{22}$/, 'share link');
      const box = page.locator('#share-link');
      // Nothing of it is scrolled out of sight, and the box is inside the window.
      const fits = await waitFor(
        () => box.evaluate((el) => el.clientWidth > 0 && el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight && { ...el.getBoundingClientRect().toJSON(), lines: Math.round(el.scrollHeight / parseFloat(getComputedStyle(el).lineHeight)) }),
        { message: `the whole share link visible at ${width} px` },
      );
      assert.ok(fits.left >= 0 && fits.right <= width, `share box at ${fits.left}..${fits.right} inside a ${width} px window`);
      if (width === 360) assert.ok(fits.lines >= 2, `at 360 px the link wraps (${fits.lines} lines)`);
      assert.equal(await box.inputValue(), link, 'the box holds the whole link');
      saveArtifact(`share-link-${width}.png`, await page.screenshot());

      await page.locator('#copy-link').click();
      await waitFor(async () => /Copied/.test(await page.locator('#copy-link').textContent()), { message: 'copy button says it copied' });
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link, 'the clipboard holds the link');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  }
});
