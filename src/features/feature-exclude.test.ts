/**
 * `features.exclude`: input columns used only to derive features (year -> car_age) are
 * dropped before encoding, in both families, and the choice survives save/load; a
 * pipeline without it saves exactly as before (no `drop` key).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureFeatureConfig, fixtureFrame } from '../../test/fixtures/listings.js';
import { FeaturePipeline, type FeatureConfig } from './feature-pipeline.js';

const { frame, y, schema } = fixtureFrame({ n: 300, seed: 3 });
const z = y.map(Math.log1p);

function config(family: 'linear' | 'tree', exclude?: string[]): FeatureConfig {
  return fixtureFeatureConfig(schema, { family, onehotMaxCategories: 50, ...(exclude ? { exclude } : {}) });
}

for (const family of ['linear', 'tree'] as const) {
  test(`exclude drops year and color after deriving car_age (${family})`, () => {
    const p = new FeaturePipeline(config(family, ['year', 'color']));
    p.fitTransform(frame, z);
    const cols = p.columns();
    assert.ok(
      cols.some((c) => c.startsWith('car_age')),
      cols.join(','),
    );
    assert.ok(!cols.some((c) => /^(year|color)([=#]|$)/.test(c)), cols.join(','));
    const kept = new FeaturePipeline(config(family));
    kept.fitTransform(frame, z);
    assert.ok(kept.columns().some((c) => /^(year|color)([=#]|$)/.test(c)));
    // save/load: same columns, same matrix bit for bit
    const back = FeaturePipeline.fromJSON(JSON.parse(JSON.stringify(p.toJSON())));
    assert.deepEqual(back.columns(), cols);
    assert.deepEqual(Buffer.from(back.transform(frame).data.buffer), Buffer.from(p.transform(frame).data.buffer));
    assert.equal(JSON.stringify(kept.toJSON()).includes('"drop"'), false);
  });
}
