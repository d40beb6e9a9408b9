/**
 * The pipeline CLI commands as real child processes (`node dist/src/cli/main.js ...`):
 * repro/status output and exit codes, `carprice` resolvable from a stage cmd, a failing
 * stage, the repo lock, dag --mermaid, remotes and pull without a remote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRepo } from '../helpers/pipeline-repo.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const main = join(root, 'dist/src/cli/main.js');

function cli(cwd: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const repo = (dvcYaml: string, files: Record<string, string> = {}): string =>
  makeRepo({ 'dvc.yaml': dvcYaml, ...files }, { prefix: 'cli' });

test('repro runs stages (a cmd can call `carprice`), status agrees, a second repro skips', (t) => {
  const d = repo(
    'stages:\n  version:\n    cmd: carprice --version > v.txt\n    deps:\n    - in.txt\n    outs:\n    - v.txt\n',
    { 'in.txt': 'x' },
  );
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const s0 = cli(d, 'status');
  assert.equal(s0.code, 0);
  assert.equal(
    s0.stdout,
    'version:\n\tchanged deps:\n\t\tmodified:           in.txt\n\tchanged outs:\n\t\tdeleted:            v.txt\n',
  );
  const r = cli(d, 'repro');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Running stage 'version'/);
  assert.match(r.stdout, /> carprice --version > v.txt/);
  assert.equal(
    readFileSync(join(d, 'v.txt'), 'utf8'),
    `carprice ${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version}\n`,
  );
  assert.equal(cli(d, 'status').stdout, 'Data and pipelines are up to date.\n');
  assert.equal(cli(d, 'status', '-q').code, 0);
  const r2 = cli(d, 'repro');
  assert.match(r2.stdout, /Stage 'version' didn't change, skipping/);
  assert.match(r2.stdout, /Data and pipelines are up to date\./);
  writeFileSync(join(d, 'in.txt'), 'y');
  assert.equal(cli(d, 'status', '-q').code, 1);
  assert.equal(cli(d, 'status', '--json').stdout, '{"version": [{"changed deps": {"in.txt": "modified"}}]}\n');
});

test('a failing stage exits with the pipeline code and names the command; dependents are skipped', (t) => {
  const d = repo(
    'stages:\n  bad:\n    cmd: exit 3\n    outs:\n    - b.txt\n  after:\n    cmd: cp b.txt c.txt\n    deps:\n    - b.txt\n    outs:\n    - c.txt\n',
  );
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const r = cli(d, 'repro');
  assert.equal(r.code, 7);
  assert.match(r.stderr, /command `exit 3` exited with code 3/);
  assert.match(r.stderr, /not run because of it: after/);
});

test('the repo lock stops a concurrent repro with the holder pid', async (t) => {
  const d = repo('stages:\n  s:\n    cmd: echo > o\n    outs:\n    - o\n');
  const holder = spawn('sleep', ['30']);
  t.after(() => {
    holder.kill();
    rmSync(d, { recursive: true, force: true });
  });
  mkdirSync(join(d, '.dvc/tmp'));
  writeFileSync(join(d, '.dvc/tmp/lock'), `${holder.pid}\n`);
  const r = cli(d, 'repro');
  assert.equal(r.code, 7);
  assert.match(r.stderr, new RegExp(`locked by another process \\(pid ${holder.pid}`));
});

test('dag --mermaid, remote add/list, and pull without a remote', (t) => {
  const d = repo(
    'stages:\n  a:\n    cmd: echo > a\n    outs:\n    - a\n  b:\n    cmd: cp a b\n    deps:\n    - a\n    outs:\n    - b\n',
  );
  t.after(() => rmSync(d, { recursive: true, force: true }));
  assert.equal(cli(d, 'dag', '--mermaid').stdout, 'flowchart TD\n\tnode1["a"]\n\tnode2["b"]\n\tnode1-->node2\n');
  const p = cli(d, 'pull');
  assert.equal(p.code, 6);
  assert.match(p.stderr, /no default remote set; add one with `carprice remote add -d NAME s3:\/\/BUCKET\/PREFIX`/);
  assert.equal(cli(d, 'remote', 'add', '-d', 'store', 's3://bucket/prefix').code, 0);
  assert.equal(cli(d, 'remote', 'list').stdout, 'store\ts3://bucket/prefix\t(default)\n');
  assert.equal(
    readFileSync(join(d, '.dvc/config'), 'utf8'),
    `[core]\n    remote = store\n['remote "store"']\n    url = s3://bucket/prefix\n`,
  );
});

test('SIGINT (Ctrl-C) stops repro: the stage command is killed, exit 130, lock released, nothing recorded', async (t) => {
  const d = repo('stages:\n  slow:\n    cmd: echo $$ > pid.txt; exec sleep 30\n    outs:\n    - o.txt\n');
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [main, 'repro'], { cwd: d, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const { existsSync } = await import('node:fs');
  const deadline = Date.now() + 30_000;
  while (!(existsSync(join(d, 'pid.txt')) && readFileSync(join(d, 'pid.txt'), 'utf8').trim()) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 25));
  const pid = Number(readFileSync(join(d, 'pid.txt'), 'utf8'));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupted/);
  assert.throws(() => process.kill(pid, 0));
  assert.ok(!existsSync(join(d, '.dvc/tmp/lock')));
  assert.ok(!existsSync(join(d, 'dvc.lock')));
});
