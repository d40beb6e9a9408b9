/**
 * Tests of the MAPE bias correction: the weighted median and the closed-form offset against
 * brute-force minimisation, the worked example of the module comment, and a trained bundle
 * carrying the offset through every prediction path (batch frame, compiled single row,
 * batch scorer, intervals, explanations), saved as format 3 while format 2 still loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asInput, fixtureFrame, generateListings } from '../../test/fixtures/listings.js';
import { parseParams } from '../config/params.js';
import { Rng } from '../core/rng.js';
import { frameFromRecords, takeFrameRows, takeValues } from '../data/frame.js';
import { mapeAt, mapeOffset, mapeOffsetWithSlope, OFFSET_SLOPES, weightedMedian } from './bias-correction.js';
import { BatchScorer } from './batch-scorer.js';
import { BUNDLE_FILE, ModelBundle } from './model-bundle.js';
import { trainBundle, type TrainBundleOptions } from './train-bundle.js';

test('weightedMedian minimises the weighted absolute deviation (brute force over every value)', () => {
  const rng = new Rng(3);
  for (let t = 0; t < 50; t++) {
    const n = 1 + rng.int(40);
    const x = Array.from({ length: n }, () => Math.round(rng.next() * 20) - 10);
    const w = Array.from({ length: n }, () => rng.next());
    const cost = (v: number) => x.reduce((s, xi, i) => s + w[i] * Math.abs(xi - v), 0);
    const m = weightedMedian(x, w);
    assert.ok(x.includes(m));
    for (const v of x) assert.ok(cost(m) <= cost(v) + 1e-12, `trial ${t}: ${m} costs ${cost(m)}, ${v} ${cost(v)}`);
  }
  assert.ok(Number.isNaN(weightedMedian([], [])));
  assert.equal(weightedMedian([5, 1, 3], [0, 0, 1]), 3, 'weight 0 entries are ignored');
});

test('mapeOffset: the worked example, and no grid offset beats it (log1p and identity)', () => {
  assert.equal(mapeOffset('identity', [100, 200, 400], [110, 190, 400]), -10);
  const rng = new Rng(9);
  const y = Float64Array.from({ length: 300 }, () => 1e5 * Math.exp(3 * rng.next()));
  // a median-unbiased log model with 15% noise: the MAPE-optimal factor is below 1
  const z = y.map((v) => Math.log1p(v) + 0.15 * (rng.next() + rng.next() + rng.next() - 1.5) * 2);
  const b = mapeOffset('log1p', y, z);
  assert.ok(b < 0 && b > -0.1, `offset ${b}`);
  for (let g = -0.2; g <= 0.2; g += 0.001)
    assert.ok(mapeAt('log1p', y, z, b) <= mapeAt('log1p', y, z, g) + 1e-12, `grid ${g} beats ${b}`);
  assert.ok(mapeAt('log1p', y, z, b) < mapeAt('log1p', y, z, 0));
  const p = Float64Array.from(z, Math.expm1);
  const d = mapeOffset('identity', y, p);
  for (let g = -50_000; g <= 50_000; g += 100)
    assert.ok(mapeAt('identity', y, p, d) <= mapeAt('identity', y, p, g) + 1e-12, `grid ${g} beats ${d}`);
});

test('mapeOffsetWithSlope: lower prices where the log error spreads more; no (slope, offset) pair beats it', () => {
  const rng = new Rng(5);
  const n = 600;
  const age = Float64Array.from({ length: n }, () => rng.int(15));
  const y = Float64Array.from({ length: n }, () => 1e5 * Math.exp(3 * rng.next()));
  // median-unbiased, with the log error's spread growing with age (4% at 0, 40% at 14)
  const z = y.map((v, i) => Math.log1p(v) + (0.04 + 0.026 * age[i]) * (rng.next() + rng.next() + rng.next() - 1.5) * 2);
  const got = mapeOffsetWithSlope('log1p', y, z, age);
  assert.ok(got.slope < 0, `slope ${got.slope}`);
  const cost = (s: number, b: number) =>
    mapeAt(
      'log1p',
      y,
      z.map((v, i) => v + s * age[i]),
      b,
    );
  const best = cost(got.slope, got.offset);
  assert.ok(best < cost(0, mapeOffset('log1p', y, z)), 'beats the plain offset');
  for (const s of OFFSET_SLOPES)
    for (let b = -0.3; b <= 0.3; b += 0.01) assert.ok(best <= cost(s, b) + 1e-12, `slope ${s}, offset ${b}`);
  // a constant covariate: slope 0 and the plain offset, exactly
  const flat = mapeOffsetWithSlope('log1p', y, z, new Float64Array(n));
  assert.deepEqual(flat, { offset: mapeOffset('log1p', y, z), slope: 0 });
  assert.throws(() => mapeOffsetWithSlope('log1p', y, z, [1, 2]), /2 covariate values for 600 predictions/);
});

const params = parseParams({});
const { frame, y, schema } = fixtureFrame({ n: 300, seed: 17 });
const rows = Array.from({ length: 240 }, (_, i) => i);
const train = takeFrameRows(frame, rows);
const yTrain = takeValues(y, rows);

function options(algo: string, biasCorrection: 'mape' | 'mape_age' | 'none'): TrainBundleOptions {
  return {
    algo,
    algoParams: {
      ...params.model_trainer.params,
      gbdt: { n_estimators: 40, max_depth: 3, learning_rate: 0.2 },
      blend: { members: 'ridge,gbdt' },
    },
    features: { ...params.features, token_min_count: 2, interaction_min_count: 5, step_min_count: 5 },
    seed: 42,
    intervalLevel: 0.9,
    biasCorrection,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'h', rows: 240, source: 'fixture' },
      params: {},
      carpriceVersion: 'test',
    },
  };
}

const records = generateListings({ n: 40, seed: 23 }).map(asInput);
const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * The batch scorer and the compiled single-row path give `batch` (b's batch prices of
 * `records` in frame f) bit for bit, each row's interval is around its price, and each
 * explanation has that price and sums to its value; returns the explanations.
 */
function everyPathAgrees(b: ModelBundle, f: ReturnType<typeof frameFromRecords>, batch: Float64Array) {
  const pred = b.compilePredictor();
  const scorer = new BatchScorer(b);
  const scored = scorer.score(
    f.nRows,
    scorer.layout.numeric.map((c) => f.numeric[c]),
    scorer.layout.categorical.map((c) => f.categorical[c]),
  );
  assert.ok(bytes(scored).equals(bytes(batch)));
  return records.map((r, i) => {
    const one = pred.predictOne(r);
    assert.ok(one.ok && Object.is(one.price, batch[i]), `row ${i}`);
    // the interval is calibrated around the corrected price
    assert.ok(one.interval && one.interval.lower < one.price && one.price < one.interval.upper);
    const e = pred.explainOne(r);
    assert.ok(e.ok && Object.is(e.price, batch[i]));
    const sum = e.base.value + e.contributions.reduce((a, c) => a + c.value, 0);
    assert.ok(Math.abs(sum - e.value) < 1e-9 * Math.abs(e.value), `row ${i}: ${sum} vs ${e.value}`);
    return e;
  });
}

for (const algo of ['ridge', 'blend']) {
  test(`${algo}: the offset reaches every prediction path, intervals and explanations; format 3 round trip`, () => {
    const plain = trainBundle(train, yTrain, schema, options(algo, 'none'));
    const b = trainBundle(train, yTrain, schema, options(algo, 'mape'));
    assert.equal(plain.outputOffset, 0);
    assert.ok(b.outputOffset !== 0 && Math.abs(b.outputOffset) < 0.2, `offset ${b.outputOffset}`);
    // the same fits; a blend's weight may differ (chosen by MAPE with the offset)
    assert.deepEqual(
      b.members.map((m) => m.algo),
      plain.members.map((m) => m.algo),
    );
    const unshifted = new ModelBundle(b.inputSchema, b.targetTransform, b.members, b.metadata, b.calibration, null, 0);
    const s = b.inputSchema;
    const f = frameFromRecords(records, {
      numeric: [...s.numeric, ...s.optionalNumeric],
      categorical: s.categorical,
      required: s.required,
    });
    // batch: expm1(weighted member sum + offset), computed by hand
    const z = new Float64Array(f.nRows);
    for (const m of b.members) {
      const p = m.estimator.predict(m.features.transform(f));
      for (let i = 0; i < z.length; i++) z[i] += m.weight * p[i];
    }
    const batch = b.predictFrame(f);
    assert.ok(bytes(batch).equals(bytes(z.map((v) => Math.expm1(v + b.outputOffset)))));
    const ratio = batch[0] / unshifted.predictFrame(f)[0];
    assert.ok(Math.abs(ratio - Math.exp(b.outputOffset)) < 1e-6, `price ratio ${ratio}`);
    // the compiled single-row path and the batch scorer: bit for bit
    everyPathAgrees(b, f, batch).forEach((e, i) => {
      assert.ok(Object.is(Math.expm1(e.value), e.price));
      const priceSum = e.base.price + e.contributions.reduce((a, c) => a + c.price, 0);
      assert.ok(Math.abs(priceSum - e.price) < 1e-6 * e.price, `row ${i}: ${priceSum} vs ${e.price}`);
    });
    // saved as format 3 with target.offset; loads back bit for bit
    const dir = mkdtempSync(join(tmpdir(), 'carprice-offset-'));
    try {
      b.save(join(dir, 'm'));
      const json = JSON.parse(readFileSync(join(dir, 'm', BUNDLE_FILE), 'utf8'));
      assert.equal(json.formatVersion, 3);
      assert.equal(json.target.offset, b.outputOffset);
      const back = ModelBundle.load(join(dir, 'm'));
      assert.equal(back.outputOffset, b.outputOffset);
      assert.ok(bytes(back.predictFrame(f)).equals(bytes(batch)));
      // a format-2 bundle (no offset) still loads, and prices as it did
      const old = { ...plain.toJSON(), formatVersion: 2 };
      assert.equal('offset' in old.target, false);
      assert.ok(bytes(ModelBundle.fromJSON(old).predictFrame(f)).equals(bytes(plain.predictFrame(f))));
      // a damaged offset is refused naming the field
      assert.throws(
        () => ModelBundle.fromJSON({ ...json, target: { ...json.target, offset: 'x' } }),
        (e: Error & { code?: string }) => e.code === 'FORMAT_UNKNOWN' && /target\.offset/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("blend 'mape_age': the age slope is chosen, folded into ridge's car_age term, and every path carries it", () => {
  // prices whose log noise grows with age, as the real listings' do
  const rng = new Rng(31);
  const years = train.categorical.year.map((v) => 2025 - Number(v));
  const yAged = yTrain.map((v, i) => v * Math.exp((0.02 + 0.03 * years[i]) * (rng.next() - 0.5) * 3.4));
  const plain = trainBundle(train, yAged, schema, options('blend', 'mape'));
  const b = trainBundle(train, yAged, schema, options('blend', 'mape_age'));
  const ridge = b.members.find((m) => m.algo === 'ridge')!;
  const slope = ridge.estimator.fitInfo?.mape_age_slope as number;
  assert.ok(slope < 0, `slope ${slope}`);
  assert.deepEqual(
    b.members.map((m) => m.weight),
    plain.members.map((m) => m.weight),
  );
  assert.equal(plain.members.find((m) => m.algo === 'ridge')!.estimator.fitInfo?.mape_age_slope, undefined);
  const s = b.inputSchema;
  const f = frameFromRecords(records, {
    numeric: [...s.numeric, ...s.optionalNumeric],
    categorical: s.categorical,
    required: s.required,
  });
  // the output differs from the plain correction by (offset change) + slope x age, row by row
  const zAge = b.predictFrame(f).map(Math.log1p);
  const zPlain = plain.predictFrame(f).map(Math.log1p);
  records.forEach((r, i) => {
    const want = b.outputOffset - plain.outputOffset + slope * (2025 - Number(r.year));
    assert.ok(Math.abs(zAge[i] - zPlain[i] - want) < 1e-9, `row ${i}: ${zAge[i] - zPlain[i]} vs ${want}`);
  });
  // single row, batch scorer and explanations agree with the batch output
  const batch = b.predictFrame(f);
  everyPathAgrees(b, f, batch);
  // saved and loaded bit for bit (the slope lives in the ridge coefficients)
  const back = ModelBundle.fromJSON(JSON.parse(JSON.stringify(b.toJSON())));
  assert.ok(bytes(back.predictFrame(f)).equals(bytes(batch)));
  // with no linear member there is nothing to fold the slope into: the plain offset
  const gbdt = trainBundle(train, yAged, schema, options('gbdt', 'mape_age'));
  const gbdtPlain = trainBundle(train, yAged, schema, options('gbdt', 'mape'));
  assert.equal(gbdt.outputOffset, gbdtPlain.outputOffset);
  assert.ok(bytes(gbdt.predictFrame(f)).equals(bytes(gbdtPlain.predictFrame(f))));
});

test('age_weight: linear members fit weighted least squares 1 / (1 + k car_age)^2; tree members and k = 0 unchanged', async () => {
  const { fitPreparedBatch, prepareFeatures } = await import('./train-bundle.js');
  const { createEstimator } = await import('../ml/algorithms.js');
  const o = (ageWeight: number) => ({ ...options('blend', 'none'), intervalLevel: 0, ageWeight });
  const prep = prepareFeatures(train, yTrain, schema, o(0));
  const [none, weighted, again] = await fitPreparedBatch(
    [
      { prep, options: o(0) },
      { prep, options: o(0.2) },
      { prep, options: o(0.2) },
    ],
    1,
  );
  const by = (b: ModelBundle, a: string) => b.members.find((m) => m.algo === a)!.estimator;
  // the gbdt member is the same fit; the ridge member is a weighted one, reproducible
  assert.deepEqual(by(weighted, 'gbdt').toJSON(), by(none, 'gbdt').toJSON());
  assert.notDeepEqual(by(weighted, 'ridge').toJSON(), by(none, 'ridge').toJSON());
  assert.deepEqual(by(again, 'ridge').toJSON(), by(weighted, 'ridge').toJSON());
  // it is ridge with those row weights (mean 1), fitted by hand on the same matrix
  const X = prep.families.linear!.X;
  const ages = train.categorical.year.map((v) => Math.max(0, 2025 - Number(v)));
  const w = Float64Array.from(ages, (a) => 1 / (1 + 0.2 * a) ** 2);
  const mean = w.reduce((a, b) => a + b, 0) / w.length;
  const hand = createEstimator('ridge', params.model_trainer.params.ridge ?? {}).fit(X, prep.z, {
    sampleWeight: w.map((v) => v / mean),
  });
  const got = by(weighted, 'ridge').predict(X);
  const want = hand.predict(X);
  for (let i = 0; i < got.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) < 1e-8, `row ${i}: ${got[i]} vs ${want[i]}`);
});
