/**
 * `dag` as DVC draws it (ASCII boxes, --dot, --outs) and `status -c` (the local cache
 * against the remote: new / deleted / missing, "Cache and remote 'x' are in sync."), run
 * through the built CLI on temp repos; `add`'s .gitignore handling and git add hint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuiltCli } from '../helpers/built-cli.js';
import { makeRepo, md5 } from '../helpers/pipeline-repo.js';

const PIPE =
  'stages:\n  prepare:\n    cmd: mkdir -p out && cp data.csv out/a.csv\n    deps:\n    - data.csv\n    outs:\n    - out\n  train:\n    cmd: cp out/a.csv model.bin\n    deps:\n    - out\n    outs:\n    - model.bin\n';

test('dag: ASCII boxes like dvc dag, --dot as pydot writes it, --outs the graph of outputs', async (t) => {
  const d = makeRepo({ 'dvc.yaml': PIPE, 'data.csv': 'x\n' });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const ascii = await runBuiltCli(['dag'], d);
  assert.equal(ascii.code, 0, ascii.stderr);
  assert.equal(
    ascii.stdout,
    // Real DVC 3.64's bytes for this graph: every line padded to the canvas width (one
    // column past the widest box), the edge at the rounded centre (5.5 -> 6, half to even).
    '+---------+  \n| prepare |  \n+---------+  \n      *      \n      *      \n      *      \n +-------+   \n | train |   \n +-------+   \n',
  );
  assert.equal(
    (await runBuiltCli(['dag', '--dot'], d)).stdout,
    'strict digraph  {\n"prepare";\n"train";\n"prepare" -> "train";\n}\n\n',
  );
  assert.equal(
    (await runBuiltCli(['dag', '--outs', '--dot'], d)).stdout,
    'strict digraph  {\n"out";\n"model.bin";\n"out" -> "model.bin";\n}\n\n',
  );
  assert.equal(
    (await runBuiltCli(['dag', '--outs', '--mermaid'], d)).stdout,
    'flowchart TD\n\tnode1["model.bin"]\n\tnode2["out"]\n\tnode2-->node1\n',
  );
  assert.equal((await runBuiltCli(['dag', '--dot', '--text'], d)).code, 2);
});

test('status -c compares the cache with the remote like dvc status -c', async (t) => {
  const d = makeRepo({ 'dvc.yaml': PIPE, 'data.csv': 'x\n' });
  const store = mkdtempSync(join(tmpdir(), 'carprice-dag-store-'));
  t.after(() => [d, store].forEach((p) => rmSync(p, { recursive: true, force: true })));
  writeFileSync(join(d, '.dvc/config'), `[core]\n    remote = s\n['remote "s"']\n    url = ${store}\n`);
  assert.equal((await runBuiltCli(['repro'], d)).code, 0);
  // model.bin is a copy of out/a.csv: one object, named (as by real DVC 3.64) after the
  // first output that holds it.
  const before = await runBuiltCli(['status', '-c'], d);
  assert.equal(before.stdout, '\tnew:                out\n\tnew:                out/a.csv\n');
  assert.equal((await runBuiltCli(['status', '-c', '--json'], d)).stdout, '{"out": "new", "out/a.csv": "new"}\n');
  assert.equal((await runBuiltCli(['push'], d)).code, 0);
  assert.equal((await runBuiltCli(['status', '-c'], d)).stdout, "Cache and remote 's' are in sync.\n");
  // Gone from the local cache but on the remote: deleted.
  const obj = join(d, '.dvc/cache/files/md5', md5('x\n').slice(0, 2), md5('x\n').slice(2));
  chmodSync(obj, 0o644);
  rmSync(obj);
  assert.equal((await runBuiltCli(['status', '-c'], d)).stdout, '\tdeleted:            out/a.csv\n');
  assert.equal((await runBuiltCli(['status', '-c', '-q'], d)).code, 1);
  // pull: A/M lines, then DVC's summary counting files (a directory's files one by one).
  rmSync(join(d, 'out'), { recursive: true });
  rmSync(join(d, 'model.bin'));
  const p = await runBuiltCli(['pull'], d);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stdout, 'A       out/\nA       model.bin\n1 file fetched and 2 files added\n');
});

test(
  'add: no .gitignore entry for a path git already ignores; the git add hint names the .gitignore it wrote',
  { skip: spawnSync('git', ['--version']).status !== 0 ? 'needs git' : false },
  async (t) => {
    const d = makeRepo({ 'data/raw.csv': 'a\n', 'data/new.csv': 'b\n', '.gitignore': '/data/raw.csv\n' });
    t.after(() => rmSync(d, { recursive: true, force: true }));
    spawnSync('git', ['init', '-q'], { cwd: d });
    const r1 = await runBuiltCli(['add', 'data/raw.csv'], d);
    assert.equal(r1.code, 0, r1.stderr);
    assert.ok(!existsSync(join(d, 'data/.gitignore')), 'git ignores it already: nothing redundant written');
    assert.match(r1.stdout, /\n\tgit add data\/raw\.csv\.dvc\n$/);
    const r2 = await runBuiltCli(['add', 'data/new.csv'], d);
    assert.equal(readFileSync(join(d, 'data/.gitignore'), 'utf8'), '/new.csv\n');
    assert.match(r2.stdout, /\n\tgit add data\/new\.csv\.dvc data\/\.gitignore\n$/);
  },
);
