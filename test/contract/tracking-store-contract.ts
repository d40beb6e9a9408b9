/**
 * The tracking store contract: one suite every TrackingStore implementation must pass
 * (SqliteTrackingStore directly; RestTrackingStore talking over real HTTP to
 * buildTrackingServer). Expected values come from the MLflow reference behaviour in
 * ../shared/reference/mlflow-rest-api.md (§2-5 and the §8 conformance scenarios), so both
 * backends must fail with the same error codes on the same inputs.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError, type ErrorCode } from '../../src/core/errors.js';
import type { TrackingStore } from '../../src/tracking/store.js';
import type { Run } from '../../src/tracking/entities.js';

/** What a factory hands the suite: a fresh, empty store and how to dispose of it. */
export interface StoreUnderTest {
  store: TrackingStore;
  cleanup(): Promise<void>;
}

/** Expect `p` to reject with an AppError of `code` (and optionally a message fragment). */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode, fragment?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isAppError(e), `expected AppError(${code}), got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (fragment) assert.ok(e.message.includes(fragment), `message "${e.message}" lacks "${fragment}"`);
    return true;
  });
}

function tag(run: Run, key: string): string | undefined {
  return run.data.tags.find((t) => t.key === key)?.value;
}

/** Register the whole contract suite for one implementation. */
export function trackingStoreContract(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`TrackingStore contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: TrackingStore;
    before(async () => {
      sut = await factory();
      store = sut.store;
    });
    after(async () => {
      await sut.cleanup();
    });

    describe('experiments', () => {
      it('creates and gets an experiment (scenario 1)', async () => {
        const id = await store.createExperiment('e1');
        assert.equal(typeof id, 'string');
        const e = await store.getExperiment(id);
        assert.equal(e.name, 'e1');
        assert.equal(e.lifecycleStage, 'active');
        assert.ok(e.artifactLocation.length > 0);
        assert.ok(e.artifactLocation.endsWith(`/${id}`));
        assert.equal(typeof e.creationTime, 'number');
        assert.deepEqual((await store.getExperimentByName('e1')).experimentId, id);
      });

      it('rejects a duplicate name with RESOURCE_ALREADY_EXISTS (scenario 2)', async () => {
        await rejectsWith(store.createExperiment('e1'), 'RESOURCE_ALREADY_EXISTS');
      });

      it('rejects empty and too-long names (scenarios 3-4)', async () => {
        await rejectsWith(store.createExperiment(''), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.createExperiment('x'.repeat(501)), 'INVALID_PARAMETER_VALUE');
        const id = await store.createExperiment('y'.repeat(500));
        assert.equal((await store.getExperiment(id)).name.length, 500);
      });

      it('rejects artifact locations with runs:/ or fragments', async () => {
        await rejectsWith(store.createExperiment('bad-loc', 'runs:/abc/x'), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.createExperiment('bad-loc', '/tmp/a#b'), 'INVALID_PARAMETER_VALUE');
      });

      it('answers unknown ids and names with RESOURCE_DOES_NOT_EXIST (scenario 5)', async () => {
        await rejectsWith(store.getExperimentByName('nope'), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(store.getExperiment('987654'), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(store.getExperiment('abc'), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('soft-deletes and restores (scenarios 6-7)', async () => {
        const id = await store.createExperiment('to-delete');
        await store.deleteExperiment(id);
        assert.equal((await store.getExperiment(id)).lifecycleStage, 'deleted');
        const active = await store.searchExperiments({ maxResults: 1000 });
        assert.ok(!active.items.some((e) => e.experimentId === id));
        const deleted = await store.searchExperiments({ maxResults: 1000, viewType: 'DELETED_ONLY' });
        assert.ok(deleted.items.some((e) => e.experimentId === id));
        assert.ok(deleted.items.every((e) => e.lifecycleStage === 'deleted'));
        await rejectsWith(store.createExperiment('to-delete'), 'RESOURCE_ALREADY_EXISTS');
        await rejectsWith(store.deleteExperiment(id), 'RESOURCE_DOES_NOT_EXIST');
        await store.restoreExperiment(id);
        assert.equal((await store.getExperiment(id)).lifecycleStage, 'active');
        await rejectsWith(store.restoreExperiment(id), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('deleting an experiment deletes its runs and refuses new ones (scenario 8)', async () => {
        const id = await store.createExperiment('with-runs');
        const run = await store.createRun({ experimentId: id });
        await store.deleteExperiment(id);
        assert.equal((await store.getRun(run.info.runId)).info.lifecycleStage, 'deleted');
        await rejectsWith(store.createRun({ experimentId: id }), 'INVALID_PARAMETER_VALUE');
        await store.restoreExperiment(id);
        assert.equal((await store.getRun(run.info.runId)).info.lifecycleStage, 'active');
        await rejectsWith(store.createRun({ experimentId: '424242' }), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('renames, refusing taken names and deleted experiments (scenario 9)', async () => {
        const id = await store.createExperiment('old-name');
        await store.renameExperiment(id, 'new-name');
        assert.equal((await store.getExperiment(id)).name, 'new-name');
        await rejectsWith(store.renameExperiment(id, 'e1'), 'RESOURCE_ALREADY_EXISTS');
        await store.deleteExperiment(id);
        await rejectsWith(store.renameExperiment(id, 'newer'), 'INVALID_STATE', 'non-active');
      });

      it('sets and deletes experiment tags, with limits', async () => {
        const id = await store.createExperiment('tagged', undefined, [{ key: 'team', value: 'pricing' }]);
        await store.setExperimentTag(id, 'stage', 'dev');
        await store.setExperimentTag(id, 'stage', 'prod');
        const e = await store.getExperiment(id);
        assert.deepEqual(
          e.tags.map((t) => `${t.key}=${t.value}`),
          ['stage=prod', 'team=pricing'],
        );
        await store.deleteExperimentTag(id, 'stage');
        assert.deepEqual((await store.getExperiment(id)).tags, [{ key: 'team', value: 'pricing' }]);
        await rejectsWith(store.deleteExperimentTag(id, 'stage'), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(store.setExperimentTag(id, 'big', 'v'.repeat(5001)), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.setExperimentTag(id, '../x', 'v'), 'INVALID_PARAMETER_VALUE');
      });

      it('searches with filter, order_by and page tokens', async () => {
        for (const n of ['s-c', 's-a', 's-b', 's-e', 's-d'])
          await store.createExperiment(n, undefined, [{ key: 'grp', value: n < 's-c' ? 'lo' : 'hi' }]);
        const byName = await store.searchExperiments({
          filter: "name LIKE 's-%'",
          orderBy: ['name ASC'],
          maxResults: 1000,
        });
        assert.deepEqual(
          byName.items.map((e) => e.name),
          ['s-a', 's-b', 's-c', 's-d', 's-e'],
        );
        assert.equal(byName.nextPageToken, undefined);
        const desc = await store.searchExperiments({
          filter: "name LIKE 's-%'",
          orderBy: ['name DESC'],
          maxResults: 1000,
        });
        assert.equal(desc.items[0].name, 's-e');
        const names: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const p = await store.searchExperiments({
            filter: "name LIKE 's-%'",
            orderBy: ['name'],
            maxResults: 2,
            pageToken: token,
          });
          names.push(...p.items.map((e) => e.name));
          token = p.nextPageToken;
          pages++;
        } while (token);
        assert.equal(pages, 3);
        assert.deepEqual(names, ['s-a', 's-b', 's-c', 's-d', 's-e']);
        const tagged = await store.searchExperiments({ filter: "tags.grp = 'lo' AND name != 's-a'", maxResults: 1000 });
        assert.deepEqual(
          tagged.items.map((e) => e.name),
          ['s-b'],
        );
        // LIKE is case-sensitive, ILIKE is not.
        assert.equal((await store.searchExperiments({ filter: "name LIKE 'S-%'", maxResults: 1000 })).items.length, 0);
        assert.equal((await store.searchExperiments({ filter: "name ILIKE 'S-%'", maxResults: 1000 })).items.length, 5);
      });

      it('rejects bad searches with INVALID_PARAMETER_VALUE', async () => {
        await rejectsWith(
          store.searchExperiments({ filter: "name = 'a' OR name = 'b'", maxResults: 10 }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(store.searchExperiments({ filter: 'name = abc', maxResults: 10 }), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(
          store.searchExperiments({ filter: 'metrics.x > 1', maxResults: 10 }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(store.searchExperiments({ orderBy: ['color'], maxResults: 10 }), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.searchExperiments({ maxResults: 50001 }), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.searchExperiments({ maxResults: 0 }), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(
          store.searchExperiments({ maxResults: 10, pageToken: 'not-a-token' }),
          'INVALID_PARAMETER_VALUE',
        );
      });
    });

    describe('runs', () => {
      let exp: string;
      before(async () => {
        exp = await store.createExperiment('runs-exp');
      });

      it('puts runs without experiment in the Default experiment "0" (scenario 10)', async () => {
        const run = await store.createRun({});
        assert.equal(run.info.experimentId, '0');
        assert.equal((await store.getExperiment('0')).name, 'Default');
      });

      it('creates runs with MLflow shape (scenario 11)', async () => {
        const run = await store.createRun({ experimentId: exp, startTime: 1 });
        assert.equal(run.info.status, 'RUNNING');
        assert.equal(run.info.lifecycleStage, 'active');
        assert.match(run.info.runId, /^[0-9a-f]{32}$/);
        assert.equal(run.info.startTime, 1);
        assert.ok(run.info.runName.length > 0);
        assert.equal(tag(run, 'mlflow.runName'), run.info.runName);
        assert.ok(run.info.artifactUri.endsWith(`/${run.info.runId}/artifacts`));
        assert.equal(run.info.endTime, undefined);
      });

      it('takes the name from run_name or the mlflow.runName tag, and refuses a conflict (scenario 12)', async () => {
        const a = await store.createRun({ experimentId: exp, runName: 'named' });
        assert.equal(a.info.runName, 'named');
        const b = await store.createRun({ experimentId: exp, tags: [{ key: 'mlflow.runName', value: 'from-tag' }] });
        assert.equal(b.info.runName, 'from-tag');
        await rejectsWith(
          store.createRun({ experimentId: exp, runName: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] }),
          'INVALID_PARAMETER_VALUE',
        );
      });

      it('answers an unknown run with RESOURCE_DOES_NOT_EXIST (scenario 13)', async () => {
        await rejectsWith(store.getRun('0'.repeat(32)), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(
          store.logMetric('0'.repeat(32), { key: 'm', value: 1, timestamp: 1, step: 0 }),
          'RESOURCE_DOES_NOT_EXIST',
        );
      });

      it('keeps params immutable (scenario 14)', async () => {
        const run = await store.createRun({ experimentId: exp });
        const id = run.info.runId;
        await store.logParam(id, { key: 'lr', value: '0.1' });
        await store.logParam(id, { key: 'lr', value: '0.1' });
        await rejectsWith(
          store.logParam(id, { key: 'lr', value: '0.2' }),
          'INVALID_PARAMETER_VALUE',
          'Changing param values is not allowed',
        );
        await rejectsWith(
          store.logBatch(id, { params: [{ key: 'lr', value: '0.3' }] }),
          'INVALID_PARAMETER_VALUE',
          'Changing param values is not allowed',
        );
        assert.deepEqual((await store.getRun(id)).data.params, [{ key: 'lr', value: '0.1' }]);
      });

      it('enforces log-batch rules (scenarios 15-16)', async () => {
        const id = (await store.createRun({ experimentId: exp })).info.runId;
        const m = (i: number) => ({ key: `m${i % 7}`, value: i, timestamp: 1000 + i, step: i });
        const p = (i: number) => ({ key: `p${i}`, value: String(i) });
        await rejectsWith(
          store.logBatch(id, {
            params: [
              { key: 'a', value: '1' },
              { key: 'a', value: '1' },
            ],
          }),
          'INVALID_PARAMETER_VALUE',
          'Duplicate parameter keys',
        );
        await rejectsWith(
          store.logBatch(id, { metrics: Array.from({ length: 1001 }, (_, i) => m(i)) }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(
          store.logBatch(id, { params: Array.from({ length: 101 }, (_, i) => p(i)) }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(
          store.logBatch(id, { tags: Array.from({ length: 101 }, (_, i) => p(i)) }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(
          store.logBatch(id, {
            metrics: Array.from({ length: 900 }, (_, i) => m(i)),
            params: Array.from({ length: 50 }, (_, i) => p(i)),
            tags: Array.from({ length: 51 }, (_, i) => p(i)),
          }),
          'INVALID_PARAMETER_VALUE',
        );
        // Nothing of a rejected batch was written.
        assert.equal((await store.getRun(id)).data.metrics.length, 0);
        await store.logBatch(id, {
          metrics: Array.from({ length: 900 }, (_, i) => m(i)),
          params: Array.from({ length: 50 }, (_, i) => p(i)),
          tags: Array.from({ length: 50 }, (_, i) => p(i)),
        });
        const run = await store.getRun(id);
        assert.equal(run.data.params.length, 50);
        assert.equal(run.data.metrics.length, 7);
        // m0 latest: the largest step among i with i%7==0 and i<900 is 896.
        assert.deepEqual(
          run.data.metrics.find((x) => x.key === 'm0'),
          { key: 'm0', value: 896, timestamp: 1896, step: 896 },
        );
        assert.equal((await store.getMetricHistory(id, 'm3')).items.length, 129);
      });

      it('validates metric fields and keys (scenarios 17-18)', async () => {
        const id = (await store.createRun({ experimentId: exp })).info.runId;
        await rejectsWith(
          store.logMetric(id, { key: '../x', value: 1, timestamp: 1, step: 0 }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(
          store.logMetric(id, { key: 'a*b', value: 1, timestamp: 1, step: 0 }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(
          store.logMetric(id, { key: 'k'.repeat(251), value: 1, timestamp: 1, step: 0 }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(
          store.logMetric(id, { key: 'a//b', value: 1, timestamp: 1, step: 0 }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(
          store.logMetric(id, { key: 'neg', value: 1, timestamp: -1, step: 0 }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(store.logParam(id, { key: '/abs', value: '1' }), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.setTag(id, 'a/', 'x'), 'INVALID_PARAMETER_VALUE');
        await store.logMetric(id, { key: 'a/b c.d-e_f:g', value: 1, timestamp: 1, step: 0 });
        await store.logMetric(id, { key: 'k'.repeat(250), value: 1, timestamp: 1, step: 0 });
        assert.equal((await store.getRun(id)).data.metrics.length, 2);
      });

      it('reports the latest metric by (step, timestamp, value) and keeps history (scenarios 19-20)', async () => {
        const id = (await store.createRun({ experimentId: exp })).info.runId;
        await store.logMetric(id, { key: 'm', value: 1, timestamp: 100, step: 2 });
        await store.logMetric(id, { key: 'm', value: 5, timestamp: 200, step: 1 });
        await store.logMetric(id, { key: 'm', value: 5, timestamp: 200, step: 1 }); // exact duplicate: deduped
        assert.deepEqual((await store.getRun(id)).data.metrics, [{ key: 'm', value: 1, timestamp: 100, step: 2 }]);
        const all = await store.getMetricHistory(id, 'm');
        assert.deepEqual(
          all.items.map((x) => [x.timestamp, x.step, x.value]),
          [
            [100, 2, 1],
            [200, 1, 5],
          ],
        );
        await store.logMetric(id, { key: 'm', value: 7, timestamp: 300, step: 0 });
        const p1 = await store.getMetricHistory(id, 'm', { maxResults: 2 });
        assert.equal(p1.items.length, 2);
        assert.ok(p1.nextPageToken);
        const p2 = await store.getMetricHistory(id, 'm', { maxResults: 2, pageToken: p1.nextPageToken });
        assert.deepEqual(
          p2.items.map((x) => x.value),
          [7],
        );
        assert.equal(p2.nextPageToken, undefined);
        assert.deepEqual((await store.getMetricHistory(id, 'unknown')).items, []);
        await rejectsWith(store.getMetricHistory('f'.repeat(32), 'm'), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('round-trips NaN and infinities', async () => {
        const id = (await store.createRun({ experimentId: exp })).info.runId;
        await store.logBatch(id, {
          metrics: [
            { key: 'nan', value: NaN, timestamp: 1, step: 0 },
            { key: 'pinf', value: Infinity, timestamp: 1, step: 0 },
            { key: 'ninf', value: -Infinity, timestamp: 1, step: 0 },
          ],
        });
        const ms = Object.fromEntries((await store.getRun(id)).data.metrics.map((m) => [m.key, m.value]));
        assert.ok(Number.isNaN(ms.nan));
        assert.equal(ms.pinf, Infinity);
        assert.equal(ms.ninf, -Infinity);
      });

      it('sets, overwrites and deletes tags; mlflow.runName renames the run', async () => {
        const id = (await store.createRun({ experimentId: exp, runName: 'before' })).info.runId;
        await store.setTag(id, 'k', 'v1');
        await store.setTag(id, 'k', 'v2');
        await store.setTag(id, 'mlflow.runName', 'after');
        const run = await store.getRun(id);
        assert.equal(tag(run, 'k'), 'v2');
        assert.equal(run.info.runName, 'after');
        await store.deleteTag(id, 'k');
        assert.equal(tag(await store.getRun(id), 'k'), undefined);
        await rejectsWith(store.deleteTag(id, 'k'), 'RESOURCE_DOES_NOT_EXIST');
        // Long param and tag values are truncated, as MLflow does by default.
        await store.setTag(id, 'long', 'x'.repeat(9000));
        assert.equal(tag(await store.getRun(id), 'long')?.length, 8000);
      });

      it('updates, deletes and restores runs; a deleted run refuses writes', async () => {
        const id = (await store.createRun({ experimentId: exp, startTime: 10 })).info.runId;
        const info = await store.updateRun(id, { status: 'FINISHED', endTime: 20, runName: 'renamed' });
        assert.equal(info.status, 'FINISHED');
        assert.equal(info.endTime, 20);
        assert.equal(info.runName, 'renamed');
        assert.equal(tag(await store.getRun(id), 'mlflow.runName'), 'renamed');
        await store.deleteRun(id);
        const deleted = await store.getRun(id);
        assert.equal(deleted.info.lifecycleStage, 'deleted');
        await rejectsWith(
          store.logMetric(id, { key: 'm', value: 1, timestamp: 1, step: 0 }),
          'INVALID_PARAMETER_VALUE',
          "must be in the 'active' state",
        );
        await rejectsWith(store.updateRun(id, { status: 'FAILED' }), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.setTag(id, 'a', 'b'), 'INVALID_PARAMETER_VALUE');
        await store.restoreRun(id);
        await store.logMetric(id, { key: 'm', value: 1, timestamp: 1, step: 0 });
        await rejectsWith(store.deleteRun('e'.repeat(32)), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('records dataset inputs and logged-model history', async () => {
        const id = (await store.createRun({ experimentId: exp })).info.runId;
        await store.logInputs(id, [
          {
            dataset: { name: 'cars', digest: 'abc123', sourceType: 'local', source: 'data/train.csv' },
            tags: [{ key: 'mlflow.data.context', value: 'training' }],
          },
        ]);
        const run = await store.getRun(id);
        assert.equal(run.inputs.datasetInputs.length, 1);
        assert.equal(run.inputs.datasetInputs[0].dataset.digest, 'abc123');
        assert.deepEqual(run.inputs.datasetInputs[0].tags, [{ key: 'mlflow.data.context', value: 'training' }]);
        const model = {
          artifact_path: 'model',
          flavors: { carprice: {} },
          utc_time_created: '2025-01-01 00:00:00.000000',
          run_id: id,
        };
        await store.logModel(id, JSON.stringify(model));
        await store.logModel(id, JSON.stringify({ ...model, artifact_path: 'model2' }));
        const history = JSON.parse(tag(await store.getRun(id), 'mlflow.log-model.history') ?? '[]') as {
          artifact_path: string;
        }[];
        assert.deepEqual(
          history.map((h) => h.artifact_path),
          ['model', 'model2'],
        );
        await rejectsWith(store.logModel(id, '{not json'), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.logModel(id, JSON.stringify({ flavors: {} })), 'INVALID_PARAMETER_VALUE');
      });

      describe('search', () => {
        let sexp: string;
        const ids: Record<string, string> = {};
        before(async () => {
          sexp = await store.createExperiment('search-exp');
          const rows: [string, number | undefined, string, string, number][] = [
            // name, rmse, model, team, start
            ['r1', 3.5, 'ridge', 'a', 100],
            ['r2', 1.25, 'gbt', 'b', 200],
            ['r3', 2.0, 'ridge', 'a', 300],
            ['r4', undefined, 'forest', 'b', 400],
            ['r5', 0.5, 'gbt', 'a', 500],
          ];
          for (const [n, rmse, model, team, start] of rows) {
            const run = await store.createRun({
              experimentId: sexp,
              runName: n,
              startTime: start,
              tags: [{ key: 'team', value: team }],
            });
            ids[n] = run.info.runId;
            await store.logBatch(run.info.runId, {
              params: [{ key: 'model', value: model }],
              metrics: rmse === undefined ? [] : [{ key: 'rmse', value: rmse, timestamp: start, step: 0 }],
            });
          }
          await store.updateRun(ids.r2, { status: 'FINISHED', endTime: 250 });
          const child = await store.createRun({
            experimentId: sexp,
            runName: 'child',
            startTime: 50,
            tags: [{ key: 'mlflow.parentRunId', value: ids.r1 }],
          });
          ids.child = child.info.runId;
        });
        const names = (runs: Run[]) => runs.map((r) => r.info.runName);
        const search = async (filter?: string, orderBy?: string[]) =>
          names((await store.searchRuns({ experimentIds: [sexp], filter, orderBy })).items);

        it('orders by start_time DESC by default', async () => {
          assert.deepEqual(await search(), ['r5', 'r4', 'r3', 'r2', 'r1', 'child']);
        });
        it('filters on metrics, params, tags and attributes', async () => {
          assert.deepEqual(await search('metrics.rmse < 2'), ['r5', 'r2']);
          assert.deepEqual(await search('metrics.rmse <= 2'), ['r5', 'r3', 'r2']);
          assert.deepEqual(await search("params.model = 'ridge'"), ['r3', 'r1']);
          assert.deepEqual(await search("params.model != 'ridge'"), ['r5', 'r4', 'r2']);
          assert.deepEqual(await search("metrics.rmse > 1 and params.model = 'ridge'"), ['r3', 'r1']);
          assert.deepEqual(await search("tags.team = 'b'"), ['r4', 'r2']);
          assert.deepEqual(await search("params.model LIKE 'g%'"), ['r5', 'r2']);
          assert.deepEqual(await search("params.model LIKE 'G%'"), []);
          assert.deepEqual(await search("params.model ILIKE 'G%'"), ['r5', 'r2']);
          assert.deepEqual(await search("attributes.status = 'FINISHED'"), ['r2']);
          assert.deepEqual(await search("attributes.run_name = 'r4'"), ['r4']);
          assert.deepEqual(await search('attributes.start_time >= 300'), ['r5', 'r4', 'r3']);
          assert.deepEqual(await search(`attributes.run_id IN ('${ids.r1}', '${ids.r4}')`), ['r4', 'r1']);
          assert.deepEqual(await search(`tags.\`mlflow.parentRunId\` = '${ids.r1}'`), ['child']);
          assert.deepEqual(await search('metrics.missing > 0'), []);
        });
        it('orders by metrics with missing values last, in both directions', async () => {
          assert.deepEqual(await search("tags.team != 'zzz'", ['metrics.rmse ASC']), ['r5', 'r2', 'r3', 'r1', 'r4']);
          assert.deepEqual(await search("tags.team != 'zzz'", ['metrics.rmse DESC']), ['r1', 'r3', 'r2', 'r5', 'r4']);
          assert.deepEqual(await search(undefined, ['params.model', 'attributes.start_time ASC']), [
            'r4',
            'r2',
            'r5',
            'r1',
            'r3',
            'child',
          ]);
          assert.deepEqual(await search(undefined, ['attributes.run_name DESC']), [
            'r5',
            'r4',
            'r3',
            'r2',
            'r1',
            'child',
          ]);
        });
        it('orders by a metric with NaN after numbers and missing last, the same through every page size', async () => {
          const acc: [string, number][] = [
            ['r1', Number.NaN],
            ['r2', 0.9],
            ['r3', 0.9],
            ['r4', 0.1],
            ['r5', Number.NaN],
          ];
          for (const [n, value] of acc)
            await store.logBatch(ids[n], { metrics: [{ key: 'acc', value, timestamp: 1, step: 0 }] });
          const cases: [string[], string[]][] = [
            [['metrics.acc DESC'], ['r3', 'r2', 'r4', 'r5', 'r1', 'child']],
            [['metrics.acc ASC'], ['r4', 'r3', 'r2', 'r5', 'r1', 'child']],
            [
              ['metrics.acc DESC', 'attributes.start_time ASC'],
              ['r2', 'r3', 'r4', 'r1', 'r5', 'child'],
            ],
            [['params.model DESC'], ['r3', 'r1', 'r5', 'r2', 'r4', 'child']],
          ];
          for (const [orderBy, expected] of cases) {
            assert.deepEqual(await search(undefined, orderBy), expected, orderBy.join(', '));
            for (let size = 1; size <= expected.length + 1; size++) {
              const seen: string[] = [];
              let token: string | undefined;
              do {
                const p = await store.searchRuns({
                  experimentIds: [sexp],
                  orderBy,
                  maxResults: size,
                  pageToken: token,
                });
                seen.push(...names(p.items));
                token = p.nextPageToken;
              } while (token);
              assert.deepEqual(seen, expected, `${orderBy.join(', ')} in pages of ${size}`);
            }
          }
          assert.deepEqual(await search("params.model = 'gbt'", ['metrics.acc DESC']), ['r2', 'r5']);
          assert.deepEqual(await search('metrics.acc > 0', ['metrics.acc ASC']), ['r4', 'r3', 'r2']);
          const pinned = `attributes.run_id IN ('${ids.r1}', '${ids.r2}', '${ids.child}')`;
          assert.deepEqual(await search(pinned, ['metrics.acc DESC']), ['r2', 'r1', 'child']);
        });
        it('pages with tokens until there is none', async () => {
          const seen: string[] = [];
          let token: string | undefined;
          let pages = 0;
          do {
            const p = await store.searchRuns({ experimentIds: [sexp], maxResults: 2, pageToken: token });
            seen.push(...names(p.items));
            token = p.nextPageToken;
            pages++;
          } while (token && pages < 10);
          assert.deepEqual(seen, ['r5', 'r4', 'r3', 'r2', 'r1', 'child']);
        });
        it('honours view types', async () => {
          const temp = await store.createRun({ experimentId: sexp, runName: 'gone', startTime: 1 });
          await store.deleteRun(temp.info.runId);
          assert.ok(!(await search()).includes('gone'));
          const del = await store.searchRuns({ experimentIds: [sexp], viewType: 'DELETED_ONLY' });
          assert.deepEqual(names(del.items), ['gone']);
          const all = await store.searchRuns({ experimentIds: [sexp], viewType: 'ALL' });
          assert.equal(all.items.length, 7);
        });
        it('rejects bad filters, order_by, page tokens and limits', async () => {
          const bad = (filter?: string, orderBy?: string[]) =>
            store.searchRuns({ experimentIds: [sexp], filter, orderBy });
          await rejectsWith(bad("params.model = 'a' OR params.model = 'b'"), 'INVALID_PARAMETER_VALUE');
          await rejectsWith(bad('params.model = ridge'), 'INVALID_PARAMETER_VALUE');
          await rejectsWith(bad("metrics.rmse < 'abc'"), 'INVALID_PARAMETER_VALUE');
          await rejectsWith(bad("tags.team > 'a'"), 'INVALID_PARAMETER_VALUE');
          await rejectsWith(bad("attributes.color = 'red'"), 'INVALID_PARAMETER_VALUE');
          await rejectsWith(bad("foo.bar = 'x'"), 'INVALID_PARAMETER_VALUE');
          await rejectsWith(bad("attributes.status IN ('A')"), 'INVALID_PARAMETER_VALUE');
          await rejectsWith(bad(undefined, ['metrics.rmse SIDEWAYS']), 'INVALID_PARAMETER_VALUE');
          await rejectsWith(store.searchRuns({ experimentIds: [sexp], pageToken: '%%%' }), 'INVALID_PARAMETER_VALUE');
          await rejectsWith(store.searchRuns({ experimentIds: [sexp], maxResults: 50001 }), 'INVALID_PARAMETER_VALUE');
        });
      });
    });

    describe('model registry', () => {
      let runId: string;
      before(async () => {
        runId = (await store.createRun({ experimentId: '0', runName: 'trainer' })).info.runId;
      });
      const source = () => `runs:/${runId}/model`;

      it('creates, gets, refuses duplicates and answers unknown models with 404', async () => {
        const rm = await store.createRegisteredModel('CarPrice', [{ key: 'owner', value: 'ml' }], 'used-car prices');
        assert.equal(rm.name, 'CarPrice');
        assert.equal(rm.description, 'used-car prices');
        assert.deepEqual(rm.latestVersions, []);
        assert.deepEqual(rm.tags, [{ key: 'owner', value: 'ml' }]);
        await rejectsWith(store.createRegisteredModel('CarPrice'), 'RESOURCE_ALREADY_EXISTS', 'already exists');
        await rejectsWith(store.getRegisteredModel('Nope'), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(store.createRegisteredModel(''), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(
          store.createRegisteredModel('T', [{ key: 'k', value: 'v'.repeat(5001) }]),
          'INVALID_PARAMETER_VALUE',
        );
      });

      it('numbers versions from 1 and validates versions and sources', async () => {
        const v1 = await store.createModelVersion({ name: 'CarPrice', source: source(), runId, description: 'first' });
        assert.equal(v1.version, '1');
        assert.equal(v1.currentStage, 'None');
        assert.equal(v1.status, 'READY');
        assert.equal(v1.runId, runId);
        assert.equal(v1.description, 'first');
        const v2 = await store.createModelVersion({
          name: 'CarPrice',
          source: source(),
          runId,
          tags: [{ key: 'algo', value: 'gbt' }],
        });
        const v3 = await store.createModelVersion({ name: 'CarPrice', source: 's3://bucket/models/3' });
        assert.deepEqual([v2.version, v3.version], ['2', '3']);
        assert.deepEqual(v2.tags, [{ key: 'algo', value: 'gbt' }]);
        assert.equal((await store.getModelVersion('CarPrice', '2')).version, '2');
        await rejectsWith(store.getModelVersion('CarPrice', 'x'), 'INVALID_PARAMETER_VALUE', 'must be an integer');
        await rejectsWith(store.getModelVersion('CarPrice', '99'), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(store.createModelVersion({ name: 'Ghost', source: source() }), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(
          store.createModelVersion({ name: 'CarPrice', source: '/etc/passwd' }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(
          store.createModelVersion({ name: 'CarPrice', source: 's3://bucket/a/../../b' }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(
          store.createModelVersion({ name: 'CarPrice', source: 's3://bucket/a/%2E%2E/b' }),
          'INVALID_PARAMETER_VALUE',
        );
        assert.equal(await store.getModelVersionDownloadUri('CarPrice', '3'), 's3://bucket/models/3');
      });

      it('transitions stages, archiving existing versions on request', async () => {
        const p1 = await store.transitionModelVersionStage('CarPrice', '1', 'production', false);
        assert.equal(p1.currentStage, 'Production');
        await store.transitionModelVersionStage('CarPrice', '2', 'Staging', false);
        const p2 = await store.transitionModelVersionStage('CarPrice', '2', 'Production', true);
        assert.equal(p2.currentStage, 'Production');
        assert.equal((await store.getModelVersion('CarPrice', '1')).currentStage, 'Archived');
        await rejectsWith(
          store.transitionModelVersionStage('CarPrice', '2', 'Prod', false),
          'INVALID_PARAMETER_VALUE',
          'Invalid Model Version stage',
        );
        await rejectsWith(store.transitionModelVersionStage('CarPrice', '3', 'None', true), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(
          store.transitionModelVersionStage('CarPrice', '42', 'Staging', false),
          'RESOURCE_DOES_NOT_EXIST',
        );
      });

      it('answers get-latest-versions per stage with the highest version', async () => {
        const all = await store.getLatestVersions('CarPrice');
        assert.deepEqual(all.map((v) => `${v.currentStage}:${v.version}`).sort(), [
          'Archived:1',
          'None:3',
          'Production:2',
        ]);
        const prod = await store.getLatestVersions('CarPrice', ['Production']);
        assert.deepEqual(
          prod.map((v) => v.version),
          ['2'],
        );
        assert.deepEqual(await store.getLatestVersions('CarPrice', ['Staging']), []);
        await rejectsWith(store.getLatestVersions('CarPrice', ['Bogus']), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.getLatestVersions('Nope'), 'RESOURCE_DOES_NOT_EXIST');
        const rm = await store.getRegisteredModel('CarPrice');
        assert.deepEqual(rm.latestVersions.map((v) => v.version).sort(), ['1', '2', '3']);
      });

      it('sets, moves, resolves and deletes aliases', async () => {
        await store.setRegisteredModelAlias('CarPrice', 'champion', '2');
        await store.setRegisteredModelAlias('CarPrice', 'challenger', '3');
        assert.equal((await store.getModelVersionByAlias('CarPrice', 'champion')).version, '2');
        assert.deepEqual((await store.getModelVersion('CarPrice', '2')).aliases, ['champion']);
        await store.setRegisteredModelAlias('CarPrice', 'champion', '3');
        assert.deepEqual((await store.getModelVersion('CarPrice', '3')).aliases, ['challenger', 'champion']);
        assert.deepEqual((await store.getModelVersion('CarPrice', '2')).aliases, []);
        assert.deepEqual((await store.getRegisteredModel('CarPrice')).aliases, [
          { alias: 'challenger', version: '3' },
          { alias: 'champion', version: '3' },
        ]);
        await rejectsWith(store.getModelVersionByAlias('CarPrice', 'nobody'), 'INVALID_PARAMETER_VALUE', 'not found');
        await rejectsWith(store.setRegisteredModelAlias('CarPrice', 'latest', '1'), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.setRegisteredModelAlias('CarPrice', 'v2', '1'), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.setRegisteredModelAlias('CarPrice', 'bad alias', '1'), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.setRegisteredModelAlias('CarPrice', 'ok', '77'), 'RESOURCE_DOES_NOT_EXIST');
        await store.deleteRegisteredModelAlias('CarPrice', 'challenger');
        await store.deleteRegisteredModelAlias('CarPrice', 'challenger'); // missing alias: no-op
        assert.deepEqual((await store.getModelVersion('CarPrice', '3')).aliases, ['champion']);
      });

      it('tags models and versions; deleting a missing tag is a no-op', async () => {
        await store.setRegisteredModelTag('CarPrice', 'env', 'prod');
        await store.setModelVersionTag('CarPrice', '3', 'validated', 'true');
        assert.ok((await store.getRegisteredModel('CarPrice')).tags.some((t) => t.key === 'env' && t.value === 'prod'));
        assert.deepEqual((await store.getModelVersion('CarPrice', '3')).tags, [{ key: 'validated', value: 'true' }]);
        await store.deleteModelVersionTag('CarPrice', '3', 'validated');
        await store.deleteModelVersionTag('CarPrice', '3', 'validated');
        await store.deleteRegisteredModelTag('CarPrice', 'nothing');
        assert.deepEqual((await store.getModelVersion('CarPrice', '3')).tags, []);
        await rejectsWith(store.setRegisteredModelTag('Nope', 'k', 'v'), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(store.setModelVersionTag('CarPrice', '99', 'k', 'v'), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('updates descriptions', async () => {
        assert.equal((await store.updateRegisteredModel('CarPrice', 'better')).description, 'better');
        assert.equal((await store.updateModelVersion('CarPrice', '3', 'third')).description, 'third');
        await rejectsWith(store.updateModelVersion('CarPrice', '99', 'x'), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('deletes a version: invisible, its aliases gone, numbering continues', async () => {
        await store.deleteModelVersion('CarPrice', '3');
        await rejectsWith(store.getModelVersion('CarPrice', '3'), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(store.getModelVersionByAlias('CarPrice', 'champion'), 'INVALID_PARAMETER_VALUE');
        assert.deepEqual((await store.getRegisteredModel('CarPrice')).aliases, []);
        await rejectsWith(store.deleteModelVersion('CarPrice', '3'), 'RESOURCE_DOES_NOT_EXIST');
        const v4 = await store.createModelVersion({ name: 'CarPrice', source: source(), runId });
        assert.equal(v4.version, '4');
      });

      it('searches registered models and versions', async () => {
        for (const n of ['Alpha', 'Beta', 'Gamma']) {
          await store.createRegisteredModel(n, [{ key: 'kind', value: n === 'Beta' ? 'b' : 'other' }]);
          await store.createModelVersion({ name: n, source: `s3://b/${n}`, runId });
        }
        const all = await store.searchRegisteredModels({ orderBy: ['name ASC'] });
        assert.deepEqual(
          all.items.map((m) => m.name),
          ['Alpha', 'Beta', 'CarPrice', 'Gamma'],
        );
        assert.deepEqual(
          (await store.searchRegisteredModels({ filter: "name LIKE '%a' AND name != 'Alpha'" })).items.map(
            (m) => m.name,
          ),
          ['Beta', 'Gamma'],
        );
        assert.deepEqual(
          (await store.searchRegisteredModels({ filter: "tags.kind = 'b'" })).items.map((m) => m.name),
          ['Beta'],
        );
        const p1 = await store.searchRegisteredModels({ maxResults: 3 });
        assert.equal(p1.items.length, 3);
        const p2 = await store.searchRegisteredModels({ maxResults: 3, pageToken: p1.nextPageToken });
        assert.deepEqual(
          p2.items.map((m) => m.name),
          ['Gamma'],
        );
        assert.equal(p2.nextPageToken, undefined);
        await rejectsWith(store.searchRegisteredModels({ filter: "run_id = 'x'" }), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.searchRegisteredModels({ maxResults: 1001 }), 'INVALID_PARAMETER_VALUE');
        await rejectsWith(store.searchRegisteredModels({ orderBy: ['name', 'name DESC'] }), 'INVALID_PARAMETER_VALUE');

        const cp = await store.searchModelVersions({ filter: "name = 'CarPrice'", orderBy: ['version_number ASC'] });
        assert.deepEqual(
          cp.items.map((v) => v.version),
          ['1', '2', '4'],
        );
        const newer = await store.searchModelVersions({
          filter: "name = 'CarPrice' AND version_number > 1",
          orderBy: ['version_number DESC'],
        });
        assert.deepEqual(
          newer.items.map((v) => v.version),
          ['4', '2'],
        );
        const byRun = await store.searchModelVersions({ filter: `run_id IN ('${runId}')` });
        assert.equal(byRun.items.length, 6);
        const bySource = await store.searchModelVersions({
          filter: "source_path LIKE 's3://b/%'",
          orderBy: ['name DESC'],
        });
        assert.deepEqual(
          bySource.items.map((v) => v.name),
          ['Gamma', 'Beta', 'Alpha'],
        );
        await rejectsWith(store.searchModelVersions({ filter: "stage = 'x'" }), 'INVALID_PARAMETER_VALUE');
      });

      it('renames a model with its versions, and deletes it for good', async () => {
        await rejectsWith(store.renameRegisteredModel('Alpha', 'Beta'), 'RESOURCE_ALREADY_EXISTS');
        const renamed = await store.renameRegisteredModel('Alpha', 'Alpha2');
        assert.equal(renamed.name, 'Alpha2');
        assert.equal((await store.getModelVersion('Alpha2', '1')).name, 'Alpha2');
        await rejectsWith(store.getRegisteredModel('Alpha'), 'RESOURCE_DOES_NOT_EXIST');
        await store.deleteRegisteredModel('Alpha2');
        await rejectsWith(store.getRegisteredModel('Alpha2'), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(store.deleteRegisteredModel('Alpha2'), 'RESOURCE_DOES_NOT_EXIST');
        const again = await store.createRegisteredModel('Alpha2');
        assert.equal(again.name, 'Alpha2');
        assert.equal((await store.createModelVersion({ name: 'Alpha2', source: 's3://b/x' })).version, '1');
      });

      it('hides prompts (tag mlflow.prompt.is_prompt=true) unless the filter asks for them, as MLflow 3 clients expect', async () => {
        await store.createRegisteredModel('PromptA', [{ key: 'mlflow.prompt.is_prompt', value: 'true' }]);
        await store.createRegisteredModel('PlainP');
        const clientFilter = "name LIKE 'P%' AND tags.`mlflow.prompt.is_prompt` != 'true'";
        assert.deepEqual(
          (await store.searchRegisteredModels({ filter: clientFilter })).items.map((m) => m.name),
          ['PlainP'],
        );
        assert.deepEqual(
          (await store.searchRegisteredModels({ filter: "name LIKE 'P%'" })).items.map((m) => m.name),
          ['PlainP'],
        );
        assert.deepEqual(
          (await store.searchRegisteredModels({ filter: "tags.`mlflow.prompt.is_prompt` = 'true'" })).items.map(
            (m) => m.name,
          ),
          ['PromptA'],
        );
        await store.createModelVersion({
          name: 'PromptA',
          source: 's3://b/p',
          tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }],
        });
        await store.createModelVersion({ name: 'PlainP', source: 's3://b/q' });
        assert.deepEqual(
          (await store.searchModelVersions({ filter: "name LIKE 'P%'" })).items.map((v) => v.name),
          ['PlainP'],
        );
        assert.deepEqual(
          (await store.searchModelVersions({ filter: "tags.`mlflow.prompt.is_prompt` = 'true'" })).items.map(
            (v) => v.name,
          ),
          ['PromptA'],
        );
      });
    });

    describe('logged models (MLflow 3.x)', () => {
      let exp: string;
      let runId: string;
      before(async () => {
        exp = await store.createExperiment('lm-exp');
        runId = (await store.createRun({ experimentId: exp, runName: 'lm-run' })).info.runId;
      });

      it('creates a PENDING model under the experiment artifact location, finalizes it, gets it', async () => {
        const m = await store.createLoggedModel({
          experimentId: exp,
          name: 'ridge',
          modelType: 'sklearn',
          sourceRunId: runId,
          params: [{ key: 'alpha', value: '0.1' }],
          tags: [{ key: 'team', value: 'pricing' }],
        });
        assert.match(m.modelId, /^m-[0-9a-f]{32}$/);
        assert.equal(m.status, 'LOGGED_MODEL_PENDING');
        assert.equal(m.experimentId, exp);
        assert.equal(m.sourceRunId, runId);
        assert.equal(m.modelType, 'sklearn');
        const root = (await store.getExperiment(exp)).artifactLocation;
        assert.equal(m.artifactLocation, `${root}/models/${m.modelId}/artifacts`);
        assert.deepEqual(m.params, [{ key: 'alpha', value: '0.1' }]);
        assert.deepEqual(m.tags, [{ key: 'team', value: 'pricing' }]);
        const ready = await store.finalizeLoggedModel(m.modelId, 'LOGGED_MODEL_READY');
        assert.equal(ready.status, 'LOGGED_MODEL_READY');
        assert.deepEqual(await store.getLoggedModel(m.modelId), ready);
        await rejectsWith(store.getLoggedModel('m-' + '0'.repeat(32)), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(store.createLoggedModel({ experimentId: '987654' }), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('tags are upserted and deleted, params are write-once', async () => {
        const m = await store.createLoggedModel({ experimentId: exp, name: 'tagged' });
        assert.ok(m.name.length > 0);
        const t = await store.setLoggedModelTags(m.modelId, [
          { key: 'b', value: '1' },
          { key: 'a', value: '2' },
        ]);
        assert.deepEqual(t.tags, [
          { key: 'a', value: '2' },
          { key: 'b', value: '1' },
        ]);
        await store.deleteLoggedModelTag(m.modelId, 'a');
        await rejectsWith(store.deleteLoggedModelTag(m.modelId, 'a'), 'RESOURCE_DOES_NOT_EXIST');
        assert.deepEqual((await store.getLoggedModel(m.modelId)).tags, [{ key: 'b', value: '1' }]);
        await store.logLoggedModelParams(m.modelId, [{ key: 'lr', value: '0.1' }]);
        await store.logLoggedModelParams(m.modelId, [{ key: 'lr', value: '0.1' }]);
        await rejectsWith(
          store.logLoggedModelParams(m.modelId, [{ key: 'lr', value: '0.2' }]),
          'INVALID_PARAMETER_VALUE',
          'Changing param values is not allowed',
        );
      });

      it('searches by name, attributes, tags and params, pages, orders, and hides deleted models', async () => {
        const e2 = await store.createExperiment('lm-search');
        const ids: string[] = [];
        for (const [i, n] of ['m-a', 'm-b', 'm-c'].entries()) {
          const m = await store.createLoggedModel({
            experimentId: e2,
            name: n,
            tags: [{ key: 'k', value: String(i) }],
            params: [{ key: 'p', value: i % 2 ? 'odd' : 'even' }],
          });
          ids.push(m.modelId);
        }
        const byName = await store.searchLoggedModels({ experimentIds: [e2], filter: "name = 'm-b'" });
        assert.deepEqual(
          byName.items.map((m) => m.modelId),
          [ids[1]],
        );
        const even = await store.searchLoggedModels({
          experimentIds: [e2],
          filter: "params.p = 'even'",
          orderBy: [{ fieldName: 'name', ascending: true }],
        });
        assert.deepEqual(
          even.items.map((m) => m.name),
          ['m-a', 'm-c'],
        );
        const tagged = await store.searchLoggedModels({
          experimentIds: [e2],
          filter: "tags.k != '0' AND name LIKE 'm-%'",
          orderBy: [{ fieldName: 'name', ascending: false }],
        });
        assert.deepEqual(
          tagged.items.map((m) => m.name),
          ['m-c', 'm-b'],
        );
        const p1 = await store.searchLoggedModels({
          experimentIds: [e2],
          maxResults: 2,
          orderBy: [{ fieldName: 'name' }],
        });
        assert.deepEqual(
          p1.items.map((m) => m.name),
          ['m-a', 'm-b'],
        );
        assert.ok(p1.nextPageToken);
        const p2 = await store.searchLoggedModels({
          experimentIds: [e2],
          maxResults: 2,
          orderBy: [{ fieldName: 'name' }],
          pageToken: p1.nextPageToken,
        });
        assert.deepEqual(
          p2.items.map((m) => m.name),
          ['m-c'],
        );
        assert.equal(p2.nextPageToken, undefined);
        await store.deleteLoggedModel(ids[0]);
        await rejectsWith(store.getLoggedModel(ids[0]), 'RESOURCE_DOES_NOT_EXIST');
        assert.deepEqual(
          (await store.searchLoggedModels({ experimentIds: [e2], orderBy: [{ fieldName: 'name' }] })).items.map(
            (m) => m.name,
          ),
          ['m-b', 'm-c'],
        );
        await rejectsWith(
          store.searchLoggedModels({ experimentIds: [e2], filter: 'metrics.x > 1' }),
          'INVALID_PARAMETER_VALUE',
        );
        await rejectsWith(
          store.searchLoggedModels({ experimentIds: [e2], orderBy: [{ fieldName: 'nope' }] }),
          'INVALID_PARAMETER_VALUE',
        );
      });

      it('records run outputs and registers a version from models:/<model_id> with its artifact location', async () => {
        const m = await store.createLoggedModel({ experimentId: exp, name: 'to-register', sourceRunId: runId });
        await store.logOutputs(runId, [{ modelId: m.modelId, step: 3 }]);
        assert.deepEqual((await store.getRun(runId)).outputs, { modelOutputs: [{ modelId: m.modelId, step: 3 }] });
        const page = await store.searchRuns({ experimentIds: [exp] });
        assert.deepEqual(page.items.find((r) => r.info.runId === runId)?.outputs, {
          modelOutputs: [{ modelId: m.modelId, step: 3 }],
        });
        await rejectsWith(
          store.logOutputs(runId, [{ modelId: 'm-' + '1'.repeat(32), step: 0 }]),
          'RESOURCE_DOES_NOT_EXIST',
        );
        await store.createRegisteredModel('FromLogged');
        const v = await store.createModelVersion({
          name: 'FromLogged',
          source: `models:/${m.modelId}`,
          modelId: m.modelId,
        });
        assert.equal(v.source, `models:/${m.modelId}`);
        // MLflow 3.5 keeps model_id on a version but never sends it (ModelVersion.to_proto),
        // so only a store that reads its own database can report it.
        assert.equal(v.modelId, store.kind === 'rest' ? undefined : m.modelId);
        assert.equal(v.runId, runId);
        assert.equal(await store.getModelVersionDownloadUri('FromLogged', '1'), m.artifactLocation);
      });

      it('keeps metrics logged with a model_id on the model, and on the run as usual', async () => {
        const m = await store.createLoggedModel({ experimentId: exp, name: 'evaluated', sourceRunId: runId });
        assert.deepEqual(m.metrics, []);
        await store.logMetric(runId, {
          key: 'r2',
          value: 0.91,
          timestamp: 10,
          step: 0,
          modelId: m.modelId,
          datasetName: 'holdout',
          datasetDigest: 'abc',
        });
        await store.logBatch(runId, {
          metrics: [
            { key: 'rmse', value: 120.5, timestamp: 11, step: 1, modelId: m.modelId },
            { key: 'plain', value: 1, timestamp: 11, step: 0 },
          ],
        });
        assert.deepEqual((await store.getLoggedModel(m.modelId)).metrics, [
          {
            key: 'r2',
            value: 0.91,
            timestamp: 10,
            step: 0,
            modelId: m.modelId,
            runId,
            datasetName: 'holdout',
            datasetDigest: 'abc',
          },
          { key: 'rmse', value: 120.5, timestamp: 11, step: 1, modelId: m.modelId, runId },
        ]);
        const run = await store.getRun(runId);
        assert.deepEqual(
          run.data.metrics.filter((x) => ['r2', 'rmse', 'plain'].includes(x.key)).map((x) => [x.key, x.value]),
          [
            ['plain', 1],
            ['r2', 0.91],
            ['rmse', 120.5],
          ],
        );
        await rejectsWith(
          store.logMetric(runId, { key: 'x', value: 1, timestamp: 1, step: 0, modelId: 'm-' + '2'.repeat(32) }),
          'RESOURCE_DOES_NOT_EXIST',
        );
      });
    });
  });
}
