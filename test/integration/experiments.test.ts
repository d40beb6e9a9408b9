/**
 * `carprice exp` on generated listings with a real SQLite tracking store: compare logs one
 * nested run per combination under a parent holding the winner and the comparison table;
 * tune runs the grid and a successive-halving search as nested runs with the best params
 * on the parent; an interruption ends the parent KILLED and keeps the finished children;
 * --apply edits params.yaml keeping its comments and names the stages that rerun, and keeps
 * params.yaml as it is when its settings are at least as good as every candidate; exp show
 * lists it all.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBuiltCli } from '../helpers/built-cli.js';
import { writeFixtureCsv } from '../fixtures/listings.js';
import { loadParams, type Params } from '../../src/config/params.js';
import { TrackingClient } from '../../src/tracking/client.js';
import { isAppError } from '../../src/core/errors.js';
import type { Run } from '../../src/tracking/entities.js';
import { compare, compareCombinations, VARIANTS } from '../../src/jobs/experiments/compare.js';
import { trainingSplit, withOverrides } from '../../src/jobs/experiments/experiment-runs.js';
import { crossValidate } from '../../src/jobs/cross-validate.js';
import { gridPoints, SPACES, tune } from '../../src/jobs/experiments/tune.js';
import { applyParams, applyTuned } from '../../src/jobs/experiments/apply-params.js';
import { baseline } from '../../src/jobs/experiments/baseline.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

async function runsOf(client: TrackingClient, experiment: string): Promise<Run[]> {
  const id = (await client.store.getExperimentByName(experiment)).experimentId;
  return (await client.store.searchRuns({ experimentIds: [id], maxResults: 1000 })).items;
}
const parentOf = (r: Run) => r.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value;

describe('carprice exp', () => {
  let dir: string;
  let params: Params;
  let client: TrackingClient;
  const env = { CARPRICE_THREADS: '2' };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'carprice-exp-'));
    mkdirSync(join(dir, 'data'));
    writeFixtureCsv(join(dir, 'data', 'listings.csv'), { n: 400, seed: 21 });
    writeFileSync(
      join(dir, 'params.yaml'),
      [
        'data_source:',
        '  raw_data: data/listings.csv',
        'data_ingestion:',
        '  optional_cols: [AlloyWheels, Bluetooth, Sunroof/Moonroof]',
        '',
      ].join('\n'),
    );
    params = loadParams({ path: join(dir, 'params.yaml') });
    client = TrackingClient.open({ env: {}, cwd: dir });
  });

  after(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('baseline: the mean predictor (its RMSE computed by hand) and plain OLS on the test split, one nested run each', async () => {
    const r = await baseline({ params, cwd: dir, env, client });
    assert.deepEqual(
      r.models.map((m) => m.name),
      ['mean-predictor', 'plain-ols'],
    );
    const { train, test } = await trainingSplit({ params, cwd: dir, env });
    const mean = train.y!.reduce((a, b) => a + b, 0) / train.y!.length;
    const rmse = Math.sqrt(test.y!.reduce((a, b) => a + (b - mean) ** 2, 0) / test.y!.length);
    const [m, ols] = r.models.map((x) => x.metrics);
    assert.ok(Math.abs(m.test_rmse - rmse) < 1e-6 * rmse, `${m.test_rmse} vs ${rmse}`);
    assert.ok(m.test_r2 <= 0.01 && ols.test_r2 > 0.5 && ols.test_rmse < m.test_rmse, JSON.stringify(r.models));
    const runs = await runsOf(client, 'baseline');
    const parent = runs.find((x) => x.info.runId === r.parentRunId)!;
    assert.equal(parent.info.status, 'FINISHED');
    const kids = runs.filter((x) => parentOf(x) === r.parentRunId);
    assert.deepEqual(kids.map((k) => `${k.info.runName}:${k.info.status}`).sort(), [
      'mean-predictor:FINISHED',
      'plain-ols:FINISHED',
    ]);
  });

  it('the combinations: every algorithm with every variant but OLS without scaling (invariant)', () => {
    const c = compareCombinations(
      ['linear', 'ridge', 'gbdt'],
      ['default', 'mean-imputer', 'target-encoding', 'no-scaling', 'raw-target'],
    );
    assert.deepEqual(
      c.map((x) => `${x.algo}/${x.variant}`),
      [
        'linear/default',
        'linear/mean-imputer',
        'linear/target-encoding',
        'linear/raw-target',
        'ridge/default',
        'ridge/mean-imputer',
        'ridge/target-encoding',
        'ridge/no-scaling',
        'ridge/raw-target',
        'gbdt/default',
        'gbdt/mean-imputer',
        'gbdt/target-encoding',
        'gbdt/no-scaling',
        'gbdt/raw-target',
      ],
    );
    // the seed's 27-point XGBoost grid
    const g = gridPoints(SPACES.gbdt.grid);
    assert.equal(g.length, 27);
    assert.deepEqual(g[0], { n_estimators: 100, max_depth: 3, learning_rate: 0.01 });
    assert.deepEqual(g[26], { n_estimators: 300, max_depth: 10, learning_rate: 0.2 });
  });

  it('compare: a nested run per combination, the winner and the comparison table on the parent', async () => {
    const r = await compare({
      params,
      cwd: dir,
      env,
      client,
      algos: ['mean', 'ridge'],
      variants: ['default', 'raw-target'],
      folds: 3,
    });
    assert.equal(r.rows.length, 4);
    // the fixture's price is log-linear in the features: ridge on log price wins, the mean predictor is last
    assert.deepEqual([r.winner.algo, r.winner.variant], ['ridge', 'default']);
    const runs = await runsOf(client, 'model-comparison');
    const parent = runs.find((x) => x.info.runId === r.parentRunId)!;
    assert.equal(parent.info.status, 'FINISHED');
    assert.equal(parent.data.params.find((p) => p.key === 'winner_algo')?.value, 'ridge');
    const kids = runs.filter((x) => parentOf(x) === r.parentRunId);
    assert.deepEqual(kids.map((k) => k.info.runName).sort(), [
      'mean-default',
      'mean-raw-target',
      'ridge-default',
      'ridge-raw-target',
    ]);
    assert.ok(kids.every((k) => k.info.status === 'FINISHED' && k.data.metrics.some((m) => m.key === 'cv_mape')));
    const files = (await client.listArtifacts(r.parentRunId)).map((f) => f.path).sort();
    assert.deepEqual(files, ['comparison.csv', 'comparison.md']);
  });

  it('compare shares work without changing a number: each row equals its own cross-validation; identical combinations are named, not run', async () => {
    const r = await compare({
      params,
      cwd: dir,
      env,
      client,
      algos: ['ridge', 'gbdt', 'blend'],
      variants: ['default', 'no-scaling'],
      folds: 3,
      experimentName: 'shared',
    });
    // trees ignore scaling: gbdt no-scaling has the same matrices on every fold
    assert.deepEqual(
      r.skipped.map((x) => `${x.algo}/${x.variant}`),
      ['gbdt/no-scaling'],
    );
    assert.match(r.skipped[0].reason, /identical in effect to gbdt default/);
    assert.match(r.table, /not run: gbdt no-scaling: identical in effect/);
    assert.equal(r.rows.length, 5);
    // the oracle: plain fold-by-fold cross-validation of each combination on its own
    const { train, source } = await trainingSplit({ params, cwd: dir, env });
    for (const row of r.rows) {
      const alone = await crossValidate({
        params: withOverrides(params, VARIANTS[row.variant]),
        data: source,
        algo: row.algo,
        folds: 3,
        listings: train,
        env,
      });
      assert.deepEqual(row.mean, alone.mean, `${row.algo} ${row.variant}`);
    }
  });

  it('an interruption ends the parent KILLED and keeps the finished children', async () => {
    const ac = new AbortController();
    await assert.rejects(
      compare({
        params,
        cwd: dir,
        env,
        client,
        algos: ['mean', 'ridge'],
        variants: ['default', 'raw-target'],
        folds: 2,
        experimentName: 'interrupted',
        signal: ac.signal,
        // the default variant's batch has finished when the raw-target batch starts
        onProgress: (p) => (p.label.startsWith('raw-target:') ? ac.abort() : undefined),
      }),
      (e) => isAppError(e, 'INTERRUPTED'),
    );
    const runs = await runsOf(client, 'interrupted');
    const parent = runs.find((x) => !parentOf(x))!;
    assert.equal(parent.info.status, 'KILLED');
    const kids = runs.filter((x) => parentOf(x) === parent.info.runId);
    assert.deepEqual(kids.map((k) => `${k.info.runName}:${k.info.status}`).sort(), [
      'mean-default:FINISHED',
      'mean-raw-target:KILLED',
      'ridge-default:FINISHED',
      'ridge-raw-target:KILLED',
    ]);
  });

  it("tune scores params.yaml's settings with all their rounds (the same as the equal grid point)", async () => {
    // params.yaml's gbdt equals the grid point 300 / 3 / 0.1: the two must score the same
    const p = withOverrides(params, [
      'model_trainer.params.gbdt.n_estimators=300',
      'model_trainer.params.gbdt.max_depth=3',
      'model_trainer.params.gbdt.learning_rate=0.1',
    ]);
    const r = await tune({
      params: p,
      cwd: dir,
      env,
      client,
      algo: 'gbdt',
      search: 'none',
      experimentName: 'tune-current',
    });
    const twin = r.candidates.find(
      (c) => c.params.n_estimators === 300 && c.params.max_depth === 3 && c.params.learning_rate === 0.1,
    )!;
    assert.equal(r.current.metrics.mape, twin.metrics.mape);
    assert.equal(r.current.metrics.r2, twin.metrics.r2);
  });

  it('tune: the grid and a successive-halving search as nested runs, best params on the parent', async () => {
    const r = await tune({ params, cwd: dir, env, client, algo: 'ridge', search: 'halving', budget: 3 });
    // params.yaml's setting, 27 grid points, then 9 + 3 + 1 halving candidates
    assert.equal(r.candidates.length, 27 + 9 + 3 + 1);
    assert.deepEqual(
      r.candidates.filter((c) => c.source === 'halving').map((c) => c.rung),
      [...Array(9).fill(1), 2, 2, 2, 3],
    );
    const rows = r.candidates.filter((c) => c.source === 'halving').map((c) => c.rows);
    assert.ok(rows[0] < rows[9] && rows[9] < rows[12], rows.join(','));
    const full = r.candidates.filter((c) => c.rows === rows[12]);
    assert.equal(r.best.metrics.mape, Math.min(...full.map((c) => c.metrics.mape)));
    const runs = await runsOf(client, 'hyperparameter-tuning');
    const parent = runs.find((x) => x.info.runId === r.parentRunId)!;
    assert.equal(parent.info.status, 'FINISHED');
    assert.equal(parent.data.params.find((p) => p.key === 'best_alpha')?.value, String(r.best.params.alpha));
    assert.equal(runs.filter((x) => parentOf(x) === r.parentRunId).length, 1 + 27 + 13);
  });

  it('--apply writes params.yaml keeping its comments; the CLI names the stages that rerun', async () => {
    const p = join(dir, 'copy-params.yaml');
    copyFileSync(join(root, 'params.yaml'), p);
    const before = readFileSync(p, 'utf8');
    const changes = applyParams(p, 'gbdt', { n_estimators: 300, max_depth: 6, learning_rate: 0.2 });
    assert.deepEqual(
      changes.map((c) => c.key),
      [
        'model_trainer.params.gbdt.n_estimators',
        'model_trainer.params.gbdt.max_depth',
        'model_trainer.params.gbdt.learning_rate',
      ],
    );
    const after = readFileSync(p, 'utf8');
    const comments = (t: string) => t.split('\n').filter((l) => l.trim().startsWith('#'));
    assert.deepEqual(comments(after), comments(before));
    assert.equal(after.split('\n').length, before.split('\n').length);
    const q = loadParams({ path: p });
    assert.deepEqual(
      [
        q.model_trainer.params.gbdt.n_estimators,
        q.model_trainer.params.gbdt.max_depth,
        q.model_trainer.params.gbdt.learning_rate,
      ],
      [300, 6, 0.2],
    );
    assert.equal(q.model_trainer.params.gbdt.colsample_bytree, 0.7);

    // the CLI in a project whose pipeline ran: only the stages downstream of model_trainer's params rerun
    const proj = join(dir, 'proj');
    mkdirSync(join(proj, 'data'), { recursive: true });
    mkdirSync(join(proj, '.dvc'));
    writeFileSync(join(proj, '.dvc', 'config'), '');
    writeFixtureCsv(join(proj, 'data', 'cars24_v3.xlsx.csv'), { n: 300, seed: 4 });
    writeFileSync(
      join(proj, 'dvc.yaml'),
      readFileSync(join(root, 'dvc.yaml'), 'utf8').replace('data/cars24_v3.xlsx', 'data/cars24_v3.xlsx.csv'),
    );
    writeFileSync(
      join(proj, 'params.yaml'),
      readFileSync(join(root, 'params.yaml'), 'utf8')
        .replace('raw_data: data/cars24_v3.xlsx', 'raw_data: data/cars24_v3.xlsx.csv')
        .replace(/^ {2}algo: \w+$/m, '  algo: ridge')
        // a far too strong penalty, so the search surely finds a better alpha
        .replace(/ridge: \{alpha: [0-9.e-]+\}/, 'ridge: {alpha: 3000}')
        .replace(/optional_cols: \[[^\]]*\]/s, 'optional_cols: [AlloyWheels, Bluetooth, Sunroof/Moonroof]'),
    );
    const repro = await runBuiltCli(['repro'], proj, env);
    assert.equal(repro.code, 0, repro.stderr);
    const t = await runBuiltCli(['exp', 'tune', '--algo', 'ridge', '--search', 'none', '--apply'], proj, env);
    assert.equal(t.code, 0, t.stderr);
    assert.match(
      t.stdout,
      /--apply: the best candidate .* beats params.yaml.s ridge settings .*: wrote model_trainer\.params\.ridge\.alpha=/,
    );
    assert.match(readFileSync(join(proj, 'params.yaml'), 'utf8'), /^ {4}ridge: \{alpha: [0-9.e-]+\}$/m);
    assert.doesNotMatch(readFileSync(join(proj, 'params.yaml'), 'utf8'), /alpha: 3000/);
    assert.match(t.stdout, /`carprice repro` will rerun: model_trainer, model_evaluation, register_model/);
    const show = await runBuiltCli(
      ['exp', 'show', '--experiment', 'hyperparameter-tuning', '--sort', 'val_mape', '--json'],
      proj,
      env,
    );
    assert.equal(show.code, 0, show.stderr);
    const shown = JSON.parse(show.stdout) as Array<{ metrics: Record<string, number> }>;
    const mapes = shown.map((s) => s.metrics.val_mape).filter((x) => x !== undefined);
    assert.deepEqual(
      mapes,
      [...mapes].sort((a, b) => a - b),
    );

    // params.yaml now holds the grid's winner: the same search again finds nothing better,
    // so --apply keeps the file byte for byte and says why
    const kept = readFileSync(join(proj, 'params.yaml'), 'utf8');
    const again = await runBuiltCli(
      ['exp', 'tune', '--algo', 'ridge', '--search', 'none', '--apply', '--json'],
      proj,
      env,
    );
    assert.equal(again.code, 0, again.stderr);
    const out = JSON.parse(again.stdout) as {
      best: { metrics: { mape: number } };
      current: { metrics: { mape: number } };
      applied: { written: boolean; changes: unknown[]; rerun: string[]; message: string };
    };
    assert.equal(out.applied.written, false);
    assert.deepEqual(out.applied.changes, []);
    assert.ok(out.current.metrics.mape <= out.best.metrics.mape, JSON.stringify(out));
    assert.match(
      out.applied.message,
      /params\.yaml's ridge settings \(validation mape [0-9.]+%\) are at least as good as every candidate .*: kept/,
    );
    assert.equal(readFileSync(join(proj, 'params.yaml'), 'utf8'), kept);
    const text = await runBuiltCli(['exp', 'tune', '--algo', 'ridge', '--search', 'none', '--apply'], proj, env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /are at least as good as every candidate .*: kept, .*params\.yaml not changed/);
    assert.doesNotMatch(text.stdout, /will rerun/);
    assert.equal(readFileSync(join(proj, 'params.yaml'), 'utf8'), kept);

    // the pipeline's runs keep their own experiment (the seed's 4th), apart from the
    // experiments' runs in the same store: repro again after --apply logs a second one
    const runInfo = () =>
      JSON.parse(readFileSync(join(proj, 'artifacts/model_trainer/run_info.json'), 'utf8')) as { run_id: string };
    const firstRun = runInfo().run_id;
    const base = await runBuiltCli(['exp', 'baseline'], proj, env);
    assert.equal(base.code, 0, base.stderr);
    const repro2 = await runBuiltCli(['repro'], proj, env);
    assert.equal(repro2.code, 0, repro2.stderr);
    const secondRun = runInfo().run_id;
    assert.notEqual(secondRun, firstRun);
    const pc = TrackingClient.open({ env: {}, cwd: proj });
    try {
      const exps = (await pc.store.searchExperiments({ maxResults: 100 })).items.map((e) => e.name).sort();
      assert.deepEqual(exps, ['Default', 'baseline', 'dvc-pipeline-runs', 'hyperparameter-tuning'].sort());
      const pipeline = await runsOf(pc, 'dvc-pipeline-runs');
      assert.deepEqual(pipeline.map((r) => r.info.runId).sort(), [firstRun, secondRun].sort());
      assert.ok(pipeline.every((r) => r.info.status === 'FINISHED' && parentOf(r) === undefined));
      const tuning = await runsOf(pc, 'hyperparameter-tuning');
      const baselineRuns = await runsOf(pc, 'baseline');
      assert.equal(tuning.filter((r) => parentOf(r) === undefined).length, 3, 'three tune parents');
      assert.equal(baselineRuns.length, 3, 'the baseline parent and its two models');
      const ids = new Set(pipeline.map((r) => r.info.runId));
      assert.ok([...tuning, ...baselineRuns].every((r) => !ids.has(r.info.runId)));
    } finally {
      await pc.close();
    }
  });

  it('applyTuned writes only a strictly better candidate (lower MAPE, higher R²); otherwise the file is untouched', () => {
    const p = join(dir, 'apply-tuned.yaml');
    copyFileSync(join(root, 'params.yaml'), p);
    const before = readFileSync(p, 'utf8');
    const cand = (mape: number, r2: number, params: Record<string, number>) => ({
      params,
      metrics: { mape, r2 },
      source: 'halving',
    });
    // the bench's real case: params.yaml's gbdt 13.11% beats the search's best 13.21%
    const current = cand(0.1311, 0.8241, { n_estimators: 1200, max_depth: 4, learning_rate: 0.05 });
    const best = cand(0.1321, 0.8394, { n_estimators: 1296, max_depth: 5, learning_rate: 0.0193 });
    const kept = applyTuned(p, { algo: 'gbdt', metric: 'mape', best, current });
    assert.equal(kept.written, false);
    assert.match(
      kept.message,
      /gbdt settings \(validation mape 13\.11%\) are at least as good as every candidate \(best 13\.21%, halving\): kept/,
    );
    assert.equal(readFileSync(p, 'utf8'), before);
    // a tie keeps the file too
    assert.equal(applyTuned(p, { algo: 'gbdt', metric: 'mape', best: current, current }).written, false);
    // by R² (higher is better) the same candidate wins and is written
    const won = applyTuned(p, { algo: 'gbdt', metric: 'r2', best, current });
    assert.equal(won.written, true);
    assert.match(
      won.message,
      /beats params\.yaml's gbdt settings \(0\.8241\): wrote model_trainer\.params\.gbdt\.n_estimators=1296/,
    );
    assert.equal(loadParams({ path: p }).model_trainer.params.gbdt.max_depth, 5);
  });
});
