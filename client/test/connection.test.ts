// Connection against a fake socket: what it sends, when it reconnects (and
// with which token), and when it stops, per PROTOCOL.md's close codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '@msgpack/msgpack';
import { Connection, type ConnectionOptions, type SocketLike } from '@tickroom/client';
import { bytes } from './helpers';

class FakeSocket implements SocketLike {
  binaryType: BinaryType = 'blob';
  readyState = 0;
  sent: unknown[] = [];
  closedWith: number | null = null;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: Uint8Array): void {
    this.sent.push(decode(data));
  }
  close(code?: number): void {
    this.closedWith = code ?? 1005;
    this.readyState = 3;
  }
  /** The server sends a message. */
  deliver(value: unknown): void {
    this.readyState = 1;
    const b = bytes(value);
    this.onmessage?.({ data: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) } as MessageEvent);
  }
  /** The server (or the network) closes the connection. */
  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' } as CloseEvent);
  }
}

const kinds = [{ id: 0, name: 'avatar', fields: [{ name: 'x', type: 'q', scale: 64, pred: 2 }, { name: 'seq', type: 'u32', pred: 1 }] }];
const welcome = (over: Record<string, unknown> = {}) => [
  1,
  { v: 1, room: 'r', type: 'arena', session: 's', member: 1, entity: 5, token: 'tok', resumed: false, tickRate: 20, kinds, members: [], chat: [], options: {}, ...over },
];

function setup(extra: Partial<ConnectionOptions> = {}) {
  const sockets: FakeSocket[] = [];
  const statuses: string[] = [];
  const conn = new Connection({
    url: 'ws://h/ws/r',
    name: 'al ice',
    openSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    backoff: { baseMs: 1, capMs: 4, random: () => 0.5 },
    pingIntervalMs: 0,
    onStatus: (s) => statuses.push(s.text),
    ...extra,
  });
  return { conn, sockets, statuses };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('joins, mirrors, and asks for a resync on a gap', () => {
  const { conn, sockets, statuses } = setup();
  conn.start();
  assert.equal(sockets[0]!.url, 'ws://h/ws/r?name=al+ice');
  sockets[0]!.deliver(welcome());
  sockets[0]!.deliver([2, 10, [[0, 5, 640, 3, 0]]]);
  assert.equal(conn.status.state, 'connected');
  assert.deepEqual(statuses, ['connecting…', 'connected']);
  assert.equal(conn.mirror.entities.get(5)?.get('x'), 10);
  sockets[0]!.deliver([3, 12, 11, [], [], []]);
  assert.deepEqual(sockets[0]!.sent.at(-1), [4], 'resync sent');
  conn.stop();
});

test('input seqs continue above the seq the resumed avatar applied', () => {
  const { conn, sockets } = setup();
  conn.start();
  sockets[0]!.deliver(welcome({ resumed: true }));
  sockets[0]!.deliver([2, 10, [[0, 5, 640, 41, 0]]]);
  assert.equal(conn.sendInput({ dx: 1, dy: 0 }), 42);
  assert.deepEqual(sockets[0]!.sent.at(-1), [1, 42, { dx: 1, dy: 0 }]);
  conn.stop();
});

test('a dropped connection comes back with the resume token; 4001 drops the token', async () => {
  const { conn, sockets, statuses } = setup();
  conn.start();
  sockets[0]!.deliver(welcome());
  sockets[0]!.serverClose(1006);
  assert.match(statuses.at(-1)!, /^reconnecting/);
  await until(() => sockets.length === 2, 'second socket');
  assert.equal(sockets[1]!.url, 'ws://h/ws/r?name=al+ice&token=tok');
  sockets[1]!.serverClose(4001);
  await until(() => sockets.length === 3, 'third socket');
  assert.equal(sockets[2]!.url, 'ws://h/ws/r?name=al+ice', 'no token after 4001');
  conn.stop();
});

test('stops, with the reason, on the codes that say so', () => {
  const cases: Array<[number, string]> = [
    [4004, 'no such room'],
    [4009, 'room full'],
    [4011, 'room closed'],
    [4010, 'this seat was taken over by another tab'],
    [1008, 'disconnected: too many bad messages'],
  ];
  for (const [code, text] of cases) {
    const { conn, sockets } = setup();
    conn.start();
    sockets[0]!.serverClose(code);
    assert.deepEqual([conn.status.state, conn.status.text], ['stopped', text], `code ${code}`);
    conn.retryNow();
    assert.equal(sockets.length, 1, `code ${code}: no reconnect`);
  }
});

test('a silent socket is dropped and replaced', async () => {
  const { conn, sockets } = setup({ stallTimeoutMs: 30 });
  conn.start();
  sockets[0]!.deliver(welcome());
  await until(() => sockets.length === 2, 'replacement socket');
  assert.equal(sockets[0]!.closedWith, 4000);
  assert.match(sockets[1]!.url, /token=tok/);
  conn.stop();
});

test('a nil entity is -1; a spectator sends no inputs or chat', () => {
  const { conn, sockets } = setup({ query: { role: 'spectator', sig: 'abc' } });
  conn.start();
  assert.equal(sockets[0]!.url, 'ws://h/ws/r?role=spectator&sig=abc&name=al+ice');
  sockets[0]!.deliver(welcome({ entity: null, spectator: true }));
  assert.equal(conn.welcome?.entity, -1);
  assert.equal(conn.welcome?.spectator, true);
  assert.equal(conn.sendInput({ dx: 1, dy: 0 }), -1);
  assert.equal(conn.sendChat('hi'), false);
  assert.deepEqual(sockets[0]!.sent.filter((m) => Array.isArray(m) && (m[0] === 1 || m[0] === 2)), []);
  conn.stop();
});

test('a refused join (4013) stops with the reason', () => {
  const { conn, sockets } = setup();
  conn.start();
  sockets[0]!.onclose?.({ code: 4013, reason: 'names must be unique' } as CloseEvent);
  assert.deepEqual([conn.status.state, conn.status.text], ['stopped', 'the room refused to seat you: names must be unique']);
});
