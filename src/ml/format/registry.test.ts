import { test } from 'node:test';
import assert from 'node:assert/strict';
import { algorithmNames, createEstimator } from '../algorithms.js';
import { ALGORITHM_CATALOG } from '../algorithm-catalog.js';
import { makeMatrix } from '../matrix.js';
import { knownEstimatorKinds, loadEstimator } from './registry.js';

test('the loader table has a row for every estimator in the catalogue (ensembles excepted)', () => {
  const estimators = algorithmNames().filter((a) => ALGORITHM_CATALOG[a].family !== null);
  assert.deepEqual(knownEstimatorKinds(), estimators);
});

test('every catalogued estimator saves a kind its loader row reads back to the same predictions', () => {
  // y = 2x + 1 on 8 rows; every estimator fits it to something, and the reload must agree
  const X = makeMatrix(8, 1, Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7]), ['x']);
  const y = Float64Array.from([1, 3, 5, 7, 9, 11, 13, 15]);
  for (const algo of knownEstimatorKinds()) {
    const m = createEstimator(algo, algo === 'forest' || algo === 'gbdt' ? { n_estimators: 3 } : {});
    m.fit(X, y);
    const saved = JSON.parse(JSON.stringify(m.toJSON())) as { kind: string };
    assert.equal(saved.kind, algo);
    assert.deepEqual(loadEstimator(saved).predict(X), m.predict(X), algo);
  }
});
