// One seat in one room over a WebSocket: joins, feeds the Mirror, sends
// inputs/chat/pings, and reconnects with backoff presenting the resume token
// so the seat and entity come back (PROTOCOL.md "Join and reconnect").
import { Backoff, type BackoffOptions } from './backoff.js';
import { ProtocolError, decodeServerMessage, encodeChat, encodeInput, encodePing, encodeResync } from './codec.js';
import { ServerTag, type RoomEvent, type Welcome } from './messages.js';
import { Mirror } from './mirror.js';
import type { AnyRoom, RoomType } from './room-type.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** Short text for people: "connected", "reconnecting in 3 s", "room full", ... */
  readonly text: string;
  /** The close code that led here, when there was one. */
  readonly code?: number;
}

/** The part of the WebSocket API the connection uses (tests pass a fake). */
export interface SocketLike {
  binaryType: BinaryType;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
}

/** `T` is the room type (rooms.gen.ts, or `tickroom gen ts` for your own): it types inputs, entities and custom events. */
export interface ConnectionOptions<T extends RoomType = AnyRoom> {
  /** WebSocket URL of the room without query, e.g. ws://host/ws/ROOM. */
  url: string;
  /** Display name sent as ?name=. */
  name: string;
  /** Resume token from an earlier connection (e.g. before a page reload). */
  token?: string | null;
  /** More query parameters for the join, e.g. a signed spectator link's role, sig, exp. */
  query?: Readonly<Record<string, string>>;
  mirror?: Mirror<T>;
  backoff?: BackoffOptions;
  /** Milliseconds between pings (RTT measurement and keep-alive). Default 5000; 0 disables. */
  pingIntervalMs?: number;
  /**
   * A connected socket that delivers nothing for this long is treated as dead
   * and replaced (default 4000 ms). The server sends a delta every tick and
   * answers pings, so silence means the network is gone even when the socket
   * has not noticed (it may take minutes to time out on its own).
   */
  stallTimeoutMs?: number;
  /** Opens a socket. Default: the browser WebSocket. */
  openSocket?: (url: string) => SocketLike;
  onStatus?: (status: ConnectionStatus) => void;
  onWelcome?: (welcome: Welcome) => void;
  onEvent?: (event: RoomEvent<T['event']>) => void;
  /** An `error` message from the server (the connection stays open), or a message we could not decode. */
  onError?: (code: string, message: string) => void;
}

/** Close codes after which reconnecting cannot help, and what to tell the person. */
const STOP_CODES: ReadonlyMap<number, string> = new Map([
  [1000, 'disconnected'],
  [1008, 'disconnected: too many bad messages'],
  [1009, 'disconnected: message too large'],
  [4004, 'no such room'],
  [4009, 'room full'],
  [4010, 'this seat was taken over by another tab'],
  [4011, 'room closed'],
  [4012, 'removed from the room'],
  [4013, 'the room refused to seat you'],
  [4014, 'this room cannot open on this server'],
  [4015, 'this room stopped on an error'],
]);
const CLOSE_TOKEN_UNKNOWN = 4001;
/** Sent when the client gives up on a silent socket (4000-4999 are application codes). */
const CLOSE_CLIENT_DROP = 4000;
const OPEN = 1;

export class Connection<T extends RoomType = AnyRoom> {
  readonly mirror: Mirror<T>;
  /** The last welcome; null before the first one. */
  welcome: Welcome | null = null;
  /** Resume token to present on the next connect. */
  token: string | null;
  /** Last measured round-trip time in ms (NaN before the first pong). */
  rttMs = NaN;
  /** The room's tick as of the last pong. */
  serverTick = -1;
  status: ConnectionStatus = { state: 'connecting', text: 'connecting…' };

  private socket: SocketLike | null = null;
  private readonly backoff: Backoff;
  private nextSeq = 1;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private countdown: ReturnType<typeof setInterval> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastMessageAt = 0;
  private stopped = false;
  private needSeqSync = false;

  constructor(private readonly opts: ConnectionOptions<T>) {
    this.mirror = opts.mirror ?? new Mirror<T>();
    this.token = opts.token ?? null;
    this.backoff = new Backoff(opts.backoff);
  }

  /** Opens the first connection. */
  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Leaves for good (close 1000): the server releases the seat after its grace period. */
  stop(text = 'disconnected'): void {
    this.stopped = true;
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    if (s !== null) {
      s.onclose = s.onmessage = s.onerror = s.onopen = null;
      s.close(1000, 'bye');
    }
    this.setStatus({ state: 'stopped', text });
  }

  get connected(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN && this.welcome !== null && this.status.state === 'connected';
  }

  /** Sends an input with the next sequence number and returns it; -1 when not connected (dropped). */
  sendInput(payload: T['input']): number {
    // Spectators' inputs are refused, and refusals count toward a 1008 close.
    if (!this.connected || this.welcome!.spectator) return -1;
    const seq = this.nextSeq++;
    this.send(encodeInput(seq, payload));
    return seq;
  }

  /** Chat to everyone, or a direct message to member `to`. False when not connected. */
  sendChat(text: string, to?: number): boolean {
    if (!this.connected || this.welcome!.spectator) return false;
    this.send(encodeChat(text, to));
    return true;
  }

  sendPing(): void {
    if (this.connected) this.send(encodePing(now()));
  }

  /** Asks for a snapshot in place of the next delta. */
  sendResync(): void {
    if (this.socket !== null && this.socket.readyState === OPEN) this.send(encodeResync());
  }

  /** Skips the rest of a backoff wait (e.g. the browser just came back online). */
  retryNow(): void {
    if (this.stopped || this.retryTimer === null) return;
    this.clearTimers();
    this.connect();
  }

  /** For tests and debugging: the live socket (null while reconnecting). */
  get currentSocket(): SocketLike | null {
    return this.socket;
  }

  private connect(): void {
    if (this.stopped) return;
    const q = new URLSearchParams({ ...this.opts.query, name: this.opts.name });
    if (this.token !== null) q.set('token', this.token);
    const url = `${this.opts.url}?${q.toString()}`;
    this.setStatus(
      this.welcome === null ? { state: 'connecting', text: 'connecting…' } : { state: 'reconnecting', text: 'reconnecting…' },
    );
    let s: SocketLike;
    try {
      s = this.opts.openSocket ? this.opts.openSocket(url) : (new WebSocket(url) as SocketLike);
    } catch (err) {
      this.setStatus({ state: 'stopped', text: `cannot connect: ${(err as Error).message}` });
      return;
    }
    s.binaryType = 'arraybuffer';
    s.onmessage = (ev) => this.onMessage(ev.data);
    s.onclose = (ev) => this.onClose(s, ev.code, ev.reason);
    // A failed connect also fires close (code 1006), which does the retry.
    s.onerror = () => {};
    this.socket = s;
  }

  /**
   * Gives up on the current socket without waiting for its closing handshake
   * (which never completes on a dead network) and reconnects with backoff.
   */
  drop(reason: string): void {
    const s = this.socket;
    if (s === null || this.stopped) return;
    this.socket = null;
    s.onclose = s.onmessage = s.onerror = s.onopen = null;
    try {
      s.close(CLOSE_CLIENT_DROP, reason);
    } catch {
      // Already closing: nothing more to do with it.
    }
    this.clearTimers();
    this.scheduleReconnect(CLOSE_CLIENT_DROP);
  }

  private onMessage(data: unknown): void {
    this.lastMessageAt = now();
    if (!(data instanceof ArrayBuffer)) {
      this.opts.onError?.('bad_message', 'text frame from server ignored');
      return;
    }
    let msg;
    try {
      msg = decodeServerMessage(data);
    } catch (err) {
      this.opts.onError?.('bad_message', (err as Error).message);
      return;
    }
    switch (msg.tag) {
      case ServerTag.Welcome:
        this.onWelcome(msg.welcome);
        break;
      case ServerTag.Snapshot:
        try {
          this.mirror.applySnapshot(msg);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          this.opts.onError?.('bad_message', `snapshot: ${err.message}`);
          break;
        }
        if (this.needSeqSync) this.syncSeq();
        break;
      case ServerTag.ViewSnapshot:
        try {
          this.mirror.applyViewSnapshot(msg);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          this.opts.onError?.('bad_message', `view snapshot: ${err.message}`);
          break;
        }
        if (this.needSeqSync) this.syncSeq();
        break;
      case ServerTag.Delta:
        if (this.mirror.applyDelta(msg) === 'resync') this.sendResync();
        break;
      case ServerTag.ViewDelta:
        if (this.mirror.applyViewDelta(msg) === 'resync') this.sendResync();
        break;
      case ServerTag.Event:
        this.opts.onEvent?.(msg.event as RoomEvent<T['event']>);
        break;
      case ServerTag.Error:
        this.opts.onError?.(msg.code, msg.message);
        break;
      case ServerTag.Pong:
        this.rttMs = now() - msg.clientTime;
        this.serverTick = msg.tick;
        break;
    }
  }

  private onWelcome(w: Welcome): void {
    this.welcome = w;
    this.token = w.token || null;
    this.mirror.setSchema(w.schema);
    // A resumed seat remembers the last input it applied: continue above it.
    this.needSeqSync = w.entity >= 0;
    this.backoff.reset();
    this.setStatus({ state: 'connected', text: w.resumed ? 'reconnected' : 'connected' });
    this.startPings();
    this.startWatchdog();
    this.opts.onWelcome?.(w);
  }

  /** Keeps input seqs increasing across page reloads: the avatar's `seq` is the last one applied. */
  private syncSeq(): void {
    this.needSeqSync = false;
    const self = this.welcome ? this.mirror.entities.get(this.welcome.entity) : undefined;
    const applied = self?.get('seq');
    if (typeof applied === 'number' && applied >= this.nextSeq) this.nextSeq = applied + 1;
  }

  private onClose(s: SocketLike, code: number, reason: string): void {
    if (s !== this.socket) return;
    this.socket = null;
    this.clearTimers();
    const stopText = STOP_CODES.get(code);
    if (stopText !== undefined) {
      this.stopped = true;
      // The reason says why for a refused join (4013) or a normal close; the
      // other codes have fixed meanings, and their text is what people see.
      const why = reason && (code === 1000 || code === 4013) ? `${stopText}: ${reason}` : stopText;
      this.setStatus({ state: 'stopped', text: why, code });
      return;
    }
    if (code === CLOSE_TOKEN_UNKNOWN) this.token = null; // the seat is gone; join afresh
    this.scheduleReconnect(code);
  }

  private scheduleReconnect(code: number): void {
    if (this.stopped) return;
    const delay = this.backoff.next();
    const at = now() + delay;
    const show = (): void => {
      const s = Math.ceil((at - now()) / 1000);
      this.setStatus({ state: 'reconnecting', text: s > 0 ? `reconnecting in ${s} s` : 'reconnecting…', code });
    };
    show();
    this.countdown = setInterval(show, 1000);
    this.retryTimer = setTimeout(() => {
      this.clearTimers();
      this.connect();
    }, delay);
  }

  private startPings(): void {
    const every = this.opts.pingIntervalMs ?? 5000;
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = every > 0 ? setInterval(() => this.sendPing(), every) : null;
    this.sendPing();
  }

  private startWatchdog(): void {
    const limit = this.opts.stallTimeoutMs ?? 4000;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (now() - this.lastMessageAt > limit) this.drop(`no message for ${Math.round(limit / 1000)} s`);
    }, Math.min(1000, limit / 2));
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.countdown !== null) clearInterval(this.countdown);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.retryTimer = this.countdown = this.pingTimer = this.watchdog = null;
  }

  private send(bytes: Uint8Array): void {
    this.socket?.send(bytes);
  }

  private setStatus(s: ConnectionStatus): void {
    this.status = s;
    this.opts.onStatus?.(s);
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
