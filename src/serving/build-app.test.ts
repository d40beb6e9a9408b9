/**
 * The prediction API through Fastify's inject (no socket): every route, the original's
 * request shape, a corpus of bad requests (all 4xx with JSON naming the field), auth,
 * rate limit, readiness, and hot reload (swap, refusal of a broken model, and zero failed
 * or mixed responses while models swap under concurrent requests).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { fixedClock } from '../core/clock.js';
import { buildApp } from './build-app.js';
import { ModelProvider } from './model-provider.js';
import { badRequests, fixtureBundle, listings, savedBundle } from '../../test/helpers/serving.js';

const bundle = fixtureBundle();
const rows = listings(5);
const round2 = (x: number) => Math.round(x * 100) / 100;
const expected = Array.from(bundle.predictRecords(rows), round2);
const clock = fixedClock(Date.parse('2025-06-01T00:00:00Z'));

async function app(over: Partial<Parameters<typeof buildApp>[0]> = {}) {
  return buildApp({
    provider: ModelProvider.fromBundle(bundle, { name: 'UsedCarPriceModel', version: '3', stage: 'Production' }),
    clock,
    ...over,
  });
}

test('GET /, /health, /ready, /model, /metrics and /docs answer with their schemas', async () => {
  const a = await app();
  const root = (await a.inject('/')).json();
  assert.equal(root.service, 'carprice');
  assert.deepEqual(root.model, { name: 'UsedCarPriceModel', version: '3', stage: 'Production', ready: true });
  assert.equal(root.links.predict, '/predict');
  assert.deepEqual((await a.inject('/health')).json(), { status: 'ok' });
  const ready = await a.inject('/ready');
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), { status: 'ready', model: { name: 'UsedCarPriceModel', version: '3' } });
  const model = (await a.inject('/model')).json();
  assert.equal(model.algo, 'ridge');
  assert.equal(model.training.rows, 150);
  assert.deepEqual(model.input_schema.required, bundle.inputSchema.required);
  assert.ok(Array.isArray(model.model_card.limitations));
  const metrics = await a.inject('/metrics');
  assert.match(metrics.headers['content-type'] as string, /text\/plain/);
  assert.match(
    metrics.body,
    /carprice_model_info\{name="UsedCarPriceModel",version="3",stage="Production",origin="directory"\} 1/,
  );
  const doc = (await a.inject('/docs/json')).json();
  assert.equal(doc.openapi, '3.0.3');
  for (const p of ['/', '/health', '/ready', '/predict', '/predict/batch', '/explain', '/model', '/metrics'])
    assert.ok(doc.paths[p], `OpenAPI has ${p}`);
  assert.ok(doc.components.schemas.Listing.properties.odometer, 'the Listing schema is in the document');
  const ui = await a.inject('/docs/');
  assert.equal(ui.statusCode, 200);
  assert.match(ui.body, /swagger/i);
  const notFound = await a.inject('/nope');
  assert.equal(notFound.statusCode, 404);
  assert.equal(notFound.json().error, 'not_found');
  await a.close();
});

test("POST /predict takes the original's 12-field body and returns the bundle's price (2 decimals) and the model", async () => {
  const a = await app();
  const original = {
    odometer: 50000,
    fitnessAge: 10,
    featureCount: 30,
    make: 'Maruti',
    model: 'SWIFT',
    variant: 'VXI',
    year: 2019,
    transmissionType: 'Manual',
    bodyType: 'Hatchback',
    fuelType: 'Petrol',
    ownership: 1,
    color: 'White',
  };
  const r = await a.inject({ method: 'POST', url: '/predict', payload: original });
  assert.equal(r.statusCode, 200, r.body);
  const body = r.json();
  assert.equal(body.predicted_price, round2(bundle.predictRecords([original])[0]));
  assert.deepEqual(body.model, { name: 'UsedCarPriceModel', version: '3' });
  assert.equal(body.warnings, undefined, 'every value was seen in training');
  for (let i = 0; i < rows.length; i++) {
    const x = (await a.inject({ method: 'POST', url: '/predict', payload: rows[i] })).json();
    assert.equal(x.predicted_price, expected[i]);
  }
  // extra fields are ignored, as pydantic did; a null colour is imputed
  assert.equal(
    (await a.inject({ method: 'POST', url: '/predict', payload: { ...original, color: null, comment: 'x' } }))
      .statusCode,
    200,
  );
  await a.close();
});

test('an unknown make/model/variant is priced, with a warning naming the field, and counted in /metrics', async () => {
  const a = await app();
  const r = await a.inject({
    method: 'POST',
    url: '/predict',
    payload: { ...rows[0], model: 'swift', variant: 'Hover 9000' },
  });
  assert.equal(r.statusCode, 200);
  const body = r.json();
  assert.ok(body.predicted_price > 0);
  const fields = body.warnings.map((w: { field: string }) => w.field).sort();
  assert.deepEqual(fields, ['model', 'variant']);
  const hint = body.warnings.find((w: { field: string }) => w.field === 'model');
  assert.match(hint.message, /did you mean 'SWIFT'/);
  const m = (await a.inject('/metrics')).body;
  assert.match(m, /carprice_unknown_categories_total\{field="model"\} 1/);
  assert.match(m, /carprice_predictions_total\{route="\/predict"\} 1/);
  assert.match(m, /carprice_http_request_duration_seconds_count\{method="POST",route="\/predict",status="200"\} 1/);
  await a.close();
});

test('POST /predict/batch prices every listing in order; the limit is configurable', async () => {
  const a = await app({ batchLimit: 5 });
  const r = await a.inject({ method: 'POST', url: '/predict/batch', payload: { listings: rows } });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(
    r.json().predictions.map((p: { predicted_price: number }) => p.predicted_price),
    expected,
  );
  const over = await a.inject({ method: 'POST', url: '/predict/batch', payload: { listings: [...rows, rows[0]] } });
  assert.equal(over.statusCode, 422);
  assert.equal(over.json().field, 'listings');
  assert.match(over.json().message, /must NOT have more than 5 items/);
  const bad = await a.inject({
    method: 'POST',
    url: '/predict/batch',
    payload: { listings: [rows[0], { ...rows[1], odometer: -1 }] },
  });
  assert.equal(bad.statusCode, 422);
  assert.equal(bad.json().field, 'listings[1].odometer');
  await a.close();
});

test('the bad-request corpus: every request is a 4xx with JSON naming the field and the reason', async () => {
  const a = await app({ bodyLimit: 4096 });
  for (const c of badRequests(rows[0])) {
    const r = await a.inject({
      method: 'POST',
      url: c.url ?? '/predict',
      headers: { 'content-type': c.contentType ?? 'application/json' },
      body: c.body ?? JSON.stringify(c.payload),
    });
    assert.equal(r.statusCode, c.status, `${c.name}: ${r.body}`);
    const body = r.json();
    assert.equal(body.field, c.field, `${c.name}: ${r.body}`);
    assert.equal(typeof body.message, 'string', c.name);
    assert.ok(body.message.length > 5, c.name);
  }
  // the problems list names every bad field at once
  const many = (
    await a.inject({
      method: 'POST',
      url: '/predict',
      payload: { ...rows[0], odometer: -1, year: 2099, make: undefined },
    })
  ).json();
  assert.deepEqual(many.problems.map((p: { field: string }) => p.field).sort(), ['make', 'odometer', 'year']);
  assert.match(many.message, /year: must be <= 2025, got 2099 \(a year in the future\)/);
  await a.close();
});

test('a bearer token guards the prediction routes only, and is never logged', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  const token = 's3cret-token-value';
  const a = await app({ apiToken: token, logger: pino({ level: 'debug' }, sink) });
  for (const url of ['/predict', '/explain']) {
    const none = await a.inject({ method: 'POST', url, payload: rows[0] });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.equal(none.json().error, 'unauthorized');
    const wrong = await a.inject({ method: 'POST', url, payload: rows[0], headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
  }
  const ok = await a.inject({
    method: 'POST',
    url: '/predict',
    payload: rows[0],
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(ok.statusCode, 200);
  const batch = await a.inject({
    method: 'POST',
    url: '/predict/batch',
    payload: { listings: rows },
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(batch.statusCode, 200);
  for (const url of ['/', '/health', '/ready', '/model', '/metrics'])
    assert.equal((await a.inject(url)).statusCode, 200, url);
  const doc = (await a.inject('/docs/json')).json();
  assert.deepEqual(doc.paths['/predict'].post.security, [{ bearerAuth: [] }]);
  await a.close();
  const log = lines.join('');
  assert.match(log, /"url":"\/predict","route":"\/predict","status":200/, 'one JSON line per request');
  assert.ok(!log.includes(token), 'the token never reaches the log');
});

test('the rate limit answers 429 with JSON once a client exceeds it', async () => {
  const a = await app({ rateLimitPerMinute: 2 });
  const codes: number[] = [];
  for (let i = 0; i < 3; i++)
    codes.push((await a.inject({ method: 'POST', url: '/predict', payload: rows[0] })).statusCode);
  assert.deepEqual(codes, [200, 200, 429]);
  const r = await a.inject({ method: 'POST', url: '/predict', payload: rows[0] });
  assert.equal(r.json().error, 'rate_limited');
  assert.equal((await a.inject('/health')).statusCode, 200, 'only prediction routes are limited');
  await a.close();
});

test('/ready and the prediction routes answer 503 until a model is loaded', async () => {
  const provider = new ModelProvider({ source: savedBundle(bundle) });
  const a = await buildApp({ provider, clock });
  assert.equal((await a.inject('/health')).statusCode, 200);
  const ready = await a.inject('/ready');
  assert.equal(ready.statusCode, 503);
  assert.equal(ready.json().status, 'loading');
  const p = await a.inject({ method: 'POST', url: '/predict', payload: rows[0] });
  assert.equal(p.statusCode, 503);
  assert.equal(p.json().error, 'model_not_ready');
  assert.equal((await a.inject('/')).json().model, null);
  await provider.start();
  assert.equal((await a.inject('/ready')).statusCode, 200);
  assert.equal(
    (await a.inject({ method: 'POST', url: '/predict', payload: rows[0] })).json().predicted_price,
    expected[0],
  );
  await a.close();
  await provider.close();
});

test('hot reload: a changed bundle is loaded, warmed and swapped in; a broken one is refused and the old keeps serving', async () => {
  const dir = savedBundle(bundle);
  const provider = new ModelProvider({ source: dir });
  await provider.start();
  const a = await buildApp({ provider, clock });
  assert.equal((await provider.refresh()).valueOf(), 'unchanged');
  const other = fixtureBundle({ alpha: 50 });
  other.save(dir);
  assert.equal(await provider.refresh({ force: true }), 'swapped');
  const price = (await a.inject({ method: 'POST', url: '/predict', payload: rows[0] })).json().predicted_price;
  assert.equal(price, round2(other.predictRecords([rows[0]])[0]));
  assert.notEqual(price, expected[0]);
  writeFileSync(join(dir, 'bundle.json'), '{"kind": "carprice-model-bundle", "formatVersion": 1, "members": []}');
  assert.equal(await provider.refresh({ force: true }), 'failed');
  assert.equal(
    (await a.inject({ method: 'POST', url: '/predict', payload: rows[0] })).json().predicted_price,
    price,
    'the old model still serves',
  );
  const m = (await a.inject('/metrics')).body;
  assert.match(m, /carprice_model_reloads_total\{outcome="swapped"\} 1/);
  assert.match(m, /carprice_model_reloads_total\{outcome="failed"\} 1/);
  await a.close();
  await provider.close();
});

test('hot reload under concurrent requests: zero failed and zero mixed responses', async () => {
  const dir = savedBundle(bundle);
  const second = fixtureBundle({ alpha: 50 });
  const priceOf = new Map<string, number>();
  const provider = new ModelProvider({ source: dir });
  await provider.start();
  const a = await buildApp({ provider, clock });
  const pricesA = Array.from(bundle.predictRecords(rows), round2);
  const pricesB = Array.from(second.predictRecords(rows), round2);
  let stop = false;
  let swaps = 0;
  const swapper = (async () => {
    for (let i = 0; i < 6; i++) {
      (i % 2 === 0 ? second : bundle).save(dir);
      if ((await provider.refresh({ force: true })) === 'swapped') swaps++;
    }
    stop = true;
  })();
  let done = 0;
  const client = async () => {
    while (!stop) {
      const batch = await a.inject({ method: 'POST', url: '/predict/batch', payload: { listings: rows } });
      assert.equal(batch.statusCode, 200, batch.body);
      const got = batch.json().predictions.map((p: { predicted_price: number }) => p.predicted_price);
      const same = JSON.stringify(got);
      assert.ok(
        same === JSON.stringify(pricesA) || same === JSON.stringify(pricesB),
        `a batch mixed two models: ${same}`,
      );
      priceOf.set(same, (priceOf.get(same) ?? 0) + 1);
      done++;
    }
  };
  await Promise.all([swapper, client(), client(), client(), client()]);
  assert.equal(swaps, 6);
  assert.ok(done > 0);
  await a.close();
  await provider.close();
});

test('POST /explain: per-feature contributions that add up, with the base, to the prediction on its scale', async () => {
  const a = await app();
  const r = await a.inject({ method: 'POST', url: '/explain', payload: rows[0] });
  assert.equal(r.statusCode, 200, r.body);
  const e = r.json<{
    predicted_price: number;
    base_value: number;
    scale: string;
    contributions: { feature: string; contribution: number }[];
  }>();
  assert.equal(e.predicted_price, expected[0]);
  assert.ok(e.contributions.length > 0);
  const total = e.base_value + e.contributions.reduce((s, c) => s + c.contribution, 0);
  const onScale = e.scale === 'log1p(price)' ? Math.log1p(e.predicted_price) : e.predicted_price;
  assert.ok(
    Math.abs(total - onScale) <= 1e-6 * Math.max(1, Math.abs(onScale)) + (e.scale === 'price' ? 0.01 : 0),
    `${total} vs ${onScale}`,
  );
  const bad = await a.inject({ method: 'POST', url: '/explain', payload: { ...rows[0], ownership: 'first' } });
  assert.equal(bad.statusCode, 422);
  await a.close();
});

test('a body Fastify refuses says why: where the JSON breaks, or which key is refused', async () => {
  const a = await app();
  const post = (body: string) =>
    a.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, body });
  // both used to say only "Body is not valid JSON but content-type is set to 'application/json'"
  const cut = await post('{"odometer": 5,');
  assert.equal(cut.statusCode, 400);
  assert.equal(cut.json().error, 'malformed_json');
  assert.match(cut.json().message, /^the body is not valid JSON: .*(position 15|end of JSON input)/);
  const trailing = await post('{"odometer": 5} x');
  assert.match(trailing.json().message, /^the body is not valid JSON: .*position 16/);
  for (const body of ['{"__proto__": {"x": 1}}', '{"constructor": {"prototype": {"x": 1}}}']) {
    const r = await post(body);
    assert.equal(r.statusCode, 400, body);
    assert.deepEqual(r.json(), {
      error: 'forbidden_key',
      message:
        'the body has a "__proto__" key, or a "constructor" key holding "prototype", refused as prototype poisoning; remove it',
      field: '(body)',
    });
  }
  await a.close();
});

test('a number too large for a double (1e999 parses to Infinity) is named as Infinity, not "null"', async () => {
  const a = await app();
  const body = JSON.stringify(rows[0]).replace(/"odometer":[^,]+/, '"odometer":1e999');
  const r = await a.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, body });
  assert.equal(r.statusCode, 422);
  assert.equal(r.json().field, 'odometer');
  assert.match(r.json().message, /^odometer: must be number, got Infinity/);
  assert.doesNotMatch(r.json().message, /got null/);
  await a.close();
});
