/**
 * The tracking CLI as real child processes (`node dist/src/cli/main.js`): `tracking serve
 * --port 0` starts our MLflow-compatible server on a free port (read back from its stdout),
 * the TrackingClient populates it over REST, and `experiments list`, `runs list|show` and
 * `models list|show` read it back, as text and as --json. Also: which store a command
 * reads (--tracking-uri, then MLFLOW_TRACKING_URI, then params.yaml mlflow.tracking_uri,
 * then the default), a model name holding quotes, coded errors, and a clean stop on SIGTERM.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuiltCli, type CliResult } from '../helpers/built-cli.js';
import { startTrackingServer, type TrackingServer } from '../helpers/tracking-server.js';
import { TrackingClient } from '../../src/tracking/client.js';
import { openStore } from '../../src/tracking/resolve-store.js';
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';
import { exitCodeOf } from '../../src/core/errors.js';
import type { Experiment, ModelVersion, RegisteredModel, Run } from '../../src/tracking/entities.js';

describe('tracking CLI against a served store', () => {
  let dir: string;
  let server: TrackingServer;
  let url: string;
  let runId: string;
  const QUOTED = "O'Brien's model";
  const BOTH = `a'b"c`;

  function cli(args: string[], extraEnv: Record<string, string> = {}, cwd = dir): Promise<CliResult> {
    return runBuiltCli(args, cwd, extraEnv);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'carprice-tracking-cli-'));
    server = await startTrackingServer(dir);
    url = server.uri;

    const t = openStore(url, { env: {}, cwd: dir });
    const client = new TrackingClient({ store: t.store, artifacts: t.artifacts });
    const exp = await client.getOrCreateExperiment('cars');
    const info = await client.startRun({ experimentId: exp, runName: 'ridge-1' });
    runId = info.runId;
    await client.logParams(runId, { model: 'ridge', alpha: 3 });
    await client.logMetrics(runId, { rmse: 123456.5, r2: 0.9125 }, { step: 0, timestamp: 1000 });
    await client.setTags(runId, { team: 'pricing' });
    await client.endRun(runId);
    const other = await client.startRun({ experimentId: exp, runName: 'gbt-1' });
    await client.logMetrics(other.runId, { rmse: 99000, r2: 0.95 }, { step: 0, timestamp: 1000 });
    await client.endRun(other.runId);
    await client.registerModel(QUOTED, `runs:/${runId}/model`);
    await client.registerModel(QUOTED, `runs:/${other.runId}/model`);
    await client.transitionStage(QUOTED, '1', 'Production');
    await client.setAlias(QUOTED, 'champion', '2');
    await client.registerModel(BOTH, `runs:/${runId}/model`);
    await client.registerModel('UsedCarPriceModel', `runs:/${other.runId}/model`);
    await client.close();
  });

  after(async () => {
    await server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('experiments list: a table, and --json with every field', async () => {
    const r = await cli(['experiments', 'list', '--tracking-uri', url]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+Name\s+Stage\s+Created\s+Artifact location$/);
    assert.match(lines[2], /^0\s+Default\s+active\s/);
    assert.match(lines[3], /^1\s+cars\s+active\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+mlflow-artifacts:\/1$/);
    assert.equal(lines.length, 4);

    const j = await cli(['experiments', 'list', '--json', '--tracking-uri', url]);
    const exps = JSON.parse(j.stdout) as Experiment[];
    assert.deepEqual(
      exps.map((e) => [e.experimentId, e.name, e.lifecycleStage, e.artifactLocation]),
      [
        ['0', 'Default', 'active', 'mlflow-artifacts:/0'],
        ['1', 'cars', 'active', 'mlflow-artifacts:/1'],
      ],
    );
  });

  it('runs list: newest first with metric columns, filters and order_by, and --json', async () => {
    const r = await cli(['runs', 'list', '--experiment', 'cars'], { MLFLOW_TRACKING_URI: url });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^Run ID\s+Name\s+Exp\s+Status\s+Started\s+r2\s+rmse$/);
    assert.equal(lines.length, 4);
    assert.match(lines[2], /^[0-9a-f]{32}\s+gbt-1\s+1\s+FINISHED\s.*\s0\.95\s+99000$/);
    assert.match(lines[3], new RegExp(`^${runId}\\s+ridge-1\\s+1\\s+FINISHED\\s.*\\s0\\.9125\\s+123457$`));

    const f = await cli(['runs', 'list', '--experiment', '1', '--filter', "params.model = 'ridge'", '--json'], {
      MLFLOW_TRACKING_URI: url,
    });
    assert.equal(f.code, 0, f.stderr);
    const runs = JSON.parse(f.stdout) as Run[];
    assert.deepEqual(
      runs.map((x) => x.info.runId),
      [runId],
    );
    assert.deepEqual(runs[0].data.params, [
      { key: 'alpha', value: '3' },
      { key: 'model', value: 'ridge' },
    ]);
    assert.deepEqual(runs[0].data.metrics, [
      { key: 'r2', value: 0.9125, timestamp: 1000, step: 0 },
      { key: 'rmse', value: 123456.5, timestamp: 1000, step: 0 },
    ]);

    const o = await cli(['runs', 'list', '--order-by', 'metrics.rmse DESC', '--max', '1', '--json'], {
      MLFLOW_TRACKING_URI: url,
    });
    assert.deepEqual(
      (JSON.parse(o.stdout) as Run[]).map((x) => x.info.runName),
      ['ridge-1'],
    );
  });

  it('runs show: info, params, metrics and tags; --json is the whole run', async () => {
    const r = await cli(['runs', 'show', runId, '--tracking-uri', url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^Run ${runId} \\(ridge-1\\)\\n  experiment: 1\\n  status: FINISHED \\(active\\)\\n`),
    );
    assert.match(r.stdout, new RegExp(`artifacts: mlflow-artifacts:/1/${runId}/artifacts\\n`));
    assert.match(r.stdout, /Params\nKey\s+Value\n-+\s+-+\nalpha\s+3\nmodel\s+ridge\n/);
    assert.match(r.stdout, /Metrics\nKey\s+Value\s+Step\n-+\s+-+\s+-+\nr2\s+0\.9125\s+0\nrmse\s+123456\.5\s+0\n/);
    assert.match(r.stdout, /Tags\n[\s\S]*mlflow\.runName\s+ridge-1\n[\s\S]*team\s+pricing/);

    const j = await cli(['runs', 'show', runId, '--json', '--tracking-uri', url]);
    const run = JSON.parse(j.stdout) as Run;
    assert.equal(run.info.runId, runId);
    assert.equal(run.info.status, 'FINISHED');
    assert.deepEqual(
      run.data.tags.find((x) => x.key === 'team'),
      { key: 'team', value: 'pricing' },
    );
  });

  it('models list: stages and aliases per model, and --json', async () => {
    const r = await cli(['models', 'list', '--tracking-uri', url]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^Name\s+Latest versions\s+Aliases\s+Updated$/);
    assert.deepEqual(
      lines.slice(2).map((l) => l.split(/\s{2,}/).slice(0, 3)),
      [
        // name ASC in binary order, as MLflow's SQL store sorts: 'O' < 'U' < 'a'
        [QUOTED, 'Production:v1 None:v2', 'champion->v2'],
        ['UsedCarPriceModel', 'None:v1', '-'],
        [BOTH, 'None:v1', '-'],
      ],
    );
    const j = await cli(['models', 'list', '--json', '--filter', "name LIKE 'Used%'", '--tracking-uri', url]);
    const models = JSON.parse(j.stdout) as RegisteredModel[];
    assert.deepEqual(
      models.map((m) => m.name),
      ['UsedCarPriceModel'],
    );
  });

  it('models show: a name with a single quote, and one with both quote kinds', async () => {
    const r = await cli(['models', 'show', QUOTED, '--tracking-uri', url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Model O'Brien's model\n/);
    const rows = r.stdout.trimEnd().split('\n').slice(5);
    assert.deepEqual(
      rows.map((l) => l.split(/\s{2,}/).slice(0, 4)),
      [
        ['2', 'None', 'champion', rows[0].split(/\s{2,}/)[3]],
        ['1', 'Production', '-', runId],
      ],
    );
    assert.match(rows[1], new RegExp(`mlflow-artifacts:/1/${runId}/artifacts/model$`));

    const j = await cli(['models', 'show', QUOTED, '--json', '--tracking-uri', url]);
    const { model, versions } = JSON.parse(j.stdout) as { model: RegisteredModel; versions: ModelVersion[] };
    assert.equal(model.name, QUOTED);
    assert.deepEqual(
      versions.map((v) => [v.version, v.currentStage, v.aliases]),
      [
        ['2', 'None', ['champion']],
        ['1', 'Production', []],
      ],
    );

    const b = await cli(['models', 'show', BOTH, '--json', '--tracking-uri', url]);
    assert.equal(b.code, 0, b.stderr);
    const both = JSON.parse(b.stdout) as { versions: ModelVersion[] };
    assert.deepEqual(
      both.versions.map((v) => [v.name, v.version]),
      [[BOTH, '1']],
    );
  });

  it('store precedence: --tracking-uri, then MLFLOW_TRACKING_URI, then params.yaml mlflow.tracking_uri, then the default', async () => {
    const cwd = mkdtempSync(join(dir, 'proj-'));
    const other = join(cwd, 'other.db');
    const s = new SqliteTrackingStore({ path: other, defaultArtifactRoot: join(cwd, 'art') });
    await s.createExperiment('from-other-db');
    await s.close();
    const names = async (args: string[], env: Record<string, string> = {}) => {
      const r = await cli(['experiments', 'list', '--json', ...args], env, cwd);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as Experiment[]).map((e) => e.name);
    };
    // Default: the embedded .carprice/mlflow.db under the working directory (fresh: only Default).
    assert.deepEqual(await names([]), ['Default']);
    // params.yaml mlflow.tracking_uri
    writeFileSync(join(cwd, 'params.yaml'), `mlflow:\n  tracking_uri: ${url}\n  experiment_name: cars\n`);
    assert.deepEqual(await names([]), ['Default', 'cars']);
    // --set overrides params.yaml
    assert.deepEqual(await names(['--set', 'mlflow.tracking_uri=sqlite:///other.db']), ['Default', 'from-other-db']);
    // MLFLOW_TRACKING_URI beats params.yaml
    assert.deepEqual(await names([], { MLFLOW_TRACKING_URI: `sqlite:///${other}` }), ['Default', 'from-other-db']);
    // --tracking-uri beats the environment
    assert.deepEqual(await names(['--tracking-uri', url], { MLFLOW_TRACKING_URI: `sqlite:///${other}` }), [
      'Default',
      'cars',
    ]);
    // A broken params.yaml does not matter when the flag decides, and is reported when it would.
    writeFileSync(join(cwd, 'params.yaml'), 'mlflow: [unclosed\n');
    assert.deepEqual(await names(['--tracking-uri', url]), ['Default', 'cars']);
    const bad = await cli(['experiments', 'list'], {}, cwd);
    assert.equal(bad.code, exitCodeOf('CONFIG_INVALID'));
    assert.match(bad.stderr, /^carprice: .*params\.yaml:\d+: invalid YAML/);
  });

  it('errors are one coded line: unknown run, unknown model, unreachable server', async () => {
    const r = await cli(['runs', 'show', '0'.repeat(32), '--tracking-uri', url]);
    assert.equal(r.code, exitCodeOf('RESOURCE_DOES_NOT_EXIST'));
    assert.equal(r.stderr, `carprice: Run with id=${'0'.repeat(32)} not found\n`);
    const m = await cli(['models', 'show', 'nope', '--tracking-uri', url]);
    assert.equal(m.code, exitCodeOf('RESOURCE_DOES_NOT_EXIST'));
    assert.match(m.stderr, /^carprice: Registered Model with name=nope not found\n$/);
    const u = await cli(['experiments', 'list', '--tracking-uri', 'ftp://example.invalid'], {});
    assert.equal(u.code, exitCodeOf('CONFIG_INVALID'));
    assert.match(u.stderr, /^carprice: unsupported tracking URI 'ftp:\/\/example\.invalid'/);
    const p = await cli(['tracking', 'serve', '--port', 'x']);
    assert.equal(p.code, exitCodeOf('USAGE'));
    assert.equal(p.stderr, 'carprice: --port must be a whole number from 0 to 65535, got "x"\n');
  });

  it('tracking serve stops cleanly on SIGTERM', async () => {
    await server.stop();
    assert.equal(server.exitCode(), 0);
    assert.match(server.stdout(), /carprice tracking server stopped\n$/);
  });
});
