/**
 * The saved form of every feature step, pinned: pipelines covering each step kind (linear
 * family with steps, interactions, tokens, both imputer strategies, one-hot with and
 * without its first level, target encoding, scaling; tree family with ordinal codes) are
 * fitted on the fixture listings and saved, and the bytes must equal the golden file
 * test/fixtures/features/saved-pipelines.json, which was written by the code before the
 * steps shared their fit/save half (FittedStep). A bundle carries these bytes, so an
 * equal file means equal bundles. Loading and saving again must give the same bytes too.
 * After a deliberate format change: UPDATE_FEATURE_GOLDEN=1 rewrites the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureFeatureConfig, fixtureFrame } from '../../test/fixtures/listings.js';
import { stableStringify } from '../core/stable-json.js';
import { FeaturePipeline, type FeatureConfig, type SavedFeaturePipeline } from './feature-pipeline.js';

const GOLDEN = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '../../..'),
  'test/fixtures/features/saved-pipelines.json',
);

const { frame, y, schema } = fixtureFrame({ n: 400, seed: 11 });
const z = y.map(Math.log1p);

const base = fixtureFeatureConfig(schema, { steps: ['car_age'], stepMinCount: 20 });

const CONFIGS: Record<string, FeatureConfig> = {
  linear: base,
  'linear-mean-constant-dropfirst': {
    ...base,
    numericImputer: 'mean',
    categoricalImputer: 'constant',
    onehotDropFirst: true,
    exclude: ['year'],
  },
  tree: { ...base, family: 'tree', scale: false, interactions: [], steps: [] },
};

function savedPipelines(): Record<string, SavedFeaturePipeline> {
  const out: Record<string, SavedFeaturePipeline> = {};
  for (const [name, config] of Object.entries(CONFIGS)) {
    const p = new FeaturePipeline(config);
    p.fitTransform(frame, z);
    out[name] = p.toJSON();
  }
  return out;
}

test('every feature step saves the same bytes as before (golden file), and load -> save is the identity', () => {
  const saved = savedPipelines();
  if (process.env.UPDATE_FEATURE_GOLDEN === '1') writeFileSync(GOLDEN, stableStringify(saved, 2) + '\n');
  // Parsing and printing JSON numbers is exact, so equal printed forms mean equal bytes.
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, SavedFeaturePipeline>;
  assert.deepEqual(Object.keys(saved).sort(), Object.keys(golden).sort());
  const kinds = new Set<string>();
  for (const [name, pipeline] of Object.entries(saved)) {
    const text = stableStringify(pipeline);
    assert.equal(text, stableStringify(golden[name]), `${name}: saved pipeline differs from the golden bytes`);
    for (const s of pipeline.steps) kinds.add(s.kind);
    const reloaded = FeaturePipeline.fromJSON(JSON.parse(text) as SavedFeaturePipeline);
    assert.equal(stableStringify(reloaded.toJSON()), text, `${name}: load -> save`);
  }
  assert.deepEqual([...kinds].sort(), [
    'categorical-imputer',
    'derived-features',
    'interactions',
    'numeric-imputer',
    'one-hot-encoder',
    'ordinal-encoder',
    'standard-scaler',
    'step-features',
    'target-encoder',
    'token-features',
  ]);
});
