// Who was in the room and what had been said, as of any tick of a recording:
// the member list from join/leave ops and presence events, the chat log from
// chat events (plus join and leave lines), each change stamped with its tick.
import type { ChatEvent, Member, RoomEvent } from '../core/index.js';

/** A line of the replay's chat panel. */
export type LogEntry =
  | { tick: number; kind: 'chat'; chat: ChatEvent }
  | { tick: number; kind: 'join' | 'leave'; member: number; name: string; reason?: string };

type Change =
  | { tick: number; type: 'join'; member: number; name: string; entity: number }
  | { tick: number; type: 'leave' | 'offline' | 'online'; member: number };

export class ReplayHistory {
  /** Log lines in tape order (ticks never go down). */
  readonly log: LogEntry[] = [];
  private readonly changes: Change[] = [];
  /** Every member's latest name, in first-join order. */
  private readonly names = new Map<number, string>();
  private state = new Map<number, Member>();
  private applied = 0;
  private stateTick = -Infinity;
  private cached: { version: number; members: Member[] } = { version: 0, members: [] };

  /** A join op: the member was seated at `tick`. */
  join(tick: number, member: number, name: string, entity = -1): void {
    this.names.set(member, name);
    this.changes.push({ tick, type: 'join', member, name, entity });
  }

  /** A leave op: the member left for good at `tick`. */
  leave(tick: number, member: number): void {
    this.changes.push({ tick, type: 'leave', member });
  }

  /** An event record that followed `tick`. */
  event(tick: number, ev: RoomEvent): void {
    switch (ev.type) {
      case 'join':
        this.join(tick, ev.member, ev.name, ev.entity);
        this.log.push({ tick, kind: 'join', member: ev.member, name: ev.name });
        break;
      case 'leave':
        this.leave(tick, ev.member);
        this.log.push({ tick, kind: 'leave', member: ev.member, name: ev.name, reason: ev.reason });
        break;
      case 'offline':
      case 'online':
        this.changes.push({ tick, type: ev.type, member: ev.member });
        break;
      case 'chat':
        this.log.push({ tick, kind: 'chat', chat: ev });
        break;
      default:
        break;
    }
  }

  /** Member names in first-join order. */
  memberNames(): string[] {
    return [...this.names.values()];
  }

  /** The name a member number had (its latest), or `#n`. */
  nameOf(member: number): string {
    return this.names.get(member) ?? `#${member}`;
  }

  /** How many log lines happened at or before `tick` (they are the first ones). */
  logCount(tick: number): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.log[mid]!.tick <= tick) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The members seated at `tick`, by member number, and a version that
   * changes whenever the list does (so a page redraws only then). Moving
   * forward applies only the changes since the last call.
   */
  membersAt(tick: number): { version: number; members: Member[] } {
    if (tick < this.stateTick) {
      this.state = new Map();
      this.applied = 0;
    }
    this.stateTick = tick;
    const c = this.changes;
    const before = this.applied;
    while (this.applied < c.length && c[this.applied]!.tick <= tick) {
      const ch = c[this.applied++]!;
      const m = this.state.get(ch.member);
      switch (ch.type) {
        case 'join':
          this.state.set(ch.member, { member: ch.member, name: ch.name, entity: ch.entity >= 0 ? ch.entity : m?.entity ?? -1, online: true });
          break;
        case 'leave':
          this.state.delete(ch.member);
          break;
        case 'offline':
        case 'online':
          if (m) m.online = ch.type === 'online';
          break;
      }
    }
    if (this.applied !== before || this.cached.version !== this.applied) {
      this.cached = { version: this.applied, members: [...this.state.values()].sort((a, b) => a.member - b.member) };
    }
    return this.cached;
  }
}
