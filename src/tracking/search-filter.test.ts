/** equalsClause: filters for names holding quotes that carprice (and MLflow) parse back to the name. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { equalsClause, parseFilter } from './search-filter.js';

test('equalsClause quotes a value so the filter parser reads it back unchanged', () => {
  assert.deepEqual(equalsClause('name', 'UsedCarPriceModel'), { clause: "name = 'UsedCarPriceModel'", exact: true });
  assert.deepEqual(equalsClause('name', "O'Brien"), { clause: `name = "O'Brien"`, exact: true });
  assert.deepEqual(equalsClause('name', `a'b"c`), { clause: "name LIKE 'a_b_c'", exact: false });
  for (const v of ['plain', "O'Brien", 'say "hi"']) {
    assert.deepEqual(parseFilter(equalsClause('name', v).clause), [
      { type: 'attribute', key: 'name', op: '=', value: v },
    ]);
  }
  assert.deepEqual(parseFilter(equalsClause('name', `a'b"c`).clause), [
    { type: 'attribute', key: 'name', op: 'LIKE', value: 'a_b_c' },
  ]);
});
