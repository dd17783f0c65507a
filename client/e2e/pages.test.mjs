// The pages around the scene: the lobby lists public rooms (not unlisted
// ones) and refreshes; an unknown room id gets a clear "no such room" page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, launchBrowser, newPage, saveArtifact, startServer, waitFor } from './helpers.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function createRoom(type, visibility) {
  const res = await fetch(`${server.url}/api/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type, options: {}, visibility, maxPlayers: 8 }),
  });
  assert.equal(res.status, 201);
  return res.json();
}

test('the lobby lists public rooms only, and picks up new ones', async () => {
  const { context, page, errors } = await newPage(browser, { hideGpu: true });
  try {
    const listed = await createRoom('board', 'public');
    const hidden = await createRoom('board', 'unlisted');
    await page.goto(`${server.url}/`);
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
  const { context, page } = await newPage(browser, { hideGpu: true });
  try {
    await page.goto(`${server.url}/r/AAAAAAAAAAAAAAAAAAAAAA`);
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
  const a = await newPage(browser, { hideGpu: true });
  const b = await newPage(browser, { hideGpu: true });
  try {
    await a.page.goto(server.url + room.shareUrl);
    await join(a.page, 'alice');
    await b.page.goto(server.url + room.shareUrl);
    await join(b.page, 'bob');

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
