/**
 * The chunked read loop of batch prediction and evaluation (`carprice predict --data`,
 * `carprice evaluate --data`): a listings source a chunk at a time, each chunk checked by
 * the caller's ListingValidator into columns. A CSV, local or downloaded (http(s):// or
 * s3://, read as its bytes arrive), is read columnar (csv-columns.ts: no string or array
 * per row, memory bounded by the chunk whatever the file's size); a workbook (.xlsx, local
 * or downloaded) is streamed a chunk of rows of cells at a time (data/xlsx-stream.ts), in
 * memory bounded the same way. Progress (rows, and the share of the file read for an ETA)
 * goes to `progress`.
 */
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import { openCsvColumns, type CsvColumnChunk } from '../data/csv-columns.js';
import { isRemote, openRemoteStream } from '../data/read.js';
import type { Cell } from '../data/table.js';
import { RowHasher } from '../data/row-hash.js';
import type { CheckedRows, ListingValidator, TableOrigin } from '../data/validate.js';
import { isCsvName, isLocalCsv, readListingChunks, type ProgressFactory } from './load-listings.js';

/** One chunk of a listings source. */
export interface ListingBatch {
  origin: TableOrigin;
  /** The source's header. */
  columns: readonly string[];
  /** Rows in the chunk. */
  n: number;
  /** Source line (CSV) or row number of each row. */
  rowNumbers: ArrayLike<number>;
  /** The columnar chunk of a local CSV (else the rows are cells). */
  chunk?: CsvColumnChunk;
  rows?: Cell[][];
  /** The chunk's rows checked by `validator` (built for this source's header). */
  check(validator: ListingValidator): CheckedRows;
  /** A 64-bit hash of each row's cells as two uint32 words: exact duplicates hash alike. */
  rowHashes(): { hi: Uint32Array; lo: Uint32Array };
}

export interface ListingBatchOptions {
  params: Params;
  env?: Env;
  signal?: AbortSignal;
  /** Rows per chunk of a workbook (default 2,000); a CSV is cut every ~256 KiB. */
  chunkRows?: number;
  /** Bytes per chunk of a local CSV (default 256 KiB). */
  chunkBytes?: number;
  /** A progress meter for the read (`step` names it: predicting, evaluating). */
  progress?: ProgressFactory;
  step?: string;
  /** What is interrupted, for the INTERRUPTED message. */
  what?: string;
}

export { isLocalCsv };

/** The chunks of a listings source, in order (at least one, possibly empty, for a header-only file). */
export async function* listingBatches(source: string, o: ListingBatchOptions): AsyncGenerator<ListingBatch> {
  const meter = o.progress?.(o.step ?? 'reading', source);
  const interrupted = () => new AppError('INTERRUPTED', `${o.what ?? 'reading'} interrupted`);
  let rows = 0;
  // a CSV, local or a download (http(s), s3), is read columnar as its bytes arrive
  const remoteCsv = isRemote(source) && isCsvName(source);
  if (isLocalCsv(source) || remoteCsv) {
    const csv = await openCsvColumns(source, {
      signal: o.signal,
      chunkBytes: o.chunkBytes,
      stream: remoteCsv ? await openRemoteStream(source, { env: o.env, signal: o.signal }) : undefined,
    });
    // the share of the file's bytes scored so far (the header's few bytes aside)
    let scored = 0;
    const origin: TableOrigin = { source };
    for await (const chunk of csv.chunks()) {
      if (o.signal?.aborted) throw interrupted();
      yield {
        origin,
        columns: chunk.columns,
        n: chunk.n,
        rowNumbers: chunk.rowNumbers,
        chunk,
        check: (v) => v.checkColumns(chunk),
        rowHashes: () => chunk.rowHashes(),
      };
      rows += chunk.n;
      scored += chunk.bytes.length;
      // a download of unknown length has no share read (no ETA)
      meter?.(rows, false, csv.size > 0 ? Math.min(1, scored / csv.size) : Number.isNaN(csv.size) ? undefined : 1);
    }
    meter?.(rows, true, 1);
    return;
  }
  for await (const c of readListingChunks(source, {
    params: o.params,
    env: o.env,
    signal: o.signal,
    chunkRows: o.chunkRows,
  })) {
    if (o.signal?.aborted) throw interrupted();
    yield {
      origin: c.origin,
      columns: c.columns,
      n: c.rows.length,
      rowNumbers: c.rowNumbers,
      rows: c.rows,
      check: (v) => v.check(c.rows, c.rowNumbers),
      rowHashes: () => cellHashes(c.rows),
    };
    rows += c.rows.length;
    meter?.(rows, false, c.fraction);
  }
  meter?.(rows, true, 1);
}

/** rowHashes for rows of cells (each cell's type and text, as CsvColumnChunk.rowHashes hashes bytes). */
function cellHashes(rows: readonly (readonly Cell[])[]): { hi: Uint32Array; lo: Uint32Array } {
  const hi = new Uint32Array(rows.length);
  const lo = new Uint32Array(rows.length);
  const h = new RowHasher();
  rows.forEach((row, i) => {
    h.begin();
    for (const v of row) {
      // the type too: the number 1 and the text "1" are different cells
      if (v !== null && v !== undefined)
        h.text(`${typeof v === 'string' ? 's' : typeof v === 'number' ? 'n' : 'b'}${String(v)}`);
      h.endCell();
    }
    hi[i] = h.hi();
    lo[i] = h.lo();
  });
  return { hi, lo };
}
