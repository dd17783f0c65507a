// Reconnect delays: exponential backoff with "full jitter" (a uniformly random
// delay between 0 and the exponential ceiling), so that clients dropped
// together by a server restart do not all come back in the same instant.

export interface BackoffOptions {
  /** Ceiling of the first attempt, ms. Default 500. */
  baseMs?: number;
  /** Largest ceiling, ms. Default 10 000. */
  capMs?: number;
  /** Uniform [0, 1) source; injectable for tests. Default Math.random. */
  random?: () => number;
}

/** The ceiling for attempt n (0-based): min(cap, base * 2^n). Non-decreasing in n. */
export function backoffCeiling(attempt: number, baseMs = 500, capMs = 10_000): number {
  // 2^n overflows to Infinity for big n, which min() turns into the cap.
  return Math.min(capMs, baseMs * Math.pow(2, Math.max(0, attempt)));
}

export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 500;
    this.capMs = opts.capMs ?? 10_000;
    this.random = opts.random ?? Math.random;
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt, in [0, ceiling(attempt)); advances the attempt count. */
  next(): number {
    const ceiling = backoffCeiling(this.attempt++, this.baseMs, this.capMs);
    return Math.floor(this.random() * ceiling);
  }

  /** After a connection that worked: start again from the base delay. */
  reset(): void {
    this.attempt = 0;
  }
}
