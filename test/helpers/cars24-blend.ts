/**
 * The real dataset's fixture, for the tests that check a fast path against the batch path on
 * every test listing of cars24 (predictor.test.ts, predict-file.test.ts): where the file is,
 * whether it is present, and the default blend trained on its train split (the configured
 * features; fewer boosting rounds to keep the tests short).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadParams, type Params } from '../../src/config/params.js';
import { takeFrameRows, takeValues } from '../../src/data/frame.js';
import { splitIndices } from '../../src/data/split.js';
import { loadListings } from '../../src/jobs/load-listings.js';
import { trainingOptions } from '../../src/jobs/training-options.js';
import { trainBundle } from '../../src/bundle/train-bundle.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** ../shared/data/cars24_v3.xlsx beside the project. */
export const CARS24 = join(root, '..', 'shared', 'data', 'cars24_v3.xlsx');
export const cars24Present = existsSync(CARS24);
/** The `skip` option of a test that needs the file. */
export const cars24Skip: string | false = cars24Present ? false : `${CARS24} is absent`;

/** The project's params with 150 boosting rounds, the dataset, its split, and the default blend trained on it. */
export async function cars24Blend() {
  const p0 = loadParams({ path: join(root, 'params.yaml') });
  const params = {
    ...p0,
    model_trainer: {
      ...p0.model_trainer,
      params: { ...p0.model_trainer.params, gbdt: { ...p0.model_trainer.params.gbdt, n_estimators: 150 } },
    },
  } as Params;
  const all = await loadListings(CARS24, { params });
  const split = splitIndices(all.frame.nRows, params.data_ingestion.test_size, params.data_ingestion.random_state);
  const bundle = trainBundle(takeFrameRows(all.frame, split.train), takeValues(all.y!, split.train), all.schema, {
    ...trainingOptions(params, 'blend'),
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'h', rows: split.train.length, source: 'cars24' },
      params: {},
      carpriceVersion: 'test',
    },
  });
  return { params, all, split, bundle };
}
