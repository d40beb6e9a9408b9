/**
 * The tracking server on the wire, with raw HTTP: MLflow's error JSON and status for bad
 * requests (malformed JSON, wrong types, missing fields, wrong Content-Type, unknown
 * endpoints, unsafe paths), the response encoding (omitted empty lists, int64 numbers,
 * NaN strings), /ajax-api mirrors, /health, /version, basic auth and proxied artifacts.
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

describe('tracking server wire format', () => {
  let dir: string;
  let store: SqliteTrackingStore;
  let app: FastifyInstance;
  let base: string;
  const auth = { Authorization: 'Basic ' + Buffer.from('bob:pw').toString('base64') };

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = { method, headers: { ...auth, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
    }
    const res = await fetch(base + path, init);
    const text = await res.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'carprice-wire-'));
    store = new SqliteTrackingStore({ path: join(dir, 'db.sqlite'), defaultArtifactRoot: 'mlflow-artifacts:' });
    app = await buildTrackingServer({
      store,
      artifactsDestination: new LocalArtifactRepository(join(dir, 'art')),
      users: 'bob:pw',
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers /health without auth and /version', async () => {
    assert.equal((await fetch(base + '/health')).status, 200);
    assert.equal(await (await fetch(base + '/health')).text(), 'OK');
    assert.equal((await call('GET', '/version')).text, '3.5.0');
  });

  it('asks for credentials like MLflow basic-auth', async () => {
    const res = await fetch(base + '/api/2.0/mlflow/experiments/get?experiment_id=0');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="mlflow"');
    const wrong = await fetch(base + '/api/2.0/mlflow/experiments/get?experiment_id=0', {
      headers: { Authorization: 'Basic ' + Buffer.from('bob:nope').toString('base64') },
    });
    assert.equal(wrong.status, 401);
  });

  it('serves scenario 1 and omits empty lists', async () => {
    const c = await call('POST', '/api/2.0/mlflow/experiments/create', { name: 'wire' });
    assert.equal(c.status, 200);
    assert.equal(typeof c.json?.experiment_id, 'string');
    const g = await call('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${c.json?.experiment_id}`);
    const e = g.json?.experiment as Record<string, unknown>;
    assert.equal(e.name, 'wire');
    assert.equal(e.lifecycle_stage, 'active');
    assert.equal(typeof e.creation_time, 'number');
    assert.equal('tags' in e, false);
    const s = await call('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [c.json?.experiment_id] });
    assert.deepEqual(s.json, {});
    const ajax = await call('GET', `/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=wire`);
    assert.equal((ajax.json?.experiment as Record<string, unknown>).experiment_id, c.json?.experiment_id);
  });

  it('reports missing and ill-typed fields with MLflow messages (scenarios 3, 17)', async () => {
    const missing = await call('POST', '/api/2.0/mlflow/experiments/create', {});
    assert.equal(missing.status, 400);
    assert.equal(missing.json?.error_code, 'INVALID_PARAMETER_VALUE');
    assert.match(String(missing.json?.message), /Missing value for required parameter 'name'/);
    const empty = await call('POST', '/api/2.0/mlflow/experiments/create', { name: '' });
    assert.match(String(empty.json?.message), /Missing value for required parameter 'name'/);
    const run = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', start_time: '5' });
    const runId = ((run.json?.run as Record<string, unknown>).info as Record<string, unknown>).run_id as string;
    assert.equal(((run.json?.run as Record<string, unknown>).info as Record<string, unknown>).start_time, 5);
    const noTs = await call('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'm', value: 1 });
    assert.equal(noTs.status, 400);
    assert.match(String(noTs.json?.message), /Missing value for required parameter 'timestamp'/);
    const badValue = await call('POST', '/api/2.0/mlflow/runs/log-metric', {
      run_id: runId,
      key: 'm',
      value: 'abc',
      timestamp: 1,
    });
    assert.equal(badValue.status, 400);
    assert.match(
      String(badValue.json?.message),
      /Invalid value "abc" for parameter 'value' supplied. Hint: Value was of type 'str'/,
    );
    const badList = await call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics: 'nope' });
    assert.equal(badList.json?.error_code, 'INVALID_PARAMETER_VALUE');
    const badEnum = await call('POST', '/api/2.0/mlflow/runs/update', { run_id: runId, status: 'DONE' });
    assert.equal(badEnum.json?.error_code, 'INVALID_PARAMETER_VALUE');
    const badBool = await call('GET', '/api/2.0/mlflow/experiments/search?max_results=10&view_type=SOMETIMES');
    assert.equal(badBool.status, 400);
    // NaN travels as a string both ways; run_uuid is accepted for run_id.
    const nan = await call('POST', '/api/2.0/mlflow/runs/log-metric', {
      run_uuid: runId,
      key: 'nan',
      value: 'NaN',
      timestamp: '7',
    });
    assert.equal(nan.status, 200);
    const got = await call('GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`);
    const metrics = ((got.json?.run as Record<string, unknown>).data as Record<string, unknown>).metrics as Record<
      string,
      unknown
    >[];
    assert.deepEqual(metrics, [{ key: 'nan', value: 'NaN', timestamp: 7, step: 0 }]);
  });

  it('turns malformed bodies and wrong content types into 400 JSON', async () => {
    const bad = await call('POST', '/api/2.0/mlflow/experiments/create', '{"name": ');
    assert.equal(bad.status, 400);
    assert.equal(bad.json?.error_code, 'INVALID_PARAMETER_VALUE');
    const arr = await call('POST', '/api/2.0/mlflow/experiments/create', '[1,2]');
    assert.equal(arr.status, 400);
    const text = await call('POST', '/api/2.0/mlflow/experiments/create', 'name=x', { 'Content-Type': 'text/plain' });
    assert.equal(text.status, 400);
    assert.match(String(text.json?.message), /Content-Type must be one of \[application\/json\]/);
    const weird = await call('POST', '/api/2.0/mlflow/experiments/create', '{}', { 'Content-Type': '///' });
    assert.equal(weird.status, 400);
    assert.equal(weird.json?.error_code, 'INVALID_PARAMETER_VALUE');
    const charset = await call(
      'POST',
      '/api/2.0/mlflow/experiments/create',
      { name: 'charset' },
      { 'Content-Type': 'application/json; charset=utf-8' },
    );
    assert.equal(charset.status, 200);
    const doubled = await call(
      'POST',
      '/api/2.0/mlflow/experiments/create',
      JSON.stringify(JSON.stringify({ name: 'legacy' })),
    );
    assert.equal(doubled.status, 200);
  });

  it('answers unknown endpoints with ENDPOINT_NOT_FOUND and unknown entities with 404', async () => {
    const unknown = await call('GET', '/api/2.0/mlflow/nothing/here');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json?.error_code, 'ENDPOINT_NOT_FOUND');
    // A known endpoint with the wrong method: 405 with Allow, as MLflow (Flask) answers.
    const wrongMethod = await call('GET', '/api/2.0/mlflow/runs/create');
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.json?.error_code, 'ENDPOINT_NOT_FOUND');
    assert.match(
      String(wrongMethod.json?.message),
      /GET is not allowed on \/api\/2\.0\/mlflow\/runs\/create: use POST/,
    );
    const wrongPathMethod = await call('GET', '/api/2.0/mlflow/logged-models/m-1/tags');
    assert.equal(wrongPathMethod.status, 405);
    assert.equal(wrongPathMethod.headers.get('allow'), 'PATCH, OPTIONS');
    const run = await call('GET', `/api/2.0/mlflow/runs/get?run_id=${'0'.repeat(32)}`);
    assert.equal(run.status, 404);
    assert.equal(run.json?.error_code, 'RESOURCE_DOES_NOT_EXIST');
    const dup = await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'M' });
    assert.equal(dup.status, 200);
    const dup2 = await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'M' });
    assert.equal(dup2.status, 400);
    assert.equal(dup2.json?.error_code, 'RESOURCE_ALREADY_EXISTS');
    const del = await call('DELETE', '/api/2.0/mlflow/registered-models/delete', undefined);
    assert.equal(del.status, 400);
    const alias = await call('GET', '/api/2.0/mlflow/registered-models/alias?name=M&alias=champion');
    assert.equal(alias.status, 400);
    const renamedDeleted = await call('POST', '/api/2.0/mlflow/experiments/create', { name: 'doomed' });
    await call('POST', '/api/2.0/mlflow/experiments/delete', { experiment_id: renamedDeleted.json?.experiment_id });
    const rename = await call('POST', '/api/2.0/mlflow/experiments/update', {
      experiment_id: renamedDeleted.json?.experiment_id,
      new_name: 'x',
    });
    assert.equal(rename.status, 500);
    assert.equal(rename.json?.error_code, 'INVALID_STATE');
  });

  it('serves get-latest-versions over GET with repeated stages', async () => {
    await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'M', source: 's3://b/1' });
    await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'M', source: 's3://b/2' });
    await call('POST', '/api/2.0/mlflow/model-versions/transition-stage', {
      name: 'M',
      version: '2',
      stage: 'Staging',
      archive_existing_versions: false,
    });
    const r = await call(
      'GET',
      '/api/2.0/mlflow/registered-models/get-latest-versions?name=M&stages=None&stages=Staging',
    );
    const versions = (r.json?.model_versions as Record<string, unknown>[])
      .map((v) => `${v.current_stage}:${v.version}`)
      .sort();
    assert.deepEqual(versions, ['None:1', 'Staging:2']);
  });

  it('proxies artifacts: upload, list, download, delete, and refuses unsafe paths', async () => {
    const run = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' });
    const runId = ((run.json?.run as Record<string, unknown>).info as Record<string, string>).run_id;
    const root = `0/${runId}/artifacts`;
    const put = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${root}/model/MLmodel`, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/octet-stream' },
      body: 'flavors: {}\n',
    });
    assert.equal(put.status, 200);
    const list = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${root}/model`);
    assert.deepEqual(list.json, { files: [{ path: 'MLmodel', is_dir: false, file_size: 12 }] });
    const get = await call('GET', `/api/2.0/mlflow-artifacts/artifacts/${root}/model/MLmodel`);
    assert.equal(get.text, 'flavors: {}\n');
    assert.equal(get.headers.get('content-disposition'), 'attachment; filename=MLmodel');
    const missing = await call('GET', '/api/2.0/mlflow-artifacts/artifacts/1/nothing');
    assert.equal(missing.status, 404);
    assert.equal(missing.json?.error_code, 'RESOURCE_DOES_NOT_EXIST');
    const evil = await call('GET', '/api/2.0/mlflow-artifacts/artifacts/1/..%2F..%2Fetc%2Fpasswd');
    assert.equal(evil.status, 400);
    assert.equal(evil.json?.error_code, 'INVALID_PARAMETER_VALUE');
    const evilList = await call('GET', '/api/2.0/mlflow-artifacts/artifacts?path=../../');
    assert.equal(evilList.status, 400);
    const del = await call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${root}/model`);
    assert.equal(del.status, 200);
    assert.deepEqual((await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${root}`)).json, {});
  });

  it("lists a run's artifacts through artifacts/list with run-relative paths", async () => {
    const run = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' });
    const info = (run.json?.run as Record<string, unknown>).info as Record<string, string>;
    assert.equal(info.artifact_uri, `mlflow-artifacts:/0/${info.run_id}/artifacts`);
    await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/0/${info.run_id}/artifacts/model/a.txt`, {
      method: 'PUT',
      headers: auth,
      body: 'abc',
    });
    const top = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${info.run_id}`);
    assert.deepEqual(top.json, { root_uri: info.artifact_uri, files: [{ path: 'model', is_dir: true }] });
    const inner = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${info.run_id}&path=model`);
    assert.deepEqual(inner.json?.files, [{ path: 'model/a.txt', is_dir: false, file_size: 3 }]);
    const bad = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${info.run_id}&path=../x`);
    assert.equal(bad.status, 400);
  });
});
