// The recordings API (docs/PROTOCOL.md "HTTP": /api/recordings) as typed
// calls, and the small formatters the recordings list and the replay page share.
import { ApiError, request, send } from './api';

export interface RecordingInfo {
  id: string;
  roomId: string;
  type: string;
  tickRate: number;
  /** RFC 3339. */
  startedAt: string;
  durationSeconds: number;
  sizeBytes: number;
  members: string[] | null;
  inProgress: boolean;
  keyframes: number;
  firstTick: number;
  lastTick: number;
  /** The server found a bad frame: the tape it serves stops before it. */
  damaged?: boolean;
}

export function listRecordings(): Promise<RecordingInfo[]> {
  return request<RecordingInfo[] | null>('GET', '/api/recordings').then((r) => r ?? []);
}

/** One recording, or null when the server does not know it. */
export async function getRecording(id: string): Promise<RecordingInfo | null> {
  try {
    return await request<RecordingInfo>('GET', `/api/recordings/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** The raw tape (up to the last flushed frame while in progress). */
export async function fetchTape(id: string, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array> {
  const res = await send(`/api/recordings/${encodeURIComponent(id)}/tape`);
  if (!res.ok) throw new ApiError(res.status === 404 ? 'no such recording' : `download failed (${res.status})`, res.status, 'http');
  const total = Number(res.headers.get('content-length')) || 0;
  if (res.body === null || onProgress === undefined) return new Uint8Array(await res.arrayBuffer());
  const parts: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    onProgress(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** "m:ss", or "h:mm:ss" from an hour on. */
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "812 B", "14.2 KB", "3.1 MB". */
export function sizeText(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} KB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

/** A local date and time, e.g. "2024-05-01 14:03". */
export function dateText(rfc3339OrMs: string | number): string {
  const d = new Date(rfc3339OrMs);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
