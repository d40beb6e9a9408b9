/**
 * bench/quality-grid: every quality figure of issue 12 for several candidate settings, all
 * fits shared in one pool (SharedCrossValidation: a fit two candidates need runs once).
 * Columns: inner = 5-fold CV MAPE on the 5,912 training rows of the seed-42 split, the
 * criterion for choosing (with the paired difference against the first candidate and its
 * standard error over the folds); then, reported after the choice: the seed-42 split's
 * test MAPE and R² (bench/quality's split), 5-fold CV MAPE on all rows (bench/quality's
 * CV) and the mean MAPE over the seeds 0-9 80/20 splits (bench/quality-vs-python's ten
 * splits, carprice side). `--no-eval` prints the criterion only, `--no-inner` the rest.
 * A candidate is params.yaml with `--set`-style overrides, as in bench/model-search.
 * Usage: node dist/bench/quality-grid.js [--no-eval|--no-inner] ['label|key=value|...' ...]
 */
import { existsSync } from 'node:fs';
import { loadParams } from '../src/config/params.js';
import { SharedCrossValidation } from '../src/jobs/cross-validate.js';
import { parseCandidate } from './candidates.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { splitIndices } from '../src/data/split.js';
import { takeFrameRows, takeValues } from '../src/data/frame.js';
import { benchArgs, runBench, usageError } from './bench-args.js';
import { DATA } from './dataset.js';

const args = benchArgs({
  name: 'quality-grid',
  summary: 'every quality figure of issue 12 for several candidate settings, all fits shared in one pool',
  options: {
    'no-eval': { type: 'boolean', help: 'print the criterion (inner CV on the training split) only' },
    'no-inner': { type: 'boolean', help: 'print the figures reported after the choice only' },
  },
  positionals: {
    value: "'LABEL|KEY=VALUE|...'",
    help: 'a candidate: params.yaml with --set-style overrides; algo=NAME picks the algorithm',
  },
});
if (args.flag('no-eval') && args.flag('no-inner'))
  usageError('quality-grid', '--no-eval and --no-inner leave nothing to do: give one at most');

const f2 = (x: number) => (100 * x).toFixed(2).padStart(6);

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  const noEval = args.flag('no-eval');
  const noInner = args.flag('no-inner');
  const texts = args.positionals;
  const base = loadParams({ path: 'params.yaml' });
  const cands = (texts.length ? texts : ['params.yaml']).map((t) => parseCandidate(t, base));
  const all = await loadListings(DATA, { params: base });
  const n = all.frame.nRows;
  const s42 = splitIndices(n, 0.2, 42);
  const t0 = performance.now();
  const specs = cands.map((c) => ({ label: c.label, algo: c.algo, params: c.params }));
  let inner: Awaited<ReturnType<SharedCrossValidation['run']>> | null = null;
  if (!noInner) {
    const trainRows = {
      ...all,
      frame: takeFrameRows(all.frame, s42.train),
      y: takeValues(all.y!, s42.train),
      rowNumbers: Array.from(s42.train, (i) => all.rowNumbers[i]),
    };
    const cvIn = new SharedCrossValidation({ listings: trainRows, data: DATA, folds: 5, seed: 42 });
    inner = await cvIn.run(specs);
    console.error(`inner done ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  let outer: Awaited<ReturnType<SharedCrossValidation['run']>> | null = null;
  if (!noEval) {
    // parts 0-4: the 5 CV folds; 5: the seed-42 split; 6-15: seeds 0-9
    const extraParts = [42, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((seed) => {
      const s = splitIndices(n, 0.2, seed);
      return { train: Array.from(s.train), test: Array.from(s.test) };
    });
    const cv = new SharedCrossValidation({ listings: all, data: DATA, folds: 5, seed: 42, extraParts });
    outer = await cv.run(specs);
  }
  console.log('candidate'.padEnd(40), 'inner', ' (d se)      ', 'split  R2     ', 'cv    ', 'ten   ');
  const ref = inner?.[0].folds.map((m) => m.mape);
  cands.forEach((c, i) => {
    let innerText = ''.padEnd(20);
    if (inner) {
      const fm = inner[i].folds.map((m) => m.mape);
      const d = fm.map((m, k) => m - ref![k]);
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      const se = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / 4 / 5);
      const im = fm.reduce((a, b) => a + b, 0) / 5;
      innerText = `${f2(im)} (${(100 * mean).toFixed(3)} ${(100 * se).toFixed(3)})`;
    }
    let outerText = '';
    if (outer) {
      const fo = outer[i].folds;
      const cvm = fo.slice(0, 5).reduce((a, m) => a + m.mape, 0) / 5;
      const split = fo[5];
      const ten = fo.slice(6).reduce((a, m) => a + m.mape, 0) / 10;
      const tenR2 = fo.slice(6).reduce((a, m) => a + m.r2, 0) / 10;
      outerText = `${f2(split.mape)} ${split.r2.toFixed(4)}  ${f2(cvm)} ${f2(ten)} tenR2 ${tenR2.toFixed(4)}`;
    }
    console.log(c.label.padEnd(40), innerText.padEnd(26), outerText);
  });
  console.error(`wall ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

runBench('quality-grid', main);
