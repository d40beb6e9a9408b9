/** Tests of the validation kit: every problem reported, each with its path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from './errors.js';
import { parseWith, v, type Issue } from './schema.js';

function run<T>(val: (x: unknown, p: string, i: Issue[]) => T, x: unknown): { out: T; issues: Issue[] } {
  const issues: Issue[] = [];
  return { out: val(x, 'k', issues), issues };
}

test('number: accepts numeric strings, checks bounds and integers with a message naming the bound', () => {
  assert.deepEqual(run(v.number(), '2.5'), { out: 2.5, issues: [] });
  assert.deepEqual(run(v.number({ min: 0, max: 1, exclusiveMin: true }), 0).issues, [
    { path: 'k', message: 'expected a number > 0 and <= 1, got 0' },
  ]);
  assert.deepEqual(run(v.number({ int: true }), 1.5).issues, [{ path: 'k', message: 'expected an integer, got 1.5' }]);
  assert.deepEqual(run(v.number(), 'abc').issues, [{ path: 'k', message: 'expected a number, got "abc"' }]);
  assert.equal(run(v.number(), '').issues.length, 1, 'an empty string is not 0');
  assert.equal(run(v.number(), Infinity).issues.length, 1);
});

test('string, boolean, oneOf, array', () => {
  assert.deepEqual(run(v.string({ nonEmpty: true }), '').issues, [{ path: 'k', message: 'must not be empty' }]);
  assert.equal(run(v.string(), 12).out, '12');
  assert.equal(run(v.string({ pattern: /^a:b$/ }), 'ab').issues.length, 1);
  assert.equal(run(v.boolean(), 'true').out, true);
  assert.deepEqual(run(v.boolean(), 'yes').issues, [{ path: 'k', message: 'expected true or false, got "yes"' }]);
  assert.deepEqual(run(v.oneOf(['a', 'b']), 'c').issues, [{ path: 'k', message: 'expected one of a, b, got "c"' }]);
  const arr = run(v.array(v.number()), [1, 'x', 3, 'y']);
  assert.deepEqual(
    arr.issues.map((i) => i.path),
    ['k[1]', 'k[3]'],
  );
  assert.deepEqual(run(v.array(v.number(), { minLength: 1 }), []).issues, [
    { path: 'k', message: 'expected at least 1 item(s), got 0' },
  ]);
});

test('object: reports unknown keys and every nested problem; section defaults a missing mapping', () => {
  const schema = v.object({
    a: v.section({ x: v.optional(v.number(), 1), y: v.optional(v.boolean(), false) }),
    b: v.required(v.string()),
    m: v.optional(v.record(v.number()), {}),
  });
  const issues: Issue[] = [];
  const out = schema({ a: { x: 'no', z: 1 }, m: { p: 1, q: 'r' }, extra: true }, '', issues);
  assert.deepEqual(
    issues.map((i) => i.path),
    ['a.x', 'a.z', 'b', 'b', 'm.q', 'extra'],
  );
  assert.equal(out.a.y, false);
  const ok: Issue[] = [];
  assert.deepEqual(schema({ b: 's' }, '', ok), { a: { x: 1, y: false }, b: 's', m: {} });
  assert.deepEqual(ok, []);
});

test('parseWith throws one AppError listing every issue, or returns the value', () => {
  const schema = v.object({ p: v.number(), q: v.number() });
  assert.deepEqual(parseWith(schema, { p: 1, q: 2 }, 'x.yaml'), { p: 1, q: 2 });
  try {
    parseWith(schema, { p: 'a', q: 'b' }, 'x.yaml');
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.equal(
      e.message,
      'x.yaml has 2 problem(s):\n  p: expected a number, got "a"\n  q: expected a number, got "b"',
    );
    assert.equal((e.details?.issues as Issue[]).length, 2);
  }
  assert.throws(
    () => parseWith(schema, [], 'body', 'INPUT_INVALID'),
    (e: unknown) =>
      e instanceof AppError && e.code === 'INPUT_INVALID' && /\(root\): expected a mapping/.test(e.message),
  );
});
