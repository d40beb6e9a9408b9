/**
 * Model tests and promotion end to end, against the embedded SQLite store and against
 * `carprice tracking serve` (the built CLI on port 0, spoken to over REST): real bundles
 * trained on generated listings are logged and registered, then
 *  - a first good version passes its test and is promoted (Production + champion); its
 *    model card holds data size and fingerprint, features, metrics overall and per slice,
 *    test results, intended use and limits, and lineage;
 *  - a version worse than the champion (a mean predictor) fails the paired-bootstrap
 *    comparison and its promotion is refused;
 *  - a version whose price rises with the odometer fails the behavioural test and is refused;
 *  - a second good version is promoted and then rolled back: stages, aliases and tags are
 *    exactly as before the promotion (plus the rollback's own who/when/why tags);
 *  - the CLI (`model test`, `model promote`, `model list`, `model history`) gives the exit
 *    codes CI gates on.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuiltCli } from '../helpers/built-cli.js';
import { startTrackingServer } from '../helpers/tracking-server.js';
import { fixtureFrame, writeFixtureCsv } from '../fixtures/listings.js';
import { loadParams, type Params } from '../../src/config/params.js';
import { trainBundle } from '../../src/bundle/train-bundle.js';
import { trainingOptions } from '../../src/jobs/training-options.js';
import { TrackingClient } from '../../src/tracking/client.js';
import { openStore } from '../../src/tracking/resolve-store.js';
import { isAppError } from '../../src/core/errors.js';
import { modelTest, type ModelTestReport } from '../../src/jobs/model-test.js';
import type { ModelCard } from '../../src/jobs/model-card.js';
import {
  listModelVersions,
  modelVersions,
  promote,
  promotionHistory,
  rollback,
  PROMOTION_TAGS,
} from '../../src/jobs/promotion.js';

const NAME = 'UsedCarPriceModel';

function writeProject(dir: string, trackingUri: string): Params {
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFixtureCsv(join(dir, 'data', 'test.csv'), { n: 300, seed: 99 });
  writeFileSync(
    join(dir, 'params.yaml'),
    [
      'data_ingestion:',
      '  optional_cols: [AlloyWheels, Bluetooth, Sunroof/Moonroof]',
      'mlflow:',
      `  tracking_uri: ${trackingUri}`,
      'evaluation:',
      '  min_r2: 0',
      '  max_rmse: 100000000',
      '  max_mape: 1',
      'model_test:',
      '  behaviour_sample: 80',
      '  bootstrap_resamples: 500',
      '  output_dir: out/model_test',
      '',
    ].join('\n'),
  );
  return loadParams({ path: join(dir, 'params.yaml') });
}

/** Train a bundle on generated listings (`bend` rewrites the prices), log it and register it; returns the version. */
async function registerModel(
  client: TrackingClient,
  dir: string,
  params: Params,
  algo: string,
  tag: string,
  bend?: (price: number, odometer: number) => number,
): Promise<string> {
  const { frame, y, schema } = fixtureFrame({ n: 600, seed: 5 });
  const yy = bend ? y.map((p, i) => bend(p, frame.numeric.odometer[i])) : y;
  const bundle = trainBundle(frame, yy, schema, {
    ...trainingOptions(params, algo),
    metadata: {
      createdAt: '2026-01-01T00:00:00.000Z',
      training: { dataHash: tag, rows: frame.nRows, source: 'fixture' },
      params: { algo },
      carpriceVersion: 'test',
    },
  });
  const out = join(dir, 'bundles', tag);
  bundle.save(out);
  const run = await client.startRun({ experimentName: 'governance-test', runName: tag });
  const uri = await client.logModel(run.runId, out);
  const v = await client.registerModel(NAME, uri);
  await client.endRun(run.runId);
  return v.version;
}

/**
 * The model card of a tested version says what the issue asks of it: training data size and
 * fingerprint, features, metrics overall and per slice, test results, intended use and
 * limits, lineage (run, data hash, params, code version), in the JSON and in the Markdown.
 */
function checkModelCard(out: string, o: { version: string; runId: string; t1: ModelTestReport }): void {
  const card = JSON.parse(readFileSync(join(out, 'model_card.json'), 'utf8')) as ModelCard;
  const md = readFileSync(join(out, 'model_card.md'), 'utf8');
  assert.equal(card.kind, 'carprice-model-card');
  assert.deepEqual([card.model.name, card.model.version, card.model.algo], [NAME, o.version, 'ridge']);
  assert.equal(card.model.members.length, 1);
  assert.ok(card.model.members[0].features > 20, `${card.model.members[0].features} matrix columns`);
  // training data: size and fingerprint (registerModel trains on 600 listings, hash = its tag)
  assert.deepEqual([card.training.rows, card.training.dataHash, card.training.source], [600, 'good-1', 'fixture']);
  assert.match(md, /600 listings from fixture \(fingerprint good-1\)/);
  // features: inputs, derived, excluded, target with its bias-correction offset
  assert.ok(card.features.required.includes('odometer') && card.features.required.includes('make'));
  assert.deepEqual(card.features.optionalNumeric, ['AlloyWheels', 'Bluetooth', 'Sunroof/Moonroof']);
  assert.deepEqual(card.features.derived, ['car_age', 'log_odometer', 'make_model']);
  assert.deepEqual(card.features.excluded, ['year', 'color']);
  assert.equal(card.features.target.transform, 'log1p');
  assert.ok(card.features.target.offset !== 0, 'the default bias correction leaves an offset');
  assert.match(md, /Derived: car_age, log_odometer, make_model\. Read only to derive features: year, color\./);
  // metrics overall (the test report's, on its rows) and per slice
  assert.deepEqual(card.metrics.test, o.t1.metrics);
  assert.equal(card.metrics.testRows, 300);
  assert.equal(card.metrics.testDataHash, o.t1.data.dataHash);
  for (const k of ['r2', 'rmse', 'mae', 'mape', 'medape', 'within10'])
    assert.ok(Number.isFinite(card.metrics.test[k]), k);
  assert.ok(card.metrics.test.mape > 0 && card.metrics.test.mape < 1);
  const columns = new Set(card.metrics.slices.map((x) => x.column));
  for (const c of ['make', 'fuelType', 'bodyType', 'transmissionType', 'price band'])
    assert.ok(columns.has(c), `slices by ${c}: ${[...columns].join(', ')}`);
  for (const x of card.metrics.slices) assert.ok(x.n >= 20 && Number.isFinite(x.mape) && Number.isFinite(x.mae));
  const first = card.metrics.slices[0];
  assert.ok(md.includes(`| ${first.column} = ${first.value}${first.flagged ? ' (flagged)' : ''} | ${first.n} | `));
  assert.match(
    md,
    new RegExp(`On 300 test listings \\(fingerprint ${o.t1.data.dataHash}\\): R² ${o.t1.metrics.r2.toFixed(4)}`),
  );
  // test results: every gate, the behavioural checks, passed
  assert.equal(card.tests.passed, true);
  assert.deepEqual(card.tests.failures, []);
  const names = card.tests.checks.map((c) => c.name);
  for (const n of [
    'gate min_r2',
    'gate max_rmse',
    'gate max_mape',
    'odometer_monotonic',
    'year_monotonic',
    'color_invariance',
    'positive_finite',
  ])
    assert.ok(names.includes(n), `check ${n} in ${names.join(', ')}`);
  assert.ok(card.tests.checks.every((c) => c.passed && c.detail.length > 0));
  assert.match(md, /## Tests \(passed, /);
  assert.match(md, /- pass: gate min_r2: /);
  // intended use and limits
  assert.match(card.intendedUse, /asking price .* used car/);
  assert.match(card.intendedUse, /Not for lending/);
  assert.ok(card.limitations.length >= 3);
  assert.ok(card.limitations.some((l) => /unseen|never seen/i.test(l)));
  assert.match(md, /## Intended use\n\nEstimate the asking price/);
  assert.match(md, /## Limitations\n\n- Trained on one marketplace snapshot/);
  // lineage: run, data hash, params, code version
  assert.equal(card.lineage.runId, o.runId);
  assert.ok(card.lineage.experimentId);
  assert.equal(card.lineage.dataHash, 'good-1');
  assert.deepEqual(card.lineage.params, { algo: 'ridge' });
  assert.equal(card.lineage.carpriceVersion, 'test');
  assert.ok(
    card.lineage.source && /models?:|runs:|mlflow-artifacts:|file:|\//.test(card.lineage.source),
    card.lineage.source ?? '',
  );
  assert.ok(md.includes(`- run: ${o.runId} (experiment ${card.lineage.experimentId})`));
  assert.match(md, /- training data hash: good-1\n- carprice test/);
  assert.match(md, /- params: `\{"algo":"ridge"\}`/);
}

interface RegistryView {
  versions: Array<{ version: string; stage: string; tags: Record<string, string> }>;
  aliases: Record<string, string>;
}

async function view(client: TrackingClient, drop: readonly string[] = []): Promise<RegistryView> {
  const versions = (await modelVersions(client, NAME)).map((v) => ({
    version: v.version,
    stage: v.currentStage,
    tags: Object.fromEntries(
      v.tags
        .filter((t) => !drop.includes(t.key))
        .map((t) => [t.key, t.value])
        .sort(),
    ),
  }));
  const model = await client.store.getRegisteredModel(NAME);
  return { versions, aliases: Object.fromEntries(model.aliases.map((a) => [a.alias, a.version]).sort()) };
}

function governanceSuite(kind: string, connect: (dir: string) => Promise<{ uri: string; stop(): Promise<void> }>) {
  describe(`model test, promote and rollback (${kind})`, () => {
    let dir: string;
    let conn: { uri: string; stop(): Promise<void> };
    let client: TrackingClient;
    let params: Params;
    const base = () => ({ params, cwd: dir, env: {}, client, data: 'data/test.csv' });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `carprice-gov-${kind}-`));
      conn = await connect(dir);
      params = writeProject(dir, conn.uri);
      const t = openStore(conn.uri, { env: {}, cwd: dir });
      client = new TrackingClient({ store: t.store, artifacts: t.artifacts });
    });

    after(async () => {
      await client?.close();
      await conn?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('promotes a passing first version; refuses a worse one and a non-monotonic one; rollback restores exactly', async () => {
      const v1 = await registerModel(client, dir, params, 'ridge', 'good-1');
      // untested: refused
      await assert.rejects(
        promote({ client, name: NAME, version: v1, user: 'alice' }),
        (e) => isAppError(e, 'MODEL_NOT_READY') && /no model test/.test(e.message),
      );
      const t1 = await modelTest({ ...base(), version: v1 });
      assert.equal(t1.report.passed, true, t1.report.failures.join('\n'));
      assert.equal(t1.report.champion, null);
      assert.match(t1.report.championNote ?? '', /no Production version/);
      assert.equal(t1.stored, true);
      assert.ok(existsSync(join(dir, 'out/model_test', `${NAME}-v${v1}`, 'model_card.md')));
      // the report and the card are artifacts of the version's run
      const runId = (await client.store.getModelVersion(NAME, v1)).runId!;
      assert.deepEqual((await client.listArtifacts(runId, 'model_test')).map((f) => f.path).sort(), [
        'model_test/report.json',
        'model_test/summary.md',
      ]);
      assert.deepEqual((await client.listArtifacts(runId, 'model_card')).map((f) => f.path).sort(), [
        'model_card/model_card.json',
        'model_card/model_card.md',
      ]);
      checkModelCard(join(dir, 'out/model_test', `${NAME}-v${v1}`), { version: v1, runId, t1: t1.report });
      await promote({ client, name: NAME, version: v1, user: 'alice', reason: 'first model' });
      let l = await listModelVersions(client, NAME);
      assert.equal(l.consistent, true);
      assert.deepEqual(
        l.versions.map((r) => [r.version, r.stage, r.aliases.join(',')]),
        [[v1, 'Production', 'champion']],
      );

      // a mean predictor is much worse than the champion on the same rows: refused
      const v2 = await registerModel(client, dir, params, 'mean', 'worse');
      const t2 = await modelTest({ ...base(), version: v2 });
      assert.equal(t2.report.passed, false);
      assert.equal(t2.report.champion?.version, v1);
      assert.equal(t2.report.champion?.passed, false);
      assert.ok(t2.report.champion.maeDifference.lower > 0);
      assert.match(t2.summary, /significantly worse than Production v1/);
      await assert.rejects(
        promote({ client, name: NAME, version: v2, user: 'alice' }),
        (e) => isAppError(e, 'MODEL_NOT_READY') && /failed its latest model test/.test(e.message),
      );

      // prices that rise with the odometer: the behavioural test refuses it
      const v3 = await registerModel(client, dir, params, 'ridge', 'rising', (p, km) => p * Math.exp(km / 60_000));
      const t3 = await modelTest({ ...base(), version: v3 });
      const odo = t3.report.behaviour.find((c) => c.name === 'odometer_monotonic')!;
      assert.equal(odo.passed, false, odo.detail);
      assert.equal(t3.report.passed, false);
      await assert.rejects(promote({ client, name: NAME, version: v3, user: 'bob' }), (e) =>
        isAppError(e, 'MODEL_NOT_READY'),
      );

      // a second good version: tested against v1, promoted, then rolled back
      const v4 = await registerModel(client, dir, params, 'ridge', 'good-2');
      await client.transitionStage(NAME, v4, 'Staging', false);
      await client.setAlias(NAME, 'challenger', v4);
      const t4 = await modelTest({ ...base(), alias: 'challenger' });
      assert.equal(t4.report.model.version, v4);
      assert.equal(t4.report.passed, true, t4.report.failures.join('\n'));
      assert.equal(t4.report.champion?.version, v1);
      const before = await view(client);
      const e = await promote({ client, name: NAME, user: 'carol', reason: 'better' }); // default: the Staging version
      assert.equal(e.version, v4);
      assert.deepEqual(e.previous, [v1]);
      l = await listModelVersions(client, NAME);
      assert.equal(l.consistent, true);
      const byV = Object.fromEntries(l.versions.map((r) => [r.version, r]));
      assert.deepEqual([byV[v1].stage, byV[v4].stage, byV[v4].aliases], ['Archived', 'Production', ['champion']]);
      assert.equal(byV[v4].promotedBy, 'carol');
      // the challenger alias went with the promotion
      assert.equal(
        (await client.store.getRegisteredModel(NAME)).aliases.some((a) => a.alias === 'challenger'),
        false,
      );

      const r = await rollback({ client, name: NAME, user: 'dave', reason: 'complaints' });
      assert.equal(r.undoes, e.seq);
      const rolledBackTags = [PROMOTION_TAGS.rolledBackBy, PROMOTION_TAGS.rolledBackAt, PROMOTION_TAGS.rollbackReason];
      assert.deepEqual(await view(client, rolledBackTags), before);
      const v4now = (await client.store.getModelVersion(NAME, v4)).tags;
      assert.equal(v4now.find((t) => t.key === PROMOTION_TAGS.rolledBackBy)?.value, 'dave');
      assert.equal(v4now.find((t) => t.key === PROMOTION_TAGS.rollbackReason)?.value, 'complaints');

      const h = await promotionHistory(client, NAME);
      assert.deepEqual(
        h.map((x) => [x.seq, x.action, x.version, x.by]),
        [
          [1, 'promote', v1, 'alice'],
          [2, 'promote', v4, 'carol'],
          [3, 'rollback', v4, 'dave'],
        ],
      );
      // rolling back again undoes the first promotion: no Production version at all
      await rollback({ client, name: NAME, user: 'dave' });
      l = await listModelVersions(client, NAME);
      assert.equal(l.versions.filter((x) => x.stage === 'Production').length, 0);
      assert.equal(l.consistent, true);
      await assert.rejects(
        rollback({ client, name: NAME, user: 'dave' }),
        (x) => isAppError(x, 'RESOURCE_DOES_NOT_EXIST') && /no promotion to roll back/.test(x.message),
      );
    });

    it('the CLI gives exit codes CI can gate on', async () => {
      const env = { MLFLOW_TRACKING_URI: conn.uri };
      const v = await registerModel(client, dir, params, 'mean', 'cli-mean');
      const failed = await runBuiltCli(['model', 'test', '--version', v, '--data', 'data/test.csv'], dir, env);
      assert.equal(failed.code, 5, failed.stderr);
      assert.match(failed.stdout, /## Model test: UsedCarPriceModel v\d+ FAILED/);
      const refused = await runBuiltCli(['model', 'promote', '--version', v], dir, env);
      assert.equal(refused.code, 5);
      assert.match(refused.stderr, /failed its latest model test/);
      const good = await registerModel(client, dir, params, 'ridge', 'cli-good');
      const passed = await runBuiltCli(
        ['model', 'test', '--version', good, '--data', 'data/test.csv', '--json'],
        dir,
        env,
      );
      assert.equal(passed.code, 0, passed.stdout + passed.stderr);
      assert.equal(JSON.parse(passed.stdout).passed, true);
      const promoted = await runBuiltCli(
        ['model', 'promote', '--version', good, '--user', 'ci', '--reason', 'pipeline'],
        dir,
        env,
      );
      assert.equal(promoted.code, 0, promoted.stderr);
      assert.match(promoted.stdout, new RegExp(`v${good} -> Production \\(alias champion\\)`));
      const list = await runBuiltCli(['model', 'list', '--json'], dir, env);
      const listing = JSON.parse(list.stdout) as {
        consistent: boolean;
        versions: Array<{ version: string; stage: string; test: string | null }>;
      };
      assert.equal(listing.consistent, true);
      assert.equal(listing.versions.find((x) => x.version === good)?.stage, 'Production');
      assert.equal(listing.versions.find((x) => x.version === v)?.test, 'failed');
      const hist = await runBuiltCli(['model', 'history'], dir, env);
      assert.equal(hist.code, 0);
      assert.match(hist.stdout, /promote.*ci.*pipeline/);
      const none = await runBuiltCli(['model', 'test', '--version', '999', '--data', 'data/test.csv'], dir, env);
      assert.notEqual(none.code, 0);
      assert.doesNotMatch(none.stderr, /internal error|\n\s+at /);
    });
  });
}

governanceSuite('embedded SQLite', async (dir) => ({
  uri: `sqlite:///${join(dir, 'mlflow.db')}`,
  stop: async () => undefined,
}));

governanceSuite('carprice tracking serve', startTrackingServer);

describe('model test without a registry', () => {
  it('falls back to the local bundle when the tracking server does not answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carprice-gov-offline-'));
    try {
      const params = writeProject(dir, 'http://127.0.0.1:9');
      const { frame, y, schema } = fixtureFrame({ n: 600, seed: 5 });
      trainBundle(frame, y, schema, {
        ...trainingOptions(params, 'ridge'),
        metadata: {
          createdAt: '2026-01-01T00:00:00.000Z',
          training: { dataHash: 'x', rows: frame.nRows, source: 'fixture' },
          params: {},
          carpriceVersion: 'test',
        },
      }).save(join(dir, 'artifacts/model_trainer/model'));
      const r = await runBuiltCli(['model', 'test', '--data', 'data/test.csv', '--json'], dir, {
        MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
      });
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.model.source, 'local');
      assert.match(r.stderr, /no registry answered/);
      assert.ok(existsSync(join(dir, 'out/model_test/local-bundle/report.json')));
      assert.equal(
        JSON.parse(readFileSync(join(dir, 'out/model_test/local-bundle/model_card.json'), 'utf8')).kind,
        'carprice-model-card',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
