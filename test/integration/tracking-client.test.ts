/**
 * The tracking client end to end, over both backends: the embedded SQLite store with a
 * local artifact directory, and the REST store against our server in-process with proxied
 * artifacts (mlflow-artifacts:). A run logs params, metrics and a model bundle (files + an
 * MLmodel file), the model is registered, staged and aliased, and every model URI form is
 * downloaded back byte for byte.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { TrackingClient } from '../../src/tracking/client.js';
import { openStore, resolveTrackingUri, sqlitePathOf } from '../../src/tracking/resolve-store.js';
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';
import { buildTrackingServer } from '../../src/tracking/server/build-tracking-server.js';
import { LocalArtifactRepository } from '../../src/tracking/artifacts/local-artifact-repository.js';
import { isAppError } from '../../src/core/errors.js';

interface Backend {
  client: TrackingClient;
  cleanup(): Promise<void>;
}

function makeBundle(dir: string): void {
  mkdirSync(join(dir, 'estimator'), { recursive: true });
  writeFileSync(join(dir, 'bundle.json'), '{"kind":"carprice-bundle","formatVersion":1}\n');
  writeFileSync(join(dir, 'estimator', 'trees.bin'), Buffer.from([0, 1, 2, 3, 254, 255]));
}

function clientSuite(name: string, make: (dir: string) => Promise<Backend>): void {
  describe(`TrackingClient over ${name}`, () => {
    let dir: string;
    let backend: Backend;
    let client: TrackingClient;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'carprice-client-'));
      backend = await make(dir);
      client = backend.client;
    });
    after(async () => {
      await backend.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs a full train -> register -> promote -> download cycle', async () => {
      const parent = await client.startRun({ experimentName: 'UsedCarPrice', runName: 'sweep' });
      const info = await client.startRun({
        experimentName: 'UsedCarPrice',
        runName: 'gbt',
        parentRunId: parent.runId,
        tags: { algo: 'gbt' },
      });
      assert.equal(info.experimentId, parent.experimentId);
      await client.logParams(info.runId, { n_estimators: 200, learning_rate: 0.05, log_target: true });
      await client.logMetrics(info.runId, { r2: 0.931, rmse: 1.5e5 }, { step: 0, timestamp: 1000 });
      await client.logMetrics(info.runId, { rmse: 1.2e5 }, { step: 1, timestamp: 2000 });
      const params = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`p${i}`, i]));
      await client.logParams(info.runId, params); // more than one batch of 100

      const bundle = join(dir, 'bundle');
      makeBundle(bundle);
      const notes = join(dir, 'notes.txt');
      writeFileSync(notes, 'hello artifacts\n');
      await client.logArtifact(info.runId, notes, 'reports');
      const modelUri = await client.logModel(info.runId, bundle, {
        flavorConfig: { bundle_file: 'bundle.json' },
        metadata: { target: 'selling_price' },
      });
      assert.equal(modelUri, `runs:/${info.runId}/model`);
      await client.endRun(info.runId);

      const run = await client.getRun(info.runId);
      assert.equal(run.info.status, 'FINISHED');
      assert.equal(run.data.params.length, 153);
      assert.deepEqual(
        run.data.metrics.map((m) => [m.key, m.value, m.step]),
        [
          ['r2', 0.931, 0],
          ['rmse', 1.2e5, 1],
        ],
      );
      assert.equal(run.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value, parent.runId);
      assert.ok(run.data.tags.some((t) => t.key === 'mlflow.log-model.history'));

      const top = await client.listArtifacts(info.runId);
      assert.deepEqual(
        top.map((f) => `${f.path}:${f.isDir}`),
        ['model:true', 'reports:true'],
      );
      const model = await client.listArtifacts(info.runId, 'model');
      assert.deepEqual(
        model.map((f) => f.path),
        ['model/MLmodel', 'model/bundle.json', 'model/estimator'],
      );
      assert.equal(model.find((f) => f.path === 'model/bundle.json')?.fileSize, 45);

      const mlmodel = parse(
        readFileSync(await client.downloadArtifacts(info.runId, 'model/MLmodel', join(dir, 'dl-mlmodel')), 'utf8'),
      ) as Record<string, unknown>;
      assert.equal(mlmodel.artifact_path, 'model');
      assert.equal(mlmodel.run_id, info.runId);
      assert.deepEqual(mlmodel.flavors, { carprice: { loader: 'carprice', bundle_file: 'bundle.json' } });
      assert.deepEqual(mlmodel.metadata, { target: 'selling_price' });
      assert.match(String(mlmodel.utc_time_created), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
      assert.match(String(mlmodel.model_uuid), /^[0-9a-f]{32}$/);

      const v1 = await client.registerModel('UsedCarPriceModel', modelUri, { tags: { r2: '0.931' } });
      assert.equal(v1.version, '1');
      assert.equal(v1.runId, info.runId);
      const v2 = await client.registerModel('UsedCarPriceModel', modelUri);
      assert.equal(v2.version, '2');
      await client.transitionStage('UsedCarPriceModel', '1', 'Production');
      await client.transitionStage('UsedCarPriceModel', '2', 'Staging');
      await client.setAlias('UsedCarPriceModel', 'champion', '1');

      const expectFiles = (d: string) => {
        assert.deepEqual(readdirSync(d).sort(), ['MLmodel', 'bundle.json', 'estimator']);
        assert.deepEqual([...readFileSync(join(d, 'estimator', 'trees.bin'))], [0, 1, 2, 3, 254, 255]);
      };
      for (const [uri, version] of [
        ['models:/UsedCarPriceModel@champion', '1'],
        ['models:/UsedCarPriceModel/Production', '1'],
        ['models:/UsedCarPriceModel/staging', '2'],
        ['models:/UsedCarPriceModel/2', '2'],
        ['models:/UsedCarPriceModel/latest', '2'],
      ] as const) {
        const resolved = await client.resolveModelUri(uri);
        assert.equal(resolved.version, version, uri);
        assert.equal(resolved.runId, info.runId);
        const dest = join(dir, 'models', uri.replace(/[^a-z0-9]/gi, '_'));
        assert.equal(await client.downloadModel(uri, dest), dest);
        expectFiles(dest);
      }
      const viaRun = join(dir, 'models', 'run');
      await client.downloadModel(modelUri, viaRun);
      expectFiles(viaRun);
      // Downloading again replaces the directory.
      await client.downloadModel(modelUri, viaRun);
      expectFiles(viaRun);
      assert.ok(!readdirSync(join(dir, 'models')).some((n) => n.endsWith('.partial')));

      await assert.rejects(client.downloadModel('models:/UsedCarPriceModel/Archived', join(dir, 'x')), (e) =>
        isAppError(e, 'RESOURCE_DOES_NOT_EXIST'),
      );
      await assert.rejects(client.downloadModel('models:/UsedCarPriceModel@nobody', join(dir, 'x')), (e) =>
        isAppError(e, 'INVALID_PARAMETER_VALUE'),
      );
      await assert.rejects(client.resolveModelUri('models:/UsedCarPriceModel/Prod'), (e) =>
        isAppError(e, 'INVALID_PARAMETER_VALUE'),
      );
      await assert.rejects(client.downloadModel('models:/Nope/1', join(dir, 'x')), (e) =>
        isAppError(e, 'RESOURCE_DOES_NOT_EXIST'),
      );
    });

    it('refuses artifact paths that escape the run', async () => {
      const info = await client.startRun({ experimentName: 'UsedCarPrice' });
      const f = join(dir, 'f.txt');
      writeFileSync(f, 'x');
      await assert.rejects(client.logArtifact(info.runId, f, '../outside'), (e) =>
        isAppError(e, 'INVALID_PARAMETER_VALUE'),
      );
      await assert.rejects(client.logArtifact(info.runId, f, '/abs'), (e) => isAppError(e, 'INVALID_PARAMETER_VALUE'));
    });
  });
}

clientSuite('SQLite (embedded, local artifacts)', async (dir) => {
  const r = openStore(`sqlite:///${join(dir, 'mlflow.db')}`, { env: {}, cwd: dir });
  const client = new TrackingClient({ store: r.store, artifacts: r.artifacts });
  return { client, cleanup: () => client.close() };
});

clientSuite('REST (our server, proxied artifacts)', async (dir) => {
  const backend = new SqliteTrackingStore({ path: join(dir, 'server.db'), defaultArtifactRoot: 'mlflow-artifacts:' });
  const app = await buildTrackingServer({
    store: backend,
    artifactsDestination: new LocalArtifactRepository(join(dir, 'mlartifacts')),
    users: 'alice:s3cret',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const r = openStore(`http://127.0.0.1:${port}`, {
    env: {
      MLFLOW_TRACKING_USERNAME: 'alice',
      MLFLOW_TRACKING_PASSWORD: 's3cret',
      MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    },
    cwd: dir,
  });
  const client = new TrackingClient({ store: r.store, artifacts: r.artifacts });
  return {
    client,
    async cleanup() {
      await client.close();
      await app.close();
      await backend.close();
    },
  };
});

describe('resolveTrackingUri', () => {
  it('prefers the environment, then params.yaml, then the embedded default', () => {
    assert.equal(
      resolveTrackingUri({ env: { MLFLOW_TRACKING_URI: 'http://x:5000' }, paramsUri: 'sqlite:///p.db', cwd: '/proj' }),
      'http://x:5000',
    );
    assert.equal(
      resolveTrackingUri({ env: {}, paramsUri: 'https://dagshub.com/o/r.mlflow', cwd: '/proj' }),
      'https://dagshub.com/o/r.mlflow',
    );
    assert.equal(resolveTrackingUri({ env: {}, cwd: '/proj' }), 'sqlite:////proj/.carprice/mlflow.db');
  });
  it('reads sqlite URIs the SQLAlchemy way and rejects unknown schemes', () => {
    assert.equal(sqlitePathOf('sqlite:///rel/t.db', '/proj'), '/proj/rel/t.db');
    assert.equal(sqlitePathOf('sqlite:////abs/t.db', '/proj'), '/abs/t.db');
    assert.throws(
      () => openStore('ftp://x', { env: {}, cwd: '/proj' }),
      (e) => isAppError(e, 'CONFIG_INVALID'),
    );
  });
});
