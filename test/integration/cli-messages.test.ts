/**
 * Failure paths that used to end late, misleadingly or in a stack trace, with the real
 * built CLI as child processes (issue 9 items 8 and 17): --out under a file (before any
 * data is read), a full disk (ENOSPC) and a read-only file system (EROFS) while saving a
 * model, writing predictions and running data_transformation, an invalid --host, a
 * workbook whose listings are on another sheet, training on very few rows.
 *
 * The full-disk and read-only cases run the CLI inside `unshare -rm` (a private mount
 * namespace as an unprivileged user) over a small tmpfs; they skip, saying why, where
 * user namespaces are not available.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { BUILT_CLI, cleanEnv, runBuiltCli, type CliResult } from '../helpers/built-cli.js';
import { fixtureTable, writeFixtureCsv } from '../fixtures/listings.js';

let dir: string;
const cli = (...args: string[]) => runBuiltCli(args, dir);

function oneError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('carprice: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

const canUnshare =
  spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=16k tmpfs ${tmpdir()} && true`], { stdio: 'ignore' })
    .status === 0;

/** Run the CLI in `cwd` with a tmpfs of `size` (ro: read-only) mounted at `mnt` first; `setup` runs in the namespace before. */
function cliOnTmpfs(
  mnt: string,
  opts: { size: string; ro?: boolean; setup?: string },
  args: string[],
  cwd = dir,
): Promise<CliResult> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    `mount -t tmpfs -o ${opts.ro ? 'ro,' : ''}size=${opts.size} tmpfs ${q(mnt)}`,
    opts.setup ?? 'true',
    `exec ${q(process.execPath)} ${q(BUILT_CLI)} ${args.map(q).join(' ')}`,
  ].join(' && ');
  return new Promise((res, rej) => {
    const child = spawn('unshare', ['-rm', 'sh', '-c', script], { cwd, env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'carprice-messages-'));
  writeFixtureCsv(join(dir, 'listings.csv'), { n: 300, seed: 12 });
  const t = await cli('train', '--train', 'listings.csv', '--out', 'model', '--algo', 'ridge');
  assert.equal(t.code, 0, t.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('--out under a file fails before any data is read; a directory of other files is refused', async () => {
  const [under, notes] = await Promise.all([
    cli('train', '--train', 'not-read-yet.csv', '--out', 'listings.csv/model'),
    (async () => {
      mkdirSync(join(dir, 'notes'));
      writeFileSync(join(dir, 'notes', 'todo.md'), 'keep me');
      return cli('train', '--train', 'not-read-yet.csv', '--out', 'notes');
    })(),
  ]);
  oneError(
    under,
    2,
    /^carprice: cannot save the model to .*listings\.csv\/model: .*listings\.csv is a file, not a directory; choose another --out$/,
  );
  oneError(notes, 2, /^carprice: .*notes exists and is not a model bundle directory; .*\(it holds todo\.md\)$/);
  assert.deepEqual(readdirSync(join(dir, 'notes')), ['todo.md']);
});

test('--host 256.1.1.1 is an invalid address, not a port problem', async () => {
  const r = await cli('tracking', 'serve', '--host', '256.1.1.1', '--port', '0');
  oneError(r, 2, /^carprice: --host 256\.1\.1\.1 is not a valid IPv4 address/);
});

test('a workbook whose listings are on another sheet: the sheets and data_source.sheet are named', async () => {
  const t = fixtureTable({ n: 30, seed: 2 });
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('Notes').addRow(['exported from the dealer system']);
  const ws = wb.addWorksheet('Listings');
  ws.addRow(t.columns);
  for (const r of t.rows) ws.addRow(r);
  writeFileSync(join(dir, 'two-sheets.xlsx'), Buffer.from(await wb.xlsx.writeBuffer()));
  const r = await cli('train', '--train', 'two-sheets.xlsx', '--out', 'm-sheets');
  oneError(
    r,
    4,
    /sheet "Notes" is missing required column\(s\): .*The workbook's sheets are: Notes, Listings; if the listings are on another sheet, set data_source\.sheet \(e\.g\. --set data_source\.sheet="Listings"\)$/,
  );
  const ok = await cli(
    'train',
    '--train',
    'two-sheets.xlsx',
    '--out',
    'm-sheets',
    '--algo',
    'ridge',
    '--set',
    'data_source.sheet=Listings',
  );
  assert.equal(ok.code, 0, ok.stderr);
});

test('training on very few rows warns; too few for a blend is a clear data error', async () => {
  writeFixtureCsv(join(dir, 'few.csv'), { n: 30, seed: 5 });
  writeFixtureCsv(join(dir, 'two.csv'), { n: 2, seed: 5 });
  const [few, two] = await Promise.all([
    cli('train', '--train', 'few.csv', '--out', 'm-few', '--algo', 'ridge'),
    cli('train', '--train', 'two.csv', '--out', 'm-two', '--algo', 'blend'),
  ]);
  assert.equal(few.code, 0, few.stderr);
  assert.match(
    few.stderr,
    /warning: only 24 listings to train on and 6 to test on; the model and its test metrics will be unreliable/,
  );
  oneError(two, 4, /^carprice: only 1 listing\(s\) to train on after the split, too few for blend \(at least 14/);
});

test(
  'full disk (ENOSPC) while saving a model, writing predictions, and in data_transformation: one line, exit 4, nothing half-written',
  { skip: !canUnshare && 'unshare -rm (user namespaces) is not available here' },
  async () => {
    mkdirSync(join(dir, 'small'));
    writeFixtureCsv(join(dir, 'many.csv'), { n: 3000, seed: 13 });
    // a tmpfs of one 4 KiB page: the ~12 KB model and ~40 KB of predictions do not fit
    const [trainFull, predictFull] = await Promise.all([
      cliOnTmpfs(join(dir, 'small'), { size: '4k' }, [
        'train',
        '--train',
        'listings.csv',
        '--out',
        'small/model',
        '--algo',
        'ridge',
      ]),
      cliOnTmpfs(join(dir, 'small'), { size: '4k' }, [
        'predict',
        '--model',
        'model',
        '--data',
        'many.csv',
        '--out',
        'small/preds.csv',
      ]),
    ]);
    oneError(
      trainFull,
      4,
      /^carprice: cannot write .*small\/model: no space left on the device; free some space and run again$/,
    );
    oneError(predictFull, 4, /^carprice: cannot write .*small\/preds\.csv: no space left on the device/);

    const project = join(dir, 'project');
    mkdirSync(join(project, 'artifacts'), { recursive: true });
    writeFileSync(join(project, 'params.yaml'), 'model_trainer:\n  algo: ridge\n');
    const stage = await cliOnTmpfs(
      join(project, 'artifacts'),
      {
        size: '48k',
        setup: `mkdir -p artifacts/data_ingestion && cp ../listings.csv artifacts/data_ingestion/train.csv`,
      },
      ['stage', 'data_transformation'],
      project,
    );
    oneError(stage, 4, /^carprice: cannot write .*artifacts\/data_transformation: no space left on the device/);
    assert.equal(existsSync(join(dir, 'small', 'model')), false);
  },
);

test(
  'a read-only target (EROFS) is reported as such, before training',
  { skip: !canUnshare && 'unshare -rm (user namespaces) is not available here' },
  async () => {
    mkdirSync(join(dir, 'ro'));
    const [model, preds] = await Promise.all([
      cliOnTmpfs(join(dir, 'ro'), { size: '16k', ro: true }, [
        'train',
        '--train',
        'not-read-yet.csv',
        '--out',
        'ro/model',
      ]),
      cliOnTmpfs(join(dir, 'ro'), { size: '16k', ro: true }, [
        'predict',
        '--model',
        'model',
        '--data',
        'listings.csv',
        '--out',
        'ro/preds.csv',
      ]),
    ]);
    oneError(
      model,
      4,
      /^carprice: cannot write .*ro\/model: the file system is read-only \(EROFS\); write somewhere else$/,
    );
    oneError(preds, 4, /^carprice: cannot write .*ro\/preds\.csv: the file system is read-only \(EROFS\)/);
  },
);

test('results on stdout when stdout is a full disk (/dev/full): one line naming stdout, exit 4, never a stack trace or success', async (t) => {
  if (!existsSync('/dev/full')) return t.skip('no /dev/full on this system');
  const one = fixtureTable({ n: 1, seed: 3 });
  const listing = JSON.stringify(Object.fromEntries(one.columns.map((c, i) => [c, one.rows[0][i]])));
  const full = (args: string[]) =>
    new Promise<CliResult>((res, rej) => {
      const fd = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, [BUILT_CLI, ...args], {
        cwd: dir,
        env: cleanEnv(),
        stdio: ['ignore', fd, 'pipe'],
      });
      closeSync(fd);
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('error', rej);
      child.on('close', (code) => res({ code: code ?? -1, stdout: '', stderr }));
    });
  // these ended in "Unhandled 'error' event" with a stack (exit 1), or in "internal error"
  for (const args of [
    ['--version'],
    ['--help'],
    ['train', '--help'],
    ['predict', '--model', 'model', '--input', listing],
  ])
    oneError(await full(args), 4, /^carprice: cannot write the output \(stdout\): no space left on the device/);
  oneError(await full(['predict', '--model', 'model', '--data', 'listings.csv']), 4, /no space left on (the )?device/);
});
