/** Tests of numeric-by-category interactions (per-make slopes). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Interactions, parseInteraction } from './interactions.js';

test('one column per level seen at least minCount times: x where the row has that level, else 0', () => {
  assert.deepEqual(parseInteraction('car_age:make'), { numeric: 'car_age', categorical: 'make' });
  const frame = {
    nRows: 5,
    numeric: { car_age: Float64Array.of(1, 2, 3, 4, 5) },
    categorical: { make: ['a', 'a', 'b', 'a', 'c'] },
  };
  // a x3 (kept), b x1 and c x1 (< 2, share the global slope)
  const t = new Interactions([parseInteraction('car_age:make')], 2).fit(frame);
  const out = t.transform(frame);
  assert.deepEqual(Object.keys(out.numeric), ['car_age', 'car_age*make=a']);
  assert.deepEqual(Array.from(out.numeric['car_age*make=a']), [1, 2, 0, 4, 0]);
  const back = Interactions.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
  assert.deepEqual(back.transform(frame), out);
});
