/**
 * Team-scale tracking figures (the PostgreSQL issue), beside the embedded SQLite store:
 *   1. 16 concurrent writers log batches to one `carprice tracking serve` process for
 *      BENCH_SECONDS (default 60): metrics/s acknowledged, and every acknowledged metric
 *      read back (lost must be 0); PostgreSQL must sustain at least SQLite's throughput.
 *   2. kill -9 of the server in the middle of the load, restart, read back: no
 *      acknowledged write lost.
 *   3. search over BENCH_SEARCH_RUNS runs (default 100,000) with a metric + param filter
 *      and order_by a metric, 100-run pages (the first page and the next 9 through page
 *      tokens): per page, wall and CPU time in-process and wall time through the server,
 *      both stores side by side with the load average: < 100 ms per page.
 * PostgreSQL is a throwaway cluster from Debian's postgresql (skipped, saying why, when it
 * cannot start). The servers are real child processes (`node dist/src/cli/main.js
 * tracking serve`), the writers speak MLflow's REST API with fetch.
 * Run: npx tsc -p . && node dist/bench/tracking-team.js
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import Database from 'better-sqlite3';
import { startPostgres } from '../test/helpers/postgres-cluster.js';
import { mlflowApi as api, startTrackingServer } from '../test/helpers/tracking-server.js';
import { freePort } from '../src/deploy/processes.js';
import { SqliteTrackingStore } from '../src/tracking/sqlite/sqlite-tracking-store.js';
import { PgTrackingStore } from '../src/tracking/postgres/pg-tracking-store.js';
import type { TrackingStore } from '../src/tracking/store.js';
import { benchArgs, envNumber, numberAbove, usageError, wholeNumber } from './bench-args.js';

benchArgs({
  name: 'tracking-team',
  summary: 'team-scale tracking: 16 writers, a kill -9 mid-load, search over 100,000 runs; PostgreSQL beside SQLite',
  options: {},
  notes: [
    'Environment: BENCH_SECONDS (load seconds, default 60), BENCH_KILL_SECONDS (default 10),',
    'BENCH_SEARCH_RUNS (default 100000), BENCH_PARTS (a comma list of load, kill, search; default all).',
  ].join('\n'),
});
const SECONDS = envNumber('tracking-team', 'BENCH_SECONDS', 60, numberAbove(0));
const KILL_SECONDS = envNumber('tracking-team', 'BENCH_KILL_SECONDS', 10, numberAbove(0));
const SEARCH_RUNS = envNumber('tracking-team', 'BENCH_SEARCH_RUNS', 100_000, wholeNumber(100));
const partsText = process.env.BENCH_PARTS || 'load,kill,search';
const badPart = partsText.split(',').find((p) => !['load', 'kill', 'search'].includes(p));
if (badPart !== undefined)
  usageError('tracking-team', `BENCH_PARTS must be a comma list of load, kill, search, got "${partsText}"`);
const PARTS = new Set(partsText.split(','));
const WRITERS = 16;
const KEYS = 10;
const STEPS_PER_BATCH = 10; // 100 metrics per batch

/** Ends the run early when the search part is not asked for. */
class Done extends Error {}

const out = (s: string) => process.stdout.write(s + '\n');
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');

/** Acknowledged batches per run: the steps whose batch the server answered 200. */
type Acks = Map<string, number[]>;

async function writeLoad(url: string, seconds: number, acks: Acks, stopAt?: () => boolean): Promise<number> {
  const { experiment_id: exp } = await api<{ experiment_id: string }>(url, 'experiments/create', {
    name: `load-${Date.now()}-${Math.random().toString(16).slice(2)}`,
  });
  const deadline = Date.now() + seconds * 1000;
  let acked = 0;
  const writer = async (w: number) => {
    let runId: string | undefined;
    let step = 0;
    while (Date.now() < deadline && !stopAt?.()) {
      try {
        if (!runId) {
          runId = (await api<{ run: { info: { run_id: string } } }>(url, 'runs/create', { experiment_id: exp })).run
            .info.run_id;
          acks.set(runId, []);
        }
        const base = step;
        const metrics = [];
        for (let s = 0; s < STEPS_PER_BATCH; s++)
          for (let k = 0; k < KEYS; k++)
            metrics.push({
              key: `m${k}`,
              value: Math.sin(w + base + s + k),
              timestamp: 1_700_000_000_000 + base + s,
              step: base + s,
            });
        step += STEPS_PER_BATCH;
        await api(url, 'runs/log-batch', { run_id: runId, metrics });
        acks.get(runId)!.push(base);
        acked += metrics.length;
      } catch {
        // not acknowledged (server killed, connection reset): not counted, retried with new steps
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  return acked;
}

/** Every acknowledged point read back through the API; returns how many are missing. */
async function verify(url: string, acks: Acks): Promise<{ checked: number; missing: number }> {
  let checked = 0;
  let missing = 0;
  for (const [runId, bases] of acks) {
    if (bases.length === 0) continue;
    for (let k = 0; k < KEYS; k++) {
      const steps = new Set<number>();
      let token: string | undefined;
      do {
        const q = new URLSearchParams({ run_id: runId, metric_key: `m${k}`, max_results: '25000' });
        if (token) q.set('page_token', token);
        const r = await api<{ metrics?: { step: number }[]; next_page_token?: string }>(
          url,
          `metrics/get-history?${q.toString()}`,
        );
        for (const m of r.metrics ?? []) steps.add(Number(m.step));
        token = r.next_page_token || undefined;
      } while (token);
      for (const b of bases)
        for (let s = 0; s < STEPS_PER_BATCH; s++) {
          checked++;
          if (!steps.has(b + s)) missing++;
        }
    }
  }
  return { checked, missing };
}

async function loadFigures(name: string, backend: string, dir: string): Promise<number> {
  const server = await startTrackingServer(dir, {
    backendStoreUri: backend,
    artifactsDestination: join(dir, `art-${name}`),
  });
  try {
    const acks: Acks = new Map();
    const t0 = Date.now();
    const cpu0 = { server: procCpuMs(server.pid), db: postgresCpuMs(), writers: processCpuMs() };
    const acked = await writeLoad(server.uri, SECONDS, acks);
    const cpu = {
      server: procCpuMs(server.pid) - cpu0.server,
      db: postgresCpuMs() - cpu0.db,
      writers: processCpuMs() - cpu0.writers,
    };
    const secs = (Date.now() - t0) / 1000;
    const v = await verify(server.uri, acks);
    const rate = acked / secs;
    const per1k = (ms: number) => ((ms / acked) * 1000).toFixed(1);
    out(
      `[${name}] ${WRITERS} writers x ${secs.toFixed(0)} s: ${acked} metrics acknowledged, ${rate.toFixed(0)} metrics/s; read back ${v.checked}, missing ${v.missing} ${v.missing === 0 ? 'OK' : 'LOST WRITES'}  (load ${load()})`,
    );
    out(
      `[${name}]   CPU ms per 1,000 metrics: server process ${per1k(cpu.server)}${name === 'postgres' ? `, PostgreSQL processes ${per1k(cpu.db)}` : ' (the store runs in it)'}, the 16 writers (this process) ${per1k(cpu.writers)}`,
    );
    return rate;
  } finally {
    await server.stop();
  }
}

async function killFigures(name: string, backend: string, dir: string): Promise<void> {
  const port = await freePort();
  const opts = { backendStoreUri: backend, artifactsDestination: join(dir, `art-kill-${name}`), port };
  let server = await startTrackingServer(dir, opts);
  const acks: Acks = new Map();
  const load = writeLoad(server.uri, KILL_SECONDS * 2, acks, () => false);
  await new Promise((r) => setTimeout(r, KILL_SECONDS * 1000));
  await server.kill('SIGKILL');
  server = await startTrackingServer(dir, opts);
  const acked = await load;
  const v = await verify(server.uri, acks);
  out(
    `[${name}] kill -9 after ${KILL_SECONDS} s of load, restarted: ${acked} metrics acknowledged, read back ${v.checked}, missing ${v.missing} ${v.missing === 0 ? 'OK' : 'LOST WRITES'}`,
  );
  await server.stop();
}

/** SEARCH_RUNS runs in one experiment, written in bulk with SQL (as pgbench -i does). */
const MODELS = ['ridge', 'gbt', 'forest', 'lasso'];
async function populatePg(store: PgTrackingStore, conn: pg.ClientConfig): Promise<string> {
  const exp = await store.createExperiment('search-100k');
  const c = new pg.Client(conn);
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query(
      `INSERT INTO runs (run_uuid, name, experiment_id, status, start_time, end_time, artifact_uri)
       SELECT 'r' || lpad(i::text, 31, '0'), 'run-' || i, $1, 'FINISHED', 1700000000000 + i, 1700000000000 + i + 1, '/tmp/a/' || i
       FROM generate_series(1::bigint, $2) AS i`,
      [exp, SEARCH_RUNS],
    );
    await c.query(
      `INSERT INTO params (run_uuid, key, value)
       SELECT 'r' || lpad(i::text, 31, '0'), 'model', (ARRAY['ridge','gbt','forest','lasso'])[1 + i % 4] FROM generate_series(1::bigint, $1) AS i
       UNION ALL SELECT 'r' || lpad(i::text, 31, '0'), 'depth', (i % 10)::text FROM generate_series(1::bigint, $1) AS i`,
      [SEARCH_RUNS],
    );
    for (const [key, expr] of [
      ['rmse', '((i * 7919) % 10007) / 10007.0'],
      ['r2', '1 - ((i * 104729) % 10007) / 10007.0'],
    ]) {
      await c.query(
        `INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step) SELECT 'r' || lpad(i::text, 31, '0'), '${key}', ${expr}, i, 0 FROM generate_series(1::bigint, $1) AS i`,
        [SEARCH_RUNS],
      );
      await c.query(
        `INSERT INTO metrics (run_uuid, key, value, timestamp, step) SELECT 'r' || lpad(i::text, 31, '0'), '${key}', ${expr}, i, 0 FROM generate_series(1::bigint, $1) AS i`,
        [SEARCH_RUNS],
      );
    }
    await c.query('COMMIT');
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
  return exp;
}

async function populateSqlite(store: SqliteTrackingStore, path: string): Promise<string> {
  const exp = await store.createExperiment('search-100k');
  const db = new Database(path);
  const run = db.prepare(
    `INSERT INTO runs (run_uuid, name, experiment_id, status, start_time, end_time, artifact_uri) VALUES (?, ?, ?, 'FINISHED', ?, ?, ?)`,
  );
  const param = db.prepare('INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)');
  const latest = db.prepare(
    'INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step) VALUES (?, ?, ?, ?, 0)',
  );
  const metric = db.prepare('INSERT INTO metrics (run_uuid, key, value, timestamp, step) VALUES (?, ?, ?, ?, 0)');
  db.transaction(() => {
    for (let i = 1; i <= SEARCH_RUNS; i++) {
      const id = 'r' + String(i).padStart(31, '0');
      run.run(id, `run-${i}`, Number(exp), 1_700_000_000_000 + i, 1_700_000_000_001 + i, `/tmp/a/${i}`);
      param.run(id, 'model', MODELS[i % 4]);
      param.run(id, 'depth', String(i % 10));
      for (const [k, v] of [
        ['rmse', ((i * 7919) % 10007) / 10007],
        ['r2', 1 - ((i * 104729) % 10007) / 10007],
      ] as const) {
        latest.run(id, k, v, i);
        metric.run(id, k, v, i);
      }
    }
  })();
  db.exec('ANALYZE');
  db.close();
  return exp;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const FILTER = "metrics.rmse < 0.5 and params.model = 'gbt'";
const ORDER = ['metrics.r2 DESC'];

/**
 * CPU milliseconds the database spent so far (load-independent, unlike wall time on this
 * shared 2-core machine): for PostgreSQL the client backends' utime+stime from /proc (10 ms
 * ticks), for SQLite this process's CPU time (the store runs in-process).
 */
type CpuProbe = () => Promise<number>;

/** utime + stime of a process from /proc, in ms (10 ms ticks). */
function procCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** utime + stime of every live `postgres` process (the throwaway cluster's backends and helpers), in ms. */
function postgresCpuMs(): number {
  let ms = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') ms += procCpuMs(Number(pid));
    } catch {
      // the process ended between the listing and the read
    }
  }
  return ms;
}

function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function pgCpuProbe(admin: pg.Client, database: string): CpuProbe {
  return async () => {
    const r = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      [database],
    );
    return r.rows.reduce((ms, { pid }) => ms + procCpuMs(pid), 0);
  };
}

const processCpuProbe: CpuProbe = async () => processCpuMs();

/** Per-page figures of one store, kept to print the side-by-side table. */
interface PageFigures {
  wall: number[];
  cpu: number[];
  http: number[];
  /** CPU per page through the server: its process, plus PostgreSQL's backends. */
  httpCpu: number;
}

const PAGES = 10;
const REPEATS = Number(process.env.BENCH_PAGE_REPEATS ?? 5);

/**
 * The first PAGES 100-run pages, each reached through the previous page's token: each
 * page is read REPEATS times (after one warm-up read) for its median wall time and its
 * mean CPU time, then the same pages through the server (HTTP + JSON).
 */
async function searchFigures(
  name: string,
  store: TrackingStore,
  exp: string,
  url: string,
  cpu: CpuProbe,
  serverCpu: CpuProbe,
): Promise<PageFigures> {
  const figures: PageFigures = { wall: [], cpu: [], http: [], httpCpu: 0 };
  let token: string | undefined;
  for (let i = 0; i < PAGES; i++) {
    const opts = { experimentIds: [exp], filter: FILTER, orderBy: ORDER, maxResults: 100, pageToken: token };
    const first = await store.searchRuns(opts);
    if (first.items.length !== 100) throw new Error(`[${name}] page ${i + 1} has ${first.items.length} runs, not 100`);
    const walls: number[] = [];
    const c0 = await cpu();
    for (let r = 0; r < REPEATS; r++) {
      const t0 = performance.now();
      await store.searchRuns(opts);
      walls.push(performance.now() - t0);
    }
    figures.cpu.push(((await cpu()) - c0) / REPEATS);
    figures.wall.push(median(walls));
    token = first.nextPageToken;
  }
  let t: string | undefined;
  const s0 = await serverCpu();
  for (let i = 0; i < PAGES; i++) {
    const t0 = performance.now();
    const r = await api<{ next_page_token?: string }>(url, 'runs/search', {
      experiment_ids: [exp],
      filter: FILTER,
      order_by: ORDER,
      max_results: 100,
      ...(t ? { page_token: t } : {}),
    });
    figures.http.push(performance.now() - t0);
    t = r.next_page_token;
  }
  figures.httpCpu = ((await serverCpu()) - s0) / PAGES;
  return figures;
}

/** The per-page table of both stores and the verdict against the 100 ms target. */
function printSearch(figs: Record<string, PageFigures>): void {
  const names = Object.keys(figs);
  const fmt = (x: number) => x.toFixed(1).padStart(7);
  out(
    `search ${SEARCH_RUNS} runs, filter "${FILTER}", order_by ${ORDER.join(', ')}, 100-run pages through page tokens (ms; wall = median of ${REPEATS}, CPU = mean of ${REPEATS}; load ${load()}):`,
  );
  out(
    `  page ${names.map((n) => `${`${n} wall`.padStart(14)} ${`${n} CPU`.padStart(13)} ${`${n} http`.padStart(14)}`).join(' ')}`,
  );
  for (let i = 0; i < PAGES; i++)
    out(
      `  ${String(i + 1).padStart(4)} ${names.map((n) => `${fmt(figs[n].wall[i]).padStart(14)} ${fmt(figs[n].cpu[i]).padStart(13)} ${fmt(figs[n].http[i]).padStart(14)}`).join(' ')}`,
    );
  for (const n of names) {
    const f = figs[n];
    const worstCpu = Math.max(...f.cpu);
    out(
      `[${n}] per page: CPU mean ${(f.cpu.reduce((a, b) => a + b, 0) / PAGES).toFixed(1)} ms / max ${worstCpu.toFixed(1)} ms ${worstCpu < 100 ? 'OK' : 'SLOW'} (target < 100 ms per page on an idle core), wall median ${median(f.wall).toFixed(1)} ms / max ${Math.max(...f.wall).toFixed(1)} ms; through the server CPU ${f.httpCpu.toFixed(1)} ms per page (server process${n === 'postgres' ? ' + PostgreSQL' : ''}), wall median ${median(f.http).toFixed(1)} ms / max ${Math.max(...f.http).toFixed(1)} ms`,
    );
  }
  if (figs.postgres && figs.sqlite)
    out(
      `PostgreSQL / SQLite CPU per page: ${(figs.postgres.cpu.reduce((a, b) => a + b, 0) / figs.sqlite.cpu.reduce((a, b) => a + b, 0)).toFixed(2)}x`,
    );
  out(
    '(CPU: PostgreSQL = its backend processes from /proc, 10 ms ticks; SQLite = this process, which runs the store and its JSON hydration; wall times on a shared machine include waiting for a core)',
  );
}

out(`tracking team-scale bench: ${WRITERS} writers, ${SECONDS} s load, ${SEARCH_RUNS} runs searched; load ${load()}`);
const cluster = await startPostgres();
if (typeof cluster === 'string') {
  out(`PostgreSQL figures skipped: ${cluster}`);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'carprice-bench-team-'));
try {
  if (PARTS.has('load')) {
    const sqliteUri = `sqlite:///${join(dir, 'load.db')}`;
    const db = await cluster.newDatabase();
    const sqliteRate = await loadFigures('sqlite', sqliteUri, dir);
    const pgRate = await loadFigures('postgres', db.uri, dir);
    out(
      `PostgreSQL / SQLite throughput: ${(pgRate / sqliteRate).toFixed(2)}x ${pgRate >= sqliteRate ? 'OK (target >= 1)' : 'BELOW TARGET (>= 1)'}`,
    );
  }
  if (PARTS.has('kill')) {
    await killFigures('sqlite', `sqlite:///${join(dir, 'kill.db')}`, dir);
    const killDb = await cluster.newDatabase();
    await killFigures('postgres', killDb.uri, dir);
  }
  if (!PARTS.has('search')) throw new Done();

  const searchDb = await cluster.newDatabase();
  // One pooled connection without parallel workers, so /proc shows the whole cost of a page.
  const admin = new pg.Client({ ...searchDb, database: 'postgres' });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${searchDb.database} SET max_parallel_workers_per_gather = 0`);
  const pgStore = new PgTrackingStore({
    connection: { ...searchDb, max: 1 },
    where: searchDb.uri,
    defaultArtifactRoot: join(dir, 'a'),
  });
  await pgStore.open();
  let t0 = Date.now();
  const pgExp = await populatePg(pgStore, { ...searchDb });
  out(`[postgres] populated ${SEARCH_RUNS} runs with SQL in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const pgServer = await startTrackingServer(dir, {
    backendStoreUri: searchDb.uri,
    artifactsDestination: join(dir, 'art-s'),
  });
  const searchFigs: Record<string, PageFigures> = {};
  const pgCpu = pgCpuProbe(admin, searchDb.database!);
  const pgServerPid = pgServer.pid;
  searchFigs.postgres = await searchFigures(
    'postgres',
    pgStore,
    pgExp,
    pgServer.uri,
    pgCpu,
    async () => procCpuMs(pgServerPid) + (await pgCpu()),
  );
  await admin.end();
  await pgServer.stop();
  await pgStore.close();

  const sqlitePath = join(dir, 'search.db');
  const sqliteStore = new SqliteTrackingStore({ path: sqlitePath, defaultArtifactRoot: join(dir, 'a') });
  t0 = Date.now();
  const sqExp = await populateSqlite(sqliteStore, sqlitePath);
  out(`[sqlite] populated ${SEARCH_RUNS} runs with SQL in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const sqServer = await startTrackingServer(dir, {
    backendStoreUri: `sqlite:///${sqlitePath}`,
    artifactsDestination: join(dir, 'art-q'),
  });
  const sqServerPid = sqServer.pid;
  searchFigs.sqlite = await searchFigures('sqlite', sqliteStore, sqExp, sqServer.uri, processCpuProbe, async () =>
    procCpuMs(sqServerPid),
  );
  await sqServer.stop();
  await sqliteStore.close();
  printSearch(searchFigs);
} catch (e) {
  if (!(e instanceof Done)) throw e;
} finally {
  cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
