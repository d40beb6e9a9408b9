/**
 * Fitting a model bundle: target transform, feature pipeline for the algorithm's family,
 * estimator, and (for `blend`) a weighted combination of members whose weight is chosen
 * on a seeded validation split of the training rows, then refitted on all of them.
 */
import { AppError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { takeFrameRows, takeValues, type Frame } from '../data/frame.js';
import type { ListingSchema } from '../data/listing-schema.js';
import { FeaturePipeline, type FeatureConfig } from '../features/feature-pipeline.js';
import { forwardTarget, type TargetTransformName } from '../features/target-transform.js';
import type { DerivedName } from '../features/derived-features.js';
import { createEstimator, familyOf } from '../ml/algorithms.js';
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

function fitMember(algo: string, frame: Frame, z: Float64Array, schema: ListingSchema, o: TrainBundleOptions, weights?: Float64Array): BundleMember {
  if (o.signal?.aborted) throw new AppError('INTERRUPTED', 'training interrupted');
  const features = new FeaturePipeline(featureConfig(schema, o.features, algo, o.seed));
  const X = features.fitTransform(frame, z);
  const estimator = createEstimator(algo, { ...(o.algoParams[algo] ?? {}) });
  estimator.fit(X, z, { signal: o.signal, ...(weights ? { sampleWeight: weights } : {}) });
  return { weight: 1, algo, features, estimator };
}

function sqErr(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/** Fit a bundle on validated training listings. */
export function trainBundle(frame: Frame, y: Float64Array, schema: ListingSchema, o: TrainBundleOptions): ModelBundle {
  const transform: TargetTransformName = o.features.log_target ? 'log1p' : 'identity';
  const z = forwardTarget(transform, y);
  const w = priceWeights(y, o.priceWeightPower ?? 0);
  let members: BundleMember[];
  if (o.algo === 'blend') {
    const names = String(o.algoParams.blend?.members ?? BLEND_MEMBERS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length < 2) throw new AppError('USAGE', 'blend needs at least two members, e.g. --set model_trainer.params.blend.members=ridge,gbdt');
    // choose weights on a seeded 15% validation split: a grid over the simplex for 2 members,
    // equal weights otherwise
    let weights = names.map(() => 1 / names.length);
    if (names.length === 2) {
      const perm = new Rng(o.seed + 1).permutation(frame.nRows);
      const nVal = Math.max(1, Math.floor(frame.nRows * 0.15));
      const val = perm.slice(0, nVal).sort();
      const fit = perm.slice(nVal).sort();
      const fFit = takeFrameRows(frame, fit);
      const fVal = takeFrameRows(frame, val);
      const zFit = takeValues(z, fit);
      const zVal = takeValues(z, val);
      const preds = names.map((a) => {
        const m = fitMember(a, fFit, zFit, schema, o, w && takeValues(w, fit));
        return m.estimator.predict(m.features.transform(fVal));
      });
      let best = Infinity;
      for (let k = 0; k <= 20; k++) {
        const w = k / 20;
        const mix = preds[0].map((p, i) => w * p + (1 - w) * preds[1][i]);
        const e = sqErr(mix, zVal);
        if (e < best) [best, weights] = [e, [w, 1 - w]];
      }
    }
    members = names.map((a, i) => ({ ...fitMember(a, frame, z, schema, o, w), weight: weights[i] })).filter((m) => m.weight > 0);
  } else {
    members = [fitMember(o.algo, frame, z, schema, o, w)];
  }
  const nullable = new Set<string>(NULLABLE_CATEGORICAL);
  const inputSchema: InputSchema = {
    target: schema.target,
    numeric: [...schema.numeric],
    categorical: [...schema.categorical],
    optionalNumeric: [...schema.optionalNumeric],
    required: [...schema.numeric, ...schema.categorical.filter((c) => !nullable.has(c))],
  };
  return new ModelBundle(inputSchema, transform, members, { ...o.metadata, algo: o.algo, metrics: o.metadata.metrics ?? {} });
}
