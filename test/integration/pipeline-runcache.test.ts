/**
 * DVC fidelity of the pipeline (issue 18 items 1-2): dvc.lock is never git-ignored (and a
 * git-ignored one is warned about as DVC refuses it); the run-cache with DVC's keys,
 * layout (.dvc/cache/runs/<k[:2]>/<key>/<value>) and rules (restore only for stages with
 * deps, no persist outputs, not always_changed; uncached metrics saved for it; no entry
 * for a stage with a plain `cache: false` output); push/pull --run-cache and repro --pull.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reproduce } from '../../src/pipeline/reproduce.js';
import { runCacheHash } from '../../src/pipeline/run-cache.js';
import { LockFile } from '../../src/pipeline/lockfile.js';
import { dumpYaml } from '../../src/pipeline/yaml-dump.js';
import { PyFloat } from '../../src/pipeline/py-value.js';
import { runBuiltCli } from '../helpers/built-cli.js';
import { hasGit, makeRepo, md5, outcomes } from '../helpers/pipeline-repo.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function runEntries(d: string): string[] {
  const dir = join(d, '.dvc/cache/runs');
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const a of readdirSync(dir))
    for (const k of readdirSync(join(dir, a))) for (const v of readdirSync(join(dir, a, k))) out.push(`${a}/${k}/${v}`);
  return out;
}

test(
  "the project's .gitignore ignores neither dvc.lock nor dvc.yaml, params.yaml or .dvc files",
  { skip: !hasGit || !existsSync(join(root, '.git')) ? 'needs git and a git checkout' : false },
  () => {
    const r = spawnSync(
      'git',
      ['check-ignore', '--no-index', '--', 'dvc.lock', 'dvc.yaml', 'params.yaml', 'data/cars24_v3.xlsx.dvc'],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(r.stdout, '', `git-ignored: ${r.stdout}`);
  },
);

test(
  'repro warns, as DVC refuses to work, when dvc.lock is git-ignored',
  { skip: !hasGit ? 'needs git' : false },
  async (t) => {
    const d = makeRepo({
      'dvc.yaml': 'stages:\n  s:\n    cmd: echo hi > o.txt\n    deps:\n    - dvc.yaml\n    outs:\n    - o.txt\n',
      '.gitignore': '/dvc.lock\n',
    });
    t.after(() => rmSync(d, { recursive: true, force: true }));
    spawnSync('git', ['init', '-q'], { cwd: d });
    const err: string[] = [];
    const out: string[] = [];
    await reproduce({ cwd: d, stderr: { write: (s) => void err.push(s) }, stdout: { write: (s) => void out.push(s) } });
    assert.match(err.join(''), /WARNING: 'dvc\.lock' is git-ignored: real DVC stops every command/);
    // DVC's hint names the files the run changed, before the push reminder.
    assert.match(
      out.join(''),
      /To track the changes with git, run:\n\n\tgit add \.gitignore dvc\.lock\nUse `carprice push`/,
    );
    // The outputs carprice ignores are the outputs, never the lock.
    assert.equal(readFileSync(join(d, '.gitignore'), 'utf8'), '/dvc.lock\n/o.txt\n');
    writeFileSync(join(d, '.gitignore'), '/o.txt\n');
    const err2: string[] = [];
    await reproduce({ cwd: d, stderr: { write: (s) => void err2.push(s) } });
    assert.equal(err2.join(''), '');
  },
);

test('run-cache key and value: sha256 of Python json.dumps(sort_keys) without size/nfiles', () => {
  // example-get-started's prepare entry; key computed with Python's json.dumps + hashlib.
  const entry = {
    cmd: 'python src/prepare.py data/data.xml',
    deps: [
      { path: 'data/data.xml', hash: 'md5', md5: '22a1a2931c8370d3aeedd7183606fd7f', size: 14445097 },
      { path: 'src/prepare.py', hash: 'md5', md5: 'f54d670ac8a4f63206781fc31d1f2651', size: 2231 },
    ],
    params: { 'params.yaml': { 'prepare.seed': 20170428, 'prepare.split': new PyFloat(0.2) } },
    outs: [
      { path: 'data/prepared', hash: 'md5', md5: '153aad06d376b6595932470e459ef42a.dir', size: 8437363, nfiles: 2 },
    ],
  };
  assert.equal(runCacheHash(entry, true), 'a0c2d20868b0761c22ad3fb2fd40c394f790b4f1625bd845e16154f728cb3d9d');
  assert.equal(runCacheHash(entry, false), '41f723e0dbcff9429bc1ffd99bef787a4d82f5ae58d0eb567f3ad2c0a4c9696e');
});

const PIPE = `stages:
  train:
    cmd: echo "lr=\${lr}" > model.txt && echo '{"acc":' 1} > metrics.json && echo run >> runs.log
    params:
    - lr
    deps:
    - data.csv
    outs:
    - model.txt
    metrics:
    - metrics.json:
        cache: false
`;

test('run-cache: a run already made with the same deps and params is checked out, not run again', async (t) => {
  const d = makeRepo({ 'dvc.yaml': PIPE, 'params.yaml': 'lr: 1\n', 'data.csv': 'x\n' });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  const lockA = readFileSync(join(d, 'dvc.lock'), 'utf8');
  const [entry] = runEntries(d);
  const [, key, value] = entry.split('/');
  assert.equal(entry.slice(0, 2), key.slice(0, 2));
  // The entry file is the stage's lock entry in DVC's YAML.
  assert.equal(readFileSync(join(d, '.dvc/cache/runs', entry), 'utf8'), dumpYaml(LockFile.load(d).raw.get('train')!));
  assert.match(value, /^[0-9a-f]{64}$/);
  // The uncached metric is in the cache for the run-cache.
  assert.ok(existsSync(join(d, '.dvc/cache/files/md5', md5('{"acc": 1}\n').slice(0, 2), md5('{"acc": 1}\n').slice(2))));
  writeFileSync(join(d, 'params.yaml'), 'lr: 2\n');
  assert.deepEqual(outcomes(await reproduce({ cwd: d })), { train: 'ran' });
  assert.equal(runEntries(d).length, 2);
  writeFileSync(join(d, 'params.yaml'), 'lr: 1\n');
  const out: string[] = [];
  assert.deepEqual(outcomes(await reproduce({ cwd: d, stdout: { write: (s) => void out.push(s) } })), {
    train: 'restored',
  });
  assert.match(out.join(''), /Stage 'train' is cached - skipping run, checking out outputs/);
  assert.equal(readFileSync(join(d, 'runs.log'), 'utf8'), 'run\nrun\n', 'the command did not run a third time');
  assert.equal(readFileSync(join(d, 'model.txt'), 'utf8'), 'lr=1\n');
  assert.equal(readFileSync(join(d, 'metrics.json'), 'utf8'), '{"acc": 1}\n');
  assert.equal(readFileSync(join(d, 'dvc.lock'), 'utf8'), lockA);
  // --no-run-cache runs it.
  writeFileSync(join(d, 'params.yaml'), 'lr: 2\n');
  await reproduce({ cwd: d });
  writeFileSync(join(d, 'params.yaml'), 'lr: 1\n');
  assert.deepEqual(outcomes(await reproduce({ cwd: d, runCache: false })), { train: 'ran' });
});

test('no restore for a stage without deps: a modified output makes it run again', async (t) => {
  const d = makeRepo({
    'dvc.yaml': 'stages:\n  gen:\n    cmd: echo fresh > o.txt && echo run >> runs.log\n    outs:\n    - o.txt\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  writeFileSync(join(d, 'o.txt'), 'tampered\n');
  const out: string[] = [];
  assert.deepEqual(outcomes(await reproduce({ cwd: d, stdout: { write: (s) => void out.push(s) } })), { gen: 'ran' });
  assert.doesNotMatch(out.join(''), /is cached/);
  assert.equal(readFileSync(join(d, 'runs.log'), 'utf8'), 'run\nrun\n');
  assert.equal(runEntries(d).length, 0, 'no run-cache entry for a stage without deps');
});

test('a modified persist output: the stage runs, and dvc.lock records what the command wrote, never the tampered bytes', async (t) => {
  const d = makeRepo({
    'dvc.yaml':
      'stages:\n  p:\n    cmd: cp data.csv o.txt\n    deps:\n    - data.csv\n    outs:\n    - o.txt:\n        persist: true\n',
    'data.csv': 'good\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  writeFileSync(join(d, 'o.txt'), 'tampered\n');
  assert.deepEqual(outcomes(await reproduce({ cwd: d })), { p: 'ran' });
  const lock = readFileSync(join(d, 'dvc.lock'), 'utf8');
  assert.match(lock, new RegExp(`md5: ${md5('good\n')}`));
  assert.doesNotMatch(lock, new RegExp(md5('tampered\n')));
  assert.equal(runEntries(d).length, 0, 'no run-cache for persist outputs');
});

test('always_changed stages and stages with a plain cache:false output get no run-cache entry', async (t) => {
  const d = makeRepo({
    'dvc.yaml':
      'stages:\n  a:\n    cmd: cp data.csv a.txt\n    always_changed: true\n    deps:\n    - data.csv\n    outs:\n    - a.txt\n  b:\n    cmd: echo b > b.txt\n    deps:\n    - data.csv\n    outs:\n    - b.txt:\n        cache: false\n',
    'data.csv': '1\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  assert.equal(runEntries(d).length, 0);
  rmSync(join(d, 'b.txt'));
  assert.equal(
    outcomes(await reproduce({ cwd: d })).b,
    'ran',
    'the uncached output cannot be restored: DVC runs the stage',
  );
});

test('push --run-cache / pull --run-cache and repro --pull restore a run on another clone without running it', async (t) => {
  // (An uncached metric is not pushed, as with DVC, so a clone could not restore it: cache it here.)
  const d = makeRepo({
    'dvc.yaml': PIPE.replace('    - metrics.json:\n        cache: false\n', '    - metrics.json\n'),
    'params.yaml': 'lr: 1\n',
    'data.csv': 'x\n',
  });
  const store = mkdtempSync(join(tmpdir(), 'carprice-runcache-store-'));
  const clone = mkdtempSync(join(tmpdir(), 'carprice-runcache-clone-'));
  t.after(() => [d, store, clone].forEach((p) => rmSync(p, { recursive: true, force: true })));
  writeFileSync(join(d, '.dvc/config'), `[core]\n    remote = s\n['remote "s"']\n    url = ${store}\n`);
  assert.equal((await runBuiltCli(['repro'], d)).code, 0);
  const pushed = await runBuiltCli(['push', '--run-cache'], d);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.equal(pushed.stdout, '3 files pushed\n'); // model.txt, metrics.json, one run entry
  assert.equal(readdirSync(join(store, 'runs')).length, 1);
  // Another clone: the same sources, no lock, no cache.
  for (const f of ['dvc.yaml', 'params.yaml', 'data.csv']) cpSync(join(d, f), join(clone, f));
  cpSync(join(d, '.dvc/config'), join(clone, '.dvc/config'), { recursive: true });
  const r = await runBuiltCli(['repro', '--pull'], clone);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Stage 'train' is cached - skipping run, checking out outputs/);
  assert.ok(!existsSync(join(clone, 'runs.log')), 'the command did not run');
  assert.equal(readFileSync(join(clone, 'dvc.lock'), 'utf8'), readFileSync(join(d, 'dvc.lock'), 'utf8'));
  // pull --run-cache brings the entries alone.
  rmSync(join(clone, '.dvc/cache'), { recursive: true });
  const p = await runBuiltCli(['pull', '--run-cache'], clone);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(runEntries(clone).length, 1);
});

test('params: a NaN inside a dict param is unchanged between runs (as in DVC); a NaN param on its own always differs', async (t) => {
  const d = makeRepo({
    'dvc.yaml':
      'stages:\n  s:\n    cmd: cp data.csv o.txt\n    deps:\n    - data.csv\n    params:\n    - grid\n    outs:\n    - o.txt\n',
    'params.yaml': 'grid:\n  alpha: .nan\n  beta: [1, .nan]\ntop: .nan\n',
    'data.csv': '1\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  assert.match(readFileSync(join(d, 'dvc.lock'), 'utf8'), /alpha: \.nan/);
  assert.deepEqual(outcomes(await reproduce({ cwd: d })), { s: 'unchanged' });
  writeFileSync(
    join(d, 'dvc.yaml'),
    readFileSync(join(d, 'dvc.yaml'), 'utf8').replace('    - grid\n', '    - grid\n    - top\n'),
  );
  await reproduce({ cwd: d });
  assert.notEqual(
    outcomes(await reproduce({ cwd: d })).s,
    'unchanged',
    'nan != nan for a param compared directly (Python)',
  );
});

test('params: a date value is refused where DVC refuses it (interpolation context, run-cache entry), with the key and the fix', async (t) => {
  const d = makeRepo({
    'dvc.yaml':
      'stages:\n  s:\n    cmd: cp data.csv o.txt\n    deps:\n    - data.csv\n    params:\n    - since\n    outs:\n    - o.txt\n',
    'params.yaml': 'since: 2024-01-31\n',
    'data.csv': '1\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  // params.yaml feeds ${} interpolation: DVC refuses a date anywhere in it, for every command.
  await assert.rejects(reproduce({ cwd: d }), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /^Unsupported value of type 'date' in 'params.yaml:since'.*quote it \('2024-01-31'\)/);
    return true;
  });
  writeFileSync(join(d, 'params.yaml'), 'a:\n  b: [1, 2024-01-31 10:00:00]\nsince: x\n');
  await assert.rejects(reproduce({ cwd: d }), /Unsupported value of type 'datetime' in 'params.yaml:a\.b\.1'/);
  assert.ok(!existsSync(join(d, 'o.txt')), 'refused before running');
  writeFileSync(join(d, 'params.yaml'), "since: '2024-01-31'\n");
  assert.deepEqual(outcomes(await reproduce({ cwd: d })), { s: 'ran' });
  // Another params file is not interpolated: DVC fails when it writes the run-cache entry.
  writeFileSync(
    join(d, 'dvc.yaml'),
    readFileSync(join(d, 'dvc.yaml'), 'utf8').replace('    - since\n', '    - p.yaml:\n      - since\n'),
  );
  writeFileSync(join(d, 'p.yaml'), 'since: 2024-01-31\n');
  await assert.rejects(
    reproduce({ cwd: d }),
    /s: failed to reproduce 's': Object of type date is not JSON serializable: parameter 'since' in 'p.yaml'.*quote it \('2024-01-31'\)/,
  );
  assert.equal(readFileSync(join(d, 'o.txt'), 'utf8'), '1\n', 'refused before the outputs are touched');
});

test("frozen stages: DVC's warning on stderr and its skip message", async (t) => {
  const d = makeRepo({
    'dvc.yaml': 'stages:\n  f:\n    cmd: echo x > o.txt\n    frozen: true\n    outs:\n    - o.txt\n',
    'o.txt': 'x\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  const out: string[] = [];
  const err: string[] = [];
  await reproduce({ cwd: d, stdout: { write: (s) => void out.push(s) }, stderr: { write: (s) => void err.push(s) } });
  assert.equal(err.join(''), "WARNING: stage: 'f' is frozen. Its dependencies are not going to be reproduced.\n");
  assert.match(out.join(''), /^Stage 'f' didn't change, skipping\n/);
});
