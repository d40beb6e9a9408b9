import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonNestingExceeds } from './json-depth.js';

test('jsonNestingExceeds counts arrays and objects inside each other, not brackets inside strings', () => {
  assert.equal(jsonNestingExceeds('{"a":[1,{"b":[]}]}', 3), true);
  assert.equal(jsonNestingExceeds('{"a":[1,{"b":[]}]}', 4), false);
  // siblings do not add up: depth 3 however many there are
  assert.equal(jsonNestingExceeds(`{"l":[${'{},'.repeat(1000)}{}]}`, 3), false);
  assert.equal(jsonNestingExceeds(`{"l":[${'{},'.repeat(1000)}{}]}`, 2), true);
  // brackets in strings, escaped quotes and backslashes do not open anything
  assert.equal(jsonNestingExceeds(`{"make":"${'['.repeat(500)}"}`, 2), false);
  assert.equal(jsonNestingExceeds(`{"make":"a\\"${'{'.repeat(500)}\\\\"}`, 2), false);
  assert.equal(jsonNestingExceeds(`{"make":"a\\\\",${'['.repeat(5)}${']'.repeat(5)}}`, 3), true);
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  assert.equal(jsonNestingExceeds(deep(64), 64), false);
  assert.equal(jsonNestingExceeds(deep(65), 64), true);
  assert.equal(jsonNestingExceeds(deep(100_000), 64), true);
});
