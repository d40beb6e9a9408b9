/** Tests of the numeric and categorical imputers (hand-computed fill values). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame } from '../data/frame.js';
import { CategoricalImputer, MISSING_CATEGORY, NumericImputer } from './imputers.js';

const frame: Frame = {
  nRows: 5,
  numeric: { odo: Float64Array.of(4, NaN, 1, 2, 8), none: Float64Array.of(NaN, NaN, NaN, NaN, NaN) },
  categorical: { color: ['b', 'a', null, 'b', 'a'], make: ['x', null, 'x', 'y', null] },
};

test('median imputer: median of the present values; an all-missing column gets 0', () => {
  const imp = new NumericImputer(['odo', 'none'], 'median').fit(frame);
  // present odo values sorted: 1, 2, 4, 8 -> (2 + 4) / 2 = 3
  assert.deepEqual(imp.fillValues(), { odo: 3, none: 0 });
  const out = imp.transform(frame);
  assert.deepEqual(Array.from(out.numeric.odo), [4, 3, 1, 2, 8]);
  assert.deepEqual(Array.from(out.numeric.none), [0, 0, 0, 0, 0]);
  assert.deepEqual(frame.numeric.odo[1], NaN, 'the input frame is not modified');
  // odd count: [1, NaN, 3, 10] -> median 3
  const odd = new NumericImputer(['v']).fit({
    nRows: 4,
    numeric: { v: Float64Array.of(10, NaN, 1, 3) },
    categorical: {},
  });
  assert.equal(odd.fillValues().v, 3);
});

test('mean imputer: (4 + 1 + 2 + 8) / 4 = 3.75; a column absent at transform time is filled whole', () => {
  const imp = new NumericImputer(['odo'], 'mean').fit(frame);
  assert.equal(imp.fillValues().odo, 3.75);
  const out = imp.transform({ nRows: 2, numeric: {}, categorical: {} });
  assert.deepEqual(Array.from(out.numeric.odo), [3.75, 3.75]);
});

test('most-frequent imputer breaks ties by the smaller string; constant uses "(missing)"', () => {
  // color: a x2, b x2 -> tie -> "a"; make: x x2, y x1 -> "x"
  const imp = new CategoricalImputer(['color', 'make']).fit(frame);
  const out = imp.transform(frame);
  assert.deepEqual(out.categorical.color, ['b', 'a', 'a', 'b', 'a']);
  assert.deepEqual(out.categorical.make, ['x', 'x', 'x', 'y', 'x']);
  const c = new CategoricalImputer(['color'], 'constant').fitTransform(frame);
  assert.deepEqual(c.categorical.color, ['b', 'a', MISSING_CATEGORY, 'b', 'a']);
  const allNull = new CategoricalImputer(['k']).fit({ nRows: 2, numeric: {}, categorical: { k: [null, null] } });
  assert.deepEqual(allNull.transform({ nRows: 1, numeric: {}, categorical: {} }).categorical.k, [MISSING_CATEGORY]);
});

test('save/load round trip gives identical output; use before fit and wrong kinds are coded errors', () => {
  const n = new NumericImputer(['odo'], 'mean').fit(frame);
  const n2 = NumericImputer.fromJSON(JSON.parse(JSON.stringify(n.toJSON())));
  assert.deepEqual(n2.transform(frame), n.transform(frame));
  const c = new CategoricalImputer(['color']).fit(frame);
  const c2 = CategoricalImputer.fromJSON(JSON.parse(JSON.stringify(c.toJSON())));
  assert.deepEqual(c2.transform(frame), c.transform(frame));
  assert.throws(() => new NumericImputer(['odo']).transform(frame), { code: 'MODEL_INVALID' });
  assert.throws(() => NumericImputer.fromJSON({ ...n.toJSON(), kind: 'x' }), { code: 'FORMAT_UNKNOWN' });
  assert.throws(() => CategoricalImputer.fromJSON({ ...c.toJSON(), formatVersion: 2 }), { code: 'FORMAT_VERSION' });
});
