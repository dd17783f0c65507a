/**
 * @tickroom/client: join a tickroom room from a browser (or Node with a
 * WebSocket), mirror its state, send inputs, and read its recordings.
 *
 * - core/: the protocol: Connection (join, reconnect with backoff and
 *   resume), the codec driven by the welcome's schema, Mirror, snapshot
 *   interpolation, arena prediction, createRoom and roomSocketUrl.
 * - replay/: recordings (docs/TAPE.md): readTape, Replay (seek, play).
 * - rooms.gen.ts: the built-in room types, written by `tickroom gen ts`.
 *
 * No DOM and no rendering here; the React hook is @tickroom/client/react.
 */
export * from './core/index.js';
export * from './replay/index.js';
export type { ArenaBenchRoom, ArenaRoom, BoardRoom, RoomTypes as BuiltinRoomTypes } from './rooms.gen.js';
