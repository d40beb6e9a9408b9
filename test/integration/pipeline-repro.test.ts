/**
 * The pipeline runner end to end on real temp repos with real child processes:
 * golden dvc.lock bytes, status after each kind of change, skipping, restoring from the
 * cache, failures (dependents skipped, lock entry untouched), parallel stages, the repo
 * lock, abort (Ctrl-C), foreach/matrix, frozen stages and `.dvc` data sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reproduce } from '../../src/pipeline/reproduce.js';
import { formatStatus, status } from '../../src/pipeline/status.js';
import { add } from '../../src/pipeline/add.js';
import { checkout } from '../../src/pipeline/transfer.js';
import { isAppError } from '../../src/core/errors.js';
import { makeRepo, md5, outcomes } from '../helpers/pipeline-repo.js';

const PIPE = `stages:
  prepare:
    cmd: cp data.csv prepared.csv && echo prepare >> runs.log
    deps:
    - data.csv
    outs:
    - prepared.csv
  train:
    cmd: sh train.sh \${train.lr}
    deps:
    - prepared.csv
    - train.sh
    params:
    - train.lr
    - train.seed
    outs:
    - model.txt
    metrics:
    - metrics.json:
        cache: false
`;
const TRAIN_SH = `echo "lr=$1" > model.txt\necho '{"acc": 0.5}' > metrics.json\necho train >> runs.log\n`;
const PARAMS = 'train:\n  lr: 0.10\n  seed: 42\n  unused: 1\n';

function smallRepo(): string {
  return makeRepo({ 'dvc.yaml': PIPE, 'params.yaml': PARAMS, 'data.csv': 'a,b\n1,2\n', 'train.sh': TRAIN_SH });
}

test('repro writes the golden dvc.lock, caches outs, and a second repro skips everything', async (t) => {
  const d = smallRepo();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const out: string[] = [];
  const r1 = await reproduce({ cwd: d, stdout: { write: (s) => void out.push(s) } });
  assert.deepEqual(outcomes(r1), { prepare: 'ran', train: 'ran' });
  const data = 'a,b\n1,2\n';
  const expected = `schema: '2.0'
stages:
  prepare:
    cmd: cp data.csv prepared.csv && echo prepare >> runs.log
    deps:
    - path: data.csv
      hash: md5
      md5: ${md5(data)}
      size: 8
    outs:
    - path: prepared.csv
      hash: md5
      md5: ${md5(data)}
      size: 8
  train:
    cmd: sh train.sh 0.1
    deps:
    - path: prepared.csv
      hash: md5
      md5: ${md5(data)}
      size: 8
    - path: train.sh
      hash: md5
      md5: ${md5(TRAIN_SH)}
      size: ${TRAIN_SH.length}
    params:
      params.yaml:
        train.lr: 0.1
        train.seed: 42
    outs:
    - path: metrics.json
      hash: md5
      md5: ${md5('{"acc": 0.5}\n')}
      size: 13
    - path: model.txt
      hash: md5
      md5: ${md5('lr=0.1\n')}
      size: 7
`;
  const lock = readFileSync(join(d, 'dvc.lock'), 'utf8');
  assert.equal(lock, expected);
  // Cache holds the cached outputs, and (DVC's run-cache) the uncached metrics.json too.
  assert.ok(existsSync(join(d, '.dvc/cache/files/md5', md5(data).slice(0, 2), md5(data).slice(2))));
  assert.ok(existsSync(join(d, '.dvc/cache/files/md5', md5('lr=0.1\n').slice(0, 2), md5('lr=0.1\n').slice(2))));
  assert.ok(
    existsSync(join(d, '.dvc/cache/files/md5', md5('{"acc": 0.5}\n').slice(0, 2), md5('{"acc": 0.5}\n').slice(2))),
  );
  assert.equal(readdirSync(join(d, '.dvc/cache/runs')).length, 2, 'one run-cache entry per stage');
  assert.match(out.join(''), /Running stage 'prepare'/);
  // Nothing changed: skipped, commands not run again, lock bytes identical.
  const r2 = await reproduce({ cwd: d });
  assert.deepEqual(outcomes(r2), { prepare: 'unchanged', train: 'unchanged' });
  assert.equal(readFileSync(join(d, 'runs.log'), 'utf8'), 'prepare\ntrain\n');
  assert.equal(readFileSync(join(d, 'dvc.lock'), 'utf8'), lock);
  assert.equal(formatStatus(await status({ cwd: d })), 'Data and pipelines are up to date.\n');
});

test('lock for a simple stage matches DVC bytes exactly (no folding involved)', async (t) => {
  const d = makeRepo({
    'dvc.yaml': 'stages:\n  s:\n    cmd: cp in.txt out.txt\n    deps:\n    - in.txt\n    outs:\n    - out.txt\n',
    'in.txt': 'foo',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  assert.equal(
    readFileSync(join(d, 'dvc.lock'), 'utf8'),
    `schema: '2.0'\nstages:\n  s:\n    cmd: cp in.txt out.txt\n    deps:\n    - path: in.txt\n      hash: md5\n      md5: acbd18db4cc2f85cedef654fccc4a4d8\n      size: 3\n    outs:\n    - path: out.txt\n      hash: md5\n      md5: acbd18db4cc2f85cedef654fccc4a4d8\n      size: 3\n`,
  );
});

test('status after changing a dep, a tracked param, an untracked param, deleting an out', async (t) => {
  const d = smallRepo();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  writeFileSync(join(d, 'params.yaml'), PARAMS.replace('unused: 1', 'unused: 2'));
  assert.equal(formatStatus(await status({ cwd: d })), 'Data and pipelines are up to date.\n');
  writeFileSync(join(d, 'params.yaml'), PARAMS.replace('seed: 42', 'seed: 7'));
  assert.equal(
    formatStatus(await status({ cwd: d })),
    'train:\n\tchanged deps:\n\t\tparams.yaml:\n\t\t\tmodified:           train.seed\n',
  );
  writeFileSync(join(d, 'params.yaml'), PARAMS);
  writeFileSync(join(d, 'data.csv'), 'a,b\n1,3\n');
  rmSync(join(d, 'model.txt'));
  assert.equal(
    formatStatus(await status({ cwd: d })),
    'prepare:\n\tchanged deps:\n\t\tmodified:           data.csv\ntrain:\n\tchanged outs:\n\t\tdeleted:            model.txt\n',
  );
  // Changing an interpolated param changes the command too.
  writeFileSync(join(d, 'params.yaml'), PARAMS.replace('lr: 0.10', 'lr: 0.2'));
  const s = await status({ cwd: d, targets: ['train'] });
  assert.deepEqual(s.changed[0].changedDeps, [['params.yaml', [['train.lr', 'modified']]]]);
  assert.equal(s.changed[0].changedCmd, true);
});

test('deleted outputs are restored from the cache without running the command', async (t) => {
  const d = smallRepo();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  rmSync(join(d, 'model.txt'));
  const r = await reproduce({ cwd: d });
  assert.deepEqual(outcomes(r), { prepare: 'unchanged', train: 'restored' });
  assert.equal(readFileSync(join(d, 'model.txt'), 'utf8'), 'lr=0.1\n');
  assert.equal(readFileSync(join(d, 'runs.log'), 'utf8'), 'prepare\ntrain\n');
  // --force runs everything again.
  const f = await reproduce({ cwd: d, force: true });
  assert.deepEqual(outcomes(f), { prepare: 'ran', train: 'ran' });
});

test('a failing stage skips its dependents, leaves its lock entry and the cache untouched; independent stages run', async (t) => {
  const d = makeRepo({
    'dvc.yaml': `stages:
  a:
    cmd: echo \${v} > a.txt && test "\${v}" = 1
    outs:
    - a.txt
  b:
    cmd: cp a.txt b.txt
    deps:
    - a.txt
    outs:
    - b.txt
  c:
    cmd: echo c > c.txt
    outs:
    - c.txt
`,
    'params.yaml': 'v: 1\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  const lockBefore = readFileSync(join(d, 'dvc.lock'), 'utf8');
  const cacheBefore = (readdirSync(join(d, '.dvc/cache/files/md5'), { recursive: true }) as string[]).sort();
  writeFileSync(join(d, 'params.yaml'), 'v: 2\n');
  writeFileSync(join(d, 'dvc.yaml'), readFileSync(join(d, 'dvc.yaml'), 'utf8').replace('echo c >', 'echo cc >'));
  const err: string[] = [];
  await assert.rejects(
    reproduce({ cwd: d, stderr: { write: (s) => void err.push(s) } }),
    (e: unknown) =>
      isAppError(e, 'PIPELINE_STAGE_FAILED') && /1 stage failed: a; not run because of it: b/.test(e.message),
  );
  assert.match(err.join(''), /command `echo 2 > a.txt && test "2" = 1` exited with code 1/);
  const lockAfter = readFileSync(join(d, 'dvc.lock'), 'utf8');
  const entry = (text: string, name: string) => text.split(`\n  ${name}:\n`)[1].split(/\n {2}\w+:\n/)[0];
  assert.equal(entry(lockAfter, 'a'), entry(lockBefore, 'a'));
  assert.equal(entry(lockAfter, 'b'), entry(lockBefore, 'b'));
  assert.notEqual(entry(lockAfter, 'c'), entry(lockBefore, 'c'));
  const cacheAfter = (readdirSync(join(d, '.dvc/cache/files/md5'), { recursive: true }) as string[]).sort();
  assert.deepEqual(cacheAfter.filter((p) => !cacheBefore.includes(p)).length, 2); // only c's new object (dir + file)
  assert.equal(readFileSync(join(d, 'c.txt'), 'utf8'), 'cc\n');
});

test('independent stages run in parallel with jobs=2 (each waits for the other to start)', async (t) => {
  const wait = (me: string, other: string) =>
    `touch ${me}.started; i=0; while [ ! -f ${other}.started ]; do i=$((i+1)); [ $i -gt 200 ] && exit 9; sleep 0.05; done; echo ${me} > ${me}.out`;
  const d = makeRepo({
    'dvc.yaml': `stages:\n  a:\n    cmd: ${wait('a', 'b')}\n    outs:\n    - a.out\n  b:\n    cmd: ${wait('b', 'a')}\n    outs:\n    - b.out\n  c:\n    cmd: cat a.out b.out > c.out\n    deps:\n    - a.out\n    - b.out\n    outs:\n    - c.out\n`,
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const lines: string[] = [];
  const r = await reproduce({ cwd: d, jobs: 2, stdout: { write: (s) => void lines.push(s) } });
  assert.deepEqual(outcomes(r), { a: 'ran', b: 'ran', c: 'ran' });
  assert.equal(readFileSync(join(d, 'c.out'), 'utf8'), 'a\nb\n');
  const lock = readFileSync(join(d, 'dvc.lock'), 'utf8');
  assert.ok(lock.indexOf('\n  a:') < lock.indexOf('\n  c:') && lock.indexOf('\n  b:') < lock.indexOf('\n  c:'));
});

test('repo lock: a live holder stops a second repro with its pid; a stale lock is taken over', async (t) => {
  const d = makeRepo({ 'dvc.yaml': 'stages:\n  s:\n    cmd: echo hi > o.txt\n    outs:\n    - o.txt\n' });
  const holder = spawn('sleep', ['30']);
  t.after(() => {
    holder.kill();
    rmSync(d, { recursive: true, force: true });
  });
  mkdirSync(join(d, '.dvc/tmp'), { recursive: true });
  writeFileSync(join(d, '.dvc/tmp/lock'), ` ${holder.pid}\n`);
  await assert.rejects(
    reproduce({ cwd: d }),
    (e: unknown) => isAppError(e, 'PIPELINE_LOCKED') && e.message.includes(`pid ${holder.pid}`),
  );
  assert.ok(!existsSync(join(d, 'dvc.lock')));
  holder.kill();
  await new Promise((r) => holder.once('exit', r));
  const r = await reproduce({ cwd: d });
  assert.deepEqual(outcomes(r), { s: 'ran' });
  assert.ok(!existsSync(join(d, '.dvc/tmp/lock')), 'lock released after repro');
});

test('abort (Ctrl-C) kills the running command, records nothing for it and releases the lock', async (t) => {
  const d = makeRepo({
    'dvc.yaml': 'stages:\n  slow:\n    cmd: echo $$ > pid.txt; touch o.txt; exec sleep 30\n    outs:\n    - o.txt\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const ac = new AbortController();
  const timer = setInterval(() => {
    if (existsSync(join(d, 'pid.txt')) && readFileSync(join(d, 'pid.txt'), 'utf8').trim()) ac.abort();
  }, 20);
  t.after(() => clearInterval(timer));
  await assert.rejects(reproduce({ cwd: d, signal: ac.signal }), (e: unknown) => isAppError(e, 'INTERRUPTED'));
  clearInterval(timer);
  const pid = Number(readFileSync(join(d, 'pid.txt'), 'utf8'));
  assert.throws(() => process.kill(pid, 0), 'the stage process is gone');
  assert.ok(!existsSync(join(d, 'dvc.lock')));
  assert.ok(!existsSync(join(d, '.dvc/tmp/lock')));
  assert.ok(!existsSync(join(d, '.dvc/cache')));
});

test('foreach and matrix stages run and are keyed group@item in dvc.lock; targets accept the group', async (t) => {
  const d = makeRepo({
    'params.yaml': 'regions: [us, eu]\n',
    'dvc.yaml': `stages:
  build:
    foreach: \${regions}
    do:
      cmd: echo \${item} > out-\${item}.txt
      outs:
      - out-\${item}.txt
  grid:
    matrix:
      lr: [0.1, 0.01]
    cmd: echo \${item.lr} > grid-\${key}.txt
    outs:
    - grid-\${key}.txt
`,
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const r = await reproduce({ cwd: d, targets: ['build'] });
  assert.deepEqual(outcomes(r), { 'build@us': 'ran', 'build@eu': 'ran' });
  await reproduce({ cwd: d });
  const lock = readFileSync(join(d, 'dvc.lock'), 'utf8');
  assert.deepEqual(
    [...lock.matchAll(/^ {2}(\S+):$/gm)].map((m) => m[1]),
    ['build@us', 'build@eu', 'grid@0.1', 'grid@0.01'],
  );
  assert.equal(readFileSync(join(d, 'grid-0.01.txt'), 'utf8'), '0.01\n');
});

test('frozen stages never run; --dry runs and writes nothing; stale lock entries are kept', async (t) => {
  const d = makeRepo({
    'dvc.yaml':
      'stages:\n  f:\n    cmd: echo x > f.txt\n    frozen: true\n    outs:\n    - f.txt\n  g:\n    cmd: echo g > g.txt\n    outs:\n    - g.txt\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await assert.rejects(
    reproduce({ cwd: d, targets: ['f'] }),
    (e: unknown) => isAppError(e, 'PIPELINE_STAGE_FAILED') && /frozen/.test(e.message),
  );
  const out: string[] = [];
  const dry = await reproduce({ cwd: d, targets: ['g'], dry: true, stdout: { write: (s) => void out.push(s) } });
  assert.deepEqual(outcomes(dry), { g: 'dry' });
  assert.ok(out.join('').includes('> echo g > g.txt'));
  assert.ok(!existsSync(join(d, 'g.txt')) && !existsSync(join(d, 'dvc.lock')));
  await reproduce({ cwd: d, targets: ['g'] });
  // Remove g from dvc.yaml: its lock entry stays (DVC keeps stale entries).
  writeFileSync(join(d, 'dvc.yaml'), 'stages:\n  h:\n    cmd: echo h > h.txt\n    outs:\n    - h.txt\n');
  await reproduce({ cwd: d });
  assert.deepEqual(
    [...readFileSync(join(d, 'dvc.lock'), 'utf8').matchAll(/^ {2}(\S+):$/gm)].map((m) => m[1]),
    ['g', 'h'],
  );
});

test('add tracks data with a .dvc file; status shows its changes; checkout restores it', async (t) => {
  const d = makeRepo({ 'data/raw.csv': 'x\n1\n', 'data/dir/a.txt': 'a', 'data/dir/b.txt': 'b' });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  mkdirSync(join(d, '.git'));
  const added = await add({ cwd: d, paths: ['data/raw.csv', 'data/dir'] });
  assert.deepEqual(
    added.map((a) => a.dvcFile),
    ['data/raw.csv.dvc', 'data/dir.dvc'],
  );
  assert.equal(
    readFileSync(join(d, 'data/raw.csv.dvc'), 'utf8'),
    `outs:\n- md5: ${md5('x\n1\n')}\n  size: 4\n  hash: md5\n  path: raw.csv\n`,
  );
  const manifest = `[{"md5": "${md5('a')}", "relpath": "a.txt"}, {"md5": "${md5('b')}", "relpath": "b.txt"}]`;
  assert.equal(
    readFileSync(join(d, 'data/dir.dvc'), 'utf8'),
    `outs:\n- md5: ${md5(manifest)}.dir\n  size: 2\n  nfiles: 2\n  hash: md5\n  path: dir\n`,
  );
  assert.equal(readFileSync(join(d, 'data/.gitignore'), 'utf8'), '/raw.csv\n/dir\n');
  assert.equal(formatStatus(await status({ cwd: d })), 'Data and pipelines are up to date.\n');
  writeFileSync(join(d, 'data/raw.csv'), 'x\n2\n');
  rmSync(join(d, 'data/dir/b.txt'));
  assert.equal(
    formatStatus(await status({ cwd: d })),
    'data/dir.dvc:\n\tchanged outs:\n\t\tmodified:           data/dir\ndata/raw.csv.dvc:\n\tchanged outs:\n\t\tmodified:           data/raw.csv\n',
  );
  const c = await checkout({ cwd: d, force: true });
  assert.deepEqual([c.modified.sort(), c.failed], [['data/dir/', 'data/raw.csv'], []]);
  assert.equal(readFileSync(join(d, 'data/dir/b.txt'), 'utf8'), 'b');
  assert.equal(readFileSync(join(d, 'data/raw.csv'), 'utf8'), 'x\n1\n');
});

test('missing dependency and missing param key fail before running with a clear message', async (t) => {
  const d = makeRepo({
    'dvc.yaml':
      'stages:\n  s:\n    cmd: echo > o\n    deps:\n    - nope.csv\n    outs:\n    - o\n  p:\n    cmd: echo > q\n    params:\n    - a.b\n    outs:\n    - q\n',
    'params.yaml': 'a: {c: 1}\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const err: string[] = [];
  await assert.rejects(reproduce({ cwd: d, stderr: { write: (s) => void err.push(s) } }), (e: unknown) =>
    isAppError(e, 'PIPELINE_STAGE_FAILED'),
  );
  assert.match(err.join(''), /dependency 'nope.csv' of stage 's' does not exist/);
  assert.match(err.join(''), /parameters 'a.b' are missing from 'params.yaml'/);
});

test('cmd lines run one by one in the stage wdir with DVC_STAGE/DVC_ROOT; a failing line stops the rest', async (t) => {
  const d = makeRepo({
    'sub/keep.txt': 'k',
    'dvc.yaml': `stages:
  env:
    wdir: sub
    cmd: |
      echo "$DVC_STAGE" > env.txt
      pwd >> env.txt
      echo "$DVC_ROOT" >> env.txt
    outs:
    - env.txt
  stop:
    cmd:
    - echo one > one.txt
    - exit 4
    - echo two > two.txt
    outs:
    - two.txt
`,
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await assert.rejects(
    reproduce({ cwd: d }),
    (e: unknown) => isAppError(e, 'PIPELINE_STAGE_FAILED') && /`exit 4` exited with code 4/.test(e.message),
  );
  const { realpathSync } = await import('node:fs');
  const real = realpathSync(d);
  assert.equal(readFileSync(join(d, 'sub/env.txt'), 'utf8'), `env\n${real}/sub\n${d}\n`);
  assert.ok(existsSync(join(d, 'one.txt')) && !existsSync(join(d, 'two.txt')));
  const lock = readFileSync(join(d, 'dvc.lock'), 'utf8');
  assert.ok(
    lock.includes(
      '  env:\n    cmd: "echo \\"$DVC_STAGE\\" > env.txt\\npwd >> env.txt\\necho \\"$DVC_ROOT\\" >> env.txt\\n"\n',
    ),
  );
  assert.ok(!lock.includes('  stop:'));
});
