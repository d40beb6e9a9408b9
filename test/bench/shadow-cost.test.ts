/**
 * shadow-cost's split-half description of run-to-run noise, on synthetic runs whose noise is
 * known: latencies drawn from one distribution in every run (all noise is sampling: the
 * halves do not correlate) and runs each scaled by a level of its own (the noise comes with
 * the run: the halves agree).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { splitHalfShare } from '../../bench/shadow-cost.js';

function runs(n: number, perRun: number, level: (rng: Rng) => number, seed: number) {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const k = level(rng);
    const l = new Float64Array(perRun);
    for (let i = 0; i < perRun; i++) l[i] = k * (0.2 - Math.log(1 - rng.next()) * 0.2);
    return { latencies: l };
  });
}

test('splitHalfShare: sampling noise alone, the halves do not correlate', () => {
  const r = splitHalfShare(runs(200, 5000, () => 1, 1));
  assert.equal(r.n, 200);
  assert.ok(Math.abs(r.correlation) < 0.2, String(r.correlation));
  assert.ok(r.runShare < 0.35, String(r.runShare));
});

test("splitHalfShare: a level per run much wider than sampling, the halves agree and the run's share is near 1", () => {
  const r = splitHalfShare(runs(200, 5000, (rng) => Math.exp(0.5 * rng.normal()), 2));
  assert.ok(r.correlation > 0.9, String(r.correlation));
  assert.ok(r.runShare > 0.9, String(r.runShare));
});

test('splitHalfShare: runs without latencies or too short are left out; fewer than 3 runs give no correlation', () => {
  const r = splitHalfShare([{}, { latencies: new Float64Array(10) }, ...runs(2, 1000, () => 1, 3)]);
  assert.equal(r.n, 2);
  assert.ok(Number.isNaN(r.correlation));
});
