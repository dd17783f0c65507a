// Typed shapes of the protocol messages (PROTOCOL.md). The codec produces and
// consumes these; nothing else in the client touches raw MessagePack.
import type { ArenaRoom, BoardRoom } from '../rooms.gen.js';
import type { Schema } from './schema.js';

/** Server -> client type tags. */
export enum ServerTag {
  Welcome = 1,
  Snapshot = 2,
  Delta = 3,
  Event = 4,
  Error = 5,
  Pong = 6,
  /** A member's view frame (PROTOCOL.md, "Views"). */
  ViewDelta = 7,
  /** A member's view snapshot: a group snapshot of every group it sees. */
  ViewSnapshot = 8,
}

/** Client -> server type tags. */
export enum ClientTag {
  Input = 1,
  Chat = 2,
  Ping = 3,
  Resync = 4,
}

/** A wire scalar as MessagePack gives it: 64-bit integers arrive as bigint. */
export type WireValue = number | bigint | string | boolean | null;

/** An entity record `[kindId, entityId, v0..vN-1, vel...]`, kept raw until the mirror knows the kind. */
export type EntityRecord = readonly unknown[];

/**
 * One `changed` group with its ids made absolute. `values` holds, per entity,
 * popcount(mask) residuals in ascending field index, entity after entity.
 */
export interface ChangedGroup {
  /** Field bits 0..31. */
  readonly maskLo: number;
  /** Field bits 32..63. */
  readonly maskHi: number;
  /** Number of set bits: values per entity. */
  readonly width: number;
  readonly ids: readonly number[];
  readonly values: readonly WireValue[];
}

/**
 * One part of a view message (PROTOCOL.md, "Views"): a group snapshot
 * (`enter`: the group entered the view, or a view snapshot), a group
 * delta, a short delta (every entity of the group, in ascending id order,
 * changed the masked fields), or a packed run (the raw bytes of one or
 * more packed short deltas: only the mirror, which knows each group's
 * size, can split them).
 */
export type Segment =
  | { readonly kind: 'enter'; readonly group: number; readonly records: readonly EntityRecord[] }
  | {
      readonly kind: 'delta';
      readonly group: number;
      readonly arrived: readonly EntityRecord[];
      readonly changed: readonly ChangedGroup[];
      /** Absolute ids, ascending: moved to another group. */
      readonly departed: readonly number[];
      /** Absolute ids, ascending: removed from the world. */
      readonly removed: readonly number[];
    }
  | {
      readonly kind: 'short';
      readonly group: number;
      readonly maskLo: number;
      readonly maskHi: number;
      readonly width: number;
      readonly values: readonly WireValue[];
    }
  | { readonly kind: 'packed'; readonly bytes: Uint8Array };

export type EnterSegment = Extract<Segment, { kind: 'enter' }>;

export interface Member {
  member: number;
  name: string;
  /** -1 when the room type gives members no entity. */
  entity: number;
  online: boolean;
}

export interface ChatEvent {
  type: 'chat';
  from: number;
  name: string;
  text: string;
  /** Present only on direct messages: the recipient's member number. */
  to?: number;
  tick: number;
}

/** An event; `E` is the data of the room type's custom events (RoomType['event']). */
export type RoomEvent<E = Readonly<Record<string, unknown>>> =
  | { type: 'join'; member: number; name: string; entity: number }
  | { type: 'leave'; member: number; name: string; reason: string }
  | { type: 'offline'; member: number; name: string }
  | { type: 'online'; member: number; name: string }
  | ChatEvent
  | { type: 'closing'; reason: string }
  /** A custom event: room-type defined keys. */
  | { type: 'custom'; data: E }
  /** An event type this client does not know. */
  | { type: 'unknown'; data: Readonly<Record<string, unknown>> };

export interface Welcome {
  v: number;
  room: string;
  type: string;
  session: string;
  member: number;
  /** Your entity id; -1 when the room gives members none (and for spectators). */
  entity: number;
  token: string;
  resumed: boolean;
  /** A view-only connection: no member, no entity; inputs and chat are refused. */
  spectator: boolean;
  tickRate: number;
  schema: Schema;
  members: Member[];
  chat: ChatEvent[];
  options: Readonly<Record<string, unknown>>;
}

export type ServerMessage =
  | { tag: ServerTag.Welcome; welcome: Welcome }
  | { tag: ServerTag.Snapshot; tick: number; records: readonly EntityRecord[] }
  | {
      tag: ServerTag.Delta;
      tick: number;
      baseTick: number;
      created: readonly EntityRecord[];
      changed: readonly ChangedGroup[];
      /** Absolute ids, ascending. */
      removed: readonly number[];
    }
  | {
      tag: ServerTag.ViewDelta;
      tick: number;
      baseTick: number;
      /** Groups that left the view: their entities leave the mirror. */
      left: readonly number[];
      segments: readonly Segment[];
    }
  | { tag: ServerTag.ViewSnapshot; tick: number; segments: readonly EnterSegment[] }
  | { tag: ServerTag.Event; event: RoomEvent }
  | { tag: ServerTag.Error; code: string; message: string }
  | { tag: ServerTag.Pong; clientTime: number; tick: number };

export type SnapshotMessage = Extract<ServerMessage, { tag: ServerTag.Snapshot }>;
export type DeltaMessage = Extract<ServerMessage, { tag: ServerTag.Delta }>;
export type ViewDeltaMessage = Extract<ServerMessage, { tag: ServerTag.ViewDelta }>;
export type ViewSnapshotMessage = Extract<ServerMessage, { tag: ServerTag.ViewSnapshot }>;

/** Input payloads of the built-in rooms, from their Go declarations (rooms.gen.ts). */
export type ArenaInput = ArenaRoom['input'];
export type BoardInput = BoardRoom['input'];
