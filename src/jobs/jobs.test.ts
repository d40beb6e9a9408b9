/**
 * Tests of the use cases on generated listings files in a temp dir: ingest (raw/train/test
 * CSVs, row counts, determinism, no temp files), train (split or --test, deterministic
 * bundle bytes with a fixed clock), evaluate (agrees with train's test metrics), predict
 * (records and files), synth, and the leakage refusal from params.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asInput, fixtureCsv, generateListings, writeFixtureCsv } from '../../test/fixtures/listings.js';
import { parseParams } from '../config/params.js';
import { fixedClock } from '../core/clock.js';
import { parseCsv } from '../data/csv.js';
import { AppError } from '../core/errors.js';
import { crossValidate, kFoldBounds, SharedCrossValidation } from './cross-validate.js';
import { evaluate } from './evaluate.js';
import { ingest } from './ingest.js';
import { loadListings, schemaFromParams } from './load-listings.js';
import { predict } from './predict.js';
import { synth } from './synth.js';
import { dataFingerprint, referenceRows, REFERENCE_ROWS, train } from './train.js';
import { trainingThreads } from './training-options.js';
import { BUNDLE_FILE, ModelBundle } from '../bundle/model-bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'carprice-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FLAGS = ['AlloyWheels', 'Bluetooth', 'Sunroof/Moonroof'];
const params = parseParams({ data_ingestion: { optional_cols: FLAGS } });
const rawPath = writeFixtureCsv(join(dir, 'raw-listings.csv'), { n: 200, seed: 21, leaky: true });

test('ingest writes raw/train/test CSVs with the right row counts, selected columns and no temp files', async () => {
  const out = join(dir, 'ingest');
  const reports: string[] = [];
  const r = await ingest({ params, source: rawPath, outDir: out, onReport: (s) => reports.push(s) });
  assert.equal(r.rows, 200);
  assert.equal(r.testRows, 40, 'ceil(0.2 * 200)');
  assert.equal(r.trainRows, 160);
  assert.deepEqual(readdirSync(out).sort(), ['raw.csv', 'test.csv', 'train.csv']);
  const raw = parseCsv(readFileSync(r.files.raw, 'utf8'), 'raw.csv');
  const tr = parseCsv(readFileSync(r.files.train, 'utf8'), 'train.csv');
  const te = parseCsv(readFileSync(r.files.test, 'utf8'), 'test.csv');
  assert.equal(raw.rows.length, 200);
  assert.equal(tr.rows.length, 160);
  assert.equal(te.rows.length, 40);
  // the leaky column of the source is not carried over; the target is last
  assert.deepEqual(raw.columns, [
    'odometer',
    'fitnessAge',
    'featureCount',
    ...FLAGS,
    'make',
    'model',
    'variant',
    'year',
    'transmissionType',
    'bodyType',
    'fuelType',
    'ownership',
    'color',
    'listingPrice',
  ]);
  // train and test partition raw
  const key = (r: unknown[]) => JSON.stringify(r);
  assert.deepEqual([...tr.rows, ...te.rows].map(key).sort(), raw.rows.map(key).sort());
  assert.match(
    reports[0],
    /raw-listings\.csv: 200 rows read, 0 exact duplicates dropped, 0 invalid rows dropped, 200 kept/,
  );
  // same inputs, same bytes
  const again = await ingest({ params, source: rawPath, outDir: join(dir, 'ingest2') });
  for (const f of ['raw', 'train', 'test'] as const)
    assert.equal(readFileSync(again.files[f], 'utf8'), readFileSync(r.files[f], 'utf8'));
});

test('ingest takes the source from CARPRICE_DATA_URL over params', async () => {
  const r = await ingest({ params, outDir: join(dir, 'ingest-env'), env: { CARPRICE_DATA_URL: rawPath } });
  assert.equal(r.rows, 200);
});

test('train without --test splits by test_size; the bundle is saved and its bytes are deterministic', async () => {
  const a = await train({ params, train: rawPath, out: join(dir, 'm1'), clock: fixedClock(Date.UTC(2025, 0, 1)) });
  assert.equal(a.trainRows, 160);
  assert.equal(a.testRows, 40);
  assert.deepEqual(Object.keys(a.metrics).sort(), ['mae', 'mape', 'medape', 'mse', 'n', 'r2', 'rmse', 'within10']);
  assert.equal(a.metrics.n, 40);
  assert.equal(a.bundle.metadata.createdAt, '2025-01-01T00:00:00.000Z');
  assert.equal(a.bundle.metadata.training.rows, 160);
  assert.deepEqual(a.bundle.inputSchema.optionalNumeric, FLAGS);
  const b = await train({ params, train: rawPath, out: join(dir, 'm2'), clock: fixedClock(Date.UTC(2025, 0, 1)) });
  assert.equal(readFileSync(join(dir, 'm2', BUNDLE_FILE), 'utf8'), readFileSync(join(dir, 'm1', BUNDLE_FILE), 'utf8'));
  assert.deepEqual(b.metrics, a.metrics);
});

test('train reports progress: reading the listings, building features, then each tree of a fit', async () => {
  const events: string[] = [];
  const progress = (step: string, what: string, total?: number, unit = 'listings') => {
    let last = -1;
    return (done: number, finished?: boolean) => {
      if (finished) events.push(`${step} ${what}: ${done}${total ? `/${total}` : ''} ${unit} done`);
      else if (done < last) events.push('backwards');
      last = done;
    };
  };
  const gbdt = parseParams({
    data_ingestion: { optional_cols: FLAGS },
    model_trainer: { algo: 'gbdt', interval_level: 0, params: { gbdt: { n_estimators: 7 } } },
  });
  await train({ params: gbdt, train: rawPath, env: { CARPRICE_THREADS: '1' }, progress });
  assert.match(events[0], /^reading .*raw-listings\.csv: 200 listings done$/);
  assert.match(events[1], /^building features for tree models: \d+ steps done$/);
  // a fit on 85% of the rows may come first (to calibrate on the other 15%)
  assert.equal(events.at(-1), 'fitting gbdt: 7/7 trees done', events.join('\n'));
  assert.ok(events.slice(2, -1).every((e) => /^fitting gbdt \(on 85% of the rows.*: 7\/7 trees done$/.test(e)));
  // fits on worker threads: a model at a time
  events.length = 0;
  const blend = parseParams({
    data_ingestion: { optional_cols: FLAGS },
    model_trainer: { algo: 'blend', params: { gbdt: { n_estimators: 5 } } },
  });
  await train({ params: blend, train: rawPath, env: { CARPRICE_THREADS: '2' }, progress });
  assert.equal(events.at(-1), 'fitting blend: 4/4 models done');
});

test('train with --test uses it; evaluate on the same file reports the same metrics', async () => {
  const ing = await ingest({ params, source: rawPath, outDir: join(dir, 'split') });
  const t = await train({ params, train: ing.files.train, test: ing.files.test, out: join(dir, 'm-test') });
  assert.equal(t.trainRows, 160);
  assert.equal(t.testRows, 40);
  const e = await evaluate({ params, model: join(dir, 'm-test'), data: ing.files.test });
  assert.deepEqual(e.metrics, t.metrics);
  assert.deepEqual(e.unknownCategories, {});
});

test('a missing optional column (equipment flag) still trains, and the report says it was skipped', async () => {
  const noFlags = writeFixtureCsv(join(dir, 'no-flags.csv'), { n: 120, seed: 4, flags: ['AlloyWheels'] });
  const reports: string[] = [];
  const t = await train({ params, train: noFlags, onReport: (s) => reports.push(s) });
  assert.deepEqual(t.bundle.inputSchema.optionalNumeric, ['AlloyWheels']);
  assert.match(reports[0], /optional columns absent \(skipped\): Bluetooth, Sunroof\/Moonroof/);
});

test('predict: records (rounded to 2 decimals) and a file (with source row numbers)', async () => {
  await train({ params, train: rawPath, out: join(dir, 'mp') });
  const records = generateListings({ n: 3, seed: 77 }).map(asInput);
  const preds = await predict({ params, model: join(dir, 'mp'), input: records });
  assert.equal(preds.length, 3);
  for (const p of preds) assert.equal(Math.round(p.predicted_price! * 100) / 100, p.predicted_price);
  // --input goes through the compiled one-listing path: the batch path's prices, bit for bit
  const many = generateListings({ n: 200, seed: 78 }).map(asInput);
  const fast = await predict({ params, model: join(dir, 'mp'), input: many });
  const batch = ModelBundle.load(join(dir, 'mp')).predictRecords(many);
  assert.deepEqual(
    fast.map((p) => p.predicted_price),
    Array.from(batch, (p) => Math.round(p * 100) / 100),
  );
  await assert.rejects(
    predict({ params, model: join(dir, 'mp'), input: [many[0], { ...many[1], make: 7, odometer: 'far' }] }),
    {
      code: 'INPUT_INVALID',
      message: /^invalid listing input \(1 problem\(s\)\):\n {2}\[1\]\.odometer: expected a number, got "far"$/,
    },
  );
  const file = join(dir, 'to-price.csv');
  writeFileSync(
    file,
    fixtureCsv({ n: 4, seed: 77 })
      .replace(/,listingPrice\n/, '\n')
      .replace(/,\d+\n/g, '\n'),
  );
  const fromFile = await predict({ params, model: join(dir, 'mp'), data: file });
  assert.deepEqual(
    fromFile.map((p) => p.row),
    [2, 3, 4, 5],
  );
  assert.deepEqual(
    fromFile.slice(0, 3).map((p) => p.predicted_price),
    preds.map((p) => p.predicted_price),
  );
  await assert.rejects(predict({ params, model: join(dir, 'mp') }), { code: 'USAGE' });
  await assert.rejects(predict({ params, model: join(dir, 'mp'), input: [] }), { code: 'INPUT_INVALID' });
  await assert.rejects(predict({ params, model: join(dir, 'mp'), input: [{ odometer: 'lots' }] }), {
    code: 'INPUT_INVALID',
  });
});

test('synth writes N seeded rows atomically; bad --rows is USAGE', async () => {
  const out = join(dir, 'synth', 'big.csv');
  const r = await synth({ params, rows: 25_000, out, source: rawPath, seed: 3 });
  assert.equal(r.rows, 25_000);
  const t = parseCsv(readFileSync(out, 'utf8'), 'big.csv');
  assert.equal(t.rows.length, 25_000, 'chunks of 10,000 plus the rest, one header');
  assert.equal(t.columns[t.columns.length - 1], 'listingPrice');
  assert.deepEqual(readdirSync(join(dir, 'synth')), ['big.csv']);
  const out2 = join(dir, 'synth', 'again.csv');
  await synth({ params, rows: 25_000, out: out2, source: rawPath, seed: 3 });
  assert.equal(readFileSync(out2, 'utf8'), readFileSync(out, 'utf8'));
  await assert.rejects(synth({ params, rows: 0, out, source: rawPath }), { code: 'USAGE' });
  await assert.rejects(synth({ params, rows: 1.5, out, source: rawPath }), { code: 'USAGE' });
});

test('write failures are coded errors, not crashes: ingest into a file, synth onto a directory, train --out onto a project', async () => {
  const file = join(dir, 'plain-file');
  writeFileSync(file, 'x');
  await assert.rejects(
    ingest({ params, source: rawPath, outDir: join(file, 'sub') }),
    (e: unknown) =>
      (e as { code?: string }).code === 'FILE_UNREADABLE' &&
      /could not write the split to .*plain-file\/sub/.test((e as Error).message),
  );
  await assert.rejects(
    synth({ params, rows: 5, out: dir, source: rawPath }),
    (e: unknown) => (e as { code?: string }).code === 'USAGE' && /is a directory/.test((e as Error).message),
  );
  await assert.rejects(synth({ params, rows: 5, out: join(file, 'x.csv'), source: rawPath }), {
    code: 'FILE_UNREADABLE',
  });
  // the check runs before training, and the directory is untouched
  const before = readdirSync(dir).sort();
  await assert.rejects(train({ params, train: rawPath, out: dir }), { code: 'USAGE' });
  assert.deepEqual(readdirSync(dir).sort(), before);
});

test('leakage: emiStartingValue as a feature is refused with CONFIG_INVALID before any data is read', async () => {
  const leaky = parseParams({ data_ingestion: { numerical_cols: ['odometer', 'emiStartingValue'] } });
  assert.throws(
    () => schemaFromParams(leaky),
    (e: unknown) =>
      (e as { code?: string }).code === 'CONFIG_INVALID' &&
      /^emiStartingValue cannot be features/.test((e as Error).message),
  );
  await assert.rejects(loadListings(join(dir, 'does-not-exist.csv'), { params: leaky }), { code: 'FILE_NOT_FOUND' });
  await assert.rejects(train({ params: leaky, train: rawPath }), { code: 'CONFIG_INVALID' });
});

test('dataFingerprint depends on values and order, and only on the viewed bytes', () => {
  const f = { nRows: 2, numeric: { a: Float64Array.of(1, 2) }, categorical: { c: ['x', 'y'] } };
  const y = Float64Array.of(10, 20);
  const h = dataFingerprint(f, y);
  assert.match(h, /^[0-9a-f]{32}$/);
  assert.equal(dataFingerprint({ ...f, numeric: { a: Float64Array.of(1, 2) } }, Float64Array.of(10, 20)), h);
  assert.notEqual(dataFingerprint({ ...f, numeric: { a: Float64Array.of(2, 1) } }, y), h);
  assert.notEqual(dataFingerprint(f, Float64Array.of(10, 21)), h);
  // a view into a larger buffer hashes like a standalone copy of the same values
  const big = Float64Array.of(9, 1, 2, 9);
  assert.equal(dataFingerprint({ ...f, numeric: { a: big.subarray(1, 3) } }, y), h);
});

test('the reference profile describes every training row up to REFERENCE_ROWS, else that many evenly spaced ones', () => {
  const small = { nRows: 3, numeric: { a: Float64Array.of(1, 2, 3) }, categorical: { c: ['x', null, 'y'] } };
  assert.equal(referenceRows(small), small);
  const n = 2 * REFERENCE_ROWS + 7;
  const big = { nRows: n, numeric: { a: Float64Array.from({ length: n }, (_, i) => i) }, categorical: {} };
  const r = referenceRows(big);
  assert.equal(r.nRows, REFERENCE_ROWS);
  const a = r.numeric.a as Float64Array;
  assert.equal(a[0], 0);
  for (let k = 1; k < a.length; k++) assert.ok(a[k] - a[k - 1] >= 2 && a[k] - a[k - 1] <= 3);
  assert.ok(a[a.length - 1] >= n - 3);
});

test('cross-validation folds are scikit-learn KFold(5, shuffle=True, random_state=42) folds', async () => {
  // sklearn 1.2.1 on 12 rows: test folds [0 9 10] [2 5 8] [1 11] [4 7] [3 6]
  assert.deepEqual(kFoldBounds(12, 5), [
    [0, 3],
    [3, 6],
    [6, 8],
    [8, 10],
    [10, 12],
  ]);
  const file = writeFixtureCsv(join(dir, 'cv.csv'), { n: 90, seed: 5 });
  const r = await crossValidate({ params, data: file, algo: 'ridge', folds: 3 });
  assert.equal(r.folds.length, 3);
  for (const m of r.folds) assert.ok(m.r2 > 0.5, `fold R2 ${m.r2}`);
  assert.ok(Math.abs(r.mean.r2 - r.folds.reduce((a, m) => a + m.r2, 0) / 3) < 1e-12);
  await assert.rejects(
    crossValidate({ params, data: file, folds: 1 }),
    (e: unknown) => e instanceof AppError && e.code === 'USAGE',
  );
});

test('CARPRICE_THREADS: a whole number >= 1, else a CONFIG_INVALID naming the variable; unset = the cores available', () => {
  assert.equal(trainingThreads({ CARPRICE_THREADS: '3' }), 3);
  assert.ok(trainingThreads({}) >= 1);
  for (const bad of ['0', '-2', '1.5', 'many'])
    assert.throws(
      () => trainingThreads({ CARPRICE_THREADS: bad }),
      (e: unknown) => e instanceof AppError && e.code === 'CONFIG_INVALID' && /CARPRICE_THREADS/.test(e.message),
    );
});

test('a bad CARPRICE_THREADS fails train and cv before any data is read', async () => {
  const env = { CARPRICE_THREADS: '0' };
  const missing = join(dir, 'no-such-file.csv');
  await assert.rejects(train({ params, train: missing, algo: 'ridge', env }), { code: 'CONFIG_INVALID' });
  await assert.rejects(crossValidate({ params, data: missing, algo: 'ridge', env }), { code: 'CONFIG_INVALID' });
});

test('SharedCrossValidation: trim_residuals is part of the identity of a fold; a GBDT alone gets the linear features to trim by', async () => {
  const file = writeFixtureCsv(join(dir, 'cv-trim.csv'), { n: 90, seed: 5 });
  const listings = await loadListings(file, { params });
  const trimmed = parseParams({ data_ingestion: { optional_cols: FLAGS }, model_trainer: { trim_residuals: 1 } });
  const gbdt = { n_estimators: 20, max_depth: 2 };
  const withGbdt = (p: typeof params) => ({
    ...p,
    model_trainer: { ...p.model_trainer, params: { ...p.model_trainer.params, gbdt } },
  });
  const cv = new SharedCrossValidation({ listings, data: file, folds: 3, seed: 42 });
  const [plain, trim, gPlain, gTrim] = await cv.run([
    { label: 'ridge', algo: 'ridge', params },
    { label: 'ridge trimmed', algo: 'ridge', params: trimmed },
    { label: 'gbdt', algo: 'gbdt', params: withGbdt(params) },
    { label: 'gbdt trimmed', algo: 'gbdt', params: withGbdt(trimmed) },
  ]);
  assert.equal(trim.sameAs, undefined, 'not taken for the untrimmed model');
  assert.notDeepEqual(trim.folds, plain.folds);
  assert.equal(gTrim.sameAs, undefined);
  assert.notDeepEqual(gTrim.folds, gPlain.folds);
});

test('SharedCrossValidation extraParts: more train/test sets scored after the folds; a copy of a fold gives its metrics', async () => {
  const file = writeFixtureCsv(join(dir, 'cv-extra.csv'), { n: 90, seed: 5 });
  const listings = await loadListings(file, { params });
  const plain = new SharedCrossValidation({ listings, data: file, folds: 3, seed: 42 });
  const [base] = await plain.run([{ label: 'ridge', algo: 'ridge', params }]);
  const parts = (plain as unknown as { parts: Array<{ train: number[]; test: number[] }> }).parts;
  const half = { train: Array.from({ length: 45 }, (_, i) => i), test: Array.from({ length: 45 }, (_, i) => 45 + i) };
  const cv = new SharedCrossValidation({ listings, data: file, folds: 3, seed: 42, extraParts: [parts[1], half] });
  const [r] = await cv.run([{ label: 'ridge', algo: 'ridge', params }]);
  assert.equal(r.folds.length, 5);
  assert.deepEqual(r.folds.slice(0, 3), base.folds);
  assert.deepEqual(r.folds[3], base.folds[1]);
  assert.ok(r.folds[4].r2 > 0.3, `first half -> second half R2 ${r.folds[4].r2}`);
});
