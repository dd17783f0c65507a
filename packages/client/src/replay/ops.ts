// The ops of an ops record (docs/TAPE.md "Ops"): what the room applied during
// a tick, as a MessagePack array of [kind, member, name, seq, payload].
import { decode } from '@msgpack/msgpack';

export enum OpKind {
  Join = 1,
  Leave = 2,
  Input = 3,
}

export interface Op {
  kind: number;
  member: number;
  /** Join ops: the name the member joined with; '' otherwise. */
  name: string;
  /** Input ops: the input's seq; 0 otherwise. */
  seq: number;
  /** Input ops: the input's MessagePack bytes as the client sent them; null otherwise. */
  payload: Uint8Array | null;
}

/** Decodes a record's ops; throws Error on bytes that are not an ops array. */
export function decodeOps(bytes: Uint8Array): Op[] {
  const raw = decode(bytes, { useBigInt64: true });
  if (!Array.isArray(raw)) throw new Error('ops: not an array');
  return raw.map((o, i) => {
    // Array form as written; the struct's map form ({k, m, n, s, p}) decodes too.
    const f = Array.isArray(o) ? o : isMap(o) ? [o.k, o.m, o.n, o.s, o.p] : null;
    if (f === null) throw new Error(`ops: op ${i} is neither an array nor a map`);
    return {
      kind: num(f[0]),
      member: num(f[1]),
      name: typeof f[2] === 'string' ? f[2] : '',
      seq: num(f[3]),
      payload: f[4] instanceof Uint8Array ? f[4] : null,
    };
  });
}

/** Receives the joins and leaves of a tick's ops, in order. */
export interface MembershipSink {
  join(member: number, name: string): void;
  leave(member: number): void;
}

/**
 * Reports the join and leave ops in `bytes` without decoding the inputs
 * (loading an hour of a busy room's tape meets tens of thousands of input
 * ops). Walks the form the Go writer produces and falls back to a full decode
 * for anything else; bytes that decode to nothing are skipped (their CRC was
 * right, so the writer wrote them so).
 */
export function scanMembership(bytes: Uint8Array, sink: MembershipSink): void {
  const p = new OpParser(bytes);
  const found: Array<[number, number, string]> = [];
  const n = p.arrayLen();
  for (let i = 0; i < n && !p.bad; i++) {
    if (p.arrayLen() !== 5) p.bad = true;
    const kind = p.uint();
    const member = p.uint();
    const name = p.str();
    p.uint();
    p.bin();
    if (kind === OpKind.Join || kind === OpKind.Leave) found.push([kind, member, name]);
  }
  if (p.bad || p.i !== bytes.length) {
    let ops: Op[];
    try {
      ops = decodeOps(bytes);
    } catch {
      return;
    }
    found.length = 0;
    for (const o of ops) if (o.kind === OpKind.Join || o.kind === OpKind.Leave) found.push([o.kind, o.member, o.name]);
  }
  for (const [kind, member, name] of found) {
    if (kind === OpKind.Join) sink.join(member, name);
    else sink.leave(member);
  }
}

const utf8 = new TextDecoder();

/** Reads the MessagePack forms the Go writer uses; anything else sets `bad`. */
class OpParser {
  i = 0;
  bad = false;
  constructor(private readonly b: Uint8Array) {}

  private byte(): number {
    if (this.i >= this.b.length) {
      this.bad = true;
      return 0;
    }
    return this.b[this.i++]!;
  }

  private be(n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 256 + this.byte();
    return v;
  }

  private skip(n: number): number {
    const at = this.i;
    if (this.b.length - at < n) this.bad = true;
    else this.i += n;
    return at;
  }

  arrayLen(): number {
    const c = this.byte();
    if ((c & 0xf0) === 0x90) return c & 0x0f;
    if (c === 0xdc) return this.be(2);
    if (c === 0xdd) return this.be(4);
    this.bad = true;
    return 0;
  }

  uint(): number {
    const c = this.byte();
    if (c < 0x80) return c;
    if (c >= 0xcc && c <= 0xcf) return this.be(1 << (c - 0xcc));
    this.bad = true;
    return 0;
  }

  str(): string {
    const c = this.byte();
    let n: number;
    if ((c & 0xe0) === 0xa0) n = c & 0x1f;
    else if (c >= 0xd9 && c <= 0xdb) n = this.be(1 << (c - 0xd9));
    else {
      this.bad = true;
      return '';
    }
    if (n === 0) return '';
    const at = this.skip(n);
    return this.bad ? '' : utf8.decode(this.b.subarray(at, at + n));
  }

  bin(): void {
    const c = this.byte();
    if (c === 0xc0) return;
    if (c >= 0xc4 && c <= 0xc6) this.skip(this.be(1 << (c - 0xc4)));
    else this.bad = true;
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return 0;
}
