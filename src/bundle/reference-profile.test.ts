import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binOf, buildReferenceProfile, numericProfile, parseReferenceProfile } from './reference-profile.js';
import { ModelBundle } from './model-bundle.js';
import { fixtureBundle } from '../../test/helpers/serving.js';

test('numericProfile: nearest-rank deciles of 1..100, counts per upper-inclusive bin, NaN counted missing', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  values.push(NaN, NaN);
  const p = numericProfile(values);
  // finite sorted 1..100, q*(n-1) floored: 0.1*99 = 9.9 -> index 9 -> value 10, ...
  assert.deepEqual(p.edges, [10, 20, 30, 40, 50, 60, 70, 80, 90]);
  assert.deepEqual(p.counts, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
  assert.equal(p.missing, 2);
  assert.equal(binOf(p.edges, 10), 0);
  assert.equal(binOf(p.edges, 10.5), 1);
  assert.equal(binOf(p.edges, 1000), 9);
  assert.equal(binOf(p.edges, -5), 0);
});

test('numericProfile: repeated values (a 0/1 flag) give one edge and uneven, stored counts', () => {
  const p = numericProfile([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(p.edges, [0, 1]);
  assert.deepEqual(p.counts, [7, 3, 0]);
});

test('numericProfile: columns of whole numbers 0..255 (counted, not sorted) get the edges and counts of the sorted values', () => {
  // the sorted way written out: nearest-rank deciles of the finite values, upper-inclusive bins
  const bySort = (values: number[]) => {
    const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    const edges: number[] = [];
    if (finite.length > 0)
      for (const q of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) {
        const e = finite[Math.floor(q * (finite.length - 1))];
        if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
      }
    const counts = new Array<number>(edges.length + 1).fill(0);
    for (const v of finite) counts[binOf(edges, v)]++;
    return { edges, counts, missing: values.length - finite.length };
  };
  let seed = 3;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const cases = [
    Array.from({ length: 999 }, () => Math.floor(next() * 7)), // a few small counts
    Array.from({ length: 1000 }, (_, i) =>
      i % 13 === 0 ? [NaN, Infinity, -Infinity, -0][i % 4] : Math.floor(next() * 256),
    ),
    Array.from({ length: 50 }, () => (next() < 0.9 ? 0 : 255)),
    [NaN, NaN, Infinity],
    [7],
    // not all small whole numbers: sorted as before
    Array.from({ length: 500 }, () => Math.floor(next() * 300)),
    Array.from({ length: 500 }, () => Math.floor(next() * 10) / 2),
  ];
  for (const values of cases) {
    const got = numericProfile(values);
    assert.deepEqual(got, bySort(values));
    assert.deepEqual(numericProfile(Float64Array.from(values)), got);
  }
});

test('buildReferenceProfile: counts every category, adds a numeric view of number-valued categories (year)', () => {
  const frame = {
    nRows: 4,
    numeric: { odometer: new Float64Array([1, 2, 3, NaN]) },
    categorical: { make: ['A', 'A', 'B', null], year: ['2015', '2016', '2016', '2017'] },
  };
  const r = buildReferenceProfile(frame, [10, 20, 30, 40]);
  assert.deepEqual(r.categorical.make, { counts: { A: 2, B: 1 }, missing: 1 });
  assert.deepEqual(Object.keys(r.numericViews), ['year']);
  assert.equal(r.numeric.odometer.missing, 1);
  assert.equal(
    r.prediction.counts.reduce((a, b) => a + b, 0),
    4,
  );
  assert.throws(() => buildReferenceProfile(frame, [1]), /MODEL_INVALID|predictions for 4/);
});

test('a bundle saves and loads its reference profile; a damaged one is refused naming the part', () => {
  const b = fixtureBundle({ n: 120 });
  assert.equal(b.reference, null);
  const frame = {
    nRows: 2,
    numeric: { odometer: new Float64Array([1, 2]) },
    categorical: { make: ['A', 'B'] },
  };
  b.reference = buildReferenceProfile(frame, [1, 2]);
  const dir = mkdtempSync(join(tmpdir(), 'carprice-ref-'));
  try {
    b.save(join(dir, 'm'));
    const back = ModelBundle.load(join(dir, 'm'));
    assert.deepEqual(back.reference, b.reference);
    const json = JSON.parse(readFileSync(join(dir, 'm', 'bundle.json'), 'utf8'));
    json.reference.numeric.odometer.counts = [1];
    writeFileSync(join(dir, 'm', 'bundle.json'), JSON.stringify(json));
    assert.throws(() => ModelBundle.load(join(dir, 'm')), /reference\.numeric\.odometer is damaged/);
    json.reference.formatVersion = 9;
    assert.throws(() => parseReferenceProfile(json.reference, 'x'), /formatVersion 9/);
    assert.equal(parseReferenceProfile(undefined, 'x'), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
