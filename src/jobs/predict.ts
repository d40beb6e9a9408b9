/**
 * The predict use case: prices for listing objects (JSON) or for a listings file, from a
 * saved model bundle. Prices are rounded to 2 decimals, as the seed's API returned them.
 */
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import { ModelBundle } from '../bundle/model-bundle.js';
import { loadListings } from './load-listings.js';

export interface PredictOptions {
  params: Params;
  model: string | ModelBundle;
  /** Listing objects (one or many). */
  input?: readonly Record<string, unknown>[];
  /** A listings file instead of `input`. */
  data?: string;
  env?: Env;
  signal?: AbortSignal;
  onReport?: (summary: string) => void;
}

export interface Prediction {
  predicted_price: number;
  /** Source row number when predicting a file. */
  row?: number;
}

export async function predict(o: PredictOptions): Promise<Prediction[]> {
  const bundle = typeof o.model === 'string' ? ModelBundle.load(o.model) : o.model;
  if ((o.input === undefined) === (o.data === undefined)) throw new AppError('USAGE', 'give exactly one of --input JSON or --data FILE');
  if (o.input) {
    if (o.input.length === 0) throw new AppError('INPUT_INVALID', 'no listings to predict: the input is an empty list');
    return [...bundle.predictRecords(o.input)].map((p) => ({ predicted_price: Math.round(p * 100) / 100 }));
  }
  const v = await loadListings(o.data!, { params: o.params, env: o.env, signal: o.signal, onReport: o.onReport, requireTarget: false });
  const pred = bundle.predictFrame(v.frame);
  return [...pred].map((p, i) => ({ predicted_price: Math.round(p * 100) / 100, row: v.rowNumbers[i] }));
}
