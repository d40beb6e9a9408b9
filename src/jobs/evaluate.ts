/**
 * The evaluate use case: metrics of a saved model bundle on a listings file.
 *
 * The file is validated and scored a chunk of rows at a time (listing-batches.ts: a local
 * CSV is read columnar, no per-row objects) by the bundle's BatchScorer, the prices
 * `carprice predict --data` gives, and the metrics are accumulated as the chunks go
 * (RegressionAccumulator): memory holds the chunk, one number per listing for the median
 * percentage error (medape, the one metric that needs every row; r2, rmse, mae, mape and
 * within10 are running sums) and, when duplicates are dropped, a 64-bit digest per
 * distinct row (16-32 bytes), never the file or its prices. Rows are checked
 * against the bundle's own input schema and params.yaml's plausible ranges; bad rows are
 * dropped and reported as in training, and more of them than
 * data_ingestion.max_invalid_fraction fail the run.
 */
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import type { Logger } from '../core/logger.js';
import { ModelBundle } from '../bundle/model-bundle.js';
import { BatchScorer } from '../bundle/batch-scorer.js';
import { ListingValidator, describeReport, type BadCell, type ValidationReport } from '../data/validate.js';
import { newStats, type TransformStats } from '../features/transformer.js';
import { RegressionAccumulator, type RegressionMetrics } from '../ml/metrics.js';
import { schemaFromBundle, type ProgressFactory } from './load-listings.js';
import { listingBatches } from './listing-batches.js';
import { RowDigestSet } from '../data/row-digest-set.js';

export interface EvaluateOptions {
  params: Params;
  /** Bundle directory, or an already loaded bundle. */
  model: string | ModelBundle;
  data: string;
  env?: Env;
  logger?: Logger;
  signal?: AbortSignal;
  onReport?: (summary: string) => void;
  /** Rows of a workbook scored at a time (default 2,000; a CSV is read ~256 KiB at a time). */
  chunkRows?: number;
  /** Progress meter of the read (a TTY meter in the CLI). */
  progress?: ProgressFactory;
}

export interface EvaluateResult {
  metrics: RegressionMetrics;
  /** Categories never seen in training, per column. */
  unknownCategories: TransformStats['unknownCategories'];
}

export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  const bundle = typeof o.model === 'string' ? ModelBundle.load(o.model) : o.model;
  const schema = schemaFromBundle(bundle.inputSchema);
  const seen = o.params.data_ingestion.drop_duplicates ? new RowDigestSet() : null;
  const stats = newStats();
  const metrics = new RegressionAccumulator();
  const bad: BadCell[] = [];
  const scorer = new BatchScorer(bundle);
  let validator: ListingValidator | undefined;
  let source = o.data;
  let rowsRead = 0;
  let duplicates = 0;
  let invalid = 0;
  for await (const batch of listingBatches(o.data, {
    params: o.params,
    env: o.env,
    signal: o.signal,
    chunkRows: o.chunkRows,
    progress: o.progress,
    step: 'evaluating',
    what: 'evaluation',
  })) {
    source = batch.origin.source;
    validator ??= new ListingValidator(batch.columns, schema, batch.origin, {
      requireTarget: true,
      ranges: o.params.ranges,
    });
    const n = batch.n;
    rowsRead += n;
    // skip: 1 for an exact duplicate of an earlier row (dropped before validation, as in
    // training), 2 for a row with a bad cell
    const skip = new Uint8Array(n);
    if (seen) {
      const { hi, lo } = batch.rowHashes();
      for (let i = 0; i < n; i++)
        if (!seen.add(hi[i], lo[i])) {
          skip[i] = 1;
          duplicates++;
        }
    }
    const checked = batch.check(validator);
    if (checked.bad.length) {
      const dupRows = new Set<number>();
      for (let i = 0; i < n; i++) if (skip[i]) dupRows.add(batch.rowNumbers[i]);
      for (const b of checked.bad) if (bad.length < 1000 && !dupRows.has(b.row)) bad.push(b);
    }
    for (let i = 0; i < n; i++)
      if (!skip[i] && checked.rowBad[i]) {
        skip[i] = 2;
        invalid++;
      }
    const { numeric, categorical } = scorer.layout;
    const prices = scorer.score(
      n,
      numeric.map((c) => checked.numeric[c]),
      categorical.map((c) => checked.categorical[c]),
      skip,
      stats.unknownCategories,
    );
    const target = checked.y!;
    for (let i = 0; i < n; i++) if (!skip[i]) metrics.add(target[i], prices[i], batch.rowNumbers[i]);
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
  if (metrics.n === 0)
    throw new AppError('DATA_EMPTY', `${source}: no valid listings left after validation:\n${listBad(20)}`);
  o.logger?.debug({ report: { ...report, badCells: bad.length } }, 'listings validated');
  o.onReport?.(describeReport(report));
  return { metrics: metrics.result(), unknownCategories: stats.unknownCategories };
}
