/**
 * `carprice exp tune --algo A`: hyper-parameter search for one algorithm on a seeded
 * validation split of the training rows (80% fit / 20% validation; the test rows stay
 * unseen). The feature pipeline is fitted once on the fit rows; every candidate is one
 * estimator fit on the resulting matrix, spread over the worker threads.
 *
 *  1. the grid: for gbdt the seed's 27 points (n_estimators {100,200,300} x max_depth
 *     {3,6,10} x learning_rate {0.01,0.1,0.2}), other keys as in params.yaml;
 *  2. a wider search of the same budget (`--budget`, in full fits): `random` samples
 *     `budget` candidates from a wider space; `halving` (successive halving, eta 3) samples
 *     3 x budget candidates, scores them on 1/9 of the fit rows, keeps the best third on
 *     1/3 of the rows and the best ninth on all of them: 3b/9 + b/3 + b/3... = the cost of
 *     `budget` full fits, with nine times as many configurations looked at.
 * One nested run per candidate and rung; the parent holds the best params and metrics,
 * which `applyTuned` can write into params.yaml.
 */
import { AppError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { takeValues } from '../../data/frame.js';
import { prepareFeatures } from '../../bundle/train-bundle.js';
import { inverseTarget } from '../../features/target-transform.js';
import { familyOf } from '../../ml/algorithm-catalog.js';
import { fitEstimators, type FitJob } from '../../ml/parallel-fit.js';
import type { Regressor } from '../../ml/estimator.js';
import { takeRows } from '../../ml/matrix.js';
import { regressionMetrics } from '../../ml/metrics.js';
import { trainingOptions, trainingThreads } from '../training-options.js';
import { better } from './compare.js';
import {
  checkInterrupted,
  childRun,
  csvTable,
  logTextArtifact,
  markdownTable,
  trainingSplit,
  withParentRun,
  type ExperimentOptions,
} from './experiment-runs.js';

type Value = number | string;
type Candidate = Record<string, Value>;

/** A search dimension: a list of choices, or a range sampled uniformly (log: log-uniformly; int: rounded). */
type Dimension = { choices: readonly Value[] } | { min: number; max: number; log?: boolean; int?: boolean };

interface Space {
  grid: Record<string, readonly Value[]>;
  wide: Record<string, Dimension>;
}

const LOG_ALPHAS = (lo: number, hi: number, n: number) =>
  Array.from({ length: n }, (_, i) => Number((lo * (hi / lo) ** (i / (n - 1))).toPrecision(3)));

/** Search spaces per algorithm; gbdt's grid is the seed's. */
export const SPACES: Readonly<Record<string, Space>> = {
  gbdt: {
    grid: { n_estimators: [100, 200, 300], max_depth: [3, 6, 10], learning_rate: [0.01, 0.1, 0.2] },
    wide: {
      n_estimators: { min: 100, max: 1500, log: true, int: true },
      max_depth: { min: 2, max: 10, int: true },
      learning_rate: { min: 0.01, max: 0.3, log: true },
      subsample: { min: 0.5, max: 1 },
      colsample_bytree: { min: 0.3, max: 1 },
      min_child_weight: { min: 0.5, max: 20, log: true },
      reg_lambda: { min: 0.1, max: 20, log: true },
    },
  },
  forest: {
    grid: { n_estimators: [100, 200, 300], max_features: [0.3, 0.5, 0.8], min_samples_leaf: [1, 2, 5] },
    wide: {
      n_estimators: { min: 100, max: 500, int: true },
      max_features: { min: 0.1, max: 1 },
      min_samples_leaf: { min: 1, max: 10, int: true },
    },
  },
  tree: {
    grid: { max_depth: [4, 8, 12], min_samples_leaf: [1, 5, 20], max_features: [0.5, 0.8, 1] },
    wide: {
      max_depth: { min: 2, max: 20, int: true },
      min_samples_leaf: { min: 1, max: 50, log: true, int: true },
      max_features: { min: 0.2, max: 1 },
    },
  },
  ridge: { grid: { alpha: LOG_ALPHAS(1e-4, 100, 27) }, wide: { alpha: { min: 1e-5, max: 1000, log: true } } },
  lasso: { grid: { alpha: LOG_ALPHAS(1e-5, 0.1, 27) }, wide: { alpha: { min: 1e-6, max: 1, log: true } } },
  elasticnet: {
    grid: { alpha: LOG_ALPHAS(1e-5, 0.1, 9), l1_ratio: [0.1, 0.5, 0.9] },
    wide: { alpha: { min: 1e-6, max: 1, log: true }, l1_ratio: { min: 0, max: 1 } },
  },
};

export type SearchKind = 'random' | 'halving' | 'none';

export interface TuneOptions extends ExperimentOptions {
  algo: string;
  search?: SearchKind;
  /** Budget of the search in full fits (default: the grid's size). */
  budget?: number;
  /** Skip the grid (search only). */
  noGrid?: boolean;
  /** Metric to minimise/maximise on the validation rows (default mape). */
  metric?: string;
}

export interface TuneCandidate {
  source: 'grid' | 'random' | 'halving';
  rung: number;
  rows: number;
  params: Candidate;
  metrics: Record<string, number>;
}

export interface TuneResult {
  parentRunId: string;
  experimentId: string;
  algo: string;
  metric: string;
  best: TuneCandidate;
  /** params.yaml's current settings of the algorithm, scored the same way. */
  current: TuneCandidate;
  candidates: TuneCandidate[];
  table: string;
}

/** Every point of a grid, first key slowest. */
export function gridPoints(grid: Record<string, readonly Value[]>): Candidate[] {
  let out: Candidate[] = [{}];
  for (const [k, values] of Object.entries(grid)) out = out.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  return out;
}

/** `n` seeded samples of a space. */
export function samplePoints(space: Record<string, Dimension>, n: number, seed: number): Candidate[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const c: Candidate = {};
    for (const [k, d] of Object.entries(space)) {
      if ('choices' in d) c[k] = d.choices[rng.int(d.choices.length)];
      else {
        const u = rng.next();
        let x = d.log
          ? Math.exp(Math.log(d.min) + u * (Math.log(d.max) - Math.log(d.min)))
          : d.min + u * (d.max - d.min);
        x = d.int ? Math.round(x) : Number(x.toPrecision(3));
        c[k] = x;
      }
    }
    return c;
  });
}

const paramString = (c: Candidate) =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export async function tune(o: TuneOptions): Promise<TuneResult> {
  const algo = o.algo;
  const space = SPACES[algo];
  if (!space)
    throw new AppError(
      'USAGE',
      `exp tune supports ${Object.keys(SPACES).join(', ')}; got "${algo}" (a blend is tuned through its members)`,
    );
  familyOf(algo);
  const search: SearchKind = o.search ?? 'halving';
  if (!['random', 'halving', 'none'].includes(search))
    throw new AppError('USAGE', `--search must be random, halving or none; got "${search}"`);
  const metric = o.metric ?? 'mape';
  const grid = o.noGrid ? [] : gridPoints(space.grid);
  const budget = o.budget ?? (grid.length || 27);
  if (!Number.isInteger(budget) || budget < 1)
    throw new AppError('USAGE', `--budget must be a whole number >= 1, got ${budget}`);
  const threads = trainingThreads(o.env);
  const p = o.params;
  const { train, source } = await trainingSplit(o);

  // fit / validation split of the training rows, then the features fitted once on the fit rows
  const n = train.frame.nRows;
  const perm = new Rng(p.base.random_state + 7).permutation(n);
  const nVal = Math.max(1, Math.floor(n * 0.2));
  const valIdx = Array.from(perm.subarray(0, nVal)).sort((a, b) => a - b);
  const fitIdx = Array.from(perm.subarray(nVal)).sort((a, b) => a - b);
  const { takeFrameRows } = await import('../../data/frame.js');
  const fitFrame = takeFrameRows(train.frame, fitIdx);
  const valFrame = takeFrameRows(train.frame, valIdx);
  const yVal = takeValues(train.y!, valIdx);
  const opts = trainingOptions(p, algo);
  const prep = prepareFeatures(fitFrame, takeValues(train.y!, fitIdx), train.schema, { ...opts, signal: o.signal });
  const fam = prep.families[familyOf(algo)]!;
  const Xval = fam.pipeline.transform(valFrame);
  const base = p.model_trainer.params[algo] ?? {};
  // rows used at each rung: a seeded order of the fit rows, cut to the fraction
  const rowOrder = new Rng(p.base.random_state + 11).permutation(fitIdx.length);
  const rowsAt = (fraction: number) =>
    Array.from(rowOrder.subarray(0, Math.max(50, Math.round(fitIdx.length * fraction)))).sort((a, b) => a - b);

  const experimentName = o.experimentName ?? 'hyperparameter-tuning';
  const plan =
    grid.length + (search === 'none' ? 0 : search === 'random' ? budget : 3 * budget + budget + Math.ceil(budget / 3));
  let done = 0;
  return withParentRun(
    o.client,
    {
      experimentName,
      runName: `tune-${algo}-${grid.length ? 'grid+' : ''}${search}-${budget}`,
      tags: { 'carprice.experiment': 'tune', 'carprice.algo': algo, 'mlflow.source.name': 'carprice exp tune' },
      params: {
        algo,
        data: source,
        fit_rows: fitIdx.length,
        validation_rows: nVal,
        search,
        budget,
        grid_points: grid.length,
        metric,
        seed: p.base.random_state,
      },
    },
    async (parent) => {
      const all: TuneCandidate[] = [];
      /**
       * Fit and score candidates on `rows` of the fit rows, logging a nested run each. All
       * fits go to the worker pool at once, slowest first, and each is scored and logged as
       * it arrives. Boosting candidates that differ only in n_estimators share one fit: the
       * first k rounds of a longer fit are exactly the model with n_estimators = k
       * (Regressor.predictFirst), so the grid's 100/200/300 trees cost one 300-tree fit.
       */
      const evaluate = async (
        cands: Candidate[],
        src: TuneCandidate['source'],
        rung: number,
        rows: number[] | null,
      ): Promise<TuneCandidate[]> => {
        checkInterrupted(o.signal);
        const X = rows ? takeRows(fam.X, rows) : fam.X;
        const z = rows ? takeValues(prep.z, rows) : prep.z;
        const w = prep.weights && (rows ? takeValues(prep.weights, rows) : prep.weights);
        const full: Candidate[] = cands.map((c) => ({ ...(base as Candidate), ...c }));
        const rounds = (c: Candidate) => Number(c.n_estimators ?? 100);
        // one fit per group of candidates equal but for n_estimators (gbdt only)
        const groups = new Map<string, number[]>();
        full.forEach((c, i) => {
          const { n_estimators: _, ...rest } = c;
          const key = algo === 'gbdt' ? JSON.stringify(Object.entries(rest).sort()) : String(i);
          groups.set(key, [...(groups.get(key) ?? []), i]);
        });
        const fits = [...groups.values()].map((members) => {
          const longest = members.reduce((a, b) => (rounds(full[b]) > rounds(full[a]) ? b : a));
          return { members, params: full[longest] };
        });
        // a rough cost to hand out the longest fits first: rounds x depth (trees), else equal
        const cost = (c: Candidate) =>
          rounds(c) * Number(c.max_depth ?? 6) * (c.max_features !== undefined ? Number(c.max_features) : 1);
        fits.sort((a, b) => cost(b.params) - cost(a.params));
        const out = new Array<TuneCandidate>(cands.length);
        const startIndex = all.length;
        let logging: Promise<unknown> = Promise.resolve();
        let logError: Error | undefined;
        o.onProgress?.({
          done,
          total: plan,
          label: `${src}${rung ? ` rung ${rung}` : ''}: ${cands.length} candidates`,
        });
        const score = (model: Regressor, c: Candidate, longest: Candidate): Record<string, number> => {
          const raw =
            rounds(c) < rounds(longest) && model.predictFirst
              ? model.predictFirst(Xval, rounds(c))
              : model.predict(Xval);
          const pred = inverseTarget(prep.transform, raw);
          const m = pred.every(Number.isFinite) ? regressionMetrics(yVal, pred) : undefined;
          return m
            ? { r2: m.r2, rmse: m.rmse, mae: m.mae, mape: m.mape, medape: m.medape, within10: m.within10 }
            : { r2: -Infinity, rmse: Infinity, mae: Infinity, mape: Infinity, medape: Infinity, within10: 0 };
        };
        const arrived = (k: number, model: Regressor, seconds: number) => {
          const { members, params: longest } = fits[k];
          for (const i of members) {
            const c = cands[i];
            const metrics = {
              ...score(model, full[i], longest),
              seconds: (seconds * rounds(full[i])) / rounds(longest),
            };
            const cand: TuneCandidate = { source: src, rung, rows: X.nRows, params: c, metrics };
            out[i] = cand;
            done++;
            o.onProgress?.({ done, total: plan, label: `${src}${rung ? ` rung ${rung}` : ''}: ${paramString(c)}` });
            const runName = `${src}${rung ? `-r${rung}` : ''}-${startIndex + i + 1}`;
            // nested runs are written one at a time, in arrival order
            logging = logging.then(() =>
              childRun(
                o.client,
                parent,
                {
                  runName,
                  params: { ...c, source: src, rung, rows: X.nRows },
                  tags: { 'carprice.algo': algo, 'carprice.search': src },
                },
                async () =>
                  Object.fromEntries(
                    Object.entries(metrics)
                      .filter(([, v]) => Number.isFinite(v))
                      .map(([k2, v]) => [`val_${k2}`, v]),
                  ),
                o.report,
              ).catch((e: unknown) => {
                logError ??= e instanceof Error ? e : new Error(String(e));
              }),
            );
          }
        };
        const jobs: FitJob[] = fits.map((f) => ({
          algo,
          params: f.params,
          X,
          y: z,
          ...(w ? { sampleWeight: w } : {}),
        }));
        try {
          await fitEstimators(jobs, { threads, signal: o.signal, onFitted: arrived });
        } finally {
          // the candidates that finished keep their runs, also when the rest was interrupted
          await logging;
        }
        if (logError) throw logError;
        all.push(...out);
        return out;
      };
      const order = better(metric);
      const byMetric = (a: TuneCandidate, b: TuneCandidate) => order(a.metrics[metric], b.metrics[metric]);

      // params.yaml's settings are the reference, not a candidate: fitted with the grid
      if (grid.length) o.report?.(`${algo}: params.yaml's settings and a grid of ${grid.length} points`);
      const first = await evaluate([{}, ...grid], 'grid', 0, null);
      const current = first[0];
      all.splice(all.indexOf(current), 1);
      current.params = Object.fromEntries(
        Object.keys(space.grid).map((k) => [k, (base[k] as Value | undefined) ?? 'default']),
      );
      if (search === 'random') {
        o.report?.(`${algo}: random search of ${budget} points`);
        await evaluate(samplePoints(space.wide, budget, p.base.random_state + 101), 'random', 0, null);
      } else if (search === 'halving') {
        let cands = samplePoints(space.wide, 3 * budget, p.base.random_state + 101);
        const fractions = [1 / 9, 1 / 3, 1];
        for (const [r, f] of fractions.entries()) {
          o.report?.(
            `${algo}: successive halving rung ${r + 1}: ${cands.length} candidates on ${Math.round(100 * f)}% of the fit rows`,
          );
          const scored = await evaluate(cands, 'halving', r + 1, f < 1 ? rowsAt(f) : null);
          if (r === fractions.length - 1) break;
          cands = [...scored]
            .sort(byMetric)
            .slice(0, Math.max(1, Math.ceil(scored.length / 3)))
            .map((c) => c.params);
        }
      }
      o.onProgress?.({ done: plan, total: plan, label: 'done' });
      // only full-data candidates compete (earlier rungs saw fewer rows)
      const finalists = all.filter((c) => c.rows === fam.X.nRows);
      const best = [...finalists].sort(byMetric)[0] ?? current;
      const headers = ['rank', 'source', 'params', 'val R²', 'val RMSE', 'val MAPE %', 's/fit'];
      const ranked = [...finalists].sort(byMetric);
      const cells = [current, ...ranked].map((c, k) => [
        k === 0 ? 'params.yaml' : k,
        c.source,
        paramString(c.params),
        c.metrics.r2.toFixed(4),
        c.metrics.rmse.toFixed(0),
        (100 * c.metrics.mape).toFixed(2),
        c.metrics.seconds.toFixed(2),
      ]);
      const table = markdownTable(headers, cells);
      await logTextArtifact(
        o.client,
        parent.runId,
        'tuning.md',
        `# ${algo}: validation on ${nVal} of ${n} training listings, ranked by ${metric}\n\n${table}`,
      );
      await logTextArtifact(o.client, parent.runId, 'tuning.csv', csvTable(headers, cells));
      await o.client.logParams(
        parent.runId,
        Object.fromEntries(Object.entries(best.params).map(([k, v]) => [`best_${k}`, v])),
      );
      await o.client.logMetrics(parent.runId, {
        ...Object.fromEntries(
          Object.entries(best.metrics)
            .filter(([, v]) => Number.isFinite(v))
            .map(([k, v]) => [`best_val_${k}`, v]),
        ),
        ...Object.fromEntries(
          Object.entries(current.metrics)
            .filter(([, v]) => Number.isFinite(v))
            .map(([k, v]) => [`current_val_${k}`, v]),
        ),
      });
      await o.client.setTags(parent.runId, { 'carprice.best': paramString(best.params) });
      return {
        parentRunId: parent.runId,
        experimentId: parent.experimentId,
        algo,
        metric,
        best,
        current,
        candidates: all,
        table,
      };
    },
  );
}
