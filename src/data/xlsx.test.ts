/** Tests of the xlsx reader: round trip, formulas, rich text, dates, sheets, damaged files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import { AppError } from '../core/errors.js';
import { formatXlsx, parseXlsx } from './xlsx.js';

async function err(fn: () => Promise<unknown>): Promise<AppError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof AppError, String(e));
    return e;
  }
  assert.fail('expected an error');
}

test('formatXlsx -> parseXlsx round trip keeps types, nulls and row numbers', async () => {
  const columns = ['make', 'odometer', 'color', 'flag'];
  const rows = [
    ['Maruti', 52000, 'White', true],
    ['Honda, Japan', 0.5, null, false],
    ['Tata "X"', 1e7, 'Red', null],
  ];
  const bytes = await formatXlsx(columns, rows, 'Listings');
  const t = await parseXlsx(bytes, 'rt.xlsx');
  assert.equal(t.sheet, 'Listings');
  assert.deepEqual(t.columns, columns);
  assert.deepEqual(t.rows, rows);
  assert.deepEqual(t.rowNumbers, [2, 3, 4]);
});

test('formula cells give their cached result, rich text its plain text, dates an ISO date; empty rows are skipped', async () => {
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('Other').addRow(['nothing']);
  const ws = wb.addWorksheet('Data');
  ws.addRow(['price', 'name', 'listed']);
  ws.addRow([{ formula: 'B1*2', result: 1200 }, { richText: [{ text: 'Swi' }, { font: { bold: true }, text: 'ft' }] }, new Date(Date.UTC(2024, 2, 5))]);
  ws.getRow(4).values = [500, { text: 'link', hyperlink: 'https://example.invalid' }, null];
  const bytes = new Uint8Array((await wb.xlsx.writeBuffer()));
  const t = await parseXlsx(bytes, 'f.xlsx', 'Data');
  assert.deepEqual(t.columns, ['price', 'name', 'listed']);
  assert.deepEqual(t.rows, [
    [1200, 'Swift', '2024-03-05'],
    [500, 'link', null],
  ]);
  assert.deepEqual(t.rowNumbers, [2, 4], 'row 3 is empty and skipped; numbers are sheet rows');
  const first = await parseXlsx(bytes, 'f.xlsx');
  assert.equal(first.sheet, 'Other', 'the first sheet by default');
});

test('a sheet that does not exist is DATA_INVALID listing the sheets there are', async () => {
  const bytes = await formatXlsx(['a'], [[1]], 'Listings');
  const e = await err(() => parseXlsx(bytes, 'cars.xlsx', 'Sheet9'));
  assert.equal(e.code, 'DATA_INVALID');
  assert.equal(e.message, 'cars.xlsx has no sheet "Sheet9"; its sheets are: Listings');
});

test('bytes that are not a workbook are FILE_UNREADABLE; an empty sheet is DATA_EMPTY', async () => {
  const e = await err(() => parseXlsx(new TextEncoder().encode('a,b\n1,2\n'), 'fake.xlsx'));
  assert.equal(e.code, 'FILE_UNREADABLE');
  assert.match(e.message, /^fake\.xlsx is not a readable \.xlsx workbook/);
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('Empty');
  const empty = new Uint8Array((await wb.xlsx.writeBuffer()));
  assert.equal((await err(() => parseXlsx(empty, 'empty.xlsx'))).code, 'DATA_EMPTY');
});
