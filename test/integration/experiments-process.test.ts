/**
 * `carprice exp` as a real process:
 *  - SIGINT to a running `carprice exp tune --apply` (worker threads busy fitting): the
 *    process exits 130, the parent run ends KILLED, the candidates that finished before
 *    the signal keep their FINISHED nested runs, no run is left RUNNING, and nothing is
 *    half-written (params.yaml byte for byte unchanged, no tuning table on the parent, no
 *    temporary files left in the project);
 *  - compare, tune and show against `carprice tracking serve` (REST): nested runs, the
 *    winner and the comparison/tuning tables as artifacts, read back through the server.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_CLI, cleanEnv, runBuiltCli } from '../helpers/built-cli.js';
import { startTrackingServer, type TrackingServer } from '../helpers/tracking-server.js';
import { writeFixtureCsv } from '../fixtures/listings.js';
import { TrackingClient } from '../../src/tracking/client.js';
import { openStore } from '../../src/tracking/resolve-store.js';
import type { Run } from '../../src/tracking/entities.js';

const PARAMS = [
  'data_source:',
  '  raw_data: data/listings.csv',
  'data_ingestion:',
  '  optional_cols: [AlloyWheels, Bluetooth, Sunroof/Moonroof]',
  'model_trainer:',
  '  params:',
  '    gbdt: {n_estimators: 200, max_depth: 4, learning_rate: 0.1}',
  '',
].join('\n');

function project(prefix: string, trackingUri?: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'data'));
  writeFixtureCsv(join(dir, 'data', 'listings.csv'), { n: 500, seed: 21 });
  writeFileSync(join(dir, 'params.yaml'), PARAMS + (trackingUri ? `mlflow:\n  tracking_uri: ${trackingUri}\n` : ''));
  return dir;
}

async function runsOf(client: TrackingClient, experiment: string): Promise<Run[]> {
  const e = await client.store.getExperimentByName(experiment).catch(() => null);
  if (!e) return [];
  return (await client.store.searchRuns({ experimentIds: [e.experimentId], maxResults: 1000 })).items;
}
const parentOf = (r: Run) => r.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('carprice exp as a process', () => {
  it('SIGINT during exp tune: exit 130, parent KILLED, finished candidates kept, nothing half-written', async () => {
    const dir = project('carprice-exp-sigint-');
    const client = TrackingClient.open({ env: {}, cwd: dir });
    try {
      const paramsBefore = readFileSync(join(dir, 'params.yaml'), 'utf8');
      const child = spawn(
        process.execPath,
        [BUILT_CLI, 'exp', 'tune', '--algo', 'gbdt', '--search', 'halving', '--budget', '60', '--apply'],
        { cwd: dir, env: cleanEnv({ CARPRICE_THREADS: '2' }) },
      );
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      // wait until a few candidates have finished (their nested runs are in the store)
      let finishedBefore = 0;
      for (let i = 0; i < 600 && finishedBefore < 3; i++) {
        await sleep(100);
        assert.equal(child.exitCode, null, `exp tune ended before the signal: ${stderr}`);
        const runs = await runsOf(client, 'hyperparameter-tuning');
        finishedBefore = runs.filter((r) => parentOf(r) && r.info.status === 'FINISHED').length;
      }
      assert.ok(finishedBefore >= 3, `no candidate finished in time: ${stderr}`);
      child.kill('SIGINT');
      const code = await closed;
      assert.equal(code, 130, stderr);
      assert.match(stderr, /SIGINT received, stopping cleanly/);
      assert.doesNotMatch(stderr, /internal error|\n\s+at /);

      const runs = await runsOf(client, 'hyperparameter-tuning');
      const parents = runs.filter((r) => !parentOf(r));
      assert.equal(parents.length, 1);
      const parent = parents[0];
      assert.equal(parent.info.status, 'KILLED');
      const kids = runs.filter((r) => parentOf(r) === parent.info.runId);
      assert.ok(kids.length >= finishedBefore, `${kids.length} nested runs, ${finishedBefore} seen finished`);
      assert.ok(kids.length < 1 + 27 + 180 + 60 + 20, 'the search stopped early');
      assert.deepEqual([...new Set(kids.map((k) => k.info.status))], ['FINISHED']);
      for (const k of kids)
        assert.ok(
          k.data.metrics.some((m) => m.key === 'val_mape'),
          k.info.runName,
        );
      // no half-written output: params.yaml untouched, no tuning table, no stray files
      assert.equal(readFileSync(join(dir, 'params.yaml'), 'utf8'), paramsBefore);
      assert.deepEqual(await client.listArtifacts(parent.info.runId), []);
      assert.deepEqual(readdirSync(dir).sort(), ['.carprice', 'data', 'params.yaml']);
      assert.deepEqual(readdirSync(join(dir, 'data')), ['listings.csv']);
    } finally {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('against carprice tracking serve', () => {
    let dir: string;
    let server: TrackingServer;
    let client: TrackingClient;
    const env = () => ({ CARPRICE_THREADS: '2', MLFLOW_TRACKING_URI: server.uri });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'carprice-exp-serve-'));
      server = await startTrackingServer(dir);
      const proj = join(dir, 'proj');
      mkdirSync(proj);
      const t = openStore(server.uri, { env: {}, cwd: proj });
      client = new TrackingClient({ store: t.store, artifacts: t.artifacts });
    });

    after(async () => {
      await client?.close();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('compare, tune and show log nested runs and their tables through the REST server', async () => {
      const proj = project('carprice-exp-rest-');
      try {
        const c = await runBuiltCli(
          ['exp', 'compare', '--algo', 'mean,ridge,gbdt', '--variants', 'default,raw-target', '--folds', '2'],
          proj,
          env(),
        );
        assert.equal(c.code, 0, c.stderr);
        const cmp = await runsOf(client, 'model-comparison');
        const cParent = cmp.find((r) => !parentOf(r))!;
        assert.equal(cParent.info.status, 'FINISHED');
        assert.equal(cmp.filter((r) => parentOf(r) === cParent.info.runId).length, 6);
        assert.ok(cParent.data.params.some((p) => p.key === 'winner_algo'));
        assert.deepEqual((await client.listArtifacts(cParent.info.runId)).map((f) => f.path).sort(), [
          'comparison.csv',
          'comparison.md',
        ]);

        const t = await runBuiltCli(
          ['exp', 'tune', '--algo', 'ridge', '--search', 'random', '--budget', '5'],
          proj,
          env(),
        );
        assert.equal(t.code, 0, t.stderr);
        const tun = await runsOf(client, 'hyperparameter-tuning');
        const tParent = tun.find((r) => !parentOf(r))!;
        assert.equal(tParent.info.status, 'FINISHED');
        assert.equal(tun.filter((r) => parentOf(r) === tParent.info.runId).length, 1 + 27 + 5);
        assert.ok(tParent.data.params.some((p) => p.key === 'best_alpha'));
        assert.deepEqual((await client.listArtifacts(tParent.info.runId)).map((f) => f.path).sort(), [
          'tuning.csv',
          'tuning.md',
        ]);

        const s = await runBuiltCli(['exp', 'show', '--experiment', 'model-comparison', '--json'], proj, env());
        assert.equal(s.code, 0, s.stderr);
        assert.equal((JSON.parse(s.stdout) as unknown[]).length, 7);
      } finally {
        rmSync(proj, { recursive: true, force: true });
      }
    });
  });
});
