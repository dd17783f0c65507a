// The two HTTP calls a program needs to play (PROTOCOL.md "HTTP"): create
// a room, and the WebSocket URL to join one.
import type { AnyRoom, RoomType } from './room-type.js';

export interface CreateRoomOptions<T extends RoomType = AnyRoom> {
  /** The type's options: checked by the compiler against T, by the server again. */
  options?: T['options'];
  visibility?: 'public' | 'unlisted';
  maxPlayers?: number;
  /** Record the room (the server's default is to). */
  record?: boolean;
}

/** The answer to POST /api/rooms. */
export interface CreatedRoom {
  id: string;
  type: string;
  /** Path of the room's page: /r/ID. */
  shareUrl: string;
  /** Path of the room's WebSocket: /ws/ID. */
  wsUrl: string;
  /** Path of a signed view-only link. */
  spectateUrl: string;
  /** Whether the room sleeps when empty and survives restarts. */
  durable: boolean;
}

/**
 * Creates a room of `type` on `server` (its http(s) base URL, e.g.
 * http://127.0.0.1:8080). A refusal throws an Error with the server's message.
 */
export async function createRoom<T extends RoomType = AnyRoom>(
  server: string,
  type: T['name'],
  opts: CreateRoomOptions<T> = {},
): Promise<CreatedRoom> {
  const res = await fetch(new URL('/api/rooms', server), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type, ...opts }),
  });
  const body = (await res.json().catch(() => null)) as (CreatedRoom & { message?: string }) | null;
  if (res.status !== 201 || body === null) {
    throw new Error(`create room: ${body?.message ?? `HTTP ${res.status}`}`);
  }
  return body;
}

/** The WebSocket URL of room `id` on `server` (http(s) base URL), for Connection's `url`. */
export function roomSocketUrl(server: string, id: string): string {
  const u = new URL(`/ws/${encodeURIComponent(id)}`, server);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}
