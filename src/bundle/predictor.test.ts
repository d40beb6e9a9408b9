/**
 * Tests of the one-listing prediction API: predictOne gives the batch path's price bit for
 * bit (ridge, gbdt, forest and the ridge+gbdt blend on generated listings; the default blend
 * on every test listing of the real dataset when ../shared/data is present), bad fields are
 * named per row without throwing, unseen categories are priced with a warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asInput, fixtureFrame, generateListings } from '../../test/fixtures/listings.js';
import { parseParams } from '../config/params.js';
import { frameFromRecords, takeFrameRows, takeValues, type Frame } from '../data/frame.js';
import type { ModelBundle } from './model-bundle.js';
import { trainBundle, type TrainBundleOptions } from './train-bundle.js';
import { CARS24, cars24Blend, cars24Present, cars24Skip } from '../../test/helpers/cars24-blend.js';

const params = parseParams({});
const { frame, y, schema } = fixtureFrame({ n: 300, seed: 5 });
const rows = Array.from({ length: 240 }, (_, i) => i);
const train = takeFrameRows(frame, rows);
const yTrain = takeValues(y, rows);

function options(algo: string): TrainBundleOptions {
  return {
    algo,
    algoParams: {
      ...params.model_trainer.params,
      gbdt: { n_estimators: 40, max_depth: 3, learning_rate: 0.2 },
      forest: { n_estimators: 8 },
    },
    features: {
      ...params.features,
      token_min_count: 2,
      interaction_min_count: 5,
      steps: ['car_age', 'log_odometer'],
      step_min_count: 5,
    },
    seed: 42,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'h', rows: 240, source: 'fixture' },
      params: {},
      carpriceVersion: 'test',
    },
  };
}

const bundles = new Map<string, ModelBundle>();
function bundleFor(algo: string): ModelBundle {
  let b = bundles.get(algo);
  if (!b) bundles.set(algo, (b = trainBundle(train, yTrain, schema, options(algo))));
  return b;
}

const records = generateListings({ n: 60, seed: 77 }).map(asInput);
// some listings with missing optional values and unseen categories
records[3] = { ...records[3], color: null, AlloyWheels: undefined };
records[4] = { ...records[4], model: 'NEVER SEEN', variant: 'ZXI NEW TRIM 1.2' };
records[5] = { ...records[5], make: 'Unknown make', odometer: '12000' };

for (const algo of ['ridge', 'gbdt', 'forest', 'blend']) {
  test(`${algo}: predictOne and predictMany give the batch price bit for bit`, () => {
    const b = bundleFor(algo);
    const s = b.inputSchema;
    const batch = b.predictFrame(
      frameFromRecords(records, {
        numeric: [...s.numeric, ...s.optionalNumeric],
        categorical: s.categorical,
        required: s.required,
      }),
    );
    const p = b.compilePredictor();
    const many = p.predictMany(records);
    records.forEach((r, i) => {
      const one = p.predictOne(r);
      assert.ok(one.ok, `row ${i}`);
      assert.ok(Object.is(one.price, batch[i]), `${algo} row ${i}: ${one.price} vs batch ${batch[i]}`);
      assert.deepEqual(many[i], one);
    });
  });
}

for (const algo of ['ridge', 'gbdt', 'forest', 'blend']) {
  test(`${algo}: predictBatch gives predictOne's results, bad rows and unseen categories included, whatever the batch size`, () => {
    const p = bundleFor(algo).compilePredictor({ now: new Date('2025-06-01T00:00:00Z') });
    const mixed = [
      ...records.slice(0, 10),
      { ...records[0], odometer: -5 },
      'not an object',
      ...records.slice(10),
      { ...records[1], make: undefined, year: 2031 },
    ];
    const one = mixed.map((r) => p.predictOne(r));
    // sizes that grow the batch's buffers, shrink back, and one with no valid row
    for (const size of [1, 7, mixed.length, 3])
      for (let at = 0; at < mixed.length; at += size) {
        const got = p.predictBatch(mixed.slice(at, at + size));
        got.forEach((r, k) => {
          const want = one[at + k];
          assert.deepEqual(r, want, `${algo} size ${size} row ${at + k}`);
          if (r.ok && want.ok) assert.ok(Object.is(r.price, want.price));
        });
      }
    assert.deepEqual(p.predictBatch([null, { ...records[0], odometer: 'lots' }]), [
      p.predictOne(null),
      p.predictOne({ ...records[0], odometer: 'lots' }),
    ]);
    assert.deepEqual(p.predictBatch([]), []);
    assert.ok(one.some((r) => r.ok && r.unknownCategories.length > 0));
  });
}

test('unseen categories are priced and reported as a warning', () => {
  const p = bundleFor('blend').compilePredictor();
  const r = p.predictOne(records[4]);
  assert.ok(r.ok);
  assert.ok(r.unknownCategories.includes('model'), JSON.stringify(r.unknownCategories));
  const ok = p.predictOne(records[0]);
  assert.ok(ok.ok);
  assert.deepEqual(ok.unknownCategories, []);
});

test('bad fields are named per row, without throwing, and good rows are still priced', () => {
  const p = bundleFor('ridge').compilePredictor({ now: new Date('2025-06-01T00:00:00Z') });
  const good = records[0];
  const out = p.predictMany([
    good,
    { ...good, odometer: -5 },
    { ...good, make: undefined, year: 2031 },
    { ...good, odometer: 'lots', variant: { a: 1 } },
    { ...good, color: 'x'.repeat(500) },
    'not an object',
    null,
    [good],
  ]);
  assert.ok(out[0].ok);
  const errs = out.map((r) => (r.ok ? [] : r.errors.map((e) => `${e.field}: ${e.message}`)));
  assert.deepEqual(errs[1], ['odometer: must not be negative, got -5']);
  assert.deepEqual(errs[2], [
    'make: is required (a string)',
    'year: must not be in the future (latest 2026), got 2031',
  ]);
  assert.deepEqual(errs[3], ['odometer: expected a number, got "lots"', 'variant: expected a string, got {"a":1}']);
  assert.deepEqual(errs[4], ['color: is longer than 200 characters (500)']);
  for (const k of [5, 6, 7]) assert.deepEqual(errs[k], ['input: expected an object with the listing fields']);
});

// ---- the real dataset: every test listing, when ../shared/data is present ----

if (!cars24Present)
  console.log(`# skipping the real-dataset fast-path test: ${CARS24} is absent (run \`carprice pull\` to fetch it)`);

/** A validated frame row back as the raw object a client sends (missing values left out). */
function recordOf(f: Frame, i: number): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, col] of Object.entries(f.numeric)) if (!Number.isNaN(col[i])) r[k] = col[i];
  for (const [k, col] of Object.entries(f.categorical)) if (col[i] !== null) r[k] = col[i];
  return r;
}

test(
  'cars24: the default blend (ridge + gbdt) prices every test listing bit for bit like the batch path; explanations add up',
  { skip: cars24Skip },
  async () => {
    const { all, split: s, bundle: b } = await cars24Blend();
    assert.deepEqual(
      b.members.map((m) => m.algo),
      ['ridge', 'gbdt'],
    );
    const testFrame = takeFrameRows(all.frame, s.test);
    const batch = b.predictFrame(testFrame);
    const pred = b.compilePredictor();
    let unknown = 0;
    for (let i = 0; i < testFrame.nRows; i++) {
      const r = pred.predictOne(recordOf(testFrame, i));
      assert.ok(r.ok, `test row ${i}: ${r.ok ? '' : JSON.stringify(r.errors)}`);
      assert.ok(Object.is(r.price, batch[i]), `test row ${i}: fast ${r.price} vs batch ${batch[i]}`);
      if (r.unknownCategories.length) unknown++;
    }
    assert.ok(testFrame.nRows > 1400, `${testFrame.nRows} test rows`);
    // the batch path (the shadow challenger's) gives the same results, intervals included
    const recs = Array.from({ length: testFrame.nRows }, (_, i) => recordOf(testFrame, i));
    const batched = pred.predictBatch(recs);
    recs.forEach((r, i) => assert.deepEqual(batched[i], pred.predictOne(r), `test row ${i}`));
    // explanations: TreeSHAP (gbdt) + coefficient x value (ridge), weighted, add up to the output
    assert.ok(pred.canExplain);
    for (let i = 0; i < testFrame.nRows; i += 7) {
      const e = pred.explainOne(recordOf(testFrame, i));
      assert.ok(e.ok && Object.is(e.price, batch[i]));
      const sum = e.base.value + e.contributions.reduce((a, c) => a + c.value, 0);
      assert.ok(
        Math.abs(sum - e.value) < 1e-9 * Math.abs(e.value),
        `test row ${i}: contributions add up to ${sum}, output ${e.value}`,
      );
    }
    assert.ok(unknown > 0, 'some test listings have a variant unseen in training');
  },
);
