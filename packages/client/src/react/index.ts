/**
 * @tickroom/client/react: useRoom, the live state of one room for a React
 * component, and a send function. A thin layer over Connection: it joins
 * when the component mounts (or url or name change) and leaves when it
 * unmounts, and renders again on every change of state or status (once a
 * tick while connected).
 *
 *   const room = useRoom<ArenaRoom>({ url, name: 'ada' });
 *   const coins = room.mirror.ofKind('coin').length;
 *   <button onClick={() => room.send({ dx: 1, dy: 0 })}>right</button>
 */
import { useEffect, useState } from 'react';
import {
  Connection,
  Mirror,
  type AnyRoom,
  type ConnectionOptions,
  type ConnectionStatus,
  type RoomType,
  type Welcome,
} from '@tickroom/client';

/** What useRoom gives a component; a new object after every change. */
export interface RoomView<T extends RoomType = AnyRoom> {
  /** The mirror's tick: -1 before the first snapshot. */
  readonly tick: number;
  readonly status: ConnectionStatus;
  /** The last welcome (member number, own entity, options); null before it. */
  readonly welcome: Welcome | null;
  /** The room's entities, kept up to date in place (Mirror.ofKind types them). */
  readonly mirror: Mirror<T>;
  /** Sends an input; returns its sequence number, -1 when not connected. */
  readonly send: (input: T['input']) => number;
}

const connecting: ConnectionStatus = { state: 'connecting', text: 'connecting…' };

/** Joins the room at opts.url as opts.name for as long as the component is mounted. */
export function useRoom<T extends RoomType = AnyRoom>(opts: ConnectionOptions<T>): RoomView<T> {
  const { url, name } = opts;
  const [view, setView] = useState<RoomView<T>>(() => ({
    tick: -1,
    status: connecting,
    welcome: null,
    mirror: new Mirror<T>(),
    send: () => -1,
  }));
  useEffect(() => {
    const conn: Connection<T> = new Connection<T>({
      ...opts,
      onStatus: (s) => {
        opts.onStatus?.(s);
        update();
      },
    });
    const send = (input: T['input']): number => conn.sendInput(input);
    function update(): void {
      setView({ tick: conn.mirror.tick, status: conn.status, welcome: conn.welcome, mirror: conn.mirror, send });
    }
    const unsubscribe = conn.mirror.subscribe(update);
    conn.start();
    return () => {
      unsubscribe();
      conn.stop();
    };
    // One connection per room and name: other options are read when it starts.
  }, [url, name]);
  return view;
}
