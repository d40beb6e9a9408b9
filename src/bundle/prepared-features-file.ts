/**
 * Saving prepared features (the pipeline's data_transformation output): a folder with
 * `preprocessor.json` (fitted feature pipelines, input schema, target transform, and the
 * shape of each matrix) and raw little-endian float64 files for the training matrices,
 * transformed target and row weights. Written to a temp folder and renamed into place.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../core/errors.js';
import { replaceDirAtomic, writeFileAtomic } from '../core/atomic-write.js';
import { stableStringify } from '../core/stable-json.js';
import { FeaturePipeline, type SavedFeaturePipeline } from '../features/feature-pipeline.js';
import type { TargetTransformName } from '../features/target-transform.js';
import type { Family } from '../ml/algorithm-catalog.js';
import { makeMatrix } from '../ml/matrix.js';
import type { InputSchema } from './model-bundle.js';
import type { PreparedFeatures } from './train-bundle.js';

export const PREPROCESSOR_FILE = 'preprocessor.json';
const KIND = 'carprice-preprocessor';

interface SavedMatrixRef {
  file: string;
  nRows: number;
  nCols: number;
}

interface SavedPrepared {
  kind: typeof KIND;
  formatVersion: 1;
  inputSchema: InputSchema;
  transform: TargetTransformName;
  families: Partial<Record<Family, { pipeline: SavedFeaturePipeline; matrix: SavedMatrixRef }>>;
  target: SavedMatrixRef;
  weights?: SavedMatrixRef;
}

function f64Bytes(a: Float64Array): Uint8Array {
  // explicit little-endian, so files are identical across machines
  const out = new Uint8Array(a.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat64(i * 8, a[i], true);
  return out;
}

function readF64(path: string, n: number): Float64Array {
  const buf = readFileSync(path);
  if (buf.byteLength !== n * 8)
    throw new AppError(
      'FORMAT_UNKNOWN',
      `${path} has ${buf.byteLength} bytes, expected ${n * 8}; rerun data_transformation`,
    );
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

/** Save prepared features into `dir` (replaced atomically). */
export function savePrepared(prep: PreparedFeatures, dir: string): void {
  replaceDirAtomic(dir, (tmp) => {
    const families: SavedPrepared['families'] = {};
    for (const [family, f] of Object.entries(prep.families) as [
      Family,
      NonNullable<PreparedFeatures['families'][Family]>,
    ][]) {
      const file = `X_${family}.f64`;
      writeFileAtomic(join(tmp, file), f64Bytes(f.X.data));
      families[family] = { pipeline: f.pipeline.toJSON(), matrix: { file, nRows: f.X.nRows, nCols: f.X.nCols } };
    }
    writeFileAtomic(join(tmp, 'target.f64'), f64Bytes(prep.z));
    if (prep.weights) writeFileAtomic(join(tmp, 'weights.f64'), f64Bytes(prep.weights));
    const saved: SavedPrepared = {
      kind: KIND,
      formatVersion: 1,
      inputSchema: prep.inputSchema,
      transform: prep.transform,
      families,
      target: { file: 'target.f64', nRows: prep.z.length, nCols: 1 },
      ...(prep.weights ? { weights: { file: 'weights.f64', nRows: prep.weights.length, nCols: 1 } } : {}),
    };
    writeFileAtomic(join(tmp, PREPROCESSOR_FILE), stableStringify(saved, 1) + '\n');
  });
}

/** Load prepared features saved by `savePrepared`. */
export function loadPrepared(dir: string): PreparedFeatures {
  const file = join(dir, PREPROCESSOR_FILE);
  if (!existsSync(file))
    throw new AppError(
      'FILE_NOT_FOUND',
      `no preprocessor at ${file}; run the data_transformation stage first (carprice repro data_transformation)`,
    );
  let s: SavedPrepared;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as SavedPrepared;
  } catch (e) {
    throw new AppError('FORMAT_UNKNOWN', `${file} is not valid JSON; rerun data_transformation`, { cause: e });
  }
  if (s.kind !== KIND)
    throw new AppError('FORMAT_UNKNOWN', `${file} is not a carprice preprocessor (kind ${JSON.stringify(s.kind)})`);
  if (s.formatVersion !== 1)
    throw new AppError('FORMAT_VERSION', `${file} has formatVersion ${String(s.formatVersion)}; this carprice reads 1`);
  const families: PreparedFeatures['families'] = {};
  for (const [family, f] of Object.entries(s.families) as [Family, NonNullable<SavedPrepared['families'][Family]>][]) {
    const pipeline = FeaturePipeline.fromJSON(f.pipeline);
    const data = readF64(join(dir, f.matrix.file), f.matrix.nRows * f.matrix.nCols);
    families[family] = {
      pipeline,
      X: makeMatrix(f.matrix.nRows, f.matrix.nCols, data, pipeline.columns(), pipeline.categoricalMeta()),
    };
  }
  return {
    inputSchema: s.inputSchema,
    transform: s.transform,
    families,
    z: readF64(join(dir, s.target.file), s.target.nRows),
    ...(s.weights ? { weights: readF64(join(dir, s.weights.file), s.weights.nRows) } : {}),
  };
}
