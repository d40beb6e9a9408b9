/**
 * Tests of the source reader: local paths, a real HTTP server on 127.0.0.1 (CSV, 404,
 * refused connection) and a real S3-compatible server (s3rver) for s3:// URLs.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3rver } from '../../test/helpers/s3rver-fixture.js';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHttpFixture, type HttpFixture } from '../../test/helpers/http-fixture.js';
import { AppError } from '../core/errors.js';
import { openRemoteStream, readTable } from './read.js';
import { formatXlsx } from './xlsx.js';

const CSV = 'make,price\nMaruti,500000\n"Tata, Motors",600000\n';
let dir: string;
let http: HttpFixture;
let base: string;
const stalled: ServerResponse[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'carprice-read-'));
  http = await startHttpFixture((req, res) => {
    if (req.url?.startsWith('/data/cars.csv')) {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end(CSV);
    } else if (req.url === '/stall.csv') {
      // part of the body, then nothing, the connection kept open
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write(CSV.slice(0, 20));
      stalled.push(res);
    } else if (req.url === '/reset.csv') {
      // a length promised, part of it sent, the connection dropped
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(CSV.length * 10) });
      res.write(CSV);
      setTimeout(() => req.socket.destroy(), 50);
    } else {
      res.writeHead(404);
      res.end('no');
    }
  });
  base = http.base;
});

after(async () => {
  for (const r of stalled) r.destroy();
  await http.close();
  rmSync(dir, { recursive: true, force: true });
});

async function err(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AppError, String(e));
    return e;
  }
  assert.fail('expected an error');
}

test('local .csv and .xlsx files', async () => {
  const csv = join(dir, 'a.csv');
  writeFileSync(csv, CSV);
  const t = await readTable(csv);
  assert.deepEqual(t.columns, ['make', 'price']);
  assert.deepEqual(t.rows, [
    ['Maruti', '500000'],
    ['Tata, Motors', '600000'],
  ]);
  const xlsx = join(dir, 'a.XLSX');
  writeFileSync(xlsx, await formatXlsx(['make', 'price'], [['Kia', 700000]], 'Cars'));
  const x = await readTable(xlsx);
  assert.deepEqual(x.rows, [['Kia', 700000]]);
  assert.equal(x.sheet, 'Cars');
  const forced = join(dir, 'data.txt');
  writeFileSync(forced, CSV);
  assert.equal((await readTable(forced, { format: 'csv' })).rows.length, 2);
});

test('local errors: missing file, directory, unknown extension, empty file', async () => {
  const missing = await err(readTable(join(dir, 'nope.csv')));
  assert.equal(missing.code, 'FILE_NOT_FOUND');
  assert.match(missing.message, /nope\.csv does not exist; check the path/);
  const sub = join(dir, 'folder.csv');
  mkdirSync(sub);
  assert.equal((await err(readTable(sub))).code, 'USAGE');
  const unknown = await err(readTable(join(dir, 'cars.json')));
  assert.equal(unknown.code, 'USAGE');
  assert.match(unknown.message, /cannot tell the format of .*cars\.json: name it \.csv or \.xlsx/);
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  const e = await err(readTable(empty));
  assert.equal(e.code, 'DATA_EMPTY');
  assert.equal(e.message, `${empty} is empty (0 bytes); expected listings`);
});

test('http(s): a CSV served by a real server (query string ignored for the format)', async () => {
  const t = await readTable(`${base}/data/cars.csv?token=abc`);
  assert.equal(t.source, `${base}/data/cars.csv?token=abc`);
  assert.deepEqual(t.rows[1], ['Tata, Motors', '600000']);
});

test('http(s): 404 and a refused connection are NETWORK errors naming the URL', async () => {
  const e = await err(readTable(`${base}/missing.csv`));
  assert.equal(e.code, 'NETWORK');
  assert.equal(e.message, `downloading ${base}/missing.csv failed with HTTP 404; check the URL and access rights`);
  // a port that was just free: nothing listens there
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const refused = await err(readTable(`http://127.0.0.1:${port}/x.csv`));
  assert.equal(refused.code, 'NETWORK');
  assert.match(refused.message, /^could not download http:\/\/127\.0\.0\.1:\d+\/x\.csv: .*; check the URL and your network$/);
});

test('http(s): a body that stops part way is a NETWORK error naming the URL, never a hang or an internal error', async () => {
  // whole-table reads (monitor feedback): the dropped connection used to escape as "TypeError: terminated"
  const reset = await err(readTable(`${base}/reset.csv`));
  assert.equal(reset.code, 'NETWORK');
  assert.match(reset.message, new RegExp(`^downloading ${base}/reset\\.csv failed part way: .*; check the network and try again$`));
  const t0 = Date.now();
  const stall = await err(readTable(`${base}/stall.csv`, { timeoutMs: 300 }));
  assert.equal(stall.code, 'NETWORK');
  assert.equal(
    stall.message,
    `downloading ${base}/stall.csv failed part way: no complete answer within 0.3 s; check the network and try again`,
  );
  // streamed reads (predict/evaluate --data URL): a stalled body used to wait forever
  const s = await openRemoteStream(`${base}/stall.csv`, { timeoutMs: 300 });
  const got: Uint8Array[] = [];
  const streamed = await err(
    (async () => {
      for await (const c of s.chunks) got.push(c);
    })(),
  );
  assert.equal(streamed.code, 'NETWORK');
  assert.equal(
    streamed.message,
    `downloading ${base}/stall.csv failed part way: no data for 0.3 s; check the network and try again`,
  );
  assert.equal(Buffer.concat(got).toString(), CSV.slice(0, 20));
  assert.ok(Date.now() - t0 < 5000, 'both gave up after their timeout');
});

test('s3://bucket/key through a real S3-compatible server; missing key is FILE_NOT_FOUND', async () => {
  const s3 = await startS3rver(join(dir, 's3'), ['listings']);
  const { env: env } = s3;
  try {
    await s3.put('listings', 'raw/cars.csv', CSV);
    const t = await readTable('s3://listings/raw/cars.csv', { env });
    assert.deepEqual(t.rows[0], ['Maruti', '500000']);
    const e = await err(readTable('s3://listings/raw/none.csv', { env }));
    assert.equal(e.code, 'FILE_NOT_FOUND');
    assert.equal(e.message, 's3://listings/raw/none.csv does not exist; check the bucket and key');
    assert.equal((await err(readTable('s3://only-bucket.csv', { env }))).code, 'USAGE');
  } finally {
    await s3.close();
  }
});
