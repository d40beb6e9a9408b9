/**
 * Explanations: contributions add up to the model output (ridge, gbdt, forest, the
 * ridge+gbdt blend on generated listings), a linear member's contribution is coefficient x
 * value, columns group by listing field, and a bundle without tree covers (format 1) says
 * it cannot explain instead of answering wrongly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asInput, fixtureFrame, generateListings } from '../../test/fixtures/listings.js';
import { parseParams } from '../config/params.js';
import { takeFrameRows, takeValues } from '../data/frame.js';
import { isAppError } from '../core/errors.js';
import { featureOf } from './explanation.js';
import { ModelBundle } from './model-bundle.js';
import { trainBundle, type TrainBundleOptions } from './train-bundle.js';
import { Ridge } from '../ml/linear/index.js';

const params = parseParams({});
const { frame, y, schema } = fixtureFrame({ n: 300, seed: 8 });
const rows = Array.from({ length: 250 }, (_, i) => i);
const train = takeFrameRows(frame, rows);
const yTrain = takeValues(y, rows);

function options(algo: string): TrainBundleOptions {
  return {
    algo,
    algoParams: {
      ...params.model_trainer.params,
      gbdt: { n_estimators: 25, max_depth: 3 },
      forest: { n_estimators: 6, max_depth: 6 },
    },
    features: { ...params.features, token_min_count: 2 },
    seed: 42,
    intervalLevel: 0.9,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'h', rows: 250, source: 'fixture' },
      params: {},
      carpriceVersion: 'test',
    },
  };
}

const records = generateListings({ n: 30, seed: 31 }).map(asInput);
records[2] = { ...records[2], model: 'NEVER SEEN', color: null };
const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

test('featureOf groups matrix columns by listing field', () => {
  assert.deepEqual(
    [
      'make=Honda',
      'make#code',
      'variant~tok=VXI',
      'model~te',
      'make_model~te',
      'car_age',
      'car_age*make=Honda',
      'odometer',
    ].map(featureOf),
    ['make', 'make', 'variant', 'model', 'make_model', 'car_age', 'car_age*make', 'odometer'],
  );
});

for (const algo of ['ridge', 'gbdt', 'forest', 'blend']) {
  test(`${algo}: contributions add up to the model output and the price, after save/load`, () => {
    const b = ModelBundle.fromJSON(
      JSON.parse(JSON.stringify(trainBundle(train, yTrain, schema, options(algo)).toJSON())),
    );
    const p = b.compilePredictor();
    assert.ok(p.canExplain);
    for (const r of records) {
      const e = p.explainOne(r);
      const q = p.predictOne(r);
      assert.ok(e.ok && q.ok);
      assert.ok(Object.is(e.price, q.price));
      assert.deepEqual(e.interval, q.interval);
      assert.equal(e.space, 'log1p');
      assert.ok(Object.is(Math.expm1(e.value), e.price));
      const sum = e.base.value + e.contributions.reduce((s, c) => s + c.value, 0);
      assert.ok(close(sum, e.value), `${sum} vs ${e.value}`);
      const priceSum = e.base.price + e.contributions.reduce((s, c) => s + c.price, 0);
      assert.ok(close(priceSum, e.price, 1e-7), `${priceSum} vs ${e.price}`);
      // largest first, one entry per field
      const mags = e.contributions.map((c) => Math.abs(c.value));
      assert.deepEqual(
        mags,
        [...mags].sort((a, c) => c - a),
      );
      assert.equal(new Set(e.contributions.map((c) => c.feature)).size, e.contributions.length);
    }
  });
}

test('a linear member contributes coefficient x value (one-hot make: its coefficient)', () => {
  const b = trainBundle(train, yTrain, schema, options('ridge'));
  const ridge = b.members[0].estimator as Ridge;
  const cols = b.members[0].features.columns();
  const e = b.compilePredictor().explainOne({ ...records[0], make: 'Honda', model: 'CITY' });
  assert.ok(e.ok);
  const make = e.contributions.find((c) => c.feature === 'make');
  assert.ok(make);
  assert.equal(make.value, ridge.coef[cols.indexOf('make=Honda')]);
  assert.equal(e.base.value, ridge.intercept);
});

test('bad input is reported per field; a bundle without tree covers cannot explain (clear error)', () => {
  const b = trainBundle(train, yTrain, schema, options('blend'));
  const p = b.compilePredictor();
  const bad = p.explainOne({ ...records[0], odometer: -1 });
  assert.ok(!bad.ok && bad.errors[0].field === 'odometer');
  const json = b.toJSON() as unknown as { formatVersion: number; members: Record<string, unknown>[] };
  json.formatVersion = 1;
  for (const m of json.members) delete m.treeCover;
  const old = ModelBundle.fromJSON(json).compilePredictor();
  const hasTrees = b.members.some((m) => m.treeCover);
  assert.equal(old.canExplain, !hasTrees);
  if (hasTrees)
    assert.throws(
      () => old.explainOne(records[0]),
      (e: unknown) => isAppError(e, 'MODEL_INVALID') && /retrain the model to explain/.test((e as Error).message),
    );
  const ok = old.predictOne(records[0]);
  assert.ok(ok.ok);
});
