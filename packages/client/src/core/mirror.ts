// The client's copy of a room's entities, kept equal to the server's state by
// applying snapshots and deltas (PROTOCOL.md "delta").
//
// Invariants (guarded by client/test/mirror.test.ts and vectors.test.ts):
// - A delta is applied whole or not at all as far as listeners can tell:
//   it is validated first, applied, and listeners are notified once after.
// - A delta whose baseTick is not the mirror's tick is never applied: the
//   mirror asks for a resync once and drops deltas until a snapshot arrives.
// - Entity objects are stable: an id keeps the same Entity across deltas and
//   across snapshots (including the fresh snapshot after a reconnect).
import { ServerTag, type ChangedGroup, type DeltaMessage, type EntityRecord, type SnapshotMessage, type ViewDeltaMessage, type ViewSnapshotMessage } from './messages.js';
import { popcount32 } from './bits.js';
import { ProtocolError, toInt } from './codec.js';
import { Entity, type FieldValue } from './entity.js';
import type { AnyRoom, FieldsOf, RoomType } from './room-type.js';
import type { Kind, Schema } from './schema.js';

/** Removes id from a group's ids (views). */
function unlist(ids: number[] | undefined, id: number): void {
  const i = ids ? ids.indexOf(id) : -1;
  if (i >= 0) ids!.splice(i, 1);
}

/** What happened to a delta handed to the mirror. */
export type DeltaResult =
  /** Applied; listeners were notified. */
  | 'applied'
  /** Not applied: the caller must send `resync` now (returned once per gap). */
  | 'resync'
  /** Not applied: a resync is already pending, or no snapshot yet. */
  | 'ignored';

export interface MirrorChange {
  readonly source: 'snapshot' | 'delta';
  readonly tick: number;
}

export type MirrorListener<T extends RoomType = AnyRoom> = (mirror: Mirror<T>, change: MirrorChange) => void;

/** `T` types the entities' fields when the room type is known (rooms.gen.ts). */
export class Mirror<T extends RoomType = AnyRoom> {
  readonly entities = new Map<number, Entity<FieldsOf<T>>>();
  /** Tick of the last applied snapshot or delta; -1 before the first snapshot. */
  tick = -1;
  schema: Schema | null = null;
  /** Why the last delta or snapshot was refused, for the status line and tests. */
  lastError: string | null = null;
  /**
   * Ids that left this client's view, and ids removed from the world, in
   * the last applied view delta (cleared and refilled by each; the arrays
   * are reused). A renderer fades the first kind out at the view's edge.
   */
  readonly leftView: number[] = [];
  readonly removed: number[] = [];
  /** Views: each entity's interest group, and each group's ids ascending. */
  private readonly groupOf = new Map<number, number>();
  private readonly groupIds = new Map<number, number[]>();
  private awaitingSnapshot = true;
  private resyncRequested = false;
  private readonly listeners = new Set<MirrorListener<T>>();

  /** Installs the schema of a (new) welcome; deltas wait for the snapshot that follows. */
  setSchema(schema: Schema): void {
    this.schema = schema;
    this.awaitingSnapshot = true;
    // The server sends a snapshot after every welcome: no resync needed.
    this.resyncRequested = true;
  }

  /** True while deltas are being dropped until the next snapshot. */
  get waitingForSnapshot(): boolean {
    return this.awaitingSnapshot;
  }

  /** The interest group entity `id` is in (views messages), 0 otherwise or when not held. */
  groupOfEntity(id: number): number {
    return this.groupOf.get(id) ?? 0;
  }

  subscribe(fn: MirrorListener<T>): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Replaces the whole state. Entities that persist keep their objects; the
   * rest are removed. Throws ProtocolError (mirror unchanged) on a bad record.
   */
  applySnapshot(msg: SnapshotMessage | ViewSnapshotMessage): void {
    // A view snapshot (PROTOCOL.md, "Views") holds a group snapshot of
    // every group the member sees.
    const views = msg.tag === ServerTag.ViewSnapshot;
    const groups = views ? msg.segments : [{ group: 0, records: msg.records }];
    const tick = msg.tick;
    const schema = this.requireSchema();
    for (const g of groups) for (const rec of g.records) this.checkRecord(schema, rec);
    const seen = new Set<number>();
    this.groupOf.clear();
    this.groupIds.clear();
    this.leftView.length = this.removed.length = 0;
    for (const g of groups) {
      for (const rec of g.records) {
        const id = this.upsert(schema, rec).id;
        seen.add(id);
        if (views) this.place(id, g.group);
      }
    }
    for (const id of this.entities.keys()) if (!seen.has(id)) this.entities.delete(id);
    this.tick = tick;
    this.awaitingSnapshot = false;
    this.resyncRequested = false;
    this.lastError = null;
    this.notify({ source: 'snapshot', tick });
  }

  /**
   * Applies a delta, or a views room's view delta (PROTOCOL.md, "Views"):
   * groups that left the view drop their entities (leftView), entered
   * groups arrive whole, the rest change. A gap or a bad message asks for a
   * resync: the answer is a snapshot (a view snapshot of this member's groups).
   */
  applyDelta(msg: DeltaMessage | ViewDeltaMessage): DeltaResult {
    if (this.awaitingSnapshot) return this.askResync();
    if (msg.baseTick !== this.tick) {
      this.lastError = `missed a tick: delta ${msg.tick} is based on ${msg.baseTick}, mirror is at ${this.tick}`;
      return this.askResync();
    }
    const schema = this.requireSchema();
    try {
      if (msg.tag === ServerTag.ViewDelta) {
        this.applyView(schema, msg);
      } else {
        this.checkDelta(schema, msg);
        for (const rec of msg.created) this.upsert(schema, rec);
        for (const g of msg.changed) this.change(g);
        for (const id of msg.removed) this.entities.delete(id);
      }
    } catch (err) {
      // A value of the wrong wire type got past validation: the state may be
      // part-applied, so treat it like a gap and start over from a snapshot.
      this.lastError = (err as Error).message;
      return this.askResync();
    }
    this.tick = msg.tick;
    this.notify({ source: 'delta', tick: msg.tick });
    return 'applied';
  }

  private applyView(schema: Schema, msg: ViewDeltaMessage): void {
    const dep: number[] = []; // id, group pairs
    this.leftView.length = this.removed.length = 0;
    for (const g of msg.left) this.forget(g);
    for (const seg of msg.segments) {
      if (seg.kind === 'packed') {
        this.applyPacked(seg.bytes);
        continue;
      }
      const g = seg.group;
      if (seg.kind === 'short') {
        const ids = this.groupIds.get(g) ?? [];
        if (seg.values.length !== ids.length * seg.width) throw new ProtocolError(`bad segment ${g}`);
        this.change({ ...seg, ids });
        continue;
      }
      // An entered group replaces whatever the mirror held of it.
      const recs = seg.kind === 'enter' ? (this.forget(g), seg.records) : seg.arrived;
      for (const rec of recs) this.checkRecord(schema, rec);
      for (const rec of recs) this.place(this.upsert(schema, rec).id, g);
      if (seg.kind === 'delta') {
        for (const c of seg.changed) this.change(c);
        // Departures wait for every segment: an entity that moved to
        // another group this client sees arrives there and stays.
        for (const id of seg.departed) dep.push(id, g);
        for (const id of seg.removed) if (this.groupOf.get(id) === g && this.drop(id)) this.removed.push(id);
      }
    }
    for (let i = 0; i < dep.length; i += 2) {
      if (this.groupOf.get(dep[i]!) === dep[i + 1] && this.drop(dep[i]!)) this.leftView.push(dep[i]!);
    }
  }

  /**
   * A packed run: packed short deltas back to back, groups ascending, each
   * `uvarint(g << 4 | m)`, `uvarint(mask)` when m is 15 (else mask = m),
   * then one signed nibble per entity of the group and masked field, high
   * nibble first, padded with a 0 nibble to a whole byte. The group's size
   * here gives each one's length.
   */
  private applyPacked(b: Uint8Array): void {
    let at = 0;
    const bad = (): never => {
      throw new ProtocolError(`bad packed run at byte ${at}`);
    };
    const uvarint = (): bigint => {
      let v = 0n;
      for (let s = 0n, x = 128; x > 127; s += 7n) {
        if (at >= b.length || s > 63n) bad();
        x = b[at++]!;
        v |= BigInt(x & 127) << s;
      }
      return v >> 64n ? bad() : v;
    };
    if (!b.length) bad();
    for (let prev = -1; at < b.length; ) {
      const head = uvarint();
      const g = Number(head >> 4n);
      const mask = (head & 15n) === 15n ? uvarint() : head & 15n;
      const lo = Number(mask & 0xffffffffn);
      const hi = Number(mask >> 32n);
      const ids = this.groupIds.get(g) ?? [];
      const n = ids.length * (popcount32(lo) + popcount32(hi));
      const end = at + Math.ceil(n / 2);
      if (g <= prev || g >= 2 ** 32 || !n || end > b.length || (n & 1 && b[end - 1]! & 15)) bad();
      prev = g;
      let k = at * 2; // nibble index in b
      for (const id of ids) {
        const ent = this.entities.get(id) ?? bad();
        for (let bits = lo, base = 0; base < 64; bits = hi, base += 32) {
          for (; bits; bits ^= bits & -bits) {
            const i = base + 31 - Math.clz32(bits & -bits);
            if (!ent.kind.fields[i]?.integral) bad();
            // The nibble, sign-extended by shifting it to the top of an int32 and back.
            ent.applyResidual(i, (b[k >> 1]! << (k++ & 1 ? 28 : 24)) >> 28);
          }
        }
      }
      at = end;
    }
  }

  private change(g: ChangedGroup): void {
    for (let e = 0; e < g.ids.length; e++) {
      const ent = this.entities.get(g.ids[e]!);
      if (ent === undefined) throw new ProtocolError(`changed: unknown entity ${g.ids[e]!}`);
      let k = e * g.width;
      for (let bits = g.maskLo, base = 0; base < 64; bits = g.maskHi, base += 32) {
        while (bits !== 0) {
          const low = bits & -bits;
          ent.applyResidual(base + 31 - Math.clz32(low), g.values[k++]!);
          bits ^= low;
        }
      }
    }
  }

  /** Entity id is in group g now, and no longer in its old one. */
  private place(id: number, g: number): void {
    const ids = this.groupIds.get(g) ?? [];
    if (this.groupOf.get(id) === g) return;
    this.drop(id, false);
    this.groupOf.set(id, g);
    this.groupIds.set(g, ids);
    ids.push(id);
    ids.sort((a, b) => a - b); // groups hold a few entities: kept ascending for short segments
  }

  /** Takes id out of its group, and out of the mirror unless only moving. */
  private drop(id: number, gone = true): boolean {
    unlist(this.groupIds.get(this.groupOf.get(id)!), id);
    this.groupOf.delete(id);
    return gone && this.entities.delete(id);
  }

  /** A group left the view (or arrives anew): its entities leave the mirror. */
  private forget(g: number): void {
    for (const id of this.groupIds.get(g) ?? []) {
      if (this.groupOf.get(id) === g && this.groupOf.delete(id) && this.entities.delete(id)) this.leftView.push(id);
    }
    this.groupIds.delete(g);
  }

  /** The entities of one kind, in id order of arrival, with their fields typed (allocates). */
  ofKind<K extends keyof T['kinds'] & string>(kind: K): Entity<T['kinds'][K]>[] {
    const out: Entity<T['kinds'][K]>[] = [];
    for (const e of this.entities.values()) if (e.kind.name === kind) out.push(e as unknown as Entity<T['kinds'][K]>);
    return out;
  }

  /** Id -> field name -> value: the shape vectors.json describes (allocates). */
  toPlain(): Record<string, Record<string, FieldValue>> {
    const out: Record<string, Record<string, FieldValue>> = {};
    for (const [id, e] of this.entities) out[String(id)] = e.toPlain();
    return out;
  }

  private askResync(): DeltaResult {
    this.awaitingSnapshot = true;
    if (this.resyncRequested) return 'ignored';
    this.resyncRequested = true;
    return 'resync';
  }

  private requireSchema(): Schema {
    if (this.schema === null) throw new ProtocolError('state before welcome: no schema');
    return this.schema;
  }

  private kindOf(schema: Schema, rec: EntityRecord): Kind {
    const kindId = toInt(rec[0], 'entity kind');
    const kind = schema.kind(kindId);
    if (kind === undefined) throw new ProtocolError(`entity ${String(rec[1])}: unknown kind ${kindId}`);
    return kind;
  }

  private checkRecord(schema: Schema, rec: EntityRecord): void {
    const kind = this.kindOf(schema, rec);
    toInt(rec[1], 'entity id');
    const want = 2 + kind.fields.length + kind.pred2.length;
    if (rec.length !== want) {
      throw new ProtocolError(`entity ${String(rec[1])} (${kind.name}): record has ${rec.length} elements, want ${want}`);
    }
  }

  /** Everything a delta refers to exists, so applying it cannot stop half-way on a missing id. */
  private checkDelta(schema: Schema, msg: DeltaMessage): void {
    const created = new Map<number, Kind>();
    for (const rec of msg.created) {
      this.checkRecord(schema, rec);
      created.set(toInt(rec[1], 'entity id'), this.kindOf(schema, rec));
    }
    for (const g of msg.changed) {
      // Highest field index named by the mask: every entity's kind must have it.
      const top = g.maskHi !== 0 ? 63 - Math.clz32(g.maskHi) : 31 - Math.clz32(g.maskLo);
      for (const id of g.ids) {
        const kind = created.get(id) ?? this.entities.get(id)?.kind;
        if (kind === undefined) throw new ProtocolError(`changed: unknown entity ${id}`);
        if (top >= kind.fields.length) throw new ProtocolError(`changed: entity ${id} (${kind.name}) has no field ${top}`);
      }
    }
  }

  private upsert(schema: Schema, rec: EntityRecord): Entity<FieldsOf<T>> {
    const kind = this.kindOf(schema, rec);
    const id = toInt(rec[1], 'entity id');
    let ent = this.entities.get(id);
    if (ent === undefined || ent.kind.id !== kind.id || ent.kind.fields.length !== kind.fields.length) {
      ent = new Entity<FieldsOf<T>>(id, kind);
      this.entities.set(id, ent);
    } else {
      ent.kind = kind;
    }
    ent.setFromRecord(rec);
    return ent;
  }

  private notify(change: MirrorChange): void {
    for (const fn of this.listeners) fn(this, change);
  }
}
