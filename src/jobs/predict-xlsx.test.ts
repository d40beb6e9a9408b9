/**
 * Batch prediction, evaluation and training's read of a workbook (.xlsx) go through the
 * streaming reader, chunk by chunk: the same listings as a CSV and as a workbook give the
 * same output byte for byte, read from a local file, a real HTTP server (sent in pieces
 * without a length, past a whole-file limit the stream does not apply) and a real
 * S3-compatible server (s3rver). Failures leave no output file and no temporary download:
 * a required column missing (named, with the fix), a workbook damaged past the first
 * chunks, a download cut part way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3rver } from '../../test/helpers/s3rver-fixture.js';
import { startHttpFixture, type HttpFixture } from '../../test/helpers/http-fixture.js';
import { fixtureTable } from '../../test/fixtures/listings.js';
import { smallBlend } from '../../test/helpers/small-blend.js';
import { readZipParts, zipParts } from '../../test/helpers/zip-parts.js';
import { AppError } from '../core/errors.js';
import { formatCsv } from '../data/csv.js';
import { formatXlsx } from '../data/xlsx.js';
import { predictFile } from './predict.js';
import { evaluate } from './evaluate.js';
import { loadListings } from './load-listings.js';

const { params, bundle } = smallBlend();

const dir = mkdtempSync(join(tmpdir(), 'carprice-predict-xlsx-'));
// downloads go to a temp folder of this file's own: test files running alongside download into
// the shared one, and the leak checks below count what is there
process.env.TMPDIR = dir;
const table = fixtureTable({ n: 4000, seed: 21 });
const csv = join(dir, 'listings.csv');
const xlsx = join(dir, 'listings.xlsx');
let book: Buffer;
let http: HttpFixture;

before(async () => {
  writeFileSync(csv, formatCsv(table.columns, table.rows));
  book = Buffer.from(await formatXlsx(table.columns, table.rows, 'Listings'));
  writeFileSync(xlsx, book);
  http = await startHttpFixture((req, res) => {
    if (req.url?.startsWith('/data/listings.xlsx')) {
      // chunked transfer encoding, no content-length
      res.writeHead(200, { 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
      const step = Math.ceil(book.length / 23);
      let at = 0;
      const send = () => {
        if (at >= book.length) return void res.end();
        res.write(book.subarray(at, at + step));
        at += step;
        setImmediate(send);
      };
      send();
    } else if (req.url === '/data/cut.xlsx') {
      res.writeHead(200, { 'content-length': String(book.length) });
      res.write(book.subarray(0, book.length >> 1), () => setTimeout(() => res.destroy(), 20));
    } else {
      res.writeHead(404);
      res.end('no');
    }
  });
});

after(async () => {
  await http.close();
  rmSync(dir, { recursive: true, force: true });
});

// a whole-file limit of 10 KB: the chunked readers do not apply it
const env = { CARPRICE_MAX_INPUT_MB: '0.01' };

async function predictTo(
  data: string,
  out: string,
  extra: Record<string, string> = {},
  chunkRows?: number,
): Promise<string> {
  await predictFile({ params, model: bundle, data, format: 'csv', out, env: { ...env, ...extra }, chunkRows });
  return readFileSync(out, 'utf8');
}

const downloads = () => readdirSync(tmpdir()).filter((f) => f.startsWith('carprice-download-')).length;

test('a workbook is priced as the same listings in a CSV, byte for byte, locally and over http(s); evaluate too', async () => {
  const want = await predictTo(csv, join(dir, 'from-csv.csv'));
  assert.equal(want.trimEnd().split('\n').length, 4001);
  assert.equal(await predictTo(xlsx, join(dir, 'from-xlsx.csv'), {}, 700), want);
  const before = downloads();
  assert.equal(await predictTo(`${http.base}/data/listings.xlsx?v=1`, join(dir, 'from-http.csv')), want);
  assert.equal(downloads(), before, 'the temporary download is removed');
  const reports: string[] = [];
  const e = await evaluate({ params, model: bundle, data: xlsx, env, onReport: (s) => reports.push(s) });
  assert.deepEqual(e, await evaluate({ params, model: bundle, data: csv }));
  assert.match(reports[0], /listings\.xlsx: 4000 rows read/);
  assert.deepEqual(await evaluate({ params, model: bundle, data: `${http.base}/data/listings.xlsx`, env }), e);
});

test("training's read of a workbook keeps what it keeps of the CSV, column for column", async () => {
  const a = await loadListings(csv, { params, env });
  const b = await loadListings(xlsx, { params, env });
  assert.deepEqual(b.frame, a.frame);
  assert.deepEqual(b.y, a.y);
  assert.deepEqual(
    { ...b.report, badCells: b.report.badCells.length },
    { ...a.report, badCells: a.report.badCells.length, source: b.report.source },
  );
});

test('a required column missing is DATA_INVALID naming it and the fix; no output file', async () => {
  const drop = table.columns.indexOf('make');
  const path = join(dir, 'no-make.xlsx');
  writeFileSync(
    path,
    await formatXlsx(
      table.columns.filter((_, j) => j !== drop),
      table.rows.map((r) => r.filter((_, j) => j !== drop)),
    ),
  );
  const out = join(dir, 'no-make-out.csv');
  await assert.rejects(
    predictTo(path, out),
    (e: unknown) =>
      e instanceof AppError &&
      e.code === 'DATA_INVALID' &&
      /no-make\.xlsx sheet "Sheet1" is missing required column\(s\): make; the header \(first row\) must name it\. Columns found: /.test(
        e.message,
      ),
  );
  assert.equal(existsSync(out), false);
});

test('a workbook damaged past its first chunks fails FILE_UNREADABLE after scoring them, and writes no output', async () => {
  const zip = zipParts(await readZipParts(book));
  const at = zip.indexOf('xl/worksheets/sheet1.xml');
  const damaged = Buffer.from(zip);
  damaged.fill(0, at + 30_000, at + 30_400);
  const path = join(dir, 'damaged.xlsx');
  writeFileSync(path, damaged);
  const out = join(dir, 'damaged-out.csv');
  const seen: number[] = [];
  await assert.rejects(
    predictFile({
      params,
      model: bundle,
      data: path,
      format: 'csv',
      out,
      chunkRows: 200,
      onRow: (p) => seen.push(p.row ?? 0),
    }),
    (e: unknown) =>
      e instanceof AppError &&
      e.code === 'FILE_UNREADABLE' &&
      /damaged\.xlsx is not a readable \.xlsx workbook \(its part xl\/worksheets\/sheet1\.xml is damaged/.test(
        e.message,
      ),
  );
  assert.ok(seen.length >= 200, `${seen.length} rows scored before the damage`);
  assert.equal(existsSync(out), false);
});

test('a download cut part way is NETWORK: no output, no temporary file left', async () => {
  const before = downloads();
  const out = join(dir, 'cut-out.csv');
  await assert.rejects(
    predictTo(`${http.base}/data/cut.xlsx`, out),
    (e: unknown) => e instanceof AppError && e.code === 'NETWORK' && /\/data\/cut\.xlsx/.test(e.message),
  );
  assert.equal(existsSync(out), false);
  assert.equal(downloads(), before);
});

test('s3://: a workbook in a real S3-compatible server (s3rver) is priced as the local file', async () => {
  const s3 = await startS3rver(join(dir, 's3'), ['listings']);
  const { env: s3env } = s3;
  try {
    await s3.put('listings', 'batch/listings.xlsx', book);
    const want = await predictTo(csv, join(dir, 'from-csv-2.csv'));
    assert.equal(await predictTo('s3://listings/batch/listings.xlsx', join(dir, 'from-s3.csv'), s3env), want);
    await assert.rejects(
      predictTo('s3://listings/batch/none.xlsx', join(dir, 's3-none.csv'), s3env),
      (e: unknown) => e instanceof AppError && e.code === 'FILE_NOT_FOUND',
    );
  } finally {
    await s3.close();
  }
});
