/**
 * Tracking speed figures against the targets of the tracking issue:
 *   log-batch of 1,000 metrics                      < 20 ms
 *   search over 10,000 runs, metrics/params filter
 *   and order_by, pages of 100 and of 1,000 (MLflow's
 *   default max_results for search-runs)             < 100 ms
 * on the embedded SQLite store (a real file in a temp dir) and, with the same 10,000 runs
 * and the same calls, through the REST store against our tracking server on 127.0.0.1 (a
 * SQLite file behind it). Prints medians, the SQLite and REST figures side by side and
 * their ratio (the cost of HTTP + JSON), and the load average.
 * Run: npx tsc -p . && node dist/bench/tracking.js [--runs N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SqliteTrackingStore } from '../src/tracking/sqlite/sqlite-tracking-store.js';
import { RestTrackingStore } from '../src/tracking/rest/rest-tracking-store.js';
import { buildTrackingServer } from '../src/tracking/server/build-tracking-server.js';
import type { TrackingStore } from '../src/tracking/store.js';
import type { Metric } from '../src/tracking/entities.js';
import { benchArgs, wholeNumber } from './bench-args.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(reps: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(out);
}

/** One measured call: what it is, its median in ms and its target. */
interface Figure {
  label: string;
  ms: number;
  target: number;
}

function report(store: string, f: Figure): Figure {
  const ratio = f.ms / f.target;
  process.stdout.write(
    `[${store}] ${f.label.padEnd(55)} ${f.ms.toFixed(2).padStart(8)} ms   target < ${f.target} ms   ${(ratio * 100).toFixed(0).padStart(4)}% of budget ${ratio < 1 ? 'OK' : 'SLOW'}\n`,
  );
  return f;
}

function batch(run: number, rep: number): Metric[] {
  return Array.from({ length: 1000 }, (_, i) => ({
    key: `m${i % 20}`,
    value: Math.sin(i + rep),
    timestamp: 1_000_000 + rep * 1000 + i,
    step: rep * 50 + Math.floor(i / 20) + run,
  }));
}

async function benchStore(name: string, store: TrackingStore, runs: number): Promise<Figure[]> {
  const figures: Figure[] = [];
  const exp = await store.createExperiment(`bench-${name}`);
  const run = await store.createRun({ experimentId: exp });
  figures.push(
    report(name, {
      label: 'log-batch 1,000 metrics (median of 30)',
      ms: await time(30, (i) => store.logBatch(run.info.runId, { metrics: batch(0, i) })),
      target: 20,
    }),
  );

  const sexp = await store.createExperiment(`search-${name}`);
  const t0 = Date.now();
  const models = ['ridge', 'gbt', 'forest', 'lasso'];
  for (let i = 0; i < runs; i++) {
    const r = await store.createRun({ experimentId: sexp, startTime: 1_700_000_000_000 + i });
    await store.logBatch(r.info.runId, {
      params: [
        { key: 'model', value: models[i % 4] },
        { key: 'depth', value: String(i % 10) },
      ],
      metrics: [
        { key: 'rmse', value: ((i * 7919) % 10007) / 10007, timestamp: i, step: 0 },
        { key: 'r2', value: 1 - ((i * 104729) % 10007) / 10007, timestamp: i, step: 0 },
      ],
      tags: [{ key: 'team', value: i % 2 ? 'a' : 'b' }],
    });
  }
  process.stdout.write(`[${name}] populated ${runs} runs in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const filter = "metrics.rmse < 0.5 and params.model = 'gbt'";
  for (const max of [100, 1000]) {
    let count = 0;
    const ms = await time(10, async () => {
      const p = await store.searchRuns({
        experimentIds: [sexp],
        filter,
        orderBy: ['metrics.r2 DESC'],
        maxResults: max,
      });
      count = p.items.length;
    });
    figures.push(
      report(name, { label: `search ${runs} runs, filter+order_by, page ${max} (${count} hits)`, ms, target: 100 }),
    );
  }
  figures.push(
    report(name, {
      label: `search ${runs} runs, params filter only, page 100`,
      ms: await time(10, () =>
        store.searchRuns({
          experimentIds: [sexp],
          filter: "params.depth = '3'",
          orderBy: ['params.model ASC'],
          maxResults: 100,
        }),
      ),
      target: 100,
    }),
  );
  return figures;
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

const args = benchArgs({
  name: 'tracking',
  summary: 'tracking speed: log-batch and search on the embedded SQLite store and through the REST server',
  options: {
    runs: {
      type: 'string',
      value: 'N',
      default: '10000',
      help: 'runs in the searched experiment',
      check: wholeNumber(100),
    },
  },
});
const RUNS = args.number('runs')!;
// Figures on this 2-core machine swing with whatever else runs: print the load next to them.
process.stdout.write(`load average (1/5/15 min): ${load()}\n`);
const dir = mkdtempSync(join(tmpdir(), 'carprice-bench-tracking-'));
try {
  const sqlite = new SqliteTrackingStore({ path: join(dir, 'bench.db'), defaultArtifactRoot: join(dir, 'art') });
  const bySqlite = await benchStore('sqlite', sqlite, RUNS);

  const backend = new SqliteTrackingStore({ path: join(dir, 'server.db'), defaultArtifactRoot: 'mlflow-artifacts:' });
  const app = await buildTrackingServer({ store: backend });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const rest = new RestTrackingStore({
    trackingUri: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    maxRetries: 0,
  });
  const byRest = await benchStore('rest', rest, RUNS);
  await app.close();
  await backend.close();
  await sqlite.close();

  process.stdout.write(
    `\nthe same calls on the same ${RUNS.toLocaleString('en')} runs, median ms (load average now ${load()}):\n`,
  );
  process.stdout.write(
    `${'call'.padEnd(55)} ${'SQLite'.padStart(8)} ${'REST'.padStart(8)} ${'REST/SQLite'.padStart(12)}\n`,
  );
  bySqlite.forEach((f, i) => {
    const r = byRest[i];
    process.stdout.write(
      `${f.label.padEnd(55)} ${f.ms.toFixed(2).padStart(8)} ${r.ms.toFixed(2).padStart(8)} ${(r.ms / f.ms).toFixed(2).padStart(11)}x\n`,
    );
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
