/**
 * The pieces of `carprice model test` on hand-built inputs: the paired bootstrap (its
 * worked example and a constant difference), slices and their flags, and each
 * behavioural check against predictors whose behaviour is known by construction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame } from '../data/frame.js';
import { pairedBootstrap } from './paired-bootstrap.js';
import { errorSlices, priceBand } from './error-slices.js';
import {
  behaviourChecks,
  colorInvariance,
  odometerMonotonicity,
  positiveFinite,
  unseenCategories,
  yearMonotonicity,
  type BehaviourSettings,
} from './model-checks.js';

const S: BehaviourSettings = {
  sample: 50,
  odometerGrid: [10000, 50000, 100000],
  monotonicTolerance: 0.01,
  colorMaxChange: 0.05,
  maxViolationRate: 0.1,
  seed: 1,
};

function frame(n: number): Frame {
  const makes = ['Maruti', 'Hyundai', 'Honda'];
  const colors = ['White', 'Red', 'Blue'];
  return {
    nRows: n,
    numeric: { odometer: Float64Array.from({ length: n }, (_, i) => 10000 + 1000 * i) },
    categorical: {
      make: Array.from({ length: n }, (_, i) => makes[i % 3]),
      model: Array.from({ length: n }, (_, i) => `M${i % 5}`),
      variant: Array.from({ length: n }, (_, i) => `V${i % 7}`),
      year: Array.from({ length: n }, (_, i) => String(2010 + (i % 10))),
      color: Array.from({ length: n }, (_, i) => colors[i % 3]),
      fuelType: Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 'Diesel' : 'Petrol')),
    },
  };
}

/** price = 500000 * 0.9^(2025 - year) * exp(-km / 200000) (* 1.2 when red, when `paint`) */
function honest(paint = false, kmSign = -1) {
  return {
    predictFrame(f: Frame): Float64Array {
      return Float64Array.from({ length: f.nRows }, (_, i) => {
        const year = Number(f.categorical.year[i]);
        const red = paint && f.categorical.color[i] === 'Red' ? 1.2 : 1;
        return 500000 * 0.9 ** (2025 - year) * Math.exp((kmSign * f.numeric.odometer[i]) / 200000) * red;
      });
    },
  };
}

test('paired bootstrap: the worked example and a constant difference', () => {
  const r = pairedBootstrap([3, 5, 4], [2, 5, 2], { resamples: 2000, confidence: 0.95, seed: 1 });
  assert.equal(r.mean, 1);
  // resampled means of [1, 0, 2] lie in [0, 2]; the 95% interval sits inside and around 1
  assert.ok(r.lower >= 0 && r.lower < 1 && r.upper > 1 && r.upper <= 2, JSON.stringify(r));
  const c = pairedBootstrap([5, 6, 7, 8], [4, 5, 6, 7], { resamples: 500, confidence: 0.9, seed: 2 });
  assert.deepEqual([c.mean, c.lower, c.upper], [1, 1, 1]);
  // same seed, same interval
  assert.deepEqual(pairedBootstrap([3, 5, 4], [2, 5, 2], { resamples: 2000, confidence: 0.95, seed: 1 }), r);
  assert.throws(() => pairedBootstrap([1], [1, 2], { resamples: 10, confidence: 0.9, seed: 1 }), /equally long/);
});

test('slices: MAPE per make, fuel and price band; a slice 1.5x worse than overall is flagged', () => {
  const f = frame(90);
  const y = Float64Array.from({ length: 90 }, (_, i) => (i < 45 ? 250_000 : 900_000));
  // Honda (every third row) is off by 40%, the rest by 10%
  const pred = y.map((v, i) => v * (f.categorical.make[i] === 'Honda' ? 1.4 : 1.1));
  const r = errorSlices(f, y, pred, { minCount: 20, flagRatio: 1.5 });
  assert.ok(Math.abs(r.overall.mape - 0.2) < 1e-12);
  const honda = r.slices.find((s) => s.column === 'make' && s.value === 'Honda')!;
  assert.ok(Math.abs(honda.mape - 0.4) < 1e-12);
  assert.deepEqual(
    r.flagged.map((s) => `${s.column}=${s.value}`),
    ['make=Honda'],
  );
  assert.deepEqual(
    r.slices
      .filter((s) => s.column === 'price band')
      .map((s) => `${s.value}:${s.n}`)
      .sort(),
    ['8-12 lakh:45', '< 3 lakh:45'],
  );
  assert.equal(priceBand(299_999), '< 3 lakh');
  assert.equal(priceBand(2_000_000), '>= 20 lakh');
});

test('behaviour: an honest predictor passes every check', () => {
  const f = frame(60);
  const m = honest();
  const r = behaviourChecks(m, f, m.predictFrame(f), S);
  assert.deepEqual(
    r.map((c) => [c.name, c.passed, c.violations]),
    [
      ['positive_finite', true, 0],
      ['unseen_categories', true, 0],
      ['odometer_monotonic', true, 0],
      ['year_monotonic', true, 0],
      ['color_invariance', true, 0],
    ],
  );
});

test('behaviour: rising with km, falling with year, paint-sensitive and non-finite predictors fail', () => {
  const f = frame(60);
  const rising = odometerMonotonicity(honest(false, +1), f, S);
  assert.equal(rising.passed, false);
  assert.equal(rising.violations, 50);
  // the worst step: exp(50000 / 200000) - 1 = 28.4% from 50k to 100k km
  assert.ok(Math.abs(rising.worst - (Math.exp(0.25) - 1)) < 1e-9);
  assert.deepEqual(rising.examples[0].values, [10000, 50000, 100000]);

  const older = {
    predictFrame: (x: Frame) =>
      honest()
        .predictFrame(x)
        .map((p, i) => p / 0.9 ** (2 * (2025 - Number(x.categorical.year[i])))),
  };
  assert.equal(yearMonotonicity(older, f, S).passed, false);

  const paint = colorInvariance(honest(true), f, S);
  assert.equal(paint.passed, false);
  assert.ok(Math.abs(paint.worst - 0.2) < 1e-9);

  const nan = { predictFrame: (x: Frame) => new Float64Array(x.nRows).fill(NaN) };
  assert.equal(positiveFinite(nan.predictFrame(f), f).passed, false);
  const unseenBreaks = {
    predictFrame: (x: Frame) =>
      Float64Array.from({ length: x.nRows }, (_, i) => (x.categorical.make[i] === 'UNSEEN-MAKE' ? -1 : 1)),
  };
  const u = unseenCategories(unseenBreaks, f, S);
  assert.equal(u.passed, false);
  assert.equal(u.violations, 50);
});
