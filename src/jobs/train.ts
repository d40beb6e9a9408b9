/**
 * The train use case: read and validate training listings (splitting them with the
 * seeded 80/20 split when no test file is given), fit a model bundle, evaluate it on the
 * test rows and save it. Used by `carprice train`, the pipeline stage and the benches.
 */
import { buildReferenceProfile } from '../bundle/reference-profile.js';
import { AppError } from '../core/errors.js';
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import { takeFrameRows, takeValues, type Frame } from '../data/frame.js';
import { splitIndices } from '../data/split.js';
import { trainBundleParallel } from '../bundle/train-bundle.js';
import { checkBundleTarget, type ModelBundle } from '../bundle/model-bundle.js';
import { regressionMetrics, type RegressionMetrics } from '../ml/metrics.js';
import { loadListings, type ProgressFactory } from './load-listings.js';
import { checkHyperParams, trainedParams, trainingOptions, trainingThreads } from './training-options.js';
import { CARPRICE_VERSION } from './version.js';

export interface TrainOptions {
  params: Params;
  /** Training listings (path or URL). Without `test`, it is split by data_ingestion.test_size. */
  train: string;
  test?: string;
  /** Algorithm (default params.model_trainer.algo). */
  algo?: string;
  /** Bundle directory to write (omit to keep the model in memory only). */
  out?: string;
  env?: Env;
  logger?: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  onReport?: (summary: string) => void;
  /** Progress of reading the listings (a TTY meter in the CLI). */
  progress?: ProgressFactory;
}

export interface TrainResult {
  bundle: ModelBundle;
  metrics: RegressionMetrics;
  trainRows: number;
  testRows: number;
  seconds: number;
}

/** Below this many training listings (or FEW_TEST_ROWS test listings), train warns that the result is unreliable. */
export const FEW_ROWS = 100;
const FEW_TEST_ROWS = 20;
/** A blend holds out 15% of the training rows to choose its weights: it needs a few of each. */
const MIN_BLEND_ROWS = 14;

/**
 * A fingerprint of the rows a model was trained on (order-sensitive, exact): md5 of each
 * column's name and contents (float64 bytes in base64, categories as JSON), fed to the hash
 * a slice at a time so a million-row frame is never one string.
 */
export function dataFingerprint(frame: Frame, y: Float64Array): string {
  const h = createHash('md5');
  let first = true;
  const part = (write: () => void) => {
    if (!first) h.update('\n');
    first = false;
    write();
  };
  // base64 of whole 3-byte groups concatenates exactly: slices of 3 * 8 * 8192 bytes
  const bytes = (c: Float64Array | Uint8Array) => {
    const buf = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    const step = 3 * 8 * 8192;
    for (let at = 0; at < buf.length; at += step) h.update(buf.subarray(at, at + step).toString('base64'));
  };
  const json = (col: readonly (string | null)[]) => {
    if (col.length === 0) return void h.update('[]');
    const step = 65536;
    for (let at = 0; at < col.length; at += step) {
      const s = JSON.stringify(col.slice(at, at + step));
      h.update(at === 0 ? '[' : ',');
      h.update(s.slice(1, -1));
    }
    h.update(']');
  };
  for (const k of Object.keys(frame.numeric).sort()) {
    part(() => h.update(k));
    part(() => bytes(frame.numeric[k]));
  }
  for (const k of Object.keys(frame.categorical).sort()) {
    part(() => h.update(k));
    part(() => json(frame.categorical[k]));
  }
  part(() => h.update('y'));
  part(() => bytes(y));
  return h.digest('hex');
}

/** Most training rows the reference profile (drift monitoring) describes. */
export const REFERENCE_ROWS = 50_000;

/**
 * The training rows the reference profile describes: all of them up to REFERENCE_ROWS, else
 * that many evenly spaced ones (deterministic). Deciles and category shares of 50,000 rows
 * are within a fraction of a percent of the whole file's, and pricing every row of a
 * million-row file again only to profile its predictions took longer than the fit.
 */
export function referenceRows(frame: Frame): Frame {
  const n = frame.nRows;
  if (n <= REFERENCE_ROWS) return frame;
  const idx = new Uint32Array(REFERENCE_ROWS);
  for (let k = 0; k < REFERENCE_ROWS; k++) idx[k] = Math.floor((k * n) / REFERENCE_ROWS);
  return takeFrameRows(frame, idx);
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const clock = o.clock ?? systemClock;
  const t0 = performance.now();
  const { params } = o;
  const algo = o.algo ?? params.model_trainer.algo;
  // fail fast on a mistyped algorithm or thread count, before reading (maybe downloading) the data
  checkHyperParams(params, algo, o.algo !== undefined);
  const threads = trainingThreads(o.env);
  if (o.out) checkBundleTarget(o.out);
  const loaded = await loadListings(o.train, { ...o, requireTarget: true });
  let trainFrame = loaded.frame;
  let yTrain = loaded.y!;
  let testFrame: Frame;
  let yTest: Float64Array;
  if (o.test) {
    const t = await loadListings(o.test, { ...o, requireTarget: true });
    testFrame = t.frame;
    yTest = t.y!;
  } else {
    const s = splitIndices(trainFrame.nRows, params.data_ingestion.test_size, params.data_ingestion.random_state);
    testFrame = takeFrameRows(trainFrame, s.test);
    yTest = takeValues(yTrain, s.test);
    trainFrame = takeFrameRows(trainFrame, s.train);
    yTrain = takeValues(yTrain, s.train);
  }
  if (o.signal?.aborted) throw new AppError('INTERRUPTED', 'training interrupted before fitting');
  const minRows = algo === 'blend' ? MIN_BLEND_ROWS : 2;
  if (trainFrame.nRows < minRows)
    throw new AppError(
      'DATA_INVALID',
      `only ${trainFrame.nRows} listing(s) to train on after the split, too few for ${algo} (at least ${minRows}${algo === 'blend' ? ': it holds out 15% of them to weigh its members' : ''}); give more listings`,
    );
  if (trainFrame.nRows < FEW_ROWS || testFrame.nRows < FEW_TEST_ROWS)
    o.onReport?.(
      `warning: only ${trainFrame.nRows} listings to train on and ${testFrame.nRows} to test on; the model and its test metrics will be unreliable (a few hundred listings at least are advisable)`,
    );
  const bundle = await trainBundleParallel(trainFrame, yTrain, loaded.schema, {
    ...trainingOptions(params, algo),
    threads,
    signal: o.signal,
    ...(o.progress ? { progress: o.progress } : {}),
    metadata: {
      createdAt: new Date(clock.now()).toISOString(),
      training: { dataHash: dataFingerprint(trainFrame, yTrain), rows: trainFrame.nRows, source: o.train },
      params: trainedParams(params, algo),
      carpriceVersion: CARPRICE_VERSION,
    },
  });
  // what the training rows looked like, for drift monitoring of the served model; priced
  // first, so the test rows reuse the trees it compiles (a few thousand rows alone would
  // walk them in JavaScript, slower than compiling)
  const profiled = referenceRows(trainFrame);
  bundle.reference = buildReferenceProfile(profiled, bundle.predictFrame(profiled));
  const metrics = regressionMetrics(yTest, bundle.predictFrame(testFrame));
  bundle.metadata = { ...bundle.metadata, metrics: { ...metrics } };
  if (o.out) bundle.save(o.out);
  return {
    bundle,
    metrics,
    trainRows: trainFrame.nRows,
    testRows: testFrame.nRows,
    seconds: (performance.now() - t0) / 1000,
  };
}
