/**
 * bench/quality: model quality on our seeded 80/20 split of ../shared/data/cars24_v3.xlsx
 * and by 5-fold cross-validation, printed next to the Python original's models (the seed's
 * Ridge and XGBoost, bench/py/seed-models.py) fitted and scored in the same run on the same
 * rows; without Debian's python3-sklearn/xgboost that side is skipped with the reason.
 * Usage: node dist/bench/quality.js [algo...]   (default: mean linear ridge lasso gbdt blend)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadParams } from '../src/config/params.js';
import { train } from '../src/jobs/train.js';
import { crossValidate } from '../src/jobs/cross-validate.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { splitIndices } from '../src/data/split.js';
import { takeFrameRows, takeValues } from '../src/data/frame.js';
import { r2, regressionMetrics } from '../src/ml/metrics.js';
import { numpyPermutation } from '../src/core/numpy-random.js';
import { probePython } from './python-peer.js';
import { runSeedModels, SEED_MODELS, SEED_MODULES } from './seed-peer.js';
import { algorithmName, benchArgs, runBench } from './bench-args.js';
import { DATA } from './dataset.js';

const TARGETS = { linear: { r2: 0.9, mape: 0.14 }, best: { r2: 0.92, mape: 0.135 } };
const args = benchArgs({
  name: 'quality',
  summary: "model quality on the seeded 80/20 split and by 5-fold CV, beside the Python original's models",
  options: {},
  positionals: {
    value: 'ALGO',
    help: 'algorithms to measure (default mean linear ridge lasso gbdt blend)',
    check: algorithmName,
  },
});
const pct = (x: number) => (100 * x).toFixed(1).padStart(6) + '%';

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  const algos = args.positionals.length ? args.positionals : ['mean', 'linear', 'ridge', 'lasso', 'gbdt', 'blend'];
  const params = loadParams({ path: 'params.yaml' });
  // the same seeded split train() makes, to score the test listings whose car model also
  // appears in training (a model never seen cannot be priced from its own history)
  const all = await loadListings(DATA, { params });
  const split = splitIndices(all.frame.nRows, params.data_ingestion.test_size, params.data_ingestion.random_state);
  const testFrame = takeFrameRows(all.frame, split.test);
  const yTest = takeValues(all.y!, split.test);
  const seenModels = new Set(takeFrameRows(all.frame, split.train).categorical.model);
  const seen = Array.from(split.test.keys()).filter((i) => seenModels.has(testFrame.categorical.model[i]));
  console.log(
    `dataset ${DATA}; seeded ${params.data_ingestion.test_size * 100}% test split (seed ${params.data_ingestion.random_state}) and 5-fold CV`,
  );
  console.log(
    'model'.padEnd(38),
    'R2'.padStart(7),
    'RMSE'.padStart(9),
    'MAPE'.padStart(7),
    'MedAPE'.padStart(7),
    'within10'.padStart(9),
    'train s'.padStart(8),
    'R2 seen'.padStart(8),
    '| CV R2 (sd)'.padStart(16),
    'CV MAPE'.padStart(8),
  );
  for (const algo of algos) {
    const r = await train({ params, train: DATA, algo });
    const cv = await crossValidate({ params, data: DATA, algo, folds: 5 });
    const m = r.metrics;
    const pred = r.bundle.predictFrame(testFrame);
    const r2Seen = r2(takeValues(yTest, seen), takeValues(pred, seen));
    console.log(
      `carprice ${algo}`.padEnd(38),
      m.r2.toFixed(4).padStart(7),
      m.rmse.toFixed(0).padStart(9),
      pct(m.mape),
      pct(m.medape),
      pct(m.within10).padStart(9),
      r.seconds.toFixed(2).padStart(8),
      r2Seen.toFixed(4).padStart(8),
      `| ${cv.mean.r2.toFixed(4)} (${cv.std.r2.toFixed(3)})`.padStart(16),
      pct(cv.mean.mape),
    );
  }
  // the anchors: the Python original's models fitted and scored now, on the same rows
  const probe = probePython(
    SEED_MODULES,
    'install python3-numpy python3-sklearn python3-pandas python3-xgboost python3-openpyxl',
  );
  if (!probe.ok) console.log(`Python original: skipped (${probe.reason})`);
  else {
    const dir = mkdtempSync(join(tmpdir(), 'carprice-quality-'));
    try {
      const seed = params.data_ingestion.random_state;
      const trainOrder = numpyPermutation(all.frame.nRows, seed).slice(split.test.length);
      const py = runSeedModels({ dir, xlsx: DATA, all, split, trainOrder, params, seed, splitCheck: false });
      if ('error' in py) console.log(`Python original: failed (${py.error})`);
      else
        for (const { key, label } of SEED_MODELS) {
          const m = regressionMetrics(yTest, py.preds[key].pred);
          const r2Text = Math.abs(m.r2) < 1000 ? m.r2.toFixed(4) : m.r2.toExponential(2);
          console.log(
            `Python original: ${label}`.padEnd(38),
            r2Text.padStart(7),
            m.rmse.toFixed(0).padStart(9),
            pct(m.mape),
            pct(m.medape),
            pct(m.within10).padStart(9),
            py.preds[key].seconds.toFixed(2).padStart(8),
            '(fit only; measured now, same rows)',
          );
        }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(
    `R2 seen: on the ${seen.length} of ${split.test.length} test listings whose car model appears in training`,
  );
  console.log(
    `targets: linear R2 >= ${TARGETS.linear.r2}, MAPE <= ${(100 * TARGETS.linear.mape).toFixed(1)}%; default GBDT/blend R2 >= ${TARGETS.best.r2}, MAPE <= ${(100 * TARGETS.best.mape).toFixed(1)}%`,
  );
}

runBench('quality', main);
