/**
 * The real built CLI (`node dist/src/cli/main.js`) as child processes in a temp dir:
 * train (with and without --test), evaluate --json, predict (--input object, list, @file;
 * --data), data ingest, data synth, --help on each; and the error cases, each of which
 * must print one clear `carprice: ...` line (what, where, what to do) on stderr, no stack
 * trace, and exit with exitCodeOf(code).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuiltCli, type CliResult } from '../helpers/built-cli.js';
import { asInput, fixtureCsv, fixtureTable, generateListings, writeFixtureCsv } from '../fixtures/listings.js';
import { exitCodeOf, type ErrorCode } from '../../src/core/errors.js';
import { CARPRICE_VERSION } from '../../src/core/version.js';
import { formatXlsx } from '../../src/data/xlsx.js';
import { findCommand, main } from '../../src/cli/main.js';
import { formatMetrics, metricsJson } from '../../src/cli/commands/metrics-table.js';
import { resolvePath } from '../../src/cli/commands/params-flags.js';
import { silentLogger } from '../../src/core/logger.js';

let dir: string;

type Run = CliResult;

function cli(...args: string[]): Promise<Run> {
  return runBuiltCli(args, dir);
}

/** The run failed with `code`, and the error is one `carprice:` line with no stack trace. */
function failedWith(r: Run, code: ErrorCode, pattern: RegExp): string {
  assert.equal(r.code, exitCodeOf(code), `exit code for ${code}; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
  const lines = r.stderr.trimEnd().split('\n');
  const errLines = lines.filter((l) => l.startsWith('carprice: '));
  assert.equal(errLines.length, 1, `one error line: ${r.stderr}`);
  assert.match(errLines[0], pattern);
  return errLines[0];
}

const LISTING = asInput(generateListings({ n: 1, seed: 123 })[0]);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'carprice-cli-'));
  writeFixtureCsv(join(dir, 'listings.csv'), { n: 250, seed: 8 });
  writeFixtureCsv(join(dir, 'holdout.csv'), { n: 60, seed: 9 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('--help: the overview and every foundation command', async () => {
  const [overview, none, version, ...helps] = await Promise.all([
    cli('--help'),
    cli(),
    cli('--version'),
    ...['train', 'evaluate', 'predict', 'data ingest', 'data synth'].map((c) => cli(...c.split(' '), '--help')),
  ]);
  assert.equal(overview.code, 0);
  for (const c of ['train', 'evaluate', 'predict', 'data ingest', 'data synth'])
    assert.match(overview.stdout, new RegExp(`\\n  ${c} +\\S`));
  assert.equal(none.code, 2, 'no command is a usage error, with the overview');
  assert.match(none.stdout, /^carprice: used-car price models/);
  // the one version, package.json's
  assert.equal(version.stdout, `carprice ${CARPRICE_VERSION}\n`);
  assert.equal(
    CARPRICE_VERSION,
    (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version,
  );
  const names = ['train', 'evaluate', 'predict', 'data ingest', 'data synth'];
  helps.forEach((h, i) => {
    assert.equal(h.code, 0);
    assert.match(h.stdout, new RegExp(`^Usage: carprice ${names[i]} `));
    assert.match(h.stdout, /--set KEY=VALUE/);
  });
  assert.match(helps[0].stdout, /\nAlgorithms:\n[\s\S]*\n {2}ridge +L2/);
});

test('train without --test, evaluate --json, predict --input (object, list, @file) and --data', async () => {
  const t = await cli('train', '--train', 'listings.csv', '--out', 'model');
  assert.equal(t.code, 0, t.stderr);
  // 250 rows, test_size 0.2 -> ceil(50) test rows, 200 train
  assert.match(
    t.stdout,
    /^trained ridge on 200 listings in \d+\.\d s \(peak memory \d+(\.\d+)? [MG]B\); model saved to model\ntest metrics \(50 listings\):\n {2}R² {8}-?\d\.\d{4}\n/,
  );
  assert.match(t.stderr, /listings\.csv: 250 rows read, 0 exact duplicates dropped, 0 invalid rows dropped, 250 kept/);
  assert.deepEqual(readdirSync(join(dir, 'model')).sort(), ['CARPRICE_BUNDLE', 'bundle.json']);

  const e = await cli('evaluate', '--model', 'model', '--data', 'holdout.csv', '--json');
  assert.equal(e.code, 0, e.stderr);
  const m = JSON.parse(e.stdout);
  for (const k of ['r2', 'rmse', 'mae', 'mape', 'medape', 'within10']) assert.equal(typeof m[k], 'number', k);
  assert.equal(m.n, 60);
  assert.deepEqual(m.unknown_categories, {});

  writeFileSync(
    join(dir, 'two.json'),
    JSON.stringify([LISTING, { ...LISTING, odometer: (LISTING.odometer as number) * 2 }]),
  );
  const [one, list, file] = await Promise.all([
    cli('predict', '--model', 'model', '--input', JSON.stringify(LISTING)),
    cli(
      'predict',
      '--model',
      'model',
      '--input',
      JSON.stringify([LISTING, { ...LISTING, odometer: (LISTING.odometer as number) * 2 }]),
    ),
    cli('predict', '--model', 'model', '--input', '@two.json'),
  ]);
  for (const r of [one, list, file]) assert.equal(r.code, 0, r.stderr);
  const single = JSON.parse(one.stdout);
  assert.deepEqual(Object.keys(single), ['predicted_price']);
  assert.ok(single.predicted_price > 0);
  const many = JSON.parse(list.stdout);
  assert.equal(many.length, 2);
  assert.equal(many[0].predicted_price, single.predicted_price);
  assert.ok(many[1].predicted_price < many[0].predicted_price, 'twice the km, lower price');
  assert.equal(file.stdout, list.stdout, '@file gives the same as inline JSON');

  const d = await cli('predict', '--model', 'model', '--data', 'holdout.csv');
  assert.equal(d.code, 0, d.stderr);
  const lines = d.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'row,predicted_price,error');
  assert.equal(lines.length, 61);
  assert.match(lines[1], /^2,\d+(\.\d{1,2})?,$/);
});

test('train --test FILE --json agrees with evaluate on the same file', async () => {
  const t = await cli('train', '--train', 'listings.csv', '--test', 'holdout.csv', '--out', 'model-t', '--json');
  assert.equal(t.code, 0, t.stderr);
  const tm = JSON.parse(t.stdout);
  assert.equal(tm.algo, 'ridge');
  assert.equal(tm.train_rows, 250);
  assert.equal(tm.n, 60);
  const e = await cli('evaluate', '--model', 'model-t', '--data', 'holdout.csv', '--json');
  const em = JSON.parse(e.stdout);
  for (const k of ['r2', 'rmse', 'mae', 'mape', 'medape', 'within10', 'n']) assert.equal(em[k], tm[k], k);
});

test('a blend of ridge + lasso via --set, and a missing optional column still trains', async () => {
  writeFixtureCsv(join(dir, 'alloy-only.csv'), { n: 150, seed: 10, flags: ['AlloyWheels'] });
  const [blend, optional] = await Promise.all([
    cli(
      'train',
      '--train',
      'listings.csv',
      '--algo',
      'blend',
      '--set',
      'model_trainer.params.blend.members=ridge,lasso',
      '--out',
      'blend',
      '--json',
    ),
    cli(
      'train',
      '--train',
      'alloy-only.csv',
      '--set',
      'data_ingestion.optional_cols=[AlloyWheels, Bluetooth]',
      '--out',
      'opt',
    ),
  ]);
  assert.equal(blend.code, 0, blend.stderr);
  assert.equal(JSON.parse(blend.stdout).algo, 'blend');
  const saved = JSON.parse(readFileSync(join(dir, 'blend', 'bundle.json'), 'utf8'));
  assert.ok(saved.members.every((mem: { algo: string }) => ['ridge', 'lasso'].includes(mem.algo)));
  assert.equal(optional.code, 0, optional.stderr);
  assert.match(optional.stderr, /optional columns absent \(skipped\): Bluetooth/);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'opt', 'bundle.json'), 'utf8')).inputSchema.optionalNumeric, [
    'AlloyWheels',
  ]);
});

test('data ingest writes raw/train/test CSVs with the right counts and no temp files; data synth writes N rows', async () => {
  writeFixtureCsv(join(dir, 'raw.csv'), { n: 101, seed: 12 });
  const [ing, syn] = await Promise.all([
    cli('data', 'ingest', '--source', 'raw.csv', '--out', 'ingested'),
    cli('data', 'synth', '--rows', '500', '--out', 'synth/s.csv', '--source', 'raw.csv', '--seed', '5'),
  ]);
  assert.equal(ing.code, 0, ing.stderr);
  // 101 rows: ceil(0.2 * 101) = 21 test rows, 80 train
  assert.match(ing.stdout, /raw\.csv \(101 rows\), .*train\.csv \(80\), .*test\.csv \(21\)\n$/);
  assert.deepEqual(readdirSync(join(dir, 'ingested')).sort(), ['raw.csv', 'test.csv', 'train.csv']);
  const count = (f: string) =>
    readFileSync(join(dir, 'ingested', f), 'utf8')
      .trimEnd()
      .split('\n').length - 1;
  assert.deepEqual([count('raw.csv'), count('train.csv'), count('test.csv')], [101, 80, 21]);
  assert.equal(syn.code, 0, syn.stderr);
  assert.equal(syn.stdout, 'wrote 500 synthetic listings to synth/s.csv\n');
  assert.equal(
    readFileSync(join(dir, 'synth', 's.csv'), 'utf8')
      .trimEnd()
      .split('\n').length,
    501,
  );
  assert.deepEqual(readdirSync(join(dir, 'synth')), ['s.csv']);
});

test('input errors: missing file, bad odometers beyond the invalid fraction, missing column, empty file, wrong sheet', async () => {
  const t = fixtureTable({ n: 40, seed: 3 });
  // 5 of 40 odometers not numbers = 12.5% > 5%
  const bad = t.rows.map((r, i) => (i < 5 ? ['far', ...r.slice(1)] : r));
  writeFileSync(
    join(dir, 'bad-odo.csv'),
    [t.columns.join(','), ...bad.map((r) => r.map((c) => (c === null ? '' : String(c))).join(','))].join('\n') + '\n',
  );
  writeFileSync(
    join(dir, 'no-make.csv'),
    fixtureCsv({ n: 5, seed: 1 }).replace(
      /^odometer,fitnessAge,featureCount,make,/,
      'odometer,fitnessAge,featureCount,brand,',
    ),
  );
  writeFileSync(join(dir, 'empty.csv'), '');
  writeFileSync(join(dir, 'cars.xlsx'), await formatXlsx(t.columns, t.rows, 'Listings'));
  const [missing, odo, col, empty, sheet] = await Promise.all([
    cli('train', '--train', 'nope.csv', '--out', 'm'),
    cli('train', '--train', 'bad-odo.csv', '--out', 'm'),
    cli('train', '--train', 'no-make.csv', '--out', 'm'),
    cli('evaluate', '--model', 'model', '--data', 'empty.csv'),
    cli('train', '--train', 'cars.xlsx', '--set', 'data_source.sheet=Sheet1', '--out', 'm'),
  ]);
  failedWith(missing, 'FILE_NOT_FOUND', /^carprice: data file .*nope\.csv does not exist; check the path/);
  // the summary line, then the offending cells (indented detail lines)
  failedWith(
    odo,
    'DATA_INVALID',
    /^carprice: .*bad-odo\.csv: 5 of 40 rows \(12\.5%\) have invalid cells, more than the 5\.0% allowed; fix them or raise data_ingestion\.max_invalid_fraction:$/,
  );
  assert.match(odo.stderr, /\n {2}row 2, odometer: "far" \(not a number\)\n/);
  failedWith(
    col,
    'DATA_INVALID',
    /^carprice: .*no-make\.csv is missing required column\(s\): make; the header \(first line\) must name it\. Columns found: odometer,/,
  );
  failedWith(empty, 'DATA_EMPTY', /^carprice: .*empty\.csv is empty \(0 bytes\); expected listings$/);
  failedWith(sheet, 'DATA_INVALID', /^carprice: .*cars\.xlsx has no sheet "Sheet1"; its sheets are: Listings$/);
  assert.equal(readdirSync(dir).includes('m'), false, 'no model written on failure');
});

test('usage and config errors: unknown algo, bad --set, leakage, unknown command and flag', async () => {
  const [algo, noEq, badVal, leak, cmd, flag] = await Promise.all([
    cli('train', '--train', 'listings.csv', '--algo', 'xgb', '--out', 'm'),
    cli('train', '--train', 'listings.csv', '--set', 'test_size', '--out', 'm'),
    cli('train', '--train', 'listings.csv', '--set', 'data_ingestion.test_size=abc', '--out', 'm'),
    cli(
      'train',
      '--train',
      'listings.csv',
      '--set',
      'data_ingestion.numerical_cols=[odometer, emiStartingValue]',
      '--out',
      'm',
    ),
    cli('trian'),
    cli('train', '--bogus'),
  ]);
  failedWith(algo, 'USAGE', /^carprice: unknown algorithm "xgb"; choose one of: .*ridge/);
  assert.equal(algo.stderr.split('\n').filter(Boolean).length, 1, 'fails before reading the data');
  failedWith(
    noEq,
    'USAGE',
    /^carprice: --set expects key=value \(e\.g\. --set data_ingestion\.test_size=0\.25\), got "test_size"$/,
  );
  failedWith(
    badVal,
    'CONFIG_INVALID',
    /^carprice: --set data_ingestion\.test_size: expected a number > 0 and < 1, got "abc"$/,
  );
  failedWith(
    leak,
    'CONFIG_INVALID',
    /^carprice: emiStartingValue cannot be features: they are computed from listingPrice \(target leakage\)/,
  );
  failedWith(cmd, 'USAGE', /^carprice: unknown command "trian"; run `carprice --help`/);
  failedWith(flag, 'USAGE', /^carprice: .*--bogus.*; run `carprice train --help`$/);
});

test('train --out . refuses to replace the working directory (nothing deleted)', async () => {
  const before = readdirSync(dir).sort();
  const r = await cli('train', '--train', 'listings.csv', '--out', '.');
  failedWith(
    r,
    'USAGE',
    /^carprice: .* exists and is not a model bundle directory; give --out a new or empty directory/,
  );
  assert.deepEqual(readdirSync(dir).sort(), before);
});

test('model errors: missing model dir, corrupt bundle.json, unknown formatVersion', async () => {
  mkdirSync(join(dir, 'corrupt'), { recursive: true });
  writeFileSync(join(dir, 'corrupt', 'bundle.json'), '{"kind":"carprice-model-bundle","members":[');
  const good = JSON.parse(readFileSync(join(dir, 'model', 'bundle.json'), 'utf8'));
  mkdirSync(join(dir, 'future'), { recursive: true });
  writeFileSync(join(dir, 'future', 'bundle.json'), JSON.stringify({ ...good, formatVersion: 7 }));
  const [missing, corrupt, future] = await Promise.all([
    cli('evaluate', '--model', 'no-such-model', '--data', 'holdout.csv'),
    cli('predict', '--model', 'corrupt', '--input', JSON.stringify(LISTING)),
    cli('predict', '--model', 'future', '--data', 'holdout.csv'),
  ]);
  failedWith(
    missing,
    'MODEL_NOT_FOUND',
    /^carprice: no model at .*no-such-model \(expected .*bundle\.json\); train one with `carprice train --out /,
  );
  failedWith(
    corrupt,
    'FORMAT_UNKNOWN',
    /^carprice: .*corrupt\/bundle\.json is not valid JSON \(.*\); the file is damaged, retrain the model$/,
  );
  failedWith(
    future,
    'FORMAT_VERSION',
    /^carprice: .*future\/bundle\.json has formatVersion 7; this carprice reads 1, 2, 3\. Upgrade carprice or retrain$/,
  );
});

test('bad prediction input: invalid JSON and invalid fields are INPUT_INVALID', async () => {
  const [json, field] = await Promise.all([
    cli('predict', '--model', 'model', '--input', '{"make":'),
    cli('predict', '--model', 'model', '--input', JSON.stringify({ ...LISTING, odometer: 'far' })),
  ]);
  failedWith(json, 'INPUT_INVALID', /^carprice: --input is not valid JSON \(.*\); give an object like/);
  failedWith(field, 'INPUT_INVALID', /^carprice: invalid listing input \(1 problem\(s\)\):$/);
  assert.match(field.stderr, /\n {2}odometer: expected a number, got "far"\n/);
});

test('in-process: longest-prefix dispatch, metrics formatting, path resolution, main() exit codes', async () => {
  assert.equal(findCommand(['data', 'ingest', '--out', 'x'])?.command.name, 'data ingest');
  assert.deepEqual(findCommand(['data', 'ingest', '--out', 'x'])?.rest, ['--out', 'x']);
  assert.equal(findCommand(['nothing']), undefined);
  const m = {
    r2: 0.912345,
    rmse: 123456.7,
    mae: 65432.1,
    mse: 1.5e10,
    mape: 0.12345,
    medape: 0.0876,
    within10: 0.5555,
    n: 40,
  };
  assert.equal(
    formatMetrics(m),
    [
      '  R²        0.9123',
      '  RMSE      123457',
      '  MAE       65432',
      '  MAPE      12.35%',
      '  MedAPE    8.76%',
      '  within10  55.5%',
      '  rows      40',
    ].join('\n'),
  );
  assert.deepEqual(metricsJson(m), {
    r2: 0.912345,
    rmse: 123456.7,
    mae: 65432.1,
    mape: 0.12345,
    medape: 0.0876,
    within10: 0.5555,
    n: 40,
  });
  const ctx = {
    cwd: '/home/user/project',
    env: {},
    stdout: { write: () => undefined, isTTY: false },
    stderr: { write: () => undefined, isTTY: false },
    logger: silentLogger,
    signal: new AbortController().signal,
  };
  assert.equal(resolvePath(ctx, 'data/x.csv'), '/home/user/project/data/x.csv');
  assert.equal(resolvePath(ctx, '/abs/x.csv'), '/abs/x.csv');
  assert.equal(resolvePath(ctx, 's3://bucket/x.csv'), 's3://bucket/x.csv');
  assert.equal(resolvePath(ctx, 'https://h/x.csv'), 'https://h/x.csv');
  let out = '';
  let err = '';
  const io = {
    stdout: { write: (t: string) => void (out += t), isTTY: false },
    stderr: { write: (t: string) => void (err += t), isTTY: false },
    env: {},
    logger: silentLogger,
  };
  assert.equal(await main(['train'], { ...io, cwd: dir }), 2);
  assert.equal(err, 'carprice: missing --train FILE; see `carprice train --help`\n');
  assert.equal(out, '');
  err = '';
  assert.equal(await main(['predict', '--model', 'model', '--input', '[]'], { ...io, cwd: dir }), 4);
  assert.equal(err, 'carprice: no listings to predict: the input is an empty list\n');
});

test('cv: k folds for several algorithms, table and --json; bad flags and names are usage errors before any data is read', async () => {
  const j = await cli('cv', '--data', 'listings.csv', '--algo', 'ridge,mean', '--folds', '4', '--json');
  assert.equal(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout) as {
    folds: number;
    rows: number;
    results: { algo: string; mean: Record<string, number>; std: Record<string, number>; folds: unknown[] }[];
  };
  assert.equal(out.folds, 4);
  assert.equal(out.rows, 250);
  assert.deepEqual(
    out.results.map((r) => [r.algo, r.folds.length]),
    [
      ['ridge', 4],
      ['mean', 4],
    ],
  );
  assert.ok(
    out.results[0].mean.r2 > 0.8 && out.results[0].mean.r2 > out.results[1].mean.r2 + 0.5,
    JSON.stringify(out.results.map((r) => r.mean.r2)),
  );
  assert.ok(out.results[0].std.r2 >= 0);
  const t = await cli('cv', '--data', 'listings.csv', '--algo', 'ridge', '--folds', '3');
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^3-fold cross-validation on 250 listings of listings\.csv \(seed 42\)\nalgorithm +R² \(sd\)/);
  assert.match(t.stdout, /\nridge +0\.\d{4} \(0\.\d{3}\)/);
  failedWith(
    await cli('cv', '--data', 'listings.csv', '--folds', '1'),
    'USAGE',
    /--folds must be a whole number >= 2, got "1"/,
  );
  failedWith(
    await cli('cv', '--data', 'nope.csv', '--algo', 'ridge,xgboostt'),
    'USAGE',
    /unknown algorithm "xgboostt"/,
  );
  failedWith(await cli('cv'), 'USAGE', /missing --data FILE/);
});
