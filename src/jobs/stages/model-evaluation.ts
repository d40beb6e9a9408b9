/**
 * Stage model_evaluation: metrics of the new model on the test split, compared with the
 * current Production version (evaluated on the same rows), and the evaluation gates from
 * params (min_r2, max_rmse, max_mape). Writes metrics.json and evaluation_info.json with
 * the flag and the reason; register_model acts on the flag.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError, isAppError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { stableStringify } from '../../core/stable-json.js';
import { ModelBundle } from '../../bundle/model-bundle.js';
import { regressionMetrics, type RegressionMetrics } from '../../ml/metrics.js';
import { loadListings } from '../load-listings.js';
import type { TrainerRunInfo } from './model-trainer.js';
import { openTracking, stagePaths, type StageContext } from './stage-context.js';

export interface EvaluationInfo {
  flag: boolean;
  reason: string;
  model_name: string;
  model_version: string;
  run_id: string;
  metrics: Record<string, number>;
  thresholds: { min_r2: number; max_rmse: number; max_mape: number };
  production: { version: string; metrics: Record<string, number> } | null;
}

function pick(m: RegressionMetrics): Record<string, number> {
  return { r2: m.r2, rmse: m.rmse, mae: m.mae, mape: m.mape, medape: m.medape, within10: m.within10 };
}

/** Read a JSON file written by an earlier stage, with a message naming the stage to rerun. */
export async function readStageJson<T>(path: string, stage: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    throw new AppError(
      'FILE_NOT_FOUND',
      `cannot read ${path} (${(e as Error).message}); run the ${stage} stage first`,
      { cause: e },
    );
  }
}

/**
 * Two numbers printed with enough decimals (at least `minDecimals`) that they read
 * differently when they differ: 0.940912 and 0.940871 at 4 decimals are both "0.9409",
 * so they print as "0.94091" and "0.94087". Equal numbers keep `minDecimals`.
 */
export function distinctPair(a: number, b: number, minDecimals: number): [string, string] {
  if (a === b || !Number.isFinite(a) || !Number.isFinite(b)) return [a.toFixed(minDecimals), b.toFixed(minDecimals)];
  for (let d = minDecimals; d <= 15; d++) {
    const x = a.toFixed(d);
    const y = b.toFixed(d);
    if (x !== y) return [x, y];
  }
  return [String(a), String(b)];
}

/** Decide the flag: gates first, then "better than Production" by R² on the same test rows. */
export function decide(
  m: Record<string, number>,
  t: EvaluationInfo['thresholds'],
  prod: EvaluationInfo['production'],
): { flag: boolean; reason: string } {
  const fails: string[] = [];
  if (!(m.r2 >= t.min_r2)) fails.push(`R² ${distinctPair(m.r2, t.min_r2, 4)[0]} < min_r2 ${t.min_r2}`);
  if (!(m.rmse <= t.max_rmse)) fails.push(`RMSE ${distinctPair(m.rmse, t.max_rmse, 0)[0]} > max_rmse ${t.max_rmse}`);
  if (!(m.mape <= t.max_mape)) fails.push(`MAPE ${distinctPair(m.mape, t.max_mape, 4)[0]} > max_mape ${t.max_mape}`);
  if (fails.length) return { flag: false, reason: `fails the evaluation gates: ${fails.join('; ')}` };
  if (!prod) return { flag: true, reason: 'passes the gates and there is no Production version yet' };
  const [ours, theirs] = distinctPair(m.r2, prod.metrics.r2, 4);
  if (m.r2 > prod.metrics.r2)
    return { flag: true, reason: `passes the gates and beats Production v${prod.version}: R² ${ours} > ${theirs}` };
  return {
    flag: false,
    reason: `not better than Production v${prod.version}: R² ${ours} ${m.r2 === prod.metrics.r2 ? '=' : '<'} ${theirs}`,
  };
}

export async function modelEvaluation(ctx: StageContext): Promise<EvaluationInfo> {
  const p = ctx.params;
  const paths = stagePaths(ctx);
  const run = await readStageJson<TrainerRunInfo>(paths.runInfo, 'model_trainer');
  const bundle = ModelBundle.load(paths.model);
  const test = await loadListings(paths.test, { params: p, env: ctx.env, signal: ctx.signal });
  const metrics = pick(regressionMetrics(test.y!, bundle.predictFrame(test.frame)));
  const thresholds = { min_r2: p.evaluation.min_r2, max_rmse: p.evaluation.max_rmse, max_mape: p.evaluation.max_mape };

  const client = openTracking(ctx);
  let production: EvaluationInfo['production'] = null;
  try {
    let prodVersion: string | undefined;
    try {
      prodVersion = (await client.resolveModelVersion(`models:/${run.model_name}/Production`)).version;
    } catch (e) {
      if (!isAppError(e, 'RESOURCE_DOES_NOT_EXIST')) throw e;
    }
    if (prodVersion && prodVersion !== run.model_version) {
      const dir = await mkdtemp(join(tmpdir(), 'carprice-prod-'));
      try {
        const local = await client.downloadModel(`models:/${run.model_name}/${prodVersion}`, dir);
        const prodBundle = ModelBundle.load(local);
        production = {
          version: prodVersion,
          metrics: pick(regressionMetrics(test.y!, prodBundle.predictFrame(test.frame))),
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    await client.logMetrics(run.run_id, Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`test_${k}`, v])));
  } finally {
    await client.close();
  }
  const { flag, reason } = decide(metrics, thresholds, production);
  const info: EvaluationInfo = {
    flag,
    reason,
    model_name: run.model_name,
    model_version: run.model_version,
    run_id: run.run_id,
    metrics,
    thresholds,
    production,
  };
  writeFileAtomic(paths.metrics, stableStringify(metrics, 2) + '\n');
  writeFileAtomic(paths.evaluationInfo, stableStringify(info, 2) + '\n');
  ctx.report?.(
    `model_evaluation: R² ${metrics.r2.toFixed(4)}, MAPE ${(100 * metrics.mape).toFixed(2)}%: ${flag ? 'better' : 'not promoted'} (${reason})`,
  );
  return info;
}
