/** Tests of one-hot encoding: sorted layout, drop_first, unseen categories -> zeros, counted. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OneHotEncoder } from './one-hot-encoder.js';
import { newStats } from './transformer.js';

const frame = {
  nRows: 4,
  numeric: { odo: Float64Array.of(1, 2, 3, 4) },
  categorical: { fuel: ['Petrol', 'Diesel', 'CNG', 'Diesel'], keep: ['k', 'k', 'k', 'k'] },
};

test('one column per category, sorted, named col=value; the source column is replaced', () => {
  const enc = new OneHotEncoder(['fuel']).fit(frame);
  assert.deepEqual(enc.outputColumns(), ['fuel=CNG', 'fuel=Diesel', 'fuel=Petrol']);
  const out = enc.transform(frame);
  assert.deepEqual(Object.keys(out.numeric), ['odo', 'fuel=CNG', 'fuel=Diesel', 'fuel=Petrol']);
  assert.deepEqual(Object.keys(out.categorical), ['keep']);
  assert.deepEqual(Array.from(out.numeric['fuel=CNG']), [0, 0, 1, 0]);
  assert.deepEqual(Array.from(out.numeric['fuel=Diesel']), [0, 1, 0, 1]);
  assert.deepEqual(Array.from(out.numeric['fuel=Petrol']), [1, 0, 0, 0]);
});

test('drop_first removes the first (reference) category', () => {
  const enc = new OneHotEncoder(['fuel'], true).fit(frame);
  assert.deepEqual(enc.outputColumns(), ['fuel=Diesel', 'fuel=Petrol']);
  const out = enc.transform(frame);
  assert.equal('fuel=CNG' in out.numeric, false);
  assert.deepEqual(Array.from(out.numeric['fuel=Petrol']), [1, 0, 0, 0]);
});

test('unseen categories become all zeros and are counted; missing values are zeros but not counted', () => {
  const enc = new OneHotEncoder(['fuel']).fit(frame);
  const stats = newStats();
  const out = enc.transform(
    { nRows: 4, numeric: {}, categorical: { fuel: ['Electric', 'Petrol', null, 'Hydrogen'] } },
    stats,
  );
  assert.deepEqual(Array.from(out.numeric['fuel=Petrol']), [0, 1, 0, 0]);
  assert.deepEqual(Array.from(out.numeric['fuel=Diesel']), [0, 0, 0, 0]);
  assert.deepEqual(stats.unknownCategories, { fuel: 2 });
  enc.transform({ nRows: 1, numeric: {}, categorical: { fuel: ['LPG'] } }, stats);
  assert.deepEqual(stats.unknownCategories, { fuel: 3 }, 'counts accumulate');
});

test('save/load round trip keeps layout and drop_first', () => {
  const enc = new OneHotEncoder(['fuel'], true).fit(frame);
  const back = OneHotEncoder.fromJSON(JSON.parse(JSON.stringify(enc.toJSON())));
  assert.deepEqual(back.outputColumns(), enc.outputColumns());
  assert.deepEqual(back.transform(frame), enc.transform(frame));
});
