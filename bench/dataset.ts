import type { Params } from '../src/config/params.js';
import type { ListingSchema } from '../src/data/listing-schema.js';
import { takeFrameRows, takeValues, type Frame } from '../src/data/frame.js';
import { trainBundleParallel } from '../src/bundle/train-bundle.js';
import { trainingOptions, trainingThreads } from '../src/jobs/training-options.js';
import { CARPRICE_VERSION } from '../src/jobs/version.js';

/** The real dataset every bench reads by default (7,391 listings), relative to the project root. */
export const DATA = '../shared/data/cars24_v3.xlsx';

/**
 * params.yaml's model fitted on the rows `train` of `frame` / `y` (as bench/quality's CV
 * folds fit it: no intervals, no tree covers), and its prices of the rows `test`.
 */
export async function fitPredict(
  data: { frame: Frame; y: Float64Array; schema: ListingSchema },
  params: Params,
  train: ArrayLike<number>,
  test: ArrayLike<number>,
): Promise<Float64Array> {
  const bundle = await trainBundleParallel(takeFrameRows(data.frame, train), takeValues(data.y, train), data.schema, {
    ...trainingOptions(params, params.model_trainer.algo),
    intervalLevel: 0,
    treeCovers: false,
    threads: trainingThreads(process.env),
    metadata: {
      createdAt: new Date(0).toISOString(),
      training: { dataHash: '', rows: train.length, source: DATA },
      params: {},
      carpriceVersion: CARPRICE_VERSION,
    },
  });
  return bundle.predictFrame(takeFrameRows(data.frame, test));
}
