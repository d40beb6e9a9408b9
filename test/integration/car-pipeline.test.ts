/**
 * The car pipeline end to end, as a user runs it: a temp project holding the repo's
 * dvc.yaml, a params.yaml pointing at a generated listings CSV, and the real built CLI
 * (`carprice repro`) running every stage as a child process. Checks the stage outputs,
 * the tracking store (run logged, version registered, moved to Staging), dvc.lock, that
 * a second repro is a no-op, and that changing an evaluation param re-runs only the
 * stages downstream of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFixtureCsv } from '../fixtures/listings.js';
import { TrackingClient } from '../../src/tracking/client.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(root, 'dist/src/cli/main.js');

function carprice(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', MLFLOW_TRACKING_URI: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-pipe-'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, '.dvc'));
  writeFileSync(join(dir, '.dvc', 'config'), '');
  copyFileSync(join(root, 'dvc.yaml'), join(dir, 'dvc.yaml'));
  writeFixtureCsv(join(dir, 'data', 'listings.csv'), { n: 400, seed: 11 });
  // the repo's dvc.yaml names data/cars24_v3.xlsx; point it at the fixture
  writeFileSync(
    join(dir, 'dvc.yaml'),
    readFileSync(join(dir, 'dvc.yaml'), 'utf8').replace('data/cars24_v3.xlsx', 'data/listings.csv'),
  );
  const params = readFileSync(join(root, 'params.yaml'), 'utf8')
    .replace('raw_data: data/cars24_v3.xlsx', 'raw_data: data/listings.csv')
    .replace(/^ {2}algo: \w+$/m, '  algo: ridge')
    .replace(/optional_cols: \[[^\]]*\]/s, 'optional_cols: [AlloyWheels, Bluetooth, Sunroof/Moonroof]');
  writeFileSync(join(dir, 'params.yaml'), params);
  return dir;
}

function json<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

test('carprice repro runs the car pipeline: ingest, features, train+register, evaluate, Staging', async () => {
  const dir = project();
  try {
    const r = carprice(dir, 'repro');
    assert.equal(r.code, 0, r.stderr);
    for (const s of ['data_ingestion', 'data_transformation', 'model_trainer', 'model_evaluation', 'register_model'])
      assert.match(r.stderr + r.stdout, new RegExp(`Running stage '${s}'`));
    // data_ingestion: 400 rows -> 320 train / 80 test (+ header)
    assert.equal(readFileSync(join(dir, 'artifacts/data_ingestion/train.csv'), 'utf8').trim().split('\n').length, 321);
    assert.equal(readFileSync(join(dir, 'artifacts/data_ingestion/test.csv'), 'utf8').trim().split('\n').length, 81);
    assert.ok(existsSync(join(dir, 'artifacts/data_transformation/preprocessor.json')));
    const runInfo = json<{ run_id: string; model_name: string; model_version: string }>(
      join(dir, 'artifacts/model_trainer/run_info.json'),
    );
    assert.equal(runInfo.model_name, 'UsedCarPriceModel');
    assert.equal(runInfo.model_version, '1');
    const metrics = json<Record<string, number>>(join(dir, 'artifacts/model_evaluation/metrics.json'));
    assert.deepEqual(Object.keys(metrics).sort(), ['mae', 'mape', 'medape', 'r2', 'rmse', 'within10']);
    // the fixture's price is a smooth function of the features: a ridge on log price fits it well
    assert.ok(metrics.r2 > 0.8, `r2 ${metrics.r2}`);
    const info = json<{ flag: boolean; reason: string; production: unknown }>(
      join(dir, 'artifacts/model_evaluation/evaluation_info.json'),
    );
    assert.equal(info.flag, true, info.reason);
    assert.equal(info.production, null);
    const reg = json<{ transitioned: boolean; stage: string }>(join(dir, 'artifacts/register_model/registration.json'));
    assert.deepEqual([reg.transitioned, reg.stage], [true, 'Staging']);
    assert.ok(existsSync(join(dir, 'dvc.lock')));

    // the tracking store saw it all
    const client = TrackingClient.open({ env: {}, cwd: dir });
    try {
      const run = await client.getRun(runInfo.run_id);
      assert.equal(run.info.status, 'FINISHED');
      assert.ok(run.data.metrics.some((m) => m.key === 'test_r2'));
      assert.ok(run.data.params.some((p) => p.key === 'algo' && p.value === 'ridge'));
      const v = await client.resolveModelVersion('models:/UsedCarPriceModel/Staging');
      assert.equal(v.version, '1');
      const challenger = await client.resolveModelVersion('models:/UsedCarPriceModel@challenger');
      assert.equal(challenger.version, '1');
    } finally {
      await client.close();
    }

    // nothing changed: nothing runs
    const again = carprice(dir, 'repro');
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr + again.stdout, /Running stage/);

    // an evaluation threshold changed: only evaluation and registration run again; the
    // stricter gate now refuses the model and registration records why
    writeFileSync(
      join(dir, 'params.yaml'),
      readFileSync(join(dir, 'params.yaml'), 'utf8').replace('min_r2: 0.8', 'min_r2: 0.9999'),
    );
    const third = carprice(dir, 'repro');
    assert.equal(third.code, 0, third.stderr);
    const ran = [...(third.stderr + third.stdout).matchAll(/Running stage '(\w+)'/g)].map((m) => m[1]);
    assert.deepEqual(ran, ['model_evaluation', 'register_model']);
    const info2 = json<{ flag: boolean; reason: string }>(join(dir, 'artifacts/model_evaluation/evaluation_info.json'));
    assert.equal(info2.flag, false);
    assert.match(info2.reason, /min_r2 0.9999/);
    assert.equal(
      json<{ transitioned: boolean }>(join(dir, 'artifacts/register_model/registration.json')).transitioned,
      false,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stage run without its inputs says which stage to run first', () => {
  const dir = project();
  try {
    const r = carprice(dir, 'stage', 'model_evaluation');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /run the model_trainer stage first/);
    const u = carprice(dir, 'stage', 'nope');
    assert.equal(u.code, 2);
    assert.match(u.stderr, /data_ingestion, data_transformation, model_trainer, model_evaluation, register_model/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pull from a default remote that does not exist says how to point at the data or add a remote', () => {
  // Two folders deep, so that the project's `../../shared/dvc-remote` resolves inside the
  // temp folder (a /tmp/shared on the machine must not make the remote exist).
  const base = mkdtempSync(join(tmpdir(), 'carprice-pull-'));
  const dir = join(base, 'a', 'b');
  mkdirSync(dir, { recursive: true });
  try {
    mkdirSync(join(dir, '.dvc'));
    mkdirSync(join(dir, 'data'));
    copyFileSync(join(root, '.dvc', 'config'), join(dir, '.dvc', 'config'));
    copyFileSync(join(root, 'data', 'cars24_v3.xlsx.dvc'), join(dir, 'data', 'cars24_v3.xlsx.dvc'));
    const r = carprice(dir, 'pull');
    assert.equal(r.code, 6);
    assert.match(r.stderr, /remote 'local' points to .*dvc-remote, which does not exist/);
    assert.match(r.stderr, /carprice remote add -d NAME s3:\/\/bucket\/path/);
    assert.equal(existsSync(join(dir, 'data', 'cars24_v3.xlsx')), false);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('dvc.yaml takes its paths from params: a changed output_dir moves the stage outputs and dvc.lock follows', () => {
  const dir = project();
  try {
    writeFileSync(
      join(dir, 'params.yaml'),
      readFileSync(join(dir, 'params.yaml'), 'utf8').replace(
        'output_dir: artifacts/data_ingestion',
        'output_dir: work/split',
      ),
    );
    const r = carprice(dir, 'repro', 'data_transformation');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'work/split/train.csv')));
    assert.ok(!existsSync(join(dir, 'artifacts/data_ingestion')));
    const lock = readFileSync(join(dir, 'dvc.lock'), 'utf8');
    assert.match(lock, /- path: work\/split\n/);
    assert.match(lock, /- path: work\/split\/train\.csv\n/);
    const st = carprice(dir, 'status', 'data_transformation');
    assert.equal(st.stdout, 'Data and pipelines are up to date.\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
