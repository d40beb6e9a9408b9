/**
 * bench/rarity-bound: how much a MAPE offset that depends on how rare the car's make and
 * model is could gain, at most, before building one (issue 12). Out-of-fold predictions of
 * params.yaml's model by 5-fold CV on the 5,912 training rows of the seed-42 split (the
 * folds bench/quality-grid's inner criterion uses; the test rows are not read), each row
 * put in a band by how many rows of its fold's training part share its make and model
 * (what a bundle trained on that part would store). Then, per band, the extra offset that
 * minimises that band's MAPE on those very rows (bias-correction.ts's exact minimiser),
 * chosen in sample: an upper bound of what any rarity-dependent offset chosen on held-out
 * rows could gain. Printed: per band its rows, MAPE and best factor, and the OOF MAPE
 * (mean of the fold MAPEs, as the criterion) before and after.
 * Usage: node dist/bench/rarity-bound.js [--bands 1-2,3-9,10-49,50+]
 */
import { existsSync } from 'node:fs';
import { loadParams } from '../src/config/params.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { splitIndices } from '../src/data/split.js';
import { takeFrameRows, takeValues } from '../src/data/frame.js';
import { numpyPermutation } from '../src/core/numpy-random.js';
import { kFoldBounds } from '../src/jobs/cross-validate.js';
import { mapeAt, mapeOffset } from '../src/bundle/bias-correction.js';
import { loadAverage } from './process-timing.js';
import { benchArgs, runBench } from './bench-args.js';
import { DATA, fitPredict } from './dataset.js';

const args = benchArgs({
  name: 'rarity-bound',
  summary: 'the most a MAPE offset by make-and-model rarity could gain (in-sample, out-of-fold predictions)',
  options: {
    bands: {
      type: 'string',
      value: 'LIST',
      default: '1-2,3-9,10-49,50+',
      help: 'bands of the make_model count in the fold training rows: lo-hi or lo+, comma-separated',
      check: (s) =>
        s.split(',').every((b) => /^\d+(-\d+|\+)$/.test(b.trim())) ? undefined : 'expected e.g. 1-2,3-9,10-49,50+',
    },
  },
});

const pct = (x: number, d = 2) => `${(100 * x).toFixed(d)}%`;

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  const bands = args
    .string('bands')!
    .split(',')
    .map((b) => {
      const [lo, hi] = b.trim().endsWith('+') ? [Number(b.trim().slice(0, -1)), Infinity] : b.split('-').map(Number);
      return { lo, hi, label: hi === Infinity ? `${lo}+` : `${lo}-${hi}` };
    });
  const params = loadParams({ path: 'params.yaml' });
  const all = await loadListings(DATA, { params });
  const s42 = splitIndices(all.frame.nRows, params.data_ingestion.test_size, params.data_ingestion.random_state);
  const frame = takeFrameRows(all.frame, s42.train);
  const y = takeValues(all.y!, s42.train);
  const n = frame.nRows;
  const cat = frame.categorical;
  const keyOf = (i: number) => `${cat.make[i]}|${cat.model[i]}`;
  const t0 = performance.now();
  console.log(
    `${n} training rows of the seed-42 split; params.yaml's model (${params.model_trainer.algo}); load average ${loadAverage()}`,
  );
  const perm = numpyPermutation(n, params.data_ingestion.random_state);
  const oof = new Float64Array(n);
  const count = new Float64Array(n);
  const foldOf = new Int32Array(n);
  for (const [f, [start, end]] of kFoldBounds(n, 5).entries()) {
    const test = Array.from(perm.subarray(start, end)).sort((a, b) => a - b);
    const inTest = new Set(test);
    const train = Array.from({ length: n }, (_, i) => i).filter((i) => !inTest.has(i));
    const counts = new Map<string, number>();
    for (const i of train) counts.set(keyOf(i), (counts.get(keyOf(i)) ?? 0) + 1);
    const p = await fitPredict({ frame, y, schema: all.schema }, params, train, test);
    test.forEach((i, k) => {
      oof[i] = p[k];
      count[i] = counts.get(keyOf(i)) ?? 0;
      foldOf[i] = f;
    });
  }
  // in target space (log1p), with the extra per-band offset b
  const zHat = oof.map((p) => Math.log1p(p));
  const extra = new Float64Array(n);
  const bandOf = (c: number) => bands.findIndex((b) => c >= b.lo && c <= b.hi);
  const unbanded = Array.from(count).filter((c) => bandOf(c) < 0).length;
  if (unbanded)
    console.log(
      `${unbanded} rows fall in no band (count 0: make and model unseen in their fold's training rows); no extra offset`,
    );
  console.log(
    'band (rows sharing make+model)'.padEnd(32),
    'rows'.padStart(6),
    'MAPE'.padStart(8),
    'best factor'.padStart(12),
    'MAPE at it'.padStart(11),
  );
  for (const [k, b] of bands.entries()) {
    const rows = Array.from({ length: n }, (_, i) => i).filter((i) => bandOf(count[i]) === k);
    if (!rows.length) continue;
    const yb = rows.map((i) => y[i]);
    const zb = rows.map((i) => zHat[i]);
    const off = mapeOffset('log1p', yb, zb);
    for (const i of rows) extra[i] = off;
    console.log(
      b.label.padEnd(32),
      String(rows.length).padStart(6),
      pct(mapeAt('log1p', yb, zb, 0)).padStart(8),
      Math.exp(off).toFixed(4).padStart(12),
      pct(mapeAt('log1p', yb, zb, off)).padStart(11),
    );
  }
  const foldMape = (withExtra: boolean) => {
    const m: number[] = [];
    for (let f = 0; f < 5; f++) {
      let s = 0;
      let c = 0;
      for (let i = 0; i < n; i++) {
        if (foldOf[i] !== f) continue;
        const p = Math.expm1(zHat[i] + (withExtra ? extra[i] : 0));
        s += Math.abs(p - y[i]) / y[i];
        c++;
      }
      m.push(s / c);
    }
    return m;
  };
  const before = foldMape(false);
  const after = foldMape(true);
  const mean = (a: number[]) => a.reduce((x, v) => x + v, 0) / a.length;
  console.log(
    `OOF MAPE (mean of the 5 folds): ${pct(mean(before), 3)} -> ${pct(mean(after), 3)} with the in-sample best offset per band: ${(100 * (mean(before) - mean(after))).toFixed(3)} point at most`,
  );
  console.log(`per fold: ${before.map((b, f) => `${pct(b)} -> ${pct(after[f])}`).join(', ')}`);
  console.log(`wall ${((performance.now() - t0) / 1000).toFixed(0)} s; load average ${loadAverage()}`);
}

runBench('rarity-bound', main);
