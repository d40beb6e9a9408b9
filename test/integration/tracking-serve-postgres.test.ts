/**
 * The team setup end to end, with real processes on a real PostgreSQL: two `carprice
 * tracking serve --backend-store-uri postgresql://user:pass@...` start at once on an empty
 * database (it is migrated once), writers log batches through both, one server is killed
 * with SIGKILL in the middle of the load, and afterwards every batch a server acknowledged
 * is there; the password never appears in anything the servers print; the same URI as
 * MLFLOW_TRACKING_URI gives the CLI direct access to the runs. (bench/tracking-team.ts
 * measures the same at scale: 16 writers for 60 s, throughput beside SQLite.)
 */
import { after, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PG_MIGRATIONS } from '../../src/tracking/postgres/pg-migrations.js';
import { startPostgres } from '../helpers/postgres-cluster.js';
import { mlflowApi as api, startTrackingServer, type TrackingServer } from '../helpers/tracking-server.js';
import { runBuiltCli } from '../helpers/built-cli.js';

const PASSWORD = 'team-s3cret-pw';

const cluster = await startPostgres();
if (typeof cluster === 'string') {
  test('tracking serve on PostgreSQL', { skip: cluster }, () => {});
} else {
  describe('tracking serve on PostgreSQL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carprice-serve-pg-'));
    const servers: TrackingServer[] = [];
    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('two servers on one database, a SIGKILL mid-load: every acknowledged batch is there, no password printed', async () => {
      const db = await cluster.newDatabase();
      // trust auth ignores the password; it must still never be printed
      const uri = db.uri.replace('carprice@', `carprice:${PASSWORD}@`);
      const [a, b] = await Promise.all([
        startTrackingServer(dir, { backendStoreUri: uri }),
        startTrackingServer(dir, { backendStoreUri: uri }),
      ]);
      servers.push(a, b);
      const { experiment_id: exp } = await api<{ experiment_id: string }>(a.uri, 'experiments/create', {
        name: 'team',
      });

      // Writers 0-3 log through A, 4-7 through B; once A is killed, A's writers move to B.
      let aAlive = true;
      const acked = new Map<string, number[]>();
      let stop = false;
      const writer = async (w: number) => {
        const via = () => (w < 4 && aAlive ? a.uri : b.uri);
        let runId: string | undefined;
        for (let step = 0; !stop;) {
          try {
            runId ??= (await api<{ run: { info: { run_id: string } } }>(via(), 'runs/create', { experiment_id: exp }))
              .run.info.run_id;
            if (!acked.has(runId)) acked.set(runId, []);
            const metrics = Array.from({ length: 20 }, (_, k) => ({
              key: `m${k % 4}`,
              value: w + step + k / 100,
              timestamp: 1_700_000_000_000 + step,
              step: step + Math.floor(k / 4),
            }));
            await api(via(), 'runs/log-batch', { run_id: runId, metrics });
            acked.get(runId)!.push(step);
          } catch {
            await new Promise((r) => setTimeout(r, 20)); // not acknowledged: not counted
          }
          step += 5;
        }
      };
      const load = Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
      await new Promise((r) => setTimeout(r, 1500));
      await a.kill('SIGKILL');
      aAlive = false;
      await new Promise((r) => setTimeout(r, 1500));
      stop = true;
      await load;

      // A fresh server reads everything back.
      const c = await startTrackingServer(dir, { backendStoreUri: uri });
      servers.push(c);
      let batches = 0;
      for (const [runId, steps] of acked) {
        for (let k = 0; k < 4; k++) {
          const h = await api<{ metrics?: { step: number }[] }>(
            c.uri,
            `metrics/get-history?run_id=${runId}&metric_key=m${k}&max_results=25000`,
          );
          const have = new Set((h.metrics ?? []).map((m) => Number(m.step)));
          for (const s of steps)
            for (let j = 0; j < 5; j++)
              assert.ok(have.has(s + j), `run ${runId} m${k} step ${s + j} acknowledged, lost`);
        }
        batches += steps.length;
      }
      assert.ok(batches > 16, `the load acknowledged ${batches} batches`);
      assert.equal(acked.size, 8);

      // The two servers that started together migrated the empty database once.
      const client = new pg.Client(db);
      await client.connect();
      try {
        const rows = await client.query<{ version: number }>(
          'SELECT version FROM carprice_schema_migrations ORDER BY 1',
        );
        assert.deepEqual(
          rows.rows.map((r) => r.version),
          PG_MIGRATIONS.map((m) => m.version),
        );
      } finally {
        await client.end();
      }
      for (const s of [a, b, c])
        assert.ok(!s.output().includes(PASSWORD), `a server printed the password:\n${s.output()}`);

      // The same URI as MLFLOW_TRACKING_URI: the CLI reads the database directly.
      const list = await runBuiltCli(['runs', 'list', '--experiment', 'team', '--json'], dir, {
        MLFLOW_TRACKING_URI: uri,
      });
      assert.equal(list.code, 0, list.stderr);
      const runs = JSON.parse(list.stdout) as { info: { runId: string } }[];
      const listed = new Set(runs.map((r) => r.info.runId));
      for (const id of acked.keys()) assert.ok(listed.has(id), `run ${id} is not listed`);
      assert.ok(!(list.stdout + list.stderr).includes(PASSWORD));
    });
  });
}
