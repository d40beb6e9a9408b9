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
import { forwardTarget, type TargetTransformName } from '../features/target-transform.js';
import type { DerivedName } from '../features/derived-features.js';
import { createEstimator, familyOf, type Family } from '../ml/algorithms.js';
import type { Regressor } from '../ml/estimator.js';
import { takeRows, type Matrix } from '../ml/matrix.js';
import { ModelBundle, type BundleMember, type BundleMetadata, type InputSchema } from './model-bundle.js';
import { NULLABLE_CATEGORICAL } from '../data/listing-schema.js';

/** Feature settings, as in params.yaml `features`. */
export interface FeatureSettings {
  reference_year: number;
  log_target: boolean;
  derived: readonly DerivedName[];
  numeric_imputer: 'mean' | 'median';
  categorical_imputer: 'most_frequent' | 'constant';
  onehot_drop_first: boolean;
  onehot_max_categories: number;
  target_encoding_smoothing: number;
  target_encoding_folds: number;
  scale: boolean;
  token_columns: readonly string[];
  token_min_count: number;
  interactions: readonly string[];
  interaction_min_count: number;
}

export interface TrainBundleOptions {
  algo: string;
  /** Hyper-parameters per algorithm name (params.yaml model_trainer.params). */
  algoParams: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  features: FeatureSettings;
  seed: number;
  /** Row weights (price / median) ^ power; 0 = unweighted. */
  priceWeightPower?: number;
  /** Metadata recorded in the bundle. */
  metadata: Omit<BundleMetadata, 'algo' | 'metrics'> & { metrics?: Record<string, number> };
  signal?: AbortSignal;
}

/** Default members of the `blend` algorithm. */
export const BLEND_MEMBERS = ['ridge', 'gbdt'];

function featureConfig(schema: ListingSchema, s: FeatureSettings, algo: string, seed: number): FeatureConfig {
  return {
    family: familyOf(algo),
    numeric: [...schema.numeric, ...schema.optionalNumeric],
    categorical: [...schema.categorical],
    referenceYear: s.reference_year,
    derived: [...s.derived],
    numericImputer: s.numeric_imputer,
    categoricalImputer: s.categorical_imputer,
    onehotDropFirst: s.onehot_drop_first,
    onehotMaxCategories: s.onehot_max_categories,
    targetEncodingSmoothing: s.target_encoding_smoothing,
    targetEncodingFolds: s.target_encoding_folds,
    scale: s.scale,
    tokenColumns: [...s.token_columns],
    tokenMinCount: s.token_min_count,
    interactions: [...s.interactions],
    interactionMinCount: s.interaction_min_count,
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
  const names = String(algoParams.blend?.members ?? BLEND_MEMBERS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length < 2) throw new AppError('USAGE', 'blend needs at least two members, e.g. --set model_trainer.params.blend.members=ridge,gbdt');
  if (names.includes('blend')) throw new AppError('USAGE', 'a blend cannot contain itself; list plain algorithms as members');
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

export type PrepareOptions = Pick<TrainBundleOptions, 'algo' | 'algoParams' | 'features' | 'seed' | 'priceWeightPower' | 'signal'>;

/** Fit the feature pipelines an algorithm needs on validated training listings. */
export function prepareFeatures(frame: Frame, y: Float64Array, schema: ListingSchema, o: PrepareOptions): PreparedFeatures {
  const transform: TargetTransformName = o.features.log_target ? 'log1p' : 'identity';
  const z = forwardTarget(transform, y);
  const families: PreparedFeatures['families'] = {};
  for (const algo of memberAlgos(o.algo, o.algoParams)) {
    const family = familyOf(algo);
    if (families[family]) continue;
    if (o.signal?.aborted) throw new AppError('INTERRUPTED', 'feature fitting interrupted');
    const pipeline = new FeaturePipeline(featureConfig(schema, o.features, algo, o.seed));
    families[family] = { pipeline, X: pipeline.fitTransform(frame, z) };
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

function fitEstimator(algo: string, X: Matrix, z: Float64Array, o: TrainBundleOptions, weights?: Float64Array): Regressor {
  if (o.signal?.aborted) throw new AppError('INTERRUPTED', 'training interrupted');
  const estimator = createEstimator(algo, { ...(o.algoParams[algo] ?? {}) });
  estimator.fit(X, z, { signal: o.signal, ...(weights ? { sampleWeight: weights } : {}) });
  return estimator;
}

function sqErr(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/**
 * Fit the estimator(s) on prepared features. For a two-member blend, the weight w of the
 * first member (w * a + (1 - w) * b in target space) is chosen on a grid of 0.05 steps
 * by the squared error on a seeded 15% validation split of the training rows, with both
 * members fitted on the other 85%; then both are refitted on all rows.
 */
export function fitPrepared(prep: PreparedFeatures, o: TrainBundleOptions): ModelBundle {
  const names = memberAlgos(o.algo, o.algoParams);
  const { z, weights: w } = prep;
  const matrixOf = (algo: string) => {
    const f = prep.families[familyOf(algo)];
    if (!f) throw new AppError('MODEL_INVALID', `prepared features lack the ${familyOf(algo)} family needed by ${algo}; rerun data_transformation`);
    return f;
  };
  let blend = names.map(() => 1 / names.length);
  if (names.length === 2) {
    const n = z.length;
    const perm = new Rng(o.seed + 1).permutation(n);
    const nVal = Math.max(1, Math.floor(n * 0.15));
    const val = perm.slice(0, nVal).sort();
    const fit = perm.slice(nVal).sort();
    const zVal = takeValues(z, val);
    const preds = names.map((a) => {
      const X = matrixOf(a).X;
      return fitEstimator(a, takeRows(X, fit), takeValues(z, fit), o, w && takeValues(w, fit)).predict(takeRows(X, val));
    });
    let best = Infinity;
    for (let k = 0; k <= 20; k++) {
      const wk = k / 20;
      const e = sqErr(preds[0].map((p, i) => wk * p + (1 - wk) * preds[1][i]), zVal);
      if (e < best) [best, blend] = [e, [wk, 1 - wk]];
    }
  }
  const members: BundleMember[] = [];
  names.forEach((algo, i) => {
    if (blend[i] === 0) return;
    const f = matrixOf(algo);
    members.push({ weight: blend[i], algo, features: f.pipeline, estimator: fitEstimator(algo, f.X, z, o, w) });
  });
  return new ModelBundle(prep.inputSchema, prep.transform, members, { ...o.metadata, algo: o.algo, metrics: o.metadata.metrics ?? {} });
}

/** Fit a bundle on validated training listings (prepareFeatures + fitPrepared). */
export function trainBundle(frame: Frame, y: Float64Array, schema: ListingSchema, o: TrainBundleOptions): ModelBundle {
  return fitPrepared(prepareFeatures(frame, y, schema, o), o);
}
