/**
 * The REST store's HTTP behaviour against a scripted server: a real node:http server on
 * 127.0.0.1:0 answers each request with the next scripted response, and records what it
 * got. Covers retries with exponential backoff on 429/5xx (waits recorded by an injected
 * sleep, so no test sleeps for seconds), Retry-After in seconds and as an HTTP date, giving
 * up after MLFLOW_HTTP_REQUEST_MAX_RETRIES, no retry on 4xx, per-attempt timeouts, an
 * unreachable server, auth headers, and the clear error for a server without the registry.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RestTrackingStore } from '../../src/tracking/rest/rest-tracking-store.js';
import { MlflowHttpClient, retryAfterMs } from '../../src/tracking/rest/http-client.js';
import { isAppError } from '../../src/core/errors.js';

interface Scripted {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (the client must time out). */
  hang?: boolean;
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const OK_EXPERIMENT = JSON.stringify({
  experiment: {
    experiment_id: '7',
    name: 'cars',
    artifact_location: 'mlflow-artifacts:/7',
    lifecycle_stage: 'active',
    creation_time: 1,
    last_update_time: 2,
  },
});

describe('REST store over a scripted MLflow server', () => {
  let server: Server;
  let url: string;
  let script: Scripted[] = [];
  let seen: Seen[] = [];
  const hanging: ServerResponse[] = [];
  let sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const next = script.shift() ?? { status: 500, body: 'script exhausted' };
        if (next.hang) {
          hanging.push(res);
          return;
        }
        res.writeHead(
          next.status,
          next.headers ?? (next.body?.startsWith('{') ? { 'Content-Type': 'application/json' } : {}),
        );
        res.end(next.body ?? '');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  beforeEach(() => {
    script = [];
    seen = [];
    sleeps = [];
  });

  const store = (extra: Partial<ConstructorParameters<typeof RestTrackingStore>[0]> = {}) =>
    new RestTrackingStore({
      trackingUri: url,
      env: {},
      backoffMs: 100,
      maxRetries: 5,
      timeoutMs: 5000,
      sleep,
      ...extra,
    });

  it('retries 503, 502 and 500 with exponential backoff (100, 200, 400 ms), then succeeds', async () => {
    script = [
      { status: 503 },
      { status: 502, body: 'bad gateway' },
      { status: 500, body: '{"error_code":"INTERNAL_ERROR","message":"boom"}' },
      { status: 200, body: OK_EXPERIMENT },
    ];
    const exp = await store().getExperiment('7');
    assert.equal(exp.name, 'cars');
    assert.equal(exp.experimentId, '7');
    assert.deepEqual(sleeps, [100, 200, 400]);
    assert.equal(seen.length, 4);
    assert.ok(seen.every((s) => s.method === 'GET' && s.url === '/api/2.0/mlflow/experiments/get?experiment_id=7'));
  });

  it('retries a POST on 429 and waits what Retry-After says (seconds), resending the same body', async () => {
    script = [
      { status: 429, headers: { 'Retry-After': '3' }, body: 'slow down' },
      { status: 200, body: '{"experiment_id":"12"}' },
    ];
    const id = await store().createExperiment('cars-429');
    assert.equal(id, '12');
    assert.deepEqual(sleeps, [3000]);
    assert.equal(seen.length, 2);
    assert.equal(seen[0].body, seen[1].body);
    assert.deepEqual(JSON.parse(seen[1].body), { name: 'cars-429' });
    assert.match(String(seen[1].headers['content-type']), /^application\/json/);
  });

  it('honours Retry-After given as an HTTP date, and caps any wait at maxBackoffMs', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    script = [
      { status: 503, headers: { 'Retry-After': 'Thu, 01 Jan 2026 00:00:07 GMT' } },
      { status: 503, headers: { 'Retry-After': '3600' } },
      { status: 200, body: OK_EXPERIMENT },
    ];
    await store({ now: () => now, maxBackoffMs: 60_000 }).getExperiment('7');
    assert.deepEqual(sleeps, [7000, 60_000]);
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:00 GMT', now + 5000), 0, 'a date in the past means no wait');
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs('1.5', now), 1500);
  });

  it('gives up after maxRetries + 1 attempts with the last status and the server message', async () => {
    script = Array.from({ length: 4 }, () => ({
      status: 503,
      body: '{"error_code":"TEMPORARILY_UNAVAILABLE","message":"database is locked"}',
    }));
    await assert.rejects(store({ maxRetries: 3 }).getExperiment('7'), (e: unknown) => {
      assert.ok(isAppError(e, 'TEMPORARILY_UNAVAILABLE'));
      assert.equal(e.message, 'database is locked');
      return true;
    });
    assert.equal(seen.length, 4);
    assert.deepEqual(sleeps, [100, 200, 400]);
  });

  it('does not retry a 4xx, and keeps the MLflow error code and message', async () => {
    script = [
      {
        status: 400,
        body: '{"error_code":"INVALID_PARAMETER_VALUE","message":"Changing param values is not allowed."}',
      },
      { status: 200, body: '{}' },
    ];
    await assert.rejects(store().logParam('0'.repeat(32), { key: 'lr', value: '0.2' }), (e: unknown) => {
      assert.ok(isAppError(e, 'INVALID_PARAMETER_VALUE'));
      assert.equal(e.message, 'Changing param values is not allowed.');
      return true;
    });
    assert.equal(seen.length, 1);
    assert.deepEqual(sleeps, []);
  });

  it('times out a request that gets no answer, retries it, then reports DEADLINE_EXCEEDED', async () => {
    script = [
      { status: 200, hang: true },
      { status: 200, hang: true },
    ];
    await assert.rejects(store({ timeoutMs: 150, maxRetries: 1 }).getExperiment('7'), (e: unknown) => {
      assert.ok(isAppError(e, 'DEADLINE_EXCEEDED'));
      assert.match(e.message, /timed out after 0\.15 s \(2 attempt\(s\)\); raise MLFLOW_HTTP_REQUEST_TIMEOUT/);
      return true;
    });
    assert.equal(seen.length, 2);
    assert.deepEqual(sleeps, [100]);
  });

  it('times out and then succeeds when the server recovers', async () => {
    script = [
      { status: 200, hang: true },
      { status: 200, body: OK_EXPERIMENT },
    ];
    const exp = await store({ timeoutMs: 150, maxRetries: 2 }).getExperiment('7');
    assert.equal(exp.name, 'cars');
    assert.equal(seen.length, 2);
  });

  it('reports an unreachable server as NETWORK after its retries, without credentials in the message', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = dead.address() as AddressInfo;
    await new Promise<void>((r) => dead.close(() => r()));
    const s = new RestTrackingStore({
      trackingUri: `http://bob:s3cret@127.0.0.1:${port.port}`,
      env: {},
      backoffMs: 10,
      maxRetries: 2,
      sleep,
    });
    await assert.rejects(s.getExperiment('1'), (e: unknown) => {
      assert.ok(isAppError(e, 'NETWORK'));
      assert.match(
        e.message,
        /cannot reach the MLflow server at http:\/\/127\.0\.0\.1:\d+\/ after 3 attempts: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(nothing listens there/,
      );
      assert.doesNotMatch(e.message, /s3cret|bob/);
      return true;
    });
    assert.deepEqual(sleeps, [10, 20]);
  });

  it('explains that a server without the registry API (404, empty body) cannot hold models', async () => {
    script = [{ status: 404 }];
    await assert.rejects(store().searchRegisteredModels({ maxResults: 10 }), (e: unknown) => {
      assert.ok(isAppError(e, 'ENDPOINT_NOT_FOUND'));
      assert.match(
        e.message,
        /does not offer the MLflow model registry API \(\/api\/2\.0\/mlflow\/registered-models\/search answered 404\)/,
      );
      return true;
    });
    script = [{ status: 404, body: '<!doctype html><title>404 Not Found</title>' }];
    await assert.rejects(
      store().getModelVersion('cars', '1'),
      (e: unknown) => isAppError(e, 'ENDPOINT_NOT_FOUND') && /model registry API/.test((e as Error).message),
    );
    assert.equal(seen.length, 2, '404 is not retried');
  });

  it('sends Basic auth when user and password are set (it wins over a token), else Bearer', async () => {
    script = [
      { status: 200, body: OK_EXPERIMENT },
      { status: 200, body: OK_EXPERIMENT },
    ];
    await store({
      env: { MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: 'pw', MLFLOW_TRACKING_TOKEN: 'tok' },
    }).getExperiment('7');
    await store({ env: { MLFLOW_TRACKING_TOKEN: 'tok' } }).getExperiment('7');
    assert.equal(seen[0].headers.authorization, 'Basic ' + Buffer.from('ann:pw').toString('base64'));
    assert.equal(seen[1].headers.authorization, 'Bearer tok');
  });

  it('takes retry settings from the MLFLOW_HTTP_REQUEST_* environment', async () => {
    script = [{ status: 500 }, { status: 500 }, { status: 500 }];
    const http = new MlflowHttpClient({
      baseUrl: url,
      env: { MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2', MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.5' },
      sleep,
    });
    await assert.rejects(
      http.request({ method: 'GET', path: '/api/2.0/mlflow/experiments/get', query: { experiment_id: '1' } }),
      (e: unknown) => isAppError(e, 'INTERNAL_ERROR'),
    );
    assert.equal(seen.length, 3);
    assert.deepEqual(sleeps, [500, 1000]);
  });

  it('fails at once on an error no retry can cure, with its cause (https to a plain-http server)', async () => {
    const s = new RestTrackingStore({
      trackingUri: url.replace('http:', 'https:'),
      env: {},
      backoffMs: 10,
      maxRetries: 5,
      sleep,
    });
    await assert.rejects(s.getExperiment('1'), (e: unknown) => {
      assert.ok(isAppError(e, 'NETWORK'));
      assert.match(
        e.message,
        /^cannot reach the MLflow server at https:\/\/127\.0\.0\.1:\d+\/: TLS handshake failed \(EPROTO: wrong version number; is the server plain http rather than https\?\); check MLFLOW_TRACKING_URI/,
      );
      return true;
    });
    assert.deepEqual(sleeps, [], 'no retries');
  });
});

describe('REST store on a port that fetch blocks (issue 18.6)', () => {
  it('reaches an MLflow server on a WHATWG "bad port" such as 5060 or 6000', async (t) => {
    // The fetch standard's blocked ports an MLflow server might use; the first one free here.
    const candidates = [5060, 5061, 6000, 6665, 6666, 6667, 6668, 6669, 6697, 10080];
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(OK_EXPERIMENT);
    });
    let port: number | undefined;
    for (const p of candidates) {
      const ok = await new Promise<boolean>((r) => {
        server.once('error', () => r(false));
        server.listen(p, '127.0.0.1', () => r(true));
      });
      if (ok) {
        port = p;
        break;
      }
    }
    if (port === undefined) {
      t.skip(`none of the blocked ports ${candidates.join(', ')} can be bound here`);
      return;
    }
    try {
      // fetch itself refuses the port: that is what the client must not depend on.
      await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), (e: unknown) =>
        /bad port/.test(String((e as Error).cause)),
      );
      const exp = await new RestTrackingStore({
        trackingUri: `http://127.0.0.1:${port}`,
        env: {},
        maxRetries: 0,
      }).getExperiment('7');
      assert.equal(exp.name, 'cars');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
