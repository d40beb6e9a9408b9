/**
 * `carprice start --set KEY=VALUE` (issue 18.12): the override reaches the pipeline's
 * stages, which are separate processes reading params.yaml, because start writes it into
 * params.yaml (comments kept) before reproducing, as `dvc exp run --set-param` does; dvc.lock
 * records the new value. `--params` is refused, since the stages would never read that file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuiltCli } from '../helpers/built-cli.js';

// A one-stage pipeline whose stage reports the params it sees and writes the files start reads.
const STAGE = `
const fs = require('fs');
const alpha = /alpha: *([0-9.]+)/.exec(fs.readFileSync('params.yaml', 'utf8'))[1];
fs.writeFileSync('seen.txt', 'alpha=' + alpha + '\\n');
fs.mkdirSync('artifacts/model_evaluation', { recursive: true });
fs.mkdirSync('artifacts/register_model', { recursive: true });
fs.writeFileSync('artifacts/model_evaluation/metrics.json', JSON.stringify({ r2: 0.940912, rmse: 1, mae: 1, mape: 0.1, medape: 0.1, within10: 0.5 }));
fs.writeFileSync('artifacts/model_evaluation/evaluation_info.json', JSON.stringify({ model_name: 'M', model_version: '2' }));
fs.writeFileSync('artifacts/register_model/registration.json', JSON.stringify({ transitioned: false, stage: null, reason: 'not better than Production v1: R² 0.94091 < 0.94095' }));
`;

test('start --set reaches the stages through params.yaml, and --params is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-start-set-'));
  try {
    writeFileSync(join(dir, 'stage.cjs'), STAGE);
    writeFileSync(join(dir, 'raw.csv'), 'x\n');
    writeFileSync(
      join(dir, 'params.yaml'),
      '# project settings\ndata_source:\n  raw_data: raw.csv\nmodel_trainer:\n  params:\n    ridge: {alpha: 0.01} # tuned\n',
    );
    writeFileSync(
      join(dir, 'dvc.yaml'),
      'stages:\n  fit:\n    cmd: node stage.cjs\n    deps: [stage.cjs]\n    params: [model_trainer.params.ridge.alpha]\n    outs: [seen.txt, artifacts/model_evaluation, artifacts/register_model]\n',
    );
    mkdirSync(join(dir, '.dvc'));
    writeFileSync(join(dir, '.dvc', 'config'), '');

    const r = await runBuiltCli(['start', '--set', 'model_trainer.params.ridge.alpha=3'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /start: set model_trainer\.params\.ridge\.alpha in params\.yaml/);
    assert.equal(readFileSync(join(dir, 'seen.txt'), 'utf8'), 'alpha=3\n', 'the stage saw the override');
    const params = readFileSync(join(dir, 'params.yaml'), 'utf8');
    assert.match(params, /^# project settings\n/, 'comments kept');
    assert.match(params, /ridge: \{ alpha: 3 \} # tuned\n/);
    assert.match(
      readFileSync(join(dir, 'dvc.lock'), 'utf8'),
      /alpha: 3\n/,
      'dvc.lock records the value the stage ran with',
    );
    assert.match(r.stdout, /registry: v2 not promoted \(not better than Production v1: R² 0\.94091 < 0\.94095\)/);

    const refused = await runBuiltCli(['start', '--params', 'other.yaml'], dir);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--params: carprice start runs the stages of dvc\.yaml, which read params\.yaml/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
