/** Tests of the RFC 4180 CSV reader and writer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../core/errors.js';
import { formatCsv, parseCsv } from './csv.js';

function err(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AppError);
    return e;
  }
  assert.fail('expected an error');
}

test('header, rows, empty cells as null, 1-based line numbers (header = line 1)', () => {
  const t = parseCsv('a,b,c\n1,,x\n2,y,\n', 'f.csv');
  assert.deepEqual(t.columns, ['a', 'b', 'c']);
  assert.deepEqual(t.rows, [
    ['1', null, 'x'],
    ['2', 'y', null],
  ]);
  assert.deepEqual(t.rowNumbers, [2, 3]);
  assert.equal(t.source, 'f.csv');
});

test('quoted commas, doubled quotes and newlines inside quotes; line numbers follow the file', () => {
  const text = 'make,variant,price\n"Maruti","VXI, AMT",1\n"Tata","XZ ""Plus""",2\n"Honda","line one\nline two",3\nKia,GTX,4\n';
  const t = parseCsv(text, 'q.csv');
  assert.deepEqual(t.rows, [
    ['Maruti', 'VXI, AMT', '1'],
    ['Tata', 'XZ "Plus"', '2'],
    ['Honda', 'line one\nline two', '3'],
    ['Kia', 'GTX', '4'],
  ]);
  // the Honda record spans lines 4-5, so Kia is on line 6
  assert.deepEqual(t.rowNumbers, [2, 3, 4, 6]);
});

test('a UTF-8 BOM, CRLF line ends, blank lines and a missing final newline', () => {
  const t = parseCsv('\uFEFFa,b\r\n1,2\r\n\r\n\r\n3,4', 'w.csv');
  assert.deepEqual(t.columns, ['a', 'b'], 'the BOM is not part of the first column name');
  assert.deepEqual(t.rows, [
    ['1', '2'],
    ['3', '4'],
  ]);
  assert.deepEqual(t.rowNumbers, [2, 5]);
  const cr = parseCsv('a\r1\r2\r', 'cr.csv');
  assert.deepEqual(cr.rows, [['1'], ['2']]);
  assert.deepEqual(parseCsv('a,b\n"x\r\ny",2\n', 'crlf-in-quotes.csv').rows, [['x\r\ny', '2']]);
});

test('header names are trimmed; cell values are kept as written', () => {
  const t = parseCsv(' a , b\n x ,y\n', 't.csv');
  assert.deepEqual(t.columns, ['a', 'b']);
  assert.deepEqual(t.rows, [[' x ', 'y']]);
});

test('a ragged row is DATA_INVALID naming the file and line', () => {
  const e = err(() => parseCsv('a,b,c\n1,2,3\n4,5\n', 'r.csv'));
  assert.equal(e.code, 'DATA_INVALID');
  assert.equal(e.message, 'r.csv:3: 2 fields, but the header has 3; check for an unquoted comma or a missing field');
  assert.equal(e.details?.line, 3);
});

test('an unterminated quote names the line where the field starts', () => {
  const e = err(() => parseCsv('a,b\n1,2\n3,"never closed\n4,5\n', 'u.csv'));
  assert.equal(e.code, 'DATA_INVALID');
  assert.equal(e.message, 'u.csv:3: a quoted field is never closed; add the closing quote (")');
});

test('a quote inside an unquoted field is refused with the line', () => {
  const e = err(() => parseCsv('a,b\n1,ab"c\n', 'm.csv'));
  assert.equal(e.code, 'DATA_INVALID');
  assert.match(e.message, /^m\.csv:2: a quote inside an unquoted field/);
});

test('empty text is DATA_EMPTY; a header alone gives zero rows', () => {
  assert.equal(err(() => parseCsv('', 'e.csv')).code, 'DATA_EMPTY');
  assert.equal(err(() => parseCsv('\n\n', 'e.csv')).code, 'DATA_EMPTY');
  assert.equal(err(() => parseCsv('\uFEFF', 'e.csv')).code, 'DATA_EMPTY');
  const t = parseCsv('a,b\n', 'h.csv');
  assert.deepEqual(t.rows, []);
});

test('formatCsv quotes only what needs it and round-trips through parseCsv', () => {
  const rows = [
    ['plain', 1234567.125, 'with, comma', null],
    ['say "hi"', 0.1 + 0.2, 'two\nlines', ' padded '],
    ['', -0, 'x', 1e21],
  ];
  const text = formatCsv(['s', 'n', 't', 'u'], rows);
  assert.equal(
    text,
    's,n,t,u\nplain,1234567.125,"with, comma",\n"say ""hi""",0.30000000000000004,"two\nlines"," padded "\n,0,x,1e+21\n',
  );
  const back = parseCsv(text, 'rt.csv');
  assert.deepEqual(back.rows, [
    ['plain', '1234567.125', 'with, comma', null],
    ['say "hi"', '0.30000000000000004', 'two\nlines', ' padded '],
    [null, '0', 'x', '1e+21'],
  ]);
  assert.equal(Number(back.rows[1][1]), 0.1 + 0.2, 'numbers keep full precision');
  assert.equal(formatCsv(['a'], [[NaN], [Infinity]]), 'a\n\n\n', 'non-finite numbers are written as empty cells');
});
