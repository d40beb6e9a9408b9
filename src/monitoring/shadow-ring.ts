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
 * The answers go back the same way: the challenger's thread adds each batch's counts to
 * the tally in the ring's control block (`addTally`: listings done, priced, failed, rows
 * stored and not, batches), and the serving thread reads it when it wants to know (one
 * Atomics.load per request for the queue's bound; the rest on its watchdog's tick), so a
 * batch wakes nothing on the serving thread either.
 *
 * Layout: 64 bytes of control (int32 write position, int32 read position, both counting
 * bytes since the ring was made, modulo 2^32; then the tally, int32 counters modulo 2^32),
 * then `capacity` bytes (a power of two), which records wrap around. A record: u32 length
 * (all of it), f64 time, u32 listings, u8 route length, u8 request-id length, u8 padding
 * length, u8 shape (what the JSON holds: 0 the array of listings, 1 the one listing, 2 a
 * batch body, an object whose `listings` is the array), then the route, the request id and
 * the JSON (UTF-8: the request's body as it came in), padded to 4 bytes. The positions and
 * counters are read and written with Atomics (sequentially consistent), so a record's bytes
 * are visible to the reader once it sees the position that covers them.
 */

import type { JsonShape } from './prediction-record.js';

const HEADER = 20;
const CONTROL = 64;
const W = 0;
const R = 1;
/** The tally's counters (int32 slots of the control block). */
const TALLY = { listings: 2, ok: 3, failed: 4, logged: 5, notLogged: 6, batches: 7 } as const;

const SHAPE_CODE: Record<JsonShape, number> = { array: 0, listing: 1, batch: 2 };
const SHAPES: readonly JsonShape[] = ['array', 'listing', 'batch'];

/** The challenger's cumulative counts since the ring was made (each modulo 2^32). */
export interface Tally {
  /** Listings taken and answered for (as the serving thread counted them). */
  listings: number;
  ok: number;
  failed: number;
  logged: number;
  notLogged: number;
  batches: number;
}

/**
 * The challenger's side: add one batch's counts to the ring's tally. The counts go first,
 * then `batches`, then `listings`: a reader that sees a batch counted sees its counts, and
 * one that sees its listings answered for (nothing pending) sees the batch.
 */
export function addTally(ring: SharedArrayBuffer, c: Omit<Tally, 'batches'>): void {
  const ctl = new Int32Array(ring, 0, CONTROL / 4);
  Atomics.add(ctl, TALLY.ok, c.ok | 0);
  Atomics.add(ctl, TALLY.failed, c.failed | 0);
  Atomics.add(ctl, TALLY.logged, c.logged | 0);
  Atomics.add(ctl, TALLY.notLogged, c.notLogged | 0);
  Atomics.add(ctl, TALLY.batches, 1);
  Atomics.add(ctl, TALLY.listings, c.listings | 0);
}

/** The serving thread's side: the tally as it stands. */
export function readTally(ctl: Int32Array): Tally {
  return {
    batches: Atomics.load(ctl, TALLY.batches) >>> 0,
    listings: Atomics.load(ctl, TALLY.listings) >>> 0,
    ok: Atomics.load(ctl, TALLY.ok) >>> 0,
    failed: Atomics.load(ctl, TALLY.failed) >>> 0,
    logged: Atomics.load(ctl, TALLY.logged) >>> 0,
    notLogged: Atomics.load(ctl, TALLY.notLogged) >>> 0,
  };
}

/** One request as the challenger's thread reads it back. */
export interface RingItem {
  requestId: string;
  route: string;
  /** When the champion priced it (ms since the epoch). */
  ts: number;
  /** Listings in the request (as counted by the serving thread). */
  listings: number;
  /** The request's JSON text, holding the listings as `shape` says. */
  json: string;
  shape: JsonShape;
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
  /** The control block (positions and the challenger's tally: `readTally`, `done`). */
  readonly ctl: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;
  private scratch = new Uint8Array(4096);
  private view = new DataView(this.scratch.buffer);

  constructor(readonly ring: SharedArrayBuffer) {
    this.ctl = new Int32Array(ring, 0, CONTROL / 4);
    this.data = new Uint8Array(ring, CONTROL);
    this.mask = this.data.length - 1;
  }

  /** Listings the challenger has answered for so far (modulo 2^32; one atomic load). */
  done(): number {
    return Atomics.load(this.ctl, TALLY.listings) >>> 0;
  }

  /** Bytes written and not yet read. */
  get used(): number {
    return (Atomics.load(this.ctl, W) - Atomics.load(this.ctl, R)) >>> 0;
  }

  /**
   * Append one request (`json` holding its listings as `shape` says); false (nothing
   * written) when the ring has no room for it or the route or request id is over 255 bytes.
   */
  append(
    requestId: string,
    route: string,
    ts: number,
    listings: number,
    json: string,
    shape: JsonShape = 'array',
  ): boolean {
    if (route.length > 255 || requestId.length > 255) return false;
    // worst case 3 bytes per UTF-16 unit; ids and routes are ASCII (checked below)
    const most = HEADER + route.length + requestId.length + json.length * 3 + 3;
    if (most > this.scratch.length) {
      if (most > this.data.length) return this.appendLarge(requestId, route, ts, listings, json, shape);
      this.grow(most);
    }
    const s = this.scratch;
    let at = HEADER;
    for (let i = 0; i < route.length; i++) s[at++] = route.charCodeAt(i) & 0x7f;
    for (let i = 0; i < requestId.length; i++) s[at++] = requestId.charCodeAt(i) & 0x7f;
    at += encoder.encodeInto(json, s.subarray(at)).written;
    return this.commit(at, ts, listings, route.length, requestId.length, SHAPE_CODE[shape]);
  }

  /** A request larger than the scratch buffer may be: encoded on its own. */
  private appendLarge(
    requestId: string,
    route: string,
    ts: number,
    listings: number,
    json: string,
    shape: JsonShape,
  ): boolean {
    const bytes = encoder.encode(json);
    const size = HEADER + route.length + requestId.length + bytes.length;
    if (size + 3 > this.data.length) return false;
    this.grow(size + 3);
    const s = this.scratch;
    let at = HEADER;
    for (let i = 0; i < route.length; i++) s[at++] = route.charCodeAt(i) & 0x7f;
    for (let i = 0; i < requestId.length; i++) s[at++] = requestId.charCodeAt(i) & 0x7f;
    s.set(bytes, at);
    return this.commit(at + bytes.length, ts, listings, route.length, requestId.length, SHAPE_CODE[shape]);
  }

  private grow(n: number): void {
    let size = this.scratch.length;
    while (size < n) size *= 2;
    this.scratch = new Uint8Array(size);
    this.view = new DataView(this.scratch.buffer);
  }

  private commit(end: number, ts: number, listings: number, routeLen: number, idLen: number, shape: number): boolean {
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
    v.setUint8(19, shape);
    for (let i = end; i < size; i++) this.scratch[i] = 0;
    const at = w & this.mask;
    const first = Math.min(size, this.data.length - at);
    this.data.set(this.scratch.subarray(0, first), at);
    if (first < size) this.data.set(this.scratch.subarray(first, size), 0);
    Atomics.store(this.ctl, W, (w + size) | 0);
    return true;
  }
}

/**
 * The records in `bytes` (whole records in the ring's format, as `takeBytes` hands them
 * over: the child process's end of the pipe), and how many bytes they took; a record cut
 * short at the end is left (`used` stops before it).
 */
export function decodeRecords(bytes: Uint8Array, decoder = new TextDecoder()): { items: RingItem[]; used: number } {
  const items: RingItem[] = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + HEADER <= bytes.length) {
    const size = v.getUint32(at, true);
    if (size < HEADER || at + size > bytes.length) break;
    const routeLen = v.getUint8(at + 16);
    const idLen = v.getUint8(at + 17);
    const end = at + size - v.getUint8(at + 18);
    const text = (a: number, b: number) => decoder.decode(bytes.subarray(at + a, at + b));
    items.push({
      ts: v.getFloat64(at + 4, true),
      listings: v.getUint32(at + 12, true),
      route: text(HEADER, HEADER + routeLen),
      requestId: text(HEADER + routeLen, HEADER + routeLen + idLen),
      json: decoder.decode(bytes.subarray(at + HEADER + routeLen + idLen, end)),
      shape: SHAPES[v.getUint8(at + 19)] ?? 'array',
    });
    at += size;
  }
  return { items, used: at };
}

/** The challenger thread's end: take the records appended so far. */
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

  /** The records appended since the last call (about `maxBytes` of them at most), oldest first. */
  take(maxBytes = Infinity): RingItem[] {
    const bytes = this.takeBytes(maxBytes);
    return bytes ? decodeRecords(bytes, this.decoder).items : [];
  }

  /**
   * The bytes of the whole records appended since the last call, copied out of the ring
   * (records are taken while under `maxBytes`, at least one), or null when there are none.
   */
  takeBytes(maxBytes = Infinity): Uint8Array | null {
    const w = Atomics.load(this.ctl, W) >>> 0;
    const r = Atomics.load(this.ctl, R) >>> 0;
    if (r === w) return null;
    // the records' sizes, from their headers, up to the limit
    let n = 0;
    let at = r;
    while (at !== w && (n === 0 || n < maxBytes)) {
      const size = this.u32(at);
      if (n > 0 && n + size > maxBytes) break;
      n += size;
      at = (at + size) >>> 0;
    }
    const out = new Uint8Array(n);
    const from = r & this.mask;
    const first = Math.min(n, this.data.length - from);
    out.set(this.data.subarray(from, from + first));
    if (first < n) out.set(this.data.subarray(0, n - first), first);
    Atomics.store(this.ctl, R, at | 0);
    return out;
  }

  /** The little-endian u32 at ring position `pos` (records are 4-byte aligned: it never wraps). */
  private u32(pos: number): number {
    const at = pos & this.mask;
    const d = this.data;
    return (d[at] | (d[at + 1] << 8) | (d[at + 2] << 16) | (d[at + 3] << 24)) >>> 0;
  }
}
