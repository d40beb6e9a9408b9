/**
 * The dashboard as `carprice up` mounts it, for the browser tests and bench/ui: the real
 * prediction API (buildApp with a real bundle) with the CLI's own wiring (governance from
 * jobs/promotion.ts, predictions through app.inject, known values from a listings CSV,
 * version scoring on a test CSV) over a real SQLite store seeded by `seedStore`, with a
 * registered model whose versions carry test tags, test metrics, a test report (gates,
 * behaviour checks, error by slice) and a model card; optionally promotions (real
 * `promote`/`rollback`, so the history is real), Staging versions and extra aliases; and
 * a real pipeline repository (reproduced by the built CLI, committed with git, then
 * edited so the page has changes and diffs to show); and a real prediction log (normal,
 * then shifted requests, shadow rows, sold prices) for the monitoring page.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { seedStore, type Seeded } from './dashboard.js';
import { fixtureBundle, savedBundle } from './serving.js';
import { runBuiltCli } from './built-cli.js';
import { git, makeRepo } from './pipeline-repo.js';
import { writeFixtureCsv } from '../fixtures/listings.js';
import { buildApp } from '../../src/serving/build-app.js';
import { ModelProvider } from '../../src/serving/model-provider.js';
import { registerDashboard } from '../../src/dashboard/index.js';
import { TrackingClient } from '../../src/tracking/index.js';
import { LocalArtifactRepository } from '../../src/tracking/artifacts/local-artifact-repository.js';
import { parseParams } from '../../src/config/params.js';
import { promote, rollback } from '../../src/jobs/promotion.js';
import {
  governanceAdapter,
  injectedPredictor,
  knownValuesFor,
  monitoringAdapter,
  versionPredictionsFor,
} from '../../src/cli/dashboard-wiring.js';
import { referenceBundle, writePredictionLog } from './monitoring.js';

export const MODEL = 'UsedCarPriceModel';
export const USER = { username: 'alice', password: 's3cret' };

export interface ProjectDashboard {
  url: string;
  seeded: Seeded;
  client: TrackingClient;
  /** The pipeline repository the page reads (removed by close() when the helper made it). */
  pipelineDir: string;
  close(): Promise<void>;
}

export interface ProjectOptions {
  runs?: number;
  children?: number;
  /** Registered versions of MODEL (default 2); version i comes from the i-th run. */
  versions?: number;
  /** Promotions made with jobs/promotion.ts before the page opens (every k-th version), then one rollback. */
  promotions?: number;
  /** Users of the dashboard (default alice:s3cret; '' = no users). */
  users?: string;
  /** The pipeline page's directory (default: a small repository made here). */
  pipelineDir?: string;
  /** A stage with long names and paths in the made pipeline (for layout tests). */
  longStage?: boolean;
  /**
   * The monitoring page's prediction log: this many recent shifted rows (default 400), each
   * also priced by a shadow challenger, as many older normal ones, and sold prices for a
   * tenth; 0 = no log (the page's empty state).
   */
  logRows?: number;
  /**
   * Spread the recent rows over this span, ending 5 minutes ago (bench/ui: a week's traffic
   * in the 7-day window), and the older ones as long, ending a day before the recent ones
   * start; default: rows 1 ms apart, two days ago.
   */
  logSpreadMs?: number;
}

/** A pipeline repo: prepare -> train, reproduced and committed, then a param and the metrics edited. */
export async function pipelineRepo(o: { longStage?: boolean } = {}): Promise<string> {
  const d = makeRepo(
    {
      'raw.txt': 'abc\n',
      'params.yaml': 'train:\n  factor: 2\n',
      'score.cjs': "require('fs').writeFileSync('metrics.json', JSON.stringify({ score: 0.5 }));\n",
    },
    { prefix: 'ui-pipe' },
  );
  const long = 'artifacts/model_evaluation_with_a_long_folder_name/per_make_error_breakdown_report.json';
  writeFileSync(
    join(d, 'dvc.yaml'),
    [
      'stages:',
      '  prepare:',
      '    cmd: cp raw.txt prepared.txt',
      '    deps:',
      '    - raw.txt',
      '    outs:',
      '    - prepared.txt',
      '  train:',
      '    cmd: node score.cjs',
      '    deps:',
      '    - prepared.txt',
      '    params:',
      '    - train.factor',
      '    metrics:',
      '    - metrics.json:',
      '        cache: false',
      ...(o.longStage
        ? [
            '  evaluate_the_model_per_make_and_fuel_type:',
            `    cmd: node -e "require('fs').mkdirSync('${long.split('/').slice(0, -1).join('/')}',{recursive:true});require('fs').writeFileSync('${long}','{}')"`,
            '    deps:',
            '    - prepared.txt',
            '    - metrics.json',
            '    outs:',
            `    - ${long}`,
          ]
        : []),
      '',
    ].join('\n'),
  );
  const r = await runBuiltCli(['repro'], d);
  assert.equal(r.code, 0, r.stderr);
  git(d, 'init', '-q');
  git(d, 'add', '-A');
  git(d, 'commit', '-qm', 'pipeline');
  writeFileSync(join(d, 'params.yaml'), 'train:\n  factor: 3\n');
  writeFileSync(join(d, 'metrics.json'), JSON.stringify({ score: 0.75 }));
  return d;
}

const slice = (column: string, value: string, mape: number, flagged = false) => ({
  column,
  value,
  n: 40,
  mae: 50_000,
  mape,
  flagged,
});

/** A `carprice model test` report (the shape jobs/model-test.ts writes), varied by `i`. */
export function testReport(i: number, passed = true): object {
  const r2 = 0.8 + (i % 10) / 100;
  return {
    kind: 'carprice-model-test-report',
    formatVersion: 1,
    passed,
    failures: passed ? [] : ['min_r2: 0.62 is below the gate 0.7'],
    testedAt: '2026-01-02T03:04:05.000Z',
    data: { source: 'test.csv', rows: 120, dataHash: 'x' },
    metrics: { r2, mae: 60_000 + i * 100, mape: 0.12 },
    gates: [{ name: 'min_r2', value: passed ? r2 : 0.62, threshold: 0.7, passed }],
    champion: null,
    championNote: 'there is no Production version yet',
    behaviour: [{ name: 'older is cheaper', passed: true, detail: 'ok on 50 listings' }],
    slices: {
      overall: { n: 120, mae: 60_000, mape: 0.12 },
      minCount: 20,
      flagRatio: 1.5,
      slices: [slice('make', 'Maruti', 0.1), slice('make', 'Hyundai', 0.2, true), slice('fuelType', 'Petrol', 0.11)],
      flagged: [slice('make', 'Hyundai', 0.2, true)],
      smallSliceListings: 0,
    },
  };
}

/** Start the project dashboard on 127.0.0.1:0. */
export async function startProjectDashboard(o: ProjectOptions = {}): Promise<ProjectDashboard> {
  const seeded = await seedStore({ runs: o.runs ?? 12, children: o.children ?? 5 });
  const client = new TrackingClient({
    store: seeded.store,
    artifacts: { repositoryFor: (uri) => new LocalArtifactRepository(uri), close() {} },
  });
  // a project: listings for the pickers and the test split
  const project = join(seeded.dir, 'project');
  const ingest = join(project, 'artifacts/data_ingestion');
  mkdirSync(ingest, { recursive: true });
  writeFixtureCsv(join(ingest, 'train.csv'), { n: 300, seed: 1 });
  writeFixtureCsv(join(ingest, 'test.csv'), { n: 120, seed: 2 });
  const params = parseParams({});
  const bundleDir = savedBundle(fixtureBundle({ n: 300 }));
  const versions = o.versions ?? 2;
  assert.ok(versions <= seeded.runIds.length, 'one run per version');
  for (let i = 0; i < versions; i++) {
    const runId = seeded.runIds[i];
    await client.logModel(runId, bundleDir);
    const v = await client.registerModel(MODEL, `runs:/${runId}/model`);
    // every 7th version failed its test; the others passed
    const passed = (i + 1) % 7 !== 0;
    await seeded.store.setModelVersionTag(MODEL, v.version, 'carprice.test.status', passed ? 'passed' : 'failed');
    await seeded.store.setModelVersionTag(MODEL, v.version, 'carprice.test.at', '2026-01-02T03:04:05.000Z');
    await seeded.store.setModelVersionTag(MODEL, v.version, 'carprice.test.champion', i === 0 ? 'none' : '1');
    if (i === 0) continue; // v1: never tested in detail (no report, no card)
    const t = Date.UTC(2026, 0, 2);
    await seeded.store.logBatch(runId, {
      metrics: [
        { key: 'test_r2', value: 0.8 + (i % 10) / 100, timestamp: t, step: 0 },
        { key: 'test_mae', value: 60_000 + i * 100, timestamp: t, step: 0 },
        { key: 'test_mape', value: 0.12, timestamp: t, step: 0 },
      ],
      params: [],
      tags: [],
    });
    const repo = new LocalArtifactRepository((await seeded.store.getRun(runId)).info.artifactUri);
    await repo.write('model_test/report.json', Buffer.from(JSON.stringify(testReport(i, passed))));
    await repo.write(
      'model_card/model_card.md',
      Buffer.from(`# ${MODEL} v${v.version}\n\nIntended use: prices.\n\nLimitations: trained on fixture listings.\n`),
    );
  }
  if (o.promotions) {
    const step = Math.max(1, Math.floor(versions / o.promotions));
    const promoted: string[] = [];
    for (let v = step; v <= versions && promoted.length < o.promotions; v += step) {
      if (v % 7 === 0) continue; // failed its test: cannot be promoted
      // tested against the Production version in place, as `carprice model test` records it
      await seeded.store.setModelVersionTag(MODEL, String(v), 'carprice.test.champion', promoted.at(-1) ?? 'none');
      await promote({ client, name: MODEL, version: String(v), user: 'alice', reason: `release ${v}` });
      promoted.push(String(v));
    }
    await rollback({ client, name: MODEL, user: 'bob', reason: 'prices of the last release look wrong' });
    // the two newest versions in Staging, one named by the challenger alias, one by a team alias
    await seeded.store.transitionModelVersionStage(MODEL, String(versions), 'Staging', false);
    await seeded.store.transitionModelVersionStage(MODEL, String(versions - 1), 'Staging', false);
    await seeded.store.setRegisteredModelAlias(MODEL, 'challenger', String(versions));
    await seeded.store.setRegisteredModelAlias(MODEL, 'team-eu-candidate', String(versions - 1));
  }

  const pipelineDir = o.pipelineDir ?? (await pipelineRepo({ longStage: o.longStage }));
  const provider = new ModelProvider({ source: bundleDir });
  await provider.start();
  const knownValues = await knownValuesFor(
    { ...params, data_source: { ...params.data_source, raw_data: 'none.csv' } },
    project,
  );
  // the monitoring page: a real prediction log and the model (with its training reference) it is judged against
  const monitorDir = join(seeded.dir, 'monitoring');
  mkdirSync(monitorDir, { recursive: true });
  const logRows = o.logRows ?? 400;
  const logPath = join(monitorDir, 'predictions.db');
  if (logRows > 0) {
    const reference = referenceBundle();
    reference.save(join(monitorDir, 'model'));
    writePredictionLog(logPath, reference, {
      unshifted: logRows,
      shifted: logRows,
      now: Date.now(),
      challenger: fixtureBundle({ n: 300, alpha: 1 }),
      feedback: Math.ceil(logRows / 10),
      ...(o.logSpreadMs
        ? { spacingMs: o.logSpreadMs / logRows, recentAgeMs: 300_000, oldAgeMs: o.logSpreadMs + 86_400_000 }
        : {}),
    });
  }
  const monitoring = monitoringAdapter({
    params,
    cwd: monitorDir,
    env: {},
    logPath,
    model: 'model',
    client: () => client,
  });
  const app: FastifyInstance = await buildApp({
    provider,
    logRequests: false,
    docs: false,
    extend: (a) =>
      registerDashboard(a, {
        store: seeded.store,
        artifactsFor: (uri) => new LocalArtifactRepository(uri),
        users: o.users ?? `${USER.username}:${USER.password}`,
        pipelineDir,
        governance: governanceAdapter(client),
        knownValues,
        predict: injectedPredictor(a, {}),
        versionPredictions: versionPredictionsFor(client, params, project, {}),
        monitoring,
        host: 'prediction API',
      }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url,
    seeded,
    client,
    pipelineDir,
    async close() {
      await app.close();
      await provider.close();
      await seeded.store.close();
      if (!o.pipelineDir) rmSync(pipelineDir, { recursive: true, force: true });
      rmSync(seeded.dir, { recursive: true, force: true });
      rmSync(dirname(bundleDir), { recursive: true, force: true });
    },
  };
}
