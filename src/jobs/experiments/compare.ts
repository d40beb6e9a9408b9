/**
 * `carprice exp compare`: every algorithm against the transformation choices that matter,
 * by k-fold cross-validation on the training split (the test rows stay unseen). One nested
 * run per combination (params: algo, variant and the keys it overrides; metrics: mean and
 * sd of every CV metric), under a parent run that records the winner and a comparison
 * table (comparison.md, comparison.csv).
 *
 * Variants change one thing from params.yaml at a time: imputation (mean instead of
 * median), encoding (target encoding for every category with more than 8 levels instead of
 * one-hot up to onehot_max_categories), scaling off, and the raw instead of the log price
 * as target. Every algorithm runs the default and the raw target. Imputation, encoding and
 * scaling matter to the penalised linear models (ridge, lasso, elasticnet: they change
 * what the penalty shrinks); tree models keep missing values, code categories and need no
 * scaling, and plain OLS is invariant to scaling and the costliest fit of all (a pivoted
 * QR of ~1,000 columns per fold), so those run the two target choices only.
 */
import { AppError } from '../../core/errors.js';
import { familyOf } from '../../ml/algorithm-catalog.js';
import { crossValidate } from '../cross-validate.js';
import {
  checkInterrupted,
  childRun,
  csvTable,
  logTextArtifact,
  markdownTable,
  trainingSplit,
  withOverrides,
  withParentRun,
  type ExperimentOptions,
} from './experiment-runs.js';

export const ALL_ALGOS = ['linear', 'ridge', 'lasso', 'elasticnet', 'tree', 'forest', 'gbdt', 'blend'] as const;

/** Transformation variants: name -> params overrides. */
export const VARIANTS: Readonly<Record<string, readonly string[]>> = {
  default: [],
  'mean-imputer': ['features.numeric_imputer=mean'],
  'target-encoding': ['features.onehot_max_categories=8'],
  'no-scaling': ['features.scale=false'],
  'raw-target': ['features.log_target=false'],
};
const INPUT_VARIANTS = new Set(['mean-imputer', 'target-encoding', 'no-scaling']);
const PENALISED = new Set(['ridge', 'lasso', 'elasticnet']);

export interface CompareOptions extends ExperimentOptions {
  algos?: readonly string[];
  variants?: readonly string[];
  /** Folds (default 5). */
  folds?: number;
  /** Metric that picks the winner: mape (default), rmse, mae, medape (lower is better) or r2, within10 (higher). */
  metric?: string;
}

export interface CompareRow {
  algo: string;
  variant: string;
  mean: Record<string, number>;
  std: Record<string, number>;
  seconds: number;
}

export interface CompareResult {
  parentRunId: string;
  experimentId: string;
  rows: CompareRow[];
  winner: CompareRow;
  metric: string;
  table: string;
}

const HIGHER_IS_BETTER = new Set(['r2', 'within10']);

export function better(metric: string): (a: number, b: number) => number {
  return HIGHER_IS_BETTER.has(metric) ? (a, b) => b - a : (a, b) => a - b;
}

/** The (algo, variant) combinations compare runs. */
export function compareCombinations(
  algos: readonly string[],
  variants: readonly string[],
): Array<{ algo: string; variant: string }> {
  const out: Array<{ algo: string; variant: string }> = [];
  for (const algo of algos)
    for (const variant of variants) {
      if (INPUT_VARIANTS.has(variant) && !PENALISED.has(algo)) continue;
      out.push({ algo, variant });
    }
  return out;
}

export async function compare(o: CompareOptions): Promise<CompareResult> {
  const algos = o.algos ?? ALL_ALGOS;
  const variants = o.variants ?? Object.keys(VARIANTS);
  for (const a of algos) if (a !== 'blend') familyOf(a);
  for (const v of variants)
    if (!VARIANTS[v])
      throw new AppError('USAGE', `unknown variant "${v}"; choose from ${Object.keys(VARIANTS).join(', ')}`);
  const metric = o.metric ?? 'mape';
  if (!['mape', 'rmse', 'mae', 'medape', 'r2', 'within10'].includes(metric))
    throw new AppError('USAGE', `--metric must be one of mape, rmse, mae, medape, r2, within10; got "${metric}"`);
  const folds = o.folds ?? 5;
  const combos = compareCombinations(algos, variants);
  const { train, source } = await trainingSplit(o);
  const experimentName = o.experimentName ?? 'model-comparison';
  return withParentRun(
    o.client,
    {
      experimentName,
      runName: `compare-${combos.length}x${folds}fold`,
      tags: { 'carprice.experiment': 'compare', 'mlflow.source.name': 'carprice exp compare' },
      params: {
        data: source,
        train_rows: train.frame.nRows,
        folds,
        metric,
        algos: algos.join(','),
        variants: variants.join(','),
        seed: o.params.data_ingestion.random_state,
      },
    },
    async (parent) => {
      const rows: CompareRow[] = [];
      for (const [i, c] of combos.entries()) {
        checkInterrupted(o.signal);
        o.onProgress?.({ done: i, total: combos.length, label: `${c.algo} ${c.variant}` });
        const params = withOverrides(o.params, VARIANTS[c.variant]);
        const t0 = performance.now();
        let row: CompareRow | undefined;
        const overrides = Object.fromEntries(VARIANTS[c.variant].map((s) => s.split('=') as [string, string]));
        await childRun(
          o.client,
          parent,
          {
            runName: `${c.algo}-${c.variant}`,
            params: { algo: c.algo, variant: c.variant, folds, ...overrides },
            tags: { 'carprice.algo': c.algo, 'carprice.variant': c.variant },
          },
          async () => {
            const r = await crossValidate({
              params,
              data: source,
              algo: c.algo,
              folds,
              listings: train,
              env: o.env,
              signal: o.signal,
            });
            row = {
              algo: c.algo,
              variant: c.variant,
              mean: r.mean,
              std: r.std,
              seconds: (performance.now() - t0) / 1000,
            };
            return {
              ...Object.fromEntries(Object.entries(r.mean).map(([k, v]) => [`cv_${k}`, v])),
              ...Object.fromEntries(Object.entries(r.std).map(([k, v]) => [`cv_${k}_sd`, v])),
              seconds: row.seconds,
            };
          },
          o.report,
        );
        if (row) rows.push(row);
        o.report?.(
          row
            ? `${c.algo} ${c.variant}: CV MAPE ${(100 * row.mean.mape).toFixed(2)}%, R² ${row.mean.r2.toFixed(4)} (${row.seconds.toFixed(1)} s)`
            : `${c.algo} ${c.variant}: failed`,
        );
      }
      o.onProgress?.({ done: combos.length, total: combos.length, label: 'done' });
      if (!rows.length)
        throw new AppError('MODEL_INVALID', 'every combination failed; see the runs in the tracking store');
      const order = better(metric);
      const sorted = [...rows].sort((a, b) => order(a.mean[metric], b.mean[metric]));
      const winner = sorted[0];
      const headers = [
        'rank',
        'algo',
        'variant',
        'CV R²',
        'R² sd',
        'CV RMSE',
        'CV MAE',
        'CV MAPE %',
        'MAPE sd',
        'MedAPE %',
        'seconds',
      ];
      const cells = sorted.map((r, k) => [
        k + 1,
        r.algo,
        r.variant,
        r.mean.r2.toFixed(4),
        r.std.r2.toFixed(3),
        r.mean.rmse.toFixed(0),
        r.mean.mae.toFixed(0),
        (100 * r.mean.mape).toFixed(2),
        (100 * r.std.mape).toFixed(2),
        (100 * r.mean.medape).toFixed(2),
        r.seconds.toFixed(1),
      ]);
      const table = markdownTable(headers, cells);
      await logTextArtifact(
        o.client,
        parent.runId,
        'comparison.md',
        `# ${folds}-fold CV on ${train.frame.nRows} training listings, ranked by ${metric}\n\n${table}`,
      );
      await logTextArtifact(o.client, parent.runId, 'comparison.csv', csvTable(headers, cells));
      await o.client.logParams(parent.runId, { winner_algo: winner.algo, winner_variant: winner.variant });
      await o.client.logMetrics(
        parent.runId,
        Object.fromEntries(Object.entries(winner.mean).map(([k, v]) => [`best_cv_${k}`, v])),
      );
      await o.client.setTags(parent.runId, { 'carprice.winner': `${winner.algo} ${winner.variant}` });
      return { parentRunId: parent.runId, experimentId: parent.experimentId, rows, winner, metric, table };
    },
  );
}
