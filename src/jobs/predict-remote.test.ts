/**
 * Batch prediction and evaluation of a CSV at an http(s):// or s3:// URL: the download is
 * read columnar as its bytes arrive (no whole-file limit, memory bounded by the chunk),
 * with the output of the same file read locally, byte for byte. A real HTTP server sends
 * the file in pieces without a length; s3rver serves it as S3; a download cut part way
 * fails with NETWORK and leaves no output file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3rver } from '../../test/helpers/s3rver-fixture.js';
import { startHttpFixture, type HttpFixture } from '../../test/helpers/http-fixture.js';
import { fixtureCsv } from '../../test/fixtures/listings.js';
import { smallBlend } from '../../test/helpers/small-blend.js';
import { AppError } from '../core/errors.js';
import { predictFile } from './predict.js';
import { evaluate } from './evaluate.js';

const { params, bundle } = smallBlend();

const dir = mkdtempSync(join(tmpdir(), 'carprice-predict-remote-'));
// 4,000 listings (~450 KB): more than a 256 KiB chunk, sent in 37 pieces
const text = fixtureCsv({ n: 4000, seed: 21 });
const local = join(dir, 'listings.csv');
writeFileSync(local, text);
let http: HttpFixture;
let base: string;
let piecesSent = 0;

before(async () => {
  http = await startHttpFixture((req, res) => {
    const body = Buffer.from(text);
    if (req.url?.startsWith('/data/listings.csv')) {
      // chunked transfer encoding, no content-length: the length is unknown to the reader
      res.writeHead(200, { 'content-type': 'text/csv' });
      const step = Math.ceil(body.length / 37);
      let at = 0;
      const send = () => {
        if (at >= body.length) return void res.end();
        res.write(body.subarray(at, at + step));
        piecesSent++;
        at += step;
        setImmediate(send);
      };
      send();
    } else if (req.url === '/data/cut.csv') {
      // half the file, then the connection drops
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(body.length) });
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.destroy(), 20));
    } else {
      res.writeHead(404);
      res.end('no');
    }
  });
  base = http.base;
});

after(async () => {
  await http.close();
  rmSync(dir, { recursive: true, force: true });
});

// a whole-file limit of 10 KB: what readTable would refuse, the stream reads anyway
const env = { CARPRICE_MAX_INPUT_MB: '0.01' };

async function predictTo(data: string, out: string, extraEnv: Record<string, string> = {}): Promise<string> {
  await predictFile({ params, model: bundle, data, format: 'csv', out, env: { ...env, ...extraEnv } });
  return readFileSync(out, 'utf8');
}

test('http(s): a CSV sent in pieces without a length is priced as the local file, byte for byte; evaluate too', async () => {
  const want = await predictTo(local, join(dir, 'local.csv'));
  assert.equal(want.trimEnd().split('\n').length, 4001);
  const got = await predictTo(`${base}/data/listings.csv?v=2`, join(dir, 'http.csv'));
  assert.ok(piecesSent >= 37);
  assert.equal(got, want);
  const reports: string[] = [];
  const e = await evaluate({
    params,
    model: bundle,
    data: `${base}/data/listings.csv`,
    env,
    onReport: (s) => reports.push(s),
  });
  assert.deepEqual(e, await evaluate({ params, model: bundle, data: local }));
  assert.match(reports[0], /^http:\/\/127\.0\.0\.1:\d+\/data\/listings\.csv: 4000 rows read/);
});

test('http(s): a download cut part way fails with NETWORK and writes no output; a 404 names the URL', async () => {
  const out = join(dir, 'cut-out.csv');
  await assert.rejects(
    predictTo(`${base}/data/cut.csv`, out),
    (e: unknown) => e instanceof AppError && e.code === 'NETWORK' && /\/data\/cut\.csv/.test(e.message),
  );
  assert.equal(existsSync(out), false);
  await assert.rejects(
    predictTo(`${base}/data/none.csv`, join(dir, 'none-out.csv')),
    (e: unknown) =>
      e instanceof AppError && e.code === 'NETWORK' && /\/data\/none\.csv failed with HTTP 404/.test(e.message),
  );
});

test('s3://: a CSV in a real S3-compatible server (s3rver) is priced as the local file; a missing key is FILE_NOT_FOUND', async () => {
  const s3 = await startS3rver(join(dir, 's3'), ['listings']);
  const { env: s3env } = s3;
  try {
    await s3.put('listings', 'batch/listings.csv', text);
    const want = await predictTo(local, join(dir, 'local2.csv'));
    assert.equal(await predictTo('s3://listings/batch/listings.csv', join(dir, 's3.csv'), s3env), want);
    await assert.rejects(
      predictTo('s3://listings/batch/none.csv', join(dir, 's3-none.csv'), s3env),
      (e: unknown) => e instanceof AppError && e.code === 'FILE_NOT_FOUND',
    );
  } finally {
    await s3.close();
  }
});
