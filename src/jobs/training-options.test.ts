/**
 * What a training run logs about its model (issue 18.7): every effective hyper-parameter,
 * defaults included, and for a blend each member's, so runs that differ in any setting
 * differ in their params.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseParams } from '../config/params.js';
import { algorithmNames, createEstimator } from '../ml/algorithms.js';
import { flattenParams } from './stages/model-trainer.js';
import { effectiveModelParams, trainedParams } from './training-options.js';

const logged = (raw: Record<string, unknown>, algo: string) =>
  flattenParams({ ...trainedParams(parseParams(raw), algo), train_rows: 10 });

test('a blend logs its members and every hyper-parameter of each member', () => {
  const a = logged(
    { model_trainer: { params: { ridge: { alpha: 0.01 }, blend: { members: 'ridge,gbdt' } } } },
    'blend',
  );
  const b = logged({ model_trainer: { params: { ridge: { alpha: 0.5 }, blend: { members: 'ridge,gbdt' } } } }, 'blend');
  assert.equal(a['model.members'], 'ridge,gbdt');
  assert.equal(a['model.ridge.alpha'], '0.01');
  assert.equal(b['model.ridge.alpha'], '0.5');
  assert.notDeepEqual(a, b, 'different ridge alpha, different params');
  // Every effective gbdt setting, including the ones params.yaml leaves at their defaults.
  for (const [k, v] of Object.entries(createEstimator('gbdt', parseParams({}).model_trainer.params.gbdt).params()))
    assert.equal(a[`model.gbdt.${k}`], String(v), k);
  assert.ok(Object.keys(a).filter((k) => k.startsWith('model.gbdt.')).length >= 10);
});

test('every algorithm logs all its effective hyper-parameters, defaults included', () => {
  const params = parseParams({});
  for (const algo of algorithmNames().filter((a) => a !== 'blend')) {
    const eff = effectiveModelParams(params, algo);
    const expected = createEstimator(algo, params.model_trainer.params[algo] ?? {}).params();
    assert.deepEqual(eff, expected, algo);
    const flat = logged({}, algo);
    for (const [k, v] of Object.entries(expected)) assert.equal(flat[`model.${k}`], String(v), `${algo}: ${k}`);
  }
  // A setting from params.yaml wins over the default.
  assert.equal(
    effectiveModelParams(parseParams({ model_trainer: { params: { lasso: { alpha: 0.25 } } } }), 'lasso').alpha,
    0.25,
  );
});
