/**
 * The README's exit-code table, tested with the real built CLI as child processes: each
 * row's examples exit with the code the table gives (the numbers are written here, not
 * taken from exitCodeOf, so the table and the code cannot drift together), print one
 * `carprice:` line and no stack trace. Issue 9 items 8 and 15, issue 18 item 8.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBuiltCli, type CliResult } from '../helpers/built-cli.js';
import { startTrackingServer } from '../helpers/tracking-server.js';
import { asInput, generateListings, writeFixtureCsv } from '../fixtures/listings.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
let dir: string;
const LISTING = JSON.stringify(asInput(generateListings({ n: 1, seed: 5 })[0]));

function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runBuiltCli(args, dir, env);
}

/** Exit `code`, nothing on stdout, exactly one `carprice:` line matching `pattern`, no trace. */
function exits(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('carprice: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'carprice-exit-'));
  writeFixtureCsv(join(dir, 'listings.csv'), { n: 120, seed: 3 });
  const t = await cli(['train', '--train', 'listings.csv', '--out', 'model', '--algo', 'ridge']);
  assert.equal(t.code, 0, t.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('README lists the exit codes this file tests', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const table = /## Exit codes\n[\s\S]*?\n\| code \|[^\n]*\n\|[-| ]+\|\n((?:\|[^\n]*\n)+)/.exec(readme);
  assert.ok(table, 'README has an "## Exit codes" table');
  const codes = table[1]
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(l.split('|')[1].trim()));
  assert.deepEqual(codes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130]);
});

test('2 usage: an unknown flag names the nearest one; a negative --rows is judged, not "ambiguous"', async () => {
  const [flag, rows] = await Promise.all([
    cli(['train', '--trian', 'listings.csv', '--out', 'x']),
    cli(['data', 'synth', '--rows', '-5', '--out', 'x.csv']),
  ]);
  exits(flag, 2, /^carprice: unknown flag --trian \(did you mean --train\?\); run `carprice train --help`$/);
  exits(rows, 2, /^carprice: --rows must be a positive integer, got -5$/);
  // a word used to come back as "got NaN"
  exits(
    await cli(['data', 'synth', '--rows', 'lots', '--out', 'x.csv']),
    2,
    /^carprice: --rows must be a positive integer, got "lots"$/,
  );
});

test('3 config: bad hyper-parameters before any data is read, a missing --params file, an alias bomb, a non-SQLite tracking DB', async () => {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++)
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  writeFileSync(join(dir, 'bomb.yaml'), lines.join('\n') + '\nbase: {project: *a8}\n');
  writeFileSync(join(dir, 'not-a.db'), 'this is not a database, just text\n'.repeat(200));
  const [hyper, blend, missing, bomb, db] = await Promise.all([
    // the data file does not exist: a 3 (not 4) shows the params were checked first
    cli([
      'train',
      '--train',
      'no-such.csv',
      '--out',
      'm1',
      '--algo',
      'gbdt',
      '--set',
      'model_trainer.params.gbdt.max_depth=-2',
    ]),
    cli([
      'train',
      '--train',
      'no-such.csv',
      '--out',
      'm1',
      '--algo',
      'blend',
      '--set',
      'model_trainer.params.blend.members=ridge,xgb',
    ]),
    cli(['evaluate', '--model', 'model', '--data', 'listings.csv', '--params', 'nope.yaml']),
    cli(['evaluate', '--model', 'model', '--data', 'listings.csv', '--params', 'bomb.yaml']),
    cli(['runs', 'list', '--tracking-uri', `sqlite:///${join(dir, 'not-a.db')}`]),
  ]);
  exits(hyper, 3, /^carprice: model_trainer\.params\.gbdt: .*max_depth/);
  exits(blend, 3, /^carprice: model_trainer\.params\.xgb: unknown algorithm "xgb"/);
  exits(missing, 3, /^carprice: params file .*nope\.yaml does not exist; check --params/);
  exits(bomb, 3, /^carprice: .*bomb\.yaml: cannot be read as YAML: .*alias/i);
  exits(db, 3, /^carprice: tracking database .*not-a\.db is not a SQLite database/);
});

test('3 configuration: a tracking database damaged after it was made (a garbled page) is one line naming it, not a stack trace', async () => {
  const db = join(dir, 'damaged.db');
  const uri = `sqlite:///${db}`;
  const made = await cli(['experiments', 'list', '--tracking-uri', uri]);
  assert.equal(made.code, 0, made.stderr);
  // garble the root pages of the runs table and its indexes: the file still opens, the search that reads them fails
  const sql = new Database(db);
  sql.pragma('wal_checkpoint(TRUNCATE)');
  const roots = sql.prepare("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'runs' AND rootpage > 0").all() as {
    rootpage: number;
  }[];
  const pageSize = sql.pragma('page_size', { simple: true }) as number;
  sql.close();
  const fd = openSync(db, 'r+');
  for (const { rootpage } of roots) writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (rootpage - 1) * pageSize);
  closeSync(fd);
  // it used to be "internal error: SqliteError: database disk image is malformed" and a stack, exit 1
  exits(
    await cli(['runs', 'list', '--tracking-uri', uri]),
    3,
    /^carprice: tracking database .*damaged\.db is damaged \(database disk image is malformed\); restore it from a backup, or recover what is readable with `sqlite3 .*damaged\.db \.recover` into a new file$/,
  );
});

test('5 model: a missing model directory; damaged bundles refused by predict and evaluate alike', async () => {
  const good = JSON.parse(readFileSync(join(dir, 'model', 'bundle.json'), 'utf8'));
  // Each damage reaches deep into the saved bundle JSON to break one field; typing every path buys nothing.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const damage: Record<string, (j: Record<string, any>) => void> = {
    'null-weight': (j) => void (j.members[0].weight = null),
    transform: (j) => void (j.target.transform = 'box-cox'),
    'steps-string': (j) => void (j.members[0].features.steps = 'standard-scaler'),
    'empty-input-schema': (j) => void (j.inputSchema = {}),
  };
  for (const [name, fn] of Object.entries(damage)) {
    const j = structuredClone(good);
    fn(j);
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'bundle.json'), JSON.stringify(j));
  }
  const runs = await Promise.all([
    cli(['predict', '--model', 'no-model-here', '--input', LISTING]),
    cli(['evaluate', '--model', 'no-model-here', '--data', 'listings.csv']),
    ...Object.keys(damage).flatMap((name) => [
      cli(['predict', '--model', name, '--input', LISTING]),
      cli(['evaluate', '--model', name, '--data', 'listings.csv']),
    ]),
  ]);
  exits(runs[0], 5, /^carprice: no model at .*no-model-here/);
  exits(runs[1], 5, /^carprice: no model at .*no-model-here/);
  const why = [
    /members\[0\]\.weight: expected a finite number, got null/,
    /target\.transform: expected one of log1p, identity, got "box-cox"/,
    /members\[0\]\.features\.steps: expected a list/,
    /inputSchema\.target: expected a string/,
  ];
  Object.keys(damage).forEach((_name, i) => {
    exits(runs[2 + 2 * i], 5, why[i]);
    exits(runs[3 + 2 * i], 5, why[i]);
  });
});

test('5 model and 6 remote against a tracking server: a missing run or model, refused credentials (401)', async () => {
  const server = await startTrackingServer(dir, { env: { CARPRICE_TRACKING_USERS: 'alice:secret' } });
  const url = server.uri;
  try {
    const auth = { MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'secret' };
    const [run, model, denied] = await Promise.all([
      cli(['runs', 'show', 'f'.repeat(32), '--tracking-uri', url], auth),
      cli(['models', 'show', 'NoSuchModel', '--tracking-uri', url], auth),
      cli(['experiments', 'list', '--tracking-uri', url], {
        MLFLOW_TRACKING_USERNAME: 'alice',
        MLFLOW_TRACKING_PASSWORD: 'wrong',
      }),
    ]);
    exits(run, 5, /^carprice: Run with id=f{32} not found$/);
    exits(model, 5, /NoSuchModel/);
    assert.equal(denied.code, 6, denied.stderr);
    assert.doesNotMatch(denied.stderr, /internal error|\n\s+at |wrong/);
  } finally {
    await server.stop();
  }
});
