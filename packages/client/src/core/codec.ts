// MessagePack <-> typed messages (PROTOCOL.md). Decoding here is structural:
// it checks shapes and makes gap-coded ids absolute, but leaves field values as
// residuals, because turning a residual into a value needs the receiving
// entity's history, which only the Mirror has.
import { Decoder, Encoder } from '@msgpack/msgpack';
import { popcount32 } from './bits.js';
import {
  ClientTag,
  ServerTag,
  type ChangedGroup,
  type ChatEvent,
  type EnterSegment,
  type EntityRecord,
  type Member,
  type RoomEvent,
  type Segment,
  type ServerMessage,
  type Welcome,
  type WireValue,
} from './messages.js';
import { Schema } from './schema.js';

/** A message the client cannot make sense of; the text names what was wrong. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

// useBigInt64: a 64-bit field mask (or an i64 value) above 2^53 would lose bits
// as a double. Integers that fit 32 bits still decode as plain numbers.
const decoder = new Decoder({ useBigInt64: true });
const encoder = new Encoder({ useBigInt64: true });

export function decodeServerMessage(bytes: ArrayBuffer | Uint8Array): ServerMessage {
  let raw: unknown;
  try {
    raw = decoder.decode(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  } catch (err) {
    throw new ProtocolError(`not MessagePack: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw) || raw.length === 0) throw new ProtocolError('message is not a non-empty array');
  const tag = toInt(raw[0], 'type tag');
  switch (tag) {
    case ServerTag.Welcome:
      return { tag, welcome: parseWelcome(raw[1]) };
    case ServerTag.Snapshot:
      return { tag, tick: toInt(raw[1], 'snapshot tick'), records: recordList(raw[2], 'snapshot entities') };
    case ServerTag.Delta:
      if (raw.length < 6) throw new ProtocolError(`delta has ${raw.length} elements, want 6`);
      return {
        tag,
        tick: toInt(raw[1], 'delta tick'),
        baseTick: toInt(raw[2], 'delta baseTick'),
        created: recordList(raw[3], 'delta created'),
        changed: arrayOf(raw[4], 'delta changed').map(parseGroup),
        removed: ungap(arrayOf(raw[5], 'delta removed'), 'removed id'),
      };
    case ServerTag.ViewDelta:
      return {
        tag,
        tick: toInt(raw[1], 'delta tick'),
        baseTick: toInt(raw[2], 'delta baseTick'),
        left: arrayOf(raw[3], 'left').map((g) => toInt(g, 'group')),
        segments: raw.slice(4).map((s) => parseSegment(s, false)),
      };
    case ServerTag.ViewSnapshot:
      return { tag, tick: toInt(raw[1], 'snapshot tick'), segments: raw.slice(2).map((s) => parseSegment(s, true) as EnterSegment) };
    case ServerTag.Event:
      return { tag, event: parseEvent(raw[1]) };
    case ServerTag.Error:
      return { tag, code: String(raw[1]), message: String(raw[2] ?? '') };
    case ServerTag.Pong:
      return { tag, clientTime: toNumber(raw[1], 'pong clientTime'), tick: toInt(raw[2], 'pong tick') };
    default:
      throw new ProtocolError(`unknown message type ${tag}`);
  }
}

export function encodeInput(seq: number, payload: unknown): Uint8Array {
  return encoder.encode([ClientTag.Input, seq, payload]);
}

/** A chat message to everyone, or to one member when `to` is given. */
export function encodeChat(text: string, to?: number): Uint8Array {
  return encoder.encode(to === undefined ? [ClientTag.Chat, text] : [ClientTag.Chat, text, to]);
}

export function encodePing(clientTime: number): Uint8Array {
  return encoder.encode([ClientTag.Ping, clientTime]);
}

export function encodeResync(): Uint8Array {
  return encoder.encode([ClientTag.Resync]);
}

// ---- value helpers ------------------------------------------------------------

/** Any MessagePack number as a double (bigint included: values past 2^53 round). */
export function toNumber(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new ProtocolError(`${what}: want a number, got ${typeof v}`);
}

export function toInt(v: unknown, what: string): number {
  const n = toNumber(v, what);
  if (!Number.isInteger(n)) throw new ProtocolError(`${what}: want an integer, got ${n}`);
  return n;
}

function arrayOf(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ProtocolError(`${what}: want an array`);
  return v;
}

function recordList(v: unknown, what: string): EntityRecord[] {
  const list = arrayOf(v, what);
  for (const r of list) {
    if (!Array.isArray(r) || r.length < 2) throw new ProtocolError(`${what}: entity record is not [kind, id, ...]`);
  }
  return list as EntityRecord[];
}

/** Gap-coded ascending ids (first absolute, then differences) -> absolute ids. */
function ungap(list: unknown[], what: string): number[] {
  const out = new Array<number>(list.length);
  let id = 0;
  for (let i = 0; i < list.length; i++) {
    const v = toInt(list[i], what);
    id = i === 0 ? v : id + v;
    out[i] = id;
  }
  return out;
}

function splitMask(v: unknown): [number, number] {
  if (typeof v === 'bigint') {
    if (v < 0n || v >= 1n << 64n) throw new ProtocolError('changed mask out of range');
    return [Number(v & 0xffffffffn), Number(v >> 32n)];
  }
  const n = toInt(v, 'changed mask');
  if (n < 0) throw new ProtocolError('changed mask is negative');
  // Doubles hold masks up to 2^53 exactly; split without 32-bit truncation.
  return [n % 0x100000000, Math.floor(n / 0x100000000)];
}

/** `[mask, id, values..., gap, values..., ...]` */
function parseGroup(raw: unknown): ChangedGroup {
  const g = arrayOf(raw, 'changed group');
  if (g.length < 2) throw new ProtocolError('changed group is shorter than [mask, id]');
  const [maskLo, maskHi] = splitMask(g[0]);
  const width = popcount32(maskLo) + popcount32(maskHi);
  const stride = 1 + width;
  if ((g.length - 1) % stride !== 0) {
    throw new ProtocolError(`changed group: ${g.length - 1} elements after the mask, not a multiple of 1+${width}`);
  }
  const n = (g.length - 1) / stride;
  const ids = new Array<number>(n);
  const values = new Array<WireValue>(n * width);
  let id = 0;
  for (let e = 0, p = 1; e < n; e++) {
    const v = toInt(g[p++], 'changed id');
    id = e === 0 ? v : id + v;
    ids[e] = id;
    for (let k = 0; k < width; k++) values[e * width + k] = g[p++] as WireValue;
  }
  return { maskLo, maskHi, width, ids, values };
}

/** A segment: `[g, records]`, `[g, arrived, changed, departed, removed]`, `[g, mask, values...]`, or a packed run (a bin). */
function parseSegment(raw: unknown, snapshot: boolean): Segment {
  if (raw instanceof Uint8Array && !snapshot) return { kind: 'packed', bytes: raw };
  const s = arrayOf(raw, 'segment');
  const group = toInt(s[0], 'group');
  if (s.length === 2 && Array.isArray(s[1])) return { kind: 'enter', group, records: recordList(s[1], 'segment') };
  if (snapshot || (Array.isArray(s[1]) && s.length !== 5)) throw new ProtocolError(`bad segment ${group}`);
  if (Array.isArray(s[1])) {
    return {
      kind: 'delta',
      group,
      arrived: recordList(s[1], 'segment'),
      changed: arrayOf(s[2], 'segment').map(parseGroup),
      departed: ungap(arrayOf(s[3], 'segment'), 'id'),
      removed: ungap(arrayOf(s[4], 'segment'), 'id'),
    };
  }
  return shortSegment(group, s[1], s.slice(2) as WireValue[]);
}

function shortSegment(group: number, mask: unknown, values: WireValue[]): Segment {
  const [maskLo, maskHi] = splitMask(mask);
  // An empty mask (width 0) carries no values: the mirror's count check refuses any.
  return { kind: 'short', group, maskLo, maskHi, width: popcount32(maskLo) + popcount32(maskHi), values };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(m: Record<string, unknown>, key: string): string {
  const v = m[key];
  return typeof v === 'string' ? v : '';
}

function int(m: Record<string, unknown>, key: string): number {
  const v = m[key];
  return typeof v === 'number' || typeof v === 'bigint' ? Number(v) : 0;
}

/** An entity id that may be nil ("none"): -1 then, since 0 is a valid id. */
function entityId(m: Record<string, unknown>, key: string): number {
  const v = m[key];
  return typeof v === 'number' || typeof v === 'bigint' ? Number(v) : -1;
}

function parseWelcome(raw: unknown): Welcome {
  if (!isRecord(raw)) throw new ProtocolError('welcome is not a map');
  const tickRate = int(raw, 'tickRate');
  if (tickRate <= 0) throw new ProtocolError('welcome: tickRate missing');
  const members: Member[] = Array.isArray(raw.members)
    ? raw.members.filter(isRecord).map((m) => ({
        member: int(m, 'member'),
        name: str(m, 'name'),
        entity: entityId(m, 'entity'),
        online: m.online === true,
      }))
    : [];
  const chat: ChatEvent[] = Array.isArray(raw.chat)
    ? raw.chat.filter(isRecord).map((m) => parseEvent({ ...m, type: 'chat' }) as ChatEvent)
    : [];
  return {
    v: int(raw, 'v'),
    room: str(raw, 'room'),
    type: str(raw, 'type'),
    session: str(raw, 'session'),
    member: int(raw, 'member'),
    entity: entityId(raw, 'entity'),
    token: str(raw, 'token'),
    resumed: raw.resumed === true,
    spectator: raw.spectator === true,
    tickRate,
    schema: Schema.parse(raw.kinds),
    members,
    chat,
    options: isRecord(raw.options) ? raw.options : {},
  };
}

function parseEvent(raw: unknown): RoomEvent {
  if (!isRecord(raw)) throw new ProtocolError('event is not a map');
  const type = str(raw, 'type');
  switch (type) {
    case 'join':
      return { type, member: int(raw, 'member'), name: str(raw, 'name'), entity: entityId(raw, 'entity') };
    case 'leave':
      return { type, member: int(raw, 'member'), name: str(raw, 'name'), reason: str(raw, 'reason') };
    case 'offline':
    case 'online':
      return { type, member: int(raw, 'member'), name: str(raw, 'name') };
    case 'chat': {
      const ev: ChatEvent = { type, from: int(raw, 'from'), name: str(raw, 'name'), text: str(raw, 'text'), tick: int(raw, 'tick') };
      if (raw.to !== undefined && raw.to !== null) ev.to = int(raw, 'to');
      return ev;
    }
    case 'closing':
      return { type, reason: str(raw, 'reason') };
    case 'custom':
      return { type, data: raw };
    default:
      return { type: 'unknown', data: raw };
  }
}
