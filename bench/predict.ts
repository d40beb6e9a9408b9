/**
 * bench/predict: how long a trained model bundle takes to price listings the way the
 * prediction API and `carprice predict --input` do: raw listing objects in (as parsed from
 * JSON), validation, features, every blend member, price out. Two paths per model:
 * - fast: `bundle.compilePredictor().predictOne(record)` (the compiled single-row path);
 * - batch: `bundle.predictRecords([record])` (record -> frame -> feature frames -> matrix).
 * One listing per call (500 different test listings, after a warm-up), the whole test split
 * in one call for the batch path, the empirical coverage of the prediction intervals on
 * the test split, and the time of an explanation (explainOne: price + per-feature SHAP).
 * Usage (from the project root): node dist/bench/predict.js [algo...]   (default: ridge gbdt blend)
 */
import { existsSync } from 'node:fs';
import { loadParams } from '../src/config/params.js';
import { train } from '../src/jobs/train.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { splitIndices } from '../src/data/split.js';
import { takeFrameRows, takeValues, type Frame } from '../src/data/frame.js';
import { ModelBundle } from '../src/bundle/model-bundle.js';
import { algorithmName, benchArgs, runBench } from './bench-args.js';
import { DATA } from './dataset.js';

/** A validated frame row as the raw object a client sends (missing values left out). */
function recordOf(f: Frame, i: number): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, col] of Object.entries(f.numeric)) if (!Number.isNaN(col[i])) r[k] = col[i];
  for (const [k, col] of Object.entries(f.categorical)) if (col[i] !== null) r[k] = col[i];
  return r;
}

/**
 * µs per call of fn over `records` after a warm-up (JIT), best of 3 rounds: wall time and
 * this process's CPU time (on a shared machine the wall time also counts the time the
 * process waited for a core).
 */
function timePerCall(
  records: readonly Record<string, unknown>[],
  fn: (r: Record<string, unknown>) => unknown,
  rounds = 4,
): { wall: number; cpu: number } {
  for (let k = 0; k < 3; k++) for (const r of records) fn(r);
  let wall = Infinity;
  let cpu = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let k = 0; k < rounds; k++) for (const r of records) fn(r);
    const c = process.cpuUsage(c0);
    wall = Math.min(wall, ((performance.now() - t0) * 1000) / (rounds * records.length));
    cpu = Math.min(cpu, (c.user + c.system) / (rounds * records.length));
  }
  return { wall, cpu };
}

const args = benchArgs({
  name: 'predict',
  summary: 'how long a trained bundle takes to price listings, one at a time and in a batch',
  options: {},
  positionals: { value: 'ALGO', help: 'algorithms to measure (default ridge gbdt blend)', check: algorithmName },
});

const us = (t: { wall: number; cpu: number }) => `${t.cpu.toFixed(1)} / ${t.wall.toFixed(1)}`;

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  const algos = args.positionals.length ? args.positionals : ['ridge', 'gbdt', 'blend'];
  const params = loadParams({ path: 'params.yaml' });
  const all = await loadListings(DATA, { params });
  const s = splitIndices(all.frame.nRows, params.data_ingestion.test_size, params.data_ingestion.random_state);
  const testFrame = takeFrameRows(all.frame, s.test);
  const yTest = takeValues(all.y!, s.test);
  const testRecords = Array.from({ length: testFrame.nRows }, (_, i) => recordOf(testFrame, i));
  const sample = Array.from({ length: 500 }, (_, i) => testRecords[(i * 7) % testRecords.length]);
  console.log(
    `one listing through a bundle on ${DATA}: raw record -> validation -> features -> model (bundle saved and loaded back first)`,
  );
  console.log(
    'model'.padEnd(8),
    'features'.padStart(9),
    'fast path µs cpu / wall'.padStart(24),
    'batch path µs cpu / wall'.padStart(25),
    'speed-up'.padStart(9),
    `batch, ${testFrame.nRows} in one call`.padStart(26),
    'interval coverage'.padStart(19),
    'explain µs cpu'.padStart(15),
  );
  for (const algo of algos) {
    const r = await train({ params, train: DATA, algo });
    const bundle = ModelBundle.fromJSON(JSON.parse(JSON.stringify(r.bundle.toJSON())));
    const predictor = bundle.compilePredictor();
    const fastUs = timePerCall(sample, (rec) => predictor.predictOne(rec));
    const batchUs = timePerCall(sample, (rec) => bundle.predictRecords([rec]), 1);
    const explainUs = predictor.canExplain
      ? timePerCall(sample.slice(0, 100), (rec) => predictor.explainOne(rec), 1).cpu.toFixed(0)
      : 'n/a';
    const t1 = performance.now();
    bundle.predictRecords(testRecords);
    const allMs = performance.now() - t1;
    let covered = 0;
    let level = NaN;
    for (let i = 0; i < testRecords.length; i++) {
      const p = predictor.predictOne(testRecords[i]);
      if (p.ok && p.interval) {
        level = p.interval.level;
        if (yTest[i] >= p.interval.lower && yTest[i] <= p.interval.upper) covered++;
      }
    }
    const coverage = Number.isNaN(level)
      ? 'none'
      : `${((100 * covered) / testRecords.length).toFixed(1)}% (${level * 100}%)`;
    const width = bundle.members.map((m) => m.features.columns().length).join('+');
    console.log(
      algo.padEnd(8),
      width.padStart(9),
      us(fastUs).padStart(24),
      us(batchUs).padStart(25),
      `${(batchUs.cpu / fastUs.cpu).toFixed(0)}x`.padStart(9),
      `${allMs.toFixed(0)} ms (${((allMs * 1000) / testFrame.nRows).toFixed(1)} µs/listing)`.padStart(26),
      coverage.padStart(19),
      explainUs.padStart(15),
    );
  }
}

runBench('predict', main);
