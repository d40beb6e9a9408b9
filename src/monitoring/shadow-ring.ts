/**
 * How priced requests reach the shadow challenger's thread: a single-producer,
 * single-consumer ring of bytes in a SharedArrayBuffer. The serving thread appends one
 * record per request (its id, route, time and the listings as the JSON text it received)
 * and moves the write position; the challenger's thread looks at the ring on a timer of its
 * own and moves the read position. Nothing else passes between them per request: no
 * message, no structured clone, no timer and no wake-up of the other thread on the serving
 * thread's side (a postMessage per batch cost the serving thread a system call and, on a
 * busy machine, its core to the thread it woke).
 *
 * Layout: 16 bytes of control (int32 write position, int32 read position, both counting
 * bytes since the ring was made, modulo 2^32), then `capacity` bytes (a power of two), which
 * records wrap around. A record: u32 length (all of it), f64 time, u32 listings, u8 route
 * length, u8 request-id length, u8 padding length, u8 0, then the route, the request id
 * and the JSON (UTF-8), padded to 4 bytes. The positions are read and written with Atomics (sequentially
 * consistent), so a record's bytes are visible to the reader once it sees the position that
 * covers them.
 */

const HEADER = 20;
const CONTROL = 16;
const W = 0;
const R = 1;

/** One request as the challenger's thread reads it back. */
export interface RingItem {
  requestId: string;
  route: string;
  /** When the champion priced it (ms since the epoch). */
  ts: number;
  /** Listings in the request (as counted by the serving thread). */
  listings: number;
  /** The listings, a JSON array. */
  json: string;
}

/** A ring of `capacity` bytes (rounded up to a power of two, at least 64 KiB). */
export function createShadowRing(capacity: number): SharedArrayBuffer {
  let cap = 1 << 16;
  while (cap < capacity && cap < 1 << 30) cap *= 2;
  return new SharedArrayBuffer(CONTROL + cap);
}

const encoder = new TextEncoder();

/** The serving thread's end: append records; never blocks. */
export class ShadowRingWriter {
  private readonly ctl: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;
  private scratch = new Uint8Array(4096);
  private view = new DataView(this.scratch.buffer);

  constructor(readonly ring: SharedArrayBuffer) {
    this.ctl = new Int32Array(ring, 0, CONTROL / 4);
    this.data = new Uint8Array(ring, CONTROL);
    this.mask = this.data.length - 1;
  }

  /** Bytes written and not yet read. */
  get used(): number {
    return (Atomics.load(this.ctl, W) - Atomics.load(this.ctl, R)) >>> 0;
  }

  /**
   * Append one request; false (nothing written) when the ring has no room for it or the
   * route or request id is over 255 bytes.
   */
  append(requestId: string, route: string, ts: number, listings: number, json: string): boolean {
    if (route.length > 255 || requestId.length > 255) return false;
    // worst case 3 bytes per UTF-16 unit; ids and routes are ASCII (checked below)
    const most = HEADER + route.length + requestId.length + json.length * 3 + 3;
    if (most > this.scratch.length) {
      if (most > this.data.length) return this.appendLarge(requestId, route, ts, listings, json);
      this.grow(most);
    }
    const s = this.scratch;
    let at = HEADER;
    for (let i = 0; i < route.length; i++) s[at++] = route.charCodeAt(i) & 0x7f;
    for (let i = 0; i < requestId.length; i++) s[at++] = requestId.charCodeAt(i) & 0x7f;
    at += encoder.encodeInto(json, s.subarray(at)).written;
    return this.commit(at, ts, listings, route.length, requestId.length);
  }

  /** A request larger than the scratch buffer may be: encoded on its own. */
  private appendLarge(requestId: string, route: string, ts: number, listings: number, json: string): boolean {
    const bytes = encoder.encode(json);
    const size = HEADER + route.length + requestId.length + bytes.length;
    if (size + 3 > this.data.length) return false;
    this.grow(size + 3);
    const s = this.scratch;
    let at = HEADER;
    for (let i = 0; i < route.length; i++) s[at++] = route.charCodeAt(i) & 0x7f;
    for (let i = 0; i < requestId.length; i++) s[at++] = requestId.charCodeAt(i) & 0x7f;
    s.set(bytes, at);
    return this.commit(at + bytes.length, ts, listings, route.length, requestId.length);
  }

  private grow(n: number): void {
    let size = this.scratch.length;
    while (size < n) size *= 2;
    this.scratch = new Uint8Array(size);
    this.view = new DataView(this.scratch.buffer);
  }

  private commit(end: number, ts: number, listings: number, routeLen: number, idLen: number): boolean {
    const size = (end + 3) & ~3;
    const w = Atomics.load(this.ctl, W) >>> 0;
    const r = Atomics.load(this.ctl, R) >>> 0;
    if (size > this.data.length - ((w - r) >>> 0)) return false;
    const v = this.view;
    v.setUint32(0, size, true);
    v.setFloat64(4, ts, true);
    v.setUint32(12, listings, true);
    v.setUint8(16, routeLen);
    v.setUint8(17, idLen);
    v.setUint8(18, size - end);
    v.setUint8(19, 0);
    for (let i = end; i < size; i++) this.scratch[i] = 0;
    const at = w & this.mask;
    const first = Math.min(size, this.data.length - at);
    this.data.set(this.scratch.subarray(0, first), at);
    if (first < size) this.data.set(this.scratch.subarray(first, size), 0);
    Atomics.store(this.ctl, W, (w + size) | 0);
    return true;
  }
}

/** The challenger thread's end: take every record appended so far. */
export class ShadowRingReader {
  private readonly ctl: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;
  private readonly decoder = new TextDecoder();

  constructor(ring: SharedArrayBuffer) {
    this.ctl = new Int32Array(ring, 0, CONTROL / 4);
    this.data = new Uint8Array(ring, CONTROL);
    this.mask = this.data.length - 1;
  }

  /** The records appended since the last call (at most `maxBytes` of them), oldest first. */
  take(maxBytes = Infinity): RingItem[] {
    const w = Atomics.load(this.ctl, W) >>> 0;
    let r = Atomics.load(this.ctl, R) >>> 0;
    const out: RingItem[] = [];
    let taken = 0;
    while (r !== w && taken < maxBytes) {
      const head = this.copy(r, HEADER);
      const v = new DataView(head.buffer);
      const size = v.getUint32(0, true);
      const body = this.copy(r, size);
      const routeLen = v.getUint8(16);
      const idLen = v.getUint8(17);
      const end = size - v.getUint8(18);
      const text = (a: number, b: number) => this.decoder.decode(body.subarray(a, b));
      out.push({
        ts: v.getFloat64(4, true),
        listings: v.getUint32(12, true),
        route: text(HEADER, HEADER + routeLen),
        requestId: text(HEADER + routeLen, HEADER + routeLen + idLen),
        json: text(HEADER + routeLen + idLen, end),
      });
      r = (r + size) >>> 0;
      taken += size;
    }
    Atomics.store(this.ctl, R, r | 0);
    return out;
  }

  /** `n` bytes from position `pos` into a buffer of their own (the ring may wrap in them). */
  private copy(pos: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    const at = pos & this.mask;
    const first = Math.min(n, this.data.length - at);
    out.set(this.data.subarray(at, at + first));
    if (first < n) out.set(this.data.subarray(0, n - first), first);
    return out;
  }
}
