/**
 * The data-ingestion use case (the seed's first pipeline stage): read the raw listings,
 * validate, drop exact duplicates, keep the target and the feature columns from params,
 * split 80/20 with the seed, and write raw.csv, train.csv and test.csv. Files are written
 * atomically, so an interrupted run leaves the previous outputs intact.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import type { Logger } from '../core/logger.js';
import { formatCsv } from '../data/csv.js';
import type { Frame } from '../data/frame.js';
import { splitIndices } from '../data/split.js';
import type { ValidationReport } from '../data/validate.js';
import type { Cell } from '../data/table.js';
import { loadListings } from './load-listings.js';

export interface IngestOptions {
  params: Params;
  /** Raw data (default params.data_source.raw_data). */
  source?: string;
  /** Output folder (default params.data_ingestion.output_dir). */
  outDir?: string;
  env?: Env;
  logger?: Logger;
  signal?: AbortSignal;
  onReport?: (summary: string) => void;
}

export interface IngestResult {
  report: ValidationReport;
  rows: number;
  trainRows: number;
  testRows: number;
  files: { raw: string; train: string; test: string };
}

/** CSV text of selected rows of a frame, target last (the seed's column layout). */
export function frameToCsv(frame: Frame, y: Float64Array | undefined, target: string, idx?: ArrayLike<number>): string {
  const cols = [...Object.keys(frame.numeric), ...Object.keys(frame.categorical)];
  const header = y ? [...cols, target] : cols;
  const n = idx ? idx.length : frame.nRows;
  function* rows(): Generator<Cell[]> {
    for (let k = 0; k < n; k++) {
      const i = idx ? idx[k] : k;
      const r: Cell[] = [];
      for (const c of Object.keys(frame.numeric)) {
        const x = frame.numeric[c][i];
        r.push(Number.isNaN(x) ? null : x);
      }
      for (const c of Object.keys(frame.categorical)) r.push(frame.categorical[c][i]);
      if (y) r.push(y[i]);
      yield r;
    }
  }
  return formatCsv(header, rows());
}

export async function ingest(o: IngestOptions): Promise<IngestResult> {
  const p = o.params;
  const source = o.source ?? o.env?.CARPRICE_DATA_URL ?? p.data_source.raw_data;
  const outDir = o.outDir ?? p.data_ingestion.output_dir;
  const v = await loadListings(source, { ...o, requireTarget: true });
  const s = splitIndices(v.frame.nRows, p.data_ingestion.test_size, p.data_ingestion.random_state);
  const files = { raw: join(outDir, 'raw.csv'), train: join(outDir, 'train.csv'), test: join(outDir, 'test.csv') };
  const target = v.schema.target;
  try {
    writeFileAtomic(files.raw, frameToCsv(v.frame, v.y, target));
    writeFileAtomic(files.train, frameToCsv(v.frame, v.y, target, s.train));
    writeFileAtomic(files.test, frameToCsv(v.frame, v.y, target, s.test));
  } catch (e) {
    throw new AppError(
      'FILE_UNREADABLE',
      `could not write the split to ${outDir}: ${(e as Error).message}; give --out a writable folder`,
      { cause: e },
    );
  }
  return { report: v.report, rows: v.frame.nRows, trainRows: s.train.length, testRows: s.test.length, files };
}
