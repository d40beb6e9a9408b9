/**
 * bench/quality-noise: where params.yaml's model loses its MAPE, and how much of the split
 * figure is the luck of one test set (issue 12's split target, MAPE <= 12.0%).
 *
 * 1. Out-of-fold predictions of the 5-fold CV that bench/quality reports (the same folds:
 *    numpy permutation, seed data_ingestion.random_state): MAPE and share of the total
 *    error by how many listings share the car's make and model, and by car age.
 * 2. Twin listings, an estimate of the noise no model can remove: pairs of the same make,
 *    model, variant, year, transmission, fuel and ownership with odometers within 10%.
 *    Pricing each by its twin's price gives a pair MAPE; if both prices carry independent
 *    noise of the same size, one listing's share is about pair MAPE / sqrt 2 (the twins
 *    still differ in colour, equipment and condition, so this is an upper bound of the
 *    noise in their cells). Printed beside the model's out-of-fold MAPE on those listings.
 * 3. The seed-42 split (bench/quality's): test MAPE and R², a 95% bootstrap interval over
 *    the test listings, and the same model's MAPE on the ten seeds 0-9 splits
 *    (bench/quality-vs-python's), mean and spread.
 * Usage: node dist/bench/quality-noise.js [--no-splits]
 */
import { existsSync } from 'node:fs';
import { loadParams } from '../src/config/params.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { splitIndices } from '../src/data/split.js';
import { takeValues } from '../src/data/frame.js';
import { numpyPermutation } from '../src/core/numpy-random.js';
import { Rng } from '../src/core/rng.js';
import { kFoldBounds } from '../src/jobs/cross-validate.js';
import { r2 } from '../src/ml/metrics.js';
import { loadAverage } from './process-timing.js';
import { benchArgs, runBench } from './bench-args.js';
import { DATA, fitPredict } from './dataset.js';

const pct = (x: number, d = 2) => `${(100 * x).toFixed(d)}%`;

function mape(y: ArrayLike<number>, p: ArrayLike<number>, rows?: readonly number[]): number {
  const idx = rows ?? Array.from({ length: y.length }, (_, i) => i);
  let s = 0;
  for (const i of idx) s += Math.abs(p[i] - y[i]) / y[i];
  return s / idx.length;
}

const args = benchArgs({
  name: 'quality-noise',
  summary: "where params.yaml's model loses its MAPE, and how much of the split figure is one test set's luck",
  options: { 'no-splits': { type: 'boolean', help: 'skip the ten seeded splits' } },
});

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  const noSplits = args.flag('no-splits');
  const params = loadParams({ path: 'params.yaml' });
  const all = await loadListings(DATA, { params });
  const n = all.frame.nRows;
  const y = all.y!;
  const data = { frame: all.frame, y, schema: all.schema };
  const cat = all.frame.categorical;
  const t0 = performance.now();
  console.log(
    `dataset ${DATA}: ${n} listings; params.yaml's model (${params.model_trainer.algo}); load average ${loadAverage()}`,
  );

  // 1. out-of-fold predictions on bench/quality's folds
  const perm = numpyPermutation(n, params.data_ingestion.random_state);
  const oof = new Float64Array(n);
  for (const [start, end] of kFoldBounds(n, 5)) {
    const test = Array.from(perm.subarray(start, end)).sort((a, b) => a - b);
    const inTest = new Set(test);
    const train = Array.from({ length: n }, (_, i) => i).filter((i) => !inTest.has(i));
    const p = await fitPredict(data, params, train, test);
    test.forEach((i, k) => (oof[i] = p[k]));
  }
  const total = mape(y, oof);
  let absSum = 0;
  for (let i = 0; i < n; i++) absSum += Math.abs(oof[i] - y[i]) / y[i];
  console.log(`\n1. out-of-fold (5-fold CV, seed ${params.data_ingestion.random_state}): MAPE ${pct(total)}`);
  const groupRows = (keyOf: (i: number) => string) => {
    const m = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const k = keyOf(i);
      let g = m.get(k);
      if (!g) m.set(k, (g = []));
      g.push(i);
    }
    return m;
  };
  const byModel = groupRows((i) => `${cat.make[i]}|${cat.model[i]}`);
  const row = (label: string, rows: number[]) => {
    let s = 0;
    for (const i of rows) s += Math.abs(oof[i] - y[i]) / y[i];
    console.log(
      `  ${label.padEnd(34)} ${String(rows.length).padStart(5)} listings (${pct(rows.length / n, 1).padStart(6)})  MAPE ${pct(s / rows.length).padStart(7)}  share of error ${pct(s / absSum, 1).padStart(6)}`,
    );
  };
  for (const [lo, hi] of [
    [1, 1],
    [2, 9],
    [10, 49],
    [50, Infinity],
  ]) {
    const rows = [...byModel.values()].filter((g) => g.length >= lo && g.length <= hi).flat();
    row(`model listed ${hi === Infinity ? `${lo}+ times` : lo === hi ? 'once' : `${lo}-${hi} times`}`, rows);
  }
  const refYear = params.features.reference_year;
  const ageOf = (i: number) => refYear - Number(cat.year[i]);
  for (const [lo, hi] of [
    [0, 3],
    [4, 7],
    [8, 11],
    [12, Infinity],
  ]) {
    const rows = Array.from({ length: n }, (_, i) => i).filter((i) => ageOf(i) >= lo && ageOf(i) <= hi);
    row(`car_age ${hi === Infinity ? `${lo}+` : `${lo}-${hi}`} years`, rows);
  }

  // 2. twin listings
  const km = all.frame.numeric.odometer;
  const cells = groupRows((i) =>
    ['make', 'model', 'variant', 'year', 'transmissionType', 'fuelType', 'ownership'].map((c) => cat[c][i]).join('|'),
  );
  let pairs = 0;
  let pairApe = 0;
  const twins = new Set<number>();
  for (const g of cells.values())
    for (let a = 0; a < g.length; a++)
      for (let b = a + 1; b < g.length; b++) {
        const i = g[a];
        const j = g[b];
        if (Math.abs(km[i] - km[j]) > 0.1 * Math.max(km[i], km[j])) continue;
        pairs++;
        pairApe += Math.abs(y[j] - y[i]) / y[i] + Math.abs(y[i] - y[j]) / y[j];
        twins.add(i).add(j);
      }
  const pairMape = pairApe / (2 * pairs);
  const twinRows = [...twins];
  console.log(
    `\n2. twin listings (same make, model, variant, year, transmission, fuel, ownership; odometer within 10%): ${pairs} pairs, ${twinRows.length} listings`,
  );
  console.log(
    `  one priced by its twin's price: MAPE ${pct(pairMape)}; noise per listing in these cells <= ~${pct(pairMape / Math.SQRT2)}`,
  );
  const others = Array.from({ length: n }, (_, i) => i).filter((i) => !twins.has(i));
  console.log(
    `  model out-of-fold on those listings: MAPE ${pct(mape(y, oof, twinRows))}; on the other ${others.length}: ${pct(mape(y, oof, others))}`,
  );

  if (!noSplits) {
    // 3. the seed-42 split and the ten splits
    const s = splitIndices(n, params.data_ingestion.test_size, params.data_ingestion.random_state);
    const yt = takeValues(y, s.test);
    const pt = await fitPredict(data, params, s.train, s.test);
    const m = mape(yt, pt);
    const rng = new Rng(1);
    const boots: number[] = [];
    for (let b = 0; b < 2000; b++) {
      let acc = 0;
      for (let k = 0; k < yt.length; k++) {
        const i = rng.int(yt.length);
        acc += Math.abs(pt[i] - yt[i]) / yt[i];
      }
      boots.push(acc / yt.length);
    }
    boots.sort((a, b) => a - b);
    const se = Math.sqrt(boots.reduce((a, v) => a + (v - m) ** 2, 0) / boots.length);
    console.log(
      `\n3. seed-${params.data_ingestion.random_state} split (${s.test.length} test listings): MAPE ${pct(m)} (95% bootstrap ${pct(boots[50])}-${pct(boots[1949])}, se ${pct(se)}), R² ${r2(yt, pt).toFixed(4)}`,
    );
    const ten: number[] = [];
    for (let seed = 0; seed < 10; seed++) {
      const t = splitIndices(n, params.data_ingestion.test_size, seed);
      ten.push(mape(takeValues(y, t.test), await fitPredict(data, params, t.train, t.test)));
    }
    const mean = ten.reduce((a, b) => a + b, 0) / ten.length;
    const sd = Math.sqrt(ten.reduce((a, v) => a + (v - mean) ** 2, 0) / (ten.length - 1));
    console.log(
      `  the same model on the seeds 0-9 splits: mean ${pct(mean)}, sd ${pct(sd)}, range ${pct(Math.min(...ten))}-${pct(Math.max(...ten))}`,
    );
  }
  console.log(`\nwall ${((performance.now() - t0) / 1000).toFixed(0)} s; load average ${loadAverage()}`);
}

runBench('quality-noise', main);
