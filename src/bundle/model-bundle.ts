/**
 * The model bundle: everything needed to turn a listing into a price, saved and loaded as
 * one self-contained unit (no code paths, no pickles): the input schema, one or more
 * members (each a fitted feature pipeline + estimator + blend weight), the target
 * transform, and metadata (training data hash and row count, params, metrics, created-at).
 * This is what the registry stores and the API serves.
 *
 * On disk: a directory holding `bundle.json` (stable key order, so the same model gives
 * the same bytes). Saving writes a temporary directory and renames it into place, so an
 * interrupted save never leaves half a model.
 */
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../core/errors.js';
import { replaceDirAtomic, writeFileAtomic } from '../core/atomic-write.js';
import { stableStringify } from '../core/stable-json.js';
import { frameFromRecords, type Frame } from '../data/frame.js';
import { FeaturePipeline, type SavedFeaturePipeline } from '../features/feature-pipeline.js';
import { inverseTarget, type TargetTransformName } from '../features/target-transform.js';
import { newStats, type TransformStats } from '../features/transformer.js';
import type { Regressor, SavedEstimator } from '../ml/estimator.js';
import { loadEstimator } from '../ml/format/registry.js';
import '../ml/algorithms.js';
import { Predictor, type PredictorOptions } from './predictor.js';

export const BUNDLE_KIND = 'carprice-model-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
export const BUNDLE_FILE = 'bundle.json';

/** The listing fields a bundle accepts. */
export interface InputSchema {
  target: string;
  numeric: string[];
  categorical: string[];
  /** Numeric fields used when given, imputed when absent (equipment flags). */
  optionalNumeric: string[];
  /** Fields that must be present in every prediction input. */
  required: string[];
}

export interface SavedBundleMember {
  weight: number;
  algo: string;
  features: SavedFeaturePipeline;
  estimator: SavedEstimator;
}

export interface BundleMetadata {
  createdAt: string;
  algo: string;
  training: { dataHash: string; rows: number; source: string };
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  carpriceVersion: string;
}

export interface SavedBundle extends BundleMetadata {
  kind: typeof BUNDLE_KIND;
  formatVersion: number;
  inputSchema: InputSchema;
  target: { column: string; transform: TargetTransformName };
  members: SavedBundleMember[];
}

export interface BundleMember {
  weight: number;
  algo: string;
  features: FeaturePipeline;
  estimator: Regressor;
}

/**
 * Fail unless `dir` can receive a bundle: absent, an empty directory, or an existing bundle
 * (which is replaced). Anything else is refused, so `--out .` or `--out data.csv` never
 * deletes a project or a file.
 */
export function checkBundleTarget(dir: string): void {
  const target = resolve(dir);
  if (!existsSync(target)) return;
  const entries = statSync(target).isDirectory() ? readdirSync(target) : undefined;
  if (!entries || (entries.length > 0 && !entries.includes(BUNDLE_FILE)))
    throw new AppError('USAGE', `${dir} exists and is not a model bundle directory; give --out a new or empty directory, or an existing model to replace`);
}

export class ModelBundle {
  constructor(
    readonly inputSchema: InputSchema,
    readonly targetTransform: TargetTransformName,
    readonly members: readonly BundleMember[],
    public metadata: BundleMetadata,
  ) {
    if (members.length === 0) throw new AppError('MODEL_INVALID', 'a model bundle needs at least one member');
  }

  /** Predict prices (original scale) for validated listings. */
  predictFrame(frame: Frame, stats: TransformStats = newStats()): Float64Array {
    const out = new Float64Array(frame.nRows);
    for (const m of this.members) {
      const z = m.estimator.predict(m.features.transform(frame, stats));
      for (let i = 0; i < out.length; i++) out[i] += m.weight * z[i];
    }
    return inverseTarget(this.targetTransform, out);
  }

  /** Predict prices for raw listing objects (API and CLI input); validates every field. */
  predictRecords(records: readonly Record<string, unknown>[], stats: TransformStats = newStats()): Float64Array {
    const s = this.inputSchema;
    const frame = frameFromRecords(records, {
      numeric: [...s.numeric, ...s.optionalNumeric],
      categorical: s.categorical,
      required: s.required,
    });
    return this.predictFrame(frame, stats);
  }

  /** The one-listing prediction API (see predictor.ts): predictOne / predictMany, never throwing for bad input. */
  compilePredictor(options?: PredictorOptions): Predictor {
    return new Predictor(this, options);
  }

  toJSON(): SavedBundle {
    return {
      kind: BUNDLE_KIND,
      formatVersion: BUNDLE_FORMAT_VERSION,
      ...this.metadata,
      inputSchema: this.inputSchema,
      target: { column: this.inputSchema.target, transform: this.targetTransform },
      members: this.members.map((m) => ({ weight: m.weight, algo: m.algo, features: m.features.toJSON(), estimator: m.estimator.toJSON() })),
    };
  }

  /**
   * Save into `dir`, created or replaced atomically: the bundle is written to a temporary
   * sibling directory and renamed into place; if that fails, the previous model is put back.
   * Only an absent or empty directory or an existing bundle is replaced (checkBundleTarget).
   */
  save(dir: string): void {
    checkBundleTarget(dir);
    try {
      replaceDirAtomic(resolve(dir), (tmp) => writeFileAtomic(join(tmp, BUNDLE_FILE), stableStringify(this.toJSON()) + '\n'));
    } catch (e) {
      throw new AppError('FILE_UNREADABLE', `could not save the model to ${dir}: ${(e as Error).message}`, { cause: e });
    }
  }

  static fromJSON(saved: unknown, where = 'model bundle'): ModelBundle {
    const s = saved as SavedBundle;
    if (!s || typeof s !== 'object' || s.kind !== BUNDLE_KIND)
      throw new AppError('FORMAT_UNKNOWN', `${where} is not a carprice model bundle (kind ${JSON.stringify((s as { kind?: unknown })?.kind)}); train one with \`carprice train\``);
    if (s.formatVersion !== BUNDLE_FORMAT_VERSION)
      throw new AppError('FORMAT_VERSION', `${where} has formatVersion ${String(s.formatVersion)}; this carprice reads ${BUNDLE_FORMAT_VERSION}. Upgrade carprice or retrain`);
    if (!Array.isArray(s.members) || s.members.some((m) => !m || typeof m !== 'object') || !s.inputSchema || typeof s.target !== 'object' || !s.target)
      throw new AppError('FORMAT_UNKNOWN', `${where} is damaged: it lacks its members, inputSchema or target; retrain the model`);
    const members = s.members.map((m) => ({
      weight: m.weight,
      algo: m.algo,
      features: FeaturePipeline.fromJSON(m.features),
      estimator: loadEstimator(m.estimator),
    }));
    const { createdAt, algo, training, params, metrics, carpriceVersion } = s;
    return new ModelBundle(s.inputSchema, s.target.transform, members, { createdAt, algo, training, params, metrics, carpriceVersion });
  }

  /** Load from a bundle directory (or the bundle.json file itself). */
  static load(path: string): ModelBundle {
    const file = path.endsWith('.json') ? path : join(path, BUNDLE_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new AppError(
        code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE',
        code === 'ENOENT' ? `no model at ${path} (expected ${file}); train one with \`carprice train --out ${path}\`` : `cannot read ${file}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new AppError('FORMAT_UNKNOWN', `${file} is not valid JSON (${(e as Error).message}); the file is damaged, retrain the model`, { cause: e });
    }
    return ModelBundle.fromJSON(json, file);
  }
}
