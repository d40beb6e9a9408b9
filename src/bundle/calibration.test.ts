/**
 * Split-conformal prediction intervals: the quantile rule on a worked example, intervals
 * stored in the bundle at training time (single model and blend), kept by save/load, and a
 * bundle of format 1 (no calibration) still loading, with `interval: null`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asInput, fixtureFrame, generateListings } from '../../test/fixtures/listings.js';
import { parseParams } from '../config/params.js';
import { takeFrameRows, takeValues } from '../data/frame.js';
import { calibrate, conformalQuantile, intervalOf, parseCalibration } from './calibration.js';
import { BUNDLE_FILE, ModelBundle } from './model-bundle.js';
import { trainBundle, type TrainBundleOptions } from './train-bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'carprice-calibration-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('conformal quantile: the ceil((n + 1) * level)-th smallest residual (worked example)', () => {
  const r = [0.05, 0.01, 0.09, 0.03, 0.07, 0.02, 0.08, 0.04, 0.06];
  assert.equal(conformalQuantile(r, 0.8), 0.08); // k = ceil(10 * 0.8) = 8
  assert.equal(conformalQuantile(r, 0.5), 0.05); // k = 5
  assert.equal(conformalQuantile(r, 0.95), 0.09); // k = 10 > n: the largest
  const c = calibrate([1, 2, 3], [1.5, 2, 2], 0.5); // |r| = 0.5, 0, 1 -> k = 2 -> 0.5
  assert.deepEqual(c, { method: 'split-conformal', level: 0.5, quantile: 0.5, residuals: 3 });
  // log target: a multiplicative band around the price
  const iv = intervalOf(Math.log1p(100_000), { ...c, quantile: 0.1 }, 'log1p');
  assert.ok(
    Math.abs(iv.lower - Math.expm1(Math.log1p(100_000) - 0.1)) < 1e-6 &&
      Math.abs(iv.upper - Math.expm1(Math.log1p(100_000) + 0.1)) < 1e-6,
  );
  assert.deepEqual(intervalOf(5, { ...c, quantile: 8 }, 'identity'), { lower: 0, upper: 13, level: 0.5 });
  assert.throws(() => conformalQuantile(r, 1), /between 0 and 1/);
  assert.throws(
    () => parseCalibration({ method: 'split-conformal', level: 0.9, quantile: -1, residuals: 3 }, 'm'),
    /calibration\.quantile/,
  );
});

const params = parseParams({});
const { frame, y, schema } = fixtureFrame({ n: 400, seed: 21 });
const idx = Array.from({ length: 300 }, (_, i) => i);
const train = takeFrameRows(frame, idx);
const yTrain = takeValues(y, idx);

function options(algo: string, intervalLevel: number): TrainBundleOptions {
  return {
    algo,
    algoParams: { ...params.model_trainer.params, gbdt: { n_estimators: 30, max_depth: 3 } },
    features: params.features,
    seed: 42,
    intervalLevel,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'h', rows: 300, source: 'fixture' },
      params: {},
      carpriceVersion: 'test',
    },
  };
}

for (const algo of ['ridge', 'blend']) {
  test(`${algo}: intervals calibrated at training time, around every price, kept by save/load`, () => {
    const b = trainBundle(train, yTrain, schema, options(algo, 0.9));
    assert.ok(b.calibration);
    assert.equal(b.calibration.level, 0.9);
    assert.equal(b.calibration.residuals, 45); // the held-out 15% of 300 rows
    assert.ok(b.calibration.quantile > 0 && b.calibration.quantile < 1);
    const out = join(dir, algo);
    b.save(out);
    const back = ModelBundle.load(out);
    assert.deepEqual(back.calibration, b.calibration);
    const p = back.compilePredictor();
    const test = takeFrameRows(
      frame,
      Array.from({ length: 100 }, (_, i) => 300 + i),
    );
    const yTest = takeValues(
      y,
      Array.from({ length: 100 }, (_, i) => 300 + i),
    );
    let covered = 0;
    generateListings({ n: 400, seed: 21 })
      .slice(300)
      .map(asInput)
      .forEach((r, i) => {
        const res = p.predictOne(r);
        assert.ok(res.ok && res.interval);
        assert.ok(res.interval.lower < res.price && res.price < res.interval.upper);
        assert.equal(res.interval.level, 0.9);
        if (yTest[i] >= res.interval.lower && yTest[i] <= res.interval.upper) covered++;
      });
    assert.equal(test.nRows, 100);
    // exchangeable fixture listings: near the nominal 90% (a loose bound, 100 listings)
    assert.ok(covered >= 75, `coverage ${covered}%`);
  });
}

test('interval_level 0 trains without intervals (and a single model without the extra fit)', () => {
  const b = trainBundle(train, yTrain, schema, options('ridge', 0));
  assert.equal(b.calibration, null);
  assert.equal(b.toJSON().calibration, undefined);
  const r = b.compilePredictor().predictOne(asInput(generateListings({ n: 1, seed: 3 })[0]));
  assert.ok(r.ok && r.interval === null);
});

test('a bundle of format 1 (before intervals) loads and predicts with interval null', () => {
  const b = trainBundle(train, yTrain, schema, options('ridge', 0.9));
  const json = b.toJSON() as unknown as Record<string, unknown>;
  delete json.calibration;
  json.formatVersion = 1;
  const old = join(dir, 'format1');
  mkdirSync(old);
  writeFileSync(join(old, BUNDLE_FILE), JSON.stringify(json));
  const back = ModelBundle.load(old);
  assert.equal(back.calibration, null);
  const rec = asInput(generateListings({ n: 1, seed: 3 })[0]);
  const r = back.compilePredictor().predictOne(rec);
  const r2 = b.compilePredictor().predictOne(rec);
  assert.ok(r.ok && r2.ok && r.interval === null && r2.interval !== null);
  assert.ok(Object.is(r.price, r2.price));
  assert.match(readFileSync(join(old, BUNDLE_FILE), 'utf8'), /"formatVersion":1/);
});
