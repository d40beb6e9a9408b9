/**
 * bench/model-search: how the default model's settings were chosen. Every candidate is
 * judged by 5-fold cross-validation on the TRAINING part of the seeded 80/20 split (the
 * rows `exp compare` uses), never on the test rows; each candidate is params.yaml with
 * `--set`-style overrides, and all candidates share the folds, the feature pipelines and
 * every identical fit (SharedCrossValidation). Printed per candidate: CV MAPE and R², the
 * per-fold MAPE and the paired difference against the first candidate (mean and its
 * standard error over the folds). `--split` also trains each candidate on all training rows
 * and scores it on the seed-42 test rows, as a report after the fact (not a criterion).
 * Usage (from the project root):
 *   node dist/bench/model-search.js [--split] [--folds K] ['label|key=value|key=value' ...]
 * A candidate's keys are params.yaml paths (model_trainer.params.gbdt.bags=2), `algo=NAME`
 * picks the algorithm (default params.yaml's). Without candidates: the list below.
 */
import { existsSync } from 'node:fs';
import { loadParams } from '../src/config/params.js';
import { readEnv } from '../src/config/env.js';
import { SharedCrossValidation } from '../src/jobs/cross-validate.js';
import { trainingSplit } from '../src/jobs/experiments/experiment-runs.js';
import { parseCandidate } from './candidates.js';
import { train } from '../src/jobs/train.js';
import { takeFrameRows } from '../src/data/frame.js';
import { splitIndices } from '../src/data/split.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { regressionMetrics } from '../src/ml/metrics.js';
import { takeValues } from '../src/data/frame.js';
import { benchArgs, runBench, wholeNumber } from './bench-args.js';
import { DATA } from './dataset.js';

const args = benchArgs({
  name: 'model-search',
  summary: "how the default model's settings were chosen: candidates by 5-fold CV on the training split",
  options: {
    split: { type: 'boolean', help: 'also train each candidate on the training rows and score the seed-42 test rows' },
    folds: { type: 'string', value: 'K', default: '5', help: 'cross-validation folds', check: wholeNumber(2, 50) },
  },
  positionals: {
    value: "'LABEL|KEY=VALUE|...'",
    help: 'a candidate: params.yaml with --set-style overrides; algo=NAME picks the algorithm',
  },
});

const G = 'model_trainer.params.gbdt';

/** The candidates of the last search (first = params.yaml as committed before it). */
const DEFAULT_CANDIDATES = ['params.yaml', `gbdt 2 bags|${G}.bags=2`, `gbdt 3 bags|${G}.bags=3`];

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  const split = args.flag('split');
  const folds = args.number('folds')!;
  const texts = args.positionals;
  const base = loadParams({ path: 'params.yaml' });
  const cands = (texts.length ? texts : DEFAULT_CANDIDATES).map((t) => parseCandidate(t, base));
  const { train: trainRows, source } = await trainingSplit({
    params: base,
    cwd: process.cwd(),
    data: DATA,
    env: readEnv(),
  });
  console.log(
    `${folds}-fold CV on the ${trainRows.frame.nRows} training listings of the seed-${base.data_ingestion.random_state} split (${source})`,
  );
  const cv = new SharedCrossValidation({
    listings: trainRows,
    data: source,
    folds,
    seed: base.data_ingestion.random_state,
  });
  const t0 = performance.now();
  const results = await cv.run(cands.map((c) => ({ label: c.label, algo: c.algo, params: c.params })));
  const ref = results[0].folds.map((m) => m.mape);
  console.log(
    'candidate'.padEnd(34),
    'CV MAPE'.padStart(8),
    'CV R2'.padStart(7),
    'vs first (se)'.padStart(16),
    '  fold MAPEs',
  );
  for (const r of results) {
    const d = r.folds.map((m, i) => m.mape - ref[i]);
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const se = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, d.length - 1) / d.length);
    console.log(
      r.label.padEnd(34),
      `${(100 * r.mean.mape).toFixed(2)}%`.padStart(8),
      r.mean.r2.toFixed(4).padStart(7),
      `${(100 * mean >= 0 ? '+' : '') + (100 * mean).toFixed(3)} (${(100 * se).toFixed(3)})`.padStart(16),
      ' ',
      r.folds.map((m) => (100 * m.mape).toFixed(2)).join(' '),
    );
    if (r.notConverged)
      console.log(`  not converged: ${r.notConverged.map((x) => `fold ${x.fold} ${x.algo}`).join(', ')}`);
  }
  console.log(`CV wall ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (!split) return;
  // after the choice: the seed-42 test rows, reported only
  const all = await loadListings(DATA, { params: base });
  const s = splitIndices(all.frame.nRows, base.data_ingestion.test_size, base.data_ingestion.random_state);
  const testFrame = takeFrameRows(all.frame, s.test);
  const yTest = takeValues(all.y!, s.test);
  for (const c of cands) {
    const r = await train({ params: c.params, train: DATA, algo: c.algo });
    const m = regressionMetrics(yTest, r.bundle.predictFrame(testFrame));
    console.log(
      `split (report only) ${c.label}`.padEnd(54),
      `R2 ${m.r2.toFixed(4)}  MAPE ${(100 * m.mape).toFixed(2)}%  train ${r.seconds.toFixed(1)} s`,
    );
  }
}

runBench('model-search', main);
