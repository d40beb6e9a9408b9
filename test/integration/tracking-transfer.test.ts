/**
 * `carprice tracking export` / `import`: a populated SQLite store (nested runs, metric
 * histories, datasets, artifacts, deleted objects, a registry with a deleted version,
 * stages, aliases and a logged model) moves to a dump, from the dump into another store,
 * straight into a real PostgreSQL and into a running `carprice tracking serve`; the
 * destination shows the same things (ids aside), a second import changes nothing, and an
 * interrupted import or export resumes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openStore, type ResolvedTracking } from '../../src/tracking/resolve-store.js';
import type { Run } from '../../src/tracking/entities.js';
import { listTree } from '../../src/tracking/artifacts/resolve-artifact-repository.js';
import { dumpSource, storeSource, type TransferSource } from '../../src/tracking/transfer/source.js';
import { exportTracking } from '../../src/tracking/transfer/export-tracking.js';
import { IMPORT_TAGS, importTracking } from '../../src/tracking/transfer/import-tracking.js';
import { serveTracking } from '../../src/tracking/server/serve-tracking.js';
import { runBuiltCli } from '../helpers/built-cli.js';
import { startPostgres } from '../helpers/postgres-cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'carprice-transfer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = {};
const open = (uri: string): ResolvedTracking => openStore(uri, { env, cwd: dir });
const sqlite = (name: string) => `sqlite:///${join(dir, name)}`;

async function readAll(s: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

/** A source store with everything a transfer must carry. */
async function populate(uri: string): Promise<void> {
  const t = open(uri);
  const s = t.store;
  const exp = await s.createExperiment('car-prices', undefined, [{ key: 'team', value: 'pricing' }]);
  const gone = await s.createExperiment('old-experiment');
  const parent = await s.createRun({ experimentId: exp, runName: 'tune', startTime: 1_000, userId: 'asha' });
  const pid = parent.info.runId;
  await s.logBatch(pid, { params: [{ key: 'grid', value: '27' }], tags: [{ key: 'note', value: 'grid search' }] });
  // A child that started before its parent: its link can only be made after the parent is imported.
  const early = await s.createRun({
    experimentId: exp,
    runName: 'early-child',
    startTime: 999,
    tags: [{ key: 'mlflow.parentRunId', value: pid }],
  });
  await s.updateRun(early.info.runId, { status: 'FINISHED', endTime: 1_001 });
  const children: string[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await s.createRun({
      experimentId: exp,
      runName: `trial-${i}`,
      startTime: 2_000 + i,
      userId: 'asha',
      tags: [{ key: 'mlflow.parentRunId', value: pid }],
    });
    children.push(c.info.runId);
    const params = Array.from({ length: 130 }, (_, k) => ({ key: `p${k}`, value: String(k * (i + 1)) }));
    await s.logBatch(c.info.runId, { params: params.slice(0, 100) });
    await s.logBatch(c.info.runId, { params: params.slice(100) });
    const loss = Array.from({ length: 1200 }, (_, step) => ({
      key: 'loss',
      value: 1 / (step + 1) + i,
      timestamp: 10_000 + step,
      step,
    }));
    await s.logBatch(c.info.runId, { metrics: loss.slice(0, 1000) });
    await s.logBatch(c.info.runId, { metrics: loss.slice(1000) });
    await s.logMetric(c.info.runId, { key: 'r2', value: 0.9 + i / 100, timestamp: 20_000, step: 0 });
    await s.logMetric(c.info.runId, { key: 'nan_metric', value: Number.NaN, timestamp: 20_001, step: 0 });
    await s.logInputs(c.info.runId, [
      {
        dataset: { name: 'cars24', digest: 'abc123', sourceType: 'local', source: '{"uri":"data/cars24_v3.xlsx"}' },
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
      },
    ]);
    const repo = t.artifacts.repositoryFor(c.info.artifactUri);
    await repo.write('model/bundle.json', Buffer.from(JSON.stringify({ trial: i })));
    await repo.write('model/nested/weights.bin', Buffer.from([0, 1, 2, 255, i]));
    await repo.write('report.md', Buffer.from(`# trial ${i}\n`));
    await s.updateRun(c.info.runId, { status: i === 2 ? 'FAILED' : 'FINISHED', endTime: 3_000 + i });
  }
  await s.updateRun(pid, { status: 'FINISHED', endTime: 5_000 });
  const deletedRun = await s.createRun({ experimentId: exp, runName: 'mistake', startTime: 6_000 });
  await s.updateRun(deletedRun.info.runId, { status: 'KILLED', endTime: 6_001 });
  await s.deleteRun(deletedRun.info.runId);
  const oldRun = await s.createRun({ experimentId: gone, runName: 'ancient', startTime: 500 });
  await s.updateRun(oldRun.info.runId, { status: 'FINISHED', endTime: 600 });
  await s.deleteExperiment(gone);

  const lm = await s.createLoggedModel({
    experimentId: exp,
    name: 'gbdt-model',
    modelType: 'carprice-bundle',
    sourceRunId: children[1],
    params: [{ key: 'algo', value: 'gbdt' }],
    tags: [{ key: 'flavor', value: 'carprice' }],
  });
  await t.artifacts.repositoryFor(lm.artifactLocation).write('MLmodel', Buffer.from('flavors: {}\n'));
  await s.logOutputs(children[1]!, [{ modelId: lm.modelId, step: 0 }]);
  await s.finalizeLoggedModel(lm.modelId, 'LOGGED_MODEL_READY');

  await s.createRegisteredModel('UsedCarPriceModel', [{ key: 'owner', value: 'pricing' }], 'price of a used car');
  const source = (id: string) => `runs:/${id}/model`;
  await s.createModelVersion({ name: 'UsedCarPriceModel', source: source(children[0]!), runId: children[0] });
  await s.createModelVersion({ name: 'UsedCarPriceModel', source: source(children[2]!), runId: children[2] });
  const c1 = await s.getRun(children[1]!);
  await s.createModelVersion({
    name: 'UsedCarPriceModel',
    source: `${c1.info.artifactUri}/model`,
    runId: children[1],
    description: 'the champion',
    tags: [{ key: 'model_test', value: 'passed' }],
  });
  await s.createModelVersion({
    name: 'UsedCarPriceModel',
    source: `models:/${lm.modelId}`,
    runId: children[1],
    modelId: lm.modelId,
  });
  await s.deleteModelVersion('UsedCarPriceModel', '2');
  await s.transitionModelVersionStage('UsedCarPriceModel', '1', 'Archived', false);
  await s.transitionModelVersionStage('UsedCarPriceModel', '3', 'Production', false);
  await s.transitionModelVersionStage('UsedCarPriceModel', '4', 'Staging', false);
  await s.setRegisteredModelAlias('UsedCarPriceModel', 'champion', '3');
  await s.setRegisteredModelAlias('UsedCarPriceModel', 'challenger', '4');
  await s.createRegisteredModel('EmptyModel');
  await t.close();
}

/** What a user sees in a store, without the ids the destination assigns. */
let leftovers = 0;
async function view(uri: string): Promise<unknown> {
  leftovers = 0;
  const t = open(uri);
  const src = storeSource(t);
  const exps = (await src.experiments()).filter((e) => e.name !== 'Default' || true);
  const runName = new Map<string, string>();
  const runsOut: Record<string, unknown> = {};
  const all: Run[] = [];
  for (const e of exps)
    for await (const r of src.runs(e.experimentId))
      (all.push(r.run), runName.set(r.run.info.runId, r.run.info.runName));
  for (const e of exps) {
    for await (const { run, history } of src.runs(e.experimentId)) {
      const tag = (k: string) => run.data.tags.find((x) => x.key === k)?.value;
      if (tag(IMPORT_TAGS.sourceRun) && tag(IMPORT_TAGS.complete) !== 'true' && run.info.lifecycleStage === 'deleted') {
        leftovers++; // a half-imported run an interrupted import left deleted (MLflow's gc purges it)
        continue;
      }
      const repo = src.runArtifacts(run)!;
      const files: Record<string, string> = {};
      for (const f of await listTree(repo, '')) files[f] = await readAll(await repo.read(f));
      runsOut[`${e.name}/${run.info.runName}`] = {
        status: run.info.status,
        start: run.info.startTime,
        end: run.info.endTime,
        user: run.info.userId,
        stage: run.info.lifecycleStage,
        params: [...run.data.params].sort((a, b) => a.key.localeCompare(b.key)),
        tags: run.data.tags
          .filter((x) => !x.key.startsWith('carprice.import.'))
          .map((x) => (x.key === 'mlflow.parentRunId' ? { key: x.key, value: runName.get(x.value) } : x))
          .sort((a, b) => a.key.localeCompare(b.key)),
        history: history
          .map((m) => [m.key, m.step, m.timestamp, Number.isNaN(m.value) ? 'NaN' : m.value])
          .sort((a, b) => String(a).localeCompare(String(b))),
        datasets: run.inputs.datasetInputs.map((d) => ({ ...d.dataset, tags: d.tags })),
        outputs: (run.outputs?.modelOutputs ?? []).length,
        files,
      };
    }
  }
  const models: Record<string, unknown> = {};
  for await (const { model, versions } of src.registeredModels()) {
    models[model.name] = {
      description: model.description ?? '',
      tags: model.tags,
      aliases: [...model.aliases].sort((a, b) => a.alias.localeCompare(b.alias)),
      versions: versions.map((v) => ({
        version: v.version,
        stage: v.currentStage,
        description: v.description ?? '',
        tags: v.tags.filter((x) => !x.key.startsWith('carprice.import.')),
        source: v.source.startsWith('runs:/')
          ? `runs:/${runName.get(v.source.split('/')[1]!)}/model`
          : v.source.startsWith('models:/')
            ? 'models:/<logged model>'
            : v.runId && v.source.startsWith(all.find((r) => r.info.runId === v.runId)!.info.artifactUri)
              ? `<artifacts of ${runName.get(v.runId)}>${v.source.slice(all.find((r) => r.info.runId === v.runId)!.info.artifactUri.length)}`
              : v.source,
        run: v.runId ? runName.get(v.runId) : undefined,
      })),
    };
  }
  const loggedModels: unknown[] = [];
  for (const e of exps)
    for await (const m of src.loggedModels(e.experimentId))
      loggedModels.push({
        name: m.name,
        type: m.modelType,
        status: m.status,
        run: m.sourceRunId ? runName.get(m.sourceRunId) : undefined,
        params: m.params,
        tags: m.tags.filter((x) => !x.key.startsWith('carprice.import.')),
        files: await listTree(src.loggedModelArtifacts(m)!, ''),
      });
  await t.close();
  return {
    experiments: exps.map((e) => ({ name: e.name, stage: e.lifecycleStage, tags: e.tags })),
    runs: runsOut,
    models,
    loggedModels,
  };
}

const SRC = sqlite('source/mlflow.db');
let expected: unknown;
before(async () => {
  mkdirSync(join(dir, 'source'), { recursive: true });
  await populate(SRC);
  expected = await view(SRC);
});

describe('tracking export / import', () => {
  it('exports a store to a dump and imports the dump into a new store with everything a user sees', async () => {
    const src = open(SRC);
    const dump = join(dir, 'dump');
    const r = await exportTracking(storeSource(src), dump);
    await src.close();
    assert.equal(r.runs, 7);
    assert.ok(existsSync(join(dump, 'manifest.json')));
    const dst = open(sqlite('copy/mlflow.db'));
    const rep = await importTracking(dumpSource(dump), dst);
    await dst.close();
    assert.equal(rep.runsImported, 7);
    assert.equal(rep.metricPoints, 3 * 1202);
    assert.deepEqual(rep.renumbered, []);
    assert.deepEqual(await view(sqlite('copy/mlflow.db')), expected);
  });

  it('a second import changes nothing and says it skipped everything', async () => {
    const dst = open(sqlite('copy/mlflow.db'));
    const rep = await importTracking(dumpSource(join(dir, 'dump')), dst);
    await dst.close();
    assert.equal(rep.runsImported, 0);
    assert.equal(rep.runsSkipped, 7);
    assert.equal(rep.versionsImported, 0);
    assert.equal(rep.versionsSkipped, 3);
    assert.equal(rep.loggedModelsImported, 0);
    assert.deepEqual(await view(sqlite('copy/mlflow.db')), expected);
  });

  it('an import interrupted inside a run resumes: the half-imported run is imported again, nothing twice', async () => {
    const target = sqlite('resume/mlflow.db');
    const ac = new AbortController();
    const src = open(SRC);
    const base = storeSource(src);
    let reads = 0;
    // Abort while the second run with artifacts is being copied (after its first file).
    const interrupting: TransferSource = {
      ...base,
      runArtifacts(run) {
        const repo = base.runArtifacts(run)!;
        return {
          ...repo,
          rootUri: repo.rootUri,
          list: (p: string) => repo.list(p),
          write: (p: string, b: Readable | Buffer) => repo.write(p, b),
          delete: (p: string) => repo.delete(p),
          read: async (p: string) => {
            if (++reads === 4) ac.abort();
            return repo.read(p);
          },
        };
      },
    };
    const dst = open(target);
    await assert.rejects(importTracking(interrupting, dst, { signal: ac.signal }), { code: 'INTERRUPTED' });
    const rep = await importTracking(base, dst);
    await dst.close();
    await src.close();
    assert.equal(rep.runsRedone, 2, 'trial-1 (cut off) and early-child (its parent link was pending)');
    assert.deepEqual(await view(target), expected);
    assert.equal(leftovers, 2, 'the two half-imported runs stay deleted, not active duplicates');
    assert.equal(rep.runsSkipped, 2, 'the runs finished before the interruption (tune, trial-0) are kept');
    assert.deepEqual(await view(target), expected);
  });

  it('an interrupted export is not taken for a dump, and the next export completes it', async () => {
    const dump = join(dir, 'dump-resume');
    const src = open(SRC);
    const ac = new AbortController();
    await assert.rejects(
      exportTracking(storeSource(src), dump, {
        signal: ac.signal,
        onProgress: (p) => p.done === 2 && ac.abort(),
      }),
      { code: 'INTERRUPTED' },
    );
    assert.throws(() => dumpSource(dump), /not a complete tracking dump.*resumes/);
    const r = await exportTracking(storeSource(src), dump);
    await src.close();
    assert.equal(r.runsSkipped, 2);
    assert.equal(r.runs, 5);
    const dst = open(sqlite('from-resumed/mlflow.db'));
    await importTracking(dumpSource(dump), dst);
    await dst.close();
    assert.deepEqual(await view(sqlite('from-resumed/mlflow.db')), expected);
  });

  it('export refuses a directory that holds something else', async () => {
    const other = join(dir, 'not-a-dump');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'thesis.tex'), 'keep');
    const src = open(SRC);
    await assert.rejects(exportTracking(storeSource(src), other), /not a tracking dump \(it holds thesis\.tex\)/);
    await src.close();
  });

  it('CLI: SQLite straight into a running carprice tracking serve (an MLflow server), then again: idempotent', async () => {
    const server = await serveTracking({
      host: '127.0.0.1',
      port: 0,
      backendStoreUri: sqlite('server/mlflow.db'),
      env: {},
      cwd: dir,
    });
    try {
      const first = await runBuiltCli(['tracking', 'import', '--from', SRC, '--tracking-uri', server.url], dir);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /7 runs \(0 already imported/);
      const again = await runBuiltCli(
        ['tracking', 'import', '--from', SRC, '--tracking-uri', server.url, '--json'],
        dir,
      );
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).runsSkipped, 7);
      assert.deepEqual(await view(server.url), expected);
    } finally {
      await server.close();
    }
  });

  it('CLI: clear errors for a missing --from, a missing dump and the same store twice', async () => {
    const none = await runBuiltCli(['tracking', 'import'], dir);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /needs --from DIR/);
    const missing = await runBuiltCli(
      ['tracking', 'import', '--from', 'nowhere', '--tracking-uri', sqlite('x.db')],
      dir,
    );
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no tracking dump at .*nowhere; write one with carprice tracking export/);
    const same = await runBuiltCli(['tracking', 'import', '--from', SRC, '--tracking-uri', SRC], dir);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /same store/);
    const noOut = await runBuiltCli(['tracking', 'export'], dir);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /needs --out DIR/);
  });
});

describe('tracking import into PostgreSQL', async () => {
  const cluster = await startPostgres();
  if (typeof cluster === 'string') {
    it('SQLite -> PostgreSQL', { skip: cluster }, () => {});
    return;
  }
  after(() => cluster.stop());
  it('SQLite -> PostgreSQL -> SQLite through the CLI keeps everything a user sees', async () => {
    const db = await cluster.newDatabase();
    const pgUri = db.uri;
    const toPg = await runBuiltCli(['tracking', 'import', '--from', SRC, '--tracking-uri', pgUri], dir);
    assert.equal(toPg.code, 0, toPg.stderr);
    assert.deepEqual(await view(pgUri), expected);
    const back = await runBuiltCli(['tracking', 'export', '--tracking-uri', pgUri, '--out', 'pg-dump'], dir);
    assert.equal(back.code, 0, back.stderr);
    const home = await runBuiltCli(
      ['tracking', 'import', '--from', 'pg-dump', '--tracking-uri', sqlite('back/mlflow.db')],
      dir,
    );
    assert.equal(home.code, 0, home.stderr);
    assert.deepEqual(await view(sqlite('back/mlflow.db')), expected);
  });
});
