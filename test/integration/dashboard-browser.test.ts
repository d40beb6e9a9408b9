/**
 * The web dashboard in a real browser (Debian's Chromium driven by playwright-core) against
 * the real tracking server on 127.0.0.1 and a real SQLite store: navigation, the runs
 * table (filter, sort, column chooser, paging, nested runs), no console errors, at
 * 1280x800 and on a 390-px phone. Screenshots go to test-artifacts/ui/ (git-ignored).
 * Skips, saying why, when Chromium is not installed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  launchChromium,
  openPage,
  screenshotDir,
  seedStore,
  startDashboard,
  type RunningDashboard,
  type Seeded,
} from '../helpers/dashboard.js';
import { governanceAdapter } from '../../src/cli/dashboard-wiring.js';
import { TrackingClient } from '../../src/tracking/index.js';
import { LocalArtifactRepository } from '../../src/tracking/artifacts/local-artifact-repository.js';

// Browser globals used inside page.evaluate/waitForFunction callbacks (the Node build has no DOM library).
interface El {
  textContent: string | null;
  innerText: string;
}
declare const document: {
  querySelector(s: string): El | null;
  querySelectorAll(s: string): { length: number };
  documentElement: { scrollWidth: number };
};
declare const location: { hash: string };
declare class URLSearchParams {
  constructor(s?: string);
  get(k: string): string | null;
}

let browser: Browser | undefined;
let skip: string | false = false;
let seeded: Seeded;
let server: RunningDashboard;
const shots = screenshotDir();

before(async () => {
  const b = await launchChromium();
  if (typeof b === 'string') {
    skip = b;
    return;
  }
  browser = b;
  seeded = await seedStore({ runs: 60, children: 6 });
  server = await startDashboard(seeded.store);
});

after(async () => {
  await browser?.close();
  await server?.close();
  await seeded?.store.close();
});

describe('dashboard in Chromium', () => {
  it('lists experiments and opens the runs table; filters, sorts, pages, folds nested runs', async (t) => {
    if (skip) return t.skip(skip);
    const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await openPage(ctx);
    await page.goto(server.url + '/ui/');
    await page.getByRole('link', { name: 'cars' }).click();
    const table = page.getByTestId('runs');
    await table.waitFor();
    // 50 runs per page by default, newest first: the tuning parent and its 6 trials are on
    // page 1, the trials folded under the parent (44 rows)
    const names = async () => table.locator('tbody tr td.name a.run').allTextContents();
    const p1 = await names();
    assert.equal(p1.length, 44);
    assert.ok(p1.includes('tuning-parent'));
    assert.ok(!p1.some((n) => n.startsWith('trial-')), 'children are folded');
    await page.getByRole('button', { name: /unfold 6 child runs/ }).click();
    assert.equal((await names()).filter((n) => n.startsWith('trial-')).length, 6);
    await page.screenshot({ path: join(shots, 'runs-1280.png'), fullPage: false });

    // next page (the other 17 runs), previous page
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.waitForFunction(() => document.querySelector('.pager span')?.textContent === 'page 2');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=runs] tbody tr').length === 17);
    assert.equal(await page.getByRole('button', { name: 'Next →' }).isDisabled(), true);
    await page.getByRole('button', { name: '← Previous' }).click();
    await page.waitForFunction(() => document.querySelector('.pager span')?.textContent === 'page 1');

    // MLflow filter syntax
    await page.getByLabel('Filter runs').fill("params.algo = 'gbdt' and metrics.r2 > 0.8");
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => location.hash.includes('filter='));
    await table.locator('tbody tr').first().waitFor();
    const rows = await table.locator('tbody tr').count();
    const matching = (
      await seeded.store.searchRuns({
        experimentIds: [seeded.experimentId],
        filter: "params.algo = 'gbdt' and metrics.r2 > 0.8",
        maxResults: 1000,
      })
    ).items;
    // a matching child whose parent matches too is folded under it
    const ids = new Set(matching.map((r) => r.info.runId));
    const expected = matching.filter(
      (r) => !r.data.tags.some((t) => t.key === 'mlflow.parentRunId' && ids.has(t.value)),
    ).length;
    assert.ok(expected > 0);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=runs] tbody tr').length === n, expected);
    assert.ok(rows > 0);
    const algoCells = await table
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => (tr as unknown as El).innerText));
    assert.ok(
      algoCells.every((t) => t.includes('gbdt')),
      'every row is a gbdt run',
    );

    // a bad filter is explained, not a blank page
    const before = problems.length;
    await page.getByLabel('Filter runs').fill('metrics.rmse <<< 1');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /comparator|filter/i);
    // the browser logs the 400 answer itself; nothing else may be logged
    assert.deepEqual(problems.splice(before), [
      'console: Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);
    await page.getByRole('button', { name: 'Clear' }).click();
    await table.waitFor();

    // sort by rmse ascending: the first row is the store's lowest rmse
    await table.getByRole('button', { name: 'rmse' }).click(); // DESC
    await page.waitForFunction(
      () => new URLSearchParams(location.hash.split('?')[1]).get('order') === 'metrics.`rmse` DESC',
    );
    await table.getByRole('button', { name: /rmse/ }).click(); // ASC
    await page.waitForFunction(
      () => new URLSearchParams(location.hash.split('?')[1]).get('order') === 'metrics.`rmse` ASC',
    );
    await page.waitForFunction(() => document.querySelector('[data-testid=runs] th[aria-sort=ascending]') !== null);
    const best = (
      await seeded.store.searchRuns({
        experimentIds: [seeded.experimentId],
        orderBy: ['metrics.rmse ASC'],
        maxResults: 1,
      })
    ).items[0];
    await page.waitForFunction(
      (name) => document.querySelector('[data-testid=runs] tbody tr td.name a.run')?.textContent === name,
      best.info.runName,
    );

    // column chooser: hide r2, it stays hidden after a reload
    await page.getByRole('button', { name: /Columns/ }).click();
    await page
      .getByTestId('column-chooser')
      .getByLabel(/metric r2/)
      .uncheck();
    assert.equal(await table.getByRole('button', { name: /^r2/ }).count(), 0);
    await page.reload();
    await table.waitFor();
    assert.equal(await table.getByRole('button', { name: /^r2/ }).count(), 0);
    assert.ok((await table.getByRole('button', { name: /^rmse/ }).count()) > 0);

    assert.deepEqual(problems, []);
    await ctx.close();
  });

  it('shows no promote or roll-back button without write access, and says why', async (t) => {
    if (skip) return t.skip(skip);
    const name = 'ReadOnlyModel';
    await seeded.store.createRegisteredModel(name);
    const v = await seeded.store.createModelVersion({
      name,
      source: `runs:/${seeded.runIds[0]}/model`,
      runId: seeded.runIds[0],
      tags: [{ key: 'carprice.test.status', value: 'passed' }],
    });
    await seeded.store.transitionModelVersionStage(name, v.version, 'Production', false);
    await seeded.store.setRegisteredModelAlias(name, 'champion', v.version);
    const client = new TrackingClient({
      store: seeded.store,
      artifacts: { repositoryFor: (uri) => new LocalArtifactRepository(uri), close() {} },
    });
    // the tracking server without governance; a server with governance but no users
    const governed = await startDashboard(seeded.store, { governance: governanceAdapter(client) });
    try {
      for (const [base, why] of [
        [server.url, /does not manage the registry/],
        [governed.url, /needs users: start the server with CARPRICE_TRACKING_USERS/],
      ] as const) {
        const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
        const { page, problems } = await openPage(ctx);
        await page.goto(`${base}/ui/#/models/${name}`);
        const versions = page.getByTestId('versions');
        await versions.waitFor();
        assert.match(await versions.innerText(), /v1\s+Production\s+@champion\s+passed/);
        assert.equal(await page.getByRole('button', { name: 'Promote' }).count(), 0, base);
        assert.equal(await page.getByRole('button', { name: /Roll back/ }).count(), 0, base);
        assert.match(await page.getByText(/^Read-only:/).innerText(), why);
        assert.deepEqual(problems, []);
        await ctx.close();
      }
      // and the API refuses the change itself, naming what is missing
      const r = await fetch(`${governed.url}/ui/api/models/${name}/rollback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-carprice-ui': '1' },
        body: JSON.stringify({ reason: 'try it anyway' }),
      });
      assert.equal(r.status, 403);
      assert.match(((await r.json()) as { message: string }).message, /CARPRICE_TRACKING_USERS/);
    } finally {
      await governed.close();
    }
  });

  it('is usable on a 390-px phone screen: no page-wide horizontal scroll, the table scrolls in its box', async (t) => {
    if (skip) return t.skip(skip);
    const ctx = await browser!.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const { page, problems } = await openPage(ctx);
    await page.goto(`${server.url}/ui/#/experiments/${seeded.experimentId}`);
    await page.getByTestId('runs').waitFor();
    // against the screen's width: a mobile browser widens innerWidth to fit wide content
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - 390);
    assert.ok(overflow <= 1, `page is ${overflow}px wider than the screen`);
    await page.screenshot({ path: join(shots, 'runs-390.png') });
    await page.getByRole('link', { name: 'Experiments' }).click();
    await page.getByTestId('experiments').waitFor();
    assert.deepEqual(problems, []);
    await ctx.close();
  });
});
