/** textTable / formatTime: exact layouts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime, MAX_CELL_WIDTH, textTable } from './text-table.js';

test('textTable pads columns to the widest cell and leaves the last column ragged', () => {
  assert.equal(
    textTable(
      ['ID', 'Name', 'Where'],
      [
        ['0', 'Default', 'a'],
        ['12', 'cars', 'mlflow-artifacts:/12'],
      ],
    ),
    'ID  Name     Where\n--  -------  --------------------\n0   Default  a\n12  cars     mlflow-artifacts:/12\n',
  );
});

test('textTable cuts over-long cells except in the last column', () => {
  const long = 'x'.repeat(500);
  const out = textTable(['Name', 'Loc'], [[long, long]]).split('\n');
  assert.equal(out[2], 'x'.repeat(MAX_CELL_WIDTH - 3) + '...  ' + long);
  assert.equal(out[1].split('  ')[0].length, MAX_CELL_WIDTH);
});

test('formatTime renders UTC and "-" for absent times', () => {
  assert.equal(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5)), '2024-01-02 03:04:05');
  assert.equal(formatTime(undefined), '-');
  assert.equal(formatTime(0), '-');
});
