/** Tests of target encoding: smoothing by hand, out-of-fold values from the seeded folds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../core/rng.js';
import { TargetEncoder } from './target-encoder.js';
import { newStats } from './transformer.js';

const close = (a: ArrayLike<number>, b: readonly number[]) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-12, `[${i}] ${a[i]} != ${b[i]}`);
};

const frame = { nRows: 6, numeric: {}, categorical: { model: ['a', 'a', 'b', 'b', 'b', 'c'] } };
const y = Float64Array.of(20, 22, 5, 6, 7, 0);

test('smoothed encodings on all training rows (transform of new rows)', () => {
  // global mean m = 60 / 6 = 10, smoothing s = 2
  //   a: n = 2, sum 42 -> (42 + 2 * 10) / (2 + 2) = 15.5   (the module comment's worked example)
  //   b: n = 3, sum 18 -> (18 + 20) / 5 = 7.6
  //   c: n = 1, sum 0  -> (0 + 20) / 3 = 6.666...
  const enc = new TargetEncoder(['model'], 2, 3, 42).fit(frame, y);
  const stats = newStats();
  const out = enc.transform({ nRows: 5, numeric: {}, categorical: { model: ['a', 'b', 'c', 'zzz', null] } }, stats);
  close(out.numeric['model~te'], [15.5, 38 / 5, 20 / 3, 10, 10]);
  assert.equal('model' in out.categorical, false, 'the source column is replaced');
  assert.deepEqual(stats.unknownCategories, { model: 1 }, 'unseen "zzz" counted, missing not');
});

test('out-of-fold encodings on the training rows, folds from the seeded permutation', () => {
  // new Rng(42).permutation(6) = [0, 4, 2, 5, 3, 1]; fold[perm[p]] = p % 3:
  //   fold 0 = rows {0, 5}, fold 1 = rows {4, 3}, fold 2 = rows {2, 1}
  assert.deepEqual(Array.from(new Rng(42).permutation(6)), [0, 4, 2, 5, 3, 1]);
  // fold 0, stats from rows 1,2,3,4 (y 22,5,6,7): m = 40/4 = 10
  //   row 0 (a): a seen once (22) -> (22 + 20) / 3 = 14;  row 5 (c): unseen -> m = 10
  // fold 1, stats from rows 0,1,2,5 (y 20,22,5,0): m = 47/4 = 11.75, s*m = 23.5
  //   rows 3, 4 (b): b seen once (5) -> (5 + 23.5) / 3 = 9.5
  // fold 2, stats from rows 0,3,4,5 (y 20,6,7,0): m = 33/4 = 8.25, s*m = 16.5
  //   row 1 (a): a once (20) -> (20 + 16.5) / 3 = 12.1666...;  row 2 (b): b twice (13) -> (13 + 16.5) / 4 = 7.375
  const enc = new TargetEncoder(['model'], 2, 3, 42);
  const out = enc.fitTransform(frame, y);
  close(out.numeric['model~te'], [14, 36.5 / 3, 7.375, 9.5, 9.5, 10]);
  // and the fitted state (used for new rows) is the all-rows one
  close(enc.transform(frame).numeric['model~te'], [15.5, 15.5, 7.6, 7.6, 7.6, 20 / 3]);
});

test('fewer rows than folds: k = n (leave-one-out); a single row falls back to the full fit', () => {
  const two = { nRows: 2, numeric: {}, categorical: { m: ['a', 'a'] } };
  // 2 rows, 5 folds -> k = 2: each row sees only the other (y 4 or 8), m = that value,
  // a seen once with that same value -> (v + s*v) / (1 + s) = v
  close(new TargetEncoder(['m'], 1, 5, 42).fitTransform(two, Float64Array.of(4, 8)).numeric['m~te'], [8, 4]);
  const one = { nRows: 1, numeric: {}, categorical: { m: ['a'] } };
  close(new TargetEncoder(['m'], 1, 5, 42).fitTransform(one, Float64Array.of(4)).numeric['m~te'], [4]);
});

test('category names that are Object.prototype keys are ordinary unseen categories', () => {
  const enc = new TargetEncoder(['model'], 2, 3, 42).fit(frame, y);
  const stats = newStats();
  const out = enc.transform(
    { nRows: 3, numeric: {}, categorical: { model: ['constructor', 'toString', '__proto__'] } },
    stats,
  );
  close(out.numeric['model~te'], [10, 10, 10]);
  assert.deepEqual(stats.unknownCategories, { model: 3 });
});

test('needs the target; save/load round trip', () => {
  assert.throws(() => new TargetEncoder(['model']).fit(frame), { code: 'MODEL_INVALID' });
  assert.throws(() => new TargetEncoder(['model']).fit(frame, Float64Array.of(1)), { code: 'MODEL_INVALID' });
  const enc = new TargetEncoder(['model'], 2, 3, 42).fit(frame, y);
  const back = TargetEncoder.fromJSON(JSON.parse(JSON.stringify(enc.toJSON())));
  assert.deepEqual(back.transform(frame), enc.transform(frame));
});

test('hierarchical encoding: a variant shrinks towards its model, an unseen one gets the model', () => {
  // model a: y 20, 22 (variants x, y); model b: 5, 6, 7 (x, x, z); c: 0 (w). m = 10, s = 2.
  //   enc(a) = 15.5, enc(b) = 7.6, enc(c) = 20 / 3
  //   (a, x) [20] -> (20 + 2 * 15.5) / 3 = 17      (the module comment's worked example)
  //   (b, x) [5, 6] -> (11 + 2 * 7.6) / 4 = 6.55  (the same variant name, another model)
  const f = {
    nRows: 6,
    numeric: {},
    categorical: { model: ['a', 'a', 'b', 'b', 'b', 'c'], variant: ['x', 'y', 'x', 'x', 'z', 'w'] },
  };
  const enc = new TargetEncoder(['variant'], 2, 3, 42, { variant: 'model' }).fit(f, y);
  const stats = newStats();
  const out = enc.transform(
    {
      nRows: 6,
      numeric: {},
      categorical: { model: ['a', 'b', 'a', 'b', 'zzz', null], variant: ['x', 'x', 'new', null, 'x', 'x'] },
    },
    stats,
  );
  close(out.numeric['variant~te'], [17, 6.55, 15.5, 7.6, 10, 10]);
  assert.equal('model' in out.categorical, true, 'the parent stays');
  assert.deepEqual(stats.unknownCategories, { variant: 3 }, 'unseen pairs counted, a missing variant not');
  // out of fold (folds as in the test above: {0, 5}, {4, 3}, {2, 1}):
  // fold 0 from rows 1-4 (y 22, 5, 6, 7; m 10): row 0 (a, x): pair unseen, a seen once (22)
  //   -> enc(a) = (22 + 20) / 3 = 14; row 5 (c): model unseen -> 10
  // fold 1 from rows 0, 1, 2, 5 (y 20, 22, 5, 0; m 11.75): b seen once (5) -> (5 + 23.5) / 3 = 9.5;
  //   row 3 (b, x): (b, x) once (5) -> (5 + 2 * 9.5) / 3 = 8; row 4 (b, z): unseen -> 9.5
  // fold 2 from rows 0, 3, 4, 5 (y 20, 6, 7, 0; m 8.25): a once (20) -> (20 + 16.5) / 3 = 12.1666..;
  //   row 1 (a, y): unseen -> 12.1666..; b twice (13) -> 7.375; row 2 (b, x): (b, x) once (6)
  //   -> (6 + 2 * 7.375) / 3 = 6.9166..
  const oof = new TargetEncoder(['variant'], 2, 3, 42, { variant: 'model' }).fitTransform(f, y);
  close(oof.numeric['variant~te'], [14, 36.5 / 3, 20.75 / 3, 8, 9.5, 10]);
  // saved and restored: the same encodings
  const back = TargetEncoder.fromJSON(JSON.parse(JSON.stringify(enc.toJSON())));
  close(back.transform(f).numeric['variant~te'], Array.from(enc.transform(f).numeric['variant~te']));
});
