// Colour conversions. The instance buffer carries 0xRRGGBB as a float; the
// GPU shaders unpack it themselves, the 2D canvas needs CSS strings.

/** Past this many distinct colours the cache is dropped, so it stays bounded. */
const MAX_CACHED_COLORS = 4096;

/**
 * Caches '#rrggbb' strings per colour so the per-instance and per-label loops
 * allocate a string only the first time a colour is seen.
 */
export class CssColorCache {
  private readonly strings = new Map<number, string>();

  get(rgb: number): string {
    let s = this.strings.get(rgb);
    if (s === undefined) {
      if (this.strings.size >= MAX_CACHED_COLORS) this.strings.clear();
      s = '#' + ((rgb & 0xffffff) | 0x1000000).toString(16).slice(1);
      this.strings.set(rgb, s);
    }
    return s;
  }
}

/** Channel c (16 = red, 8 = green, 0 = blue) of 0xRRGGBB as 0..1. */
export function channel(rgb: number, shift: number): number {
  return ((rgb >> shift) & 0xff) / 255;
}
