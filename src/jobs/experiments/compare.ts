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
 * as target. Every algorithm meets every variant, except plain OLS with scaling off (OLS is
 * invariant to column scaling: the same predictions up to rounding).
 *
 * The work is shared so that the whole comparison costs little more than its distinct
 * fits (jobs/cross-validate.ts SharedCrossValidation): each variant is one batch whose
 * feature pipelines are fitted once per fold for all algorithms, whose fits of all folds
 * run in one worker pool, and whose linear fits of one fold share a Gram matrix; a fit
 * already made for an earlier variant is reused (the blend's gbdt member does not depend
 * on how the linear inputs are imputed, encoded or scaled). A combination whose training
 * and test matrices equal those of an earlier one on every fold (a tree model under a
 * linear-input variant: trees keep missing values, code categories and ignore scaling) is
 * listed as identical in effect and not run. Forests are capped at FOREST_TREES trees for
 * the comparison (stated in the table): their CV error settles long before params.yaml's
 * count, and they are the one algorithm whose cost would dominate.
 */
import { AppError } from '../../core/errors.js';
import { familyOf } from '../../ml/algorithm-catalog.js';
import type { Params } from '../../config/params.js';
import { SharedCrossValidation, type CvSpec, type CvSpecResult } from '../cross-validate.js';
import {
  checkInterrupted,
  csvTable,
  logTextArtifact,
  markdownTable,
  trainingSplit,
  withOverrides,
  withParentRun,
  type ExperimentOptions,
} from './experiment-runs.js';
import type { RunInfo } from '../../tracking/entities.js';

/** Trees of a forest in the comparison (params.yaml's count when lower). */
export const FOREST_TREES = 100;

export const ALL_ALGOS = ['linear', 'ridge', 'lasso', 'elasticnet', 'tree', 'forest', 'gbdt', 'blend'] as const;

/** Transformation variants: name -> params overrides. */
export const VARIANTS: Readonly<Record<string, readonly string[]>> = {
  default: [],
  'mean-imputer': ['features.numeric_imputer=mean'],
  'target-encoding': ['features.onehot_max_categories=8'],
  'no-scaling': ['features.scale=false'],
  'raw-target': ['features.log_target=false'],
};

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
  /** Worker seconds of the fits the combination needed (a fit shared by several counts for each). */
  seconds: number;
  /** Which of its fits stopped at their iteration limit without converging (absent: all converged). */
  notConverged?: string;
}

/** A combination not run, and why. */
export interface SkippedCombination {
  algo: string;
  variant: string;
  reason: string;
}

export interface CompareResult {
  parentRunId: string;
  experimentId: string;
  rows: CompareRow[];
  skipped: SkippedCombination[];
  winner: CompareRow;
  metric: string;
  table: string;
}

const HIGHER_IS_BETTER = new Set(['r2', 'within10']);

export function better(metric: string): (a: number, b: number) => number {
  return HIGHER_IS_BETTER.has(metric) ? (a, b) => b - a : (a, b) => a - b;
}

/** "lasso on 5 of 5 folds (max_iter: 1000 sweeps, duality gap 3.1e+9)": which fits stopped without converging. */
export function notConvergedNote(fits: NonNullable<CvSpecResult['notConverged']>, folds: number): string {
  const byAlgo = new Map<string, typeof fits>();
  for (const f of fits) byAlgo.set(f.algo, [...(byAlgo.get(f.algo) ?? []), f]);
  return [...byAlgo]
    .map(([algo, xs]) => {
      const i = xs[0].info;
      const gap = typeof i.dual_gap === 'number' ? `, duality gap ${i.dual_gap.toExponential(1)}` : '';
      return `${algo} on ${new Set(xs.map((x) => x.fold)).size} of ${folds} folds (${String(i.stopped_by ?? 'max_iter')}: ${String(i.n_iter ?? '?')} iterations${gap})`;
    })
    .join('; ');
}

/** The (algo, variant) combinations compare runs: all but OLS with scaling off. */
export function compareCombinations(
  algos: readonly string[],
  variants: readonly string[],
): Array<{ algo: string; variant: string }> {
  return algos.flatMap((algo) =>
    variants
      .filter((variant) => !(algo === 'linear' && variant === 'no-scaling'))
      .map((variant) => ({ algo, variant })),
  );
}

const OLS_SCALING = 'OLS is invariant to column scaling (the same predictions up to rounding)';

/** params.yaml with the comparison's caps: at most FOREST_TREES trees per forest. */
export function compareParams(params: Params): Params {
  const forest = params.model_trainer.params.forest ?? {};
  const trees = Number(forest.n_estimators ?? 100);
  if (trees <= FOREST_TREES) return params;
  return {
    ...params,
    model_trainer: {
      ...params.model_trainer,
      params: { ...params.model_trainer.params, forest: { ...forest, n_estimators: FOREST_TREES } },
    },
  };
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
  if (!Number.isInteger(folds) || folds < 2)
    throw new AppError('USAGE', `--folds must be an integer >= 2, got ${folds}`);
  const combos = compareCombinations(algos, variants);
  const skipped: SkippedCombination[] = algos
    .filter((a) => a === 'linear' && variants.includes('no-scaling'))
    .map((algo) => ({ algo, variant: 'no-scaling', reason: OLS_SCALING }));
  const { train, source } = await trainingSplit(o);
  const base = compareParams(o.params);
  const forestTrees = Number(base.model_trainer.params.forest?.n_estimators ?? 100);
  const forestNote =
    base === o.params
      ? ''
      : `forest: ${forestTrees} trees instead of params.yaml's ${String(o.params.model_trainer.params.forest?.n_estimators)} (its CV error settles long before; every other setting as params.yaml)`;
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
        ...(forestNote ? { forest_trees: forestTrees } : {}),
      },
    },
    async (parent) => {
      const cv = new SharedCrossValidation({
        listings: train,
        data: source,
        folds,
        seed: o.params.data_ingestion.random_state,
        env: o.env,
        signal: o.signal,
      });
      const rows: CompareRow[] = [];
      let finished = 0;
      // one batch per variant, in the order given: its children end FINISHED when it ends
      for (const variant of variants) {
        const mine = combos.filter((c) => c.variant === variant);
        if (!mine.length) continue;
        checkInterrupted(o.signal);
        const params = withOverrides(base, VARIANTS[variant]);
        const overrides = Object.fromEntries(VARIANTS[variant].map((s) => s.split('=') as [string, string]));
        const label = (c: { algo: string; variant: string }) => `${c.algo} ${c.variant}`;
        const specs: CvSpec[] = mine.map((c) => ({ label: label(c), algo: c.algo, params }));
        o.onProgress?.({ done: finished, total: combos.length, label: `${variant}: ${mine.length} algorithms` });
        const results = await childRuns(o, parent, mine, folds, overrides, () =>
          cv.run(specs, (done, total) =>
            o.onProgress?.({
              done: finished + Math.floor((mine.length * done) / Math.max(1, total + 1)),
              total: combos.length,
              label: `${variant}: fit ${done} of ${total}`,
            }),
          ),
        );
        finished += mine.length;
        mine.forEach((c, i) => {
          const r = results[i];
          if (r.sameAs) {
            skipped.push({
              algo: c.algo,
              variant,
              reason: `identical in effect to ${r.sameAs}: the same training and test matrices on every fold`,
            });
            o.report?.(`${label(c)}: identical in effect to ${r.sameAs} (not run)`);
            return;
          }
          const unconverged = r.notConverged ? notConvergedNote(r.notConverged, folds) : undefined;
          rows.push({
            algo: c.algo,
            variant,
            mean: r.mean,
            std: r.std,
            seconds: r.seconds,
            ...(unconverged ? { notConverged: unconverged } : {}),
          });
          o.report?.(
            `${label(c)}: CV MAPE ${(100 * r.mean.mape).toFixed(2)}%, R² ${r.mean.r2.toFixed(4)} (${r.seconds.toFixed(1)} s of fits)${unconverged ? `; NOT CONVERGED: ${unconverged}` : ''}`,
          );
        });
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
        'fit s',
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
        r.seconds.toFixed(1) + (r.notConverged ? ' (not converged)' : ''),
      ]);
      const notes = [
        ...(forestNote ? [`- ${forestNote}`] : []),
        "- fit s: worker seconds of the fits a combination needed; a fit shared by several (ridge alone and the blend's ridge member) counts for each",
        ...skipped.map((x) => `- not run: ${x.algo} ${x.variant}: ${x.reason}`),
        ...rows
          .filter((r) => r.notConverged)
          .map(
            (r) =>
              `- not converged: ${r.algo} ${r.variant}: ${r.notConverged} (its figures are those of the unconverged fit)`,
          ),
      ];
      const table = markdownTable(headers, cells) + (notes.length ? `\n${notes.join('\n')}\n` : '');
      await logTextArtifact(
        o.client,
        parent.runId,
        'comparison.md',
        `# ${folds}-fold CV on ${train.frame.nRows} training listings, ranked by ${metric}\n\n${table}`,
      );
      await logTextArtifact(
        o.client,
        parent.runId,
        'comparison.csv',
        csvTable(
          [...headers, 'note'],
          [
            ...cells.map((c) => [...c, '']),
            ...skipped.map((x) => ['', x.algo, x.variant, '', '', '', '', '', '', '', '', `not run: ${x.reason}`]),
          ],
        ),
      );
      await o.client.logParams(parent.runId, { winner_algo: winner.algo, winner_variant: winner.variant });
      await o.client.logMetrics(
        parent.runId,
        Object.fromEntries(Object.entries(winner.mean).map(([k, v]) => [`best_cv_${k}`, v])),
      );
      await o.client.setTags(parent.runId, { 'carprice.winner': `${winner.algo} ${winner.variant}` });
      return { parentRunId: parent.runId, experimentId: parent.experimentId, rows, skipped, winner, metric, table };
    },
  );
}

/**
 * The nested runs of one variant's combinations: started before `body` runs, FINISHED with
 * their CV metrics when it returns (a combination identical in effect to an earlier one
 * keeps that one's metrics, which are its own, and the tag carprice.same_as naming it),
 * KILLED when interrupted, FAILED when the batch failed.
 */
async function childRuns(
  o: CompareOptions,
  parent: RunInfo,
  combos: ReadonlyArray<{ algo: string; variant: string }>,
  folds: number,
  overrides: Record<string, string>,
  body: () => ReturnType<SharedCrossValidation['run']>,
): ReturnType<SharedCrossValidation['run']> {
  const runs: string[] = [];
  for (const c of combos) {
    const run = await o.client.startRun({
      experimentId: parent.experimentId,
      parentRunId: parent.runId,
      runName: `${c.algo}-${c.variant}`,
      tags: { 'carprice.algo': c.algo, 'carprice.variant': c.variant },
    });
    runs.push(run.runId);
    await o.client.logParams(run.runId, { algo: c.algo, variant: c.variant, folds, ...overrides });
  }
  let results;
  try {
    results = await body();
  } catch (e) {
    const status = e instanceof AppError && e.code === 'INTERRUPTED' ? 'KILLED' : 'FAILED';
    for (const id of runs) await o.client.endRun(id, status).catch(() => undefined);
    throw e;
  }
  for (const [i, id] of runs.entries()) {
    const r = results[i];
    if (r.sameAs) await o.client.setTags(id, { 'carprice.same_as': r.sameAs });
    if (r.notConverged) await o.client.setTags(id, { 'carprice.converged': 'false' });
    await o.client.logMetrics(id, {
      ...Object.fromEntries(Object.entries(r.mean).map(([k, v]) => [`cv_${k}`, v])),
      ...Object.fromEntries(Object.entries(r.std).map(([k, v]) => [`cv_${k}_sd`, v])),
      seconds: r.seconds,
    });
    await o.client.endRun(id, 'FINISHED');
  }
  return results;
}
