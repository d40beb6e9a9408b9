/**
 * Fitting a model bundle: target transform, feature pipeline for the algorithm's family,
 * estimator, and (for `blend`) a weighted combination of members whose weight is chosen
 * on a seeded validation split of the training rows, then refitted on all of them.
 */
import { AppError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { takeValues, type Frame } from '../data/frame.js';
import type { ListingSchema } from '../data/listing-schema.js';
import { FeaturePipeline, type FeatureConfig } from '../features/feature-pipeline.js';
import { forwardTarget, inverseTarget, type TargetTransformName } from '../features/target-transform.js';
import type { DerivedName } from '../features/derived-features.js';
import { familyOf, type Family } from '../ml/algorithms.js';
import { fitEstimators, fitJob, type FitJob } from '../ml/parallel-fit.js';
import type { Regressor } from '../ml/estimator.js';
import { takeRows, type Matrix } from '../ml/matrix.js';
import { calibrate, type Calibration } from './calibration.js';
import { mapeOffset, mapeOffsetWithSlope, type BiasCorrection } from './bias-correction.js';
import { AGE_COLUMN, idOf, linearAgeColumn, linearRowWeights, rowsKey, subset } from './fit-rows.js';
import { planTrim, residualTrim, trimOutcome } from './residual-trim.js';
import { LinearModel } from '../ml/linear/linear-model.js';
import { TreeEnsemble } from '../ml/tree/tree-ensemble.js';
import { nodeCovers } from '../ml/tree/tree-shap.js';
import { ModelBundle, type BundleMember, type BundleMetadata, type InputSchema } from './model-bundle.js';
import { NULLABLE_CATEGORICAL } from '../data/listing-schema.js';
import { scalarText } from '../core/text.js';
import type { ProgressFactory } from '../core/progress.js';

/** Feature settings, as in params.yaml `features`. */
export interface FeatureSettings {
  reference_year: number;
  log_target: boolean;
  derived: readonly DerivedName[];
  /** Input columns used only to derive features (car_age from year), not as features themselves. */
  exclude?: readonly string[];
  numeric_imputer: 'mean' | 'median';
  categorical_imputer: 'most_frequent' | 'constant';
  onehot_drop_first: boolean;
  onehot_max_categories: number;
  target_encoding_smoothing: number;
  /** Hierarchical target encoding: column -> parent column (e.g. variant: model). */
  target_encoding_parents?: Readonly<Record<string, string>>;
  target_encoding_folds: number;
  scale: boolean;
  token_columns: readonly string[];
  token_min_count: number;
  interactions: readonly string[];
  interaction_min_count: number;
  steps?: readonly string[];
  step_min_count?: number;
}

export interface TrainBundleOptions {
  algo: string;
  /** Hyper-parameters per algorithm name (params.yaml model_trainer.params). */
  algoParams: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  features: FeatureSettings;
  seed: number;
  /** Row weights (price / median) ^ power; 0 = unweighted. */
  priceWeightPower?: number;
  /**
   * Coverage of the split-conformal prediction intervals calibrated on the held-out 15%
   * (calibration.ts), e.g. 0.9; 0 or absent = no intervals. A single model then also fits
   * once on the other 85% (a two-member blend does anyway, to choose its weight).
   */
  intervalLevel?: number;
  /**
   * 'mape': add to the output the offset that minimises MAPE on the held-out 15% (members
   * fitted on the other 85%; bias-correction.ts), saved in the bundle; 'mape_age': that
   * offset plus a slope in car_age chosen on the same rows, folded into the linear member's
   * car_age coefficient (without a linear member using car_age: 'mape'); 'none' or absent:
   * no offset. Like intervals, a single model then also fits once on the 85%.
   */
  biasCorrection?: BiasCorrection;
  /**
   * Held-out choices (blend weight, offset, intervals) on one seeded 15% of the training
   * rows (1, absent) or cross-fitted on k folds, every training row held out once (k >= 2).
   */
  holdoutFolds?: number;
  /**
   * Linear members' row weights 1 / (1 + ageWeight * car_age)^2 (mean 1; times the price
   * weights): older cars' prices spread more (weighted least squares). 0 or absent = none.
   */
  ageWeight?: number;
  /**
   * Residual trimming at z > 0: a ridge cross-fitted on {@link TRIM_FOLDS} folds of the
   * training rows (the linear family's features, the ridge's params and the linear row
   * weights) gives each row an out-of-fold residual, and rows farther than z robust standard
   * deviations from the residuals' median ({@link keptByResidual}) are left out of the
   * members' fits. The held-out rows that choose the blend weight, the MAPE offset and the
   * interval calibration stay as they are. 0 or absent = off.
   */
  trimResiduals?: number;
  /**
   * Record the training covers of tree members' nodes (how many training rows reached each
   * node), which TreeSHAP explanations need. Default true; cross-validation folds skip it.
   */
  treeCovers?: boolean;
  /** Metadata recorded in the bundle. */
  metadata: Omit<BundleMetadata, 'algo' | 'metrics'> & { metrics?: Record<string, number> };
  signal?: AbortSignal;
  /** Progress of feature building and fits (a TTY meter in the CLI). */
  progress?: ProgressFactory;
}

/** Default members of the `blend` algorithm. */
export const BLEND_MEMBERS = ['ridge', 'gbdt'];

function featureConfig(schema: ListingSchema, s: FeatureSettings, family: Family, seed: number): FeatureConfig {
  return {
    family,
    numeric: [...schema.numeric, ...schema.optionalNumeric],
    categorical: [...schema.categorical],
    referenceYear: s.reference_year,
    derived: [...s.derived],
    ...(s.exclude?.length ? { exclude: [...s.exclude] } : {}),
    numericImputer: s.numeric_imputer,
    categoricalImputer: s.categorical_imputer,
    onehotDropFirst: s.onehot_drop_first,
    onehotMaxCategories: s.onehot_max_categories,
    targetEncodingSmoothing: s.target_encoding_smoothing,
    ...(s.target_encoding_parents && Object.keys(s.target_encoding_parents).length
      ? { targetEncodingParents: { ...s.target_encoding_parents } }
      : {}),
    targetEncodingFolds: s.target_encoding_folds,
    scale: s.scale,
    tokenColumns: [...s.token_columns],
    tokenMinCount: s.token_min_count,
    interactions: [...s.interactions],
    interactionMinCount: s.interaction_min_count,
    ...(s.steps?.length ? { steps: [...s.steps], stepMinCount: s.step_min_count } : {}),
    seed,
  };
}

/** (y / median(y)) ^ power, or undefined when power is 0. */
export function priceWeights(y: Float64Array, power: number): Float64Array | undefined {
  if (!power) return undefined;
  const sorted = Float64Array.from(y).sort();
  const med = sorted[sorted.length >> 1] || 1;
  return y.map((v) => Math.pow(Math.max(v, 0) / med, power));
}

/** Member algorithms of `algo` (a single name, or the members of a blend). */
export function memberAlgos(algo: string, algoParams: TrainBundleOptions['algoParams']): string[] {
  if (algo !== 'blend') return [algo];
  const names = scalarText(algoParams.blend?.members ?? BLEND_MEMBERS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length < 2)
    throw new AppError(
      'USAGE',
      'blend needs at least two members, e.g. --set model_trainer.params.blend.members=ridge,gbdt',
    );
  if (names.includes('blend'))
    throw new AppError('USAGE', 'a blend cannot contain itself; list plain algorithms as members');
  return names;
}

/**
 * Fitted feature pipelines and the training matrices they produced (out-of-fold target
 * encodings), one per feature family the algorithm needs, with the transformed target and
 * row weights. The pipeline's data_transformation stage saves this; model_trainer fits on it.
 */
export interface PreparedFeatures {
  inputSchema: InputSchema;
  transform: TargetTransformName;
  families: Partial<Record<Family, { pipeline: FeaturePipeline; X: Matrix }>>;
  z: Float64Array;
  weights?: Float64Array;
}

export type PrepareOptions = Pick<
  TrainBundleOptions,
  'algo' | 'algoParams' | 'features' | 'seed' | 'priceWeightPower' | 'signal' | 'progress' | 'trimResiduals'
> & {
  /** Fit these feature families too (one preparation shared by several algorithms). */
  alsoFamilies?: readonly Family[];
};

/** Fit the feature pipelines an algorithm needs on validated training listings. */
export function prepareFeatures(
  frame: Frame,
  y: Float64Array,
  schema: ListingSchema,
  o: PrepareOptions,
): PreparedFeatures {
  const transform: TargetTransformName = o.features.log_target ? 'log1p' : 'identity';
  const z = forwardTarget(transform, y);
  const families: PreparedFeatures['families'] = {};
  const wanted = new Set([
    ...memberAlgos(o.algo, o.algoParams).map((a) => familyOf(a)),
    ...(o.alsoFamilies ?? []),
    // residual trimming's ridge reads the linear features whatever the members are
    ...((o.trimResiduals ?? 0) > 0 ? (['linear'] as const) : []),
  ]);
  for (const family of wanted) {
    if (families[family]) continue;
    if (o.signal?.aborted) throw new AppError('INTERRUPTED', 'feature fitting interrupted');
    const pipeline = new FeaturePipeline(featureConfig(schema, o.features, family, o.seed));
    const meter = o.progress?.('building features', `for ${family} models`, undefined, 'steps');
    let steps = 0;
    families[family] = { pipeline, X: pipeline.fitTransform(frame, z, (k) => meter?.((steps = k))) };
    meter?.(steps, true);
  }
  const nullable = new Set<string>(NULLABLE_CATEGORICAL);
  const inputSchema: InputSchema = {
    target: schema.target,
    numeric: [...schema.numeric],
    categorical: [...schema.categorical],
    optionalNumeric: [...schema.optionalNumeric],
    required: [...schema.numeric, ...schema.categorical.filter((c) => !nullable.has(c))],
  };
  return { inputSchema, transform, families, z, weights: priceWeights(y, o.priceWeightPower ?? 0) };
}

function sqErr(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/**
 * The fits a bundle needs: for a two-member blend, each member on a seeded 85% of the
 * training rows (to choose the weight on the other 15%), and every member on all rows.
 */
interface FitPlan {
  names: string[];
  /** Each member's whole training matrix (the held-out rows are predicted from it). */
  full: Matrix[];
  /**
   * Validation rows (sorted) and their targets, for a two-member blend; else null. `folds`:
   * the rows each fold's fits predict (one fold: `rows` itself; valJobs are fold-major).
   */
  val: { rows: Uint32Array; z: Float64Array; folds: Uint32Array[] } | null;
  valJobs: FitJob[];
  finalJobs: FitJob[];
}

/**
 * `kept`: the rows residual trimming keeps (sorted), or null for all: the members are fitted
 * on those rows only, while the held-out rows (the 15%, or every row across the folds) stay
 * whole. Fitted rows and held-out rows are cut from one seeded permutation either way, so
 * trimming changes only which rows the fits see.
 */
function planFits(prep: PreparedFeatures, o: TrainBundleOptions, kept: Uint32Array | null = null): FitPlan {
  const names = memberAlgos(o.algo, o.algoParams);
  const { z, weights: w } = prep;
  const job = (algo: string, X: Matrix, y: Float64Array, sw?: Float64Array): FitJob => ({
    algo,
    params: o.algoParams[algo] ?? {},
    X,
    y,
    ...(sw ? { sampleWeight: sw } : {}),
  });
  const matrixOf = (algo: string) => {
    const f = prep.families[familyOf(algo)];
    if (!f)
      throw new AppError(
        'MODEL_INVALID',
        `prepared features lack the ${familyOf(algo)} family needed by ${algo}; rerun data_transformation`,
      );
    return f.X;
  };
  const linearW = names.some((a) => familyOf(a) === 'linear') ? linearRowWeights(prep, o.ageWeight ?? 0) : w;
  const weightsOf = (algo: string) => (familyOf(algo) === 'linear' ? linearW : w);
  const trimKey = kept ? `:trimmed:${rowsKey(kept)}` : '';
  const keep = kept ? new Uint8Array(z.length) : null;
  if (kept && keep) for (const r of kept) keep[r] = 1;
  // the rows of a matrix, target or weights that one fit sees, made once per source and key
  const rowsOf = <T extends Matrix | Float64Array>(src: T, key: string, rows: Uint32Array | null): T =>
    rows === null
      ? src
      : subset(src, key, () => (src instanceof Float64Array ? takeValues(src, rows) : takeRows(src, rows)) as T);
  const jobOn = (a: string, key: string, rows: Uint32Array | null) => {
    const sw = weightsOf(a);
    return job(a, rowsOf(matrixOf(a), key, rows), rowsOf(z, key, rows), sw && rowsOf(sw, key, rows));
  };
  const full = names.map((a) => matrixOf(a));
  const finalJobs = names.map((a) => jobOn(a, `all${trimKey}`, kept));
  if (
    names.length !== 2 &&
    !(o.intervalLevel && o.intervalLevel > 0) &&
    o.biasCorrection !== 'mape' &&
    o.biasCorrection !== 'mape_age'
  )
    return { names, full, val: null, valJobs: [], finalJobs };
  const n = z.length;
  const perm = new Rng(o.seed + 1).permutation(n);
  const k = o.holdoutFolds ?? 1;
  // one fold: the seeded 15% held out; k folds: every row held out once (cross-fitting)
  const parts: { val: Uint32Array; fit: Uint32Array; key: string }[] = [];
  if (k <= 1) {
    const nVal = Math.max(1, Math.floor(n * 0.15));
    parts.push({ val: perm.slice(0, nVal).sort(), fit: perm.slice(nVal).sort(), key: `${o.seed}:${n}` });
  } else
    for (let f = 0; f < k; f++) {
      const a = Math.floor((f * n) / k);
      const b = Math.floor(((f + 1) * n) / k);
      const fit = new Uint32Array(n - (b - a));
      fit.set(perm.subarray(0, a));
      fit.set(perm.subarray(b), a);
      parts.push({ val: perm.slice(a, b).sort(), fit: fit.sort(), key: `${o.seed}:${n}:${k}:${f}` });
    }
  const valJobs = parts.flatMap(({ fit, key }) => {
    const rows = keep ? fit.filter((r) => keep[r] === 1) : fit;
    return names.map((a) => jobOn(a, key + trimKey, rows));
  });
  const rows = k <= 1 ? parts[0].val : Uint32Array.from({ length: n }, (_, i) => i);
  return {
    names,
    full,
    val: { rows, z: takeValues(z, rows), folds: parts.map((p) => p.val) },
    valJobs,
    finalJobs,
  };
}

/** Blends of up to this many members get weights from a grid; more members: equal weights. */
const MAX_GRID_MEMBERS = 4;

/**
 * Weights of 3 or 4 members: the point of the simplex grid of 0.05 steps (weights >= 0
 * summing to 1) with the least squared error of the weighted prediction on the held-out
 * rows; the first such point in lexicographic order of the weights.
 */
export function simplexWeights(preds: readonly Float64Array[], z: Float64Array): number[] {
  const k = preds.length;
  const steps = 20;
  let best = Infinity;
  let out = preds.map(() => 1 / k);
  const units = new Array<number>(k).fill(0);
  const acc = new Float64Array(z.length);
  const visit = (m: number, left: number): void => {
    if (m === k - 1) {
      units[m] = left;
      acc.fill(0);
      for (let j = 0; j < k; j++) {
        if (units[j] === 0) continue;
        const w = units[j] / steps;
        const p = preds[j];
        for (let i = 0; i < acc.length; i++) acc[i] += w * p[i];
      }
      const e = sqErr(acc, z);
      if (e < best) [best, out] = [e, units.map((u) => u / steps)];
      return;
    }
    for (let u = 0; u <= left; u++) {
      units[m] = u;
      visit(m + 1, left - u);
    }
  };
  visit(0, steps);
  return out;
}

/** What the held-out rows decide: blend weights, the output offset and the interval calibration. */
interface HeldOutChoice {
  weights: number[];
  calibration: Calibration | null;
  offset: number;
  /** 'mape_age': output change per year of car_age, folded into member `ageMember`. */
  ageSlope?: { slope: number; member: number; mean: number; std: number };
}

/**
 * Where a linear member reads car_age: the member's index and the column's standard-scaler
 * mean and std, or null when no linear member with weight > 0 has it.
 */
function ageColumnOf(
  prep: PreparedFeatures,
  names: readonly string[],
  weights: readonly number[],
): { member: number; column: number; mean: number; std: number } | null {
  const c = linearAgeColumn(prep);
  const member = names.findIndex((a, i) => familyOf(a) === 'linear' && weights[i] > 0);
  return c && member >= 0 ? { member, ...c } : null;
}

/**
 * Blend weights: for two members, the weight w of the first (w * a + (1 - w) * b in target
 * space) on a grid of 0.05 steps by the squared error on the validation rows; for three or
 * four, the point of the same grid on the simplex (simplexWeights); equal weights for more,
 * or without validation rows. The validation rows are the held-out 15%, or with
 * holdoutFolds k >= 2 every training row, each predicted by the fits of the k - 1 folds
 * that did not see it. With bias correction 'mape', the output offset minimising the MAPE of
 * the weighted prediction on those rows (bias-correction.ts); with 'mape_age', the offset
 * and a slope per year of car_age minimising it together (mapeOffsetWithSlope). With `intervalLevel`, the
 * interval calibration from the validation residuals of the weighted, offset prediction.
 */
function chooseWeights(
  plan: FitPlan,
  valModels: readonly Regressor[],
  o: Pick<TrainBundleOptions, 'intervalLevel' | 'biasCorrection'>,
  prep: PreparedFeatures,
): HeldOutChoice {
  const transform = prep.transform;
  let blend = plan.names.map(() => 1 / plan.names.length);
  if (!plan.val) return { weights: blend, calibration: null, offset: 0 };
  const { rows, z } = plan.val;
  const nm = plan.names.length;
  let preds: Float64Array[];
  if (plan.val.folds.length === 1) preds = plan.names.map((_, i) => valModels[i].predict(takeRows(plan.full[i], rows)));
  else {
    // cross-fitted: each row predicted by the fits that did not see it (rows = 0..n-1)
    preds = plan.names.map(() => new Float64Array(rows.length));
    plan.val.folds.forEach((fr, f) =>
      plan.names.forEach((_, i) => {
        const p = valModels[f * nm + i].predict(takeRows(plan.full[i], fr));
        for (let r = 0; r < fr.length; r++) preds[i][fr[r]] = p[r];
      }),
    );
  }
  if (preds.length === 2) {
    let best = Infinity;
    for (let k = 0; k <= 20; k++) {
      const wk = k / 20;
      const e = sqErr(
        preds[0].map((p, i) => wk * p + (1 - wk) * preds[1][i]),
        z,
      );
      if (e < best) [best, blend] = [e, [wk, 1 - wk]];
    }
  } else if (preds.length <= MAX_GRID_MEMBERS) blend = simplexWeights(preds, z);
  const zHat = new Float64Array(z.length);
  preds.forEach((p, m) => {
    for (let i = 0; i < zHat.length; i++) zHat[i] += blend[m] * p[i];
  });
  // the weight stays the squared-error choice: choosing it by held-out MAPE as well (with
  // the offset at each weight) was worse on every figure (5-fold CV on the training split
  // 12.30% vs 12.28%, split R² 0.929): 887 rows are too few to pick two numbers by MAPE
  let offset = o.biasCorrection === 'mape' ? mapeOffset(transform, inverseTarget(transform, z), zHat) : 0;
  let ageSlope: HeldOutChoice['ageSlope'];
  if (o.biasCorrection === 'mape_age') {
    const age = ageColumnOf(prep, plan.names, blend);
    if (!age) offset = mapeOffset(transform, inverseTarget(transform, z), zHat);
    else {
      // the held-out rows' ages in years, from the linear matrix's (standardised) column
      const X = prep.families.linear!.X;
      const years = Array.from(rows, (r) => age.mean + age.std * X.data[r * X.nCols + age.column]);
      const chosen = mapeOffsetWithSlope(transform, inverseTarget(transform, z), zHat, years);
      offset = chosen.offset;
      if (chosen.slope !== 0) {
        ageSlope = { slope: chosen.slope, member: age.member, mean: age.mean, std: age.std };
        for (let i = 0; i < zHat.length; i++) zHat[i] += chosen.slope * years[i];
      }
    }
  }
  const choice = { weights: blend, offset, ...(ageSlope ? { ageSlope } : {}) };
  if (!(o.intervalLevel && o.intervalLevel > 0)) return { ...choice, calibration: null };
  if (offset !== 0) for (let i = 0; i < zHat.length; i++) zHat[i] += offset;
  return { ...choice, calibration: calibrate(z, zHat, o.intervalLevel) };
}

/** The trees of a tree-ensemble estimator (gbdt, forest, tree), else null. */
function treesOf(e: Regressor): TreeEnsemble | null {
  const t = (e as { trees?: unknown }).trees;
  return t instanceof TreeEnsemble ? t : null;
}

function assemble(
  prep: PreparedFeatures,
  o: TrainBundleOptions,
  plan: FitPlan,
  { weights, calibration, offset, ageSlope }: HeldOutChoice,
  finals: readonly (Regressor | null)[],
): ModelBundle {
  const members: BundleMember[] = [];
  plan.names.forEach((algo, i) => {
    let est = finals[i];
    if (est && ageSlope && ageSlope.member === i && est instanceof LinearModel) {
      // slope x age in years, as this member's term on the standardised column:
      // w * (dCoef * (age - mean) / std + dIntercept) = slope * age
      const k = ageSlope.slope / weights[i];
      est = est.withLinearTerm(AGE_COLUMN, k * ageSlope.std, k * ageSlope.mean, {
        mape_age_slope: ageSlope.slope,
      });
    }
    if (weights[i] === 0 || !est) return;
    const f = prep.families[familyOf(algo)] as { pipeline: FeaturePipeline; X: Matrix };
    const trees = o.treeCovers === false ? null : treesOf(est);
    members.push({
      weight: weights[i],
      algo,
      features: f.pipeline,
      estimator: est,
      // counted by the fit itself when it can (gbdt), else one walk of the training matrix
      ...(trees ? { treeCover: est.trainingCovers ?? nodeCovers(trees, plan.finalJobs[i].X) } : {}),
    });
  });
  return new ModelBundle(
    prep.inputSchema,
    prep.transform,
    members,
    { ...o.metadata, algo: o.algo, metrics: o.metadata.metrics ?? {} },
    calibration,
    null,
    offset,
  );
}

/**
 * Fit the estimator(s) on prepared features, on the calling thread. For a two-member
 * blend the weight is chosen on a seeded 15% validation split of the training rows with
 * both members fitted on the other 85% (see chooseWeights); then the members are refitted
 * on all rows (a member whose weight is 0 is not refitted). With residual trimming, the
 * trimming ridges come first and the members are fitted on the rows they keep.
 */
export function fitPrepared(prep: PreparedFeatures, o: TrainBundleOptions): ModelBundle {
  const plan = planFits(prep, o, residualTrim(prep, o)?.kept ?? null);
  const fit = (j: FitJob, what: string) => {
    const trees = treeCount(j);
    const meter = trees ? o.progress?.('fitting', `${j.algo}${what}`, trees, 'trees') : undefined;
    const m = fitJob(j, o.signal, undefined, meter);
    meter?.(trees, true);
    return m;
  };
  const chosen = chooseWeights(
    plan,
    plan.valJobs.map((j) => fit(j, ' (on 85% of the rows, to calibrate on the rest)')),
    o,
    prep,
  );
  return assemble(
    prep,
    o,
    plan,
    chosen,
    plan.finalJobs.map((j, i) => (chosen.weights[i] === 0 ? null : fit(j, ''))),
  );
}

/** Trees a fit grows (ensembles: n_estimators, or their default), 0 for other models. */
function treeCount(j: FitJob): number {
  if (familyOf(j.algo) !== 'tree') return 0;
  if (j.algo === 'tree') return 1;
  const n = Number(j.params.n_estimators ?? 100);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * The same bundle as `fitPrepared`, bit for bit, with the independent fits (validation and
 * final fits of every member) spread over up to `threads` worker threads, slowest first.
 */
export async function fitPreparedParallel(
  prep: PreparedFeatures,
  o: TrainBundleOptions & { threads: number },
): Promise<ModelBundle> {
  // fits on worker threads report as each model arrives (inline fits: tree by tree)
  let meter: ((done: number, finished?: boolean) => void) | undefined;
  let meterPhase: FitPhase | undefined;
  const onFitted = (done: number, total: number, phase: FitPhase) => {
    if (phase !== meterPhase) {
      meterPhase = phase;
      meter = o.progress?.('fitting', phase === 'trim' ? 'ridge (residual trimming)' : o.algo, total, 'models');
    }
    meter?.(done, done === total);
  };
  return (await fitPreparedBatch([{ prep, options: o }], o.threads, o.signal, o.progress ? { onFitted } : {}))[0];
}

/** The identity of a fit: algorithm, hyper-parameters and the very objects it is fitted on. */
export function fitKey(j: FitJob): string {
  return `${j.algo}|${idOf(j.X)}|${idOf(j.y)}|${idOf(j.sampleWeight)}|${JSON.stringify(Object.entries(j.params).sort())}`;
}

/** The fits of {@link fitPreparedBatch}: residual trimming's ridges, then the members. */
export type FitPhase = 'trim' | 'fit';

/** Options of {@link fitPreparedBatch} for callers that fit many related bundles. */
export interface BatchExtras {
  /** Receives per bundle the worker seconds of the fits it used (a shared fit counts for each). */
  seconds?: number[];
  /** When two jobs are the same fit (default {@link fitKey}: the same objects). */
  keyOf?: (job: FitJob) => string;
  /** Models already fitted, by key; new fits are added (shared across batches). */
  models?: Map<string, Regressor>;
  /**
   * Called as each fit arrives: fits done and fits to run in this phase ('trim': residual
   * trimming's ridges, which come first; 'fit': the members).
   */
  onFitted?: (done: number, total: number, phase: FitPhase) => void;
}

/**
 * Several bundles at once (cross-validation folds, or every algorithm of a comparison on
 * one fold), each the same as `fitPrepared` would give, with all their fits in one pool of
 * up to `threads` worker threads. A fit two bundles share (the same algorithm and
 * hyper-parameters on the same prepared matrix, target and weights: ridge alone and the
 * blend's ridge member on one fold) runs once, and a fit found in `extra.models` not at
 * all; the linear fits of one matrix share its Gram matrix (ml/parallel-fit).
 */
export async function fitPreparedBatch(
  items: readonly { prep: PreparedFeatures; options: TrainBundleOptions }[],
  threads: number,
  signal?: AbortSignal,
  extra: BatchExtras = {},
): Promise<ModelBundle[]> {
  const { seconds } = extra;
  // residual trimming first: its ridges decide which rows the members are fitted on
  const trims = items.map((it) => planTrim(it.prep, it.options));
  const trimJobs = trims.flatMap((t) => t?.jobs ?? []);
  if (items.length === 1 && !seconds && !extra.models) {
    // one bundle on one thread, or with a single fit: inline (its fits report tree by tree)
    const one = () => [fitPrepared(items[0].prep, items[0].options)];
    if (threads <= 1) return one();
    if (!trimJobs.length) {
      const p = planFits(items[0].prep, items[0].options);
      if (p.valJobs.length + p.finalJobs.length <= 1) return one();
    }
  }
  const spent = items.map(() => 0);
  let kept: (Uint32Array | null)[] = items.map(() => null);
  if (trimJobs.length) {
    const { models, took } = await fitShared(trimJobs, threads, signal, extra, 'trim');
    let at = 0;
    kept = trims.map((t, k) => {
      if (!t) return null;
      const mine = models.slice(at, at + t.jobs.length);
      spent[k] += took.slice(at, at + t.jobs.length).reduce((a, b) => a + b, 0);
      at += t.jobs.length;
      return trimOutcome(items[k].prep, t, mine).kept;
    });
  }
  const plans = items.map((it, k) => planFits(it.prep, it.options, kept[k]));
  const all = plans.flatMap((p) => [...p.valJobs, ...p.finalJobs]);
  const { models: byAll, took } = await fitShared(all, threads, signal, extra, 'fit');
  let at = 0;
  return items.map((it, k) => {
    const plan = plans[k];
    const nVal = plan.valJobs.length;
    const n = nVal + plan.finalJobs.length;
    const models = byAll.slice(at, at + n);
    if (seconds) seconds[k] = spent[k] + took.slice(at, at + n).reduce((a, b) => a + b, 0);
    at += n;
    return assemble(
      it.prep,
      it.options,
      plan,
      chooseWeights(plan, models.slice(0, nVal), it.options, it.prep),
      models.slice(nVal),
    );
  });
}

/**
 * Fit `all` (in order) in one pool of up to `threads` worker threads, each distinct fit
 * once (by `extra.keyOf`, default {@link fitKey}) and none found in `extra.models`; the
 * linear fits of one matrix share its Gram matrix. Returns every job's model and the worker
 * seconds of its fit (a fit shared by several jobs counts for each; 0 for a cached one).
 */
async function fitShared(
  all: readonly FitJob[],
  threads: number,
  signal: AbortSignal | undefined,
  extra: BatchExtras,
  phase: FitPhase,
): Promise<{ models: Regressor[]; took: number[] }> {
  const { models } = extra;
  // identical fits once: job index -> unique job index
  const key = extra.keyOf ?? fitKey;
  const uniqueOf = new Map<string, number>();
  const jobs: FitJob[] = [];
  const keys: string[] = [];
  const which = all.map((j) => {
    const k = key(j);
    let u = uniqueOf.get(k);
    if (u === undefined) {
      uniqueOf.set(k, (u = jobs.length));
      jobs.push(familyOf(j.algo) === 'linear' ? { ...j, shareCrossProducts: true } : j);
      keys.push(k);
    }
    return u;
  });
  const byJob = new Array<Regressor>(jobs.length);
  const took = new Float64Array(jobs.length);
  const todo: number[] = [];
  jobs.forEach((_, u) => {
    const m = models?.get(keys[u]);
    if (m) byJob[u] = m;
    else todo.push(u);
  });
  // boosting and forests take far longer than linear fits: hand them out first
  const slow = (u: number) => (familyOf(jobs[u].algo) === 'tree' ? 0 : 1);
  const order = todo.sort((a, b) => slow(a) - slow(b) || a - b);
  let done = 0;
  const fitted = await fitEstimators(
    order.map((u) => jobs[u]),
    {
      threads,
      signal,
      onFitted: (k, _m, s) => {
        took[order[k]] = s;
        extra.onFitted?.(++done, order.length, phase);
      },
    },
  );
  order.forEach((u, k) => {
    byJob[u] = fitted[k];
    models?.set(keys[u], fitted[k]);
  });
  return { models: which.map((u) => byJob[u]), took: which.map((u) => took[u]) };
}

/** Fit a bundle on validated training listings with up to `threads` worker threads. */
export async function trainBundleParallel(
  frame: Frame,
  y: Float64Array,
  schema: ListingSchema,
  o: TrainBundleOptions & { threads: number },
): Promise<ModelBundle> {
  return fitPreparedParallel(prepareFeatures(frame, y, schema, o), o);
}

/** Fit a bundle on validated training listings (prepareFeatures + fitPrepared). */
export function trainBundle(frame: Frame, y: Float64Array, schema: ListingSchema, o: TrainBundleOptions): ModelBundle {
  return fitPrepared(prepareFeatures(frame, y, schema, o), o);
}
