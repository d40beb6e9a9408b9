/**
 * Batch prediction of a file: the chunked, compiled path (BatchScorer) gives predictFrame's
 * prices bit for bit; the worker-thread path writes byte for byte the single-threaded
 * output (bad rows, quoted fields spanning lines, CRLF, a BOM), and fails on a malformed
 * record with the single-threaded error and line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureCsv, fixtureFrame } from '../../test/fixtures/listings.js';
import { takeFrameRows } from '../data/frame.js';
import { BatchScorer } from '../bundle/batch-scorer.js';
import { recordLayout } from '../bundle/record-validation.js';
import { predictFile, type PredictFileOptions } from './predict.js';
import type { TreeEnsemble } from '../ml/tree/tree-ensemble.js';
import { Rng } from '../core/rng.js';
import { formatCsv, parseCsv } from '../data/csv.js';
import type { Cell } from '../data/table.js';
import { validateListings } from '../data/validate.js';
import { newStats } from '../features/transformer.js';
import { regressionMetrics } from '../ml/metrics.js';
import { evaluate } from './evaluate.js';
import { schemaFromBundle, withOptionalColumns, type ProgressFactory } from './load-listings.js';
import { ByteOutput, round2 } from './predict-chunk.js';
import { cars24Blend, cars24Skip } from '../../test/helpers/cars24-blend.js';
import { smallBlend } from '../../test/helpers/small-blend.js';

// the blend with a 60-tree GBDT of depth 4 on 400 fixture listings
const { params, bundle } = smallBlend({ rows: 400, gbdt: { n_estimators: 60, max_depth: 4, learning_rate: 0.2 } });

test('BatchScorer prices like predictFrame, bit for bit, and skips rows it is told to', () => {
  const other = fixtureFrame({ n: 700, seed: 9 }).frame;
  const batch = bundle.predictFrame(other);
  const layout = recordLayout(bundle.inputSchema);
  const s = new BatchScorer(bundle);
  const skip = new Uint8Array(other.nRows);
  skip[3] = 1;
  const got = s.score(
    other.nRows,
    layout.numeric.map((c) => other.numeric[c]),
    layout.categorical.map((c) => other.categorical[c]),
    skip,
  );
  for (let i = 0; i < other.nRows; i++)
    if (i === 3) assert.ok(Number.isNaN(got[i]));
    else assert.ok(Object.is(got[i], batch[i]), `row ${i}: ${got[i]} vs ${batch[i]}`);
  // the compiled trees (what large files use) give the same sums
  const gb = bundle.members.find((m) => m.algo === 'gbdt')!.estimator as unknown as {
    trees: { sumIntoCompiled: unknown };
  };
  assert.ok(gb.trees.sumIntoCompiled);
});

const dir = mkdtempSync(join(tmpdir(), 'carprice-predict-file-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A listings CSV with bad rows, a quoted variant spanning two lines, and the given line ending. */
function listingsFile(name: string, n: number, eol: string, bom = false): string {
  const lines = fixtureCsv({ n, seed: 11 }).trimEnd().split('\n');
  for (let i = 5; i < lines.length; i += 97) lines[i] = lines[i].replace(/^\d+/, 'abc');
  lines[20] = lines[20].replace(/^([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,)([^,]*)/, '$1"$2\nPLUS, ""TRIM"""');
  const path = join(dir, name);
  writeFileSync(path, (bom ? '\ufeff' : '') + lines.join(eol) + eol);
  return path;
}

async function run(data: string, o: Partial<PredictFileOptions>): Promise<{ text: string; error?: string }> {
  let text = '';
  try {
    await predictFile({
      params: { ...params, data_ingestion: { ...params.data_ingestion, max_invalid_fraction: 0.5 } },
      model: bundle,
      data,
      format: 'csv',
      write: (t) => void (text += t),
      ...o,
    });
    return { text };
  } catch (e) {
    return { text, error: `${(e as { code?: string }).code}: ${(e as Error).message}` };
  }
}

for (const [eol, bom] of [
  ['\n', false],
  ['\r\n', true],
] as const) {
  test(`worker threads write the single-threaded output byte for byte (${JSON.stringify(eol)}${bom ? ', BOM' : ''})`, async () => {
    const file = listingsFile(`l${eol.length}.csv`, 3000, eol, bom);
    const one = await run(file, { threads: 1 });
    const two = await run(file, { threads: 2, parallelMinBytes: 0, sliceBytes: 4096 });
    assert.equal(one.error, undefined);
    assert.equal(two.error, undefined);
    const lines = one.text.trimEnd().split('\n');
    assert.equal(lines.length, 3001);
    assert.equal(lines[5], '6,,"odometer: ""abc"" (not a number)"');
    assert.equal(two.text, one.text);
  });
}

test('worker threads fail on a malformed record with the single-threaded error and line', async () => {
  const file = listingsFile('bad.csv', 2000, '\n');
  const text = readFileSync(file, 'utf8').split('\n');
  text[1500] += ',extra';
  writeFileSync(file, text.join('\n'));
  const one = await run(file, { threads: 1 });
  const two = await run(file, { threads: 2, parallelMinBytes: 0, sliceBytes: 4096 });
  assert.match(one.error ?? '', /^DATA_INVALID: .*bad\.csv:1501: \d+ fields, but the header has \d+/);
  assert.equal(two.error, one.error);
});

test('predictFrame over more rows than a chunk gives the prices of the rows predicted apart', () => {
  const big = fixtureFrame({ n: 40_000, seed: 21 }).frame;
  const all = bundle.predictFrame(big);
  const half = Array.from({ length: 20_000 }, (_, i) => i);
  const a = bundle.predictFrame(takeFrameRows(big, half));
  const b = bundle.predictFrame(
    takeFrameRows(
      big,
      half.map((i) => i + 20_000),
    ),
  );
  for (let i = 0; i < 20_000; i++) {
    assert.ok(Object.is(all[i], a[i]), `row ${i}`);
    assert.ok(Object.is(all[i + 20_000], b[i]), `row ${i + 20_000}`);
  }
});

test('trees over a column-built matrix sum like over its row-major copy, without building it', () => {
  const gb = bundle.members.find((m) => m.algo === 'gbdt')!;
  const X = gb.features.transform(fixtureFrame({ n: 3000, seed: 4 }).frame);
  assert.ok(X.columns, 'the tree family hands over columns');
  const trees = (gb.estimator as unknown as { trees: TreeEnsemble }).trees;
  const byColumns = trees.sumInto(X, new Float64Array(X.nRows), 0.5);
  assert.equal(Object.getOwnPropertyDescriptor(X, 'data')?.get !== undefined, true);
  const rowMajor = { nRows: X.nRows, nCols: X.nCols, data: X.data, columnNames: X.columnNames };
  const byRows = trees.sumInto(rowMajor, new Float64Array(X.nRows), 0.5);
  assert.deepEqual(byColumns, byRows);
});

test('prices are written as String(round2(p)) byte for byte', () => {
  const out = new ByteOutput();
  const rng = new Rng(12);
  const prices: number[] = [
    0.001,
    0.004,
    0.005,
    0.01,
    0.1,
    1,
    9.995,
    10,
    123.45,
    99999.995,
    2 ** 45 / 100 + 0.5,
    1e15,
    3.3e20,
    1e22,
  ];
  for (let k = 0; k < 20_000; k++) prices.push(Math.exp(rng.next() * 40 - 5));
  for (let k = 0; k < 2000; k++) prices.push(Math.round(rng.next() * 1e9) / 100);
  out.reset(16);
  for (const p of prices) {
    out.price(p);
    out.byte(0x0a);
  }
  const got = Buffer.from(out.take()).toString('latin1').split('\n').slice(0, -1);
  assert.deepEqual(
    got,
    prices.map((p) => String(round2(p))),
  );
  out.reset(4);
  for (const r of [0, 7, 10, 99, 100, 123456789, 2 ** 40]) {
    out.uint(r);
    out.byte(0x2c);
  }
  assert.equal(Buffer.from(out.take()).toString(), '0,7,10,99,100,123456789,1099511627776,');
});

test('evaluate streams through the BatchScorer: the metrics and unseen counts of predictFrame on the kept rows', async () => {
  const lines = fixtureCsv({ n: 3000, seed: 13 }).trimEnd().split('\n');
  for (let i = 9; i < lines.length; i += 101) lines[i] = lines[i].replace(/^\d+/, 'abc'); // bad odometer
  for (let i = 50; i < lines.length; i += 211) lines.push(lines[i]); // exact duplicates
  lines.push(lines[9]); // a duplicate of a bad row is a duplicate, not another bad row
  lines[30] = lines[30].replace(/,Maruti,/, ',Neverheard,');
  const path = join(dir, 'eval.csv');
  writeFileSync(path, lines.join('\n') + '\n');
  const p = { ...params, data_ingestion: { ...params.data_ingestion, max_invalid_fraction: 0.5 } };
  let report = '';
  const r = await evaluate({ params: p, model: bundle, data: path, onReport: (s) => (report = s) });
  const table = parseCsv(readFileSync(path, 'utf8'), path);
  const v = validateListings(table, schemaFromBundle(bundle.inputSchema), {
    dropDuplicates: true,
    ranges: p.ranges,
    maxInvalidFraction: 0.5,
  });
  const stats = newStats();
  const pred = bundle.predictFrame(withOptionalColumns(v.frame, bundle.inputSchema), stats);
  assert.deepEqual(r.metrics, regressionMetrics(v.y!, pred));
  assert.deepEqual(r.unknownCategories, stats.unknownCategories);
  assert.match(
    report,
    new RegExp(
      `${v.report.rowsRead} rows read, ${v.report.duplicatesDropped} exact duplicates dropped, ${v.report.invalidRowsDropped} invalid rows dropped`,
    ),
  );
  assert.ok(v.report.duplicatesDropped >= 14 && v.report.invalidRowsDropped >= 29);
});

test('progress: rows, the share read and a last call when done; silent without a meter', async () => {
  const file = listingsFile('progress.csv', 6000, '\n');
  for (const threads of [1, 2]) {
    const calls: { rows: number; done?: boolean; fraction?: number }[] = [];
    const progress: ProgressFactory = (step, what) => {
      assert.equal(step, 'predicting');
      assert.equal(what, file);
      return (rows, done, fraction) => void calls.push({ rows, done, fraction });
    };
    const r = await run(file, { threads, parallelMinBytes: 0, sliceBytes: 8192, chunkBytes: 8192, progress });
    assert.equal(r.error, undefined);
    assert.ok(calls.length > 5, `${calls.length} calls`);
    const last = calls[calls.length - 1];
    assert.deepEqual(last, { rows: 6000, done: true, fraction: 1 });
    for (let k = 1; k < calls.length; k++) {
      assert.ok(calls[k].rows >= calls[k - 1].rows);
      assert.ok((calls[k].fraction ?? 0) >= (calls[k - 1].fraction ?? 0) && (calls[k].fraction ?? 0) <= 1);
    }
  }
});

// ---- the real dataset: every test listing, when ../shared/data is present ----

test(
  'cars24: predict --data prices every test listing of the default blend as bundle.predictRecords does, on 1 and 2 threads',
  { skip: cars24Skip },
  async () => {
    const { params: p, all, split: s, bundle: b } = await cars24Blend();
    const test = takeFrameRows(all.frame, s.test);
    const columns = [...Object.keys(test.numeric), ...Object.keys(test.categorical)];
    const records: Record<string, unknown>[] = [];
    const cells: Cell[][] = [];
    for (let i = 0; i < test.nRows; i++) {
      const rec: Record<string, unknown> = {};
      const row: Cell[] = [];
      for (const c of columns) {
        const v = c in test.numeric ? test.numeric[c][i] : test.categorical[c][i];
        const cell = v === null || (typeof v === 'number' && Number.isNaN(v)) ? null : v;
        if (cell !== null) rec[c] = cell;
        row.push(cell);
      }
      records.push(rec);
      cells.push(row);
    }
    const path = join(dir, 'cars24-test.csv');
    writeFileSync(path, formatCsv(columns, cells));
    const want = Array.from(b.predictRecords(records), (x) => `${round2(x)}`);
    for (const threads of [1, 2]) {
      let text = '';
      await predictFile({
        params: p,
        model: b,
        data: path,
        format: 'csv',
        threads,
        parallelMinBytes: 0,
        sliceBytes: 16_384,
        write: (t) => void (text += t),
      });
      const got = text
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[1]);
      assert.equal(got.length, test.nRows);
      assert.ok(test.nRows > 1400);
      assert.deepEqual(got, want, `threads ${threads}`);
    }
  },
);
