// The admin API (docs/PROTOCOL.md "HTTP": /api/admin/...) with its bearer
// token. 401 means a wrong token; 404 on the list means the admin API is off.
import { request } from './api';
import type { Member } from '@tickroom/client';

export interface AdminRoom {
  id: string;
  type: string;
  players: number;
  maxPlayers: number;
  spectators: number;
  createdAt: string;
  ageSeconds: number;
  tick: number;
  tickRate: number;
  tickP99Ms: number;
  lastTickMs: number;
  ticks: number;
  lateTicks: number;
  /** Cumulative encoded delta bytes: the monitor turns it into a rate. */
  deltaBytes: number;
  snapshots: number;
  slowClosed: number;
  inputs: number;
  recording: boolean;
  serverTimeMs: number;
}

export interface AdminRoomDetail extends AdminRoom {
  /** `entity` is null for members without one. */
  members: Array<Omit<Member, 'entity'> & { entity: number | null }>;
}

export class AdminApi {
  constructor(readonly token: string) {}

  rooms(): Promise<AdminRoom[]> {
    return this.call<AdminRoom[] | null>('GET', 'rooms').then((r) => r ?? []);
  }

  room(id: string): Promise<AdminRoomDetail> {
    return this.call<AdminRoomDetail>('GET', `rooms/${encodeURIComponent(id)}`);
  }

  close(id: string): Promise<void> {
    return this.call<void>('POST', `rooms/${encodeURIComponent(id)}/close`);
  }

  kick(id: string, member: number): Promise<void> {
    return this.call<void>('POST', `rooms/${encodeURIComponent(id)}/kick`, { member });
  }

  /** A short-lived signed spectator link: wsUrl is a path with the signed query. */
  spectate(id: string): Promise<{ wsUrl: string; url: string }> {
    return this.call('POST', `rooms/${encodeURIComponent(id)}/spectate`);
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return request<T>(method, `/api/admin/${path}`, { body, headers: { authorization: `Bearer ${this.token}` } });
  }
}
