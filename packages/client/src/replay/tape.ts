// A reader for tickroom's recording files (docs/TAPE.md, versions 1 and 2) over the
// bytes of a whole tape: the header (CRC32C-checked), then every frame with its
// absolute tick, stopping at the first frame that cannot be read and saying
// where, like the Go reader's DamageError.
//
// Records keep offsets into the tape's bytes rather than copies or views, so an
// hour of recording (70,000+ frames) costs a few numbers a frame.
import { decode } from '@msgpack/msgpack';
import { crc32c } from './crc32c.js';

export const MAGIC = 'TICKTAPE';
/** The newest format version read (2: a views room's tape, with views records). */
export const VERSION = 2;

/** Record kinds: the low three bits of a frame's tag. */
export enum RecordKind {
  Keyframe = 1,
  Delta = 2,
  Ops = 3,
  Event = 4,
  End = 5,
  /** Members' views (version 2): [full, [[member, entity|nil, groups|nil]...]]. */
  Views = 6,
}

const KIND_NAMES = ['', 'keyframe', 'delta', 'ops', 'event', 'end', 'views'];
/** A tick code of 31 means an absolute uvarint tick follows the tag. */
const TICK_ABSOLUTE = 31;
const MAX_PAYLOAD = 64 << 20;
const MAX_HEADER = 16 << 20;
/** Magic, version (u16) and map length (u32). */
const FIXED_HEADER = MAGIC.length + 2 + 4;
const CRC_SIZE = 4;

export function kindName(kind: number): string {
  return KIND_NAMES[kind] ?? `kind ${kind}`;
}

/** The header map (docs/TAPE.md "Header"). */
export interface TapeHeader {
  roomId: string;
  type: string;
  tickRate: number;
  /** u64: a bigint when it does not fit 53 bits. */
  seed: number | bigint;
  options: Readonly<Record<string, unknown>>;
  /** The welcome's `kinds` list, undecoded: Schema.parse takes it. */
  schema: unknown;
  startTick: number;
  /** Unix milliseconds. */
  startedAt: number;
  /** The format version: 2 for a views room's tape (it may hold views records). */
  version: number;
}

/** One frame's record. Its message (and ops) are byte ranges of Tape.bytes. */
export interface TapeRecord {
  readonly kind: RecordKind;
  readonly tick: number;
  /** File offset of the frame and its size in bytes. */
  readonly offset: number;
  readonly size: number;
  /** The message: a snapshot, delta or event as broadcast (may be empty for ops). */
  readonly msgStart: number;
  readonly msgEnd: number;
  /** Ops records: the ops bytes (a MessagePack array of ops); equal otherwise. */
  readonly opsStart: number;
  readonly opsEnd: number;
}

/** Where the tape stops being readable. Every record before `offset` was read intact. */
export interface TapeDamage {
  /** File offset of the first frame that could not be read. */
  offset: number;
  /** Good records before it. */
  records: number;
  reason: string;
  /** The file ends inside the frame: cut short (a crash, a download), not corrupt. */
  truncated: boolean;
}

/** The end record's footer. */
export interface TapeFooter {
  records: number;
  /** Unix milliseconds. */
  endedAt: number;
}

/** Not a tape, another version, or a header that cannot be read: nothing in it is usable. */
export class TapeFormatError extends Error {
  override name = 'TapeFormatError';
  constructor(
    readonly reason: string,
    /** True when the file ends inside the header. */
    readonly truncated = false,
  ) {
    super(`tape: ${reason}`);
  }
}

export class Tape {
  constructor(
    readonly bytes: Uint8Array,
    readonly header: TapeHeader,
    /** CRC32C of the header (the seek index refers to the tape by it). */
    readonly headerCrc: number,
    /** Offset of the first frame. */
    readonly dataStart: number,
    /** Every good record in file order, the end record excluded. */
    readonly records: readonly TapeRecord[],
    /** Null when every byte read well. */
    readonly damage: TapeDamage | null,
    /** Present when the tape was closed cleanly. */
    readonly footer: TapeFooter | null,
    /** End of the last good frame (the end record included). */
    readonly validSize: number,
  ) {}

  /** Closed cleanly (an end record) and undamaged. */
  get clean(): boolean {
    return this.footer !== null && this.damage === null;
  }

  /** The message bytes of a record (a view, not a copy). */
  message(r: TapeRecord): Uint8Array {
    return this.bytes.subarray(r.msgStart, r.msgEnd);
  }

  /** The ops bytes of an ops record; empty for other kinds. */
  ops(r: TapeRecord): Uint8Array {
    return this.bytes.subarray(r.opsStart, r.opsEnd);
  }
}

/**
 * Reads a whole tape. Throws TapeFormatError when the header is unusable;
 * frame damage is not thrown but reported in `damage`, with every record
 * before it returned.
 */
export function readTape(input: ArrayBuffer | Uint8Array): Tape {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const { header, crc, dataStart } = readHeader(bytes);
  const records: TapeRecord[] = [];
  const fr = new FrameReader(bytes, dataStart, header.startTick);
  let damage: TapeDamage | null = null;
  let footer: TapeFooter | null = null;
  while (fr.off < bytes.length) {
    if (footer !== null) {
      damage = { offset: fr.off, records: records.length, reason: 'data after the end record', truncated: false };
      break;
    }
    const rec = fr.read();
    if (typeof rec === 'string') {
      damage = { offset: fr.off, records: records.length, reason: rec, truncated: fr.truncated };
      break;
    }
    if (rec.kind === RecordKind.End) {
      footer = readFooter(bytes.subarray(rec.msgStart, rec.msgEnd));
      if (footer === null) {
        damage = { offset: rec.offset, records: records.length, reason: 'end record is not a footer map', truncated: false };
        break;
      }
    } else {
      records.push(rec);
    }
  }
  const validSize = damage === null ? bytes.length : damage.offset;
  return new Tape(bytes, header, crc, dataStart, records, damage, footer, validSize);
}

function readHeader(b: Uint8Array): { header: TapeHeader; crc: number; dataStart: number } {
  const magicLen = Math.min(b.length, MAGIC.length);
  for (let i = 0; i < magicLen; i++) {
    if (b[i] !== MAGIC.charCodeAt(i)) throw new TapeFormatError('not a tape file (no TICKTAPE magic)');
  }
  if (b.length < FIXED_HEADER) {
    if (b.length === 0) throw new TapeFormatError('the file is empty', true);
    throw new TapeFormatError('file ends inside the header', true);
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = dv.getUint16(MAGIC.length, true);
  if (version < 1 || version > VERSION) throw new TapeFormatError(`unsupported format version ${version} (this reader knows 1 to ${VERSION})`);
  const n = dv.getUint32(MAGIC.length + 2, true);
  if (n > MAX_HEADER) throw new TapeFormatError(`header length ${n} over the limit`);
  const end = FIXED_HEADER + n;
  if (b.length < end + CRC_SIZE) throw new TapeFormatError('file ends inside the header', true);
  const crc = crc32c(b, MAGIC.length, end);
  if (crc !== dv.getUint32(end, true)) throw new TapeFormatError('header checksum mismatch');
  let raw: unknown;
  try {
    raw = decode(b.subarray(FIXED_HEADER, end), { useBigInt64: true });
  } catch (err) {
    throw new TapeFormatError(`header map: ${(err as Error).message}`);
  }
  if (!isMap(raw)) throw new TapeFormatError('header map: not a map');
  const tickRate = num(raw.tickRate);
  if (!(tickRate > 0) || !Number.isInteger(tickRate)) throw new TapeFormatError('header map: no tick rate');
  const seed = typeof raw.seed === 'bigint' && raw.seed > BigInt(Number.MAX_SAFE_INTEGER) ? raw.seed : num(raw.seed) || 0;
  return {
    header: {
      roomId: typeof raw.roomId === 'string' ? raw.roomId : '',
      type: typeof raw.type === 'string' ? raw.type : '',
      tickRate,
      seed,
      options: isMap(raw.options) ? raw.options : {},
      schema: raw.schema ?? [],
      startTick: num(raw.startTick) || 0,
      startedAt: num(raw.startedAt) || 0,
      version,
    },
    crc,
    dataStart: end + CRC_SIZE,
  };
}

function readFooter(b: Uint8Array): TapeFooter | null {
  try {
    const raw = decode(b, { useBigInt64: true });
    if (!isMap(raw)) return null;
    return { records: num(raw.records) || 0, endedAt: num(raw.endedAt) || 0 };
  } catch {
    return null;
  }
}

/** Reads frames one after another; a read returns the record, or the reason it could not. */
class FrameReader {
  /** Offset of the next frame. */
  off: number;
  /** Whether the last failure was the file ending inside the frame. */
  truncated = false;
  private prev: number;
  private p = 0;

  constructor(
    private readonly b: Uint8Array,
    off: number,
    prev: number,
  ) {
    this.off = off;
    this.prev = prev;
  }

  read(): TapeRecord | string {
    const b = this.b;
    const start = this.off;
    this.p = start;
    this.truncated = false;
    const tag = b[this.p++]!;
    const kind = tag & 7;
    if (kind < RecordKind.Keyframe || kind > RecordKind.Views) return `bad record kind ${kind}`;
    const code = tag >>> 3;
    let tick = this.prev + code;
    if (code === TICK_ABSOLUTE) {
      const t = this.uvarint('tick');
      if (typeof t === 'string') return t;
      tick = t;
    }
    const n = this.uvarint('length');
    if (typeof n === 'string') return n;
    if (n > MAX_PAYLOAD) return `payload length ${n} over the limit`;
    const payload = this.p;
    if (b.length - payload < n + CRC_SIZE) return this.short('payload');
    const end = payload + n;
    const want = (b[end]! | (b[end + 1]! << 8) | (b[end + 2]! << 16) | (b[end + 3]! << 24)) >>> 0;
    if (crc32c(b, start, end) !== want) return 'checksum mismatch';
    let msgStart = payload;
    let opsStart = payload;
    let opsEnd = payload;
    if (kind === RecordKind.Ops) {
      const l = this.uvarint('ops length');
      if (typeof l === 'string' || l > end - this.p) return 'ops length does not fit the record';
      opsStart = this.p;
      opsEnd = msgStart = this.p + l;
    }
    this.off = end + CRC_SIZE;
    this.prev = tick;
    return { kind, tick, offset: start, size: this.off - start, msgStart, msgEnd: end, opsStart, opsEnd };
  }

  private short(what: string): string {
    this.truncated = true;
    return `file ends inside the frame's ${what}`;
  }

  /**
   * Go's binary.Uvarint: at most 10 bytes, the 10th at most 1. Values past
   * 2^53 cannot be ticks or lengths a browser can hold: they count as corrupt.
   */
  private uvarint(what: string): number | string {
    const b = this.b;
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.p >= b.length) return this.short(what);
      const c = b[this.p++]!;
      if (c < 0x80) {
        if (i === 9 && c > 1) break;
        x += c * mul;
        return Number.isSafeInteger(x) ? x : `bad ${what}: ${x} is past 2^53`;
      }
      x += (c & 0x7f) * mul;
      mul *= 128;
    }
    return `bad ${what}: uvarint overflows 64 bits`;
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return NaN;
}
