// The arena's rounds on the page: the round number and the time left, and
// between rounds who won. Where a round stands is a function of the tick
// and the room's options (rooms/arena/rounds.go: round k, from 0, plays
// ticks k*P+1 .. k*P+R and breaks until (k+1)*P), so the page needs no
// message for it and a page that joins mid-round shows the same as the
// others. The winner comes from the server's round_over event, or (for a
// page that joined during the break) from the scores, which the break
// freezes: the one highest score above 0, a tie being a draw.
import type { Mirror } from '@tickroom/client';
import { h } from './dom';

/** The timer turns to a warning colour for a round's last this many seconds. */
const ENDING_SECONDS = 10;

/** The rounds of a room, in ticks; play 0: no rounds. */
export interface RoundTiming {
  play: number;
  period: number;
}

/** Rounds from a welcome's options (round and break in seconds); null when the room has none. */
export function roundTiming(options: Readonly<Record<string, unknown>>, tickRate: number): RoundTiming | null {
  const round = options.round;
  const pause = options.break;
  if (typeof round !== 'number' || round <= 0 || typeof pause !== 'number' || !(tickRate > 0)) return null;
  return { play: round * tickRate, period: (round + pause) * tickRate };
}

/** Where tick stands: the round (from 1), whether it is play or the break after it, and the ticks of that phase left after this one. */
export function roundAt(t: RoundTiming, tick: number): { round: number; left: number; playing: boolean } {
  if (tick < 1) return { round: 1, left: t.play, playing: true };
  const k = Math.floor((tick - 1) / t.period);
  const o = (tick - 1) % t.period;
  if (o < t.play) return { round: k + 1, left: t.play - 1 - o, playing: true };
  return { round: k + 1, left: t.period - 1 - o, playing: false };
}

/** m:ss */
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** What the round_over event says (rooms.gen.ts ArenaRoom event). */
export interface RoundOver {
  round: number;
  winner: number;
  name: string;
  score: number;
}

export class RoundPanel {
  readonly element: HTMLElement;
  readonly banner: HTMLElement;
  private readonly number: HTMLElement;
  private readonly timer: HTMLElement;
  private readonly unsubscribe: () => void;
  private timing: RoundTiming | null = null;
  private tickRate = 20;
  private over: RoundOver | null = null;
  /** The texts shown, so that a tick that changes none touches no DOM. */
  private shown = '';

  constructor(private readonly mirror: Mirror) {
    this.number = h('span', { id: 'round-number' });
    this.timer = h('span', { id: 'round-timer', 'aria-live': 'off' });
    this.element = h('div', { id: 'round', class: 'round-hud', hidden: true }, this.number, this.timer);
    this.banner = h('div', { id: 'round-winner', role: 'status', hidden: true });
    this.unsubscribe = mirror.subscribe(() => this.render());
  }

  /** The room's rounds (from the welcome); null hides the panel. */
  setTiming(timing: RoundTiming | null, tickRate: number): void {
    this.timing = timing;
    this.tickRate = tickRate;
    this.shown = '';
    this.render();
  }

  /** The server's word on a round that ended. */
  roundOver(over: RoundOver): void {
    this.over = over;
    this.shown = '';
    this.render();
  }

  destroy(): void {
    this.unsubscribe();
  }

  private render(): void {
    const t = this.timing;
    if (t === null || this.mirror.tick < 0) {
      this.element.hidden = true;
      this.banner.hidden = true;
      return;
    }
    const r = roundAt(t, this.mirror.tick);
    const number = `Round ${r.round}`;
    const timer = r.playing ? clockText(r.left / this.tickRate) : `next round in ${clockText(r.left / this.tickRate)}`;
    const banner = r.playing ? '' : this.winnerText(r.round);
    // The last seconds of a round stand out.
    const ending = r.playing && r.left < ENDING_SECONDS * this.tickRate;
    const key = `${number}|${timer}|${banner}|${ending}`;
    if (key === this.shown) return;
    this.shown = key;
    this.element.hidden = false;
    this.element.dataset.phase = r.playing ? 'play' : 'break';
    this.element.classList.toggle('ending', ending);
    this.number.textContent = number;
    this.timer.textContent = timer;
    this.banner.textContent = banner;
    this.banner.hidden = banner === '';
  }

  private winnerText(round: number): string {
    const o = this.over;
    if (o !== null && o.round === round) {
      if (o.winner !== 0) return `${o.name} wins round ${round}!`;
      return o.score > 0 ? `Round ${round} is a draw` : `Round ${round}: nobody scored`;
    }
    // Joined during the break: the frozen scores say the same.
    let top = 0;
    let name = '';
    let draw = false;
    for (const e of this.mirror.entities.values()) {
      if (!e.kind.byName.has('score') || !e.kind.byName.has('name')) continue;
      const s = e.num('score', 0);
      if (s > top) {
        top = s;
        name = e.str('name', `#${e.id}`);
        draw = false;
      } else if (s === top && s > 0) draw = true;
    }
    if (top === 0) return `Round ${round}: nobody scored`;
    return draw ? `Round ${round} is a draw` : `${name} wins round ${round}!`;
  }
}
