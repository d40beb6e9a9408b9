/**
 * The tracking server against hostile requests (issue 9, items 1, 9, 10, 11, 12, 16), with
 * a real HTTP server on 127.0.0.1, a real SQLite file and real files and symbolic links:
 * deletes and uploads only inside a run's or logged model's artifact root; links leading
 * out of the artifact root refused for read, list, write and delete; artifact names
 * decoded exactly once; bounded bodies and filters answered 400 in MLflow's JSON; 500s
 * logged; Host and Origin checks as MLflow 3.5; basic-auth configuration errors.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';
import { buildTrackingServer, type TrackingServerOptions } from '../../src/tracking/server/build-tracking-server.js';
import { LocalArtifactRepository } from '../../src/tracking/artifacts/local-artifact-repository.js';
import { subRepository } from '../../src/tracking/server/artifact-service.js';
import { authenticatedUser, parseUsers } from '../../src/tracking/server/basic-auth.js';
import { fnmatchRegExp, isAllowedHost } from '../../src/tracking/server/security.js';
import { isAppError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';

interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown> | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/** One raw HTTP request (node:http lets a test set Host and Origin). */
function raw(
  base: string,
  method: string,
  path: string,
  opts: { body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = request({ host: u.hostname, port: u.port, method, path, headers: opts.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function capturingLogger(lines: { level: string; msg: string }[]): Logger {
  const at =
    (level: string) =>
    (a: unknown, b?: string): void =>
      void lines.push({ level, msg: typeof a === 'string' ? a : (b ?? '') });
  const l: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => l };
  return l;
}

describe('tracking server safety', () => {
  let dir: string;
  let dest: string;
  let store: SqliteTrackingStore;
  let app: FastifyInstance;
  let base: string;
  const logs: { level: string; msg: string }[] = [];

  async function start(extra: Partial<TrackingServerOptions> = {}): Promise<{ app: FastifyInstance; base: string }> {
    const a = await buildTrackingServer({
      store,
      artifactsDestination: new LocalArtifactRepository(dest),
      logger: capturingLogger(logs),
      ...extra,
    });
    await a.listen({ host: '127.0.0.1', port: 0 });
    return { app: a, base: `http://127.0.0.1:${(a.server.address() as AddressInfo).port}` };
  }
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    raw(base, method, path, {
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    });
  const put = (path: string, body: string) => raw(base, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${path}`, { body });
  const onDisk = (...p: string[]) => join(dest, ...p);

  async function newRun(): Promise<{ runId: string; root: string }> {
    const r = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' });
    const runId = ((r.json?.run as Record<string, unknown>).info as Record<string, string>).run_id;
    return { runId, root: `0/${runId}/artifacts` };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'carprice-safety-'));
    dest = join(dir, 'mlartifacts');
    store = new SqliteTrackingStore({ path: join(dir, 'db.sqlite'), defaultArtifactRoot: 'mlflow-artifacts:' });
    ({ app, base } = await start());
  });
  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('item 1: deletes and uploads only inside a run or logged model artifact root', () => {
    it('refuses the destination root, experiment and run roots, in every spelling, and keeps the files', async () => {
      const { runId, root } = await newRun();
      assert.equal((await put(`${root}/model/MLmodel`, 'flavors: {}\n')).status, 200);
      const other = await newRun();
      assert.equal((await put(`${other.root}/keep.txt`, 'keep')).status, 200);
      const refused = [
        '',
        '.',
        '%2e',
        './',
        '0',
        `0/${runId}`,
        root,
        `${root}/`,
        `${root}/.`,
        `${root}/%2e`,
        `0/${'f'.repeat(32)}/artifacts/x`,
        'mlartifacts',
      ];
      for (const prefix of ['/api/2.0', '/ajax-api/2.0']) {
        for (const p of refused) {
          const r = await call('DELETE', `${prefix}/mlflow-artifacts/artifacts/${p}`);
          assert.equal(r.status, 400, `DELETE ${prefix} '${p}' answered ${r.status} ${r.text}`);
          assert.equal(r.json?.error_code, 'INVALID_PARAMETER_VALUE');
        }
      }
      // The bare folder is the list endpoint (GET only): 405, as Flask answers MLflow's route.
      const noSlash = await call('DELETE', '/api/2.0/mlflow-artifacts/artifacts');
      assert.equal(noSlash.status, 405);
      assert.equal(readFileSync(onDisk('0', runId, 'artifacts', 'model', 'MLmodel'), 'utf8'), 'flavors: {}\n');
      assert.equal(readFileSync(onDisk('0', other.runId, 'artifacts', 'keep.txt'), 'utf8'), 'keep');
      // Inside the run root a delete works, for a folder and a file.
      assert.equal((await call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${root}/model`)).status, 200);
      assert.equal(existsSync(onDisk('0', runId, 'artifacts', 'model')), false);
      assert.equal(
        (await call('DELETE', `/ajax-api/2.0/mlflow-artifacts/artifacts/${other.root}/keep.txt`)).status,
        200,
      );
      assert.equal(existsSync(onDisk('0', other.runId, 'artifacts', 'keep.txt')), false);
      assert.equal(existsSync(onDisk('0', other.runId, 'artifacts')), true);
    });

    it('scopes uploads the same way and never replaces a folder by a file', async () => {
      const { root } = await newRun();
      for (const p of ['x.txt', '0/x.txt', `0/${'e'.repeat(32)}/artifacts/x.txt`, '0/models/m-0/artifacts/x']) {
        const r = await put(p, 'x');
        assert.equal(r.status, 400, `PUT '${p}' answered ${r.status}`);
      }
      assert.equal(existsSync(onDisk('x.txt')), false);
      assert.equal((await put(`${root}/dir/inner.txt`, 'inner')).status, 200);
      const onFolder = await put(`${root}/dir`, 'flat');
      assert.equal(onFolder.status, 400);
      assert.match(String(onFolder.json?.message), /is a folder/);
      const throughFile = await put(`${root}/dir/inner.txt/deeper`, 'x');
      assert.equal(throughFile.status, 400);
      assert.equal(readFileSync(join(dest, root, 'dir', 'inner.txt'), 'utf8'), 'inner');
    });

    it('lets a logged model own its artifact root', async () => {
      const m = await call('POST', '/api/2.0/mlflow/logged-models', { experiment_id: '0', name: 'lm' });
      const info = (m.json?.model as Record<string, Record<string, string>>).info;
      const root = info.artifact_uri.replace(/^mlflow-artifacts:\//, '');
      assert.equal(root, `0/models/${info.model_id}/artifacts`);
      assert.equal((await put(`${root}/MLmodel`, 'm')).status, 200);
      assert.equal((await call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${root}`)).status, 400);
      assert.equal((await call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/0/models`)).status, 400);
      assert.equal((await call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${root}/MLmodel`)).status, 200);
    });

    it('refuses to delete a repository root at the store level too', async () => {
      const repo = new LocalArtifactRepository(join(dir, 'plain'));
      await repo.write('a/b.txt', Buffer.from('b'));
      for (const p of ['', '.', '/', './'])
        await assert.rejects(repo.delete(p), (e) => isAppError(e, 'INVALID_PARAMETER_VALUE'));
      await assert.rejects(subRepository(repo, 'a').delete(''), (e) => isAppError(e, 'INVALID_PARAMETER_VALUE'));
      assert.equal(readFileSync(join(dir, 'plain', 'a', 'b.txt'), 'utf8'), 'b');
    });
  });

  describe('item 10: symbolic links never lead out of the artifact root', () => {
    let outsideDir: string;
    let root: string;
    let runId: string;
    before(async () => {
      ({ root, runId } = await newRun());
      outsideDir = join(dir, 'outside');
      mkdirSync(outsideDir);
      writeFileSync(join(outsideDir, 'secret.txt'), 'secret');
      assert.equal((await put(`${root}/real/inside.txt`, 'inside')).status, 200);
      const runDir = join(dest, root);
      symlinkSync(outsideDir, join(runDir, 'link'));
      symlinkSync(join(outsideDir, 'secret.txt'), join(runDir, 'pw'));
      symlinkSync(join(runDir, 'real'), join(runDir, 'alias'));
    });

    it('refuses reads and listings through a link that leaves the root', async () => {
      for (const p of [`${root}/pw`, `${root}/link/secret.txt`]) {
        const r = await call('GET', `/api/2.0/mlflow-artifacts/artifacts/${p}`);
        assert.equal(r.status, 400, `GET ${p}: ${r.status} ${r.text}`);
        assert.doesNotMatch(r.text, /secret$/);
      }
      assert.equal((await call('GET', `/get-artifact?run_id=${runId}&path=pw`)).status, 400);
      assert.equal((await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${root}/link`)).status, 400);
      const top = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}`);
      assert.deepEqual(
        (top.json?.files as { path: string }[]).map((f) => f.path),
        ['alias', 'real'],
      );
    });

    it('follows a link that stays inside the root', async () => {
      const r = await call('GET', `/api/2.0/mlflow-artifacts/artifacts/${root}/alias/inside.txt`);
      assert.equal(r.status, 200);
      assert.equal(r.text, 'inside');
    });

    it('refuses writes and deletes through a link, and deleting the link removes only the link', async () => {
      assert.equal((await put(`${root}/link/new.txt`, 'x')).status, 400);
      assert.equal((await put(`${root}/link/sub/new.txt`, 'x')).status, 400);
      assert.deepEqual(readdirSync(outsideDir), ['secret.txt']);
      assert.equal((await call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${root}/link/secret.txt`)).status, 400);
      assert.equal((await call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${root}/link`)).status, 200);
      assert.equal((await call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${root}/pw`)).status, 200);
      assert.equal(readFileSync(join(outsideDir, 'secret.txt'), 'utf8'), 'secret');
      assert.equal(existsSync(join(dest, root, 'link')), false);
      // Replacing a link by an upload replaces the link, not its target.
      symlinkSync(join(outsideDir, 'secret.txt'), join(dest, root, 'pw2'));
      assert.equal((await put(`${root}/pw2`, 'mine')).status, 200);
      assert.equal(readFileSync(join(outsideDir, 'secret.txt'), 'utf8'), 'secret');
      assert.equal(readFileSync(join(dest, root, 'pw2'), 'utf8'), 'mine');
    });
  });

  it('item 12: decodes artifact names exactly once', async () => {
    const { root, runId } = await newRun();
    assert.equal((await put(`${root}/a%2541.txt`, 'percent')).status, 200);
    assert.equal((await put(`${root}/a%41.txt`, 'letter')).status, 200);
    assert.deepEqual(readdirSync(join(dest, root)).sort(), ['a%41.txt', 'aA.txt']);
    assert.equal((await call('GET', `/api/2.0/mlflow-artifacts/artifacts/${root}/a%2541.txt`)).text, 'percent');
    assert.equal((await call('GET', `/api/2.0/mlflow-artifacts/artifacts/${root}/aA.txt`)).text, 'letter');
    assert.equal((await call('GET', `/get-artifact?run_id=${runId}&path=a%2541.txt`)).text, 'percent');
    const list = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}`);
    assert.deepEqual(
      (list.json?.files as { path: string }[]).map((f) => f.path),
      ['a%41.txt', 'aA.txt'],
    );
    // %2e%2e is '..' after the one decoding: refused, not a file named '%2e%2e'.
    assert.equal((await call('GET', `/api/2.0/mlflow-artifacts/artifacts/${root}/%2e%2e/%2e%2e/x`)).status, 400);
  });

  describe('item 9: bounded input, 400 in MLflow JSON, errors logged', () => {
    it('answers a 10,000-deep JSON body with 400', async () => {
      const deep = `{"name":"x","tags":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      const r = await call('POST', '/api/2.0/mlflow/experiments/create', deep);
      assert.equal(r.status, 400);
      assert.equal(r.json?.error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(String(r.json?.message), /nested deeper than 64/);
    });

    it('answers a 1,000-clause filter with 400 on every search', async () => {
      const filter = Array.from({ length: 1000 }, (_, i) => `params.p${i} = 'x'`).join(' and ');
      for (const [path, body] of [
        ['/api/2.0/mlflow/runs/search', { experiment_ids: ['0'], filter }],
        ['/api/2.0/mlflow/logged-models/search', { experiment_ids: ['0'], filter }],
        ['/api/2.0/mlflow/experiments/search', { max_results: 10, filter: filter.replace(/params\.p\d+/g, 'name') }],
      ] as const) {
        const r = await call('POST', path, body);
        assert.equal(r.status, 400, `${path}: ${r.status} ${r.text}`);
        assert.match(String(r.json?.message), /more than 100 comparisons/);
      }
    });

    it('answers malformed artifact locations with 400', async () => {
      const bad = [
        'mlflow-artifacts://[bad',
        'file://host:99999/x',
        'file:///%00',
        's3://',
        'mlflow-artifacts:/../x',
        'x\u0000y',
        'http://a b',
      ];
      for (const [i, loc] of bad.entries()) {
        const r = await call('POST', '/api/2.0/mlflow/experiments/create', {
          name: `bad-loc-${i}`,
          artifact_location: loc,
        });
        assert.equal(r.status, 400, `${JSON.stringify(loc)}: ${r.status} ${r.text}`);
        assert.equal(r.json?.error_code, 'INVALID_PARAMETER_VALUE');
      }
    });

    it('answers an oversized URL and a malformed %-escape in MLflow JSON', async () => {
      const long = await call('GET', `/api/2.0/mlflow/experiments/search?max_results=1&filter=${'x'.repeat(20_000)}`);
      assert.equal(long.status, 431);
      assert.equal(long.json?.error_code, 'INVALID_PARAMETER_VALUE');
      for (const p of [
        '/api/2.0/mlflow-artifacts/artifacts/%zz',
        '/api/2.0/mlflow/nothing%zz',
        '/ajax-api/2.0/mlflow/logged-models/%E0%A4%A/artifacts/files',
      ]) {
        const r = await call('GET', p);
        assert.equal(r.status, 400, `${p}: ${r.status} ${r.text}`);
        assert.deepEqual(Object.keys(r.json ?? {}).sort(), ['error_code', 'message']);
        assert.equal(r.json?.error_code, 'INVALID_PARAMETER_VALUE');
      }
    });

    it('logs a 500 at error level and answers it in MLflow JSON', async () => {
      const broken = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'getExperiment') return () => Promise.reject(new Error('disk on fire'));
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
      const s = await start({ store: broken });
      try {
        const r = await raw(s.base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=0');
        assert.equal(r.status, 500);
        assert.deepEqual(r.json, {
          error_code: 'INTERNAL_ERROR',
          message: 'Internal server error; see the server log.',
        });
        assert.ok(logs.some((l) => l.level === 'error' && /disk on fire/.test(l.msg)));
      } finally {
        await s.app.close();
      }
    });
  });

  describe('item 11: Host and Origin checks as MLflow 3.5', () => {
    it('answers 403 to an unknown Host, except on /health and /version', async () => {
      const r = await call('GET', '/api/2.0/mlflow/experiments/get?experiment_id=0', undefined, {
        Host: 'attacker.example:5000',
      });
      assert.equal(r.status, 403);
      assert.equal(r.text, 'Invalid Host header - possible DNS rebinding attack detected');
      assert.match(String(r.headers['content-type']), /^text\/plain/);
      const del = await call('DELETE', '/api/2.0/mlflow-artifacts/artifacts/0', undefined, {
        Host: 'attacker.example',
      });
      assert.equal(del.status, 403);
      assert.equal((await call('GET', '/health', undefined, { Host: 'attacker.example' })).status, 200);
      assert.equal((await call('GET', '/version', undefined, { Host: 'attacker.example' })).status, 200);
      for (const host of [
        'localhost',
        'localhost:5000',
        '127.0.0.1:1234',
        '[::1]:80',
        '192.168.1.20:5000',
        '10.0.0.1',
      ]) {
        const ok = await call('GET', '/api/2.0/mlflow/experiments/get?experiment_id=0', undefined, { Host: host });
        assert.equal(ok.status, 200, host);
      }
    });

    it('accepts the allowed-hosts patterns instead of the defaults', async () => {
      const s = await start({ allowedHosts: ['mlflow.corp:*', '*.internal'] });
      try {
        const get = (host: string) =>
          raw(s.base, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=0', { headers: { Host: host } });
        assert.equal((await get('mlflow.corp:5000')).status, 200);
        assert.equal((await get('a.b.internal')).status, 200);
        assert.equal((await get('localhost:5000')).status, 403);
        assert.equal((await get('mlflow.corp.evil.com')).status, 403);
      } finally {
        await s.app.close();
      }
      assert.equal(isAllowedHost([fnmatchRegExp('[[]::1]:*')], '[::1]:5000'), true);
    });

    it('blocks cross-origin state changes from foreign origins', async () => {
      const evil = await call(
        'POST',
        '/api/2.0/mlflow/experiments/create',
        { name: 'csrf' },
        { Origin: 'http://evil.example' },
      );
      assert.equal(evil.status, 403);
      assert.equal(evil.text, 'Cross-origin request blocked');
      const local = await call(
        'POST',
        '/api/2.0/mlflow/experiments/create',
        { name: 'same-machine' },
        { Origin: 'http://localhost:3000' },
      );
      assert.equal(local.status, 200);
      assert.equal(local.headers['access-control-allow-origin'], 'http://localhost:3000');
      const read = await call('GET', '/api/2.0/mlflow/experiments/get?experiment_id=0', undefined, {
        Origin: 'http://evil.example',
      });
      assert.equal(read.status, 200);
      assert.equal(read.headers['access-control-allow-origin'], undefined);
    });
  });

  describe('item 16: basic auth', () => {
    it('treats malformed user lists as configuration errors', async () => {
      for (const spec of ['alice:', 'alice:secret,bob', ':pw', 'alice', 'alice:a,alice:b']) {
        assert.throws(
          () => parseUsers(spec),
          (e) => isAppError(e, 'CONFIG_INVALID'),
          spec,
        );
        await assert.rejects(buildTrackingServer({ store, users: spec }), (e) => isAppError(e, 'CONFIG_INVALID'));
      }
      assert.deepEqual(
        [...parseUsers('alice:s:e:c,bob:pw').entries()],
        [
          ['alice', 's:e:c'],
          ['bob', 'pw'],
        ],
      );
      assert.equal(parseUsers(undefined).size, 0);
    });

    it('accepts the scheme name in any case', async () => {
      const users = parseUsers('alice:secret');
      const token = Buffer.from('alice:secret').toString('base64');
      for (const scheme of ['Basic', 'basic', 'BASIC', 'bAsIc'])
        assert.equal(authenticatedUser(users, `${scheme} ${token}`), 'alice');
      assert.equal(authenticatedUser(users, `Bearer ${token}`), undefined);
      assert.equal(authenticatedUser(users, `Basic ${Buffer.from('alice:wrong').toString('base64')}`), undefined);
      const s = await start({ users: 'alice:secret' });
      try {
        const path = '/api/2.0/mlflow/experiments/get?experiment_id=0';
        assert.equal((await raw(s.base, 'GET', path, { headers: { Authorization: `basic ${token}` } })).status, 200);
        assert.equal((await raw(s.base, 'GET', path)).status, 401);
      } finally {
        await s.app.close();
      }
    });
  });
});
