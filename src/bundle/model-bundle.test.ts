/**
 * Tests of the model bundle: save/load round trips giving bit-identical predictions (ridge
 * and a ridge+lasso blend), stable bytes, atomic replacement, coded errors for unknown
 * kinds, versions and damaged files.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asInput, fixtureFrame, generateListings } from '../../test/fixtures/listings.js';
import { parseParams } from '../config/params.js';
import { takeFrameRows, takeValues } from '../data/frame.js';
import { BUNDLE_FILE, BUNDLE_KIND, BUNDLE_MARKER, ModelBundle } from './model-bundle.js';
import { trainBundle, type TrainBundleOptions } from './train-bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'carprice-bundle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const params = parseParams({});
const { frame, y, schema } = fixtureFrame({ n: 260, seed: 11 });
const train = takeFrameRows(
  frame,
  Array.from({ length: 200 }, (_, i) => i),
);
const yTrain = takeValues(
  y,
  Array.from({ length: 200 }, (_, i) => i),
);
const test_ = takeFrameRows(
  frame,
  Array.from({ length: 60 }, (_, i) => 200 + i),
);

function options(algo: string, extra: Record<string, Record<string, unknown>> = {}): TrainBundleOptions {
  return {
    algo,
    algoParams: { ...params.model_trainer.params, ...extra },
    features: params.features,
    seed: 42,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'h', rows: 200, source: 'fixture' },
      params: {},
      carpriceVersion: 'test',
    },
  };
}

const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

for (const [name, algo, extra] of [
  ['ridge', 'ridge', {}],
  ['a ridge+lasso blend', 'blend', { blend: { members: 'ridge,lasso' } }],
] as const) {
  test(`${name}: save -> load gives bit-identical predictions (frame and records)`, () => {
    const b = trainBundle(train, yTrain, schema, options(algo, extra));
    const out = join(dir, `model-${algo}`);
    b.save(out);
    const back = ModelBundle.load(out);
    assert.ok(bytes(back.predictFrame(test_)).equals(bytes(b.predictFrame(test_))));
    const records = generateListings({ n: 5, seed: 99 }).map(asInput);
    assert.ok(bytes(back.predictRecords(records)).equals(bytes(b.predictRecords(records))));
    // saving the loaded bundle gives the same bytes (stable key order, nothing lost)
    const again = join(dir, `model-${algo}-again`);
    back.save(again);
    assert.equal(readFileSync(join(again, BUNDLE_FILE), 'utf8'), readFileSync(join(out, BUNDLE_FILE), 'utf8'));
  });
}

test('a blend predicts expm1 of the weighted sum of its members, weights summing to 1', () => {
  const b = trainBundle(train, yTrain, schema, options('blend', { blend: { members: 'ridge,lasso' } }));
  assert.equal(b.metadata.algo, 'blend');
  const total = b.members.reduce((s, m) => s + m.weight, 0);
  assert.ok(Math.abs(total - 1) < 1e-12);
  for (const m of b.members) assert.ok(['ridge', 'lasso'].includes(m.algo) && m.weight > 0);
  const z = new Float64Array(test_.nRows);
  for (const m of b.members) {
    const p = m.estimator.predict(m.features.transform(test_));
    for (let i = 0; i < z.length; i++) z[i] += m.weight * p[i];
  }
  assert.ok(bytes(b.predictFrame(test_)).equals(bytes(z.map(Math.expm1))));
});

test('bundle.json has sorted keys and the bundle kind/version tags', () => {
  const b = trainBundle(train, yTrain, schema, options('ridge'));
  const out = join(dir, 'tags');
  b.save(out);
  const text = readFileSync(join(out, BUNDLE_FILE), 'utf8');
  const json = JSON.parse(text);
  assert.equal(json.kind, BUNDLE_KIND);
  assert.equal(json.formatVersion, 3);
  assert.deepEqual(Object.keys(json), [...Object.keys(json)].sort());
  assert.deepEqual(json.inputSchema.required, [
    'odometer',
    'fitnessAge',
    'featureCount',
    'make',
    'model',
    'variant',
    'year',
    'transmissionType',
    'bodyType',
    'fuelType',
    'ownership',
  ]);
  assert.deepEqual(json.target, { column: 'listingPrice', transform: 'log1p' });
});

test('save replaces only the files a bundle owns: notes kept, no temp files left (issue 9 item 2)', () => {
  const parent = join(dir, 'atomic');
  const out = join(parent, 'model');
  mkdirSync(out, { recursive: true });
  const b = trainBundle(train, yTrain, schema, options('ridge'));
  b.save(out); // into an empty directory
  assert.deepEqual(readdirSync(out).sort(), [BUNDLE_MARKER, BUNDLE_FILE]);
  writeFileSync(join(out, 'notes.md'), 'why this model exists');
  const other = trainBundle(train, yTrain, schema, options('lasso'));
  other.save(out);
  assert.deepEqual(readdirSync(parent), ['model']);
  assert.deepEqual(readdirSync(out).sort(), [BUNDLE_MARKER, BUNDLE_FILE, 'notes.md']);
  assert.equal(readFileSync(join(out, 'notes.md'), 'utf8'), 'why this model exists');
  assert.equal(ModelBundle.load(out).metadata.algo, 'lasso');
  // a new directory appears whole, with its marker
  const fresh = join(parent, 'fresh');
  b.save(fresh);
  assert.deepEqual(readdirSync(fresh).sort(), [BUNDLE_MARKER, BUNDLE_FILE]);
  assert.deepEqual(JSON.parse(readFileSync(join(fresh, BUNDLE_MARKER), 'utf8')), {
    formatVersion: 3,
    kind: BUNDLE_KIND,
  });
  assert.deepEqual(readdirSync(parent).sort(), ['fresh', 'model']);
});

test('a directory with a {} bundle.json is not a bundle: refused, nothing deleted; a bundle saved before the marker is replaced', () => {
  const fake = join(dir, 'fake');
  mkdirSync(fake, { recursive: true });
  writeFileSync(join(fake, BUNDLE_FILE), '{}');
  writeFileSync(join(fake, 'data.csv'), 'precious');
  const b = trainBundle(train, yTrain, schema, options('ridge'));
  assert.throws(() => b.save(fake), {
    code: 'USAGE',
    message: `${fake} holds a bundle.json that is not a carprice model bundle (no ${BUNDLE_MARKER} marker, no bundle kind), so it is not replaced; give --out a new or empty directory`,
  });
  assert.deepEqual(readdirSync(fake).sort(), [BUNDLE_FILE, 'data.csv']);
  assert.equal(readFileSync(join(fake, BUNDLE_FILE), 'utf8'), '{}');
  // a marker alone with the wrong content does not count either
  writeFileSync(join(fake, BUNDLE_MARKER), 'hello');
  assert.throws(() => b.save(fake), { code: 'USAGE' });
  const legacy = join(dir, 'legacy');
  mkdirSync(legacy, { recursive: true });
  writeFileSync(join(legacy, BUNDLE_FILE), JSON.stringify(b.toJSON()));
  writeFileSync(join(legacy, 'notes.md'), 'kept');
  b.save(legacy);
  assert.deepEqual(readdirSync(legacy).sort(), [BUNDLE_MARKER, BUNDLE_FILE, 'notes.md']);
});

test('save refuses to replace a directory that is not a bundle, or a file (nothing is deleted)', () => {
  const project = join(dir, 'project');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'listings.csv'), 'precious');
  const file = join(dir, 'data.csv');
  writeFileSync(file, 'also precious');
  const b = trainBundle(train, yTrain, schema, options('ridge'));
  assert.throws(
    () => b.save(project),
    (e: unknown) =>
      (e as { code?: string }).code === 'USAGE' &&
      (e as Error).message ===
        `${project} exists and is not a model bundle directory; give --out a new or empty directory, or an existing model to replace (it holds listings.csv)`,
  );
  assert.throws(
    () => b.save(file),
    (e: unknown) =>
      (e as { code?: string }).code === 'USAGE' &&
      (e as Error).message ===
        `${file} is a file, not a model directory; give --out a new or empty directory, or an existing model to replace`,
  );
  assert.deepEqual(readdirSync(project), ['listings.csv']);
  assert.equal(readFileSync(file, 'utf8'), 'also precious');
  assert.throws(() => b.save(join(file, 'model')), {
    code: 'USAGE',
    message: `cannot save the model to ${join(file, 'model')}: ${file} is a file, not a directory; choose another --out`,
  });
});

function writeBundle(name: string, mutate: (j: Record<string, unknown>) => unknown): string {
  const b = trainBundle(train, yTrain, schema, options('ridge'));
  const out = join(dir, name);
  b.save(out);
  const json = JSON.parse(readFileSync(join(out, BUNDLE_FILE), 'utf8'));
  writeFileSync(join(out, BUNDLE_FILE), typeof mutate === 'function' ? JSON.stringify(mutate(json) ?? json) : '');
  return out;
}

test('unknown kind -> FORMAT_UNKNOWN; unknown formatVersion -> FORMAT_VERSION; both say what to do', () => {
  const kind = writeBundle('kind', (j) => ({ ...j, kind: 'sklearn-pickle' }));
  assert.throws(
    () => ModelBundle.load(kind),
    (e: unknown) =>
      (e as { code?: string }).code === 'FORMAT_UNKNOWN' &&
      /not a carprice model bundle \(kind "sklearn-pickle"\); train one/.test((e as Error).message),
  );
  const ver = writeBundle('version', (j) => ({ ...j, formatVersion: 99 }));
  assert.throws(
    () => ModelBundle.load(ver),
    (e: unknown) =>
      (e as { code?: string }).code === 'FORMAT_VERSION' &&
      /formatVersion 99; this carprice reads 1, 2, 3\. Upgrade carprice or retrain/.test((e as Error).message),
  );
});

test('a member with an unknown estimator kind or version is a coded error', () => {
  const est = writeBundle('est-kind', (j) => {
    (j.members as { estimator: { kind: string } }[])[0].estimator.kind = 'xgboost-booster';
  });
  assert.throws(() => ModelBundle.load(est), { code: 'FORMAT_UNKNOWN' });
  const ver = writeBundle('est-version', (j) => {
    (j.members as { estimator: { formatVersion: number } }[])[0].estimator.formatVersion = 42;
  });
  assert.throws(() => ModelBundle.load(ver), { code: 'FORMAT_VERSION' });
});

test('damaged files: invalid JSON and a bundle without members are FORMAT_UNKNOWN, a missing model MODEL_NOT_FOUND', () => {
  const out = join(dir, 'damaged');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, BUNDLE_FILE), '{"kind": "carprice-model-bun');
  assert.throws(
    () => ModelBundle.load(out),
    (e: unknown) =>
      (e as { code?: string }).code === 'FORMAT_UNKNOWN' &&
      /is not valid JSON .*retrain the model/.test((e as Error).message),
  );
  const hollow = writeBundle('hollow', (j) => ({ ...j, members: undefined }));
  assert.throws(
    () => ModelBundle.load(hollow),
    (e: unknown) => (e as { code?: string }).code === 'FORMAT_UNKNOWN' && /is damaged/.test((e as Error).message),
  );
  const missing = join(dir, 'never-trained');
  assert.throws(
    () => ModelBundle.load(missing),
    (e: unknown) =>
      (e as { code?: string }).code === 'MODEL_NOT_FOUND' &&
      (e as Error).message ===
        `no model at ${missing} (expected ${join(missing, BUNDLE_FILE)}); train one with \`carprice train --out ${missing}\``,
  );
  assert.equal(existsSync(missing), false);
  // the bundle.json path itself is accepted too
  const ok = writeBundle('by-file', () => undefined);
  assert.equal(ModelBundle.load(join(ok, BUNDLE_FILE)).members.length, 1);
});

test('damaged bundles are refused on load with FORMAT_UNKNOWN naming the field (issue 9 items 8, 15)', () => {
  const cases: [string, (j: Record<string, unknown>) => unknown, RegExp][] = [
    [
      'null-weight',
      (j) => void ((j.members as { weight: unknown }[])[0].weight = null),
      /members\[0\]\.weight: expected a finite number, got null/,
    ],
    [
      'transform',
      (j) => void ((j.target as { transform: string }).transform = 'sqrt'),
      /target\.transform: expected one of log1p, identity, got "sqrt"/,
    ],
    [
      'steps-string',
      (j) => void ((j.members as { features: { steps: unknown } }[])[0].features.steps = 'oops'),
      /members\[0\]\.features\.steps: expected a list, got "oops"/,
    ],
    ['empty-input-schema', (j) => void (j.inputSchema = {}), /inputSchema\.target: expected a string, got nothing/],
    [
      'no-columns',
      (j) =>
        void (j.inputSchema = {
          target: 'listingPrice',
          numeric: [],
          categorical: [],
          optionalNumeric: [],
          required: [],
        }),
      /inputSchema: lists no feature columns/,
    ],
    [
      'step-internals',
      (j) =>
        void (j.members as { features: { steps: Record<string, unknown>[] } }[])[0].features.steps.forEach((st) => {
          for (const k of Object.keys(st)) if (k !== 'kind' && k !== 'formatVersion') st[k] = 7;
        }),
      /is damaged/,
    ],
  ];
  for (const [name, mutate, pattern] of cases) {
    const out = writeBundle(name, mutate);
    assert.throws(
      () => ModelBundle.load(out),
      (e: unknown) =>
        (e as { code?: string }).code === 'FORMAT_UNKNOWN' &&
        pattern.test((e as Error).message) &&
        !(e as Error).message.includes('\n'),
      name,
    );
  }
});

test('a bundle needs at least one member', () => {
  const b = trainBundle(train, yTrain, schema, options('ridge'));
  assert.throws(() => new ModelBundle(b.inputSchema, 'log1p', [], b.metadata), { code: 'MODEL_INVALID' });
});
