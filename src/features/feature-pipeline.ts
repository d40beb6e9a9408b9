/**
 * The feature pipeline: derived features -> imputation -> categorical encoding -> scaling
 * -> a dense Matrix, fitted once on the training rows and saved with the model.
 *
 * Two families, because linear models and trees want different inputs:
 * - 'linear': impute everything; categories with at most `onehotMaxCategories` levels are
 *   one-hot encoded, higher-cardinality ones (model, variant, make_model) are
 *   target-encoded out-of-fold; then all numeric columns are standardised.
 * - 'tree': numeric NaN stays NaN (trees learn a default direction); categories with at
 *   most 255 levels become ordinal codes flagged categorical (native categorical splits),
 *   higher-cardinality ones are target-encoded.
 */
import { AppError } from '../core/errors.js';
import type { Frame, NumericColumn } from '../data/frame.js';
import { columnMatrix, isSparseBinary, makeMatrix, type Matrix, type MatrixColumn } from '../ml/matrix.js';
import { DerivedFeatures, type DerivedName } from './derived-features.js';
import { CategoricalImputer, NumericImputer } from './imputers.js';
import { OneHotEncoder } from './one-hot-encoder.js';
import { OrdinalEncoder } from './ordinal-encoder.js';
import { StandardScaler } from './standard-scaler.js';
import { TargetEncoder } from './target-encoder.js';
import { TokenFeatures } from './token-features.js';
import { Interactions, parseInteraction } from './interactions.js';
import { StepFeatures } from './step-features.js';
import { newStats, ownedFrame, type SavedTransformer, type Transformer, type TransformStats } from './transformer.js';

export type FeatureFamily = 'linear' | 'tree';

export interface FeatureConfig {
  family: FeatureFamily;
  numeric: readonly string[];
  categorical: readonly string[];
  referenceYear: number;
  derived: readonly DerivedName[];
  /** Input columns used only to derive features, then dropped (absent in older bundles). */
  exclude?: readonly string[];
  numericImputer: 'mean' | 'median';
  categoricalImputer: 'most_frequent' | 'constant';
  onehotDropFirst: boolean;
  onehotMaxCategories: number;
  targetEncodingSmoothing: number;
  /** Hierarchical target encoding: column -> parent column (absent in older bundles). */
  targetEncodingParents?: Readonly<Record<string, string>>;
  targetEncodingFolds: number;
  scale: boolean;
  /** Free-text categorical columns whose words become indicator features. */
  tokenColumns: readonly string[];
  tokenMinCount: number;
  /** "numeric:categorical" pairs (linear family only). */
  interactions: readonly string[];
  interactionMinCount: number;
  /** Numeric columns also given as 0/1 steps (linear family only; absent in older bundles). */
  steps?: readonly string[];
  stepMinCount?: number;
  seed: number;
}

/** Native categorical splits are limited to this many levels (one uint8 bin each). */
const TREE_MAX_CATEGORIES = 255;

export interface SavedFeaturePipeline {
  kind: 'feature-pipeline';
  formatVersion: 1;
  config: FeatureConfig;
  steps: SavedTransformer[];
  outputColumns: string[];
  categoricalOutputs: Record<string, number>;
}

const LOADERS: Record<string, (s: SavedTransformer) => Transformer> = {
  'derived-features': (s) => DerivedFeatures.fromJSON(s),
  'numeric-imputer': (s) => NumericImputer.fromJSON(s),
  'categorical-imputer': (s) => CategoricalImputer.fromJSON(s),
  'one-hot-encoder': (s) => OneHotEncoder.fromJSON(s),
  'target-encoder': (s) => TargetEncoder.fromJSON(s),
  'ordinal-encoder': (s) => OrdinalEncoder.fromJSON(s),
  'standard-scaler': (s) => StandardScaler.fromJSON(s),
  'token-features': (s) => TokenFeatures.fromJSON(s),
  interactions: (s) => Interactions.fromJSON(s),
  'step-features': (s) => StepFeatures.fromJSON(s),
};

/** One-hot and token indicator columns are 0/1 and are not standardised. */
function isIndicator(name: string): boolean {
  return name.includes('=') && !name.includes('*');
}

function distinct(col: (string | null)[]): number {
  const s = new Set<string>();
  for (const x of col) if (x !== null) s.add(x);
  return s.size;
}

function copyColumn(data: Float64Array, col: Float64Array, n: number, p: number, j: number): void {
  for (let i = 0; i < n; i++) data[i * p + j] = col[i];
}

function copyByteColumn(data: Float64Array, col: Uint8Array, n: number, p: number, j: number): void {
  for (let i = 0; i < n; i++) data[i * p + j] = col[i];
}

export class FeaturePipeline {
  private steps: Transformer[] = [];
  private outputColumns: string[] | undefined;
  /** Output column -> number of categories, for ordinal-coded columns. */
  private categoricalOutputs: Record<string, number> = {};

  constructor(readonly config: FeatureConfig) {}

  /**
   * Fit on training rows and return the training matrix (out-of-fold target encodings);
   * `onStep` is told the number of steps fitted so far as each one ends.
   */
  fitTransform(frame: Frame, y: Float64Array, onStep?: (done: number) => void): Matrix {
    if (frame.nRows === 0) throw new AppError('DATA_EMPTY', 'cannot fit the feature pipeline on zero rows');
    const c = this.config;
    const steps: Transformer[] = [];
    const run = (t: Transformer, f: Frame) => {
      steps.push(t);
      const out = t.fitTransform(f, y);
      onStep?.(steps.length);
      return out;
    };
    const exclude = new Set(c.exclude ?? []);
    const derived = new DerivedFeatures(
      c.derived,
      c.referenceYear,
      [...exclude].filter((k) => k in frame.numeric || k in frame.categorical),
    );
    let f = run(derived, ownedFrame(frame));
    const produced = derived.produced();
    const numeric = [...c.numeric.filter((k) => k in frame.numeric && !exclude.has(k)), ...produced.numeric];
    const categorical = [
      ...c.categorical.filter((k) => k in frame.categorical && !exclude.has(k)),
      ...produced.categorical,
    ];
    if (c.family === 'linear') {
      f = run(new NumericImputer(numeric, c.numericImputer), f);
      if (categorical.length) f = run(new CategoricalImputer(categorical, c.categoricalImputer), f);
    }
    const tokenCols = (c.tokenColumns ?? []).filter((k) => categorical.includes(k));
    if (tokenCols.length) f = run(new TokenFeatures(tokenCols, c.tokenMinCount), f);
    if (c.family === 'linear' && c.steps?.length) {
      const cols = c.steps.filter((k) => k in f.numeric);
      if (cols.length) f = run(new StepFeatures(cols, c.stepMinCount ?? 20), f);
    }
    if (c.family === 'linear' && c.interactions?.length) {
      const pairs = c.interactions
        .map(parseInteraction)
        .filter((p) => p.numeric in f.numeric && p.categorical in f.categorical);
      if (pairs.length) f = run(new Interactions(pairs, c.interactionMinCount), f);
    }
    const low = categorical.filter(
      (k) => distinct(f.categorical[k]) <= (c.family === 'linear' ? c.onehotMaxCategories : TREE_MAX_CATEGORIES),
    );
    const high = categorical.filter((k) => !low.includes(k));
    if (high.length) {
      // a parent is used when it is a categorical column still in the frame
      const parents = Object.fromEntries(
        Object.entries(c.targetEncodingParents ?? {}).filter(
          ([col, parent]) => high.includes(col) && parent in f.categorical && parent !== col,
        ),
      );
      f = run(new TargetEncoder(high, c.targetEncodingSmoothing, c.targetEncodingFolds, c.seed, parents), f);
    }
    if (low.length) {
      if (c.family === 'linear') f = run(new OneHotEncoder(low, c.onehotDropFirst), f);
      else {
        const enc = new OrdinalEncoder(low);
        f = run(enc, f);
        for (const [k, n] of Object.entries(enc.cardinality())) this.categoricalOutputs[`${k}#code`] = n;
      }
    }
    if (c.family === 'linear' && c.scale) {
      const dense = Object.keys(f.numeric).filter((k) => !isIndicator(k));
      f = run(new StandardScaler(dense), f);
    }
    this.steps = steps;
    this.outputColumns = Object.keys(f.numeric);
    return this.toMatrix(f);
  }

  /** Transform new rows (e.g. the test split or a prediction request). */
  transform(frame: Frame, stats: TransformStats = newStats()): Matrix {
    if (!this.outputColumns) throw new AppError('MODEL_INVALID', 'feature pipeline used before fit');
    let f = ownedFrame(frame);
    for (const s of this.steps) f = s.transform(f, stats);
    return this.toMatrix(f);
  }

  /** Names of the matrix columns, in order. */
  columns(): readonly string[] {
    if (!this.outputColumns) throw new AppError('MODEL_INVALID', 'feature pipeline used before fit');
    return this.outputColumns;
  }

  private toMatrix(f: Frame): Matrix {
    const cols = this.outputColumns!;
    const p = cols.length;
    const n = f.nRows;
    const columns = new Array<NumericColumn>(p);
    for (let j = 0; j < p; j++) {
      const col = f.numeric[cols[j]];
      if (!col)
        throw new AppError(
          'INPUT_INVALID',
          `feature ${cols[j]} could not be computed from the input; check the input columns`,
        );
      columns[j] = col;
    }
    // trees bin column by column: they get the columns as they are (word indicators stay
    // bytes), with no row-major float64 copy unless a reader asks for one
    if (this.config.family === 'tree') return columnMatrix(n, columns, cols, this.categoricalMeta());
    const data = new Float64Array(n * p);
    for (let j = 0; j < p; j++) {
      const col = columns[j] as MatrixColumn; // word columns are sparse (token-features.ts)
      if (col instanceof Float64Array) copyColumn(data, col, n, p, j);
      else if (isSparseBinary(col)) for (const i of col.ones) data[i * p + j] = 1;
      else copyByteColumn(data, col, n, p, j);
    }
    return makeMatrix(n, p, data, cols, this.categoricalMeta());
  }

  /** Matrix metadata for category-code columns (empty when there are none). */
  categoricalMeta(): { categorical?: boolean[]; nCategories?: number[] } {
    const cols = this.columns();
    const categorical = cols.map((k) => k in this.categoricalOutputs);
    return categorical.some(Boolean)
      ? { categorical, nCategories: cols.map((k) => this.categoricalOutputs[k] ?? 0) }
      : {};
  }

  toJSON(): SavedFeaturePipeline {
    if (!this.outputColumns) throw new AppError('MODEL_INVALID', 'feature pipeline used before fit');
    return {
      kind: 'feature-pipeline',
      formatVersion: 1,
      config: this.config,
      steps: this.steps.map((s) => s.toJSON()),
      outputColumns: this.outputColumns,
      categoricalOutputs: this.categoricalOutputs,
    };
  }

  static fromJSON(saved: SavedFeaturePipeline): FeaturePipeline {
    if (saved?.kind !== 'feature-pipeline')
      throw new AppError('FORMAT_UNKNOWN', `expected a saved feature-pipeline, got "${String(saved?.kind)}"`);
    if (saved.formatVersion !== 1)
      throw new AppError(
        'FORMAT_VERSION',
        `feature-pipeline formatVersion ${String(saved.formatVersion)} is not supported (this carprice reads 1)`,
      );
    const p = new FeaturePipeline(saved.config);
    p.steps = saved.steps.map((s) => {
      const load = LOADERS[s.kind];
      if (!load)
        throw new AppError(
          'FORMAT_UNKNOWN',
          `unknown feature step "${s.kind}" in a saved model; was it saved by a newer carprice?`,
        );
      return load(s);
    });
    p.outputColumns = [...saved.outputColumns];
    p.categoricalOutputs = { ...saved.categoricalOutputs };
    return p;
  }
}
