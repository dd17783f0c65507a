/**
 * core: the protocol side of the tickroom browser client, with no DOM
 * and no rendering, so the live room page, the replay viewer, the benchmark
 * page and the unit tests all share it.
 *
 * - codec        decodeServerMessage / encodeInput, encodeChat, encodePing,
 *                encodeResync: MessagePack <-> typed messages (PROTOCOL.md).
 * - schema       Schema.parse(welcome.kinds): kinds, fields, draw hints.
 * - entity       Entity: values[] by field index, plus h0/h1 history for
 *                pred 1/2 residuals; get(name) / num(name, fallback).
 * - mirror       Mirror: Map<id, Entity>. applySnapshot / applyDelta apply a
 *                whole message then notify subscribers once. A delta with the
 *                wrong baseTick is refused: applyDelta returns 'resync' once
 *                and 'ignored' until the next snapshot.
 * - connection   Connection: WebSocket join, feeds a Mirror, sends inputs and
 *                chat, pings, reconnects with backoff + resume token, stops on
 *                the close codes that say so, reports status text.
 * - backoff      Backoff: exponential with full jitter (500 ms base, 10 s cap).
 * - interpolation SnapshotBuffer (bounded ring of positions by tick, sampled
 *                a few ticks back, allocation-free per frame), InterpolationClock
 *                (the render tick: a delay adapted to the measured jitter)
 *                and TickClock (a fixed offset).
 * - prediction   ArenaPredictor: own-avatar prediction for `arena` with
 *                replay of unacknowledged inputs and smoothed corrections.
 *
 * Typical use:
 *   const conn = new Connection({ url: `ws://${host}/ws/${id}`, name });
 *   conn.mirror.subscribe((m) => { for (const e of m.entities.values()) ... });
 *   conn.start();
 */
export * from './backoff.js';
export * from './codec.js';
export * from './connection.js';
export * from './entity.js';
export * from './interpolation.js';
export * from './messages.js';
export * from './mirror.js';
export * from './prediction.js';
export * from './room-type.js';
export * from './schema.js';
export * from './api.js';
