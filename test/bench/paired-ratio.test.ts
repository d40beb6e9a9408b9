import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medianOf, pairedRatio, verdict } from '../../bench/paired-ratio.js';
import { Rng } from '../../src/core/rng.js';

test('medianOf: odd, even, empty', () => {
  assert.equal(medianOf([3, 1, 2]), 2);
  assert.equal(medianOf([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(medianOf([])));
});

test('pairedRatio: identical ratios give a zero-width interval at that value', () => {
  const r = pairedRatio(Array(20).fill(1.05));
  assert.equal(r.n, 20);
  assert.equal(r.median, 1.05);
  assert.equal(r.lower, 1.05);
  assert.equal(r.upper, 1.05);
  assert.equal(r.aboveOne, 1);
  assert.equal(verdict(r, 0.1), 'met');
});

test('pairedRatio: the same pairs give the same interval (seeded); non-finite ratios are left out', () => {
  const xs = [0.9, 1.2, 1.05, 1.3, 0.95, 1.1, 1.0, NaN, Infinity];
  const a = pairedRatio(xs);
  const b = pairedRatio(xs);
  assert.deepEqual(a, b);
  assert.equal(a.n, 7);
  assert.ok(a.lower <= a.median && a.median <= a.upper);
});

test('verdict follows the interval alone: met below 1.10, NOT met from 1.10 up, unresolved across it', () => {
  const around = (centre: number) => Array.from({ length: 30 }, (_, i) => centre + ((i % 7) - 3) * 0.002);
  assert.equal(verdict(pairedRatio(around(1.0)), 0.1), 'met');
  assert.equal(verdict(pairedRatio(around(1.3)), 0.1), 'NOT met');
  const wide = Array.from({ length: 30 }, (_, i) => 0.8 + (i / 29) * 0.6); // 0.8..1.4, median 1.1
  const r = pairedRatio(wide);
  assert.ok(r.lower < 1.1 && r.upper > 1.1);
  assert.equal(verdict(r, 0.1), 'unresolved');
  assert.equal(verdict(pairedRatio([]), 0.1), 'unresolved');
});

test('the 95% interval covers the true median in about 95% of simulated experiments', () => {
  // log-normal ratios with median 1.05 (the true value), 30 pairs per experiment
  const rng = new Rng(7);
  let covered = 0;
  const trials = 300;
  for (let t = 0; t < trials; t++) {
    const xs = Array.from({ length: 30 }, () => 1.05 * Math.exp(0.2 * rng.normal()));
    const r = pairedRatio(xs, 2000, t + 1);
    if (r.lower <= 1.05 && 1.05 <= r.upper) covered++;
  }
  const share = covered / trials;
  assert.ok(share > 0.88 && share <= 1, `coverage ${share}`);
});
