/**
 * Helpers for the dashboard's tests and bench: a real SQLite tracking store seeded with
 * experiments, runs (params, metric histories, tags, nested tuning runs) and artifacts
 * (text, JSON, PNG) in a temp directory; the tracking server with the dashboard mounted,
 * listening on 127.0.0.1; and Debian's Chromium driven by playwright-core.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';
import { LocalArtifactRepository } from '../../src/tracking/artifacts/local-artifact-repository.js';
import { buildTrackingServer } from '../../src/tracking/server/build-tracking-server.js';
import { registerDashboard } from '../../src/dashboard/index.js';
import type { DashboardOptions } from '../../src/dashboard/index.js';
import type { Metric, TrackingStore } from '../../src/tracking/index.js';

export const CHROMIUM = process.env.CARPRICE_CHROMIUM ?? '/usr/bin/chromium';

/** An 8x8 red PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGM4ISeHFTEMLQkAkL9BAbKfPiIAAAAASUVORK5CYII=',
  'base64',
);

export interface Seeded {
  dir: string;
  store: SqliteTrackingStore;
  experimentId: string;
  /** Run ids, oldest first (top-level runs only). */
  runIds: string[];
  parentId: string;
  childIds: string[];
}

const ALGOS = ['ridge', 'gbdt', 'forest', 'lasso'];

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A store with experiment `cars` holding `runs` runs (rmse/mae/r2 with `steps` history
 * points, algo/alpha/max_depth params) and one tuning parent with `children` trials.
 */
export async function seedStore(
  o: { runs?: number; children?: number; steps?: number; dir?: string } = {},
): Promise<Seeded> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'carprice-ui-'));
  const artifacts = join(dir, 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  const store = new SqliteTrackingStore({ path: join(dir, 'mlflow.db'), defaultArtifactRoot: artifacts });
  const experimentId = await store.createExperiment('cars');
  const rand = rng(7);
  const t0 = Date.UTC(2026, 0, 1);
  const runIds: string[] = [];
  const steps = o.steps ?? 5;
  const n = o.runs ?? 30;
  const logRun = async (name: string, i: number, extraTags: Array<{ key: string; value: string }> = []) => {
    const algo = ALGOS[i % ALGOS.length];
    const start = t0 + i * 60_000;
    const run = await store.createRun({ experimentId, runName: name, startTime: start, tags: extraTags });
    const id = run.info.runId;
    const rmse = 50_000 + Math.round(rand() * 100_000);
    const metrics: Metric[] = [];
    for (let s = 0; s < steps; s++) {
      const f = 1 + (steps - 1 - s) * 0.1;
      metrics.push({ key: 'rmse', value: rmse * f, timestamp: start + s * 1000, step: s });
      metrics.push({ key: 'mae', value: rmse * 0.6 * f, timestamp: start + s * 1000, step: s });
    }
    metrics.push({ key: 'r2', value: 0.7 + rand() * 0.25, timestamp: start, step: 0 });
    await store.logBatch(id, {
      metrics,
      params: [
        { key: 'algo', value: algo },
        { key: 'alpha', value: String(Math.round(rand() * 1000) / 1000) },
        { key: 'max_depth', value: String(2 + (i % 6)) },
      ],
      tags: [{ key: 'stage', value: i % 3 === 0 ? 'tune' : 'train' }],
    });
    await store.updateRun(id, { status: 'FINISHED', endTime: start + 5000 + i });
    return id;
  };
  for (let i = 0; i < n; i++) runIds.push(await logRun(`run-${String(i).padStart(5, '0')}`, i));
  const parentId = await logRun('tuning-parent', n);
  runIds.push(parentId);
  const childIds: string[] = [];
  for (let c = 0; c < (o.children ?? 6); c++)
    childIds.push(
      await logRun(`trial-${c}`, n + 1 + c, [
        { key: 'mlflow.parentRunId', value: parentId },
        { key: 'trial', value: String(c) },
      ]),
    );
  // artifacts of the first run: text, JSON, PNG, a nested folder
  const first = await store.getRun(runIds[0]);
  const root = first.info.artifactUri;
  const repo = new LocalArtifactRepository(root);
  await repo.write('notes.txt', Buffer.from('hello from run 0\nsecond line\n'));
  await repo.write('metrics/summary.json', Buffer.from(JSON.stringify({ rmse: 1.5, mae: 1.1 })));
  await repo.write('plots/residuals.png', PNG);
  await repo.write('page.html', Buffer.from('<script>window.pwned = 1</script>'));
  return { dir, store, experimentId, runIds, parentId, childIds };
}

export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
}

/** The tracking server with the dashboard mounted, listening on 127.0.0.1:0. */
export async function startDashboard(
  store: TrackingStore,
  extra: Partial<DashboardOptions> & { users?: string; routes?: Array<{ method: string; url: string }> } = {},
): Promise<RunningDashboard> {
  const { routes, ...options } = extra;
  const app = await buildTrackingServer({
    store,
    artifactRepositoryFor: (uri) => new LocalArtifactRepository(uri),
    users: extra.users,
    extend: (a, c) => {
      // every route the dashboard adds, when the caller asks (the auth test walks them all)
      if (routes)
        a.addHook('onRoute', (r) => {
          for (const m of [r.method].flat()) routes.push({ method: m, url: r.url });
        });
      return registerDashboard(a, {
        store: c.store,
        artifactsFor: (uri) => c.artifactsFor(uri),
        host: 'tracking server',
        ...options,
      });
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** Chromium through playwright-core, or the reason it cannot run (the tests skip with it). */
export async function launchChromium(): Promise<Browser | string> {
  if (!existsSync(CHROMIUM))
    return `no Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) to run the browser tests`;
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** A page of `ctx` that records console errors, page errors and failed requests in `problems`. */
export async function openPage(ctx: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  return { page, problems };
}

/** Where browser tests keep their screenshots (git-ignored). */
export function screenshotDir(): string {
  const d = join(process.cwd(), 'test-artifacts', 'ui');
  mkdirSync(d, { recursive: true });
  return d;
}

export { writeFileSync };
