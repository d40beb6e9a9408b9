/** Tests of ordinal encoding for trees: sorted codes, NaN for missing/unseen. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrdinalEncoder } from './ordinal-encoder.js';
import { newStats } from './transformer.js';

test('codes follow sorted order; missing and unseen are NaN; only unseen is counted', () => {
  const frame = { nRows: 4, numeric: {}, categorical: { body: ['SUV', 'Hatchback', null, 'Sedan'] } };
  const enc = new OrdinalEncoder(['body']).fit(frame);
  assert.deepEqual(enc.cardinality(), { body: 3 });
  // Hatchback 0, SUV 1, Sedan 2 (code-unit order: 'U' < 'e')
  assert.deepEqual(Array.from(enc.transform(frame).numeric['body#code']), [1, 0, NaN, 2]);
  const stats = newStats();
  const out = enc.transform({ nRows: 3, numeric: {}, categorical: { body: ['Coupe', null, 'Sedan'] } }, stats);
  assert.deepEqual(Array.from(out.numeric['body#code']), [NaN, NaN, 2]);
  assert.deepEqual(stats.unknownCategories, { body: 1 });
  const back = OrdinalEncoder.fromJSON(JSON.parse(JSON.stringify(enc.toJSON())));
  assert.deepEqual(back.transform(frame), enc.transform(frame));
});
