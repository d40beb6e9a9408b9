/** Tests of token features: tokenizer, vocabulary with a minimum count, indicators. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, TokenFeatures } from './token-features.js';
import { denseValues, type MatrixColumn } from '../ml/matrix.js';

/** A word column's values (they are sparse 0/1 columns). */
const values = (c: unknown) => Array.from(denseValues(c as MatrixColumn));

test('tokenize upper-cases, splits on non-word characters, keeps 1.5 and 4+ together, dedupes', () => {
  assert.deepEqual(tokenize('sx(o) 1.5 Diesel'), ['SX', 'O', '1.5', 'DIESEL']);
  assert.deepEqual(tokenize('AMG  4MATIC amg . 7+'), ['AMG', '4MATIC', '7+']);
  assert.deepEqual(tokenize(''), []);
});

test('vocabulary keeps tokens seen in at least minCount rows, sorted; unseen words are ignored', () => {
  const frame = {
    nRows: 4,
    numeric: {},
    categorical: { variant: ['SX 1.5 DIESEL', 'E 1.5 PETROL', 'SX(O) 1.5 DIESEL', null] },
  };
  // counts: 1.5 x3, SX x2, DIESEL x2, E / PETROL / O x1 -> minCount 2 keeps 1.5, DIESEL, SX
  const t = new TokenFeatures(['variant'], 2).fit(frame);
  const out = t.transform(frame);
  assert.deepEqual(Object.keys(out.numeric), ['variant~tok=1.5', 'variant~tok=DIESEL', 'variant~tok=SX']);
  assert.deepEqual(values(out.numeric['variant~tok=1.5']), [1, 1, 1, 0]);
  assert.deepEqual(values(out.numeric['variant~tok=DIESEL']), [1, 0, 1, 0]);
  assert.deepEqual(values(out.numeric['variant~tok=SX']), [1, 0, 1, 0]);
  assert.ok('variant' in out.categorical, 'the source column is kept');
  const unseen = t.transform({ nRows: 1, numeric: {}, categorical: { variant: ['SX TURBO 2.0 DIESEL'] } });
  assert.deepEqual(
    [
      values(unseen.numeric['variant~tok=1.5'])[0],
      values(unseen.numeric['variant~tok=DIESEL'])[0],
      values(unseen.numeric['variant~tok=SX'])[0],
    ],
    [0, 1, 1],
  );
  const back = TokenFeatures.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
  assert.deepEqual(back.transform(frame), out);
});
