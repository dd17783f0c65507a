// The HTTP API (PROTOCOL.md "HTTP") as typed calls. Failures become ApiError
// with a sentence a person can act on.

export interface RoomInfo {
  id: string;
  type: string;
  players: number;
  maxPlayers: number;
  /** RFC 3339 text or a Unix time (seconds or ms); see ageText. */
  createdAt: string | number;
  visibility: 'public' | 'unlisted';
  /** "live" (running) or "dormant" (asleep: opening it wakes it, as it was). */
  state?: 'live' | 'dormant' | 'failed';
  /** When a sleeping room last had someone in it. */
  lastActive?: string;
}

export interface RoomType {
  name: string;
  tickRate: number;
  /** Most players a room of this type takes (the create form's upper bound). */
  maxPlayers?: number;
  options?: Record<string, unknown>;
}

export interface CreateRoomRequest {
  type: string;
  options: Record<string, unknown>;
  visibility: 'public' | 'unlisted';
  maxPlayers: number;
}

export interface CreatedRoom {
  id: string;
  type: string;
  shareUrl: string;
  wsUrl: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

/** fetch, with a failure to reach the server as ApiError (status 0, code "network"). */
export async function send(path: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError('cannot reach the server; check your connection', 0, 'network');
  }
}

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The message for a 429 answer, in place of the server's. */
  tooMany?: string;
}

/**
 * One JSON call: the parsed answer (null when empty or not JSON), or ApiError
 * with the server's message and code ("http" when it sent none).
 */
export async function request<T>(method: string, path: string, { body, headers, tooMany }: RequestOptions = {}): Promise<T> {
  const res = await send(path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: reported with the status below.
  }
  if (!res.ok) {
    const e = (data ?? {}) as { code?: string; message?: string };
    const what = (res.status === 429 && tooMany) || e.message || text.trim() || res.statusText;
    throw new ApiError(what, res.status, e.code ?? 'http');
  }
  return data as T;
}

function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  return request<T>(method, path, { body, tooMany: 'too many requests; try again in a moment' });
}

export function listRooms(): Promise<RoomInfo[]> {
  return call<RoomInfo[] | null>('GET', '/api/rooms').then((r) => r ?? []);
}

/** One room by id, or null when the server does not know it. */
export async function getRoom(id: string): Promise<RoomInfo | null> {
  try {
    return await call<RoomInfo>('GET', `/api/rooms/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

export function listTypes(): Promise<RoomType[]> {
  return call<RoomType[] | null>('GET', '/api/types').then((r) => r ?? []);
}

export function createRoom(req: CreateRoomRequest): Promise<CreatedRoom> {
  return call<CreatedRoom>('POST', '/api/rooms', req);
}

/** "12 s", "3 min", "2 h", "4 d" since createdAt; "" when unreadable. */
export function ageText(createdAt: string | number, nowMs = Date.now()): string {
  const t = typeof createdAt === 'number' ? (createdAt < 1e12 ? createdAt * 1000 : createdAt) : Date.parse(createdAt);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((nowMs - t) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}
