// Shared by the unit tests: hand-encoding server messages and comparing a
// mirror with an expected state.
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import { ServerTag, decodeServerMessage, type Mirror, type DeltaResult } from '@tickroom/client';

export function bytes(value: unknown): Uint8Array {
  return encode(value, { useBigInt64: true });
}

/**
 * Feeds one encoded server message to a mirror the way Connection does.
 * Returns the delta result for deltas, 'applied' for snapshots, 'other' else.
 */
export function feed(mirror: Mirror, data: Uint8Array): DeltaResult | 'other' {
  const msg = decodeServerMessage(data);
  switch (msg.tag) {
    case ServerTag.Welcome:
      mirror.setSchema(msg.welcome.schema);
      return 'other';
    case ServerTag.Snapshot:
      mirror.applySnapshot(msg);
      return 'applied';
    case ServerTag.Delta:
      return mirror.applyDelta(msg);
    case ServerTag.ViewSnapshot:
      mirror.applyViewSnapshot(msg);
      return 'applied';
    case ServerTag.ViewDelta:
      return mirror.applyViewDelta(msg);
    default:
      return 'other';
  }
}

export type Plain = Record<string, Record<string, unknown>>;

/** Asserts the mirror holds exactly `want`; numbers compare within `tol`. */
export function assertMirror(mirror: Mirror, want: Plain, tol = 1e-6, where = ''): void {
  const got = mirror.toPlain();
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${where}: entity ids`);
  for (const [id, fields] of Object.entries(want)) {
    const g = got[id]!;
    assert.deepEqual(Object.keys(g).sort(), Object.keys(fields).sort(), `${where}: entity ${id} field names`);
    for (const [name, w] of Object.entries(fields)) {
      const v = g[name];
      if (typeof w === 'number' && typeof v === 'number') {
        assert.ok(Math.abs(v - w) <= tol, `${where}: entity ${id}.${name} = ${v}, want ${w}`);
      } else {
        assert.equal(v, w, `${where}: entity ${id}.${name}`);
      }
    }
  }
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new Error(`odd hex length ${hex.length}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export { ServerTag };
