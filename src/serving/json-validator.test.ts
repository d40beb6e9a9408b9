/**
 * The API's own request validator against Ajv, the validator Fastify uses by default (the
 * oracle): the same schemas (the listing, the batch body) and a corpus of good and bad
 * bodies go through a Fastify app with its default Ajv compiler (allErrors, verbose, as
 * buildApp configured it) and through compileValidator; each must agree on valid/invalid
 * and on every problem (path, keyword, message, params, offending value).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { DEFAULT_RANGES } from '../config/params.js';
import { batchSchema, sharedSchemas, EXAMPLE_LISTING } from './schemas.js';
import { compileValidator, serveCompilers, UnsupportedSchema, type ValidationIssue } from './json-validator.js';

const shared = sharedSchemas({ maxStringLength: 20, maxYear: 2025, ranges: DEFAULT_RANGES });
const listingBody = { $ref: 'Listing#' };
const batchBody = batchSchema(3).body;

interface Problem {
  instancePath: string;
  keyword: string;
  message: string;
  params: unknown;
  data: unknown;
}

const norm = (list: readonly Partial<ValidationIssue>[] | null | undefined): Problem[] =>
  (list ?? [])
    .map((e) => ({
      instancePath: e.instancePath ?? '',
      keyword: e.keyword ?? '',
      message: e.message ?? '',
      params: e.params,
      data: e.data,
    }))
    .sort((a, b) => `${a.instancePath} ${a.keyword}`.localeCompare(`${b.instancePath} ${b.keyword}`));

/** Ajv's verdict on each body, through a Fastify app with its default compilers. */
async function ajvVerdicts(schema: unknown, bodies: unknown[]): Promise<(Problem[] | null)[]> {
  const app = Fastify({
    ajv: { customOptions: { coerceTypes: false, allErrors: true, verbose: true, removeAdditional: false } },
  });
  for (const s of shared) app.addSchema(s);
  app.setErrorHandler((err: { validation?: ValidationIssue[] }, _req, reply) => {
    void reply.status(422).send({ problems: norm(err.validation) });
  });
  app.post('/', { schema: { body: schema } }, async () => ({ ok: true }));
  const out: (Problem[] | null)[] = [];
  for (const b of bodies) {
    const r = await app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(b),
    });
    out.push(r.statusCode === 200 ? null : r.json<{ problems: Problem[] }>().problems);
  }
  await app.close();
  return out;
}

/** As the server sees a body: parsed JSON (no undefined values). */
const wire = (b: unknown): unknown => JSON.parse(JSON.stringify(b)) as unknown;

function listingCorpus(): unknown[] {
  const base: Record<string, unknown> = { ...EXAMPLE_LISTING };
  const out: unknown[] = [base, { ...base, color: null }, { ...base, extra: 'ignored', power: 1 }];
  const odd: unknown[] = ['x', '', 0, -1, 1.5, 2.5e9, null, true, [], {}, [1], { a: 1 }];
  for (const k of Object.keys(base)) {
    for (const v of odd) out.push({ ...base, [k]: v });
    const missing = { ...base };
    delete missing[k];
    out.push(missing);
  }
  // bounds: each numeric field just inside and just outside its range
  out.push({ ...base, year: 2025 }, { ...base, year: 2026 }, { ...base, year: 1899 }, { ...base, year: 2019.5 });
  out.push(
    { ...base, odometer: 0 },
    { ...base, odometer: -0.001 },
    { ...base, ownership: 0 },
    { ...base, ownership: -1 },
  );
  for (const [col, r] of Object.entries(DEFAULT_RANGES))
    if (col in base) out.push({ ...base, [col]: r.min }, { ...base, [col]: r.max }, { ...base, [col]: r.max + 1 });
  // string lengths, counted in code points as Ajv does
  out.push({ ...base, make: 'a'.repeat(20) }, { ...base, make: 'a'.repeat(21) });
  out.push({ ...base, make: '😀'.repeat(20) }, { ...base, make: '😀'.repeat(21) }, { ...base, make: '\ud83d' });
  out.push({ ...base, color: 'c'.repeat(21) }, { ...base, color: '' });
  // equipment flags (optional, 0..1)
  out.push({ ...base, AlloyWheels: 1 }, { ...base, AlloyWheels: 2 }, { ...base, Bluetooth: '1' });
  // many problems at once, and bodies that are not objects
  out.push({ odometer: -5, year: 3000, make: 7 }, {}, [], 'text', 12, null, [base]);
  return out.map(wire);
}

test('listing bodies: the same verdict and the same problems as Ajv', async () => {
  const bodies = listingCorpus();
  const expected = await ajvVerdicts(listingBody, bodies);
  const v = compileValidator(listingBody, shared);
  let invalid = 0;
  bodies.forEach((b, i) => {
    const ok = v(b);
    const what = JSON.stringify(b);
    assert.equal(ok, expected[i] === null, `valid? ${what}: Ajv says ${JSON.stringify(expected[i])}`);
    if (!ok) {
      invalid++;
      assert.deepEqual(norm(v.errors), expected[i], what);
    }
  });
  assert.ok(invalid > 100, `the corpus has many bad bodies (${invalid})`);
});

test('batch bodies: item paths, item limits and the listings field as Ajv reports them', async () => {
  const good = { ...EXAMPLE_LISTING };
  const bodies: unknown[] = [
    { listings: [good] },
    { listings: [good, good, good] },
    { listings: [good, good, good, good] },
    { listings: [] },
    { listings: [good, { ...good, odometer: -1 }, { ...good, make: undefined, year: 'x' }] },
    { listings: 'nope' },
    { listings: [null, 3] },
    { other: 1 },
    [good],
  ].map(wire);
  const expected = await ajvVerdicts(batchBody, bodies);
  const v = compileValidator(batchBody, shared);
  bodies.forEach((b, i) => {
    const ok = v(b);
    assert.equal(ok, expected[i] === null, JSON.stringify(b));
    if (!ok) assert.deepEqual(norm(v.errors), expected[i], JSON.stringify(b));
  });
});

test('an array over maxItems is reported once, without checking each of its items (bounded work)', () => {
  const v = compileValidator(batchBody, shared);
  const bad = { ...EXAMPLE_LISTING, odometer: -1 };
  assert.equal(v({ listings: [bad, bad, bad, bad] }), false);
  assert.deepEqual(
    v.errors?.map((e) => [e.instancePath, e.keyword, e.message]),
    [['/listings', 'maxItems', 'must NOT have more than 3 items']],
  );
});

test('a schema outside the subset is refused by compileValidator and validated by Ajv through serveCompilers', async () => {
  const rich = { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]{3}$' } } };
  assert.throws(() => compileValidator(rich), UnsupportedSchema);
  const app = Fastify({ schemaController: { compilersFactory: serveCompilers() } });
  app.post('/', { schema: { body: rich } }, async () => ({ ok: true }));
  assert.equal((await app.inject({ method: 'POST', url: '/', payload: { code: 'ABC' } })).statusCode, 200);
  const bad = await app.inject({ method: 'POST', url: '/', payload: { code: 'abc' } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /must match pattern/);
  await app.close();
});
