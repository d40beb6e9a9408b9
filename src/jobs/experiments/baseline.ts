/**
 * `carprice exp baseline`: the floor every model must clear. A mean predictor and plain
 * OLS with minimal preprocessing (imputation, one-hot, scaling; no derived features, word
 * tokens, interactions, log target or output bias correction), fitted on the training split and scored on the
 * test split, one nested run each under a parent run.
 */
import { trainBundleParallel } from '../../bundle/train-bundle.js';
import { regressionMetrics } from '../../ml/metrics.js';
import { trainingOptions, trainingThreads } from '../training-options.js';
import { CARPRICE_VERSION } from '../version.js';
import {
  checkInterrupted,
  childRun,
  trainingSplit,
  withOverrides,
  withParentRun,
  type ExperimentOptions,
} from './experiment-runs.js';

/** What "minimal preprocessing" turns off. */
export const MINIMAL_FEATURES = [
  'features.derived=[]',
  'features.token_columns=[]',
  'features.interactions=[]',
  'features.log_target=false',
  'features.exclude=[]',
  'model_trainer.bias_correction=none',
];

export interface BaselineResult {
  parentRunId: string;
  experimentId: string;
  models: Array<{ name: string; algo: string; metrics: Record<string, number> }>;
}

export async function baseline(o: ExperimentOptions): Promise<BaselineResult> {
  const { train, test, source } = await trainingSplit(o);
  const threads = trainingThreads(o.env);
  const params = withOverrides(o.params, MINIMAL_FEATURES);
  const models: BaselineResult['models'] = [];
  return withParentRun(
    o.client,
    {
      experimentName: o.experimentName ?? 'baseline',
      runName: 'baseline',
      tags: { 'carprice.experiment': 'baseline', 'mlflow.source.name': 'carprice exp baseline' },
      params: {
        data: source,
        train_rows: train.frame.nRows,
        test_rows: test.frame.nRows,
        features: 'minimal',
        seed: o.params.data_ingestion.random_state,
      },
    },
    async (parent) => {
      const list = [
        { name: 'mean-predictor', algo: 'mean' },
        { name: 'plain-ols', algo: 'linear' },
      ];
      for (const [i, m] of list.entries()) {
        checkInterrupted(o.signal);
        o.onProgress?.({ done: i, total: list.length, label: m.name });
        const metrics = await childRun(
          o.client,
          parent,
          {
            runName: m.name,
            params: { algo: m.algo, preprocessing: 'impute + one-hot + scale' },
            tags: { 'carprice.algo': m.algo },
          },
          async () => {
            const bundle = await trainBundleParallel(train.frame, train.y!, train.schema, {
              ...trainingOptions(params, m.algo),
              threads,
              signal: o.signal,
              metadata: {
                createdAt: new Date(0).toISOString(),
                training: { dataHash: '', rows: train.frame.nRows, source },
                params: {},
                carpriceVersion: CARPRICE_VERSION,
              },
            });
            const r = regressionMetrics(test.y!, bundle.predictFrame(test.frame));
            return {
              test_r2: r.r2,
              test_rmse: r.rmse,
              test_mae: r.mae,
              test_mape: r.mape,
              test_medape: r.medape,
              test_within10: r.within10,
            };
          },
          o.report,
        );
        if (metrics) {
          models.push({ name: m.name, algo: m.algo, metrics });
          o.report?.(`${m.name}: test R² ${metrics.test_r2.toFixed(4)}, MAPE ${(100 * metrics.test_mape).toFixed(2)}%`);
        }
      }
      o.onProgress?.({ done: list.length, total: list.length, label: 'done' });
      return { parentRunId: parent.runId, experimentId: parent.experimentId, models };
    },
  );
}
