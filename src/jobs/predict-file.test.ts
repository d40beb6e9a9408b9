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
import { parseParams } from '../config/params.js';
import { takeFrameRows, takeValues } from '../data/frame.js';
import { trainBundle } from '../bundle/train-bundle.js';
import { BatchScorer } from '../bundle/batch-scorer.js';
import { recordLayout } from '../bundle/record-validation.js';
import { predictFile, type PredictFileOptions } from './predict.js';

const params = parseParams({});
const { frame, y, schema } = fixtureFrame({ n: 400, seed: 5 });
const idx = Array.from({ length: 400 }, (_, i) => i);
const bundle = trainBundle(takeFrameRows(frame, idx), takeValues(y, idx), schema, {
  algo: 'blend',
  algoParams: {
    ...params.model_trainer.params,
    gbdt: { n_estimators: 60, max_depth: 4, learning_rate: 0.2 },
  },
  features: { ...params.features, token_min_count: 2, interaction_min_count: 5, step_min_count: 5 },
  seed: 42,
  metadata: {
    createdAt: '2025-01-01T00:00:00.000Z',
    training: { dataHash: 'h', rows: 400, source: 'fixture' },
    params: {},
    carpriceVersion: 'test',
  },
});

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
