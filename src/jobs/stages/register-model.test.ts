/**
 * register_model never moves a version back: a stale evaluation_info.json naming the
 * Production version (the stage run on its own after a new training run) leaves Production,
 * the champion alias and the challenger alias as they were. Against the real embedded
 * SQLite store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseParams } from '../../config/params.js';
import { TrackingClient } from '../../tracking/client.js';
import { registerModel } from './register-model.js';
import { stagePaths, type StageContext } from './stage-context.js';
import type { EvaluationInfo } from './model-evaluation.js';

const NAME = 'UsedCarPriceModel';

function evaluation(version: string): EvaluationInfo {
  return {
    flag: true,
    reason: 'passes the gates and beats Production',
    model_name: NAME,
    model_version: version,
    run_id: 'r',
    metrics: { r2: 0.9 },
    thresholds: { min_r2: 0, max_rmse: 1e9, max_mape: 1 },
    production: null,
  };
}

test('register_model stages a new version, and never moves the Production one back to Staging', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-register-'));
  try {
    const uri = `sqlite:///${join(dir, 'mlflow.db')}`;
    const ctx: StageContext = { params: parseParams({ mlflow: { tracking_uri: uri } }), cwd: dir, env: {} };
    const paths = stagePaths(ctx);
    mkdirSync(join(paths.evaluationInfo, '..'), { recursive: true });
    const client = TrackingClient.open({ env: {}, paramsUri: uri, cwd: dir });
    try {
      await client.store.createRegisteredModel(NAME);
      const v1 = await client.store.createModelVersion({ name: NAME, source: 's3://models/m1' });
      const v2 = await client.store.createModelVersion({ name: NAME, source: 's3://models/m2' });
      await client.transitionStage(NAME, v1.version, 'Production', false);
      await client.setAlias(NAME, 'champion', v1.version);

      // the stale case: evaluation_info.json still names v1, now in Production
      writeFileSync(paths.evaluationInfo, JSON.stringify(evaluation(v1.version)));
      const stale = await registerModel(ctx);
      assert.equal(stale.transitioned, false);
      assert.match(stale.reason, /already in Production: register_model never moves a version back/);
      assert.equal((await client.store.getModelVersion(NAME, v1.version)).currentStage, 'Production');
      let model = await client.store.getRegisteredModel(NAME);
      assert.deepEqual(
        model.aliases.map((a) => [a.alias, a.version]),
        [['champion', v1.version]],
      );
      const written = JSON.parse(readFileSync(paths.registration, 'utf8')) as { transitioned: boolean };
      assert.equal(written.transitioned, false);

      // the normal case: a new version goes to Staging with the challenger alias
      writeFileSync(paths.evaluationInfo, JSON.stringify(evaluation(v2.version)));
      const fresh = await registerModel(ctx);
      assert.equal(fresh.transitioned, true);
      assert.equal((await client.store.getModelVersion(NAME, v2.version)).currentStage, 'Staging');
      assert.equal((await client.store.getModelVersion(NAME, v1.version)).currentStage, 'Production');
      model = await client.store.getRegisteredModel(NAME);
      assert.deepEqual(Object.fromEntries(model.aliases.map((a) => [a.alias, a.version])), {
        champion: v1.version,
        challenger: v2.version,
      });

      // an archived version is not brought back either
      await client.transitionStage(NAME, v2.version, 'Archived', false);
      const archived = await registerModel(ctx);
      assert.equal(archived.transitioned, false);
      assert.equal((await client.store.getModelVersion(NAME, v2.version)).currentStage, 'Archived');
    } finally {
      await client.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
