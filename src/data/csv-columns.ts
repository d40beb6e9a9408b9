/**
 * Columnar CSV reading: a local CSV file read as bytes, cut into chunks of whole records and
 * parsed straight into columns, without a string or an array per row.
 *
 * The rules are readCsvChunks's (RFC 4180 quoting, a BOM, CRLF, LF or CR line ends, blank
 * lines skipped, every record as wide as the header, 1-based line numbers in messages, the
 * same errors); only the representation differs. A chunk (CsvColumnChunk) keeps the bytes
 * of its records and the start and end of every field, and gives each column in the form
 * the caller wants:
 *
 *   chunk.numbers(j)   Float64Array, the validator's number rules (missing -> NaN): plain
 *                      decimals are converted from the bytes (exactly, as Number() would),
 *                      anything else through Number() on the trimmed text without commas
 *   chunk.codes(j)     Int32Array of dictionary codes (-1 = missing), one code per distinct
 *                      trimmed value; the dictionary (`parser.dictionary(j)`) is the
 *                      parser's, shared by all its chunks and only ever appended to
 *   chunk.strings(j)   the same as interned strings (null = missing): equal values are the
 *                      same string object, so Map lookups on them hash once
 *   chunk.cell(i, j)   the raw cell as readCsvChunks gives it ('' -> null), for messages
 *
 * Usage (the train side reads the same way):
 *
 *   for await (const chunk of readCsvColumnChunks('listings.csv')) {
 *     const km = chunk.numbers(chunk.columns.indexOf('odometer'));
 *     const make = chunk.codes(chunk.columns.indexOf('make')); // chunk.parser.dictionary(j)[code]
 *     ... chunk.rowNumbers[i] is the file line of row i
 *   }
 *
 * Memory: a chunk is its bytes (chunkBytes, 256 KiB by default) plus 9 bytes per field; a
 * dictionary holds each distinct value of the columns asked for as codes, once.
 * Worker threads parse slices cut by `RecordCutter` with their own `CsvColumnParser`.
 */
import { open } from 'node:fs/promises';
import { AppError } from '../core/errors.js';
import { parseCsvRecords } from './csv-stream.js';
import { RowHasher } from './row-hash.js';

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const MINUS = 0x2d;

/** 10^k, exact for k <= 22. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** The validator's number rule for a raw cell: trimmed, commas dropped, Number(); missing -> NaN. */
export function cellNumber(v: string | null): number {
  if (v === null) return NaN;
  const s = v.trim().replace(/,/g, '');
  return s === '' ? NaN : Number(s);
}

/** Fields of the records of one chunk: starts, ends and whether a field is quoted. */
interface Fields {
  n: number;
  starts: Int32Array;
  ends: Int32Array;
  quoted: Uint8Array;
  lines: Int32Array;
}

/** Undo RFC 4180 quoting of a field that starts with a quote (as RecordParser reads it). */
function unquote(raw: string): string {
  let out = '';
  let inQ = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inQ) {
      if (c === '"') {
        if (raw[i + 1] === '"') {
          out += '"';
          i++;
        } else inQ = false;
      } else out += c;
    } else if (c === '"') inQ = true;
    else out += c;
  }
  return out;
}

/** Raw bytes -> dictionary code, for one column (values trimmed; '' is missing). */
class Interner {
  readonly values: string[] = [];
  private readonly byValue = new Map<string, number>();
  private table = new Int32Array(1 << 10).fill(-1);
  private keyOff = new Int32Array(256);
  private keyLen = new Int32Array(256);
  private keyCode = new Int32Array(256);
  private pool = new Uint8Array(1 << 12);
  private poolUsed = 0;
  private entries = 0;

  /** The code of a value given as text (already unquoted), -1 when missing. */
  codeOfText(raw: string): number {
    const s = raw.trim();
    if (s === '') return -1;
    let c = this.byValue.get(s);
    if (c === undefined) {
      c = this.values.length;
      this.values.push(s);
      this.byValue.set(s, c);
    }
    return c;
  }

  /** The code of the unquoted field buf[s, e) (s < e). */
  code(buf: Buffer, s: number, e: number): number {
    let h = 0x811c9dc5;
    for (let p = s; p < e; p++) h = Math.imul(h ^ buf[p], 0x01000193);
    const mask = this.table.length - 1;
    let at = (h ^ (h >>> 15)) & mask;
    const len = e - s;
    for (;;) {
      const k = this.table[at];
      if (k < 0) break;
      if (this.keyLen[k] === len) {
        const o = this.keyOff[k];
        let p = 0;
        while (p < len && this.pool[o + p] === buf[s + p]) p++;
        if (p === len) return this.keyCode[k];
      }
      at = (at + 1) & mask;
    }
    const code = this.codeOfText(buf.toString('utf8', s, e));
    // a column of ever-new values (an id, free text) stops being cached by bytes
    if (this.entries < MAX_BYTE_KEYS) this.add(at, buf, s, e, code);
    return code;
  }

  private add(at: number, buf: Buffer, s: number, e: number, code: number): void {
    const len = e - s;
    const k = this.entries++;
    if (k === this.keyOff.length) {
      const grow = <T extends Int32Array>(a: T) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.keyOff = grow(this.keyOff);
      this.keyLen = grow(this.keyLen);
      this.keyCode = grow(this.keyCode);
    }
    if (this.poolUsed + len > this.pool.length) {
      const p = new Uint8Array(Math.max(this.pool.length * 2, this.poolUsed + len));
      p.set(this.pool);
      this.pool = p;
    }
    this.pool.set(buf.subarray(s, e), this.poolUsed);
    this.keyOff[k] = this.poolUsed;
    this.keyLen[k] = len;
    this.keyCode[k] = code;
    this.poolUsed += len;
    this.table[at] = k;
    if (this.entries * 2 > this.table.length) this.rehash();
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2).fill(-1);
    const mask = table.length - 1;
    for (let k = 0; k < this.entries; k++) {
      let h = 0x811c9dc5;
      const o = this.keyOff[k];
      for (let p = 0; p < this.keyLen[k]; p++) h = Math.imul(h ^ this.pool[o + p], 0x01000193);
      let at = (h ^ (h >>> 15)) & mask;
      while (table[at] >= 0) at = (at + 1) & mask;
      table[at] = k;
    }
    this.table = table;
  }
}

/** Distinct raw byte strings cached per column (beyond: looked up by text). */
const MAX_BYTE_KEYS = 1 << 18;

/**
 * Parses chunks of whole records of one CSV file (all with the header `columns`) into
 * CsvColumnChunks; keeps the dictionaries of the categorical columns across chunks.
 */
export class CsvColumnParser {
  private readonly interners: (Interner | undefined)[] = [];

  constructor(
    /** File name for messages. */
    readonly source: string,
    /** The header (trimmed names). */
    readonly columns: readonly string[],
    readonly maxRecordChars = 1 << 20,
  ) {}

  /** The values of column j's codes, in code order (grows as new values are read). */
  dictionary(j: number): readonly string[] {
    return this.interner(j).values;
  }

  /** @internal */
  interner(j: number): Interner {
    return (this.interners[j] ??= new Interner());
  }

  /**
   * Parse `bytes`, whole records only (a slice cut after a line end outside quotes, or the
   * rest of the file), starting at file line `firstLine`. Errors are readCsvChunks's, with
   * their lines: a record wider or narrower than the header, a quote inside an unquoted
   * field, a quoted field never closed, a record longer than maxRecordChars.
   */
  parse(bytes: Uint8Array, firstLine: number): CsvColumnChunk {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new CsvColumnChunk(this, buf, scan(buf, firstLine, this.columns.length, this.source, this.maxRecordChars));
  }
}

function fail(source: string, line: number, what: string, details?: Record<string, unknown>): never {
  throw new AppError('DATA_INVALID', `${source}:${line}: ${what}`, details ? { details } : undefined);
}

/**
 * Field boundaries of the whole records in buf (see CsvColumnParser.parse). Each loop is a
 * function of its own: V8 optimises a loop while it runs (on-stack replacement) and would
 * otherwise leave that code again at the loop's end, where the code after it has not run.
 */
function scan(buf: Buffer, firstLine: number, width: number, source: string, maxRecord: number): Fields {
  const cap = lineEnds(buf) + 64;
  const f: Fields = {
    n: 0,
    starts: new Int32Array(cap * width),
    ends: new Int32Array(cap * width),
    quoted: new Uint8Array(cap * width),
    lines: new Int32Array(cap),
  };
  const n = scanRecords(buf, firstLine, width, source, maxRecord, f);
  f.n = n;
  f.lines = f.lines.subarray(0, n);
  return f;
}

/** The LF bytes in buf. */
function lineEnds(buf: Buffer): number {
  let k = 0;
  for (let p = buf.indexOf(LF); p >= 0; p = buf.indexOf(LF, p + 1)) k++;
  return k;
}

/** scan's records into f (its arrays replaced when they are outgrown); returns how many. */
function scanRecords(buf: Buffer, firstLine: number, width: number, source: string, maxRecord: number, f0: Fields): number {
  const to = buf.length;
  let cap = f0.lines.length;
  let { starts, ends, quoted, lines } = f0;
  let i = 0;
  let line = firstLine;
  let n = 0;
  while (i < to) {
    const recStart = i;
    const recLine = line;
    if (n === cap) {
      // lone CR line ends: more records than LFs
      cap *= 2;
      const grow = (a: Int32Array, k: number) => {
        const b = new Int32Array(cap * k);
        b.set(a);
        return b;
      };
      f0.starts = starts = grow(starts, width);
      f0.ends = ends = grow(ends, width);
      f0.lines = lines = grow(lines, 1);
      const q = new Uint8Array(cap * width);
      q.set(quoted);
      f0.quoted = quoted = q;
    }
    const base = n * width;
    let f = 0;
    let firstEmpty = false;
    for (;;) {
      const fs = i;
      let q = 0;
      if (i < to && buf[i] === QUOTE) {
        q = 1;
        let inQ = true;
        for (i++; i < to; i++) {
          const c = buf[i];
          if (c === QUOTE) inQ = !inQ;
          else if (inQ) {
            if (c === LF) line++;
          } else if (c === COMMA || c === LF || c === CR) break;
        }
        if (inQ) fail(source, recLine, 'a quoted field is never closed; add the closing quote (")');
      } else {
        for (; i < to; i++) {
          const c = buf[i];
          if (c === COMMA || c === LF || c === CR) break;
          if (c === QUOTE)
            fail(source, line, 'a quote inside an unquoted field; quote the whole field and double inner quotes ("")');
        }
      }
      if (f === 0) firstEmpty = q === 0 && i === fs;
      if (f < width) {
        starts[base + f] = fs;
        ends[base + f] = i;
        quoted[base + f] = q;
      }
      f++;
      if (i < to && buf[i] === COMMA) {
        i++;
        continue;
      }
      break;
    }
    if (i - recStart > maxRecord)
      fail(
        source,
        recLine,
        `a record longer than ${maxRecord} characters (an unclosed quote?); check the quoting from that line on`,
      );
    if (i < to) {
      if (buf[i] === CR && i + 1 < to && buf[i + 1] === LF) i += 2;
      else i++;
      line++;
    }
    if (f === 1 && firstEmpty) continue; // a blank line
    if (f !== width)
      fail(source, recLine, `${f} fields, but the header has ${width}; check for an unquoted comma or a missing field`, {
        line: recLine,
      });
    lines[n++] = recLine;
  }
  return n;
}

/** The records of one chunk, column by column (see the file comment). */
export class CsvColumnChunk {
  /** Rows in the chunk. */
  readonly n: number;
  /** File line (1-based) where each row starts. */
  readonly rowNumbers: Int32Array;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly quoted: Uint8Array;
  private readonly width: number;

  constructor(
    readonly parser: CsvColumnParser,
    /** The chunk's bytes (whole records). */
    readonly bytes: Buffer,
    f: Fields,
  ) {
    this.n = f.n;
    this.rowNumbers = f.lines;
    this.starts = f.starts;
    this.ends = f.ends;
    this.quoted = f.quoted;
    this.width = parser.columns.length;
  }

  /** The header. */
  get columns(): readonly string[] {
    return this.parser.columns;
  }

  /** Cell (i, j) as readCsvChunks gives it: the text, unquoted; '' is null. */
  cell(i: number, j: number): string | null {
    const k = i * this.width + j;
    const s = this.starts[k];
    const e = this.ends[k];
    if (s === e) return null;
    const t = this.bytes.toString('utf8', s, e);
    const v = this.quoted[k] ? unquote(t) : t;
    return v === '' ? null : v;
  }

  /** Column j as numbers (cellNumber's rules: NaN when missing or not a number), into `out`. */
  numbers(j: number, out: Float64Array = new Float64Array(this.n)): Float64Array {
    const { bytes, starts, ends, quoted, width } = this;
    for (let i = 0, k = j; i < this.n; i++, k += width) {
      const s = starts[k];
      const e = ends[k];
      if (s === e) {
        out[i] = NaN;
        continue;
      }
      if (quoted[k] === 0) {
        // a plain decimal: at most 15 digits are an exact integer, and one division by an
        // exact power of ten rounds correctly, so this is Number()'s value
        let p = s;
        const neg = bytes[p] === MINUS;
        if (neg) p++;
        let m = 0;
        let digits = 0;
        let frac = -1;
        for (; p < e; p++) {
          const c = bytes[p];
          if (c >= 0x30 && c <= 0x39) {
            m = m * 10 + (c - 0x30);
            digits++;
            if (frac >= 0) frac++;
          } else if (c === DOT && frac < 0) frac = 0;
          else break;
        }
        if (p === e && digits > 0 && digits <= 15) {
          const x = frac > 0 ? m / POW10[frac] : m;
          out[i] = neg ? -x : x;
          continue;
        }
      }
      out[i] = cellNumber(this.cell(i, j));
    }
    return out;
  }

  /** Column j as dictionary codes (-1 = missing), into `out`; `parser.dictionary(j)` names them. */
  codes(j: number, out: Int32Array = new Int32Array(this.n)): Int32Array {
    const { bytes, starts, ends, quoted, width } = this;
    const dict = this.parser.interner(j);
    for (let i = 0, k = j; i < this.n; i++, k += width) {
      const s = starts[k];
      const e = ends[k];
      if (s === e) out[i] = -1;
      else if (quoted[k] === 0) out[i] = dict.code(bytes, s, e);
      else {
        const v = this.cell(i, j);
        out[i] = v === null ? -1 : dict.codeOfText(v);
      }
    }
    return out;
  }

  /** Column j as trimmed, interned strings (null = missing or blank). */
  strings(j: number): (string | null)[] {
    const codes = this.codes(j);
    const values = this.parser.dictionary(j);
    const out = new Array<string | null>(this.n);
    for (let i = 0; i < this.n; i++) out[i] = codes[i] < 0 ? null : values[codes[i]];
    return out;
  }

  /** A 64-bit hash of each row's cells (as two uint32 words, RowHasher): exact duplicates hash alike. */
  rowHashes(): { hi: Uint32Array; lo: Uint32Array } {
    const { bytes, starts, ends, quoted, width } = this;
    const hi = new Uint32Array(this.n);
    const lo = new Uint32Array(this.n);
    hashRows(this, bytes, starts, ends, quoted, width, hi, lo);
    return { hi, lo };
  }
}

/**
 * rowHashes' loop, alone in a function: V8 optimises it while it runs (on-stack
 * replacement) without compiling code after the loop that has not run yet, which it would
 * otherwise leave again at the loop's end, once per chunk until every path has run.
 */
function hashRows(
  chunk: CsvColumnChunk,
  bytes: Buffer,
  starts: Int32Array,
  ends: Int32Array,
  quoted: Uint8Array,
  width: number,
  hi: Uint32Array,
  lo: Uint32Array,
): void {
  const h = new RowHasher();
  for (let i = 0; i < hi.length; i++) {
    h.begin();
    for (let j = 0, k = i * width; j < width; j++, k++) {
      if (quoted[k] === 0) h.bytes(bytes, starts[k], ends[k]);
      else h.text(chunk.cell(i, j) ?? '');
      h.endCell();
    }
    hi[i] = h.hi();
    lo[i] = h.lo();
  }
}

/**
 * Cuts a byte stream into slices of whole records (after a line end outside quotes), and
 * counts lines as the parser does, so every slice knows the file line it starts at.
 */
export class RecordCutter {
  private pending: Buffer = Buffer.alloc(0);
  private scanned = 0;
  private inQuotes = false;
  private lines = 0;
  /** Last record end found in pending[0, scanned) and the lines before it. */
  private last = 0;
  private linesAtLast = 0;
  /** File line at pending[0]. */
  line = 1;

  push(b: Buffer): void {
    this.pending = this.pending.length > this.scanned || this.pending.length ? Buffer.concat([this.pending, b]) : b;
  }

  /** Bytes waiting for a cut. */
  get size(): number {
    return this.pending.length;
  }

  /**
   * The next slice: whole records up to the first record end at or after `min` bytes (`min`
   * 1: the first record only); at end of file (`eof`), whatever is left. Undefined when more
   * bytes are needed.
   */
  take(min: number, eof = false): { bytes: Buffer; firstLine: number } | undefined {
    const p = this.pending;
    let i = this.scanned;
    let found = -1;
    for (; i < p.length; i++) {
      const c = p[i];
      if (c === QUOTE) this.inQuotes = !this.inQuotes;
      else if (c === LF) {
        this.lines++;
        if (!this.inQuotes) {
          this.last = i + 1;
          this.linesAtLast = this.lines;
          if (this.last >= min) {
            found = this.last;
            i++;
            break;
          }
        }
      } else if (c === CR && !this.inQuotes) {
        if (i + 1 === p.length && !eof) break; // decide with the next byte
        if (p[i + 1] !== LF) {
          this.lines++;
          this.last = i + 1;
          this.linesAtLast = this.lines;
          if (this.last >= min) {
            found = this.last;
            i++;
            break;
          }
        }
      }
    }
    this.scanned = i;
    let cut = found;
    let lines = this.linesAtLast;
    if (cut < 0) {
      if (!eof) return undefined;
      if (p.length === 0) return undefined;
      cut = p.length;
      lines = this.lines;
    }
    const bytes = p.subarray(0, cut);
    const firstLine = this.line;
    this.pending = p.subarray(cut);
    this.line += lines;
    this.scanned -= cut;
    this.lines -= lines;
    this.last = this.linesAtLast = 0;
    return { bytes, firstLine };
  }
}

export interface CsvColumnReadOptions {
  /** Bytes per chunk (default 256 KiB, about 1,700 listings). */
  chunkBytes?: number;
  /** Longest accepted record in characters (default 1 MiB): an unclosed quote cannot swallow the file. */
  maxRecordChars?: number;
  signal?: AbortSignal;
  /** Bytes per read (default 1 MiB; tests use tiny reads to cut records anywhere). */
  readBytes?: number;
  /** Told the bytes read so far and the file's size after each read (progress, ETA). */
  onBytes?: (read: number, size: number) => void;
  /**
   * Read these byte chunks (a download: data/read.ts openRemoteStream) instead of opening
   * `path`, which then only names the source in messages; `size` may be NaN (unknown).
   */
  stream?: { chunks: AsyncIterable<Uint8Array>; size: number; close(): Promise<void> };
}

/** An open CSV file whose header has been read. */
export interface CsvColumnFile {
  /** The file's parser (its header is `parser.columns`). */
  parser: CsvColumnParser;
  /** The file's size in bytes. */
  size: number;
  /** Bytes read so far. */
  bytesRead(): number;
  /** The rest of the file as parsed chunks (one empty chunk for a header-only file); closes the file at the end. */
  chunks(): AsyncGenerator<CsvColumnChunk>;
  /** Or as raw slices of whole records (for parsing elsewhere: worker threads); closes the file at the end. */
  slices(): AsyncGenerator<{ bytes: Buffer; firstLine: number }>;
  /** Close the file early (idempotent). */
  close(): Promise<void>;
}

/**
 * Open a local CSV file for columnar reading: its header is read and parsed first. The
 * `chunks()` generator then yields chunks of ~chunkBytes (at least one, with no rows, for a
 * header-only file), or `slices()` the raw records for a worker's own CsvColumnParser. Errors are readCsvChunks's: DATA_EMPTY, FILE_NOT_FOUND, USAGE for a
 * directory, DATA_INVALID with the line, INTERRUPTED on abort.
 */
export async function openCsvColumns(
  path: string,
  o: CsvColumnReadOptions = {},
): Promise<CsvColumnFile> {
  const maxRecordChars = o.maxRecordChars ?? 1 << 20;
  const chunkBytes = o.chunkBytes ?? 1 << 18;
  let size: number;
  // the next chunk of bytes (null at the end), and how to let go of the source
  let next: () => Promise<Buffer | null>;
  let release: () => Promise<void>;
  if (o.stream) {
    const src = o.stream;
    const it = src.chunks[Symbol.asyncIterator]();
    size = src.size;
    next = async () => {
      const r = await it.next();
      return r.done ? null : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    };
    release = async () => {
      await it.return?.();
      await src.close();
    };
  } else {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(path, 'r');
      const st = await fh.stat();
      if (st.isDirectory()) {
        await fh.close();
        throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      }
      size = st.size;
    } catch (e) {
      throw ioError(e, path);
    }
    const buf = Buffer.allocUnsafe(o.readBytes ?? 1 << 20);
    next = async () => {
      const { bytesRead: n } = await fh.read(buf, 0, buf.length, null);
      return n === 0 ? null : Buffer.from(buf.subarray(0, n));
    };
    release = () => fh.close();
  }
  const cutter = new RecordCutter();
  let eof = false;
  let read = 0;
  const more = async (): Promise<void> => {
    if (o.signal?.aborted) throw new AppError('INTERRUPTED', `reading ${path} was interrupted`);
    let b: Buffer | null;
    try {
      b = await next();
    } catch (e) {
      throw ioError(e, path);
    }
    if (b === null) eof = true;
    else if (b.length) {
      read += b.length;
      cutter.push(b);
      o.onBytes?.(read, size);
    }
  };
  const tooLong = () =>
    new AppError(
      'DATA_INVALID',
      `${path}:${cutter.line}: a record longer than ${maxRecordChars} characters (an unclosed quote?); check the quoting from that line on`,
    );
  let parser: CsvColumnParser | undefined;
  try {
    // the header: the first record (blank lines before it skipped, as by readCsvChunks)
    let bom = true;
    while (!parser) {
      let first = cutter.take(1, eof);
      while (!first && !eof) {
        if (cutter.size > maxRecordChars) throw tooLong();
        await more();
        first = cutter.take(1, eof);
      }
      if (!first)
        throw new AppError(
          'DATA_EMPTY',
          read === 0 ? `${path} is empty (0 bytes); expected listings` : `${path} is empty; expected a header line and at least one listing`,
        );
      let text = first.bytes.toString('utf8');
      if (bom && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      bom = false;
      const parsed = parseCsvRecords(text, { source: path, firstLine: first.firstLine, maxRecordChars });
      if (parsed.rows.length) parser = new CsvColumnParser(path, parsed.rows[0].map((h) => String(h ?? '').trim()), maxRecordChars);
    }
  } catch (e) {
    await release();
    throw e;
  }
  const p = parser;
  let closed = false;
  const close = async () => {
    if (!closed) await release();
    closed = true;
  };
  async function* slices(): AsyncGenerator<{ bytes: Buffer; firstLine: number }> {
    try {
      for (;;) {
        let slice = cutter.take(chunkBytes, eof);
        while (!slice && !eof) {
          if (cutter.size > chunkBytes + maxRecordChars) throw tooLong();
          await more();
          slice = cutter.take(chunkBytes, eof);
        }
        if (!slice) break;
        yield slice;
      }
    } finally {
      await close();
    }
  }
  async function* chunks(): AsyncGenerator<CsvColumnChunk> {
    let yielded = false;
    for await (const slice of slices()) {
      const chunk = p.parse(slice.bytes, slice.firstLine);
      if (chunk.n === 0) continue;
      yielded = true;
      yield chunk;
    }
    if (!yielded) yield p.parse(Buffer.alloc(0), cutter.line);
  }
  return { parser: p, size, chunks, slices, close, bytesRead: () => read };
}

/** The chunks of a local CSV file (see openCsvColumns). */
export async function* readCsvColumnChunks(path: string, o: CsvColumnReadOptions = {}): AsyncGenerator<CsvColumnChunk> {
  const file = await openCsvColumns(path, o);
  yield* file.chunks();
}

function ioError(e: unknown, path: string): AppError {
  if (e instanceof AppError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new AppError('FILE_NOT_FOUND', `data file ${path} does not exist; check the path`, { cause: e });
  if (code === 'EISDIR') return new AppError('USAGE', `${path} is a directory; give the path of a .csv or .xlsx file`, { cause: e });
  return new AppError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
}
