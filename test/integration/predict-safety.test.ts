/**
 * Batch prediction and its neighbours as a hostile user meets them, with the real built CLI
 * as child processes (issue 9 items 4, 6, 7, 14):
 * - `predict --data` streams: a 100,000-row CSV is scored under a 40 MB JS heap (the
 *   whole-file reader needed several times that), to stdout or atomically to --out, and
 *   gives the same prices whatever the chunking;
 * - a file with only the 12 documented feature columns is scored by a tree model trained
 *   with equipment columns, with the prices `--input` gives for the same listings;
 * - every input row has exactly one output row (duplicates priced twice, bad rows with
 *   their error), or the command fails and --out is not written;
 * - plausible ranges are enforced at train, evaluate, predict --input and --data, and no
 *   negative, non-finite or missing price is ever printed;
 * - a workbook streams like a CSV under any whole-file limit; a command that holds a whole
 *   table (monitor feedback) over the limit is a clear error, not an OOM kill.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import ExcelJS from 'exceljs';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_CLI, cleanEnv, runBuiltCli, type CliResult } from '../helpers/built-cli.js';
import {
  asInput,
  fixtureTable,
  generateListings,
  SEED_FEATURE_COLUMNS,
  writeFixtureCsv,
} from '../fixtures/listings.js';
import { formatCsv } from '../../src/data/csv.js';
import { formatXlsx } from '../../src/data/xlsx.js';
import type { Cell } from '../../src/data/table.js';

let dir: string;
const FLAGS = '--set=data_ingestion.optional_cols=[AlloyWheels, Bluetooth, Sunroof/Moonroof]';

function cli(...args: string[]): Promise<CliResult> {
  return runBuiltCli(args, dir);
}

function oneError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('carprice: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

/** Listings without a price, only the 12 documented feature columns. */
function featuresOnlyCsv(n: number, seed: number): string {
  const listings = generateListings({ n, seed });
  return formatCsv(
    [...SEED_FEATURE_COLUMNS],
    listings.map((l) => SEED_FEATURE_COLUMNS.map((c) => (l as unknown as Record<string, Cell>)[c])),
  );
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'carprice-predict-safety-'));
  writeFixtureCsv(join(dir, 'train.csv'), { n: 300, seed: 21 });
  const [g, r] = await Promise.all([
    cli(
      'train',
      '--train',
      'train.csv',
      '--out',
      'gbdt',
      '--algo',
      'gbdt',
      '--set',
      'model_trainer.params.gbdt.n_estimators=30',
      FLAGS,
    ),
    cli('train', '--train', 'train.csv', '--out', 'ridge', '--algo', 'ridge', FLAGS),
  ]);
  assert.equal(g.code, 0, g.stderr);
  assert.equal(r.code, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('item 6: a file with only the 12 feature columns scores with a tree model, as --input does', async () => {
  writeFileSync(join(dir, 'twelve.csv'), featuresOnlyCsv(5, 33));
  const inputs = generateListings({ n: 5, seed: 33 }).map((l) =>
    Object.fromEntries(SEED_FEATURE_COLUMNS.map((c) => [c, (l as unknown as Record<string, Cell>)[c]])),
  );
  const [file, inline] = await Promise.all([
    cli('predict', '--model', 'gbdt', '--data', 'twelve.csv', '--format', 'jsonl'),
    cli('predict', '--model', 'gbdt', '--input', JSON.stringify(inputs)),
  ]);
  assert.equal(file.code, 0, file.stderr);
  assert.match(file.stderr, /optional columns absent \(imputed\): AlloyWheels, Bluetooth, Sunroof\/Moonroof/);
  const rows = file.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    rows.map((r) => r.row),
    [2, 3, 4, 5, 6],
  );
  assert.deepEqual(
    rows.map((r) => r.predicted_price),
    JSON.parse(inline.stdout).map((p: { predicted_price: number }) => p.predicted_price),
  );
});

test('item 14: one output row per input row: duplicates priced twice, bad rows get their error; too many bad rows fail and --out is not written', async () => {
  const t = fixtureTable({ n: 8, seed: 40 });
  const rows = t.rows.map((r) => [...r]);
  const col = (name: string) => t.columns.indexOf(name);
  rows.push([...rows[0]]); // an exact duplicate
  rows[2][col('odometer')] = 'abc';
  rows[4][col('year')] = 2100;
  rows[5][col('odometer')] = 1e9;
  writeFileSync(join(dir, 'mixed.csv'), formatCsv(t.columns, rows));
  const ok = await cli(
    'predict',
    '--model',
    'ridge',
    '--data',
    'mixed.csv',
    '--set',
    'data_ingestion.max_invalid_fraction=0.5',
  );
  assert.equal(ok.code, 0, ok.stderr);
  const out = ok.stdout.trimEnd().split('\n');
  assert.equal(out[0], 'row,predicted_price,error');
  assert.equal(out.length, 1 + 9, 'one line per input row');
  assert.deepEqual(
    out.slice(1).map((l) => Number(l.split(',')[0])),
    [2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  assert.equal(out[3], '4,,"odometer: ""abc"" (not a number)"');
  assert.match(
    out[5],
    /^6,,"year: ""2100"" \(outside the plausible range 1950\.\.2030 \(ranges\.year in params\.yaml\)\)"$/,
  );
  assert.match(out[6], /^7,,"odometer: ""1000000000"" \(outside the plausible range 0\.\.2000000/);
  assert.equal(out[9].split(',')[1], out[1].split(',')[1], 'the duplicate of row 2 is priced, the same');
  for (const i of [1, 2, 4, 7, 8, 9]) assert.match(out[i], /^\d+,\d+(\.\d+)?,$/);
  assert.match(ok.stderr, /mixed\.csv: 9 rows, 6 priced, 3 could not be priced/);

  const fail = await cli('predict', '--model', 'ridge', '--data', 'mixed.csv', '--out', 'preds.csv');
  oneError(
    fail,
    4,
    /^carprice: .*mixed\.csv: 3 of 9 rows \(33\.3%\) could not be priced, more than the 5\.0% allowed .*; .*preds\.csv was not written$/,
  );
  assert.equal(existsSync(join(dir, 'preds.csv')), false);
});

test('item 7: plausible ranges at every entry point; never a negative or missing price', async () => {
  const base = asInput(generateListings({ n: 1, seed: 2 })[0]);
  const [odo, fit, year] = await Promise.all([
    cli('predict', '--model', 'gbdt', '--input', JSON.stringify({ ...base, odometer: 1e9 })),
    cli('predict', '--model', 'gbdt', '--input', JSON.stringify({ ...base, fitnessAge: 1e5 })),
    cli('predict', '--model', 'gbdt', '--input', JSON.stringify([base, { ...base, year: 2100 }])),
  ]);
  oneError(
    odo,
    4,
    /^carprice: invalid listing input \(1 problem\(s\)\): odometer: 1000000000 is outside the plausible range 0\.\.2000000 \(ranges\.odometer in params\.yaml\)$/,
  );
  oneError(fit, 4, /fitnessAge: 100000 is outside the plausible range 0\.\.100/);
  oneError(year, 4, /\[1\]\.year: 2100 is outside the plausible range 1950\.\.2030/);

  // training and evaluation drop such rows as bad cells (and say so)
  const t = fixtureTable({ n: 100, seed: 50 });
  t.rows[3][t.columns.indexOf('odometer')] = 1e308;
  t.rows[7][t.columns.indexOf('year')] = 1800;
  writeFileSync(join(dir, 'absurd.csv'), formatCsv(t.columns, t.rows));
  const [tr, ev] = await Promise.all([
    cli(
      'train',
      '--train',
      'absurd.csv',
      '--out',
      'absurd-model',
      '--algo',
      'ridge',
      '--set',
      'data_ingestion.max_invalid_fraction=0.1',
    ),
    cli('evaluate', '--model', 'ridge', '--data', 'absurd.csv', '--set', 'data_ingestion.max_invalid_fraction=0.1'),
  ]);
  for (const r of [tr, ev]) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /absurd\.csv: 100 rows read, 0 exact duplicates dropped, 2 invalid rows dropped, 98 kept/);
    assert.match(r.stderr, /dropped row 5: odometer = "1e\+308" \(outside the plausible range 0\.\.2000000/);
    assert.match(r.stderr, /dropped row 9: year = "1800" \(outside the plausible range 1950\.\.2030/);
  }
  // a configured range is used (params.yaml `ranges`)
  writeFileSync(join(dir, 'tight.yaml'), 'ranges:\n  odometer: {min: 0, max: 1000}\n');
  const tight = await cli('predict', '--model', 'gbdt', '--params', 'tight.yaml', '--input', JSON.stringify(base));
  oneError(tight, 4, /odometer: \d+ is outside the plausible range 0\.\.1000/);

  // a model that answers a negative price (log1p target, base score -1000: expm1 -> -1)
  const j = JSON.parse(readFileSync(join(dir, 'gbdt', 'bundle.json'), 'utf8'));
  j.members[0].estimator.baseScore = -1000;
  mkdirSync(join(dir, 'negative'));
  writeFileSync(join(dir, 'negative', 'bundle.json'), JSON.stringify(j));
  writeFileSync(join(dir, 'two.csv'), featuresOnlyCsv(2, 3));
  const [one, file] = await Promise.all([
    cli('predict', '--model', 'negative', '--input', JSON.stringify(base)),
    cli(
      'predict',
      '--model',
      'negative',
      '--data',
      'two.csv',
      '--format',
      'jsonl',
      '--set',
      'data_ingestion.max_invalid_fraction=1',
    ),
  ]);
  oneError(one, 5, /^carprice: the model gave a price of -1 \(not positive\) for this listing/);
  assert.equal(file.code, 0, file.stderr);
  const rows = file.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.equal(r.predicted_price, undefined);
    assert.match(r.error, /not positive/);
  }
});

/** The built CLI under a 40 MB JS heap, counting its stdout's bytes and lines (not keeping them). */
function runSmallHeap(args: string[]): Promise<{ code: number; stdoutBytes: number; lines: number; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--max-old-space-size=40', BUILT_CLI, ...args], {
      cwd: dir,
      env: cleanEnv(),
    });
    let stdoutBytes = 0;
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdoutBytes += d.length;
      for (const b of d) if (b === 10) lines++;
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdoutBytes, lines, stderr }));
  });
}

test('item 4: predict --data streams a 100,000-row CSV under a 40 MB heap, to stdout and atomically to --out', async () => {
  const big = join(dir, 'big.csv');
  writeFileSync(big, featuresOnlyCsv(100_000, 7));
  const [toStdout, toFile] = await Promise.all([
    runSmallHeap(['predict', '--model', 'ridge', '--data', 'big.csv']),
    runSmallHeap(['predict', '--model', 'ridge', '--data', 'big.csv', '--out', 'big-preds.csv']),
  ]);
  assert.equal(toStdout.code, 0, toStdout.stderr);
  assert.equal(toStdout.lines, 100_001);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(toFile.stdoutBytes, 0);
  const text = readFileSync(join(dir, 'big-preds.csv'), 'utf8');
  assert.equal(text.split('\n').length, 100_002);
  assert.match(toFile.stderr, /big\.csv: 100000 rows, 100000 priced, 0 could not be priced/);
});

test('item 4: predict --data streams a 20,000-row workbook under a 40 MB heap (the whole-workbook reader needs several times that)', async () => {
  const listings = generateListings({ n: 20_000, seed: 11 });
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: join(dir, 'big.xlsx'), useSharedStrings: true });
  const ws = wb.addWorksheet('Listings');
  ws.addRow([...SEED_FEATURE_COLUMNS]).commit();
  for (const l of listings)
    ws.addRow(SEED_FEATURE_COLUMNS.map((c) => (l as unknown as Record<string, Cell>)[c])).commit();
  ws.commit();
  await wb.commit();
  const r = await runSmallHeap(['predict', '--model', 'ridge', '--data', 'big.xlsx', '--out', 'big-xlsx-preds.csv']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'big-xlsx-preds.csv'), 'utf8').split('\n').length, 20_002);
  assert.match(r.stderr, /big\.xlsx: 20000 rows, 20000 priced, 0 could not be priced/);
});

test('item 4: a workbook streams like a CSV, under any whole-file limit; a command holding a whole table names the limit', async () => {
  const t = fixtureTable({ n: 50, seed: 8 });
  writeFileSync(join(dir, 'book.xlsx'), await formatXlsx(t.columns, t.rows));
  const env = { CARPRICE_MAX_INPUT_MB: '0.01' };
  const [tr, pr, ok, fb] = await Promise.all([
    // training and batch prediction read a workbook chunk by chunk: no limit
    runBuiltCli(['train', '--train', 'book.xlsx', '--out', 'm-big'], dir, env),
    runBuiltCli(['predict', '--model', 'ridge', '--data', 'book.xlsx'], dir, env),
    runBuiltCli(['predict', '--model', 'ridge', '--data', 'train.csv', '--out', 'streamed.csv'], dir, env),
    // monitor feedback holds the whole table: over the limit, it says so
    runBuiltCli(['monitor', 'feedback', 'book.xlsx'], dir, env),
  ]);
  assert.equal(tr.code, 0, tr.stderr);
  assert.equal(pr.code, 0, pr.stderr);
  assert.equal(pr.stdout.trimEnd().split('\n').length, 51);
  assert.match(pr.stderr, /book\.xlsx: 50 rows, 50 priced, 0 could not be priced/);
  assert.equal(ok.code, 0, 'a local CSV is streamed: no limit');
  oneError(
    fb,
    4,
    /^carprice: .*book\.xlsx is [\d.]+ MB \(an \.xlsx counts 10x\), more than the 0\.0 MB carprice reads whole into memory on this machine; use a sample .* or raise CARPRICE_MAX_INPUT_MB/,
  );
});
