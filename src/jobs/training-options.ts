/**
 * The one mapping from params.yaml to the bundle trainer's settings, shared by every job
 * that fits a model (train, cross-validate, the data_transformation and model_trainer
 * stages), and the params record saved in the bundle and logged to the tracking store.
 */
import { availableParallelism } from 'node:os';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import { AppError } from '../core/errors.js';
import { memberAlgos, type TrainBundleOptions } from '../bundle/train-bundle.js';
import { createEstimator } from '../ml/algorithms.js';
import { algorithmInfo } from '../ml/algorithm-catalog.js';

/** Trainer settings for `algo` from params.yaml. */
export function trainingOptions(
  params: Params,
  algo: string,
): Pick<
  TrainBundleOptions,
  | 'algo'
  | 'algoParams'
  | 'features'
  | 'seed'
  | 'priceWeightPower'
  | 'intervalLevel'
  | 'biasCorrection'
  | 'ageWeight'
  | 'holdoutFolds'
  | 'trimResiduals'
> {
  return {
    algo,
    algoParams: params.model_trainer.params,
    features: params.features,
    seed: params.base.random_state,
    priceWeightPower: params.model_trainer.price_weight_power,
    intervalLevel: params.model_trainer.interval_level,
    biasCorrection: params.model_trainer.bias_correction,
    ageWeight: params.model_trainer.age_weight,
    holdoutFolds: params.model_trainer.holdout_folds,
    trimResiduals: params.model_trainer.trim_residuals,
  };
}

/**
 * Every hyper-parameter the estimator of `algo` fits with, defaults included (the
 * estimator's own `params()`): `{alpha: 0.01}` for ridge. A blend lists its members and
 * each member's hyper-parameters below its name: `{members: 'ridge,gbdt', ridge: {alpha:
 * 0.01}, gbdt: {n_estimators: 1200, ...}}`, so two blends that differ in any member's
 * setting differ in their logged params.
 */
export function effectiveModelParams(params: Params, algo: string): Record<string, unknown> {
  const algoParams = params.model_trainer.params;
  if (algo !== 'blend') return createEstimator(algo, { ...(algoParams[algo] ?? {}) }).params();
  const names = memberAlgos(algo, algoParams);
  const out: Record<string, unknown> = { ...(algoParams.blend ?? {}), members: names.join(',') };
  for (const m of names) out[m] = createEstimator(m, { ...(algoParams[m] ?? {}) }).params();
  return out;
}

/** The params a trained model records about itself (saved in the bundle, logged to the run). */
export function trainedParams(
  params: Params,
  algo: string,
): { algo: string; model: Readonly<Record<string, unknown>>; features: Params['features']; seed: number } {
  return { algo, model: effectiveModelParams(params, algo), features: params.features, seed: params.base.random_state };
}

/**
 * Worker threads for training: CARPRICE_THREADS, else the cores available. The models are
 * the same whatever the count (see ml/parallel-fit); only the wall time changes.
 */
export function trainingThreads(env: Env | undefined): number {
  const raw = env?.CARPRICE_THREADS;
  if (raw === undefined) return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new AppError(
      'CONFIG_INVALID',
      `CARPRICE_THREADS must be a whole number >= 1 (1 = train on the main thread only), got "${raw}"`,
    );
  return n;
}

/**
 * Check `algo`'s hyper-parameters (each member's, for a blend) before any data is read, so
 * a typo in params.yaml or --set fails at once as a config error (exit 3) naming the key.
 * An unknown algorithm stays a usage error when it came from --algo (`fromFlag`).
 */
export function checkHyperParams(params: Params, algo: string, fromFlag: boolean): void {
  const key = (a: string) => `model_trainer.params.${a}`;
  try {
    algorithmInfo(algo);
  } catch (e) {
    if (fromFlag) throw e;
    throw new AppError('CONFIG_INVALID', `model_trainer.algo: ${(e as Error).message}`, { cause: e });
  }
  let members: string[];
  try {
    members = memberAlgos(algo, params.model_trainer.params);
  } catch (e) {
    throw new AppError('CONFIG_INVALID', `${key('blend')}.members: ${(e as Error).message}`, { cause: e });
  }
  for (const m of members) {
    try {
      createEstimator(m, params.model_trainer.params[m] ?? {});
    } catch (e) {
      if (e instanceof AppError && e.code === 'USAGE')
        throw new AppError('CONFIG_INVALID', `${key(m)}: ${e.message}; fix params.yaml or the --set flag`, {
          cause: e,
        });
      throw e;
    }
  }
}
