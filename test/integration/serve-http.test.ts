/**
 * `carprice serve` as a real process on a real socket: every route over HTTP, bad requests
 * (including a body over the limit and a request cut short) answered 4xx without dropping
 * the connection, SIGHUP reload, SIGTERM draining an in-flight request, models from the
 * embedded registry (champion alias, new version on SIGHUP), the CARPRICE_MODEL_DIR
 * fallback when the registry is unreachable, and two workers sharing one port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrackingClient } from '../../src/tracking/client.js';
import { badRequests, fixtureBundle, listings, savedBundle, startServe } from '../helpers/serving.js';

const bundle = fixtureBundle();
const rows = listings(4);
const round2 = (x: number) => Math.round(x * 100) / 100;
const PARAMS = ['--set', 'serving.log_requests=false'];

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

/** A raw HTTP/1.1 request over one socket; resolves with status and body (rejects if the connection drops). */
function raw(
  url: string,
  o: {
    method: string;
    path: string;
    headers: Record<string, string | number>;
    chunks: (string | Buffer)[];
    gapMs?: number;
    between?: () => Promise<void>;
  },
) {
  const u = new URL(url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: o.method, path: o.path, headers: o.headers, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    void (async () => {
      for (let i = 0; i < o.chunks.length; i++) {
        req.write(o.chunks[i]);
        if (i === 0 && o.between) await o.between();
        if (o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
      }
      req.end();
    })();
  });
}

test('serve --model DIR: every route over a real socket; bad requests are 4xx JSON and never drop the connection', async () => {
  const dir = savedBundle(bundle);
  const s = await startServe(['serve', '--model', dir, '--host', '127.0.0.1', '--port', '0', ...PARAMS], tmpdir());
  try {
    assert.match(s.stdout(), /model model from/);
    for (const path of ['/', '/health', '/ready', '/model', '/metrics', '/docs/json', '/docs/']) {
      const r = await fetch(s.url + path);
      assert.equal(r.status, 200, path);
      await r.arrayBuffer();
    }
    const one = await post(s.url + '/predict', rows[0]);
    assert.equal(one.status, 200);
    assert.equal(one.json.predicted_price, round2(bundle.predictRecords([rows[0]])[0]));
    const batch = await post(s.url + '/predict/batch', { listings: rows });
    assert.equal(batch.status, 200);
    assert.deepEqual(
      (batch.json.predictions as { predicted_price: number }[]).map((p) => p.predicted_price),
      Array.from(bundle.predictRecords(rows), round2),
    );
    const explain = await fetch(s.url + '/explain', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rows[0]),
    });
    assert.ok([200, 501].includes(explain.status));
    await explain.json();
    const bad = await post(s.url + '/predict', { ...rows[0], odometer: -3 });
    assert.equal(bad.status, 422);
    assert.equal(bad.json.field, 'odometer');
    const malformed = await post(s.url + '/predict', '{"odometer":');
    assert.equal(malformed.status, 400);
    // 2 MiB body: 413 with JSON, connection not dropped although the body keeps coming
    const big = Buffer.alloc(2 * 1024 * 1024, 'x');
    const tooLarge = await raw(s.url, {
      method: 'POST',
      path: '/predict',
      headers: { 'content-type': 'application/json', 'content-length': big.length + 2 },
      chunks: ['"', big, '"'],
    });
    assert.equal(tooLarge.status, 413);
    assert.equal(JSON.parse(tooLarge.body).error, 'body_too_large');
    // chunked, no length, slow: still a proper answer
    const slow = await raw(s.url, {
      method: 'POST',
      path: '/predict',
      headers: { 'content-type': 'application/json' },
      chunks: [JSON.stringify(rows[0]).slice(0, 20), JSON.stringify(rows[0]).slice(20)],
      gapMs: 50,
    });
    assert.equal(slow.status, 200);
    // the server is still healthy after all that
    assert.equal((await fetch(s.url + '/health')).status, 200);
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
});

test('the bad-request corpus over a real socket: each one a 4xx with JSON naming the field, none a dropped connection', async () => {
  const dir = savedBundle(bundle);
  const s = await startServe(
    [
      'serve',
      '--model',
      dir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      ...PARAMS,
      '--set',
      'serving.body_limit_bytes=4096',
    ],
    tmpdir(),
  );
  try {
    const corpus = [
      ...badRequests(rows[0]),
      { name: 'GET on a POST route', method: 'GET', status: 404, field: undefined },
      { name: 'unknown route', url: '/predict/nope', payload: rows[0], status: 404, field: undefined },
    ];
    for (const c of corpus) {
      const body = 'body' in c && c.body !== undefined ? c.body : 'payload' in c ? JSON.stringify(c.payload) : '';
      const method = 'method' in c && c.method ? c.method : 'POST';
      // raw() rejects when the connection drops before a full answer
      const r = await raw(s.url, {
        method,
        path: c.url ?? '/predict',
        headers: {
          connection: 'close',
          ...(method === 'POST'
            ? {
                'content-type': ('contentType' in c && c.contentType) || 'application/json',
                'content-length': Buffer.byteLength(body),
              }
            : {}),
        },
        chunks: method === 'POST' ? [body] : [],
      });
      assert.equal(r.status, c.status, `${c.name}: ${r.body}`);
      const json = JSON.parse(r.body) as { field?: string; message: string };
      if (c.field) assert.equal(json.field, c.field, `${c.name}: ${r.body}`);
      assert.ok(json.message.length > 5, c.name);
    }
    assert.equal((await fetch(s.url + '/health')).status, 200, 'still healthy');
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
});

test('SIGTERM drains: a request in flight when the signal arrives completes with 200, then the process exits 0', async () => {
  const dir = savedBundle(bundle);
  const s = await startServe(['serve', '--model', dir, '--host', '127.0.0.1', '--port', '0', ...PARAMS], tmpdir());
  const body = JSON.stringify(rows[1]);
  const r = await raw(s.url, {
    method: 'POST',
    path: '/predict',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    chunks: [body.slice(0, 10), body.slice(10)],
    between: async () => {
      await new Promise((res) => setTimeout(res, 100));
      s.child.kill('SIGTERM');
      await new Promise((res) => setTimeout(res, 300));
    },
  });
  assert.equal(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body).predicted_price, round2(bundle.predictRecords([rows[1]])[0]));
  assert.equal(await s.exited, 0);
  assert.match(s.stdout(), /carprice API stopped/);
});

test('SIGHUP reloads a changed bundle directory', async () => {
  const dir = savedBundle(bundle);
  const s = await startServe(
    ['serve', '--model', dir, '--host', '127.0.0.1', '--port', '0', '--set', 'serving.poll_interval_s=0', ...PARAMS],
    tmpdir(),
  );
  try {
    const other = fixtureBundle({ alpha: 50 });
    other.save(dir);
    s.child.kill('SIGHUP');
    const want = round2(other.predictRecords([rows[0]])[0]);
    let got: unknown;
    for (let i = 0; i < 100 && got !== want; i++) {
      await new Promise((r) => setTimeout(r, 100));
      got = (await post(s.url + '/predict', rows[0])).json.predicted_price;
    }
    assert.equal(got, want);
    assert.match(await (await fetch(s.url + '/metrics')).text(), /carprice_model_reloads_total\{outcome="swapped"\} 2/);
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
});

test('the registry: serves the champion by default, follows the alias on SIGHUP; CARPRICE_MODEL_DIR serves when the registry is unreachable', async () => {
  const project = mkdtempSync(join(tmpdir(), 'carprice-serve-reg-'));
  writeFileSync(join(project, 'params.yaml'), 'serving:\n  poll_interval_s: 0\n  log_requests: false\n');
  const client = TrackingClient.open({ env: {}, cwd: project });
  const v2bundle = fixtureBundle({ alpha: 50 });
  const register = async (b: typeof bundle) => {
    const run = await client.startRun({ experimentName: 'serve-test' });
    const uri = await client.logModel(run.runId, savedBundle(b));
    await client.endRun(run.runId);
    return (await client.registerModel('UsedCarPriceModel', uri)).version;
  };
  const v1 = await register(bundle);
  const v2 = await register(v2bundle);
  await client.setAlias('UsedCarPriceModel', 'champion', v1);
  const s = await startServe(['serve', '--host', '127.0.0.1', '--port', '0'], project);
  try {
    assert.match(s.stdout(), new RegExp(`model UsedCarPriceModel v${v1} .*from models:/UsedCarPriceModel@champion`));
    let m = (await (await fetch(s.url + '/model')).json()) as { version: string; origin: string; aliases: string[] };
    assert.equal(m.version, v1);
    assert.deepEqual(m.aliases, ['champion']);
    await client.setAlias('UsedCarPriceModel', 'champion', v2);
    s.child.kill('SIGHUP');
    for (let i = 0; i < 100 && m.version !== v2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      m = (await (await fetch(s.url + '/model')).json()) as typeof m;
    }
    assert.equal(m.version, v2);
    assert.equal(
      (await post(s.url + '/predict', rows[0])).json.predicted_price,
      round2(v2bundle.predictRecords([rows[0]])[0]),
    );
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    await client.close();
  }
  // an unreachable MLflow server: the baked bundle serves
  const baked = savedBundle(bundle);
  const f = await startServe(['serve', '--host', '127.0.0.1', '--port', '0'], project, {
    MLFLOW_TRACKING_URI: 'http://127.0.0.1:9',
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    CARPRICE_MODEL_DIR: baked,
  });
  try {
    assert.match(f.stdout(), /from CARPRICE_MODEL_DIR/);
    const m = (await (await fetch(f.url + '/model')).json()) as { origin: string };
    assert.equal(m.origin, 'fallback');
    assert.equal((await post(f.url + '/predict', rows[0])).status, 200);
  } finally {
    f.child.kill('SIGTERM');
    assert.equal(await f.exited, 0);
  }
});

test('a missing model directory fails at start with a one-line message and exit code 4', async () => {
  const s = startServe(
    ['serve', '--model', join(tmpdir(), 'no-such-model-dir'), '--host', '127.0.0.1', '--port', '0'],
    tmpdir(),
  );
  await assert.rejects(
    s,
    (e: Error) =>
      /exited with 4 before listening/.test(e.message) &&
      /carprice: no model bundle at .*no-such-model-dir/.test(e.message),
  );
});

test('--workers 2 shares one port, /metrics adds up every worker; SIGTERM stops both workers', async () => {
  const dir = savedBundle(bundle);
  const s = await startServe(
    ['serve', '--model', dir, '--host', '127.0.0.1', '--port', '0', '--workers', '2', ...PARAMS],
    tmpdir(),
  );
  const fresh = { connection: 'close' };
  try {
    assert.match(s.stdout(), /with 2 workers/);
    const workers = new Set<number>();
    // the primary deals connections out round-robin: ten in a row reach both workers
    for (let i = 0; i < 10; i++) {
      const root = await raw(s.url, { method: 'GET', path: '/', headers: fresh, chunks: [] });
      workers.add(JSON.parse(root.body).worker);
    }
    assert.equal(workers.size, 2, 'both workers answered');
    const n = 6;
    for (let i = 0; i < n; i++) {
      const body = JSON.stringify(rows[i % rows.length]);
      const p = await raw(s.url, {
        method: 'POST',
        path: '/predict',
        headers: { ...fresh, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        chunks: [body],
      });
      assert.equal(p.status, 200);
      assert.equal(JSON.parse(p.body).predicted_price, round2(bundle.predictRecords([rows[i % rows.length]])[0]));
    }
    // whichever worker answers /metrics, it reports the cluster: n predictions, n latency
    // observations on /predict, both workers' model info as one series, 2 workers
    for (let i = 0; i < 4; i++) {
      const text = (await raw(s.url, { method: 'GET', path: '/metrics', headers: fresh, chunks: [] })).body;
      assert.match(text, new RegExp(`^carprice_predictions_total\\{route="/predict"\\} ${n}$`, 'm'));
      assert.match(
        text,
        new RegExp(
          `^carprice_http_request_duration_seconds_count\\{method="POST",route="/predict",status="200"\\} ${n}$`,
          'm',
        ),
      );
      assert.match(text, /^carprice_model_info\{name="model",version="",stage="",origin="directory"\} 1$/m);
      assert.match(text, /^carprice_workers 2$/m);
      assert.doesNotMatch(text, /unavailable/);
    }
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
});
