/**
 * `params diff`, `metrics show`, `metrics diff` against a real temp git repo (HEAD vs
 * workspace), with the exact tables of ../shared/reference/dvc-formats.md §5.4 (which
 * equal DVC's own test expectations).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricChange, metricsDiff, metricsShow, metricStr, paramsDiff } from '../../src/pipeline/compare.js';
import { markdownTable, plainTable } from '../../src/pipeline/table.js';
import { pyStr } from '../../src/pipeline/py-value.js';
import { runBuiltCli } from '../helpers/built-cli.js';
import { git, hasGit, makeRepo } from '../helpers/pipeline-repo.js';

test(
  'params diff and metrics show/diff print DVC tables',
  { skip: hasGit ? false : 'git is not installed' },
  async (t) => {
    const d = makeRepo({}, { prefix: 'compare', t });
    writeFileSync(join(d, 'params.yaml'), 'prepare:\n  split: 0.20\n  seed: 20170428\n');
    writeFileSync(
      join(d, 'dvc.yaml'),
      'stages:\n  prepare:\n    cmd: echo\n    params:\n    - prepare.split\n    metrics:\n    - metrics.yaml:\n        cache: false\nmetrics:\n- scores.json\n',
    );
    writeFileSync(join(d, 'metrics.yaml'), 'a:\n  b:\n    c: 1\n  d:\n    e: 3\nx:\n  b: 5\n');
    writeFileSync(join(d, 'scores.json'), '{"acc": 0.9, "loss": 0.123456789}');
    git(d, 'init', '-q');
    git(d, 'add', '-A');
    git(d, 'commit', '-qm', 'init');
    writeFileSync(join(d, 'params.yaml'), 'prepare:\n  split: 0.25\n  seed: 20170428\n');
    writeFileSync(join(d, 'metrics.yaml'), 'a:\n  b:\n    c: 2\n  d:\n    e: 4\nx:\n  b: "6"\n');

    const rows = paramsDiff({ cwd: d });
    const cell = (v: unknown) => (v === undefined ? '-' : pyStr(v as never));
    assert.equal(
      plainTable(
        ['Path', 'Param', 'HEAD', 'workspace'],
        rows.map((r) => [r.path, r.key, cell(r.old), cell(r.new)]),
      ),
      'Path         Param          HEAD    workspace\nparams.yaml  prepare.split  0.2     0.25\n',
    );
    assert.equal(paramsDiff({ cwd: d, all: true }).length, 2);

    const md = metricsDiff({ cwd: d });
    assert.equal(
      plainTable(
        ['Path', 'Metric', 'HEAD', 'workspace', 'Change'],
        md.map((r) => [r.path, r.key, metricStr(r.old), metricStr(r.new), metricChange(r)]),
      ),
      'Path          Metric    HEAD    workspace    Change\nmetrics.yaml  a.b.c     1       2            1\nmetrics.yaml  a.d.e     3       4            1\nmetrics.yaml  x.b       5       6            -\n',
    );

    const shown = metricsShow({ cwd: d }).filter((f) => f.path === 'scores.json');
    const keys = [...shown[0].values.keys()].sort();
    assert.equal(
      plainTable(['Path', ...keys], [[shown[0].path, ...keys.map((k) => metricStr(shown[0].values.get(k)))]]),
      'Path         acc    loss\nscores.json  0.9    0.12346\n',
    );
    assert.equal(
      markdownTable(['Path', 'acc'], [['scores.json', '0.9']]),
      '| Path        | acc   |\n|-------------|-------|\n| scores.json | 0.9   |\n\n',
    );

    // --json: DVC 3.64's shapes and types (dvc/utils/diff.py, metrics show's Result dict), as CI scripts parse them.
    const pj = await runBuiltCli(['params', 'diff', '--json'], d);
    assert.equal(pj.code, 0, pj.stderr);
    assert.equal(
      pj.stdout,
      '{"params.yaml": {"prepare.split": {"old": 0.2, "new": 0.25, "diff": 0.04999999999999999}}}\n',
    );
    const mj = await runBuiltCli(['metrics', 'diff', '--json'], d);
    assert.equal(
      mj.stdout,
      '{"metrics.yaml": {"a.b.c": {"old": 1, "new": 2, "diff": 1}, "a.d.e": {"old": 3, "new": 4, "diff": 1}, "x.b": {"old": 5, "new": "6"}}}\n',
    );
    const sj = await runBuiltCli(['metrics', 'show', '--json'], d);
    assert.equal(
      sj.stdout,
      '{"": {"data": {"metrics.yaml": {"data": {"a": {"b": {"c": 2}, "d": {"e": 4}}, "x": {"b": "6"}}}, "scores.json": {"data": {"acc": 0.9, "loss": 0.123456789}}}}}\n',
    );
    // --no-path drops the Path column.
    assert.equal(
      (await runBuiltCli(['params', 'diff', '--no-path'], d)).stdout,
      'Param          HEAD    workspace\nprepare.split  0.2     0.25\n',
    );
    assert.equal(
      (await runBuiltCli(['metrics', 'diff', '--no-path'], d)).stdout.split('\n')[0],
      'Metric    HEAD    workspace    Change',
    );
  },
);
