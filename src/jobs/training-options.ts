/**
 * The one mapping from params.yaml to the bundle trainer's settings, shared by every job
 * that fits a model (train, cross-validate, the data_transformation and model_trainer
 * stages), and the params record saved in the bundle and logged to the tracking store.
 */
import type { Params } from '../config/params.js';
import type { TrainBundleOptions } from '../bundle/train-bundle.js';

/** Trainer settings for `algo` from params.yaml. */
export function trainingOptions(params: Params, algo: string): Pick<TrainBundleOptions, 'algo' | 'algoParams' | 'features' | 'seed' | 'priceWeightPower'> {
  return {
    algo,
    algoParams: params.model_trainer.params,
    features: params.features,
    seed: params.base.random_state,
    priceWeightPower: params.model_trainer.price_weight_power,
  };
}

/** The params a trained model records about itself. */
export function trainedParams(params: Params, algo: string): { algo: string; model: Readonly<Record<string, unknown>>; features: Params['features']; seed: number } {
  return { algo, model: params.model_trainer.params[algo] ?? {}, features: params.features, seed: params.base.random_state };
}
