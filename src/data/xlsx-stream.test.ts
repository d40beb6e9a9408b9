/**
 * The streaming .xlsx reader against the whole-workbook reader (exceljs Workbook.xlsx.load,
 * xlsx.ts parseXlsx) as the oracle, cell for cell: on the real dataset, on workbooks written
 * by exceljs's writer with every kind of cell (shared and rich strings, multi-byte text cut
 * across inflate chunks, dates in both date systems, formulas' cached results, errors,
 * hyperlinks, blank rows), and on workbooks whose parts are stored in another order or
 * written by hand (inline strings, no styles, no shared strings). Then every failure: not a
 * zip, cut short, a damaged part, malformed or truncated XML, no workbook part, a missing
 * sheet, an empty sheet, 0 bytes, a missing path, a directory, an abort; and no file handle
 * left open when a reader stops early.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { AppError } from '../core/errors.js';
import { readZipParts, zipParts, type ZipPart } from '../../test/helpers/zip-parts.js';
import type { RawTable } from './table.js';
import { parseXlsx } from './xlsx.js';
import { readXlsxChunks, type XlsxChunk, type XlsxStreamOptions } from './xlsx-stream.js';

const dir = mkdtempSync(join(tmpdir(), 'carprice-xlsx-stream-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DATASET = join(root, '..', 'shared', 'data', 'cars24_v3.xlsx');

/** Every chunk of a file, and the chunks joined as the whole-workbook reader's table. */
async function streamed(path: string, o: XlsxStreamOptions = {}): Promise<{ table: RawTable; chunks: XlsxChunk[] }> {
  const chunks: XlsxChunk[] = [];
  for await (const c of readXlsxChunks(path, o)) chunks.push(c);
  const table: RawTable = { source: o.source ?? path, sheet: chunks[0].sheet, sheets: chunks[0].sheets, columns: chunks[0].columns, rows: [], rowNumbers: [] };
  for (const c of chunks) {
    assert.deepEqual(c.columns, table.columns);
    table.rows.push(...c.rows);
    table.rowNumbers.push(...c.rowNumbers);
  }
  return { table, chunks };
}

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

async function err(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AppError, String((e as Error).stack));
    return e;
  }
  assert.fail('expected an error');
}

/** Same table as the whole-workbook reader, cell for cell (types included), same row numbers. */
async function sameAsWhole(path: string, o: XlsxStreamOptions = {}): Promise<RawTable> {
  const whole = await parseXlsx(readFileSync(path), path, o.sheet);
  const { table } = await streamed(path, o);
  assert.deepEqual(table.columns, whole.columns);
  assert.equal(table.sheet, whole.sheet);
  assert.deepEqual(table.sheets, whole.sheets);
  assert.deepEqual(table.rowNumbers, whole.rowNumbers);
  assert.equal(table.rows.length, whole.rows.length);
  for (let i = 0; i < whole.rows.length; i++) assert.deepStrictEqual(table.rows[i], whole.rows[i], `row ${whole.rowNumbers[i]}`);
  return table;
}

test('cars24_v3.xlsx: every cell as the whole-workbook reader gives it, in chunks of 1,000', { skip: existsSync(DATASET) ? false : `${DATASET} is absent` }, async () => {
  const whole = await parseXlsx(readFileSync(DATASET), DATASET);
  const { table, chunks } = await streamed(DATASET, { chunkRows: 1000 });
  assert.equal(whole.rows.length, 7391);
  assert.deepEqual(
    chunks.map((c) => c.rows.length),
    [1000, 1000, 1000, 1000, 1000, 1000, 1000, 391],
  );
  assert.deepEqual(table.columns, whole.columns);
  assert.deepEqual([table.sheet, table.sheets], [whole.sheet, whole.sheets]);
  assert.deepEqual(table.rowNumbers, whole.rowNumbers);
  let cells = 0;
  for (let i = 0; i < whole.rows.length; i++)
    for (let j = 0; j < whole.columns.length; j++) {
      assert.ok(Object.is(table.rows[i][j], whole.rows[i][j]), `row ${whole.rowNumbers[i]} ${whole.columns[j]}: ${table.rows[i][j]} vs ${whole.rows[i][j]}`);
      cells++;
    }
  assert.equal(cells, 7391 * 39);
  assert.ok(chunks.at(-1)!.fraction === 1 && chunks[0].fraction > 0 && chunks[0].fraction < 0.3);
});

const MULTI = ['Škoda Octavia', 'Citroën C3', 'Hyundai ₹ edition', '日産 Sunny', 'Mercedes-Benz “AMG”', 'Emoji 🚗 car'];

/** A workbook with every kind of cell exceljs writes, a second sheet, and 3,000 rows of multi-byte text. */
async function kindsWorkbook(date1904 = false): Promise<Uint8Array> {
  const wb = new ExcelJS.Workbook();
  if (date1904) wb.properties.date1904 = true;
  const ws = wb.addWorksheet('Listings');
  ws.addRow(['make', 'km', 'price', 'sold', 'listed', 'note', 'double', 'label', 'ratio', 'site', ' padded ']);
  ws.addRow(['Škoda', 52000, 450000.5, true, new Date(Date.UTC(2024, 2, 14)), { richText: [{ text: 'Very ', font: { bold: true } }, { text: 'good' }] }, { formula: 'B2*2', result: 104000 }, { formula: 'A2&"!"', result: 'Škoda!' }, { formula: '1/0', result: { error: '#DIV/0!' } }, { text: 'cars24', hyperlink: 'https://www.cars24.com' }, '  x  ']);
  ws.addRow([]); // a blank row: skipped, the next keeps its sheet row number
  ws.addRow(['Tata', null, 0, false, new Date(Date.UTC(1999, 11, 31)), '', { formula: 'B4*2' }, null, -0.25, null, 7]);
  // mostly 3-byte characters: the inflated chunks of the strings and of the sheet cut some
  for (let i = 0; i < 3000; i++) ws.addRow([`${MULTI[i % MULTI.length]} #${i}`, i * 17, 1e5 + i, i % 2 === 0, null, `${'é'.repeat(i % 7)}${i}`, null, null, null, null, `${'日本語'.repeat(1 + (i % 40))}${i}`]);
  const notes = wb.addWorksheet('Notes');
  notes.addRow(['about']);
  notes.addRow(['written by a test']);
  wb.addWorksheet('Empty');
  const header = wb.addWorksheet('HeaderOnly');
  header.addRow(['make', 'km']);
  const low = wb.addWorksheet('StartsLow');
  low.getCell('A3').value = 'make';
  low.getCell('A4').value = 'Kia';
  return new Uint8Array(await wb.xlsx.writeBuffer());
}

test('every kind of cell as the whole-workbook reader gives it; the values written come back', async () => {
  const path = await write('kinds.xlsx', await kindsWorkbook());
  const t = await sameAsWhole(path, { chunkRows: 250 });
  assert.equal(t.sheet, 'Listings');
  assert.deepEqual(t.sheets, ['Listings', 'Notes', 'Empty', 'HeaderOnly', 'StartsLow']);
  assert.deepEqual(t.columns, ['make', 'km', 'price', 'sold', 'listed', 'note', 'double', 'label', 'ratio', 'site', 'padded']);
  // the oracle from outside both readers: what was written
  assert.deepEqual(t.rows[0], ['Škoda', 52000, 450000.5, true, '2024-03-14', 'Very good', 104000, 'Škoda!', null, 'cars24', '  x  ']);
  assert.deepEqual(t.rows[1], ['Tata', null, 0, false, '1999-12-31', null, null, null, -0.25, null, 7]);
  assert.deepEqual(t.rowNumbers.slice(0, 3), [2, 4, 5]);
  assert.equal(t.rows.length, 3002);
  for (let i = 0; i < 3000; i++) {
    assert.equal(t.rows[i + 2][0], `${MULTI[i % MULTI.length]} #${i}`);
    assert.equal(t.rows[i + 2][5], `${'é'.repeat(i % 7)}${i}`);
    assert.equal(t.rows[i + 2][10], `${'日本語'.repeat(1 + (i % 40))}${i}`);
  }
  await sameAsWhole(path, { sheet: 'Notes' });
  await sameAsWhole(path, { sheet: 'HeaderOnly' });
});

test('a 1904 workbook: dates as written, as the whole-workbook reader reads them', async () => {
  const path = await write('kinds-1904.xlsx', await kindsWorkbook(true));
  const t = await sameAsWhole(path);
  assert.equal(t.rows[0][4], '2024-03-14');
  assert.equal(t.rows[1][4], '1999-12-31');
});

test('parts stored in any order (sheets first, workbook last, styles and strings between) read the same', async () => {
  const parts = await readZipParts(await kindsWorkbook());
  const rank = (p: ZipPart) => (/worksheets\/sheet/.test(p.name) ? 0 : /sharedStrings/.test(p.name) ? 1 : /styles/.test(p.name) ? 2 : /workbook\.xml$/.test(p.name) ? 4 : 3);
  const reordered = [...parts].sort((a, b) => rank(a) - rank(b));
  assert.notDeepEqual(
    reordered.map((p) => p.name),
    parts.map((p) => p.name),
  );
  const a = await streamed(await write('ordered.xlsx', zipParts(parts)));
  const b = await sameAsWhole(await write('reordered.xlsx', zipParts(reordered)));
  assert.deepEqual(b, a.table && { ...a.table, source: b.source });
});

/** A workbook written by hand: inline strings, no styles, no shared strings; `cells` is row 2's XML. */
function handWorkbook(sheetXml: string, workbookXml?: string): Buffer {
  const part = (name: string, text: string): ZipPart => ({ name, data: Buffer.from(text, 'utf8') });
  const parts = [
    part(
      '[Content_Types].xml',
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    ),
    part(
      '_rels/.rels',
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    ),
    part('xl/worksheets/sheet1.xml', sheetXml),
    part(
      'xl/_rels/workbook.xml.rels',
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/></Relationships>',
    ),
  ];
  if (workbookXml !== '')
    parts.push(
      part(
        'xl/workbook.xml',
        workbookXml ??
          '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Hand" sheetId="1" r:id="rId1"/></sheets></workbook>',
      ),
    );
  return zipParts(parts);
}

const sheetXml = (rows: string, tail = '</sheetData></worksheet>') =>
  `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
  `<row r="1"><c r="A1" t="inlineStr"><is><t>make</t></is></c><c r="B1" t="inlineStr"><is><t>km</t></is></c><c r="C1" t="inlineStr"><is><t>ok</t></is></c><c r="D1" t="inlineStr"><is><t>calc</t></is></c></row>` +
  rows +
  tail;

test('a hand-written workbook: inline strings, no styles or shared strings, an absolute sheet target', async () => {
  const path = await write(
    'hand.xlsx',
    handWorkbook(
      sheetXml(
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Mahindra &amp; Mahindra</t></is></c><c r="B2"><v>12.5</v></c><c r="C2" t="b"><v>1</v></c><c r="D2" t="str"><f>A2</f><v>Mahindra</v></c></row>' +
          '<row r="3"><c r="A3" t="inlineStr"><is><t>Škoda</t></is></c><c r="B3" t="e"><v>#N/A</v></c><c r="C3" t="b"><v>0</v></c><c r="D3"><f>B2*2</f><v>25</v></c></row>',
      ),
    ),
  );
  const t = await sameAsWhole(path);
  assert.equal(t.sheet, 'Hand');
  assert.deepEqual(t.rows, [
    ['Mahindra & Mahindra', 12.5, true, 'Mahindra'],
    ['Škoda', null, false, 25],
  ]);
});

test('a formula with a boolean result: the one value that differs (1 streamed, true whole)', async () => {
  const path = await write('bool-formula.xlsx', handWorkbook(sheetXml('<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c><c r="D2" t="b"><f>1=1</f><v>1</v></c></row>')));
  const whole = await parseXlsx(readFileSync(path), path);
  const { table } = await streamed(path);
  assert.deepEqual(whole.rows[0], ['x', null, null, true]);
  assert.deepEqual(table.rows[0], ['x', null, null, 1]);
});

test('sheets: the first in tab order by default, a named one, a missing one names those there are', async () => {
  const path = await write('sheets.xlsx', await kindsWorkbook());
  assert.equal((await streamed(path)).table.sheet, 'Listings');
  assert.deepEqual((await streamed(path, { sheet: 'Notes' })).table.rows, [['written by a test']]);
  const missing = await err(streamed(path, { sheet: 'Sheet9' }));
  assert.equal(missing.code, 'DATA_INVALID');
  assert.equal(missing.message, `${path} has no sheet "Sheet9"; its sheets are: Listings, Notes, Empty, HeaderOnly, StartsLow`);
  // a header and no rows: one empty chunk
  const { chunks } = await streamed(path, { sheet: 'HeaderOnly' });
  assert.deepEqual(
    chunks.map((c) => [c.columns, c.rows.length]),
    [[['make', 'km'], 0]],
  );
  const empty = await err(streamed(path, { sheet: 'Empty' }));
  assert.equal(empty.code, 'DATA_EMPTY');
  assert.match(empty.message, /sheet "Empty" is empty; expected a header row and listings\. The workbook's sheets are: Listings, Notes, Empty, HeaderOnly, StartsLow; if the listings are on another sheet, set data_source\.sheet/);
  // the header is row 1, for both readers
  assert.equal((await err(streamed(path, { sheet: 'StartsLow' }))).code, 'DATA_EMPTY');
  assert.equal((await err(parseXlsx(readFileSync(path), path, 'StartsLow'))).code, 'DATA_EMPTY');
});

test('chunks: rows in order with their sheet row numbers, the share read growing to 1', async () => {
  const { chunks } = await streamed(await write('chunks.xlsx', await kindsWorkbook()), { chunkRows: 1000 });
  assert.deepEqual(
    chunks.map((c) => c.rows.length),
    [1000, 1000, 1000, 2],
  );
  assert.deepEqual(chunks[1].rowNumbers.slice(0, 2), [1003, 1004]);
  const fractions = chunks.map((c) => c.fraction);
  assert.deepEqual([...fractions].sort((a, b) => a - b), fractions);
  assert.equal(fractions.at(-1), 1);
});

test('files that are not intact workbooks are FILE_UNREADABLE, naming the file and the fix', async () => {
  const good = Buffer.from(await kindsWorkbook());
  const unreadable = async (name: string, bytes: Uint8Array, why: RegExp) => {
    const path = await write(name, bytes);
    const e = await err(streamed(path));
    assert.equal(e.code, 'FILE_UNREADABLE', e.message);
    assert.ok(e.message.startsWith(`${path} is not a readable .xlsx workbook (`), e.message);
    assert.match(e.message, why);
    assert.match(e.message, /save it again as Excel \.xlsx or export CSV$/);
  };
  await unreadable('csv.xlsx', Buffer.from('make,km\nKia,1\n'), /not a zip archive, or cut short/);
  await unreadable('cut.xlsx', good.subarray(0, Math.floor(good.length * 0.6)), /not a zip archive, or cut short/);
  // the sheet's compressed bytes overwritten part way: found while its rows are read
  const parts = await readZipParts(good);
  const zip = zipParts(parts);
  const sheetAt = zip.indexOf('xl/worksheets/sheet1.xml');
  const damaged = Buffer.from(zip);
  damaged.fill(0xa5, sheetAt + 5000, sheetAt + 5400);
  await unreadable('damaged.xlsx', damaged, /its part xl\/worksheets\/sheet1\.xml is damaged/);
  await unreadable('no-workbook.xlsx', handWorkbook(sheetXml(''), ''), /it has no xl\/workbook\.xml/);
  await unreadable('bad-xml.xlsx', handWorkbook(sheetXml('<row r="2"><c r="A2"><v>1</v></c></rowx>')), /its part xl\/worksheets\/sheet1\.xml is damaged/);
  // XML that stops part way (a writer that died) is not taken for a shorter sheet
  await unreadable('cut-xml.xlsx', handWorkbook(sheetXml('<row r="2"><c r="A2"><v>1</v></c></row><row r="3"><c r="A3"><v>2', '')), /its part xl\/worksheets\/sheet1\.xml is damaged: it stops part way/);
});

test('0 bytes is DATA_EMPTY, a missing path FILE_NOT_FOUND, a directory USAGE', async () => {
  const empty = await write('empty.xlsx', new Uint8Array(0));
  const e = await err(streamed(empty));
  assert.deepEqual([e.code, e.message], ['DATA_EMPTY', `${empty} is empty (0 bytes); expected listings`]);
  assert.equal((await err(streamed(join(dir, 'none.xlsx')))).code, 'FILE_NOT_FOUND');
  const sub = join(dir, 'folder.xlsx');
  mkdirSync(sub);
  assert.equal((await err(streamed(sub))).code, 'USAGE');
});

test('an abort is INTERRUPTED; a reader stopped early or failing leaves no file handle open', async () => {
  const path = await write('abort.xlsx', await kindsWorkbook());
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();
  for (let k = 0; k < 20; k++) {
    for await (const c of readXlsxChunks(path, { chunkRows: 100 })) {
      assert.equal(c.rows.length, 100);
      break;
    }
  }
  for (let k = 0; k < 5; k++) await err(streamed(path, { sheet: 'Sheet9' }));
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(fds() <= before + 1, `${fds()} open file descriptors, ${before} before`);
  const ac = new AbortController();
  const e = await err(
    (async () => {
      for await (const c of readXlsxChunks(path, { chunkRows: 100, signal: ac.signal })) {
        void c;
        ac.abort();
      }
    })(),
  );
  assert.equal(e.code, 'INTERRUPTED');
});
