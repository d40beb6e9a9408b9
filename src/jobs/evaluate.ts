/**
 * The evaluate use case: metrics of a saved model bundle on a listings file.
 *
 * The file is validated and scored a chunk of rows at a time (a local CSV is streamed):
 * memory holds the chunk plus two numbers per listing (price and prediction) and, when
 * duplicates are dropped, a 16-byte digest per distinct row, not the file. Rows are checked
 * against the bundle's own input schema and params.yaml's plausible ranges; bad rows are
 * dropped and reported as in training, and more of them than
 * data_ingestion.max_invalid_fraction fail the run.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import type { Logger } from '../core/logger.js';
import { ModelBundle } from '../bundle/model-bundle.js';
import { ListingValidator, describeReport, keepRows, type BadCell, type ValidationReport } from '../data/validate.js';
import { newStats, type TransformStats } from '../features/transformer.js';
import { regressionMetrics, type RegressionMetrics } from '../ml/metrics.js';
import { readListingChunks, schemaFromBundle, withOptionalColumns } from './load-listings.js';

export interface EvaluateOptions {
  params: Params;
  /** Bundle directory, or an already loaded bundle. */
  model: string | ModelBundle;
  data: string;
  env?: Env;
  logger?: Logger;
  signal?: AbortSignal;
  onReport?: (summary: string) => void;
  /** Rows scored at a time (default 2,000). */
  chunkRows?: number;
}

export interface EvaluateResult {
  metrics: RegressionMetrics;
  /** Categories never seen in training, per column. */
  unknownCategories: TransformStats['unknownCategories'];
}

/** A growable Float64Array. */
class Column {
  data = new Float64Array(1024);
  length = 0;
  push(xs: Float64Array): void {
    while (this.length + xs.length > this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data.set(xs, this.length);
    this.length += xs.length;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  const bundle = typeof o.model === 'string' ? ModelBundle.load(o.model) : o.model;
  const schema = schemaFromBundle(bundle.inputSchema);
  const dropDuplicates = o.params.data_ingestion.drop_duplicates;
  const seen = new Set<string>();
  const stats = newStats();
  const y = new Column();
  const pred = new Column();
  const bad: BadCell[] = [];
  let validator: ListingValidator | undefined;
  let source = o.data;
  let rowsRead = 0;
  let duplicates = 0;
  let invalid = 0;
  for await (const chunk of readListingChunks(o.data, {
    params: o.params,
    env: o.env,
    signal: o.signal,
    chunkRows: o.chunkRows,
  })) {
    if (o.signal?.aborted) throw new AppError('INTERRUPTED', 'evaluation interrupted');
    source = chunk.origin.source;
    validator ??= new ListingValidator(chunk.columns, schema, chunk.origin, {
      requireTarget: true,
      ranges: o.params.ranges,
    });
    rowsRead += chunk.rows.length;
    let rows = chunk.rows;
    let rowNumbers = chunk.rowNumbers;
    if (dropDuplicates) {
      rows = [];
      rowNumbers = [];
      chunk.rows.forEach((r, i) => {
        const key = createHash('md5').update(JSON.stringify(r)).digest('base64');
        if (seen.has(key)) duplicates++;
        else {
          seen.add(key);
          rows.push(r);
          rowNumbers.push(chunk.rowNumbers[i]);
        }
      });
    }
    const checked = validator.check(rows, rowNumbers);
    for (const b of checked.bad) if (bad.length < 1000) bad.push(b);
    const keep: number[] = [];
    for (let i = 0; i < checked.n; i++) {
      if (checked.rowBad[i]) invalid++;
      else keep.push(i);
    }
    if (keep.length === 0) continue;
    const kept = keepRows(checked, keep);
    y.push(kept.y!);
    pred.push(bundle.predictFrame(withOptionalColumns(kept.frame, bundle.inputSchema), stats));
  }
  const n = rowsRead - duplicates;
  if (rowsRead === 0) throw new AppError('DATA_EMPTY', `${source} has a header but no listings`);
  const report: ValidationReport = {
    source,
    rowsRead,
    duplicatesDropped: duplicates,
    invalidRowsDropped: invalid,
    rowsKept: n - invalid,
    badCells: bad,
    missingOptional: validator?.missingOptional ?? [],
  };
  const listBad = (limit: number) =>
    bad
      .slice(0, limit)
      .map((b) => `  row ${b.row}, ${b.column}: ${JSON.stringify(b.value)} (${b.reason})`)
      .join('\n') + (invalid > limit ? `\n  ... and more` : '');
  const maxInvalid = o.params.data_ingestion.max_invalid_fraction;
  if (n > 0 && invalid / n > maxInvalid)
    throw new AppError(
      'DATA_INVALID',
      `${source}: ${invalid} of ${n} rows (${((100 * invalid) / n).toFixed(1)}%) have invalid cells, more than the ${(100 * maxInvalid).toFixed(1)}% allowed; fix them or raise data_ingestion.max_invalid_fraction:\n${listBad(20)}`,
      { details: { badCells: bad } },
    );
  if (y.length === 0)
    throw new AppError('DATA_EMPTY', `${source}: no valid listings left after validation:\n${listBad(20)}`);
  o.logger?.debug({ report: { ...report, badCells: bad.length } }, 'listings validated');
  o.onReport?.(describeReport(report));
  return { metrics: regressionMetrics(y.view(), pred.view()), unknownCategories: stats.unknownCategories };
}
