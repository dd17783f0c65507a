// The pages around the scene: the lobby lists public rooms (not unlisted
// ones) and refreshes; an unknown room id gets a clear "no such room" page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoomByApi, join, newPage, saveArtifact, serverAndBrowser, waitFor } from './helpers.mjs';

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
