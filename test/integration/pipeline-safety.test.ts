/**
 * Safety of the pipeline (issue 9 items 3, 5, 13) on real temp repos with real processes:
 * corrupted cache objects are never restored (checkout --force, pull, repro) and never
 * end up in dvc.lock; the repo lock is atomic (a just-created lock is not stale; two real
 * `carprice repro` processes started together: one runs, the other fails clearly); a
 * SIGKILLed repro takes its stage process down with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reproduce } from '../../src/pipeline/reproduce.js';
import { acquireRepoLock } from '../../src/pipeline/repo-lock.js';
import { checkout, pull, push } from '../../src/pipeline/transfer.js';
import { remoteAdd } from '../../src/pipeline/remotes.js';
import { isAppError } from '../../src/core/errors.js';
import { BUILT_CLI, cleanEnv, runBuiltCli } from '../helpers/built-cli.js';
import { cacheObject, makeRepo, md5 } from '../helpers/pipeline-repo.js';

const obj = (d: string, h: string) => cacheObject(join(d, '.dvc/cache'), h);

/** Overwrite a (read-only) cache object with other bytes. */
function corrupt(path: string, bytes: string): void {
  chmodSync(path, 0o644);
  writeFileSync(path, bytes);
  chmodSync(path, 0o444);
}

const PIPE =
  'stages:\n  make:\n    cmd: cp data.csv out.csv && echo ran >> runs.log\n    deps:\n    - data.csv\n    outs:\n    - out.csv\n';

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('checkout --force refuses a corrupted cache object: nothing written, object removed, warning', async (t) => {
  const d = makeRepo({ 'dvc.yaml': PIPE, 'data.csv': 'a\n1\n' });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  const h = md5('a\n1\n');
  corrupt(obj(d, h), 'evil\n');
  writeFileSync(join(d, 'out.csv'), 'local edit\n');
  const r = await checkout({ cwd: d, force: true });
  assert.deepEqual(r.failed, ['out.csv']);
  assert.deepEqual(r.corrupted, [{ md5: h, path: 'out.csv' }]);
  assert.equal(readFileSync(join(d, 'out.csv'), 'utf8'), 'local edit\n', 'the bad bytes were not copied');
  assert.ok(!existsSync(obj(d, h)), 'the corrupted object left the cache');
  // Through the CLI: exit 7 (pipeline), a warning naming the object.
  writeFileSync(join(d, 'out.csv'), 'x\n');
  await reproduce({ cwd: d, force: true });
  corrupt(obj(d, h), 'evil\n');
  rmSync(join(d, 'out.csv'));
  const cli = await runBuiltCli(['checkout', '--force'], d);
  assert.equal(cli.code, 7, cli.stderr);
  assert.match(cli.stderr, new RegExp(`WARNING: corrupted cache object md5: ${h}`));
  assert.match(cli.stderr, /Checkout failed for following targets:\nout\.csv/);
  assert.ok(!existsSync(join(d, 'out.csv')));
});

test('pull re-fetches an object that is corrupted in the local cache', async (t) => {
  const d = makeRepo({ 'dvc.yaml': PIPE, 'data.csv': 'b\n2\n' });
  const store = mkdtempSync(join(tmpdir(), 'carprice-safety-store-'));
  t.after(() => {
    rmSync(d, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  });
  await reproduce({ cwd: d });
  remoteAdd({ cwd: d, name: 'store', url: store, default: true });
  await push({ cwd: d });
  const h = md5('b\n2\n');
  corrupt(obj(d, h), 'rotten\n');
  rmSync(join(d, 'out.csv'));
  const r = await pull({ cwd: d, force: true });
  assert.deepEqual(r.checkout.failed, []);
  assert.deepEqual(r.checkout.added, ['out.csv']);
  assert.equal(r.checkout.corrupted.length, 1);
  assert.equal(readFileSync(join(d, 'out.csv'), 'utf8'), 'b\n2\n');
  assert.equal(readFileSync(obj(d, h), 'utf8'), 'b\n2\n', 'the cache holds the good bytes again');
});

test('repro does not restore a corrupted output: it runs the stage and records the bytes it made', async (t) => {
  const d = makeRepo({ 'dvc.yaml': PIPE, 'data.csv': 'c\n3\n' });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  const h = md5('c\n3\n');
  corrupt(obj(d, h), 'c\n4\n');
  rmSync(join(d, 'out.csv'));
  const err: string[] = [];
  const r = await reproduce({ cwd: d, stderr: { write: (s) => void err.push(s) } });
  assert.equal(r.stages[0].outcome, 'ran');
  assert.equal(readFileSync(join(d, 'runs.log'), 'utf8'), 'ran\nran\n');
  assert.equal(readFileSync(join(d, 'out.csv'), 'utf8'), 'c\n3\n');
  assert.match(readFileSync(join(d, 'dvc.lock'), 'utf8'), new RegExp(`md5: ${h}`));
  assert.equal(readFileSync(obj(d, h), 'utf8'), 'c\n3\n', 'the cache was repaired by the run');
  assert.match(err.join(''), /corrupted cache object/);
});

test('an object corrupted in place with the same size is not trusted as already stored', async (t) => {
  const d = makeRepo({ 'dvc.yaml': PIPE, 'data.csv': 'd\n5\n' });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await reproduce({ cwd: d });
  const h = md5('d\n5\n');
  corrupt(obj(d, h), 'd\n6\n');
  await reproduce({ cwd: d, force: true });
  assert.equal(readFileSync(obj(d, h), 'utf8'), 'd\n5\n');
});

test('repo lock: a lock file just created (still empty) is never taken for stale; an old empty one is', (t) => {
  const d = makeRepo({});
  t.after(() => rmSync(d, { recursive: true, force: true }));
  mkdirSync(join(d, '.dvc/tmp'));
  const lock = join(d, '.dvc/tmp/lock');
  writeFileSync(lock, '');
  assert.throws(
    () => acquireRepoLock(join(d, '.dvc')),
    (e: unknown) => isAppError(e, 'PIPELINE_LOCKED'),
  );
  assert.ok(existsSync(lock));
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  const h = acquireRepoLock(join(d, '.dvc'));
  assert.equal(readFileSync(lock, 'utf8'), ` ${process.pid}\n`);
  // Held by this process: a second take in the same process is refused too.
  assert.throws(
    () => acquireRepoLock(join(d, '.dvc')),
    (e: unknown) => isAppError(e, 'PIPELINE_LOCKED'),
  );
  h.release();
  assert.ok(!existsSync(lock));
});

test('two real `carprice repro` processes started together: one runs the stage, the other fails clearly', async (t) => {
  const d = makeRepo({
    'dvc.yaml':
      'stages:\n  s:\n    cmd: echo start >> runs.log; while [ ! -f release ]; do sleep 0.05; done; echo done > o.txt\n    outs:\n    - o.txt\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const procs = [0, 1, 2].map(() => {
    const child = spawn(process.execPath, [BUILT_CLI, 'repro'], { cwd: d, env: cleanEnv() });
    const res = { code: null as number | null, stderr: '' };
    child.stderr.on('data', (c) => (res.stderr += c));
    const done = new Promise<void>((r) => child.on('close', (code) => ((res.code = code), r())));
    return { child, res, done };
  });
  t.after(() => procs.forEach((p) => p.child.kill('SIGKILL')));
  const runs = () =>
    existsSync(join(d, 'runs.log')) ? readFileSync(join(d, 'runs.log'), 'utf8').split('\n').filter(Boolean).length : 0;
  // Wait until the losers have given up (or, on a broken lock, a second one started).
  await until(() => procs.filter((p) => p.res.code !== null).length === 2 || runs() > 1, 'the losing repros');
  writeFileSync(join(d, 'release'), '');
  await Promise.all(procs.map((p) => p.done));
  assert.equal(runs(), 1, 'exactly one repro ran the stage');
  const codes = procs.map((p) => p.res.code).sort();
  assert.deepEqual(codes, [0, 7, 7]);
  for (const p of procs.filter((x) => x.res.code === 7))
    assert.match(p.res.stderr, /the repository is locked by another process/);
});

test('SIGKILL of repro: the stage process dies with it (no detached writer left behind)', async (t) => {
  const d = makeRepo({
    'dvc.yaml': 'stages:\n  s:\n    cmd: echo $$ > pid.txt; while true; do sleep 0.05; done\n    outs:\n    - o.txt\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const child = spawn(process.execPath, [BUILT_CLI, 'repro'], { cwd: d, env: cleanEnv(), stdio: 'ignore' });
  await until(
    () => existsSync(join(d, 'pid.txt')) && readFileSync(join(d, 'pid.txt'), 'utf8').trim() !== '',
    'the stage to start',
  );
  const stagePid = Number(readFileSync(join(d, 'pid.txt'), 'utf8'));
  process.kill(stagePid, 0); // running
  child.kill('SIGKILL');
  await until(() => {
    try {
      process.kill(stagePid, 0);
      return false;
    } catch {
      return true;
    }
  }, 'the stage process to die');
  assert.ok(!existsSync(join(d, 'dvc.lock')));
  // Until this process reaps the killed repro, its pid is a zombie that still answers
  // kill(pid, 0): wait for the exit event, as a shell would, before taking the lock.
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  // The next repro is not blocked by the dead holder's lock.
  acquireRepoLock(join(d, '.dvc')).release();
});
