/**
 * The 64-bit digest of a row's cells that exact-duplicate detection uses (validation's
 * drop_duplicates, `evaluate --data`'s columnar chunks and its chunks of cells): two 32-bit
 * hashes of the same input, FNV-1a (`hi`) and a multiply-xorshift mix (`lo`), with an end
 * marker after each cell so "a","bc" and "ab","c" differ. Two different rows share a
 * digest with a probability of about 2^-64 each (RowDigestSet holds them).
 *
 *   const h = new RowHasher();
 *   h.begin();
 *   for (const cell of row) { h.text(cell); h.endCell(); }
 *   set.add(h.hi(), h.lo());
 */
export class RowHasher {
  private h1 = 0;
  private h2 = 0;

  /** Start a row. */
  begin(): void {
    this.h1 = 0x811c9dc5;
    this.h2 = 0x9747b28c;
  }

  /** Mix one unit (a byte, a char code or a tag). */
  mix(x: number): void {
    this.h1 = Math.imul(this.h1 ^ x, 0x01000193);
    const h2 = Math.imul(this.h2 ^ x, 0x5bd1e995);
    this.h2 = h2 ^ (h2 >>> 15);
  }

  /** Mix the bytes buf[start, end). */
  bytes(buf: ArrayLike<number>, start: number, end: number): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let p = start; p < end; p++) {
      h1 = Math.imul(h1 ^ buf[p], 0x01000193);
      h2 = Math.imul(h2 ^ buf[p], 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  /** Mix a string's UTF-8 bytes (what `bytes` gives for the same text in a file). */
  text(s: string): void {
    const b = Buffer.from(s);
    this.bytes(b, 0, b.length);
  }

  /** Mix a string's UTF-16 char codes. */
  chars(s: string): void {
    for (let k = 0; k < s.length; k++) this.mix(s.charCodeAt(k));
  }

  /** End a cell. */
  endCell(): void {
    this.h1 = Math.imul(this.h1 ^ 0xff, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ 0xff, 0x5bd1e995);
  }

  /** The row's digest, high word. */
  hi(): number {
    return this.h1 >>> 0;
  }

  /** The row's digest, low word. */
  lo(): number {
    return (this.h2 ^ (this.h2 >>> 13)) >>> 0;
  }
}
