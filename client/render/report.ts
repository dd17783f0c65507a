// How renderers tell the page about trouble. Every message is logged and, if
// the page asked for it, passed to onStatus: nothing is dropped silently.

export type Report = (message: string) => void;

export function reporter(onStatus: ((message: string) => void) | undefined): Report {
  return (message) => {
    console.warn(`render: ${message}`);
    onStatus?.(message);
  };
}

/**
 * Reports a problem that can repeat every frame (e.g. a data shortfall) once
 * per kind, so it stays visible without flooding the page.
 */
export class OnceReporter {
  private readonly seen = new Set<string>();
  constructor(private readonly report: Report) {}

  once(kind: string, message: string): void {
    if (this.seen.has(kind)) return;
    this.seen.add(kind);
    this.report(message);
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
