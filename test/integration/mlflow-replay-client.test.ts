/**
 * carprice's REST client against recorded real MLflow servers (3.5 and 2.22; fixtures in
 * test/fixtures/mlflow, made by scripts/record-mlflow-fixtures.mjs): a replay server answers
 * with what MLflow really sent, and checks that the client sends byte for byte what MLflow
 * accepted. The assertions name MLflow's own behaviour (values as it serialises them,
 * its page tokens, its error codes), so a codec bug on both sides cannot cancel out as it
 * could in a closed loop against carprice's own server. Also issue 18.11: against servers
 * without artifact proxying, the local artifact path they hand out is refused with what to
 * do, and their permanent 503 fails at once with the server's message.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError, type AppError } from '../../src/core/errors.js';
import { RestTrackingStore } from '../../src/tracking/rest/rest-tracking-store.js';
import { ArtifactResolver, isLoopbackUrl } from '../../src/tracking/artifacts/resolve-artifact-repository.js';
import { fixtureWorkflow, localArtifactsWorkflow, T0 } from '../fixtures/mlflow/workflow.js';
import { loadRecording, startReplayServer } from '../helpers/mlflow-fixtures.js';

for (const [name, version, loggedModels] of [
  ['mlflow-3.5-workflow', '3.5', true],
  ['mlflow-2.22-workflow', '2.22', false],
] as const) {
  describe(`REST client replaying real MLflow ${version}`, () => {
    it('sends what MLflow accepted and reads what it answered, for the whole workflow', async () => {
      const recording = loadRecording(name);
      const replay = await startReplayServer(recording);
      const sleeps: number[] = [];
      try {
        const store = new RestTrackingStore({
          trackingUri: replay.url,
          env: {},
          maxRetries: 0,
          sleep: async (ms) => void sleeps.push(ms),
        });
        const r = await fixtureWorkflow({ store, step: () => undefined, loggedModels });
        assert.deepEqual(replay.mismatches, []);
        assert.equal(replay.served(), recording.exchanges.length, 'every recorded exchange was used');

        // Logging: values as MLflow serialised them (1.0, "NaN"); +inf, which MLflow's SQL store
        // answers as the largest double, is read back as Infinity.
        const metrics = Object.fromEntries(r.run.data.metrics.map((m) => [m.key, m.value]));
        assert.equal(metrics.r2, 0.94091);
        assert.equal(metrics.one, 1);
        assert.ok(Number.isNaN(metrics.nan));
        assert.equal(metrics.inf, Infinity);
        assert.equal(metrics.loss, 0.25, 'the run shows the latest step');
        assert.deepEqual(
          r.run.data.params.map((p) => `${p.key}=${p.value}`),
          ['alpha=0.5', 'members=ridge,gbdt', 'seed=42'],
        );
        assert.equal(r.run.info.status, 'FINISHED');
        assert.equal(r.run.info.startTime, T0);
        assert.equal(r.run.info.endTime, T0 + 10);
        assert.equal(r.run.info.runName, 'ridge-a');
        assert.match(r.run.info.artifactUri, /^mlflow-artifacts:\/1\/[0-9a-f]{32}\/artifacts$/);
        assert.deepEqual(
          r.run.inputs.datasetInputs.map((d) => [d.dataset.name, d.dataset.digest]),
          [['cars24', 'abc123']],
        );
        assert.deepEqual(
          r.history.map((m) => [m.step, m.value, m.timestamp]),
          [
            [1, 0.5, T0 + 2],
            [2, 0.25, T0 + 3],
          ],
        );

        // Paging: MLflow's run search hands out a token after an exactly full page, then an
        // empty page; its experiment search does not (3 experiments, max_results 3).
        assert.deepEqual(r.runPages, [
          { size: 3, token: true },
          { size: 3, token: true },
          { size: 0, token: false },
        ]);
        assert.deepEqual(r.experimentPages, [{ size: 3, token: false }]);
        assert.deepEqual(r.filteredRunNames, ['page-5', 'ridge-a', 'page-3']);

        // Registry: stages with archive_existing_versions, aliases, tags, descriptions.
        assert.deepEqual(
          r.latest.map((v) => `${v.version}:${v.currentStage}`),
          ['1:Archived', '2:Production'],
        );
        assert.equal(r.byAlias.version, '2');
        assert.deepEqual(r.byAlias.aliases, ['champion']);
        assert.deepEqual(r.versionsFound, ['1:Archived', '2:Production']);
        assert.deepEqual(r.registeredModelAliases, [{ alias: 'champion', version: '2' }]);
        assert.equal(r.downloadUri, `${r.run.info.artifactUri}/model`);
        assert.match(r.afterAliasDelete, /^INVALID_PARAMETER_VALUE: Registered model alias old not found\.$/);

        // Errors: MLflow's codes and messages reach the caller unchanged.
        const codes = Object.fromEntries(Object.entries(r.errors).map(([k, v]) => [k, v.split(':')[0]]));
        assert.deepEqual(codes, {
          paramChange: 'INVALID_PARAMETER_VALUE',
          missingRun: 'RESOURCE_DOES_NOT_EXIST',
          duplicateExperiment: 'RESOURCE_ALREADY_EXISTS',
          missingExperiment: 'RESOURCE_DOES_NOT_EXIST',
          missingModel: 'RESOURCE_DOES_NOT_EXIST',
          missingVersion: 'RESOURCE_DOES_NOT_EXIST',
          badStage: 'INVALID_PARAMETER_VALUE',
          missingArtifact: 'INTERNAL_ERROR',
        });
        assert.match(
          r.errors.paramChange,
          /Changing param values is not allowed\. Param with key='alpha' was already logged with value='0\.5'/,
        );
        assert.equal(
          r.errors.missingRun,
          'RESOURCE_DOES_NOT_EXIST: Run with id=00000000000000000000000000000000 not found',
        );

        // Proxied artifacts: listing with sizes, contents.
        assert.deepEqual(r.artifactListing, ['metrics.json 15', 'model/', 'model/MLmodel 33', 'model/bundle.json 26']);
        assert.equal(r.artifactText, 'artifact_path: model\nflavors: {}\n');

        if (loggedModels)
          assert.deepEqual(r.loggedModel, { status: 'LOGGED_MODEL_READY', params: ['alpha=0.5', 'l1_ratio=0'] });
        assert.deepEqual(sleeps, []);
      } finally {
        await replay.close();
      }
    });
  });
}

for (const [name, version] of [
  ['mlflow-2.22-no-serve-artifacts', '2.22'],
  ['mlflow-3.5-no-serve-artifacts', '3.5'],
] as const) {
  describe(`MLflow ${version} without artifact proxying (issue 18.11)`, () => {
    it('refuses the plain server path it hands out, and fails at once on its permanent 503', async () => {
      const recording = loadRecording(name);
      const replay = await startReplayServer(recording);
      const sleeps: number[] = [];
      try {
        // Default retry settings: the 503 must not be retried.
        const store = new RestTrackingStore({
          trackingUri: replay.url,
          env: {},
          sleep: async (ms) => void sleeps.push(ms),
        });
        const r = await localArtifactsWorkflow(store, () => undefined);
        assert.deepEqual(replay.mismatches, []);
        assert.equal(replay.served(), recording.exchanges.length, 'one PUT, no retries');
        assert.deepEqual(sleeps, []);
        assert.match(
          r.proxyWrite,
          /^TEMPORARILY_UNAVAILABLE: the MLflow server at http:\/\/127\.0\.0\.1:\d+\/ does not serve artifacts \(HTTP 503: Endpoint: .*--no-serve-artifacts/,
        );
        assert.match(
          r.proxyWrite,
          /start it with artifact proxying \(mlflow server --serve-artifacts --artifacts-destination/,
        );

        assert.match(
          r.localArtifactUri,
          new RegExp(`^/srv/mlflow-${version.replace('.', '\\.')}-plain/artifacts/1/[0-9a-f]{32}/artifacts$`),
        );
        // A server elsewhere: its disk is not ours.
        const remote = new ArtifactResolver({ env: {}, http: store.http, serverSharesDisk: false });
        assert.throws(
          () => remote.repositoryFor(r.localArtifactUri),
          (e: unknown) => {
            assert.ok(isAppError(e, 'CONFIG_INVALID'));
            const m = (e as AppError).message;
            assert.ok(
              m.includes(`hands out the artifact location '${r.localArtifactUri}', a path on the server's own disk`),
              m,
            );
            assert.match(m, /--serve-artifacts --artifacts-destination <dir>.*s3:\/\/bucket\/path/);
            return true;
          },
        );
        assert.throws(
          () => remote.repositoryFor(`file://${r.localArtifactUri}`),
          (e: unknown) => isAppError(e, 'CONFIG_INVALID'),
        );
        // The same server on this machine shares the disk (the replay server is on 127.0.0.1).
        const local = new ArtifactResolver({ env: {}, http: store.http });
        assert.equal(local.repositoryFor(r.localArtifactUri).rootUri, r.localArtifactUri);
      } finally {
        await replay.close();
      }
    });
  });
}

describe('which tracking hosts share this machine’s disk', () => {
  it('counts loopback names and addresses only', () => {
    for (const u of [
      'http://localhost:5000',
      'http://127.0.0.1:5000',
      'http://127.1.2.3',
      'http://[::1]:5000',
      'https://app.localhost/x',
    ])
      assert.equal(isLoopbackUrl(u), true, u);
    for (const u of ['https://dagshub.com/o/r.mlflow', 'http://10.0.0.5:5000', 'http://mlflow.internal', 'not a url'])
      assert.equal(isLoopbackUrl(u), false, u);
  });
});
