/**
 * Stage model_trainer: fit the estimator(s) on the prepared features, save the bundle,
 * log params, training metrics and the bundle to the tracking store, and register a new
 * version of the model. The run id and version go to run_info.json for the next stages.
 * A failure after the run started marks the run FAILED; the model file is only written
 * when fitting succeeded.
 */
import { buildReferenceProfile } from '../../bundle/reference-profile.js';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { systemClock } from '../../core/clock.js';
import { stableStringify } from '../../core/stable-json.js';
import { fitPreparedParallel } from '../../bundle/train-bundle.js';
import { loadPrepared } from '../../bundle/prepared-features-file.js';
import { regressionMetrics } from '../../ml/metrics.js';
import { loadListings } from '../load-listings.js';
import { trainedParams, trainingOptions, trainingThreads } from '../training-options.js';
import { dataFingerprint } from '../train.js';
import { CARPRICE_VERSION } from '../version.js';
import { resolveTrackingUri } from '../../tracking/resolve-store.js';
import { forgetOpenRun, noteOpenRun } from './open-runs.js';
import { openTracking, redactUri, stagePaths, type StageContext } from './stage-context.js';

export interface TrainerRunInfo {
  run_id: string;
  experiment_id: string;
  model_name: string;
  model_version: string;
  model_uri: string;
  tracking_uri: string;
  algo: string;
}

/** Flatten nested params into MLflow's key=value form (`gbdt.max_depth`). */
export function flattenParams(obj: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flattenParams(v as Record<string, unknown>, key));
    else out[key] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

export async function modelTrainer(ctx: StageContext): Promise<TrainerRunInfo> {
  const p = ctx.params;
  const paths = stagePaths(ctx);
  const clock = ctx.clock ?? systemClock;
  const threads = trainingThreads(ctx.env);
  const prep = loadPrepared(paths.transformation);
  const train = await loadListings(paths.train, { params: p, env: ctx.env, signal: ctx.signal });
  const algo = p.model_trainer.algo;
  const t0 = performance.now();
  const bundle = await fitPreparedParallel(prep, {
    ...trainingOptions(p, algo),
    threads,
    signal: ctx.signal,
    metadata: {
      createdAt: new Date(clock.now()).toISOString(),
      training: {
        dataHash: dataFingerprint(train.frame, train.y!),
        rows: train.frame.nRows,
        source: p.data_ingestion.output_dir + '/train.csv',
      },
      params: trainedParams(p, algo),
      carpriceVersion: CARPRICE_VERSION,
    },
  });
  const fitSeconds = (performance.now() - t0) / 1000;
  const trainPredictions = bundle.predictFrame(train.frame);
  const trainMetrics = regressionMetrics(train.y!, trainPredictions);
  // what the training rows looked like, for drift monitoring of the served model
  bundle.reference = buildReferenceProfile(train.frame, trainPredictions);
  bundle.metadata = {
    ...bundle.metadata,
    metrics: { train_r2: trainMetrics.r2, train_rmse: trainMetrics.rmse, train_mape: trainMetrics.mape },
  };
  bundle.save(paths.model);
  ctx.report?.(`model_trainer: ${algo} fitted in ${fitSeconds.toFixed(1)} s (train R² ${trainMetrics.r2.toFixed(4)})`);

  const client = openTracking(ctx);
  try {
    const run = await client.startRun({
      experimentName: p.mlflow.experiment_name,
      runName: `${algo}-${new Date(clock.now()).toISOString().slice(0, 19)}`,
      tags: {
        'carprice.stage': 'model_trainer',
        'carprice.algo': algo,
        'mlflow.source.name': 'carprice stage model_trainer',
      },
    });
    noteOpenRun(ctx, run.runId, 'model_trainer');
    try {
      await client.logParams(run.runId, flattenParams({ ...trainedParams(p, algo), train_rows: train.frame.nRows }));
      await client.logMetrics(run.runId, {
        train_r2: trainMetrics.r2,
        train_rmse: trainMetrics.rmse,
        train_mae: trainMetrics.mae,
        train_mape: trainMetrics.mape,
        fit_seconds: fitSeconds,
      });
      const modelUri = await client.logModel(run.runId, paths.model, { artifactPath: 'model' });
      const version = await client.registerModel(p.model_registration.model_name, modelUri, { tags: { algo } });
      await client.endRun(run.runId, 'FINISHED');
      const info: TrainerRunInfo = {
        run_id: run.runId,
        experiment_id: run.experimentId,
        model_name: p.model_registration.model_name,
        model_version: version.version,
        model_uri: `models:/${p.model_registration.model_name}/${version.version}`,
        tracking_uri: redactUri(resolveTrackingUri({ env: ctx.env, paramsUri: p.mlflow.tracking_uri, cwd: ctx.cwd })),
        algo,
      };
      writeFileAtomic(paths.runInfo, stableStringify(info, 2) + '\n');
      ctx.report?.(`model_trainer: logged run ${run.runId}, registered ${info.model_uri}`);
      return info;
    } catch (e) {
      await client.endRun(run.runId, 'FAILED').catch(() => undefined);
      throw e;
    } finally {
      forgetOpenRun(ctx, run.runId);
    }
  } finally {
    await client.close();
  }
}
