import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scalarText } from './text.js';

test('scalarText matches String() for scalars, lists and objects with their own toString', () => {
  for (const v of ['a', 1.5, true, 10n, undefined, [1, 'b', null], new Date(0), new URL('http://x/')])
    assert.equal(scalarText(v), String(v));
  assert.equal(scalarText(null), 'null');
});

test('scalarText shows a plain object as JSON, never [object Object]', () => {
  assert.equal(scalarText({ a: 1 }), '{"a":1}');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(scalarText(cyclic), '[object]');
});
