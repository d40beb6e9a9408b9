/**
 * K-fold cross-validation of an algorithm on validated listings: seeded folds, a bundle
 * trained per fold, metrics per fold and their mean and standard deviation. One 80/20
 * split of 7,391 listings moves R² by several points depending on which rare luxury cars
 * land in the test part; the fold mean is the steadier figure to compare models by.
 * The folds are scikit-learn's KFold(k, shuffle=True, random_state) folds row for row:
 * numpy's permutation cut into k contiguous parts, the first n % k one row longer.
 */
import { AppError } from '../core/errors.js';
import { numpyPermutation } from '../core/numpy-random.js';
import type { Params } from '../config/params.js';
import type { Env } from '../config/env.js';
import { takeFrameRows, takeValues, type Frame } from '../data/frame.js';
import { createHash } from 'node:crypto';
import {
  fitPreparedBatch,
  memberAlgos,
  prepareFeatures,
  type PreparedFeatures,
  type TrainBundleOptions,
} from '../bundle/train-bundle.js';
import { regressionMetrics, type RegressionMetrics } from '../ml/metrics.js';
import { loadListings } from './load-listings.js';
import type { ValidatedListings } from '../data/validate.js';
import { algorithmInfo, familyOf, type Family } from '../ml/algorithm-catalog.js';
import type { FitJob } from '../ml/parallel-fit.js';
import type { Regressor } from '../ml/estimator.js';
import { isSparseBinary, type Matrix } from '../ml/matrix.js';
import { trainingOptions, trainingThreads } from './training-options.js';
import { CARPRICE_VERSION } from './version.js';

export interface CrossValidateOptions {
  params: Params;
  data: string;
  algo?: string;
  folds?: number;
  /** Listings already read and validated from `data` (saves reading the file per algorithm). */
  listings?: ValidatedListings;
  env?: Env;
  signal?: AbortSignal;
}

export interface CrossValidateResult {
  folds: RegressionMetrics[];
  mean: Record<string, number>;
  std: Record<string, number>;
}

export async function crossValidate(o: CrossValidateOptions): Promise<CrossValidateResult> {
  const k = o.folds ?? 5;
  if (!Number.isInteger(k) || k < 2) throw new AppError('USAGE', `folds must be an integer >= 2, got ${k}`);
  const p = o.params;
  const algo = o.algo ?? p.model_trainer.algo;
  algorithmInfo(algo); // an unknown algorithm or thread count fails here, before any data is read
  trainingThreads(o.env);
  const v = o.listings ?? (await loadListings(o.data, { params: p, env: o.env, signal: o.signal }));
  const cv = new SharedCrossValidation({
    listings: v,
    data: o.data,
    folds: k,
    seed: p.data_ingestion.random_state,
    env: o.env,
    signal: o.signal,
  });
  const [r] = await cv.run([{ label: algo, algo, params: p }]);
  return { folds: r.folds, mean: r.mean, std: r.std };
}

/** One model to cross-validate: an algorithm and the params it trains with. */
export interface CvSpec {
  /** Name in reports (e.g. "ridge default"). */
  label: string;
  algo: string;
  params: Params;
}

export interface CvSpecResult extends CrossValidateResult {
  label: string;
  /** Worker seconds of the fits this model needed (a fit shared with another model counts for both). */
  seconds: number;
  /**
   * The earlier model this one is identical to in effect: the same fits on the same training
   * matrices and the same test matrices on every fold, so the same predictions (not fitted again).
   */
  sameAs?: string;
  /**
   * Fits of this model that stopped at their iteration limit without converging (fold,
   * member algorithm, how the solver ended), e.g. a coordinate-descent lasso at max_iter;
   * absent when every fit converged.
   */
  notConverged?: Array<{ fold: number; algo: string; info: Record<string, number | string | boolean> }>;
}

export interface SharedCrossValidationOptions {
  listings: ValidatedListings;
  /** Where the listings came from (recorded in the fold bundles). */
  data: string;
  folds: number;
  /** Seed of the fold permutation (params.yaml data_ingestion.random_state). */
  seed: number;
  /**
   * Train/test row sets scored after the k folds, as more "folds" of the same run (e.g.
   * seeded 80/20 splits, so a bench shares fits between CV and splits); default none.
   */
  extraParts?: ReadonlyArray<{ train: readonly number[]; test: readonly number[] }>;
  env?: Env;
  signal?: AbortSignal;
}

/** Content fingerprint of arrays (sha1 of their bytes), memoised per object. */
const prints = new WeakMap<object, string>();
function fingerprint(...arrays: ArrayLike<number>[]): string {
  const h = createHash('sha1');
  for (const a of arrays) {
    const t = a as Float64Array | Uint8Array;
    h.update(`${t.constructor.name}:${t.length};`);
    h.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  }
  return h.digest('hex').slice(0, 20);
}
function printOf(x: Matrix | Float64Array | undefined): string {
  if (!x) return '-';
  let fp = prints.get(x);
  if (fp) return fp;
  if (x instanceof Float64Array) fp = fingerprint(x);
  else {
    // a sparse 0/1 column is printed by the rows holding 1 (and its length, in the header)
    const cols = (x.columns ?? [x.data]).map((c) => (isSparseBinary(c) ? c.ones : c));
    fp = `${fingerprint(...cols)}/${createHash('sha1')
      .update(JSON.stringify([x.nRows, x.nCols, x.columnNames, x.categorical ?? null, x.nCategories ?? null]))
      .digest('hex')
      .slice(0, 12)}`;
  }
  prints.set(x, fp);
  return fp;
}

/**
 * K-fold cross-validation of several models on the same folds, sharing every piece of work
 * that is the same: the feature pipelines are fitted once per fold for each distinct
 * feature setting (every algorithm of one transformation uses them), a fit that several
 * models need runs once (ridge alone and the blend's ridge member; the blend's gbdt member
 * in every linear-input variant), the linear fits of one matrix share its Gram matrix, and
 * all fits of all folds of one `run` go to one pool of worker threads. Fits are recognised
 * by content (a fingerprint of the training matrix, target and weights), so a model whose
 * training and test matrices are the same as an earlier model's on every fold (imputation
 * for a tree model, which keeps missing values) is reported `sameAs` that model without
 * being fitted. The numbers are exactly those of fold-by-fold cross-validation.
 */
export class SharedCrossValidation {
  private readonly o: SharedCrossValidationOptions;
  private readonly parts: Array<{ train: number[]; test: number[] }>;
  private readonly threads: number;
  /** Fitted models by content key, shared across runs. */
  private readonly models = new Map<string, Regressor>();
  /** Fold metrics of a model by its content signature (per fold), with the first model's label. */
  private readonly results = new Map<
    string,
    { label: string; metrics?: RegressionMetrics; notConverged?: CvSpecResult['notConverged'] }
  >();

  constructor(o: SharedCrossValidationOptions) {
    this.o = o;
    this.threads = trainingThreads(o.env);
    const n = o.listings.frame.nRows;
    if (o.folds > n)
      throw new AppError(
        'DATA_INVALID',
        `cannot cut ${n} listings into ${o.folds} folds: use fewer folds or more data`,
      );
    const perm = numpyPermutation(n, o.seed);
    this.parts = kFoldBounds(n, o.folds).map(([start, end]) => {
      const test: number[] = [];
      const train: number[] = [];
      for (let i = 0; i < n; i++) (i >= start && i < end ? test : train).push(perm[i]);
      test.sort((a, b) => a - b);
      train.sort((a, b) => a - b);
      return { test, train };
    });
    for (const p of o.extraParts ?? []) this.parts.push({ train: [...p.train], test: [...p.test] });
  }

  /** Cross-validate `specs` (every fold of every spec in one worker pool). */
  async run(specs: readonly CvSpec[], onFitted?: (done: number, total: number) => void): Promise<CvSpecResult[]> {
    const { listings: v, signal } = this.o;
    const keyOf = (j: FitJob) =>
      `${j.algo}|${JSON.stringify(Object.entries(j.params).sort())}|${printOf(j.X)}|${printOf(j.y)}|${printOf(j.sampleWeight)}`;
    const perSpec = specs.map(() => ({
      folds: [] as RegressionMetrics[],
      notConverged: [] as NonNullable<CvSpecResult['notConverged']>,
      seconds: 0,
      hits: new Set<string>(),
      fresh: false,
    }));
    const later: Array<{ spec: number; fold: number; signature: string }> = [];
    const items: Array<{ prep: PreparedFeatures; options: TrainBundleOptions }> = [];
    const owners: Array<{ spec: number; fold: number; signature: string; test: Frame }> = [];
    for (const [f, part] of this.parts.entries()) {
      const trainFrame = takeFrameRows(v.frame, part.train);
      const yTrain = takeValues(v.y!, part.train);
      const testFrame = takeFrameRows(v.frame, part.test);
      // one preparation per distinct feature setting, with every family its algorithms need
      const preps = new Map<string, PreparedFeatures>();
      const settingOf = (s: CvSpec) =>
        JSON.stringify([s.params.features, s.params.base.random_state, s.params.model_trainer.price_weight_power]);
      const familiesOf = new Map<string, Set<Family>>();
      for (const s of specs) {
        const set = familiesOf.get(settingOf(s)) ?? new Set<Family>();
        for (const a of memberAlgos(s.algo, s.params.model_trainer.params)) set.add(familyOf(a));
        if (s.params.model_trainer.trim_residuals > 0) set.add('linear'); // residual trimming's ridge
        familiesOf.set(settingOf(s), set);
      }
      for (const s of specs) {
        const key = settingOf(s);
        if (preps.has(key)) continue;
        if (signal?.aborted) throw new AppError('INTERRUPTED', 'cross-validation interrupted');
        preps.set(
          key,
          prepareFeatures(trainFrame, yTrain, v.schema, {
            ...trainingOptions(s.params, s.algo),
            alsoFamilies: [...familiesOf.get(key)!],
            signal,
          }),
        );
        await new Promise((r) => setImmediate(r)); // let finished fits of earlier folds report
      }
      const testPrints = new Map<object, string>();
      const testPrint = (pipe: PreparedFeatures['families'][Family]) => {
        if (!pipe) return '-';
        let fp = testPrints.get(pipe);
        if (!fp) testPrints.set(pipe, (fp = printOf(pipe.pipeline.transform(testFrame))));
        return fp;
      };
      specs.forEach((s, i) => {
        const prep = preps.get(settingOf(s))!;
        const options: TrainBundleOptions = {
          ...trainingOptions(s.params, s.algo),
          intervalLevel: 0, // fold metrics only: no interval calibration fits, no tree covers
          treeCovers: false,
          signal,
          metadata: {
            createdAt: new Date(0).toISOString(),
            training: { dataHash: '', rows: part.train.length, source: this.o.data },
            params: {},
            carpriceVersion: CARPRICE_VERSION,
          },
        };
        const names = memberAlgos(s.algo, s.params.model_trainer.params);
        // what decides this fold's predictions: algorithm, every member's hyper-parameters,
        // target transform, and the train and test matrices, target and weights by content
        const signature = JSON.stringify([
          f,
          s.algo,
          names.map((a) => [a, s.params.model_trainer.params[a] ?? {}]),
          s.algo === 'blend' ? (s.params.model_trainer.params.blend ?? {}) : {},
          prep.transform,
          s.params.model_trainer.bias_correction,
          s.params.model_trainer.age_weight,
          s.params.model_trainer.holdout_folds,
          s.params.model_trainer.trim_residuals,
          printOf(prep.z),
          printOf(prep.weights),
          names.map((a) => [printOf(prep.families[familyOf(a)]!.X), testPrint(prep.families[familyOf(a)])]),
        ]);
        const known = this.results.get(signature);
        if (known) {
          perSpec[i].hits.add(known.label);
          perSpec[i].notConverged.push(...(known.notConverged ?? []));
          if (known.metrics) perSpec[i].folds[f] = known.metrics;
          else later.push({ spec: i, fold: f, signature });
          return;
        }
        perSpec[i].fresh = true;
        this.results.set(signature, { label: s.label });
        owners.push({ spec: i, fold: f, signature, test: testFrame });
        items.push({ prep, options });
      });
    }
    const seconds: number[] = [];
    const bundles = await fitPreparedBatch(items, this.threads, signal, {
      seconds,
      keyOf,
      models: this.models,
      ...(onFitted ? { onFitted } : {}),
    });
    owners.forEach((ow, k) => {
      const m = regressionMetrics(takeValues(v.y!, this.parts[ow.fold].test), bundles[k].predictFrame(ow.test));
      const notConverged = bundles[k].members
        .filter((x) => x.estimator.fitInfo?.converged === false)
        .map((x) => ({ fold: ow.fold, algo: x.algo, info: x.estimator.fitInfo! }));
      this.results.set(ow.signature, { label: specs[ow.spec].label, metrics: m, notConverged });
      perSpec[ow.spec].notConverged.push(...notConverged);
      perSpec[ow.spec].folds[ow.fold] = m;
      perSpec[ow.spec].seconds += seconds[k];
    });
    // folds identical to an earlier spec's fold of this run
    for (const l of later) perSpec[l.spec].folds[l.fold] = this.results.get(l.signature)!.metrics!;
    return specs.map((s, i) => {
      const ps = perSpec[i];
      const { mean, std } = summarise(ps.folds);
      const sameAs = !ps.fresh && ps.hits.size === 1 ? [...ps.hits][0] : undefined;
      return {
        label: s.label,
        folds: ps.folds,
        mean,
        std,
        seconds: ps.seconds,
        ...(sameAs ? { sameAs } : {}),
        ...(ps.notConverged.length ? { notConverged: ps.notConverged.sort((a, b) => a.fold - b.fold) } : {}),
      };
    });
  }
}
/** Mean and sample standard deviation of each metric over the folds. */
function summarise(folds: readonly RegressionMetrics[]): { mean: Record<string, number>; std: Record<string, number> } {
  const keys = ['r2', 'rmse', 'mae', 'mape', 'medape', 'within10'] as const;
  const mean: Record<string, number> = {};
  const std: Record<string, number> = {};
  for (const key of keys) {
    const xs = folds.map((m) => m[key]);
    mean[key] = xs.reduce((a, b) => a + b, 0) / xs.length;
    std[key] = Math.sqrt(xs.reduce((a, b) => a + (b - mean[key]) ** 2, 0) / Math.max(1, xs.length - 1));
  }
  return { mean, std };
}

/** [start, end) of each fold in the shuffled order, as scikit-learn's KFold cuts it. */
export function kFoldBounds(n: number, k: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}
