/**
 * Batch prediction of a local CSV file on worker threads. The calling thread only reads the
 * file and cuts it into slices of whole records (after a line break outside quotes, keeping
 * count of the lines so every slice knows the file line it starts at); each worker parses
 * its slices, checks and prices the rows (ChunkScorer, the code the single-threaded path
 * runs) and sends back their output text, which is written in file order. At most two
 * slices per worker are in flight, so memory stays bounded whatever the file's size, and
 * the output is byte for byte the single-threaded one. An error in a slice (a record wider
 * than the header, an unclosed quote) is raised when the output reaches that slice, as the
 * single-threaded path would raise it.
 */
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { AppError, isErrorCode, type ErrorDetails } from '../core/errors.js';
import type { ModelBundle, SavedBundle } from '../bundle/model-bundle.js';
import { parseCsvRecords } from '../data/csv-stream.js';
import type { ListingSchema } from '../data/listing-schema.js';
import type { PlausibleRanges } from '../data/plausible-ranges.js';
import { ListingValidator } from '../data/validate.js';
import type { ChunkResult, PredictFormat } from './predict-chunk.js';

/** First message to a worker: the model and the file's header. */
export interface WorkerInit {
  bundle: SavedBundle;
  columns: string[];
  schema: ListingSchema;
  source: string;
  ranges: PlausibleRanges;
  format: PredictFormat;
  maxRecordChars: number;
}

/** A slice of whole records and the file line it starts at. */
export interface SliceMessage {
  seq: number;
  bytes: Uint8Array;
  firstLine: number;
}

export type SliceReply =
  | { seq: number; result: ChunkResult }
  | { seq: number; error: { code: string; message: string; details?: ErrorDetails } };

export interface ParallelPredictOptions {
  path: string;
  bundle: ModelBundle;
  schema: ListingSchema;
  ranges: PlausibleRanges;
  format: PredictFormat;
  threads: number;
  signal?: AbortSignal;
  /** Bytes per slice (default 256 KiB, about 2,000 listings). */
  sliceBytes?: number;
  /** Longest accepted record (default 1 MiB, as readCsvChunks). */
  maxRecordChars?: number;
  /** Each slice's result, in file order. */
  onResult: (r: ChunkResult) => void | Promise<void>;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** Cuts a byte stream into slices of whole records, counting lines as RecordParser does. */
class RecordSlicer {
  private pending: Buffer = Buffer.alloc(0);
  private scanned = 0;
  private inQuotes = false;
  /** Line breaks counted in pending[0, scanned). */
  private lines = 0;
  /** End of the first and of the last record seen in pending (after a line break outside quotes), and the lines before them. */
  private first = 0;
  private linesAtFirst = 0;
  private last = 0;
  private linesAtLast = 0;
  /** File line at pending[0]. */
  line = 1;

  push(b: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, b]) : b;
    this.scan(false);
  }

  private scan(eof: boolean): void {
    const p = this.pending;
    let i = this.scanned;
    for (; i < p.length; i++) {
      const c = p[i];
      if (c === QUOTE) this.inQuotes = !this.inQuotes;
      else if (c === LF) {
        this.lines++;
        if (!this.inQuotes) {
          this.last = i + 1;
          this.linesAtLast = this.lines;
          if (this.first === 0) {
            this.first = this.last;
            this.linesAtFirst = this.lines;
          }
        }
      } else if (c === CR && !this.inQuotes) {
        if (i + 1 === p.length && !eof) break; // decide with the next byte
        if (p[i + 1] !== LF) this.lines++;
      }
    }
    this.scanned = i;
  }

  /** Bytes waiting for a cut. */
  get size(): number {
    return this.pending.length;
  }

  /**
   * The records up to the last complete one when they are at least `min` bytes (`one`: the
   * first record only); at end of file, everything left.
   */
  take(min: number, eof = false, one = false): { bytes: Uint8Array; firstLine: number } | undefined {
    let cut = one ? this.first : this.last;
    let lines = one ? this.linesAtFirst : this.linesAtLast;
    if (eof && (cut === 0 || !one)) {
      this.scan(true);
      cut = this.pending.length;
      lines = this.lines;
    }
    if (cut === 0 || cut < min) return undefined;
    // a copy the worker can own
    const bytes = new Uint8Array(cut);
    bytes.set(this.pending.subarray(0, cut));
    const firstLine = this.line;
    this.pending = this.pending.subarray(cut);
    this.line += lines;
    // rescan what is left (at most a read's worth) from a record boundary
    this.scanned = this.lines = this.first = this.last = this.linesAtFirst = this.linesAtLast = 0;
    this.inQuotes = false;
    this.scan(eof);
    return { bytes, firstLine };
  }
}

/**
 * Predict `path` on `threads` workers; returns the optional columns the file lacks. The
 * header is read and checked here first (missing required columns fail before any worker starts).
 */
export async function predictCsvParallel(o: ParallelPredictOptions): Promise<{ missingOptional: string[] }> {
  const sliceBytes = o.sliceBytes ?? 1 << 18;
  const maxRecordChars = o.maxRecordChars ?? 1 << 20;
  const fh = await open(o.path, 'r');
  const workers: Worker[] = [];
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    const slicer = new RecordSlicer();
    let eof = false;
    const read = async (): Promise<void> => {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) eof = true;
      else slicer.push(Buffer.from(buf.subarray(0, bytesRead)));
    };
    // the header: the first record (blank lines before it are skipped, as by readCsvChunks)
    let columns: string[] | undefined;
    let bom = true;
    while (!columns) {
      let first = slicer.take(1, false, true);
      while (!first && !eof) {
        if (slicer.size > maxRecordChars)
          throw new AppError(
            'DATA_INVALID',
            `${o.path}:${slicer.line}: a record longer than ${maxRecordChars} characters (an unclosed quote?); check the quoting from that line on`,
          );
        await read();
        first = slicer.take(1, eof, true);
      }
      if (!first)
        throw new AppError('DATA_EMPTY', `${o.path} is empty; expected a header line and at least one listing`);
      const text = new TextDecoder('utf-8').decode(first.bytes);
      const parsed = parseCsvRecords(text, { source: o.path, firstLine: first.firstLine, bom, maxRecordChars });
      bom = false;
      if (parsed.rows.length) columns = parsed.rows[0].map((h) => String(h ?? '').trim());
    }
    const validator = new ListingValidator(
      columns,
      o.schema,
      { source: o.path },
      { requireTarget: false, ranges: o.ranges },
    );
    const init: WorkerInit = {
      bundle: o.bundle.toJSON(),
      columns,
      schema: o.schema,
      source: o.path,
      ranges: o.ranges,
      format: o.format,
      maxRecordChars,
    };
    const results = new Map<number, SliceReply>();
    const idle: Worker[] = [];
    const queue: SliceMessage[] = [];
    // set from worker and abort callbacks (a holder: flow analysis cannot see those)
    const state: { failure?: Error } = {};
    const check = (): void => {
      if (state.failure) throw state.failure;
    };
    let wake: (() => void) | undefined;
    const poke = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const dispatch = () => {
      while (idle.length && queue.length) {
        const m = queue.shift()!;
        idle.pop()!.postMessage(m, [m.bytes.buffer as ArrayBuffer]);
      }
    };
    const onAbort = () => {
      state.failure ??= new AppError('INTERRUPTED', 'prediction interrupted');
      poke();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    for (let k = 0; k < o.threads; k++) {
      const w = new Worker(new URL('./predict-worker.js', import.meta.url));
      workers.push(w);
      w.postMessage(init);
      idle.push(w);
      w.on('message', (r: SliceReply) => {
        results.set(r.seq, r);
        idle.push(w);
        dispatch();
        poke();
      });
      w.on('error', (e) => {
        state.failure ??= new AppError('INTERNAL_ERROR', `a prediction worker failed: ${e.message}`, { cause: e });
        poke();
      });
      w.on('exit', (code) => {
        state.failure ??= new AppError('INTERNAL_ERROR', `a prediction worker stopped (exit code ${code})`);
        poke();
      });
    }
    let sent = 0;
    let written = 0;
    const flush = async () => {
      for (let r = results.get(written); r; r = results.get(written)) {
        results.delete(written);
        written++;
        if ('error' in r)
          throw new AppError(isErrorCode(r.error.code) ? r.error.code : 'INTERNAL_ERROR', r.error.message, {
            details: r.error.details,
          });
        await o.onResult(r.result);
      }
    };
    const wait = () => new Promise<void>((resolve) => (wake = resolve));
    const maxInFlight = 2 * o.threads;
    for (;;) {
      check();
      let slice = slicer.take(sliceBytes);
      if (!slice && !eof) {
        if (slicer.size > sliceBytes + maxRecordChars)
          throw new AppError(
            'DATA_INVALID',
            `${o.path}:${slicer.line}: a record longer than ${maxRecordChars} characters (an unclosed quote?); check the quoting from that line on`,
          );
        await read();
        continue;
      }
      if (!slice) slice = slicer.take(1, true);
      if (!slice) break;
      queue.push({ seq: sent++, ...slice });
      dispatch();
      await flush();
      while (!state.failure && sent - written >= maxInFlight) {
        await wait();
        await flush();
      }
    }
    while (written < sent) {
      check();
      await flush();
      if (written < sent) await wait();
    }
    o.signal?.removeEventListener('abort', onAbort);
    return { missingOptional: validator.missingOptional };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    await fh.close();
  }
}
