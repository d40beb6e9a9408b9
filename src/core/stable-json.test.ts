/** Tests of stable JSON: same value, same bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stableStringify } from './stable-json.js';

test('keys are sorted at every depth, arrays keep their order', () => {
  assert.equal(stableStringify({ b: 1, a: { d: [3, 1], c: 2 } }), '{"a":{"c":2,"d":[3,1]},"b":1}');
  assert.equal(stableStringify({ a: 1, b: 2 }), stableStringify({ b: 2, a: 1 }));
});

test('typed arrays become plain arrays, Maps become objects, undefined keys are dropped', () => {
  assert.equal(stableStringify({ x: new Float64Array([1.5, 2]), y: new Uint32Array([3]) }), '{"x":[1.5,2],"y":[3]}');
  assert.equal(
    stableStringify(
      new Map<string, number>([
        ['z', 1],
        ['a', 2],
      ]),
    ),
    '{"a":2,"z":1}',
  );
  assert.equal(stableStringify({ a: undefined, b: null }), '{"b":null}');
});

test('non-finite numbers are written as null; full precision is kept', () => {
  assert.equal(stableStringify([NaN, Infinity, -Infinity]), '[null,null,null]');
  const x = 0.1 + 0.2;
  assert.equal(JSON.parse(stableStringify({ x })).x, x);
});

test('objects with toJSON (Date, models) are serialised through it, as JSON.stringify does', () => {
  const d = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(stableStringify({ at: d }), '{"at":"2024-01-02T03:04:05.000Z"}');
  const model = { toJSON: () => ({ z: 1, a: 2 }) };
  assert.equal(stableStringify({ m: model }), '{"m":{"a":2,"z":1}}');
});

test('indentation is passed through', () => {
  assert.equal(stableStringify({ b: 1, a: 2 }, 2), '{\n  "a": 2,\n  "b": 1\n}');
});
