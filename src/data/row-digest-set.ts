/**
 * A set of 64-bit row hashes (open addressing over two Uint32Arrays, at most half full):
 * 16-32 bytes per distinct row. Two different rows share a hash with a probability of about
 * n^2 / 2^65 (1e-8 for 18 million rows).
 */
export class RowDigestSet {
  private hi = new Uint32Array(1 << 12);
  private lo = new Uint32Array(1 << 12);
  private used = new Uint8Array(1 << 12);
  size = 0;

  /** Add a hash; false when it was already there (a duplicate). */
  add(h1: number, h2: number): boolean {
    if ((this.size + 1) * 2 > this.used.length) this.grow();
    const mask = this.used.length - 1;
    let at = (h1 ^ Math.imul(h2, 0x27d4eb2d)) & mask;
    while (this.used[at]) {
      if (this.hi[at] === h1 && this.lo[at] === h2) return false;
      at = (at + 1) & mask;
    }
    this.used[at] = 1;
    this.hi[at] = h1;
    this.lo[at] = h2;
    this.size++;
    return true;
  }

  private grow(): void {
    const { hi, lo, used } = this;
    const cap = used.length * 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.used = new Uint8Array(cap);
    this.size = 0;
    for (let i = 0; i < used.length; i++) if (used[i]) this.add(hi[i], lo[i]);
  }
}
