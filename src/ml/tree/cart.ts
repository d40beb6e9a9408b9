/**
 * CART regression trees on histograms, one or many: the fitting core shared by
 * DecisionTreeRegressor (one tree on all rows) and RandomForestRegressor (bootstrap
 * samples, random feature subsets per split, out-of-bag predictions).
 *
 * Squared error as gradients: g = -w (y - mean), h = w with lambda = 0, so split gains are
 * exact drops in weighted SSE and leaf values are weighted means of y. A bootstrap sample
 * is represented by multiplicities (row drawn k times has weight k w), so no rows are copied.
 */
import { AppError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { FitOptions, SavedEstimator } from '../estimator.js';
import type { Matrix } from '../matrix.js';
import { binMatrix } from './binning.js';
import { loadImportance, saveImportance } from './feature-importance.js';
import { checkAborted, checkSavedColumns } from './fit-checks.js';
import { TreeGrower } from './grower.js';
import type { ParamSpec, ResolvedParams } from '../../core/schema.js';
import { featuresPerSplit } from './params.js';
import { TreeEnsemble, TreeEnsembleBuilder, type SavedTrees } from './tree-ensemble.js';

/** What shapes a CART ensemble. */
export interface CartOptions {
  owner: string;
  nTrees: number;
  maxDepth: number;
  maxLeaves: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  minChildWeight: number;
  featuresPerNode: number;
  bootstrap: boolean;
  /** Bootstrap draws as a fraction of the rows. */
  maxSamples: number;
  maxBin: number;
  rng: Rng;
  sampleWeight?: Float64Array;
  signal?: AbortSignal;
  /** Told the trees fitted so far. */
  progress?: FitOptions['progress'];
}

/**
 * Param specs shaping the growth of each CART tree (scikit-learn names), shared by
 * DecisionTreeRegressor and RandomForestRegressor. Spread in declaration order: the
 * order of the specs is the order of `params()`.
 */
export const CART_GROWTH_SPECS: Readonly<Record<string, ParamSpec>> = {
  max_depth: { type: 'int', default: 0, min: 0, max: 1000, nullMeans: 0 },
  min_samples_split: { type: 'number', default: 2, min: 0 },
  min_samples_leaf: { type: 'number', default: 1, min: 0 },
  min_child_weight: { type: 'number', default: 0, min: 0 },
  max_leaves: { type: 'int', default: 0, min: 0 },
  max_features: { type: 'numberOrEnum', default: 1, min: 0, exclusiveMin: true, values: ['sqrt', 'log2'] },
};

/** Param specs for histogram bins and the seed of a CART learner (after CART_GROWTH_SPECS). */
export const CART_BIN_SEED_SPECS: Readonly<Record<string, ParamSpec>> = {
  max_bin: { type: 'int', default: 256, min: 2, max: 256 },
  random_state: { type: 'int', default: 42, min: 0, max: 2147483647 },
};

/**
 * CartOptions from params resolved against CART_GROWTH_SPECS and CART_BIN_SEED_SPECS;
 * `ensemble` gives what differs between one tree and a forest.
 */
export function cartOptionsFromParams(
  owner: string,
  p: ResolvedParams,
  nFeatures: number,
  options: FitOptions,
  ensemble: Pick<CartOptions, 'nTrees' | 'bootstrap' | 'maxSamples'>,
): CartOptions {
  return {
    owner,
    nTrees: ensemble.nTrees,
    maxDepth: p.max_depth as number,
    maxLeaves: p.max_leaves as number,
    minSamplesSplit: p.min_samples_split as number,
    minSamplesLeaf: p.min_samples_leaf as number,
    minChildWeight: p.min_child_weight as number,
    featuresPerNode: featuresPerSplit(p.max_features as number | string, nFeatures),
    bootstrap: ensemble.bootstrap,
    maxSamples: ensemble.maxSamples,
    maxBin: p.max_bin as number,
    rng: new Rng(p.random_state as number),
    sampleWeight: options.sampleWeight,
    signal: options.signal,
    progress: options.progress,
  };
}

/** The fitted trees and, when bootstrapping, out-of-bag predictions. */
export interface CartResult {
  trees: TreeEnsemble;
  gain: Float64Array;
  split: Float64Array;
  /** Mean OOB prediction per row (NaN for rows that were in every bag); null without bootstrap. */
  oobPrediction: Float64Array | null;
}

/** Fit `nTrees` CART trees. */
export function fitCart(X: Matrix, y: Float64Array, o: CartOptions): CartResult {
  const n = X.nRows;
  const nF = X.nCols;
  const w = o.sampleWeight;
  const binned = binMatrix(X, { maxBin: o.maxBin });
  let sw = 0;
  let swy = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    sw += wi;
    swy += wi * y[i];
  }
  const mean = sw > 0 ? swy / sw : 0;
  const grower = new TreeGrower(
    binned,
    {
      maxDepth: o.maxDepth,
      maxLeaves: o.maxLeaves,
      lossguide: false,
      minChildWeight: o.minChildWeight,
      minSamplesLeaf: o.minSamplesLeaf,
      minSamplesSplit: o.minSamplesSplit,
      lambda: 0,
      gamma: 0,
      catSmooth: 0,
      catL2: 0,
      maxCatThreshold: 255,
      minDataPerGroup: 0,
      featuresPerNode: o.featuresPerNode,
      leafScale: 1,
      leafShift: mean,
    },
    2,
    o.bootstrap,
  );
  const builder = new TreeEnsembleBuilder();
  const gh = new Float64Array(2 * n);
  const rows = new Uint32Array(n);
  const counts = new Uint32Array(n);
  const features = new Int32Array(nF).map((_, j) => j);
  const oobSum = o.bootstrap ? new Float64Array(n) : null;
  const oobCount = o.bootstrap ? new Uint32Array(n) : null;
  const draws = Math.max(1, Math.round(o.maxSamples * n));
  for (let t = 0; t < o.nTrees; t++) {
    checkAborted(o.owner, o.signal);
    const rng = o.rng.fork();
    let m = 0;
    if (o.bootstrap) {
      counts.fill(0);
      for (let d = 0; d < draws; d++) counts[rng.int(n)]++;
      for (let i = 0; i < n; i++) {
        const c = counts[i];
        if (c === 0) continue;
        const wi = (w ? w[i] : 1) * c;
        if (wi === 0) continue;
        gh[2 * i] = -wi * (y[i] - mean);
        gh[2 * i + 1] = wi;
        rows[m++] = i;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const wi = w ? w[i] : 1;
        if (wi === 0) continue;
        gh[2 * i] = -wi * (y[i] - mean);
        gh[2 * i + 1] = wi;
        rows[m++] = i;
      }
    }
    if (m === 0) {
      builder.beginTree();
      builder.addLeaf(mean);
      continue;
    }
    const root = builder.nNodes;
    grower.grow(rows, m, gh, features, nF, rng, builder);
    if (oobSum && oobCount) {
      for (let i = 0; i < n; i++)
        if (counts[i] === 0) {
          oobSum[i] += grower.binnedLeafValue(builder, root, i);
          oobCount[i]++;
        }
      grower.clearTables();
    }
    o.progress?.(t + 1);
  }
  let oobPrediction: Float64Array | null = null;
  if (oobSum && oobCount) {
    oobPrediction = new Float64Array(n);
    for (let i = 0; i < n; i++) oobPrediction[i] = oobCount[i] > 0 ? oobSum[i] / oobCount[i] : NaN;
  }
  return {
    trees: builder.freeze(),
    gain: grower.gainImportance.slice(),
    split: grower.splitImportance.slice(),
    oobPrediction,
  };
}

/** R² of `pred` against `y` over rows where pred is not NaN (NaN when fewer than 2 such rows). */
export function r2Where(y: Float64Array, pred: Float64Array): number {
  let n = 0;
  let s = 0;
  for (let i = 0; i < y.length; i++)
    if (pred[i] === pred[i]) {
      n++;
      s += y[i];
    }
  if (n < 2) return NaN;
  const mean = s / n;
  let ssr = 0;
  let sst = 0;
  for (let i = 0; i < y.length; i++)
    if (pred[i] === pred[i]) {
      ssr += (y[i] - pred[i]) ** 2;
      sst += (y[i] - mean) ** 2;
    }
  return sst > 0 ? 1 - ssr / sst : NaN;
}

/** What a fitted CART model (tree or forest) keeps: its trees, column names and importance. */
export interface CartFitted {
  trees: TreeEnsemble;
  columnNames: string[];
  gain: Float64Array;
  split: Float64Array;
}

/**
 * The saved form of a fitted CART model: kind, format 1, params, column names, then `extra`
 * (the forest's OOB score), importance and trees, in that order. Before fit: MODEL_INVALID
 * naming `owner`.
 */
export function saveCart(
  owner: string,
  kind: 'tree' | 'forest',
  params: Record<string, number | string | boolean>,
  f: CartFitted | null,
  extra: Record<string, unknown> = {},
): SavedEstimator {
  if (!f) throw new AppError('MODEL_INVALID', `${owner}.toJSON called before fit; nothing to save`);
  return {
    kind,
    formatVersion: 1,
    params,
    columnNames: f.columnNames,
    ...extra,
    importance: saveImportance(f),
    trees: f.trees.toJSON(),
  };
}

/** The trees, column names and importance of a saved CART model of `kind` (column names checked). */
export function loadCart(kind: 'tree' | 'forest', s: SavedEstimator): CartFitted {
  const columnNames = checkSavedColumns(kind, s.columnNames);
  return {
    trees: TreeEnsemble.fromJSON(s.trees as SavedTrees, columnNames.length, kind),
    columnNames,
    ...loadImportance(s.importance, columnNames.length),
  };
}
