/**
 * The predict use case: prices for listing objects (JSON), or for a listings file, from a
 * saved model bundle. Prices are rounded to 2 decimals, as the seed's API returned them.
 *
 * A file is scored a chunk of rows at a time (a local CSV is streamed, so memory stays
 * bounded whatever its size), and the output has exactly one entry per input row, in
 * order: a price, or an error naming what is wrong with that row (a bad cell, a value
 * outside the plausible ranges, a price the model could not give). Duplicate rows are
 * priced each time. More bad rows than data_ingestion.max_invalid_fraction fail the
 * command (exit 4) after the report; with `out`, the file is then not written.
 */
import { AppError } from '../core/errors.js';
import { AtomicFileWriter } from '../core/atomic-write.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import { ModelBundle } from '../bundle/model-bundle.js';
import { listingRangeErrors, priceProblem } from '../data/plausible-ranges.js';
import { statSync } from 'node:fs';
import { schemaFromBundle, type ProgressFactory } from './load-listings.js';
import { isLocalCsv, listingBatches } from './listing-batches.js';
import { ChunkScorer, EXAMPLES, round2, type ChunkResult, type Prediction } from './predict-chunk.js';
import { predictCsvParallel } from './predict-parallel.js';
import { trainingThreads } from './training-options.js';

export interface PredictOptions {
  params: Params;
  model: string | ModelBundle;
  /** Listing objects (one or many). */
  input?: readonly Record<string, unknown>[];
  /** A listings file instead of `input`: scored through predictFile, all rows returned. */
  data?: string;
  env?: Env;
  signal?: AbortSignal;
  onReport?: (summary: string) => void;
}

export type { Prediction } from './predict-chunk.js';

/** Prices for listing objects (all valid, or INPUT_INVALID naming every problem), or for a file's rows. */
export async function predict(o: PredictOptions): Promise<Prediction[]> {
  const bundle = typeof o.model === 'string' ? ModelBundle.load(o.model) : o.model;
  if ((o.input === undefined) === (o.data === undefined))
    throw new AppError('USAGE', 'give exactly one of --input JSON or --data FILE');
  if (o.data !== undefined) {
    const rows: Prediction[] = [];
    await predictFile({ ...o, model: bundle, data: o.data, format: 'jsonl', onRow: (p) => void rows.push(p) });
    return rows;
  }
  const input = o.input!;
  if (input.length === 0) throw new AppError('INPUT_INVALID', 'no listings to predict: the input is an empty list');
  const problems: string[] = [];
  input.forEach((r, i) => {
    for (const e of listingRangeErrors(r, o.params.ranges))
      problems.push(`${input.length > 1 ? `[${i}].` : ''}${e.field}: ${e.message}`);
  });
  if (problems.length)
    throw new AppError(
      'INPUT_INVALID',
      `invalid listing input (${problems.length} problem(s)): ${problems.slice(0, 20).join('; ')}`,
      { details: { problems } },
    );
  // the compiled one-listing path (what the API uses): the same prices, bit for bit, as
  // bundle.predictRecords, without building frames
  const results = bundle.compilePredictor().predictMany(input);
  const at = (i: number, field: string) =>
    input.length > 1 ? (field === 'input' ? `[${i}]` : `[${i}].${field}`) : field;
  results.forEach((r, i) => {
    if (!r.ok) for (const e of r.errors) problems.push(`${at(i, e.field)}: ${e.message}`);
  });
  if (problems.length)
    throw new AppError(
      'INPUT_INVALID',
      `invalid listing input (${problems.length} problem(s)):\n  ${problems.slice(0, 50).join('\n  ')}`,
      { details: { problems } },
    );
  const out: Prediction[] = [];
  results.forEach((r, i) => {
    const p = r.ok ? r.price : NaN;
    const why = priceProblem(p);
    if (why) throw new AppError('MODEL_INVALID', `${input.length > 1 ? `listing [${i}]: ` : ''}${why}`);
    out.push({ predicted_price: round2(p) });
  });
  return out;
}

export interface PredictFileOptions {
  params: Params;
  model: string | ModelBundle;
  /** Listings file: local path (a .csv is streamed), http(s):// or s3:// URL, .csv or .xlsx. */
  data: string;
  /** Output format: CSV `row,predicted_price,error` or JSON lines. */
  format: 'csv' | 'jsonl';
  /** Write the output to this file, atomically (nothing appears unless the command succeeds). */
  out?: string;
  /** Otherwise, the output goes here piece by piece (stdout in the CLI). */
  write?: (text: string) => void | Promise<void>;
  /** Each row's result, in order (for callers that want objects). */
  onRow?: (p: Prediction) => void;
  env?: Env;
  signal?: AbortSignal;
  onReport?: (summary: string) => void;
  /** Rows of a workbook scored at a time (default 2,000). */
  chunkRows?: number;
  /** Bytes of a local CSV scored at a time on the calling thread (default 256 KiB, ~1,700 listings). */
  chunkBytes?: number;
  /** Progress meter (rows/s, ETA; a TTY meter in the CLI, none otherwise). */
  progress?: ProgressFactory;
  /** Worker threads for a local CSV (default: CARPRICE_THREADS, else the cores; 1 = the calling thread). */
  threads?: number;
  /** Smaller files use the calling thread only (default 8 MiB). */
  parallelMinBytes?: number;
  /** Bytes per slice handed to a worker (default 256 KiB). */
  sliceBytes?: number;
}

export interface PredictFileSummary {
  rows: number;
  priced: number;
  failed: number;
}

/** Files smaller than this are scored on the calling thread (workers cost ~0.1 s to start and warm up). */
const PARALLEL_MIN_BYTES = 8 << 20;

/**
 * Worker threads for batch prediction: CARPRICE_THREADS, else the cores available; files
 * under PARALLEL_MIN_BYTES, non-CSV and remote sources, and callers wanting each row
 * (onRow) use the calling thread only.
 */
function predictThreads(o: PredictFileOptions): number {
  if (o.onRow || !isLocalCsv(o.data)) return 1;
  try {
    const st = statSync(o.data);
    if (!st.isFile() || st.size < (o.parallelMinBytes ?? PARALLEL_MIN_BYTES)) return 1;
  } catch {
    return 1; // the streaming path reports a missing file
  }
  return o.threads ?? trainingThreads(o.env);
}

/** Score a listings file chunk by chunk; one output entry per input row. */
export async function predictFile(o: PredictFileOptions): Promise<PredictFileSummary> {
  const bundle = typeof o.model === 'string' ? ModelBundle.load(o.model) : o.model;
  const schema = schemaFromBundle(bundle.inputSchema);
  const writer = o.out ? new AtomicFileWriter(o.out) : undefined;
  const wantText = Boolean(o.write || writer);
  const emit = async (bytes: Uint8Array) => {
    if (writer) writer.write(bytes);
    else if (o.write) await o.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  };
  const summary: PredictFileSummary = { rows: 0, priced: 0, failed: 0 };
  const examples: string[] = [];
  const add = async (r: ChunkResult) => {
    summary.rows += r.rows;
    summary.priced += r.priced;
    summary.failed += r.failed;
    for (const e of r.examples) if (examples.length < EXAMPLES) examples.push(e);
    if (r.bytes.length) await emit(r.bytes);
  };
  let missing: string[];
  let source = o.data;
  try {
    if (o.format === 'csv') await emit(Buffer.from('row,predicted_price,error\n'));
    const threads = predictThreads(o);
    if (threads > 1) {
      ({ missingOptional: missing } = await predictCsvParallel({
        path: o.data,
        bundle,
        schema,
        ranges: o.params.ranges,
        format: o.format,
        threads,
        signal: o.signal,
        sliceBytes: o.sliceBytes,
        progress: o.progress,
        onResult: add,
      }));
    } else {
      let scorer: ChunkScorer | undefined;
      for await (const batch of listingBatches(o.data, {
        params: o.params,
        env: o.env,
        signal: o.signal,
        chunkRows: o.chunkRows,
        chunkBytes: o.chunkBytes,
        progress: o.progress,
        step: 'predicting',
        what: 'prediction',
      })) {
        source = batch.origin.source;
        scorer ??= new ChunkScorer(bundle, batch.columns, schema, batch.origin, o.params.ranges, o.format, wantText);
        await add(
          batch.chunk
            ? scorer.scoreColumns(batch.chunk, o.onRow)
            : scorer.score(batch.rows!, batch.rowNumbers as number[], o.onRow),
        );
      }
      missing = scorer?.validator.missingOptional ?? [];
    }
    if (summary.rows === 0) throw new AppError('DATA_EMPTY', `${source} has a header but no listings`);
    o.onReport?.(
      `${source}: ${summary.rows} rows, ${summary.priced} priced, ${summary.failed} could not be priced` +
        (examples.length
          ? ` (their error is in the output):\n  ${examples.join('\n  ')}${summary.failed > examples.length ? `\n  ... and ${summary.failed - examples.length} more` : ''}`
          : '') +
        (missing.length ? `\n  optional columns absent (imputed): ${missing.join(', ')}` : ''),
    );
    const maxInvalid = o.params.data_ingestion.max_invalid_fraction;
    if (summary.failed / summary.rows > maxInvalid)
      throw new AppError(
        'DATA_INVALID',
        `${source}: ${summary.failed} of ${summary.rows} rows (${((100 * summary.failed) / summary.rows).toFixed(1)}%) could not be priced, more than the ${(100 * maxInvalid).toFixed(1)}% allowed (data_ingestion.max_invalid_fraction)${writer ? `; ${o.out} was not written` : ''}`,
      );
    writer?.commit();
    return summary;
  } catch (e) {
    writer?.abort();
    throw e;
  }
}
