/** dvc.yaml resolution: vars, ${} interpolation, foreach/matrix names, params forms, schema errors with lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePipeline } from './dvc-yaml.js';
import { isAppError } from '../core/errors.js';

function repo(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'carprice-dvcyaml-'));
  for (const [k, v] of Object.entries(files)) writeFileSync(join(d, k), v);
  return d;
}

test('params.yaml and vars feed ${}; whole-string gives native values; dict in cmd becomes flags', (t) => {
  const d = repo({
    'params.yaml': 'train:\n  lr: 0.10\n  v: true\n  flags: {name: a b, v: true, off: false, l: [1, 2]}\n',
    'extra.yaml': 'out_dir: build\nother: 1\n',
  });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const p = parsePipeline(
    `vars:
- extra.yaml:out_dir
- model: m.pkl
stages:
  train:
    cmd: python train.py --lr \${train.lr} \${train.flags} \\\${literal}
    deps:
    - \${out_dir}/features
    params: [train.lr, {extra.yaml: [other]}, {whole.yaml: }]
    outs:
    - \${out_dir}/\${model}
    - cache_dir: {persist: true, cache: false}
    metrics: [{scores.json: {cache: false}}]
    always_changed: \${train.v}
`,
    d,
    'dvc.yaml',
  );
  const s = p.stages[0];
  assert.equal(s.cmd, "python train.py --lr 0.1 --name 'a b' --v --l 1 2 ${literal}");
  assert.deepEqual(s.deps, ['build/features']);
  assert.deepEqual(s.params, [
    { file: 'params.yaml', keys: ['train.lr'] },
    { file: 'extra.yaml', keys: ['other'] },
    { file: 'whole.yaml', keys: null },
  ]);
  assert.deepEqual(
    s.outs.map((o) => [o.path, o.cache, o.persist, o.kind]),
    [
      ['build/m.pkl', true, false, 'outs'],
      ['cache_dir', false, true, 'outs'],
      ['scores.json', false, false, 'metrics'],
    ],
  );
  assert.equal(s.alwaysChanged, true);
});

test('foreach over list, dict and list of dicts; matrix names', (t) => {
  const d = repo({ 'params.yaml': 'regions: [us, eu]\n' });
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const p = parsePipeline(
    `stages:
  build:
    foreach: \${regions}
    do:
      cmd: make \${item}
  cfg:
    foreach:
      us: {n: 1}
      eu: {n: 2}
    do:
      cmd: run \${key} \${item.n}
  objs:
    foreach: [{a: 1}, {a: 2}]
    do:
      cmd: echo \${item.a}
  flt:
    foreach: [0.1, true, 1e-5]
    do:
      cmd: echo \${item}
  train:
    matrix:
      lr: [0.1, 0.01]
      bs: [32, {big: 64}]
    cmd: train --lr \${item.lr} --name \${key}
`,
    d,
    'dvc.yaml',
  );
  assert.deepEqual(
    p.stages.map((s) => [s.name, s.cmd, s.group]),
    [
      ['build@us', 'make us', 'build'],
      ['build@eu', 'make eu', 'build'],
      ['cfg@us', 'run us 1', 'cfg'],
      ['cfg@eu', 'run eu 2', 'cfg'],
      ['objs@0', 'echo 1', 'objs'],
      ['objs@1', 'echo 2', 'objs'],
      ['flt@0.1', 'echo 0.1', 'flt'],
      ['flt@true', 'echo true', 'flt'],
      ['flt@1e-05', 'echo 1e-05', 'flt'],
      ['train@0.1-32', 'train --lr 0.1 --name 0.1-32', 'train'],
      ['train@0.1-bs1', 'train --lr 0.1 --name 0.1-bs1', 'train'],
      ['train@0.01-32', 'train --lr 0.01 --name 0.01-32', 'train'],
      ['train@0.01-bs1', 'train --lr 0.01 --name 0.01-bs1', 'train'],
    ],
  );
});

test('schema errors list every problem with file, line and key', (t) => {
  const d = repo({});
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const text = `stages:
  a:
    cmd: echo
    outs: model.pkl
    frozen: 3
  b:
    deps: [x]
  c:
    cmd: echo
    outz: [y]
`;
  assert.throws(
    () => parsePipeline(text, d, 'dvc.yaml'),
    (e: unknown) =>
      isAppError(e, 'PIPELINE_INVALID') &&
      e.message.includes('dvc.yaml:4: stages.a.outs: expected a list of paths') &&
      e.message.includes('dvc.yaml:5: stages.a.frozen: expected true or false') &&
      e.message.includes("dvc.yaml:6: stages.b: stage 'b' needs a 'cmd'") &&
      e.message.includes("dvc.yaml:10: stages.c.outz: unknown key 'outz'") &&
      e.message.includes('(4 problems)'),
  );
  assert.throws(
    () => parsePipeline('stages:\n  a:\n    cmd: echo ${nope.x}\n', d, 'dvc.yaml'),
    (e: unknown) => isAppError(e) && /dvc\.yaml:3: stages\.a\.cmd: could not find 'nope\.x'/.test(e.message),
  );
  assert.throws(
    () => parsePipeline('vars: [{a: 1}, {a: 2}]\nstages: {}\n', d, 'dvc.yaml'),
    (e: unknown) => isAppError(e) && /cannot redefine 'a'/.test(e.message),
  );
});
