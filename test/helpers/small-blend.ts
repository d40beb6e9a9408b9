/**
 * A small default-shaped model for prediction tests: the blend (ridge + a 30-tree GBDT by
 * default) trained on 300 fixture listings (by default) with params.yaml's defaults, fixed
 * seed and metadata, so every test file that prices files gets the same bundle in well under
 * a second.
 */
import { fixtureFrame } from '../fixtures/listings.js';
import { trainBundle } from '../../src/bundle/train-bundle.js';
import type { ModelBundle } from '../../src/bundle/model-bundle.js';
import { parseParams, type Params } from '../../src/config/params.js';

export function smallBlend(
  o: { rows?: number; gbdt?: { n_estimators: number; max_depth: number; learning_rate: number } } = {},
): { params: Params; bundle: ModelBundle } {
  const rows = o.rows ?? 300;
  const params = parseParams({});
  const { frame, y, schema } = fixtureFrame({ n: rows, seed: 5 });
  const bundle = trainBundle(frame, y, schema, {
    algo: 'blend',
    algoParams: {
      ...params.model_trainer.params,
      gbdt: o.gbdt ?? { n_estimators: 30, max_depth: 3, learning_rate: 0.3 },
    },
    features: { ...params.features, token_min_count: 2, interaction_min_count: 5, step_min_count: 5 },
    seed: 42,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'h', rows, source: 'fixture' },
      params: {},
      carpriceVersion: 'test',
    },
  });
  return { params, bundle };
}
