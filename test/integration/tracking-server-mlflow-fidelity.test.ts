/**
 * Wire details and endpoints where carprice's server must answer as MLflow 3.5 does
 * (issue 18, items 9 and 10), checked on the raw bytes of a real HTTP server over a real
 * SQLite file: search-runs page tokens on an exactly full page, "" for unset description,
 * run_id and run_link, no model_id on model versions, doubles written as Python floats
 * (1.0), OPTIONS 204, /get-artifact, /model-versions/get-artifact, logged-model artifact
 * files and /graphql with the queries MLflow's UI sends.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';
import { buildTrackingServer } from '../../src/tracking/server/build-tracking-server.js';
import { LocalArtifactRepository } from '../../src/tracking/artifacts/local-artifact-repository.js';
import { pythonFloatRepr, toWireJson, WireDouble } from '../../src/tracking/protocol/codec.js';

type J = Record<string, unknown>;

describe('tracking server fidelity to MLflow 3.5', () => {
  let dir: string;
  let store: SqliteTrackingStore;
  let app: FastifyInstance;
  let base: string;

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
    }
    const res = await fetch(base + path, init);
    const text = await res.text();
    let json: J | undefined;
    try {
      json = JSON.parse(text) as J;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, headers: res.headers };
  }
  const put = (path: string, body: string) =>
    fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${path}`, { method: 'PUT', body });

  async function newRun(experimentId = '0'): Promise<string> {
    const r = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId });
    return ((r.json?.run as J).info as J).run_id as string;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'carprice-fidelity-'));
    store = new SqliteTrackingStore({ path: join(dir, 'db.sqlite'), defaultArtifactRoot: 'mlflow-artifacts:' });
    app = await buildTrackingServer({
      store,
      artifactsDestination: new LocalArtifactRepository(join(dir, 'mlartifacts')),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('item 9: wire details', () => {
    it('gives a page token on an exactly full last page of runs, then an empty page', async () => {
      const exp = (await call('POST', '/api/2.0/mlflow/experiments/create', { name: 'paging' })).json
        ?.experiment_id as string;
      for (let i = 0; i < 4; i++) await newRun(exp);
      const p1 = await call('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [exp], max_results: 2 });
      assert.equal((p1.json?.runs as J[]).length, 2);
      const p2 = await call('POST', '/api/2.0/mlflow/runs/search', {
        experiment_ids: [exp],
        max_results: 2,
        page_token: p1.json?.next_page_token,
      });
      assert.equal((p2.json?.runs as J[]).length, 2);
      assert.equal(typeof p2.json?.next_page_token, 'string');
      const p3 = await call('POST', '/api/2.0/mlflow/runs/search', {
        experiment_ids: [exp],
        max_results: 2,
        page_token: p2.json?.next_page_token,
      });
      assert.deepEqual(p3.json, {});
      // Registry and experiment searches stay exact, as in MLflow (they read max_results + 1 rows).
      const e = await call('POST', '/api/2.0/mlflow/experiments/search', { max_results: 2, filter: "name = 'paging'" });
      assert.equal(e.json?.next_page_token, undefined);
    });

    it('answers "" for a version\'s unset description, run_id and run_link, no description on a model, and no model_id on versions', async () => {
      // MLflow 3.5 leaves an unset description out of a registered model (create and get:
      // setup-model and query-list-model-name in mlflow-3.5-hostile) but answers "" on versions.
      const rm = await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'Fidelity' });
      assert.equal('description' in (rm.json?.registered_model as J), false);
      const gotModel = await call('GET', '/api/2.0/mlflow/registered-models/get?name=Fidelity');
      assert.equal('description' in (gotModel.json?.registered_model as J), false);
      const v = await call('POST', '/api/2.0/mlflow/model-versions/create', {
        name: 'Fidelity',
        source: 's3://bucket/model',
      });
      const mv = v.json?.model_version as J;
      assert.equal(mv.description, '');
      assert.equal(mv.run_link, '');
      assert.equal(mv.run_id, '');
      assert.equal('model_id' in mv, false);
      const lm = await call('POST', '/api/2.0/mlflow/logged-models', { experiment_id: '0', name: 'm' });
      const modelId = ((lm.json?.model as J).info as J).model_id as string;
      const fromModel = await call('POST', '/api/2.0/mlflow/model-versions/create', {
        name: 'Fidelity',
        source: `models:/${modelId}`,
        model_id: modelId,
      });
      assert.equal(fromModel.status, 200, fromModel.text);
      assert.equal('model_id' in (fromModel.json?.model_version as J), false);
      const got = await call('GET', '/api/2.0/mlflow/model-versions/get?name=Fidelity&version=1');
      assert.equal((got.json?.model_version as J).description, '');
      assert.equal((got.json?.model_version as J).run_link, '');
    });

    it('writes metric values as Python floats, as MLflow does', async () => {
      const runId = await newRun();
      await call('POST', '/api/2.0/mlflow/runs/log-batch', {
        run_id: runId,
        metrics: [
          { key: 'one', value: 1, timestamp: 1, step: 0 },
          { key: 'big', value: 1e16, timestamp: 1, step: 0 },
          { key: 'tiny', value: 0.00001, timestamp: 1, step: 0 },
          { key: 'tenth', value: 0.1, timestamp: 1, step: 0 },
        ],
      });
      const run = await call('GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`);
      assert.match(run.text, /"key":"one","value":1\.0,"timestamp":1,"step":0/);
      assert.match(run.text, /"key":"big","value":1e\+16,/);
      assert.match(run.text, /"key":"tiny","value":1e-05,/);
      assert.match(run.text, /"key":"tenth","value":0\.1,/);
      const history = await call('GET', `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=one`);
      assert.equal(history.text, '{"metrics":[{"key":"one","value":1.0,"timestamp":1,"step":0}]}');
      const cases: [number, string][] = [
        [1, '1.0'],
        [-0, '-0.0'],
        [-2.5, '-2.5'],
        [1e15, '1000000000000000.0'],
        [1e16, '1e+16'],
        [1.5e16, '1.5e+16'],
        [0.0001, '0.0001'],
        [1.5e-7, '1.5e-07'],
        [123.456, '123.456'],
        [5e-324, '5e-324'],
        [1.7976931348623157e308, '1.7976931348623157e+308'],
      ];
      for (const [x, py] of cases) assert.equal(pythonFloatRepr(x), py, String(x));
      assert.equal(toWireJson({ a: [new WireDouble(2), 'NaN', 3], b: undefined }), '{"a":[2.0,"NaN",3]}');
    });

    it('answers OPTIONS with 204 and no body', async () => {
      for (const path of [
        '/api/2.0/mlflow/runs/create',
        '/ajax-api/2.0/mlflow/runs/search',
        '/api/2.0/mlflow-artifacts/artifacts/0/x',
      ]) {
        const r = await call('OPTIONS', path, undefined, {
          Origin: 'http://localhost:3000',
          'Access-Control-Request-Method': 'POST',
        });
        assert.equal(r.status, 204, path);
        assert.equal(r.text, '');
        assert.equal(r.headers.get('access-control-allow-origin'), 'http://localhost:3000');
      }
      assert.equal((await call('GET', '/health')).headers.get('x-content-type-options'), 'nosniff');
    });
  });

  describe('item 10: endpoints for the UI and other clients', () => {
    let runId: string;
    let modelId: string;
    before(async () => {
      runId = await newRun();
      assert.equal((await put(`0/${runId}/artifacts/model/MLmodel`, 'flavors: {}\n')).status, 200);
      assert.equal((await put(`0/${runId}/artifacts/notes.txt`, 'hello')).status, 200);
      const lm = await call('POST', '/api/2.0/mlflow/logged-models', { experiment_id: '0', name: 'files' });
      modelId = ((lm.json?.model as J).info as J).model_id as string;
      assert.equal((await put(`0/models/${modelId}/artifacts/MLmodel`, 'logged: true\n')).status, 200);
    });

    it('serves /get-artifact', async () => {
      const r = await call('GET', `/get-artifact?run_id=${runId}&path=model/MLmodel`);
      assert.equal(r.status, 200);
      assert.equal(r.text, 'flavors: {}\n');
      assert.equal(r.headers.get('content-disposition'), 'attachment; filename=MLmodel');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(
        (await call('GET', `/get-artifact?run_uuid=${runId}&path=notes.txt`)).headers.get('content-type'),
        'text/plain',
      );
      const missing = await call('GET', `/get-artifact?run_id=${runId}`);
      assert.equal(missing.status, 400);
      assert.equal(missing.json?.error_code, 'INVALID_PARAMETER_VALUE');
      assert.equal((await call('GET', `/get-artifact?run_id=${'0'.repeat(32)}&path=x`)).status, 404);
      assert.equal((await call('GET', `/get-artifact?run_id=${runId}&path=model`)).status, 404);
      assert.equal((await call('GET', `/get-artifact?run_id=${runId}&path=../x`)).status, 400);
    });

    it('serves /model-versions/get-artifact for runs:/, mlflow-artifacts: and models:/ sources', async () => {
      await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'Files' });
      await call('POST', '/api/2.0/mlflow/model-versions/create', {
        name: 'Files',
        source: `runs:/${runId}/model`,
        run_id: runId,
      });
      await call('POST', '/api/2.0/mlflow/model-versions/create', {
        name: 'Files',
        source: `mlflow-artifacts:/0/${runId}/artifacts/model`,
        run_id: runId,
      });
      await call('POST', '/api/2.0/mlflow/model-versions/create', {
        name: 'Files',
        source: `models:/${modelId}`,
        model_id: modelId,
      });
      for (const [version, text] of [
        ['1', 'flavors: {}\n'],
        ['2', 'flavors: {}\n'],
        ['3', 'logged: true\n'],
      ]) {
        const r = await call('GET', `/model-versions/get-artifact?name=Files&version=${version}&path=MLmodel`);
        assert.equal(r.status, 200, `version ${version}: ${r.text}`);
        assert.equal(r.text, text);
      }
      assert.equal((await call('GET', '/model-versions/get-artifact?name=Files&version=9&path=MLmodel')).status, 404);
    });

    it('serves logged-model artifact files under /ajax-api', async () => {
      const r = await call(
        'GET',
        `/ajax-api/2.0/mlflow/logged-models/${modelId}/artifacts/files?artifact_file_path=MLmodel`,
      );
      assert.equal(r.status, 200);
      assert.equal(r.text, 'logged: true\n');
      const missing = await call('GET', `/ajax-api/2.0/mlflow/logged-models/${modelId}/artifacts/files`);
      assert.equal(missing.status, 400);
      assert.deepEqual(missing.json, {
        error_code: 'BAD_REQUEST',
        message: 'Request must include the "artifact_file_path" query parameter.',
      });
      assert.equal(
        (
          await call(
            'GET',
            `/ajax-api/2.0/mlflow/logged-models/m-${'0'.repeat(32)}/artifacts/files?artifact_file_path=MLmodel`,
          )
        ).status,
        404,
      );
    });

    describe('/graphql', () => {
      const gql = (query: string, variables?: unknown) => call('POST', '/graphql', { query, variables });

      it("answers the UI's GetRun query with protobuf defaults, NaN as null and the run's model versions", async () => {
        await call('POST', '/api/2.0/mlflow/runs/log-batch', {
          run_id: runId,
          metrics: [
            { key: 'rmse', value: 'NaN', timestamp: 3, step: 0 },
            { key: 'r2', value: 0.94, timestamp: 3, step: 0 },
          ],
          params: [{ key: 'alpha', value: '0.1' }],
        });
        const r = await gql(
          `query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.ExperimentRunTracking") {
            mlflowGetRun(input: $data) {
              apiError { helpUrl code message }
              run {
                info { runName status runUuid experimentId artifactUri endTime lifecycleStage startTime userId }
                experiment { experimentId name tags { key value } artifactLocation lifecycleStage lastUpdateTime }
                modelVersions { status version name source }
                data { metrics { key value step timestamp } params { key value } tags { key value } }
                inputs { datasetInputs { dataset { digest name profile schema source sourceType } tags { key value } } modelInputs { modelId } }
                outputs { modelOutputs { modelId step } }
              }
            }
          }`,
          { data: { runId } },
        );
        assert.equal(r.status, 200);
        assert.equal(r.json?.errors, null);
        const got = (r.json?.data as J).mlflowGetRun as J;
        assert.equal(got.apiError, null);
        const run = got.run as J;
        const info = run.info as J;
        assert.equal(info.runUuid, runId);
        assert.equal(info.status, 'RUNNING');
        assert.equal(info.endTime, '0');
        assert.equal(typeof info.startTime, 'string');
        assert.deepEqual((run.experiment as J).name, 'Default');
        assert.deepEqual(
          ((run.data as J).metrics as J[]).map((m) => [m.key, m.value, m.step]),
          [
            ['r2', 0.94, '0'],
            ['rmse', null, '0'],
          ],
        );
        assert.deepEqual((run.data as J).params, [{ key: 'alpha', value: '0.1' }]);
        assert.deepEqual(run.inputs, { datasetInputs: [], modelInputs: [] });
        assert.deepEqual(run.outputs, { modelOutputs: [] });
        assert.deepEqual((run.modelVersions as J[]).map((v) => [v.name, v.version, v.status]).sort(), [
          ['Files', '1', 'READY'],
          ['Files', '2', 'READY'],
        ]);
      });

      it('answers SearchRuns, MlflowGetExperimentQuery and GetMetricHistoryBulkInterval', async () => {
        const s = await gql(
          `query SearchRuns($data: MlflowSearchRunsInput!) { mlflowSearchRuns(input: $data) { apiError { code } runs { info { runUuid } experiment { experimentId } } } }`,
          { data: { experimentIds: ['0'], filter: `attributes.run_id = '${runId}'`, runViewType: 'ACTIVE_ONLY' } },
        );
        assert.deepEqual(s.json, {
          data: {
            mlflowSearchRuns: {
              apiError: null,
              runs: [{ info: { runUuid: runId }, experiment: { experimentId: '0' } }],
            },
          },
          errors: null,
        });
        const e = await gql(
          `query MlflowGetExperimentQuery($input: MlflowGetExperimentInput!) @component(name: "MLflow.ExperimentRunTracking") {
            mlflowGetExperiment(input: $input) { apiError { code message } experiment { experimentId name lifecycleStage tags { key value } } } }`,
          { input: { experimentId: '0' } },
        );
        assert.deepEqual(e.json?.data, {
          mlflowGetExperiment: {
            apiError: null,
            experiment: { experimentId: '0', name: 'Default', lifecycleStage: 'active', tags: [] },
          },
        });
        const other = await newRun();
        const metrics = [];
        for (let step = 0; step < 10; step++)
          metrics.push({ key: 'loss', value: 10 - step, timestamp: 100 + step, step });
        await call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: other, metrics });
        const b = await gql(
          `query GetMetricHistoryBulkInterval($data: MlflowGetMetricHistoryBulkIntervalInput!) @component(name: "MLflow.ExperimentRunTracking") {
            mlflowGetMetricHistoryBulkInterval(input: $data) { __typename metrics { timestamp step runId key value } apiError { code message } } }`,
          { data: { runIds: [other], metricKey: 'loss', maxResults: 4 } },
        );
        const out = (b.json?.data as J).mlflowGetMetricHistoryBulkInterval as J;
        assert.equal(out.__typename, 'MlflowGetMetricHistoryBulkIntervalResponse');
        // 10 steps sampled to 4 at interval 2.5 (steps 0, 2, 5, 7) plus the last step, 9.
        assert.deepEqual(
          (out.metrics as J[]).map((m) => [m.step, m.value, m.runId]),
          [
            ['0', 10, other],
            ['2', 8, other],
            ['5', 5, other],
            ['7', 3, other],
            ['9', 1, other],
          ],
        );
      });

      it('answers errors in the errors list and enforces MLflow query bounds', async () => {
        const missing = await gql(
          `query { mlflowGetRun(input: {runId: "${'0'.repeat(32)}"}) { run { info { runUuid } } } }`,
        );
        assert.equal(missing.status, 200);
        assert.deepEqual((missing.json?.data as J).mlflowGetRun, null);
        assert.match(String((missing.json?.errors as string[])[0]), /not found/);
        const syntax = await gql('{ nope');
        assert.equal(syntax.status, 200);
        assert.equal(syntax.json?.data, null);
        assert.equal((syntax.json?.errors as string[]).length, 1);
        const deep = await gql(`query { ${'a { '.repeat(10)}b${' }'.repeat(10)} }`);
        assert.deepEqual(deep.json?.errors, ['Query exceeds maximum depth of 10']);
        const wide = await gql(
          `query { ${Array.from({ length: 11 }, (_, i) => `t${i}: test(inputString: "a") { output }`).join(' ')} }`,
        );
        assert.match(String((wide.json?.errors as string[])[0]), /at most 10 root fields, got 11 root fields/);
        const get = await call('GET', `/graphql?query=${encodeURIComponent('{ test(inputString: "hi") { output } }')}`);
        assert.deepEqual(get.json, { data: { test: { output: 'hi' } }, errors: null });
        assert.equal((await call('POST', '/graphql', 'query=x', { 'Content-Type': 'text/plain' })).status, 400);
        assert.equal((await call('POST', '/graphql', {})).status, 400);
      });
    });
  });
});
