// @tickroom/client as a user gets it: `npm pack` in packages/client, the
// tarball installed into an empty project in a temporary directory, and
// then, against a real tickroom server:
// - the README's example compiles with tsc (node16 module resolution, the
//   package's .d.ts checked too) and plays: it joins, walks and leaves;
// - declarations written by `tickroom gen ts` make tsc refuse a program
//   that misuses inputs, options and fields (and accept the right one);
// - the vanilla example page (examples/vanilla, import map, no build)
//   joins a room in Chromium and moves with the arrow keys;
// - a React page built on @tickroom/client/react shows the live room and
//   sends inputs.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { createRoomByApi, launchBrowser, newPage, startServer, waitFor } from './helpers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

let project; // the user's project: a temporary directory
let server;
let browser;
let files; // a static file server over the project, like any web server
let filesUrl;

before(async () => {
  project = mkdtempSync(join(tmpdir(), 'tickroom-sdk-'));
  execFileSync('npm', ['pack', '--pack-destination', project, '--loglevel=error'], {
    cwd: join(root, 'packages', 'client'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const tarball = readdirSync(project).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote no tarball');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sdk-user', private: true, type: 'module' }));
  // Everything comes from npm's cache, filled by the repository's npm ci.
  execFileSync(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `./${tarball}`,
      'react@19.3.1', 'react-dom@19.3.1', '@types/react@19.3.3'],
    { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  files = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    try {
      const body = readFileSync(join(project, path));
      const type = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' }[extname(path)];
      res.writeHead(200, { 'content-type': type ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((res) => files.listen(0, '127.0.0.1', res));
  filesUrl = `http://127.0.0.1:${files.address().port}`;
  server = await startServer({ args: ['-allowed-origins', filesUrl] });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((res) => (files ? files.close(res) : res()));
  if (project) rmSync(project, { recursive: true, force: true });
});

/** Runs tsc on the project with a tsconfig of these files; returns { status, out }. */
function typecheck(name, fileNames, { emit = false } = {}) {
  const config = join(project, `tsconfig.${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022', 'DOM'],
        types: [],
        strict: true,
        skipLibCheck: false,
        noEmit: !emit,
      },
      files: fileNames,
    }),
  );
  const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: project, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The README's example: its first ts block under "## Example". */
function readmeExample() {
  const readme = readFileSync(join(root, 'packages', 'client', 'README.md'), 'utf8');
  const m = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'packages/client/README.md has no ts block under ## Example');
  return m[1];
}

test('the README example compiles against the packed package and plays in a room', () => {
  const code = readmeExample();
  assert.ok(code.split('\n').length <= 21, 'the README example is longer than 20 lines');
  const ours = code.replace("'http://127.0.0.1:8080'", `'${server.url}'`);
  assert.notEqual(ours, code, 'the example names no server to replace');
  writeFileSync(join(project, 'example.ts'), ours);
  const tc = typecheck('example', ['example.ts'], { emit: true });
  assert.equal(tc.status, 0, `tsc on the README example:\n${tc.out}`);

  const flags = typeof WebSocket === 'undefined' ? ['--experimental-websocket', '--no-warnings'] : [];
  const run = spawnSync(process.execPath, [...flags, 'example.js'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `node example.js: status ${run.status}\n${run.stdout}\n${run.stderr}`);
  const out = run.stdout;
  assert.match(out, /play beside me: http:\/\/127\.0\.0\.1:\d+\/r\/\S+/);
  assert.match(out, /status: connected/);
  assert.match(out, /status: done/);
  const at = [...out.matchAll(/tick \d+: at (\d+),(\d+), (\d+) coins/g)];
  assert.ok(at.length >= 3, `want a few tick lines with a position, got:\n${out}`);
  // The arena has views: the bot's mirror holds the coins near it, some of the 30 asked for.
  assert.ok(at.every((m) => Number(m[3]) > 0 && Number(m[3]) <= 30), `the bot sees some of the room's 30 coins:\n${out}`);
  assert.ok(new Set(at.map((m) => `${m[1]},${m[2]}`)).size >= 2, `the walker never moved:\n${out}`);
});

test('declarations from tickroom gen ts refuse a program that misuses the room types', () => {
  const bin = process.env.TICKROOM_BIN ?? join(root, '.build', 'tickroom');
  execFileSync(bin, ['gen', 'ts', '-o', join(project, 'rooms.ts')]);
  const head = [
    "import { Connection, createRoom } from '@tickroom/client';",
    "import { useRoom } from '@tickroom/client/react';",
    "import type { ArenaRoom, BoardRoom } from './rooms.js';",
    "const arena = new Connection<ArenaRoom>({ url: 'ws://127.0.0.1:1/ws/a', name: 'a' });",
    "const board = new Connection<BoardRoom>({ url: 'ws://127.0.0.1:1/ws/b', name: 'b' });",
    'export function View(): number { const r = useRoom<ArenaRoom>({ url: "", name: "" }); return r.send({ dx: 1, dy: 0 }); }',
  ];
  const good = [
    ...head,
    "arena.sendInput({ dx: 0.5, dy: -1 });",
    "board.sendInput({ op: 'create', shape: 1, x: 10, y: 10, w: 40, h: 40, color: 0xff0000 });",
    "board.sendInput({ op: 'move', id: 3, x: 1, y: 2 });",
    "const hp: number | undefined = arena.mirror.ofKind('avatar')[0]?.get('score');",
    "void createRoom<ArenaRoom>('http://127.0.0.1:1', 'arena', { options: { coins: 3, speed: 2 } });",
    'void hp;',
  ];
  // Each line after the head is one misuse, and tsc must refuse each one.
  const bad = [
    ...head,
    "arena.sendInput({ dx: 'left', dy: 0 });",
    "arena.sendInput({ dx: 1 });",
    "board.sendInput({ op: 'create', shape: 2, x: 1, y: 1, w: 1, h: 1, color: 0 });",
    "board.sendInput({ op: 'move', x: 1, y: 1 });",
    "board.sendInput({ op: 'spin', id: 1 });",
    "arena.mirror.ofKind('avatar')[0]?.get('hp');",
    "arena.mirror.ofKind('tree');",
    "void createRoom<ArenaRoom>('http://127.0.0.1:1', 'arena', { options: { coinz: 3 } });",
    "void createRoom<ArenaRoom>('http://127.0.0.1:1', 'board');",
    'export function Bad(): number { return useRoom<ArenaRoom>({ url: "", name: "" }).send({ dx: "1", dy: 0 }); }',
  ];
  writeFileSync(join(project, 'good.ts'), good.join('\n') + '\n');
  writeFileSync(join(project, 'bad.ts'), bad.join('\n') + '\n');
  const ok = typecheck('good', ['good.ts']);
  assert.equal(ok.status, 0, `tsc refused the right program:\n${ok.out}`);
  const refused = typecheck('bad', ['bad.ts']);
  assert.notEqual(refused.status, 0, 'tsc accepted the misuses');
  for (let line = head.length + 1; line <= bad.length; line++) {
    assert.match(refused.out, new RegExp(`bad\\.ts\\(${line},\\d+\\): error TS`), `tsc did not refuse line ${line}: ${bad[line - 1]}\n${refused.out}`);
  }
});

test('the vanilla example page joins a room and moves with the arrow keys', async () => {
  for (const f of ['index.html', 'main.js']) copyFileSync(join(root, 'examples', 'vanilla', f), join(project, f));
  browser ??= await launchBrowser();
  const room = await createRoomByApi(server.url, 'arena');
  const { context, page, errors } = await newPage(browser);
  try {
    await page.goto(`${filesUrl}/index.html?join=${encodeURIComponent(`${server.url}${room.shareUrl}`)}`);
    await waitFor(async () => (await page.textContent('#status')) === 'connected', { message: 'vanilla page connected' });
    const x0 = await waitFor(async () => parseInt((await page.textContent('#me')) ?? '', 10) || null, { message: 'own avatar drawn' });
    await page.keyboard.down('ArrowRight');
    await waitFor(async () => parseInt((await page.textContent('#me')) ?? '', 10) > x0 + 20, { message: 'avatar moved right' });
    await page.keyboard.up('ArrowRight');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('useRoom gives a React component the live room and a send function', async () => {
  writeFileSync(
    join(project, 'react-app.js'),
    `import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { useRoom } from '@tickroom/client/react';
function App({ url }) {
  const room = useRoom({ url, name: 'react' });
  const me = room.mirror.entities.get(room.welcome?.entity ?? -1);
  return h('div', null,
    h('p', { id: 'status' }, room.status.text),
    h('p', { id: 'tick' }, String(room.tick)),
    h('p', { id: 'me' }, me ? String(Math.round(me.get('x'))) : '-'),
    h('button', { id: 'right', onClick: () => room.send({ dx: 1, dy: 0 }) }, 'right'));
}
createRoot(document.getElementById('root')).render(h(App, { url: new URLSearchParams(location.search).get('ws') }));
`,
  );
  await esbuild.build({
    entryPoints: [join(project, 'react-app.js')],
    outfile: join(project, 'react-app.bundle.js'),
    bundle: true,
    format: 'esm',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  writeFileSync(join(project, 'react.html'), '<!doctype html><link rel="icon" href="data:,"><div id="root"></div><script type="module" src="./react-app.bundle.js"></script>');
  browser ??= await launchBrowser();
  const room = await createRoomByApi(server.url, 'arena');
  const ws = `${server.url.replace('http', 'ws')}${room.wsUrl}`;
  const { context, page, errors } = await newPage(browser);
  try {
    await page.goto(`${filesUrl}/react.html?ws=${encodeURIComponent(ws)}`);
    await waitFor(async () => (await page.textContent('#status')) === 'connected', { message: 'react page connected' });
    const t0 = Number(await page.textContent('#tick'));
    await waitFor(async () => Number(await page.textContent('#tick')) > t0 + 5, { message: 'the tick advancing on the page' });
    const x0 = await waitFor(async () => Number(await page.textContent('#me')) || null, { message: 'own avatar shown' });
    await page.click('#right');
    await waitFor(async () => Number(await page.textContent('#me')) > x0 + 20, { message: 'avatar moved right' });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
