/** The evaluate use case: metrics of a saved model bundle on a listings file. */
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import type { Logger } from '../core/logger.js';
import { ModelBundle } from '../bundle/model-bundle.js';
import { newStats, type TransformStats } from '../features/transformer.js';
import { regressionMetrics, type RegressionMetrics } from '../ml/metrics.js';
import { loadListings } from './load-listings.js';

export interface EvaluateOptions {
  params: Params;
  /** Bundle directory, or an already loaded bundle. */
  model: string | ModelBundle;
  data: string;
  env?: Env;
  logger?: Logger;
  signal?: AbortSignal;
  onReport?: (summary: string) => void;
}

export interface EvaluateResult {
  metrics: RegressionMetrics;
  /** Categories never seen in training, per column. */
  unknownCategories: TransformStats['unknownCategories'];
}

export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  const bundle = typeof o.model === 'string' ? ModelBundle.load(o.model) : o.model;
  const data = await loadListings(o.data, { ...o, requireTarget: true });
  const stats = newStats();
  const pred = bundle.predictFrame(data.frame, stats);
  return { metrics: regressionMetrics(data.y!, pred), unknownCategories: stats.unknownCategories };
}
