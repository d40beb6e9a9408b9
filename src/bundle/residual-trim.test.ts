/** Tests of residual trimming: the threshold, the rows dropped, the fits on the kept rows. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureFrame } from '../../test/fixtures/listings.js';
import { parseParams } from '../config/params.js';
import { stableStringify } from '../core/stable-json.js';
import { takeValues } from '../data/frame.js';
import { takeRows } from '../ml/matrix.js';
import { fitJob } from '../ml/parallel-fit.js';
import { keptByResidual, residualTrim } from './residual-trim.js';
import {
  fitPrepared,
  prepareFeatures,
  trainBundle,
  trainBundleParallel,
  type TrainBundleOptions,
} from './train-bundle.js';

const params = parseParams({});
const { frame, y, schema } = fixtureFrame({ n: 120, seed: 5 });

function options(algo: string, over: Partial<TrainBundleOptions> = {}): TrainBundleOptions {
  return {
    algo,
    algoParams: params.model_trainer.params,
    features: params.features,
    seed: 42,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'h', rows: frame.nRows, source: 'fixture' },
      params: {},
      carpriceVersion: 'test',
    },
    ...over,
  };
}

test('keptByResidual: rows within z x 1.4826 x MAD of the median residual (worked example)', () => {
  // median 0.05; absolute deviations 0.05, 0.05, 0.15, 0.15, 0.25, 1.45; MAD 0.15
  const r = Float64Array.of(0, 0.1, -0.1, 0.2, -0.2, 1.5);
  assert.deepEqual(Array.from(keptByResidual(r, 3)), [0, 1, 2, 3, 4]); // bound 0.667
  assert.deepEqual(Array.from(keptByResidual(r, 1)), [0, 1, 2, 3]); // bound 0.222
  assert.deepEqual(Array.from(keptByResidual(r, 0)), [0, 1, 2, 3, 4, 5], 'z 0: off');
  // a MAD of 0 gives no scale to measure by: every row stays
  assert.deepEqual(Array.from(keptByResidual(Float64Array.of(1, 1, 1, 5), 3)), [0, 1, 2, 3]);
});

/** Median of a copy (mean of the two middle values when the count is even). */
function median(x: ArrayLike<number>): number {
  const s = Float64Array.from(x).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

test('trim_residuals: members are fitted without exactly the rows past z robust sd of out-of-fold ridge residuals', () => {
  // four listings priced at 30% of their worth: out-of-fold residuals near log 0.3 = -1.2
  const planted = [3, 17, 40, 77];
  const yOut = Float64Array.from(y);
  for (const i of planted) yOut[i] *= 0.3;
  const o = options('ridge', { trimResiduals: 3 });
  const prep = prepareFeatures(frame, yOut, schema, o);
  const t = residualTrim(prep, o)!;
  assert.equal(t.residuals.length, frame.nRows);
  for (const i of planted) assert.ok(t.residuals[i] < -0.8, `row ${i}: out-of-fold residual ${t.residuals[i]}`);
  // the kept rows are exactly those within 3 x 1.4826 x MAD of the median residual
  const med = median(t.residuals);
  const dev = Array.from(t.residuals, (v) => Math.abs(v - med));
  const bound = 3 * 1.4826 * median(dev);
  const expected = dev.flatMap((d, i) => (d <= bound ? [i] : []));
  assert.ok(t.kept, 'rows were trimmed');
  assert.deepEqual(Array.from(t.kept), expected);
  assert.ok(expected.length < frame.nRows && expected.length > frame.nRows * 0.8, `${expected.length} kept`);
  for (const i of planted) assert.ok(!expected.includes(i), `planted row ${i} trimmed`);
  // the ridge member is the ridge fitted on exactly the kept rows (same coefficients)
  const trimmed = fitPrepared(prep, o);
  const X = prep.families.linear!.X;
  const kept = t.kept;
  const manual = fitJob({
    algo: 'ridge',
    params: o.algoParams.ridge ?? {},
    X: takeRows(X, kept),
    y: takeValues(prep.z, kept),
  });
  assert.deepEqual(Array.from(trimmed.members[0].estimator.predict(X)), Array.from(manual.predict(X)));
  // and differs from the untrimmed model
  const plain = fitPrepared(prep, { ...o, trimResiduals: 0 });
  assert.notDeepEqual(Array.from(plain.predictFrame(frame)), Array.from(trimmed.predictFrame(frame)));
  // z so large that no row is past it: the untrimmed bundle, byte for byte
  assert.equal(
    stableStringify(fitPrepared(prep, { ...o, trimResiduals: 100 }).toJSON()),
    stableStringify(plain.toJSON()),
  );
  assert.equal(residualTrim(prep, { ...o, trimResiduals: 0 }), null, 'off');
});

test('trim_residuals: deterministic, the same bundle on worker threads; a GBDT alone fitted on the kept rows', async () => {
  const planted = [3, 17, 40, 77];
  const yOut = Float64Array.from(y);
  for (const i of planted) yOut[i] *= 0.3;
  const algoParams = { ...params.model_trainer.params, gbdt: { n_estimators: 30, max_depth: 3 } };
  const o = options('blend', { algoParams, biasCorrection: 'mape_age', intervalLevel: 0.9, trimResiduals: 3 });
  const one = stableStringify(trainBundle(frame, yOut, schema, o).toJSON());
  assert.equal(stableStringify(trainBundle(frame, yOut, schema, o).toJSON()), one, 'deterministic');
  const two = stableStringify((await trainBundleParallel(frame, yOut, schema, { ...o, threads: 2 })).toJSON());
  assert.equal(two, one, 'worker threads');
  const off = stableStringify(trainBundle(frame, yOut, schema, { ...o, trimResiduals: 0 }).toJSON());
  assert.notEqual(off, one, 'trimming changes the fits');
  assert.ok(trainBundle(frame, yOut, schema, o).calibration, 'intervals calibrated on the held-out rows');
  // a GBDT alone: trimmed by the ridge on the linear features, which it does not use itself
  const g = options('gbdt', { algoParams, trimResiduals: 3 });
  const prep = prepareFeatures(frame, yOut, schema, g);
  assert.ok(prep.families.linear && prep.families.tree, 'the linear family is prepared for the trimming ridge');
  const kept = residualTrim(prep, g)!.kept!;
  assert.ok(kept.length < frame.nRows);
  const gbdt = fitPrepared(prep, g).members[0];
  assert.equal(gbdt.treeCover?.[0], kept.length, "the first tree's root saw the kept rows only");
  assert.equal(fitPrepared(prep, { ...g, trimResiduals: 0 }).members[0].treeCover?.[0], frame.nRows);
});

test('trim_residuals on prepared features without the linear family: MODEL_INVALID naming the setting and the fix', () => {
  const g = options('gbdt', { algoParams: { ...params.model_trainer.params, gbdt: { n_estimators: 5 } } });
  const prep = prepareFeatures(frame, y, schema, g); // prepared before trimming was asked for: no linear family
  assert.equal(prep.families.linear, undefined);
  assert.throws(
    () => fitPrepared(prep, { ...g, trimResiduals: 3 }),
    (e: unknown) =>
      (e as { code?: string }).code === 'MODEL_INVALID' &&
      /model_trainer\.trim_residuals.*rerun data_transformation/.test((e as Error).message),
  );
});
