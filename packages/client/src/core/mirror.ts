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
import type { ChangedGroup, DeltaMessage, EntityRecord, SnapshotMessage, ViewDeltaMessage, ViewSnapshotMessage } from './messages.js';
import { ProtocolError, toInt } from './codec.js';
import { Entity, type FieldValue } from './entity.js';
import type { AnyRoom, FieldsOf, RoomType } from './room-type.js';
import type { Kind, Schema } from './schema.js';

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
  private readonly departed: number[] = [];
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

  subscribe(fn: MirrorListener<T>): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Replaces the whole state. Entities that persist keep their objects; the
   * rest are removed. Throws ProtocolError (mirror unchanged) on a bad record.
   */
  applySnapshot(msg: SnapshotMessage): void {
    const schema = this.requireSchema();
    for (const rec of msg.records) this.checkRecord(schema, rec);
    const seen = new Set<number>();
    for (const rec of msg.records) seen.add(this.upsert(schema, rec).id);
    for (const id of this.entities.keys()) if (!seen.has(id)) this.entities.delete(id);
    this.groupOf.clear();
    this.groupIds.clear();
    this.tick = msg.tick;
    this.awaitingSnapshot = false;
    this.resyncRequested = false;
    this.lastError = null;
    this.notify({ source: 'snapshot', tick: msg.tick });
  }

  applyDelta(msg: DeltaMessage): DeltaResult {
    if (this.awaitingSnapshot) return this.askResync();
    if (msg.baseTick !== this.tick) {
      this.lastError = `missed a tick: delta ${msg.tick} is based on ${msg.baseTick}, mirror is at ${this.tick}`;
      return this.askResync();
    }
    const schema = this.requireSchema();
    try {
      this.checkDelta(schema, msg);
      for (const rec of msg.created) this.upsert(schema, rec);
      for (const g of msg.changed) {
        for (let e = 0; e < g.ids.length; e++) {
          const ent = this.entities.get(g.ids[e]!)!;
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
      for (const id of msg.removed) this.entities.delete(id);
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

  /**
   * Replaces the whole state with a member's view (PROTOCOL.md, "Views"):
   * every group it sees, as group snapshots. Entities that persist keep
   * their objects. Throws ProtocolError (mirror unchanged) on a bad record.
   */
  applyViewSnapshot(msg: ViewSnapshotMessage): void {
    const schema = this.requireSchema();
    for (const seg of msg.segments) {
      if (seg.kind !== 'enter') throw new ProtocolError(`view snapshot: segment ${seg.group} is not a group snapshot`);
      for (const rec of seg.records) this.checkRecord(schema, rec);
    }
    const seen = new Set<number>();
    this.groupOf.clear();
    this.groupIds.clear();
    this.leftView.length = 0; // a view snapshot replaces; it reports no moves
    this.removed.length = 0;
    for (const seg of msg.segments) {
      if (seg.kind !== 'enter') continue;
      for (const rec of seg.records) {
        const id = this.upsert(schema, rec).id;
        seen.add(id);
        this.place(id, seg.group);
      }
    }
    for (const id of this.entities.keys()) if (!seen.has(id)) this.entities.delete(id);
    this.tick = msg.tick;
    this.awaitingSnapshot = false;
    this.resyncRequested = false;
    this.lastError = null;
    this.notify({ source: 'snapshot', tick: msg.tick });
  }

  /**
   * Applies a member's view delta: groups that left the view drop their
   * entities (leftView), entered groups arrive whole, the rest change. A
   * gap or a bad segment asks for a resync (the next message is a view
   * snapshot of this member's groups).
   */
  applyViewDelta(msg: ViewDeltaMessage): DeltaResult {
    if (this.awaitingSnapshot) return this.askResync();
    if (msg.baseTick !== this.tick) {
      this.lastError = `missed a tick: view delta ${msg.tick} is based on ${msg.baseTick}, mirror is at ${this.tick}`;
      return this.askResync();
    }
    const schema = this.requireSchema();
    this.leftView.length = 0;
    this.removed.length = 0;
    this.departed.length = 0;
    try {
      for (const g of msg.left) this.forgetGroup(g);
      for (const seg of msg.segments) {
        switch (seg.kind) {
          case 'enter':
            this.forgetGroup(seg.group);
            for (const rec of seg.records) this.checkRecord(schema, rec);
            for (const rec of seg.records) this.place(this.upsert(schema, rec).id, seg.group);
            break;
          case 'delta':
            for (const rec of seg.arrived) this.checkRecord(schema, rec);
            for (const rec of seg.arrived) this.place(this.upsert(schema, rec).id, seg.group);
            for (const g of seg.changed) this.applyChanged(g);
            // Departures wait for the other segments: an entity that moved
            // to another group this client sees arrives there and stays.
            for (const id of seg.departed) this.departed.push(id, seg.group);
            for (const id of seg.removed) {
              if (this.groupOf.get(id) === seg.group && this.drop(id)) this.removed.push(id);
            }
            break;
          case 'short': {
            const ids = this.groupIds.get(seg.group) ?? [];
            const want = ids.length * seg.width;
            if (seg.values.length !== want && !(seg.packed && seg.values.length === want + 1 && want % 2 === 1)) {
              throw new ProtocolError(`short segment ${seg.group}: ${seg.values.length} values for ${ids.length} entities of width ${seg.width}`);
            }
            this.applyChanged({ maskLo: seg.maskLo, maskHi: seg.maskHi, width: seg.width, ids, values: seg.values });
            break;
          }
        }
      }
      for (let i = 0; i < this.departed.length; i += 2) {
        const id = this.departed[i]!;
        if (this.groupOf.get(id) === this.departed[i + 1] && this.drop(id)) this.leftView.push(id);
      }
    } catch (err) {
      // Part-applied: start over from this member's view snapshot.
      this.lastError = (err as Error).message;
      return this.askResync();
    }
    this.tick = msg.tick;
    this.notify({ source: 'delta', tick: msg.tick });
    return 'applied';
  }

  private applyChanged(g: ChangedGroup): void {
    const top = g.maskHi !== 0 ? 63 - Math.clz32(g.maskHi) : 31 - Math.clz32(g.maskLo);
    for (let e = 0; e < g.ids.length; e++) {
      const ent = this.entities.get(g.ids[e]!);
      if (ent === undefined) throw new ProtocolError(`changed: unknown entity ${g.ids[e]!}`);
      if (top >= ent.kind.fields.length) throw new ProtocolError(`changed: entity ${ent.id} (${ent.kind.name}) has no field ${top}`);
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

  /** Records that entity id is in group g now (and no longer in its old one). */
  private place(id: number, g: number): void {
    const was = this.groupOf.get(id);
    if (was === g) return;
    if (was !== undefined) this.unlist(was, id);
    this.groupOf.set(id, g);
    let ids = this.groupIds.get(g);
    if (ids === undefined) {
      ids = [];
      this.groupIds.set(g, ids);
    }
    let i = ids.length;
    while (i > 0 && ids[i - 1]! > id) i--;
    ids.splice(i, 0, id);
  }

  private unlist(g: number, id: number): void {
    const ids = this.groupIds.get(g);
    const i = ids === undefined ? -1 : ids.indexOf(id);
    if (i >= 0) ids!.splice(i, 1);
  }

  private drop(id: number): boolean {
    const g = this.groupOf.get(id);
    if (g !== undefined) this.unlist(g, id);
    this.groupOf.delete(id);
    return this.entities.delete(id);
  }

  /** A group left the view: its entities leave the mirror. */
  private forgetGroup(g: number): void {
    const ids = this.groupIds.get(g);
    if (ids === undefined) return;
    for (const id of ids) {
      if (this.groupOf.get(id) === g) {
        this.groupOf.delete(id);
        if (this.entities.delete(id)) this.leftView.push(id);
      }
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
