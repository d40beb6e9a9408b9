/**
 * bench/quality-vs-python: carprice's models against the seed system's Python models
 * (scikit-learn LinearRegression and Ridge, XGBoost 300/6/0.2, built as the seed built them:
 * see bench/py/seed-models.py) on IDENTICAL train/test rows of ../shared/data/cars24_v3.xlsx,
 * over one or more seeded 80/20 splits.
 *
 * Usage (from the project root):
 *   node dist/bench/quality-vs-python.js [--seeds 42 | 0-9 | 1,2,3] [--algos ridge,gbdt,blend]
 *
 * Rows are the validated listings in file order; the split for seed s is splitIndices(n,
 * test_size, s), scikit-learn's train_test_split(test_size, random_state=s) row for row. For
 * each seed this script writes the split's train and test rows (the 12 seed columns and
 * listingPrice; train rows in scikit-learn's permuted order, as the seed's train.csv had
 * them) to CSV files in a temp dir, the Python script fits on train.csv and writes its
 * predictions for test.csv, and this script scores both sides with the same
 * regressionMetrics on the same test rows. carprice fits its own features from the same
 * training rows (params.yaml: it also uses the equipment flags and derived features the seed
 * left unused); nothing is tuned on the test rows. On the first seed the Python side also
 * reads the xlsx itself (pandas, drop_duplicates, train_test_split) to check that carprice's
 * test rows are scikit-learn's. "train s" is the fit alone (features included), data
 * loading excluded, on both sides. Python is /usr/bin/python3 with Debian's numpy, sklearn,
 * pandas, xgboost and openpyxl; without them the Python side is skipped with the reason.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadParams, type Params } from '../src/config/params.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { trainedParams, trainingOptions } from '../src/jobs/training-options.js';
import { dataFingerprint } from '../src/jobs/train.js';
import { CARPRICE_VERSION } from '../src/jobs/version.js';
import { trainBundle } from '../src/bundle/train-bundle.js';
import { numpyPermutation } from '../src/core/numpy-random.js';
import { splitIndices } from '../src/data/split.js';
import { takeFrameRows, takeValues } from '../src/data/frame.js';
import { regressionMetrics, type RegressionMetrics } from '../src/ml/metrics.js';
import type { ValidatedListings } from '../src/data/validate.js';
import { probePython } from './python-peer.js';
import { algorithmName, benchArgs, listOf, runBench, seedList, seedsOf } from './bench-args.js';
import { runSeedModels, SEED_MODELS, SEED_MODULES, SEED_SCRIPT, type SeedModelsOut } from './seed-peer.js';
import { DATA } from './dataset.js';

const TARGETS = { linear: { r2: 0.9, mape: 0.14 }, best: { r2: 0.92, mape: 0.135 } };

interface Row {
  label: string;
  metrics: RegressionMetrics | null;
  /** Why there are no metrics (non-finite predictions). */
  problem?: string;
  seconds: number;
}

interface SeedResult {
  seed: number;
  rows: Row[];
}

const args = benchArgs({
  name: 'quality-vs-python',
  summary: "carprice's models beside the Python original's on the same seeded 80/20 splits",
  options: {
    seeds: { type: 'string', value: 'SEEDS', default: '42', help: 'split seeds: 42, 0-9 or 1,2,3', check: seedList },
    algos: {
      type: 'string',
      value: 'ALGO,ALGO',
      default: 'ridge,gbdt,blend',
      help: 'carprice algorithms to fit',
      check: listOf(algorithmName),
    },
  },
});

/** A CSV field: categoricals always quoted (so no value can be misread), missing = empty. */
function score(label: string, yTest: Float64Array, pred: Float64Array, seconds: number): Row {
  for (const p of pred)
    if (!Number.isFinite(p)) return { label, metrics: null, problem: 'non-finite predictions', seconds };
  return { label, metrics: regressionMetrics(yTest, pred), seconds };
}

const pct = (x: number) => (100 * x).toFixed(1) + '%';
/** R2 with 4 decimals, or in exponent form when it has blown up (the seed's LinearRegression did). */
const fmtR2 = (x: number) => (Math.abs(x) < 1000 ? x.toFixed(4) : x.toExponential(2));
const fmtNum = (x: number) => (Math.abs(x) < 1e12 ? x.toFixed(0) : x.toExponential(2));

function printTable(rows: Row[]): void {
  console.log(
    'model'.padEnd(34),
    'R2'.padStart(9),
    'RMSE'.padStart(10),
    'MAPE'.padStart(8),
    'MedAPE'.padStart(8),
    'within10'.padStart(9),
    'train s'.padStart(8),
  );
  for (const r of rows) {
    const m = r.metrics;
    if (!m) {
      console.log(r.label.padEnd(34), `(${r.problem})`.padStart(9), ''.padStart(36), r.seconds.toFixed(2).padStart(8));
      continue;
    }
    console.log(
      r.label.padEnd(34),
      fmtR2(m.r2).padStart(9),
      fmtNum(m.rmse).padStart(10),
      pct(m.mape).padStart(8),
      pct(m.medape).padStart(8),
      pct(m.within10).padStart(9),
      r.seconds.toFixed(2).padStart(8),
    );
  }
}

function meanSd(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

/** The metric of a labelled row on every seed (null when any seed lacks it). */
function series(results: SeedResult[], label: string, pick: (m: RegressionMetrics) => number): number[] | null {
  const out: number[] = [];
  for (const r of results) {
    const m = r.rows.find((x) => x.label === label)?.metrics;
    if (!m) return null;
    out.push(pick(m));
  }
  return out;
}

function printSummary(results: SeedResult[]): void {
  console.log(`\n== over ${results.length} seeds (${results.map((r) => r.seed).join(',')}): mean (sd, n-1) ==`);
  console.log('model'.padEnd(34), 'R2'.padStart(18), 'MAPE'.padStart(16));
  for (const { label } of results[0].rows) {
    const r2s = series(results, label, (m) => m.r2);
    const mapes = series(results, label, (m) => m.mape);
    if (!r2s || !mapes) {
      console.log(label.padEnd(34), '(missing on some seed)'.padStart(18));
      continue;
    }
    const a = meanSd(r2s);
    const b = meanSd(mapes);
    const r2Text =
      Math.abs(a.mean) < 1000
        ? `${a.mean.toFixed(4)} (${a.sd.toFixed(4)})`
        : `${a.mean.toExponential(2)} (${a.sd.toExponential(1)})`;
    console.log(label.padEnd(34), r2Text.padStart(18), `${pct(b.mean)} (${(100 * b.sd).toFixed(1)})`.padStart(16));
  }
}

function printComparisons(results: SeedResult[]): void {
  const where =
    results.length === 1
      ? `seed ${results[0].seed}`
      : `mean over ${results.length} seeds, sd of the per-seed difference in brackets`;
  const pairs = [
    ['carprice blend', 'seed XGBoost 300/6/0.2', 'carprice blend vs seed XGBoost'],
    ['carprice gbdt', 'seed XGBoost 300/6/0.2', 'carprice gbdt vs seed XGBoost'],
    ['carprice ridge', 'seed Ridge alpha 1 (sklearn)', 'carprice ridge vs sklearn Ridge'],
  ] as const;
  console.log('');
  for (const [ours, theirs, text] of pairs) {
    const r2a = series(results, ours, (m) => m.r2);
    const r2b = series(results, theirs, (m) => m.r2);
    const ma = series(results, ours, (m) => m.mape);
    const mb = series(results, theirs, (m) => m.mape);
    if (!r2a || !r2b || !ma || !mb) continue;
    const dR2 = meanSd(r2a.map((x, i) => x - r2b[i]));
    const dMape = meanSd(ma.map((x, i) => 100 * (x - mb[i])));
    const sign = (x: number, digits: number) => (x >= 0 ? '+' : '-') + Math.abs(x).toFixed(digits);
    const sdR2 = results.length > 1 ? ` (${dR2.sd.toFixed(3)})` : '';
    const sdMape = results.length > 1 ? ` (${dMape.sd.toFixed(1)})` : '';
    console.log(`${text}: R2 ${sign(dR2.mean, 3)}${sdR2}, MAPE ${sign(dMape.mean, 1)}${sdMape} points (${where})`);
  }
}

function printTargets(results: SeedResult[], defaultAlgo: string): void {
  const on42 = results.find((r) => r.seed === 42);
  const t = TARGETS;
  console.log(
    `\ntargets: linear R2 >= ${t.linear.r2}, MAPE <= ${pct(t.linear.mape)}; default (${defaultAlgo}) R2 >= ${t.best.r2}, MAPE <= ${(100 * t.best.mape).toFixed(1)}%`,
  );
  if (!on42) {
    console.log('  seed 42 not run: add it to --seeds to check the targets');
    return;
  }
  const check = (name: string, label: string, target: { r2: number; mape: number }) => {
    const m = on42.rows.find((r) => r.label === label)?.metrics;
    if (!m) {
      console.log(`  ${name}: ${label.replace('carprice ', '')} not run (add it to --algos)`);
      return;
    }
    const ok = m.r2 >= target.r2 && m.mape <= target.mape;
    console.log(`  ${name} on seed 42: R2 ${m.r2.toFixed(4)}, MAPE ${pct(m.mape)} -> ${ok ? 'met' : 'NOT met'}`);
  };
  check('linear (carprice ridge)', 'carprice ridge', t.linear);
  check(`default (carprice ${defaultAlgo})`, `carprice ${defaultAlgo}`, t.best);
}

/** carprice's models on one split: each fitted on the train rows, scored on the test rows. */
function runCarprice(
  all: ValidatedListings,
  split: { train: Uint32Array; test: Uint32Array },
  params: Params,
  algos: string[],
): Row[] {
  const y = all.y as Float64Array;
  const trainFrame = takeFrameRows(all.frame, split.train);
  const yTrain = takeValues(y, split.train);
  const testFrame = takeFrameRows(all.frame, split.test);
  const yTest = takeValues(y, split.test);
  return algos.map((algo) => {
    // what train() does, minus re-reading the xlsx for every fit
    const dataHash = dataFingerprint(trainFrame, yTrain);
    const t0 = performance.now();
    const bundle = trainBundle(trainFrame, yTrain, all.schema, {
      ...trainingOptions(params, algo),
      metadata: {
        createdAt: new Date().toISOString(),
        training: { dataHash, rows: trainFrame.nRows, source: DATA },
        params: trainedParams(params, algo),
        carpriceVersion: CARPRICE_VERSION,
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    return score(`carprice ${algo}`, yTest, bundle.predictFrame(testFrame), seconds);
  });
}

/** The seed's models on the same split, through bench/py/seed-models.py. */
function runPython(
  dir: string,
  all: ValidatedListings,
  split: { train: Uint32Array; test: Uint32Array },
  trainOrder: Uint32Array,
  params: Params,
  seed: number,
  splitCheck: boolean,
): { rows: Row[]; out: SeedModelsOut } | { error: string } {
  const r = runSeedModels({ dir, xlsx: DATA, all, split, trainOrder, params, seed, splitCheck });
  if ('error' in r) return r;
  const yTest = takeValues(all.y as Float64Array, split.test);
  const rows = SEED_MODELS.map(({ key, label }) => score(label, yTest, r.preds[key].pred, r.preds[key].seconds));
  return { rows, out: r.out };
}

async function main(): Promise<void> {
  const seeds = seedsOf(args.values.seeds);
  const algos = args.values.algos.split(',').map((x) => x.trim());
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  const params = loadParams({ path: 'params.yaml' });
  const all = await loadListings(DATA, { params });
  const n = all.frame.nRows;
  const inFileOrder = all.rowNumbers.every((r, i) => r - all.rowNumbers[0] === i);
  const probe = probePython(
    SEED_MODULES,
    'install python3-numpy python3-sklearn python3-pandas python3-xgboost python3-openpyxl',
  );
  console.log(
    `dataset ${DATA}: ${n} listings (${all.report.rowsRead} read, ${all.report.duplicatesDropped} duplicates and ${all.report.invalidRowsDropped} invalid rows dropped)`,
  );
  if (!inFileOrder)
    console.log(
      'note: validation dropped rows, so carprice row i is not xlsx data row i; the scikit-learn split check will say no',
    );
  console.log(
    `splits: ${(100 * params.data_ingestion.test_size).toFixed(0)}% test, seeds ${seeds.join(',')}; carprice algos ${algos.join(',')}`,
  );
  if (probe.ok) {
    const v = probe.versions;
    console.log(
      `python side: ${SEED_SCRIPT} under /usr/bin/python3 (numpy ${v.numpy}, scikit-learn ${v.sklearn}, pandas ${v.pandas}, xgboost ${v.xgboost}, openpyxl ${v.openpyxl}), one thread`,
    );
  } else console.log(`python side skipped: ${probe.reason}`);
  console.log(
    'both sides train on the same rows and are scored by the same metric code on the same test rows; carprice on its params.yaml features, the seed models on its 12 columns, raw price target',
  );

  const dir = mkdtempSync(join(tmpdir(), 'carprice-qvp-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const results: SeedResult[] = [];
  let pythonOk = probe.ok;
  try {
    for (const [k, seed] of seeds.entries()) {
      const split = splitIndices(n, params.data_ingestion.test_size, seed);
      const nTest = split.test.length;
      // scikit-learn's train rows in its own (permuted) order, as the seed's train.csv had them
      const trainOrder = numpyPermutation(n, seed).slice(nTest);
      const sorted = Uint32Array.from(trainOrder).sort();
      if (sorted.length !== split.train.length || sorted.some((v, i) => v !== split.train[i]))
        throw new Error(
          `seed ${seed}: the permutation's train rows differ from splitIndices' (split.ts and numpy-random.ts disagree)`,
        );
      console.log(`\n== seed ${seed}: ${split.train.length} train / ${nTest} test rows, identical on both sides ==`);
      const rows = runCarprice(all, split, params, algos);
      if (pythonOk) {
        const py = runPython(dir, all, split, trainOrder, params, seed, k === 0);
        if ('error' in py) {
          console.log(`python side failed on seed ${seed}: ${py.error}`);
          pythonOk = false;
        } else {
          rows.push(...py.rows);
          const c = py.out.split_check;
          if (c)
            console.log(
              `split identical to scikit-learn: ${c.same_indices ? 'yes' : 'no'} (pandas read ${c.rows_read} rows, ${c.rows_after_dedup} after drop_duplicates(); train_test_split(range(n), test_size=${params.data_ingestion.test_size}, random_state=${seed}) gives ${c.n_test} test rows; same prices on them: ${c.same_prices ? 'yes' : 'no'})`,
            );
        }
      }
      printTable(rows);
      results.push({ seed, rows });
    }
  } finally {
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (results.length > 1) printSummary(results);
  printComparisons(results);
  printTargets(results, params.model_trainer.algo);
}

runBench('quality-vs-python', main);
