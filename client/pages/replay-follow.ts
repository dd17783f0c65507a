// Following one member's view in the replay of a views room (docs/TAPE.md,
// "views"): the tape's views records say which interest groups each member
// saw from which tick, and the mirror knows each entity's group, so the
// member's view at tick T is the entities of the mirror at T whose group
// it saw at T. Private groups are not in the recording: following a member
// shows its view without them.
//
// Built once from the tape (a list of changes per member); per frame only
// a cached lookup when the tick changed, and a Set lookup per entity.
import type { Mirror, Tape } from '@tickroom/client';
import { RecordKind } from '@tickroom/client';

/** A member's view from some tick on: its entity (-1: none) and its groups, Everyone (0) included. */
export interface MemberViewAt {
  readonly entity: number;
  readonly groups: ReadonlySet<number>;
}

interface Changes {
  ticks: number[];
  /** null: the member left (no view from that tick). */
  views: Array<MemberViewAt | null>;
}

export class ViewTimeline {
  /** Member numbers that had a view at some tick, ascending. */
  readonly members: number[] = [];
  private readonly byMember = new Map<number, Changes>();

  /** The tape's views, or null when it has none (not a views room, or an older tape). */
  static fromTape(tape: Tape): ViewTimeline | null {
    const t = new ViewTimeline();
    let any = false;
    for (const r of tape.records) {
      if (r.kind !== RecordKind.Views) continue;
      const rec = readViews(tape.message(r));
      if (rec === null) continue; // a record this page cannot read changes nothing
      any = true;
      t.apply(r.tick, rec.full, rec.views);
    }
    if (!any) return null;
    t.members.sort((a, b) => a - b);
    return t;
  }

  /** The member's view in effect at tick (the last change at or before it), or null. */
  viewAt(member: number, tick: number): MemberViewAt | null {
    const c = this.byMember.get(member);
    if (c === undefined) return null;
    let lo = 0;
    let hi = c.ticks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c.ticks[mid]! <= tick) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? null : c.views[lo - 1]!;
  }

  private apply(tick: number, full: boolean, views: Array<[number, MemberViewAt | null]>): void {
    const listed = full ? new Set<number>() : null;
    for (const [m, v] of views) {
      listed?.add(m);
      this.push(m, tick, v);
    }
    if (listed === null) return;
    // A full record lists every member seated: the others have no view.
    for (const [m, c] of this.byMember) {
      if (!listed.has(m) && c.views[c.views.length - 1] !== null) this.push(m, tick, null);
    }
  }

  private push(m: number, tick: number, v: MemberViewAt | null): void {
    let c = this.byMember.get(m);
    if (c === undefined) {
      c = { ticks: [], views: [] };
      this.byMember.set(m, c);
      this.members.push(m);
    }
    const last = c.ticks.length - 1;
    if (last >= 0 && c.ticks[last] === tick) c.views[last] = v; // the later record of a tick wins
    else {
      c.ticks.push(tick);
      c.views.push(v);
    }
  }
}

/** Which entities the scene draws while following a member. */
export class Follow {
  /** The member followed, or -1: the whole world. */
  member = -1;
  private tick = -1;
  private view: MemberViewAt | null = null;

  constructor(
    readonly timeline: ViewTimeline,
    private readonly mirror: Mirror,
  ) {}

  set(member: number): void {
    this.member = member;
    this.tick = -1;
  }

  /** The view in effect at tick; cached, so calling it every frame costs nothing between ticks. */
  at(tick: number): MemberViewAt | null {
    if (tick !== this.tick) {
      this.tick = tick;
      this.view = this.member < 0 ? null : this.timeline.viewAt(this.member, tick);
    }
    return this.view;
  }

  /** Whether entity id is in the followed member's view at the mirror's tick. */
  shows(id: number): boolean {
    const v = this.at(this.mirror.tick);
    return v !== null && v.groups.has(this.mirror.groupOfEntity(id));
  }
}

/**
 * Reads a views record's payload, `[full, [[member, entity|nil, [group...]|nil]...]]`
 * (docs/TAPE.md): a handful of MessagePack forms, read by hand so the page
 * needs no second MessagePack decoder. Null when it is not that shape.
 */
export function readViews(b: Uint8Array): { full: boolean; views: Array<[number, MemberViewAt | null]> } | null {
  const r = new Bytes(b);
  if (r.arrayLen() !== 2) return null;
  const full = r.bool();
  const n = r.arrayLen();
  if (full === null || n < 0) return null;
  const views: Array<[number, MemberViewAt | null]> = [];
  for (let i = 0; i < n; i++) {
    if (r.arrayLen() !== 3) return null;
    const m = r.uint();
    const e = r.nil() ? -1 : r.uint();
    if (m < 0 || (e < 0 && e !== -1)) return null;
    if (r.nil()) {
      views.push([m, null]);
      continue;
    }
    const k = r.arrayLen();
    if (k < 0) return null;
    const groups = new Set<number>([0]);
    for (let j = 0; j < k; j++) {
      const g = r.uint();
      if (g < 0) return null;
      groups.add(g);
    }
    views.push([m, { entity: e, groups }]);
  }
  return r.done() ? { full, views } : null;
}

/** A cursor over MessagePack bytes; every read returns -1 (or null) on a form it does not expect. */
class Bytes {
  private p = 0;
  private bad = false;
  constructor(private readonly b: Uint8Array) {}

  done(): boolean {
    return !this.bad && this.p === this.b.length;
  }

  private byte(): number {
    if (this.p >= this.b.length) {
      this.bad = true;
      return -1;
    }
    return this.b[this.p++]!;
  }

  private be(n: number): number {
    let x = 0;
    for (let i = 0; i < n; i++) {
      const c = this.byte();
      if (c < 0) return -1;
      x = x * 256 + c;
    }
    return x;
  }

  arrayLen(): number {
    const c = this.byte();
    if (c >= 0x90 && c <= 0x9f) return c & 0x0f;
    if (c === 0xdc) return this.be(2);
    if (c === 0xdd) return this.be(4);
    this.bad = true;
    return -1;
  }

  bool(): boolean | null {
    const c = this.byte();
    if (c === 0xc2 || c === 0xc3) return c === 0xc3;
    this.bad = true;
    return null;
  }

  /** Consumes a nil and returns true, or leaves the cursor where it was. */
  nil(): boolean {
    if (this.b[this.p] !== 0xc0) return false;
    this.p++;
    return true;
  }

  uint(): number {
    const c = this.byte();
    if (c >= 0 && c < 0x80) return c;
    if (c === 0xcc) return this.be(1);
    if (c === 0xcd) return this.be(2);
    if (c === 0xce) return this.be(4);
    this.bad = true; // member, entity and group numbers are u32
    return -1;
  }
}
