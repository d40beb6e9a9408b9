/**
 * Gradient boosted regression trees (kind 'gbdt'), XGBoost's hist algorithm in
 * TypeScript: features binned once, trees grown on gradient histograms with the
 * subtraction trick, depth-wise or leaf-wise growth, native categorical splits, early
 * stopping on a validation set. Params use XGBoost's names and defaults where the concept
 * matches, so `{ n_estimators: 300, max_depth: 6, learning_rate: 0.2 }` means what it
 * means in XGBoost. Prediction walks flattened trees on raw feature values, so a saved
 * model needs no binning state.
 */
import { AppError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { FitOptions, Regressor, SavedEstimator } from '../estimator.js';
import type { Matrix } from '../matrix.js';
import { binMatrix } from '../tree/binning.js';
import { importanceByName, loadImportance, saveImportance } from '../tree/feature-importance.js';
import { checkAborted, checkFitInput, checkPredictInput, checkSavedColumns } from '../tree/fit-checks.js';
import { TreeGrower } from '../tree/grower.js';
import { resolveParams, type ParamSpec, type ResolvedParams } from '../../core/schema.js';
import { TreeEnsemble, TreeEnsembleBuilder, type SavedTrees } from '../tree/tree-ensemble.js';
import { OBJECTIVES, makeLoss, type Objective } from './loss.js';

/** Hyper-parameters (XGBoost names; LightGBM names for the categorical knobs). */
export interface GradientBoostingParams {
  /** Boosting rounds (trees). Default 100. */
  n_estimators?: number;
  /** Shrinkage applied to every leaf (alias eta). Default 0.3. */
  learning_rate?: number;
  /** Maximum tree depth; 0 = unlimited (only with max_leaves). Default 6. */
  max_depth?: number;
  /** Maximum leaves per tree; 0 = unlimited. Default 0. */
  max_leaves?: number;
  /** 'depthwise' (XGBoost default) or 'lossguide' (leaf-wise, as LightGBM). */
  grow_policy?: 'depthwise' | 'lossguide';
  /** Minimum hessian sum in a child (= rows for squared error). Default 1. */
  min_child_weight?: number;
  /** L2 regularisation on leaf weights (alias lambda). Default 1. */
  reg_lambda?: number;
  /** Minimum loss reduction to split (alias min_split_loss). Default 0. */
  gamma?: number;
  /** Row fraction sampled per tree. Default 1. */
  subsample?: number;
  /** Feature fraction sampled per tree. Default 1. */
  colsample_bytree?: number;
  /** Feature fraction (of the tree's) sampled per split. Default 1. */
  colsample_bynode?: number;
  /** Bins per feature including the missing bin, 2..256. Default 256. */
  max_bin?: number;
  /** Rows sampled per column to place its bin cut points (default 200,000; all rows below that). */
  cut_sample?: number;
  objective?: Objective;
  /** Delta of the (pseudo-)Huber losses. Default 1. */
  huber_slope?: number;
  /** Starting prediction; null = automatic (mean of y for squared error, median for Huber). */
  base_score?: number | null;
  /** Stop when the validation metric has not improved for this many rounds; 0/null = off. */
  early_stopping_rounds?: number | null;
  /** Seed for row/feature sampling (alias seed). Default 42. */
  random_state?: number;
  /** Most categories on the left side of a categorical split. Default 64. */
  max_cat_threshold?: number;
  /** Added to the hessian when ordering categories. Default 10. */
  cat_smooth?: number;
  /** Extra L2 for categorical splits. Default 10. */
  cat_l2?: number;
  /** Categories with fewer rows in a node are not ordered (they go right). Default 1. */
  min_data_per_group?: number;
  /**
   * Categorical columns with more categories than this are split as ordered codes, not
   * natively (native splits on hundreds of categories overfit). Default 64.
   */
  max_cat_native?: number;
  /**
   * Average this many boosted models, each grown on its own row and column samples (seeds
   * random_state, random_state + 1, ...), to lower the variance of one model. Saved as one
   * additive model: round t holds the t-th tree of every model, each leaf divided by
   * `bags`, so every prediction path (and TreeSHAP) reads it as plain boosting. Default 1.
   */
  bags?: number;
}

const SPECS: Record<string, ParamSpec> = {
  n_estimators: { type: 'int', default: 100, min: 1, max: 100000 },
  learning_rate: { type: 'number', default: 0.3, min: 0, exclusiveMin: true, max: 10 },
  max_depth: { type: 'int', default: 6, min: 0, max: 64 },
  max_leaves: { type: 'int', default: 0, min: 0, max: 1 << 20 },
  grow_policy: { type: 'enum', default: 'depthwise', values: ['depthwise', 'lossguide'] },
  min_child_weight: { type: 'number', default: 1, min: 0 },
  reg_lambda: { type: 'number', default: 1, min: 0 },
  gamma: { type: 'number', default: 0, min: 0 },
  subsample: { type: 'number', default: 1, min: 0, exclusiveMin: true, max: 1 },
  colsample_bytree: { type: 'number', default: 1, min: 0, exclusiveMin: true, max: 1 },
  colsample_bynode: { type: 'number', default: 1, min: 0, exclusiveMin: true, max: 1 },
  max_bin: { type: 'int', default: 256, min: 2, max: 256 },
  // rows sampled per column to place its bin cut points (XGBoost/LightGBM sketch the same way)
  cut_sample: { type: 'int', default: 200_000, min: 1, max: 2147483647 },
  objective: { type: 'enum', default: 'reg:squarederror', values: OBJECTIVES },
  huber_slope: { type: 'number', default: 1, min: 0, exclusiveMin: true },
  base_score: { type: 'number', default: NaN, nullMeans: NaN },
  early_stopping_rounds: { type: 'int', default: 0, min: 0, nullMeans: 0 },
  random_state: { type: 'int', default: 42, min: 0, max: 2147483647 },
  max_cat_threshold: { type: 'int', default: 64, min: 1, max: 255 },
  cat_smooth: { type: 'number', default: 10, min: 0 },
  cat_l2: { type: 'number', default: 10, min: 0 },
  min_data_per_group: { type: 'number', default: 1, min: 0 },
  max_cat_native: { type: 'int', default: 64, min: 0, max: 1 << 30 },
  bags: { type: 'int', default: 1, min: 1, max: 64 },
};
const ALIASES = { eta: 'learning_rate', lambda: 'reg_lambda', min_split_loss: 'gamma', seed: 'random_state' };

/** Per-round training history. */
export interface BoostingHistory {
  /** Metric name ('rmse' for squared error). */
  metric: string;
  /** Training metric after each round. */
  train: number[];
  /** Validation metric after each round (empty without FitOptions.valid). */
  valid: number[];
}

interface Fitted {
  trees: TreeEnsemble;
  baseScore: number;
  columnNames: string[];
  gain: Float64Array;
  split: Float64Array;
  bestIteration: number;
  /** Training rows that reached each node (from the fit itself; absent after loading). */
  covers?: Float64Array;
}

/** Gradient boosted trees regressor (kind 'gbdt'). */
export class GradientBoostingRegressor implements Regressor {
  readonly kind = 'gbdt';
  private readonly p: ResolvedParams;
  private fitted: Fitted | null = null;
  /** Metric per round of the last fit (not saved). */
  history: BoostingHistory = { metric: '', train: [], valid: [] };

  /** Throws AppError('USAGE') for unknown params or bad values. */
  constructor(params: GradientBoostingParams | Record<string, unknown> = {}) {
    this.p = resolveParams('GradientBoostingRegressor', SPECS, params as Record<string, unknown>, ALIASES);
    if (this.p.max_depth === 0 && this.p.max_leaves === 0)
      throw new AppError(
        'USAGE',
        'GradientBoostingRegressor: max_depth 0 (unlimited) needs max_leaves > 0 to bound the trees',
      );
  }

  params(): Record<string, number | string | boolean> {
    const out: Record<string, number | string | boolean> = {};
    for (const [k, v] of Object.entries(this.p)) if (!(typeof v === 'number' && Number.isNaN(v))) out[k] = v;
    return out;
  }

  /** Number of trees kept ((best iteration + 1) x bags after early stopping). */
  get nTrees(): number {
    return this.fitted?.trees.nTrees ?? 0;
  }

  /** 0-based round with the best validation metric (last round without early stopping). */
  get bestIteration(): number {
    return this.fitted?.bestIteration ?? -1;
  }

  /** The starting prediction the trees add to. */
  get baseScore(): number {
    return this.fitted?.baseScore ?? NaN;
  }

  /** The fitted trees (for inspection and tests). */
  get trees(): TreeEnsemble | null {
    return this.fitted?.trees ?? null;
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    const owner = 'GradientBoostingRegressor';
    checkFitInput(owner, X, y, options);
    const p = this.p;
    const esRounds = p.early_stopping_rounds as number;
    if (esRounds > 0 && !options.valid)
      throw new AppError(
        'USAGE',
        `${owner}: early_stopping_rounds ${esRounds} needs a validation set (FitOptions.valid)`,
      );
    const n = X.nRows;
    const nF = X.nCols;
    const w = options.sampleWeight ?? null;
    const loss = makeLoss(p.objective as Objective, p.huber_slope as number);
    const binned = binMatrix(X, {
      maxBin: p.max_bin as number,
      maxCatNative: p.max_cat_native as number,
      cutSample: p.cut_sample as number,
    });
    const lr = p.learning_rate as number;
    const bags = p.bags as number;
    const subsample = p.subsample as number;
    const nTreeFeatures = Math.max(1, Math.floor((p.colsample_bytree as number) * nF));
    const featuresPerNode = Math.max(1, Math.floor((p.colsample_bynode as number) * nTreeFeatures));
    const stride = loss.unitHessian ? 2 : 3;
    const grower = new TreeGrower(
      binned,
      {
        maxDepth: p.max_depth as number,
        maxLeaves: p.max_leaves as number,
        lossguide: p.grow_policy === 'lossguide',
        minChildWeight: p.min_child_weight as number,
        minSamplesLeaf: 0,
        minSamplesSplit: 0,
        lambda: p.reg_lambda as number,
        gamma: p.gamma as number,
        catSmooth: p.cat_smooth as number,
        catL2: p.cat_l2 as number,
        maxCatThreshold: p.max_cat_threshold as number,
        minDataPerGroup: p.min_data_per_group as number,
        featuresPerNode,
        // a bagged model's leaves are stored divided by the bag count (see `bags`)
        leafScale: lr / bags,
        leafShift: 0,
      },
      stride,
      subsample < 1,
      'auto',
      { float32Gradients: true },
    );
    // one seed per bagged model: bag 0 draws exactly what an unbagged fit draws
    const rngs = Array.from({ length: bags }, (_, b) => new Rng(((p.random_state as number) + b) % 2147483647));
    const baseScore = Number.isNaN(p.base_score) ? loss.baseScore(y, w) : (p.base_score as number);
    // bagPred[b]: baseScore + bag b's trees as stored (leaves / bags); the bag's own model
    // is baseScore + bags * (bagPred[b] - baseScore), and the average of all bags
    // baseScore + sum_b (bagPred[b] - baseScore). One bag: pred itself, no rescaling.
    // the grower's own arrays when it has them (its WebAssembly kernels then copy nothing)
    const work = grower.workArrays();
    const pred = (work?.pred ?? new Float64Array(n)).fill(baseScore);
    const bagPred = [pred, ...Array.from({ length: bags - 1 }, () => new Float64Array(n).fill(baseScore))];
    const own = bags > 1 ? new Float64Array(n) : pred;
    const avg = bags > 1 ? new Float64Array(n) : pred;
    const gh = work?.gh ?? new Float32Array(2 * n);
    const rows = work?.rows ?? new Uint32Array(n);
    const inSample = new Uint8Array(n);
    // squared error on the kernels' arrays: gradients (and row sets) computed in their module
    const kernels = work && loss.squaredError && !w && bags === 1 ? work.kernels : null;
    if (kernels) kernels.y.set(y);
    const allFeatures = new Int32Array(nF).map((_, j) => j);
    const treeFeatures = new Int32Array(nF);
    const valid = options.valid;
    const vPred = valid ? new Float64Array(valid.X.nRows).fill(baseScore) : null;
    const builder = new TreeEnsembleBuilder();
    // training rows reaching each node, counted as the trees grow (TreeSHAP's covers)
    const covers: number[] = [];
    const history: BoostingHistory = { metric: loss.metricName, train: [], valid: [] };
    const gainByRound: Float64Array[] = [];
    const splitByRound: Float64Array[] = [];
    const roots = new Int32Array(bags);
    let best = Infinity;
    let bestIteration = -1;
    const rounds = p.n_estimators as number;
    // one model: round t's gradients pass also measures the training metric of round t - 1
    const fusedMetric = bags === 1 && loss.gradientsMetric !== undefined;
    for (let t = 0; t < rounds; t++) {
      checkAborted(owner, options.signal);
      for (let b = 0; b < bags; b++) {
        const rng = rngs[b];
        const bp = bagPred[b];
        if (bags > 1) for (let i = 0; i < n; i++) own[i] = baseScore + bags * (bp[i] - baseScore);
        if (fusedMetric) {
          const before = kernels
            ? Math.sqrt(kernels.squaredGradients(n) / n)
            : (loss.gradientsMetric as NonNullable<typeof loss.gradientsMetric>)(y, bp, w, gh);
          if (t > 0) history.train.push(before);
        } else loss.gradients(y, own === pred ? bp : own, w, gh);
        // rows of this tree
        let m = 0;
        if (subsample < 1) {
          for (let i = 0; i < n; i++) {
            const take = rng.next() < subsample;
            inSample[i] = take ? 1 : 0;
            if (take) rows[m++] = i;
          }
          if (m === 0) rows[m++] = rng.int(n);
          if (m === 1) inSample[rows[0]] = 1;
        } else {
          if (kernels) kernels.identityRows(n);
          else for (let i = 0; i < n; i++) rows[i] = i;
          m = n;
        }
        // features of this tree (sorted, so histogram writes stay in order)
        if (nTreeFeatures < nF) {
          const perm = allFeatures.slice();
          for (let i = 0; i < nTreeFeatures; i++) {
            const j = i + rng.int(nF - i);
            const tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
          }
          treeFeatures.set(perm.subarray(0, nTreeFeatures).sort());
        } else treeFeatures.set(allFeatures);
        const root = builder.nNodes;
        roots[b] = root;
        // the grower adds each sampled row's leaf value to the bag's predictions
        grower.grow(rows, m, gh, treeFeatures, nTreeFeatures, rng, builder, bp, covers);
        if (subsample < 1) {
          for (let i = 0; i < n; i++) if (!inSample[i]) bp[i] += grower.binnedLeafValue(builder, root, i, covers);
          grower.clearTables();
        }
      }
      if (bags > 1) {
        avg.fill(baseScore);
        for (const bp of bagPred) for (let i = 0; i < n; i++) avg[i] += bp[i] - baseScore;
      }
      gainByRound.push(grower.gainImportance.slice());
      splitByRound.push(grower.splitImportance.slice());
      if (!fusedMetric) history.train.push(loss.metric(y, avg, w));
      options.progress?.(t + 1);
      if (valid && vPred) {
        const { data, nCols } = valid.X;
        for (const root of roots)
          for (let i = 0; i < vPred.length; i++) vPred[i] += builder.rawLeafValue(root, data, i * nCols);
        const score = loss.metric(valid.y, vPred, null);
        history.valid.push(score);
        if (score < best) {
          best = score;
          bestIteration = t;
        } else if (esRounds > 0 && t - bestIteration >= esRounds) break;
      }
    }
    if (fusedMetric) history.train.push(loss.metric(y, pred, w));
    if (!valid || esRounds === 0) bestIteration = builder.nTrees / bags - 1;
    const trees = builder.freeze().truncate((bestIteration + 1) * bags);
    this.history = history;
    const nodeCovers = Float64Array.from(covers.slice(0, trees.nNodes));
    this.fitted = {
      trees,
      baseScore,
      columnNames: [...X.columnNames],
      gain: gainByRound[bestIteration],
      split: splitByRound[bestIteration],
      bestIteration,
      covers: nodeCovers,
    };
    return this;
  }

  /**
   * How many training rows reached each node of the fitted trees (node order of `trees`),
   * counted during the fit: what `nodeCovers(trees, X)` gives on the training matrix, without
   * walking it again. Null for a loaded model (or one handed covers by `setTrainingCovers`).
   */
  get trainingCovers(): Float64Array | null {
    return this.fitted?.covers ?? null;
  }

  /** Covers counted by the same fit elsewhere (a worker thread's fit, see ml/parallel-fit). */
  setTrainingCovers(covers: Float64Array): void {
    if (!this.fitted || covers.length !== this.fitted.trees.nNodes)
      throw new AppError('MODEL_INVALID', 'training covers do not match the fitted trees');
    this.fitted.covers = covers;
  }

  predict(X: Matrix): Float64Array {
    checkPredictInput('GradientBoostingRegressor', X, this.fitted?.columnNames ?? null);
    const f = this.fitted as Fitted;
    return f.trees.sumInto(X, new Float64Array(X.nRows), f.baseScore);
  }

  /** The prediction of the first `rounds` trees (see Regressor.predictFirst). */
  predictFirst(X: Matrix, rounds: number): Float64Array {
    checkPredictInput('GradientBoostingRegressor', X, this.fitted?.columnNames ?? null);
    const f = this.fitted as Fitted;
    // a bagged model keeps `bags` trees per round
    const bags = this.p.bags as number;
    const most = f.trees.roots.length / bags;
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > most)
      throw new AppError('USAGE', `predictFirst: rounds must be 1..${most}, got ${rounds}`);
    return f.trees.sumInto(X, new Float64Array(X.nRows), f.baseScore, 0, rounds * bags);
  }

  /** Total gain ('gain', LightGBM's meaning) or number of splits ('split') per feature. */
  featureImportance(type: 'gain' | 'split' = 'gain'): Record<string, number> {
    return importanceByName('GradientBoostingRegressor', this.fitted, type);
  }

  toJSON(): SavedEstimator {
    if (!this.fitted)
      throw new AppError('MODEL_INVALID', 'GradientBoostingRegressor.toJSON called before fit; nothing to save');
    const f = this.fitted;
    return {
      kind: 'gbdt',
      formatVersion: 1,
      params: this.params(),
      baseScore: f.baseScore,
      columnNames: f.columnNames,
      bestIteration: f.bestIteration,
      importance: saveImportance(f),
      trees: f.trees.toJSON(),
    };
  }

  /** Rebuild from `toJSON()` output. */
  static fromJSON(s: SavedEstimator): GradientBoostingRegressor {
    const columnNames = checkSavedColumns('gbdt', s.columnNames);
    if (typeof s.baseScore !== 'number' || !Number.isFinite(s.baseScore))
      throw new AppError(
        'MODEL_INVALID',
        'saved "gbdt" model has no finite baseScore; retrain or restore the model file',
      );
    const m = new GradientBoostingRegressor(s.params ?? {});
    m.fitted = {
      trees: TreeEnsemble.fromJSON(s.trees as SavedTrees, columnNames.length, 'gbdt'),
      baseScore: s.baseScore,
      columnNames,
      ...loadImportance(s.importance, columnNames.length),
      bestIteration: typeof s.bestIteration === 'number' ? s.bestIteration : -1,
    };
    return m;
  }
}
