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
import { accessSync, constants, readFileSync, readdirSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AppError, isAppError } from '../core/errors.js';
import { replaceDirAtomic, writeFailure, writeFileAtomic } from '../core/atomic-write.js';
import { stableStringify } from '../core/stable-json.js';
import { frameFromRecords, sliceFrameRows, type Frame } from '../data/frame.js';
import { FeaturePipeline, type SavedFeaturePipeline } from '../features/feature-pipeline.js';
import { inverseTarget, type TargetTransformName } from '../features/target-transform.js';
import { newStats, type TransformStats } from '../features/transformer.js';
import type { Regressor, SavedEstimator } from '../ml/estimator.js';
import { loadEstimator } from '../ml/format/registry.js';
import { checkSavedBundle } from './bundle-schema.js';
import { Predictor, type PredictorOptions } from './predictor.js';
import { parseCalibration, type Calibration } from './calibration.js';
import { parseTreeCover } from './explanation.js';
import { parseReferenceProfile, type ReferenceProfile } from './reference-profile.js';

export const BUNDLE_KIND = 'carprice-model-bundle';
/**
 * 3: the output offset (`target.offset`, bias-correction.ts); 2: prediction-interval
 * calibration (`calibration`). 1 and 2 are still read (offset 0; 1 has no intervals).
 */
export const BUNDLE_FORMAT_VERSION = 3;
export const BUNDLE_READ_VERSIONS: readonly number[] = [1, 2, 3];
export const BUNDLE_FILE = 'bundle.json';

/** Rows predicted at a time by predictFrame. */
const PREDICT_CHUNK_ROWS = 32_768;

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
  /** Tree members (format 2): training rows that reached each node, in the estimator's node order. */
  treeCover?: number[];
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
  /** offset: added to the members' weighted output in target space (format 3; absent = 0). */
  target: { column: string; transform: TargetTransformName; offset?: number };
  members: SavedBundleMember[];
  /** Interval calibration (formatVersion 2; absent in format 1 or when intervals are off). */
  calibration?: Calibration;
  /** Training reference profile for drift monitoring (reference-profile.ts); absent in older bundles. */
  reference?: ReferenceProfile;
}

export interface BundleMember {
  weight: number;
  algo: string;
  features: FeaturePipeline;
  estimator: Regressor;
  /** Tree members: training rows that reached each node (TreeSHAP explanations); absent in older bundles. */
  treeCover?: Float64Array;
}

/**
 * The marker file that makes a directory recognisably a carprice bundle: saving replaces
 * only directories that hold it (or, for bundles saved before the marker existed, a
 * bundle.json of the bundle's kind), and only the files the bundle owns (BUNDLE_OWNED).
 */
export const BUNDLE_MARKER = 'CARPRICE_BUNDLE';
const MARKER_TEXT = stableStringify({ formatVersion: BUNDLE_FORMAT_VERSION, kind: BUNDLE_KIND }) + '\n';
/** The files a bundle directory owns; anything else in it (notes, plots) is kept on save. */
export const BUNDLE_OWNED: readonly string[] = [BUNDLE_MARKER, BUNDLE_FILE];

/** What `dir` holds as a save target. */
type BundleTarget = 'absent' | 'empty' | 'bundle';

function isMarker(file: string): boolean {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { kind?: unknown; formatVersion?: unknown };
    return m?.kind === BUNDLE_KIND && typeof m.formatVersion === 'number';
  } catch {
    return false;
  }
}

function isLegacyBundle(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    const m = JSON.parse(readFileSync(file, 'utf8')) as { kind?: unknown; formatVersion?: unknown };
    return m?.kind === BUNDLE_KIND && typeof m.formatVersion === 'number';
  } catch {
    return false;
  }
}

/**
 * Fail unless `dir` can receive a bundle: absent (its parents directories or creatable, and
 * writable), an empty directory, or a directory recognisably holding a carprice bundle
 * (its marker file, or a bundle.json of the bundle's kind). Anything else is refused with a
 * USAGE error before any work is done, so `--out .`, `--out data.csv`, `--out notes/` or
 * `--out file.csv/model` never delete or clobber anything and fail before training.
 */
export function checkBundleTarget(dir: string): BundleTarget {
  const target = resolve(dir);
  // the nearest existing ancestor must be a writable directory
  let probe = target;
  let st: Stats | undefined;
  for (;;) {
    try {
      st = statSync(probe);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        probe = dirname(probe);
        continue;
      }
      if (code !== 'ENOENT')
        throw new AppError('FILE_UNWRITABLE', `cannot use ${dir} for the model: ${(e as Error).message}`, { cause: e });
      const up = dirname(probe);
      if (up === probe) break;
      probe = up;
    }
  }
  if (st && !st.isDirectory())
    throw new AppError(
      'USAGE',
      probe === target
        ? `${dir} is a file, not a model directory; give --out a new or empty directory, or an existing model to replace`
        : `cannot save the model to ${dir}: ${probe} is a file, not a directory; choose another --out`,
    );
  if (probe !== target) {
    checkWritable(probe, dir);
    return 'absent';
  }
  const entries = readdirSync(target);
  if (entries.length === 0) {
    checkWritable(target, dir);
    return 'empty';
  }
  const marked = entries.includes(BUNDLE_MARKER) && isMarker(join(target, BUNDLE_MARKER));
  if (!marked && !(entries.includes(BUNDLE_FILE) && isLegacyBundle(join(target, BUNDLE_FILE)))) {
    const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, ... (${entries.length} entries)` : '');
    throw new AppError(
      'USAGE',
      entries.includes(BUNDLE_FILE)
        ? `${dir} holds a ${BUNDLE_FILE} that is not a carprice model bundle (no ${BUNDLE_MARKER} marker, no bundle kind), so it is not replaced; give --out a new or empty directory`
        : `${dir} exists and is not a model bundle directory; give --out a new or empty directory, or an existing model to replace (it holds ${shown})`,
    );
  }
  checkWritable(target, dir);
  return 'bundle';
}

function checkWritable(existing: string, dir: string): void {
  try {
    accessSync(existing, constants.W_OK);
  } catch (e) {
    throw writeFailure(e, dir);
  }
}

export class ModelBundle {
  constructor(
    readonly inputSchema: InputSchema,
    readonly targetTransform: TargetTransformName,
    readonly members: readonly BundleMember[],
    public metadata: BundleMetadata,
    /** Split-conformal interval calibration (calibration.ts); null in bundles of format 1. */
    public calibration: Calibration | null = null,
    /** What the training rows looked like (drift monitoring); null in bundles saved before it existed. */
    public reference: ReferenceProfile | null = null,
    /**
     * Added to the members' weighted output in target space before the inverse transform
     * (bias-correction.ts: chosen on held-out training rows to minimise MAPE); 0 = none.
     */
    readonly outputOffset: number = 0,
  ) {
    if (members.length === 0) throw new AppError('MODEL_INVALID', 'a model bundle needs at least one member');
    if (!Number.isFinite(outputOffset))
      throw new AppError('MODEL_INVALID', `a model bundle's output offset must be finite, got ${outputOffset}`);
  }

  /**
   * Predict prices (original scale) for validated listings. A large frame (training's
   * reference predictions over millions of rows) is predicted PREDICT_CHUNK_ROWS rows at a
   * time, so its feature matrices are never built whole; rows are independent, so the
   * prices are the same.
   */
  predictFrame(frame: Frame, stats: TransformStats = newStats()): Float64Array {
    if (frame.nRows > PREDICT_CHUNK_ROWS) {
      const all = new Float64Array(frame.nRows);
      for (let s = 0; s < frame.nRows; s += PREDICT_CHUNK_ROWS)
        all.set(this.predictFrame(sliceFrameRows(frame, s, Math.min(frame.nRows, s + PREDICT_CHUNK_ROWS)), stats), s);
      return all;
    }
    const out = new Float64Array(frame.nRows);
    for (const m of this.members) {
      const z = m.estimator.predict(m.features.transform(frame, stats));
      for (let i = 0; i < out.length; i++) out[i] += m.weight * z[i];
    }
    const b = this.outputOffset;
    if (b !== 0) for (let i = 0; i < out.length; i++) out[i] += b;
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
      target: {
        column: this.inputSchema.target,
        transform: this.targetTransform,
        ...(this.outputOffset !== 0 ? { offset: this.outputOffset } : {}),
      },
      members: this.members.map((m) => ({
        weight: m.weight,
        algo: m.algo,
        features: m.features.toJSON(),
        estimator: m.estimator.toJSON(),
        ...(m.treeCover ? { treeCover: Array.from(m.treeCover) } : {}),
      })),
      ...(this.calibration ? { calibration: this.calibration } : {}),
      ...(this.reference ? { reference: this.reference } : {}),
    };
  }

  /**
   * Save into `dir`. A new directory appears whole (written as a temporary sibling and
   * renamed into place); in an empty directory or an existing bundle, only the bundle's own
   * files (BUNDLE_OWNED) are written, each atomically, and every other file is kept.
   * Anything else is refused before writing (checkBundleTarget). A full disk or a read-only
   * target is FILE_UNWRITABLE naming `dir`.
   */
  save(dir: string): void {
    const state = checkBundleTarget(dir);
    const target = resolve(dir);
    const json = stableStringify(this.toJSON()) + '\n';
    if (state === 'absent') {
      replaceDirAtomic(target, (tmp) => {
        writeFileAtomic(join(tmp, BUNDLE_FILE), json);
        writeFileAtomic(join(tmp, BUNDLE_MARKER), MARKER_TEXT);
      });
      return;
    }
    try {
      // the model first: a save interrupted between the two leaves a complete bundle
      writeFileAtomic(join(target, BUNDLE_FILE), json);
      writeFileAtomic(join(target, BUNDLE_MARKER), MARKER_TEXT);
    } catch (e) {
      throw isAppError(e, 'FILE_UNWRITABLE') ? writeFailure(e.cause, dir) : e;
    }
  }

  /**
   * Rebuild a bundle from its saved JSON. The JSON is checked against the bundle schema
   * first (bundle-schema.ts), then rebuilt, then asked for one price of an all-imputed
   * listing: a bundle whose parts are damaged in a way the schema cannot see fails here,
   * at load time, as FORMAT_UNKNOWN, rather than at the first prediction.
   */
  static fromJSON(saved: unknown, where = 'model bundle'): ModelBundle {
    const s = saved as SavedBundle;
    if (!s || typeof s !== 'object' || Array.isArray(s) || s.kind !== BUNDLE_KIND)
      throw new AppError(
        'FORMAT_UNKNOWN',
        `${where} is not a carprice model bundle (kind ${JSON.stringify((s as { kind?: unknown })?.kind)}); train one with \`carprice train\``,
      );
    if (!BUNDLE_READ_VERSIONS.includes(s.formatVersion))
      throw new AppError(
        'FORMAT_VERSION',
        `${where} has formatVersion ${String(s.formatVersion)}; this carprice reads ${BUNDLE_READ_VERSIONS.join(', ')}. Upgrade carprice or retrain`,
      );
    checkSavedBundle(s, where);
    const damaged = (e: unknown, part: string): AppError =>
      isAppError(e) && e.code !== 'INPUT_INVALID'
        ? new AppError(e.code, `${where}: ${part}: ${e.message}`, { cause: e })
        : new AppError(
            'FORMAT_UNKNOWN',
            `${where} is damaged (${part}: ${(e as Error)?.message ?? String(e)}); retrain the model or restore it from the registry`,
            { cause: e },
          );
    const members = s.members.map((m, i) => {
      try {
        const treeCover = parseTreeCover(m.treeCover);
        return {
          weight: m.weight,
          algo: m.algo,
          features: FeaturePipeline.fromJSON(m.features),
          estimator: loadEstimator(m.estimator),
          ...(treeCover ? { treeCover } : {}),
        };
      } catch (e) {
        throw damaged(e, `members[${i}]`);
      }
    });
    const { createdAt, algo, training, params, metrics, carpriceVersion } = s;
    const calibration = parseCalibration(s.calibration, where);
    const reference = parseReferenceProfile(s.reference, where);
    const bundle = new ModelBundle(
      s.inputSchema,
      s.target.transform,
      members,
      { createdAt, algo, training, params, metrics, carpriceVersion },
      calibration,
      reference,
      s.target.offset ?? 0,
    );
    try {
      const inp = s.inputSchema;
      const numeric: Record<string, Float64Array> = {};
      const categorical: Record<string, (string | null)[]> = {};
      for (const c of [...inp.numeric, ...inp.optionalNumeric]) numeric[c] = new Float64Array([NaN]);
      for (const c of inp.categorical) categorical[c] = [null];
      const p = bundle.predictFrame({ nRows: 1, numeric, categorical });
      if (p.length !== 1 || Number.isNaN(p[0])) throw new Error(`a test prediction gave ${p[0]}`);
    } catch (e) {
      throw damaged(e, 'test prediction');
    }
    return bundle;
  }

  /** Load from a bundle directory (or the bundle.json file itself). */
  static load(path: string): ModelBundle {
    const file = path.endsWith('.json') ? path : join(path, BUNDLE_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const missing = code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
      throw new AppError(
        missing ? 'MODEL_NOT_FOUND' : 'FILE_UNREADABLE',
        missing
          ? `no model at ${path} (expected ${file}); train one with \`carprice train --out ${path}\``
          : `cannot read ${file}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new AppError(
        'FORMAT_UNKNOWN',
        `${file} is not valid JSON (${(e as Error).message}); the file is damaged, retrain the model`,
        { cause: e },
      );
    }
    return ModelBundle.fromJSON(json, file);
  }
}
