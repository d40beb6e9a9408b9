/**
 * Fits on worker threads: the same models as inline fits, errors keep their codes, an
 * abort stops the workers with INTERRUPTED. Real worker threads running the built code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { makeMatrix } from './matrix.js';
import { fitEstimators, fitJob, fitUnits, type FitJob } from './parallel-fit.js';
import { CrossProductsCache } from './linalg/gram.js';

function data(n: number, p: number, seed: number) {
  const rng = new Rng(seed);
  const X = new Float64Array(n * p);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < p; j++) {
      const v = rng.next();
      X[i * p + j] = v;
      s += (j + 1) * v * (j % 2 ? v : 1);
    }
    y[i] = s + 0.05 * rng.normal();
  }
  return {
    X: makeMatrix(
      n,
      p,
      X,
      Array.from({ length: p }, (_, j) => `x${j}`),
    ),
    y,
  };
}

const { X, y } = data(400, 6, 3);
const JOBS: FitJob[] = [
  { algo: 'gbdt', params: { n_estimators: 30, max_depth: 3, subsample: 0.7 }, X, y },
  { algo: 'forest', params: { n_estimators: 10, max_depth: 5 }, X, y },
  { algo: 'ridge', params: { alpha: 0.1 }, X, y, sampleWeight: new Float64Array(400).fill(2) },
];

test('worker fits equal inline fits, returned in job order', async () => {
  const inline = JOBS.map((j) => fitJob(j));
  const workers = await fitEstimators(JOBS, { threads: 2 });
  assert.deepEqual(
    workers.map((m) => m.kind),
    inline.map((m) => m.kind),
  );
  for (let k = 0; k < JOBS.length; k++) {
    assert.deepEqual(workers[k].toJSON(), inline[k].toJSON());
    assert.deepEqual(Array.from(workers[k].predict(X)), Array.from(inline[k].predict(X)));
  }
});

test('a failing job fails the call with its own code; an abort gives INTERRUPTED', async () => {
  await assert.rejects(
    fitEstimators([JOBS[2], { algo: 'gbdt', params: { max_depth: -3 }, X, y }], { threads: 2 }),
    (e: unknown) => e instanceof AppError && e.code === 'USAGE' && /max_depth/.test(e.message),
  );
  const c = new AbortController();
  const slow: FitJob = { algo: 'gbdt', params: { n_estimators: 100000 }, X, y };
  setTimeout(() => c.abort(), 200);
  await assert.rejects(
    fitEstimators([slow, slow], { threads: 2, signal: c.signal }),
    (e: unknown) => e instanceof AppError && e.code === 'INTERRUPTED',
  );
  const done = new AbortController();
  done.abort();
  await assert.rejects(fitEstimators(JOBS, { threads: 2, signal: done.signal }), { code: 'INTERRUPTED' });
});

test('linear fits of one matrix go to one worker as a unit and share its Gram matrix; the models do not change', async () => {
  const w = new Float64Array(400).fill(1.5);
  const linear: FitJob[] = ['linear', 'ridge', 'lasso', 'elasticnet'].map((algo) => ({
    algo,
    params: algo === 'linear' ? {} : { alpha: 0.01 },
    X,
    y,
    shareCrossProducts: true,
  }));
  const jobs: FitJob[] = [
    JOBS[0],
    ...linear,
    { ...linear[1], sampleWeight: w }, // other weights: a unit of its own
    { ...linear[1], shareCrossProducts: false },
  ];
  assert.deepEqual(fitUnits(jobs), [[0], [1, 2, 3, 4], [5], [6]]);
  // one Gram matrix for the four fits of the unit
  const cache = new CrossProductsCache();
  const shared = linear.map((j) => fitJob(j, undefined, cache));
  assert.equal(cache.computed, 1);
  const alone = linear.map((j) => fitJob(j));
  const pooled = await fitEstimators(jobs, { threads: 2 });
  for (let k = 0; k < linear.length; k++) {
    assert.deepEqual(shared[k].toJSON(), alone[k].toJSON());
    assert.deepEqual(pooled[k + 1].toJSON(), alone[k].toJSON());
  }
  assert.deepEqual(pooled[6].toJSON(), alone[1].toJSON());
  assert.deepEqual(pooled[0].toJSON(), fitJob(JOBS[0]).toJSON());
});
