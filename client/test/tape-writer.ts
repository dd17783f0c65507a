// Writes tapes byte by byte as docs/TAPE.md describes them, for the reader's
// tests: the same framing the Go writer (rooms/tape) produces, written
// independently from the spec.
import { encode } from '@msgpack/msgpack';
import { crc32c } from '@tickroom/client';

export interface HeaderFields {
  roomId?: string;
  type?: string;
  tickRate?: number;
  seed?: number;
  options?: Record<string, unknown>;
  schema: unknown;
  startTick?: number;
  startedAt?: number;
}

export const KIND = { keyframe: 1, delta: 2, ops: 3, event: 4, end: 5 } as const;

export class TapeWriter {
  private readonly parts: Uint8Array[] = [];
  private prev: number;
  private size = 0;
  records = 0;
  /** Offsets of every frame written, in order. */
  readonly offsets: number[] = [];

  constructor(h: HeaderFields) {
    const map = encode(
      {
        roomId: h.roomId ?? 'room-1',
        type: h.type ?? 'test',
        tickRate: h.tickRate ?? 20,
        seed: h.seed ?? 7,
        options: h.options ?? {},
        schema: h.schema,
        startTick: h.startTick ?? 0,
        startedAt: h.startedAt ?? 1_700_000_000_000,
      },
      { useBigInt64: true },
    );
    const head = new Uint8Array(8 + 2 + 4 + map.length + 4);
    head.set(new TextEncoder().encode('TICKTAPE'));
    const dv = new DataView(head.buffer);
    dv.setUint16(8, 1, true);
    dv.setUint32(10, map.length, true);
    head.set(map, 14);
    dv.setUint32(14 + map.length, crc32c(head, 8, 14 + map.length), true);
    this.push(head);
    this.prev = h.startTick ?? 0;
  }

  keyframe(tick: number, msg: Uint8Array): this {
    return this.frame(KIND.keyframe, tick, msg, true);
  }

  /** A tick's delta; with ops, one ops record carrying both. */
  tick(tick: number, delta: Uint8Array, ops?: Uint8Array): this {
    if (ops === undefined) return this.frame(KIND.delta, tick, delta);
    const len = uvarint(ops.length);
    const payload = new Uint8Array(len.length + ops.length + delta.length);
    payload.set(len);
    payload.set(ops, len.length);
    payload.set(delta, len.length + ops.length);
    return this.frame(KIND.ops, tick, payload);
  }

  event(tick: number, msg: Uint8Array): this {
    return this.frame(KIND.event, tick, msg);
  }

  end(endedAt = 1_700_000_100_000): this {
    const records = this.records;
    this.frame(KIND.end, this.prev, encode({ records, endedAt }));
    this.records = records;
    return this;
  }

  /** Any frame, e.g. one with a bad kind. */
  frame(kind: number, tick: number, payload: Uint8Array, absolute = false): this {
    const head: number[] = [];
    if (!absolute && tick >= this.prev && tick - this.prev <= 30) head.push(kind | ((tick - this.prev) << 3));
    else head.push(kind | (31 << 3), ...uvarint(tick));
    head.push(...uvarint(payload.length));
    const f = new Uint8Array(head.length + payload.length + 4);
    f.set(head);
    f.set(payload, head.length);
    new DataView(f.buffer).setUint32(head.length + payload.length, crc32c(f, 0, head.length + payload.length), true);
    this.offsets.push(this.size);
    this.push(f);
    this.prev = tick;
    this.records++;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.push(bytes);
    return this;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }
}

export function uvarint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Ops in their stored form: [[kind, member, name, seq, payload], ...]. */
export function encodeOps(ops: Array<[number, number, string, number, Uint8Array | null]>): Uint8Array {
  return encode(ops);
}
