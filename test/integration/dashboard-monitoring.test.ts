/**
 * The dashboard's monitoring page in Chromium, wired as the CLI wires it
 * (cli/dashboard-wiring.ts monitoringAdapter: the model's reference from a bundle
 * directory, the overview computed on a worker thread) on the tracking server:
 * - no prediction log yet: the page says so and how the log gets written;
 * - a real prediction log file (SQLite, written by the log store `carprice serve` uses):
 *   a normal week long ago and a recent shifted window (older cars, more diesel, a make the
 *   model never saw) with shadow rows and imported sold prices. The page flags year,
 *   fuelType and make past the thresholds, names the unseen make, shows the predicted-price
 *   shift, realized MAPE and coverage by week, and the challenger's agreement; a 24-hour
 *   window (no rows) has no verdict; a bad window is a 400 naming `since`.
 * The page's numbers are those of `driftReport` on the same window (the function
 * `carprice monitor drift` prints).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  launchChromium,
  screenshotDir,
  seedStore,
  startDashboard,
  type RunningDashboard,
} from '../helpers/dashboard.js';
import { referenceBundle, writePredictionLog } from '../helpers/monitoring.js';
import { fixtureBundle } from '../helpers/serving.js';
import { monitoringAdapter } from '../../src/cli/dashboard-wiring.js';
import { parseParams } from '../../src/config/params.js';
import { openLogDatabase } from '../../src/monitoring/log-store.js';
import { driftReport, thresholdsFromParams } from '../../src/monitoring/drift-report.js';
import type { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';

let browser: Browser | undefined;
let skip: string | false = false;
let dir = '';
let store: SqliteTrackingStore;
let empty: RunningDashboard;
let full: RunningDashboard;
const params = parseParams({});
const bundle = referenceBundle();
const NOW = Date.now();
const shots = screenshotDir();

const adapter = (logPath: string) =>
  monitoringAdapter({
    params,
    cwd: dir,
    env: {},
    logPath,
    model: 'model',
    client: () => {
      throw new Error('a bundle directory needs no tracking client');
    },
  });

before(async () => {
  const b = await launchChromium();
  if (typeof b === 'string') {
    skip = b;
    return;
  }
  browser = b;
  dir = mkdtempSync(join(tmpdir(), 'carprice-ui-mon-'));
  bundle.save(join(dir, 'model'));
  writePredictionLog(join(dir, 'predictions.db'), bundle, {
    unshifted: 600,
    shifted: 600,
    now: NOW,
    challenger: fixtureBundle({ n: 300, alpha: 1 }),
    feedback: 120,
  });
  ({ store } = await seedStore({ runs: 2, children: 0, dir: join(dir, 'store') }));
  empty = await startDashboard(store, { monitoring: adapter(join(dir, 'nothing', 'predictions.db')) });
  full = await startDashboard(store, { monitoring: adapter(join(dir, 'predictions.db')) });
});

after(async () => {
  await browser?.close();
  await empty?.close();
  await full?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(url: string): Promise<{ page: Page; problems: string[] }> {
  const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(url + '/ui/#/monitoring');
  return { page, problems };
}

describe('dashboard monitoring page in Chromium', () => {
  it('with no prediction log yet: an empty state naming the file and how it gets written', async (t) => {
    if (skip) return t.skip(skip);
    const { page, problems } = await open(empty.url);
    const msg = page.getByTestId('monitoring-empty');
    await msg.waitFor();
    const text = (await msg.textContent()) ?? '';
    assert.match(text, /no prediction log at .*nothing[\\/]predictions\.db/);
    assert.match(text, /carprice serve/);
    assert.match(text, /monitoring\.log_path/);
    assert.equal(await page.getByRole('link', { name: 'Monitoring' }).getAttribute('aria-current'), 'page');
    assert.equal(await page.getByTestId('drift').count(), 0);
    await page.screenshot({ path: join(shots, 'monitoring-empty.png') });
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('a shifted window of a real log: flagged inputs, unseen make, prediction shift, realized accuracy, shadow agreement', async (t) => {
    if (skip) return t.skip(skip);
    const { page, problems } = await open(full.url);
    await page.getByTestId('drift-features').waitFor();
    assert.equal(await page.getByTestId('drift-status').textContent(), 'alert');
    const status = async (f: string) =>
      page.locator(`[data-testid=drift-features] tr[data-feature="${f}"]`).getAttribute('data-status');
    for (const f of ['year', 'fuelType', 'make']) assert.equal(await status(f), 'alert', f);
    for (const f of ['odometer', 'transmissionType']) assert.equal(await status(f), 'ok', f);
    const make = (await page.locator('[data-testid=drift-features] tr[data-feature="make"]').textContent()) ?? '';
    assert.match(make, /Kia \(unseen\)/);
    assert.match(make, /unseen-category excess/);
    const past = (await page.getByTestId('past-thresholds').textContent()) ?? '';
    for (const f of ['year', 'fuelType', 'make']) assert.ok(past.includes(f), past);
    assert.match((await page.getByTestId('thresholds').textContent()) ?? '', /PSI 0\.1 \/ 0\.25.*at least 200 rows/);
    assert.equal((await page.locator('[data-testid=prediction-shift] svg rect').count()) > 10, true);

    // the page's numbers are driftReport's on the same window (what `carprice monitor drift` prints)
    const db = openLogDatabase(join(dir, 'predictions.db'), { readonly: true });
    const api = (await (await fetch(`${full.url}/ui/api/monitoring`)).json()) as { window: { since: string } };
    const since = Date.parse(api.window.since);
    const r = driftReport({
      db,
      reference: bundle.reference,
      referenceOrigin: 'bundle',
      model: { name: 'model', version: null },
      since,
      now: NOW + 60_000,
      thresholds: thresholdsFromParams(params.monitoring.drift),
    });
    db.close();
    const year = r.features.find((f) => f.feature === 'year')!;
    const yearRow = (await page
      .locator('[data-testid=drift-features] tr[data-feature="year"] td')
      .nth(1)
      .textContent())!;
    assert.equal(yearRow, year.psi!.toFixed(3));
    assert.equal(r.window.rows, 600);

    // realized accuracy of the imported sales, by week, and the challenger's agreement
    const mape = (await page.getByTestId('realized-mape').textContent()) ?? '';
    assert.match(mape, /^\d+\.\d%$/);
    assert.ok(Number(mape.slice(0, -1)) > 2 && Number(mape.slice(0, -1)) < 12, mape);
    assert.match((await page.getByTestId('realized-coverage').textContent()) ?? '', /^\d+\.\d%$/);
    assert.ok((await page.locator('[data-testid=accuracy-periods] tbody tr').count()) >= 1);
    await page.getByTestId('accuracy-by-period').waitFor();
    assert.match((await page.getByTestId('agreement').textContent()) ?? '', /within 5% of the champion's/);
    assert.match((await page.getByTestId('shadow-accuracy').textContent()) ?? '', /On 120 sold car\(s\)/);
    await page.screenshot({ path: join(shots, 'monitoring-shift.png'), fullPage: true });

    // a 24-hour window holds none of these rows: no verdict, no shadow rows
    await page.getByRole('link', { name: 'last 24h' }).click();
    await page.waitForFunction(() =>
      (globalThis as unknown as { location: { hash: string } }).location.hash.includes('since=24h'),
    );
    await page.getByText(/0 logged prediction\(s\) in the window, fewer than monitoring\.drift\.min_rows/).waitFor();
    assert.equal(await page.getByTestId('drift-status').textContent(), 'too few rows');
    await page.getByText(/No challenger rows in this window/).waitFor();
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('the same page on a phone screen: no sideways page scroll', async (t) => {
    if (skip) return t.skip(skip);
    const ctx = await browser!.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    await page.goto(full.url + '/ui/#/monitoring');
    await page.getByTestId('drift-features').waitFor();
    const wide = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
          .scrollWidth,
    );
    assert.ok(wide <= 390, `page is ${wide} px wide`);
    await page.screenshot({ path: join(shots, 'monitoring-390.png'), fullPage: true });
    await ctx.close();
  });

  it('a bad window is a 400 naming since; no adapter is a 501 saying where the page is', async (t) => {
    if (skip) return t.skip(skip);
    const r = await fetch(`${full.url}/ui/api/monitoring?since=yesterday`);
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: string; message: string };
    assert.equal(body.error, 'INVALID_PARAMETER_VALUE');
    assert.match(body.message, /^since must be a duration like 24h, 7d or 2w, or an ISO date/);
    const u = await fetch(`${full.url}/ui/api/monitoring?since=2d&until=3d`);
    assert.equal(u.status, 400);
    assert.match(((await u.json()) as { message: string }).message, /until must be later than since/);
    const none = await startDashboard(store);
    try {
      const n = await fetch(`${none.url}/ui/api/monitoring`);
      assert.equal(n.status, 501);
      assert.match(((await n.json()) as { message: string }).message, /reads no prediction log/);
    } finally {
      await none.close();
    }
  });
});
