/**
 * Columnar CSV reading gives the cells, lines and errors of the row reader (parseCsv /
 * readCsvChunks) however the file is cut into reads and chunks; its records are those of
 * csv-parse (an outside parser) on a messy file; numbers are Number()'s bit for bit;
 * categories are trimmed, interned and coded once per value; checkColumns flags exactly
 * the cells `check` flags.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as csvParse } from 'csv-parse/sync';
import { parseCsv } from './csv.js';
import { readCsvChunks } from './csv-stream.js';
import { cellNumber, CsvColumnParser, readCsvColumnChunks, type CsvColumnReadOptions } from './csv-columns.js';
import { ListingValidator } from './validate.js';
import { buildListingSchema } from './listing-schema.js';
import { Rng } from '../core/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'carprice-csvcols-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(path: string, o: CsvColumnReadOptions) {
  const rows: (string | null)[][] = [];
  const lines: number[] = [];
  let columns: readonly string[] = [];
  let chunks = 0;
  for await (const c of readCsvColumnChunks(path, o)) {
    columns = c.columns;
    chunks++;
    for (let i = 0; i < c.n; i++) {
      rows.push(columns.map((_, j) => c.cell(i, j)));
      lines.push(c.rowNumbers[i]);
    }
  }
  return { columns, rows, lines, chunks };
}

test('the cells and line numbers of parseCsv for every read and chunk size (quotes, CRLF, lone CR, BOM, UTF-8)', async () => {
  const text =
    '\ufeffa,b,c\r\n1,"x, ""quoted""",é\r\n\r\n2,"multi\nline",ü€\n3,,""""\n4,"",z\r5,"a\r\nb",  c  \n\n6," lead",trail ';
  const path = join(dir, 't.csv');
  writeFileSync(path, text);
  const want = parseCsv(text, path);
  for (const readBytes of [1, 2, 3, 5, 7, 64, 1 << 20])
    for (const chunkBytes of [1, 10, 1 << 18]) {
      const got = await collect(path, { readBytes, chunkBytes });
      assert.deepEqual(got.columns, want.columns);
      assert.deepEqual(got.rows, want.rows, `readBytes ${readBytes}, chunkBytes ${chunkBytes}`);
      assert.deepEqual(got.lines, want.rowNumbers);
    }
  // the row reader agrees (it is the reader of training files)
  const rows: unknown[] = [];
  for await (const c of readCsvChunks(path, { chunkRows: 100 })) rows.push(...c.rows);
  assert.deepEqual(rows, want.rows);
});

test('the records of csv-parse on a generated messy file', async () => {
  const rng = new Rng(7);
  const pieces = ['a', 'b c', '', ' x ', 'q"q', 'l1\nl2', 'c,d', '12.5', 'é€', 'r\r\ns'];
  const width = 6;
  const records: string[][] = [];
  for (let i = 0; i < 3000; i++)
    records.push(Array.from({ length: width }, () => pieces[Math.floor(rng.next() * pieces.length)] + String(i % 7)));
  const field = (s: string) => (/[",\r\n]/.test(s) || rng.next() < 0.1 ? `"${s.replace(/"/g, '""')}"` : s);
  for (const eol of ['\n', '\r\n']) {
    const text =
      [Array.from({ length: width }, (_, j) => `h${j}`).join(','), ...records.map((r) => r.map(field).join(','))].join(eol) +
      eol;
    const path = join(dir, 'messy.csv');
    writeFileSync(path, text);
    const outside: string[][] = csvParse(text, {});
    const got = await collect(path, { chunkBytes: 4096, readBytes: 3001 });
    assert.deepEqual(
      got.rows,
      outside.slice(1).map((r) => r.map((x) => (x === '' ? null : x))),
    );
    assert.ok(got.chunks > 10);
  }
});

test('numbers are cellNumber (trim, no commas, Number) bit for bit, the plain decimals without strings', () => {
  const rng = new Rng(3);
  const cells: string[] = [
    '0', '-0', '007', '1.', '.5', '-.5', '.', '-', '+5', '1e3', ' 12 ', '1,234', '0x10', 'Infinity', 'abc',
    '123456789012345', '1234567890123456', '0.1', '0.30000000000000004', '99999.99', '5.000', '2.5e-3', '٣',
  ];
  for (let k = 0; k < 3000; k++) {
    const digits = 1 + Math.floor(rng.next() * 17);
    let s = '';
    for (let d = 0; d < digits; d++) s += Math.floor(rng.next() * 10);
    const dot = Math.floor(rng.next() * (digits + 2));
    if (dot <= digits) s = s.slice(0, dot) + '.' + s.slice(dot);
    cells.push(rng.next() < 0.2 ? `-${s}` : s);
  }
  const text = 'x\n' + cells.map((c) => (c.includes(',') ? `"${c}"` : c)).join('\n') + '\n\n"1.5"\n';
  const parser = new CsvColumnParser('n.csv', ['x']);
  const chunk = parser.parse(Buffer.from(text.slice(2)), 2);
  const got = chunk.numbers(0);
  const want = [...cells, '1.5'].map(cellNumber);
  assert.equal(chunk.n, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(Object.is(got[i], want[i]), `${JSON.stringify(chunk.cell(i, 0))}: ${got[i]} vs ${want[i]}`);
});

test('categories: trimmed, blank is missing, one code and one string object per value, across chunks', () => {
  const parser = new CsvColumnParser('c.csv', ['make', 'n']);
  const a = parser.parse(Buffer.from('Honda,1\n Honda ,2\n"Honda",3\n,4\n   ,5\n"Maruti ""S""",6\n'), 2);
  const b = parser.parse(Buffer.from('"Maruti ""S""",7\nHonda,8\n'), 8);
  assert.deepEqual(Array.from(a.codes(0)), [0, 0, 0, -1, -1, 1]);
  assert.deepEqual(Array.from(b.codes(0)), [1, 0]);
  assert.deepEqual(parser.dictionary(0), ['Honda', 'Maruti "S"']);
  const sa = a.strings(0);
  assert.deepEqual(sa, ['Honda', 'Honda', 'Honda', null, null, 'Maruti "S"']);
  assert.equal(b.strings(0)[1], sa[0]);
  assert.deepEqual(a.cell(1, 0), ' Honda ');
  assert.deepEqual(Array.from(a.rowNumbers), [2, 3, 4, 5, 6, 7]);
});

test('errors: empty, ragged row with its line, unclosed quote, quote inside a field, over-long record, missing file, directory; header only is one empty chunk', async () => {
  const p = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const o = { chunkBytes: 8 };
  await assert.rejects(collect(p('empty.csv', ''), o), { code: 'DATA_EMPTY', message: /0 bytes/ });
  await assert.rejects(collect(p('blank.csv', '\n\n'), o), { code: 'DATA_EMPTY' });
  await assert.rejects(collect(p('ragged.csv', 'a,b\n1,2\n3\n'), o), {
    code: 'DATA_INVALID',
    message: /ragged\.csv:3: 1 fields, but the header has 2/,
  });
  await assert.rejects(collect(p('open.csv', 'a,b\n1,"2\n'), o), {
    code: 'DATA_INVALID',
    message: /open\.csv:2: a quoted field is never closed/,
  });
  await assert.rejects(collect(p('inner.csv', 'a,b\n1,2\n1,x"y\n'), o), {
    code: 'DATA_INVALID',
    message: /inner\.csv:3: a quote inside an unquoted field/,
  });
  await assert.rejects(collect(join(dir, 'missing.csv'), o), { code: 'FILE_NOT_FOUND' });
  mkdirSync(join(dir, 'd.csv'), { recursive: true });
  await assert.rejects(collect(join(dir, 'd.csv'), o), { code: 'USAGE' });
  const big = p('big.csv', 'a\n"' + 'x'.repeat(3000) + '"\n');
  await assert.rejects(collect(big, { maxRecordChars: 1000 }), {
    code: 'DATA_INVALID',
    message: /big\.csv:2: a record longer than 1000 characters/,
  });
  await assert.rejects(collect(p('open2.csv', 'a\n"' + 'x\n'.repeat(2000)), { maxRecordChars: 1000, chunkBytes: 64 }), {
    code: 'DATA_INVALID',
    message: /open2\.csv:2: a record longer than 1000 characters/,
  });
  const h = await collect(p('header.csv', 'a,b\n'), o);
  assert.deepEqual(h, { columns: ['a', 'b'], rows: [], lines: [], chunks: 1 });
});

test('checkColumns flags exactly what check flags, with the same values, reasons and order', () => {
  const schema = buildListingSchema({
    target: 'price',
    numeric: ['km'],
    categorical: ['make', 'year'],
    optionalNumeric: ['flag'],
  });
  const header = ['make', 'km', 'year', 'price', 'flag'];
  const lines = [
    'Honda,1000,2019,500000,1',
    'Honda,abc,2019,500000,',
    ' Maruti ,-5,2031,0,2',
    ',"1,500",1985,x,',
    'Tata, 12 ,2020,,1',
    'Tata,Infinity,2020,300000,1e400',
    'Kia,2500000,1999,600000,0',
  ];
  const ranges = { km: { min: 0, max: 2_000_000 }, year: { min: 1990, max: 2026 }, price: { min: 10_000, max: 1e8 } };
  for (const requireTarget of [true, false]) {
    const v = new ListingValidator(header, schema, { source: 'v.csv' }, { requireTarget, ranges });
    const parsed = parseCsv([header.join(','), ...lines].join('\n'), 'v.csv');
    const want = v.check(parsed.rows, parsed.rowNumbers);
    const chunk = new CsvColumnParser('v.csv', header).parse(Buffer.from(lines.join('\n')), 2);
    const got = v.checkColumns(chunk);
    assert.deepEqual(got.bad, want.bad);
    assert.deepEqual(got.rowBad, want.rowBad);
    assert.deepEqual(got.categorical, want.categorical);
    for (const k of Object.keys(want.numeric))
      assert.ok(want.numeric[k].every((x, i) => Object.is(x, got.numeric[k][i])), k);
    assert.ok(want.y!.every((x, i) => Object.is(x, got.y![i])));
  }
});
