/**
 * The seed system's Python models as a peer for the quality benches: writes the split's
 * train and test rows as the seed's CSVs (the 12 seed columns and the price; train rows in
 * scikit-learn's permuted order), runs bench/py/seed-models.py under /usr/bin/python3 and
 * reads its predictions back, so a bench scores both stacks with the same metric code on
 * the same rows, measured in the same run (never figures typed in).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Params } from '../src/config/params.js';
import { takeValues, type Frame } from '../src/data/frame.js';
import type { ValidatedListings } from '../src/data/validate.js';
import { readFloat64File, runPythonJson, type PythonVersions } from './python-peer.js';

export const SEED_SCRIPT = 'bench/py/seed-models.py';
/** Python modules the seed models need (probe them with probePython first). */
export const SEED_MODULES = ['numpy', 'sklearn', 'pandas', 'xgboost', 'openpyxl'];
/** The seed's models, in table order, with their labels. */
export const SEED_MODELS = [
  { key: 'linear', label: 'seed LinearRegression (sklearn)' },
  { key: 'ridge', label: 'seed Ridge alpha 1 (sklearn)' },
  { key: 'xgboost', label: 'seed XGBoost 300/6/0.2' },
] as const;

export type SeedModelKey = (typeof SEED_MODELS)[number]['key'];

export interface SeedModelsOut {
  versions: PythonVersions;
  models: Record<string, { seconds: number; pred_file: string }>;
  split_check?: {
    rows_read: number;
    rows_after_dedup: number;
    n_test: number;
    same_indices: boolean;
    same_prices: boolean;
  };
}

export function csvText(v: string | null): string {
  return v === null ? '' : `"${v.replaceAll('"', '""')}"`;
}

export function csvNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : '';
}

/** The seed columns and the price of the given rows, as the seed's train.csv/test.csv held them. */
export function writeCsv(path: string, frame: Frame, y: Float64Array, idx: ArrayLike<number>, params: Params): void {
  const numeric = params.data_ingestion.numerical_cols;
  const categorical = params.data_ingestion.categorical_cols;
  const lines = [[...numeric, ...categorical, params.base.target_col].map((c) => csvText(c)).join(',')];
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    const cells = [
      ...numeric.map((c) => csvNumber(frame.numeric[c][i])),
      ...categorical.map((c) => csvText(frame.categorical[c][i])),
      csvNumber(y[i]),
    ];
    lines.push(cells.join(','));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

export interface SeedRunOptions {
  /** Scratch directory for the CSVs, spec and prediction files. */
  dir: string;
  /** The xlsx the split check re-reads with pandas. */
  xlsx: string;
  all: ValidatedListings;
  split: { train: Uint32Array; test: Uint32Array };
  /** Train rows in scikit-learn's permuted order (numpyPermutation(n, seed) after the test rows). */
  trainOrder: Uint32Array;
  params: Params;
  seed: number;
  splitCheck: boolean;
}

/** Fit the seed models on the split's train rows; their test predictions and fit seconds. */
export function runSeedModels(
  o: SeedRunOptions,
): { preds: Record<SeedModelKey, { pred: Float64Array; seconds: number }>; out: SeedModelsOut } | { error: string } {
  const { dir, all, split, params, seed } = o;
  const y = all.y as Float64Array;
  const trainCsv = join(dir, `train-${seed}.csv`);
  const testCsv = join(dir, `test-${seed}.csv`);
  writeCsv(trainCsv, all.frame, y, o.trainOrder, params);
  writeCsv(testCsv, all.frame, y, split.test, params);
  const yTest = takeValues(y, split.test);
  const spec = {
    train_csv: trainCsv,
    test_csv: testCsv,
    numeric: params.data_ingestion.numerical_cols,
    categorical: params.data_ingestion.categorical_cols,
    target: params.base.target_col,
    models: SEED_MODELS.map((m) => m.key),
    pred_dir: dir,
    split_check: o.splitCheck
      ? {
          xlsx: o.xlsx,
          test_size: params.data_ingestion.test_size,
          seed,
          test_indices: Array.from(split.test),
          test_prices: Array.from(yTest),
        }
      : undefined,
  };
  const specPath = join(dir, `spec-${seed}.json`);
  writeFileSync(specPath, JSON.stringify(spec));
  const r = runPythonJson<SeedModelsOut>(SEED_SCRIPT, [specPath]);
  if (!r.ok) return { error: r.error };
  const preds = {} as Record<SeedModelKey, { pred: Float64Array; seconds: number }>;
  for (const { key } of SEED_MODELS)
    preds[key] = { pred: readFloat64File(r.value.models[key].pred_file), seconds: r.value.models[key].seconds };
  return { preds, out: r.value };
}
