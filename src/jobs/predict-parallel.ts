/**
 * Batch prediction of a local CSV file on worker threads. The calling thread only reads the
 * file and cuts it into slices of whole records (csv-columns.ts RecordCutter: after a line
 * end outside quotes, keeping count of the lines so every slice knows the file line it
 * starts at); each worker parses its slices into columns (its own CsvColumnParser), checks
 * and prices the rows (ChunkScorer, the code the single-threaded path runs) and sends back
 * their output bytes, which are written in file order. At most two
 * slices per worker are in flight, so memory stays bounded whatever the file's size, and
 * the output is byte for byte the single-threaded one. An error in a slice (a record wider
 * than the header, an unclosed quote) is raised when the output reaches that slice, as the
 * single-threaded path would raise it.
 */
import { Worker } from 'node:worker_threads';
import { AppError, isErrorCode, type ErrorDetails } from '../core/errors.js';
import type { ModelBundle, SavedBundle } from '../bundle/model-bundle.js';
import { openCsvColumns } from '../data/csv-columns.js';
import type { ListingSchema } from '../data/listing-schema.js';
import type { PlausibleRanges } from '../data/plausible-ranges.js';
import { ListingValidator } from '../data/validate.js';
import type { ChunkResult, PredictFormat } from './predict-chunk.js';
import type { ProgressFactory } from './load-listings.js';

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
  /** Progress meter (rows/s, ETA). */
  progress?: ProgressFactory;
  /** Each slice's result, in file order. */
  onResult: (r: ChunkResult) => void | Promise<void>;
}

/**
 * Predict `path` on `threads` workers; returns the optional columns the file lacks. The
 * header is read and checked here first (missing required columns fail before any worker starts).
 */
export async function predictCsvParallel(o: ParallelPredictOptions): Promise<{ missingOptional: string[] }> {
  const sliceBytes = o.sliceBytes ?? 1 << 18;
  const maxRecordChars = o.maxRecordChars ?? 1 << 20;
  const csv = await openCsvColumns(o.path, { chunkBytes: sliceBytes, maxRecordChars, signal: o.signal });
  const workers: Worker[] = [];
  try {
    const columns = [...csv.parser.columns];
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
    let rowsDone = 0;
    const meter = o.progress?.('predicting', o.path);
    const flush = async () => {
      for (let r = results.get(written); r; r = results.get(written)) {
        results.delete(written);
        written++;
        if ('error' in r)
          throw new AppError(isErrorCode(r.error.code) ? r.error.code : 'INTERNAL_ERROR', r.error.message, {
            details: r.error.details,
          });
        rowsDone += r.result.rows;
        meter?.(rowsDone, false, csv.size > 0 ? csv.bytesRead() / csv.size : 1);
        await o.onResult(r.result);
      }
    };
    const wait = () => new Promise<void>((resolve) => (wake = resolve));
    const maxInFlight = 2 * o.threads;
    for await (const slice of csv.slices()) {
      check();
      // a copy the worker can own
      queue.push({ seq: sent++, bytes: new Uint8Array(slice.bytes), firstLine: slice.firstLine });
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
    meter?.(rowsDone, true, 1);
    return { missingOptional: validator.missingOptional };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    await csv.close();
  }
}
