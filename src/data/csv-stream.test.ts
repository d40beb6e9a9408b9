/**
 * Streaming CSV reading gives exactly what parseCsv gives, however the file is cut into
 * reads (quotes, "" pairs, CRLF and multi-byte characters split across reads), in chunks
 * of the requested size; and its errors are parseCsv's, with lines.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv } from './csv.js';
import { readCsvChunks } from './csv-stream.js';

const dir = mkdtempSync(join(tmpdir(), 'carprice-csvstream-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(path: string, readBytes: number, chunkRows: number) {
  const rows: unknown[] = [];
  const nums: number[] = [];
  let columns: string[] = [];
  const sizes: number[] = [];
  for await (const c of readCsvChunks(path, { readBytes, chunkRows })) {
    columns = c.columns;
    rows.push(...c.rows);
    nums.push(...c.rowNumbers);
    sizes.push(c.rows.length);
  }
  return { columns, rows, rowNumbers: nums, sizes };
}

test('the same rows and line numbers as parseCsv for every read size', async () => {
  const text = '\ufeffa,b,c\r\n1,"x, ""quoted""",é\r\n\r\n2,"multi\nline",ü€\n3,,""""\n4,"",z';
  const path = join(dir, 't.csv');
  writeFileSync(path, text);
  const want = parseCsv(text, path);
  for (const readBytes of [1, 2, 3, 5, 7, 64]) {
    const got = await collect(path, readBytes, 2);
    assert.deepEqual(got.columns, want.columns);
    assert.deepEqual(got.rows, want.rows, `readBytes ${readBytes}`);
    assert.deepEqual(got.rowNumbers, want.rowNumbers);
    assert.deepEqual(got.sizes, [2, 2]);
  }
});

test('errors: empty file, ragged row with its line, unclosed quote, an over-long record; header only is one empty chunk', async () => {
  const p = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  await assert.rejects(collect(p('empty.csv', ''), 64, 10), { code: 'DATA_EMPTY' });
  await assert.rejects(collect(p('ragged.csv', 'a,b\n1,2\n3\n'), 64, 10), { code: 'DATA_INVALID', message: /ragged\.csv:3: 1 fields, but the header has 2/ });
  await assert.rejects(collect(p('open.csv', 'a,b\n1,"2\n'), 64, 10), { code: 'DATA_INVALID', message: /open\.csv:2: a quoted field is never closed/ });
  await assert.rejects(collect(join(dir, 'missing.csv'), 64, 10), { code: 'FILE_NOT_FOUND' });
  const big = p('big.csv', 'a\n"' + 'x'.repeat(3000) + '"\n');
  await assert.rejects(
    (async () => {
      for await (const _ of readCsvChunks(big, { maxRecordChars: 1000 })) void _;
    })(),
    { code: 'DATA_INVALID', message: /big\.csv:2: a record longer than 1000 characters/ },
  );
  const h = await collect(p('header.csv', 'a,b\n'), 64, 10);
  assert.deepEqual(h, { columns: ['a', 'b'], rows: [], rowNumbers: [], sizes: [0] });
});
