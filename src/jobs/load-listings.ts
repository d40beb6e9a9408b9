/**
 * Read and validate a listings file with the columns params.yaml chooses: the common first
 * step of ingest, train, evaluate and batch predict.
 */
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import type { Logger } from '../core/logger.js';
import { buildListingSchema, type ListingSchema } from '../data/listing-schema.js';
import type { Frame } from '../data/frame.js';
import { isRemote, isXlsxName, openRemoteStream, readTable, readXlsxSource } from '../data/read.js';
import { readCsvChunks } from '../data/csv-stream.js';
import { openCsvColumns } from '../data/csv-columns.js';
import type { Cell } from '../data/table.js';
import { describeReport, ListingAccumulator, type TableOrigin, type ValidatedListings } from '../data/validate.js';
import { AppError } from '../core/errors.js';
import type { InputSchema } from '../bundle/model-bundle.js';
import type { ProgressFactory } from '../core/progress.js';

export interface LoadListingsOptions {
  params: Params;
  env?: Env;
  logger?: Logger;
  signal?: AbortSignal;
  /** Whether rows need a price (false for batch prediction). */
  requireTarget?: boolean;
  /** Report sink for the validation summary (stderr in the CLI). */
  onReport?: (summary: string) => void;
  /** Progress of long steps (a TTY meter in the CLI): called with rows done, and `true` at the end. */
  progress?: ProgressFactory;
}

export type { ProgressFactory } from '../core/progress.js';

/** The listing schema params.yaml describes. */
export function schemaFromParams(params: Params): ListingSchema {
  return buildListingSchema({
    target: params.base.target_col,
    numeric: params.data_ingestion.numerical_cols,
    categorical: params.data_ingestion.categorical_cols,
    optionalNumeric: params.data_ingestion.optional_cols,
  });
}

/**
 * Read + validate a listings file into columns, a chunk at a time (memory holds the kept
 * values, never the raw rows): a CSV, local or downloaded, parsed straight into columns; a
 * workbook's sheet streamed as rows of cells (readListingChunks).
 */
export async function loadListings(source: string, o: LoadListingsOptions): Promise<ValidatedListings> {
  const progress = o.progress?.('reading', source);
  let acc: ListingAccumulator | undefined;
  // the schema is checked once the source has been opened (a missing file is reported first)
  const accumulator = () =>
    (acc ??= new ListingAccumulator(schemaFromParams(o.params), {
      maxInvalidFraction: o.params.data_ingestion.max_invalid_fraction,
      dropDuplicates: o.params.data_ingestion.drop_duplicates,
      requireTarget: o.requireTarget ?? true,
      ranges: o.params.ranges,
    }));
  const interrupted = () => new AppError('INTERRUPTED', `reading ${source} was interrupted`);
  const remoteCsv = isRemote(source) && isCsvName(source);
  if (isLocalCsv(source) || remoteCsv) {
    // columnar: bytes parsed straight into columns, no string or array per row
    const file = await openCsvColumns(source, {
      signal: o.signal,
      chunkBytes: 1 << 20,
      stream: remoteCsv ? await openRemoteStream(source, { env: o.env, signal: o.signal }) : undefined,
    });
    const origin: TableOrigin = { source };
    for await (const chunk of file.chunks()) {
      if (o.signal?.aborted) throw interrupted();
      accumulator().addColumns(chunk, origin);
      progress?.(accumulator().rowsKept);
    }
  } else
    for await (const chunk of readListingChunks(source, {
      params: o.params,
      env: o.env,
      signal: o.signal,
      chunkRows: 5000,
    })) {
      if (o.signal?.aborted) throw interrupted();
      accumulator().add(chunk.columns, chunk.rows, chunk.rowNumbers, chunk.origin);
      progress?.(accumulator().rowsKept, false, chunk.fraction);
    }
  progress?.(acc?.rowsKept ?? 0, true);
  if (!acc) throw new AppError('DATA_EMPTY', `${source} is empty; expected a header line and at least one listing`);
  const v = acc.finish();
  o.logger?.debug({ report: { ...v.report, badCells: v.report.badCells.length } }, 'listings validated');
  o.onReport?.(describeReport(v.report));
  return v;
}

/** A .csv name (a URL's query string and fragment aside). */
export function isCsvName(source: string): boolean {
  return source.split(/[?#]/)[0].toLowerCase().endsWith('.csv');
}

/** A local .csv file (read columnar), not a URL or a workbook. */
export function isLocalCsv(source: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && source.split(/[?#]/)[0].toLowerCase().endsWith('.csv');
}

/** The listing schema a model bundle was trained with: what its input files must hold. */
export function schemaFromBundle(s: InputSchema): ListingSchema {
  const minimum: Record<string, number> = {};
  for (const c of [...s.numeric, ...s.optionalNumeric]) minimum[c] = 0;
  return {
    target: s.target,
    numeric: [...s.numeric],
    categorical: [...s.categorical],
    optionalNumeric: [...s.optionalNumeric],
    minimum,
  };
}

/**
 * The frame with every optional numeric column of the bundle present: columns the file
 * lacks (equipment flags) are all missing, and the model imputes them, exactly as it does
 * for a `--input` listing without them.
 */
export function withOptionalColumns(frame: Frame, s: InputSchema): Frame {
  const absent = s.optionalNumeric.filter((c) => !(c in frame.numeric));
  if (absent.length === 0) return frame;
  const numeric = { ...frame.numeric };
  for (const c of absent) numeric[c] = new Float64Array(frame.nRows).fill(NaN);
  return { ...frame, numeric };
}

/** A batch of raw rows of a listings source, with where they came from. */
export interface ListingChunk {
  columns: string[];
  rows: Cell[][];
  rowNumbers: number[];
  origin: TableOrigin;
  /** The share of the source read so far (0..1), when known. */
  fraction?: number;
}

/**
 * The rows of a listings source a chunk at a time, memory bounded by the chunk whatever the
 * file's size: a local .csv file and a workbook (.xlsx, local or downloaded: data/read.ts
 * readXlsxSource) are streamed; a remote CSV is read whole, up to the whole-file limit
 * (data/read.ts wholeFileLimit; batch prediction and training read it columnar instead).
 */
export async function* readListingChunks(
  source: string,
  o: { params: Params; env?: Env; signal?: AbortSignal; chunkRows?: number },
): AsyncGenerator<ListingChunk> {
  const chunkRows = o.chunkRows ?? 2000;
  if (isLocalCsv(source)) {
    for await (const c of readCsvChunks(source, { chunkRows, signal: o.signal })) yield { ...c, origin: { source } };
    return;
  }
  if (isXlsxName(source)) {
    for await (const c of readXlsxSource(source, {
      env: o.env,
      signal: o.signal,
      sheet: o.params.data_source.sheet,
      chunkRows,
    }))
      yield {
        columns: c.columns,
        rows: c.rows,
        rowNumbers: c.rowNumbers,
        origin: { source, sheet: c.sheet, sheets: c.sheets },
        fraction: c.fraction,
      };
    return;
  }
  const table = await readTable(source, { env: o.env, signal: o.signal, sheet: o.params.data_source.sheet });
  const origin: TableOrigin = { source: table.source, sheet: table.sheet, sheets: table.sheets };
  if (table.rows.length === 0) {
    yield { columns: table.columns, rows: [], rowNumbers: [], origin };
    return;
  }
  for (let i = 0; i < table.rows.length; i += chunkRows)
    yield {
      columns: table.columns,
      rows: table.rows.slice(i, i + chunkRows),
      rowNumbers: table.rowNumbers.slice(i, i + chunkRows),
      origin,
    };
}
