// The playback clock of a replay: a fractional tick position that advances at
// tickRate * speed while playing. It knows nothing of tapes; the Replay turns
// its position into the mirror's tick.

/** The speeds the replay offers, slowest first. */
export const SPEEDS: readonly number[] = [0.25, 0.5, 1, 2, 4, 8];

export class PlaybackClock {
  /** Fractional tick. */
  position: number;
  playing = false;
  private rate = 1;

  constructor(
    private readonly tickRate: number,
    readonly first: number,
    public last: number,
  ) {
    this.position = first;
  }

  get speed(): number {
    return this.rate;
  }

  /** Clamped to 0.25x..8x. */
  setSpeed(speed: number): void {
    this.rate = Math.min(SPEEDS[SPEEDS.length - 1]!, Math.max(SPEEDS[0]!, Number.isFinite(speed) ? speed : 1));
  }

  /** Moves the position (clamped to the recording). */
  set(tick: number): void {
    this.position = Math.min(this.last, Math.max(this.first, tick));
  }

  /**
   * Advances by a frame's wall-clock time. Reaching the end pauses there.
   * Returns the tick to show: the position rounded down.
   */
  advance(dtMs: number): number {
    if (this.playing && dtMs > 0) {
      this.position += (dtMs * this.tickRate * this.rate) / 1000;
      if (this.position >= this.last) {
        this.position = this.last;
        this.playing = false;
      }
    }
    return Math.floor(this.position);
  }
}
