/** Tests of params.yaml loading: defaults, every problem with key path and line, --set overrides. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../core/errors.js';
import { applyOverrides, loadParams, parseParams } from './params.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function withFile(text: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-params-'));
  try {
    const p = join(dir, 'params.yaml');
    writeFileSync(p, text);
    fn(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function appError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AppError, `expected an AppError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

test('a missing file means all defaults (seed values), frozen', () => {
  const p = loadParams({ path: '/nonexistent/params.yaml' });
  assert.equal(p.base.target_col, 'listingPrice');
  assert.equal(p.base.random_state, 42);
  assert.equal(p.data_ingestion.test_size, 0.2);
  assert.deepEqual(p.data_ingestion.numerical_cols, ['odometer', 'fitnessAge', 'featureCount']);
  assert.deepEqual(p.data_ingestion.categorical_cols, [
    'make',
    'model',
    'variant',
    'year',
    'transmissionType',
    'bodyType',
    'fuelType',
    'ownership',
    'color',
  ]);
  assert.equal(p.model_trainer.algo, 'ridge');
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.features) && Object.isFrozen(p.features.derived));
  const e = appError(() => loadParams({ path: '/nonexistent/params.yaml', mustExist: true }));
  assert.equal(e.code, 'CONFIG_INVALID', 'a missing --params file is a config error (exit 3, issue 9 item 15)');
  assert.match(e.message, /\/nonexistent\/params\.yaml/);
});

test("the project's params.yaml is valid", () => {
  const p = loadParams({ path: join(root, 'params.yaml'), mustExist: true });
  assert.equal(p.base.target_col, 'listingPrice');
  // its optional columns are equipment flags, never the leaky loan columns
  for (const c of p.data_ingestion.optional_cols) assert.ok(!/^(emi|roi|cashDownPayment|avgEmi)/.test(c), c);
});

test('every problem is listed with its key path and file line', () => {
  const text = [
    'base:', // 1
    '  target_col: listingPrice', // 2
    'data_ingestion:', // 3
    '  test_size: 1.5', // 4
    '  numerical_cols: [odometer, 3.5, ""]', // 5
    'features:', // 6
    '  log_target: maybe', // 7
    '  colour: red', // 8
    'model_trainer:', // 9
    '  params:', // 10
    '    ridge: {alpha: [1, 2]}', // 11
    '',
  ].join('\n');
  withFile(text, (path) => {
    const e = appError(() => loadParams({ path }));
    assert.equal(e.code, 'CONFIG_INVALID');
    const lines = e.message.split('\n');
    assert.equal(lines[0], `${path} has 5 problems:`);
    assert.deepEqual(lines.slice(1), [
      `  ${path}:4: data_ingestion.test_size: expected a number > 0 and < 1, got 1.5`,
      `  ${path}:5: data_ingestion.numerical_cols[2]: must not be empty`,
      `  ${path}:7: features.log_target: expected true or false, got "maybe"`,
      `  ${path}:8: features.colour: unknown key (known: reference_year, log_target, derived, exclude, numeric_imputer, categorical_imputer, onehot_drop_first, onehot_max_categories, target_encoding_smoothing, target_encoding_parents, target_encoding_folds, scale, token_columns, token_min_count, interactions, interaction_min_count, steps, step_min_count)`,
      `  ${path}:11: model_trainer.params.ridge.alpha: expected a number, string or boolean, got [1,2]; a list goes as one comma-separated string, e.g. '1,2'`,
    ]);
  });
});

test('a single problem is one line: file, line, key path, message', () => {
  withFile('data_ingestion:\n  random_state: -1\n', (path) => {
    const e = appError(() => loadParams({ path }));
    assert.equal(
      e.message,
      `${path}:2: data_ingestion.random_state: expected an integer >= 0 and <= 4294967295, got -1`,
    );
  });
});

test('invalid YAML names the line; a list at the top is refused', () => {
  withFile('base:\n  project: [unclosed\n', (path) => {
    const e = appError(() => loadParams({ path }));
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(e.message, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: invalid YAML: `));
  });
  withFile('- a\n- b\n', (path) => {
    const e = appError(() => loadParams({ path }));
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(e.message, /must be a mapping of sections/);
  });
  withFile('', (path) => assert.equal(loadParams({ path }).base.project, 'carprice'));
});

test('--set overrides scalars, lists and nested keys, creating missing sections', () => {
  withFile('data_ingestion:\n  test_size: 0.2\n', (path) => {
    const p = loadParams({
      path,
      sets: [
        'data_ingestion.test_size=0.25',
        'features.log_target=false',
        'features.derived=[car_age, log_odometer]',
        'model_trainer.params.blend.members=ridge,lasso',
        'model_trainer.algo=lasso',
      ],
    });
    assert.equal(p.data_ingestion.test_size, 0.25);
    assert.equal(p.features.log_target, false);
    assert.deepEqual(p.features.derived, ['car_age', 'log_odometer']);
    assert.equal(p.model_trainer.params.blend.members, 'ridge,lasso');
    assert.equal(p.model_trainer.algo, 'lasso');
  });
  const raw = { a: { b: 1 } };
  const out = applyOverrides(raw, ['a.c=x y']);
  assert.deepEqual(out, { a: { b: 1, c: 'x y' } });
  assert.deepEqual(raw, { a: { b: 1 } }, 'the input is not modified');
});

test('bad --set flags: USAGE for malformed ones, CONFIG_INVALID blaming the flag for bad values', () => {
  assert.equal(appError(() => applyOverrides({}, ['novalue'])).code, 'USAGE');
  assert.equal(appError(() => applyOverrides({}, ['=3'])).code, 'USAGE');
  const e = appError(() => applyOverrides({ base: { project: 'p' } }, ['base.project.x=1']));
  assert.equal(e.code, 'USAGE');
  assert.match(e.message, /project is not a mapping/);
  withFile('data_ingestion:\n  test_size: 0.2\n', (path) => {
    const bad = appError(() => loadParams({ path, sets: ['data_ingestion.test_size=abc'] }));
    assert.equal(bad.code, 'CONFIG_INVALID');
    // the bad value came from the flag, so the flag is named, not line 2 of the file
    assert.equal(bad.message, '--set data_ingestion.test_size: expected a number > 0 and < 1, got "abc"');
  });
  const noFile = appError(() =>
    loadParams({ path: '/nonexistent/params.yaml', sets: ['features.scale=perhaps', 'features.nope=1'] }),
  );
  assert.equal(
    noFile.message,
    '/nonexistent/params.yaml has 2 problems:\n  --set features.scale: expected true or false, got "perhaps"\n  --set features.nope: unknown key (known: reference_year, log_target, derived, exclude, numeric_imputer, categorical_imputer, onehot_drop_first, onehot_max_categories, target_encoding_smoothing, target_encoding_parents, target_encoding_folds, scale, token_columns, token_min_count, interactions, interaction_min_count, steps, step_min_count)',
  );
});

test('parseParams validates an already parsed object', () => {
  assert.equal(parseParams({ base: { random_state: 7 } }).base.random_state, 7);
  assert.equal(appError(() => parseParams({ evaluation: { max_rmse: 0 } })).code, 'CONFIG_INVALID');
});

test('a YAML alias bomb in params is a CONFIG_INVALID line, not a crash (issue 9 item 8)', () => {
  const d = mkdtempSync(join(tmpdir(), 'carprice-params-bomb-'));
  try {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    lines.push('base: {project: *a8}');
    const path = join(d, 'params.yaml');
    writeFileSync(path, lines.join('\n') + '\n');
    const e = appError(() => loadParams({ path, mustExist: true }));
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(e.message, /params\.yaml: cannot be read as YAML: .*alias.*; write the values out/i);
    assert.doesNotMatch(e.message, /\n/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('ranges: the defaults in code equal params.yaml; entries override or turn off a column; min above max is refused', () => {
  const fromFile = loadParams({ path: join(root, 'params.yaml'), mustExist: true });
  assert.deepEqual(fromFile.ranges, parseParams({}).ranges);
  assert.deepEqual(parseParams({}).ranges.odometer, { min: 0, max: 2_000_000 });
  const p = parseParams({ ranges: { odometer: { min: 0, max: 5e6 }, year: null } });
  assert.deepEqual(p.ranges.odometer, { min: 0, max: 5e6 });
  assert.equal(p.ranges.year, undefined);
  assert.deepEqual(p.ranges.fitnessAge, { min: 0, max: 100 });
  assert.throws(
    () => parseParams({ ranges: { odometer: { min: 10, max: 1 } } }),
    /ranges\.odometer: min 10 is above max 1/,
  );
  assert.throws(
    () => parseParams({ ranges: { odometer: { min: 'a', max: 1 } } }),
    /ranges\.odometer\.min: expected a number/,
  );
});

test('model_trainer.holdout_folds: default 1 (the 15% hold-out); a whole number 1..20', () => {
  assert.equal(loadParams({ path: '/nonexistent/params.yaml' }).model_trainer.holdout_folds, 1);
  assert.equal(
    loadParams({ path: '/nonexistent/params.yaml', sets: ['model_trainer.holdout_folds=5'] }).model_trainer
      .holdout_folds,
    5,
  );
  for (const bad of ['0', '2.5', '21'])
    assert.throws(
      () => loadParams({ path: '/nonexistent/params.yaml', sets: [`model_trainer.holdout_folds=${bad}`] }),
      /--set model_trainer\.holdout_folds/,
    );
});

test('model_trainer.trim_residuals: default 0 (off); a number 0..100', () => {
  assert.equal(loadParams({ path: '/nonexistent/params.yaml' }).model_trainer.trim_residuals, 0);
  assert.equal(
    loadParams({ path: '/nonexistent/params.yaml', sets: ['model_trainer.trim_residuals=2.5'] }).model_trainer
      .trim_residuals,
    2.5,
  );
  for (const bad of ['-1', 'lots', '101'])
    assert.throws(
      () => loadParams({ path: '/nonexistent/params.yaml', sets: [`model_trainer.trim_residuals=${bad}`] }),
      /--set model_trainer\.trim_residuals: expected a number >= 0 and <= 100/,
    );
});
