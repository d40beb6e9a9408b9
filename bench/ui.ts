/**
 * bench/ui: the web dashboard with real volume. Seeds a SQLite tracking store with 10,000
 * runs (3 params, rmse/mae history of 5 steps, r2, a tag; plus a tuning parent with 50
 * trials) and a registered model with 50 versions (test tags and metrics, a test report
 * with error by slice and a model card each, 5 real promotions and a rollback, Staging
 * versions and aliases), mounts the dashboard as `carprice up` does (the prediction API
 * with a real bundle, signed in, governance, known values, version scoring; 127.0.0.1) and
 * drives Debian's Chromium through playwright-core: for each page, the time from
 * navigation until the page's content is on screen and answers input (the page's key
 * element visible, then one animation frame), median of 5 loads after one warm-up; then
 * interactions (sort, page, filter, pick a version, predict). Target: every page < 1 s.
 * Also the dashboard's JSON calls alone (server time, median of 20), against the anchor:
 * the store's own searchRuns page of 50 runs.
 * The pipeline page reads the dvc.yaml of the directory the bench runs in (the project root).
 * The monitoring page reads a real prediction log of --log-rows shifted requests in its
 * 7-day window (each also priced by a shadow challenger; sold prices for a tenth) after as
 * many older ones: drift, realized accuracy and shadow agreement computed per load. The
 * recent rows are spread over the week (the window's whole hours come from the log's hourly
 * aggregates); its parts are also timed in-process, from the aggregates and row by row.
 * Usage: node dist/bench/ui.js [--runs 10000] [--versions 50] [--loads 5] [--log-rows 100000]
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/dashboard.js';
import { MODEL, USER, startProjectDashboard } from '../test/helpers/dashboard-project.js';
import { join } from 'node:path';
import { parseParams } from '../src/config/params.js';
import { ModelBundle } from '../src/bundle/model-bundle.js';
import { openLogDatabase } from '../src/monitoring/log-store.js';
import { splitWindow } from '../src/monitoring/hourly.js';
import { driftReport, thresholdsFromParams } from '../src/monitoring/drift-report.js';
import { monitorShadow } from '../src/jobs/monitor-shadow.js';
import { realizedAccuracy } from '../src/jobs/monitor-feedback.js';
import { benchArgs, runBench, wholeNumber } from './bench-args.js';

const args = benchArgs({
  name: 'ui',
  summary: 'the web dashboard with real volume, driven by Chromium: every page < 1 s',
  options: {
    runs: { type: 'string', value: 'N', default: '10000', help: 'runs in the tracking store', check: wholeNumber(1) },
    versions: {
      type: 'string',
      value: 'N',
      default: '50',
      help: 'versions of the registered model',
      check: wholeNumber(1),
    },
    loads: { type: 'string', value: 'N', default: '5', help: 'loads per page (median)', check: wholeNumber(1) },
    'log-rows': {
      type: 'string',
      value: 'N',
      default: '100000',
      help: 'prediction log rows in the window',
      check: wholeNumber(1),
    },
  },
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(0)} ms`;

/**
 * The monitoring overview's parts on the bench's log, each from the hourly aggregates (what
 * the page does) and row by row (what it did before them), median of 3, in this process:
 * drift, shadow agreement and accuracy, and the realized accuracy of every sale.
 */
function monitoringParts(logPath: string, modelDir: string): void {
  const params = parseParams({});
  const reference = ModelBundle.load(modelDir).reference;
  const now = Date.now();
  const since = now - 7 * 86_400_000;
  const db = openLogDatabase(logPath, { readonly: true });
  const med3 = (f: () => unknown) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      f();
      times.push(performance.now() - t0);
    }
    return median(times);
  };
  try {
    const drift = (rowsOnly: boolean) => () =>
      driftReport({
        db,
        reference,
        referenceOrigin: 'bundle',
        model: { name: 'model', version: null },
        since,
        until: now,
        thresholds: thresholdsFromParams(params.monitoring.drift),
        now,
        rowsOnly,
      });
    const shadow = (rowsOnly: boolean) => () => monitorShadow({ logPath, since, until: now, params, rowsOnly });
    const split = splitWindow(db, since, now);
    console.log(
      `\nThe monitoring overview's parts, in-process (7-day window: ${split.hours.length} hour segments from the hourly aggregates, ${split.rest ? 'the partial hours at its ends row by row' : 'no partial hour'}; median of 3):`,
    );
    for (const [label, fast, slow] of [
      ['drift report', drift(false), drift(true)],
      ['shadow agreement + accuracy (paired bootstrap)', shadow(false), shadow(true)],
    ] as const) {
      const a = med3(fast);
      const b = med3(slow);
      console.log(`  ${label.padEnd(48)} ${ms(a).padStart(8)}  (row by row ${ms(b)}: ${(b / a).toFixed(1)}x)`);
    }
    const acc = med3(() => realizedAccuracy(db, { period: 'week' }));
    console.log(`  ${'realized accuracy of every sale (indexed join)'.padEnd(48)} ${ms(acc).padStart(8)}`);
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const runs = args.number('runs')!;
  const versions = args.number('versions')!;
  const loads = args.number('loads')!;
  const logRows = args.number('log-rows')!;
  const browser = await launchChromium();
  if (typeof browser === 'string') {
    console.log(`skipped: ${browser}`);
    return;
  }
  console.log(
    `bench/ui: ${runs} runs + a tuning parent with 50 trials, ${MODEL} with ${versions} versions; ${cpus().length} cores, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const t = performance.now();
  // the pipeline page reads this repository's dvc.yaml (run from the project root)
  const pipelineDir = existsSync('dvc.yaml') ? process.cwd() : undefined;
  const project = await startProjectDashboard({
    runs,
    children: 50,
    versions,
    promotions: 5,
    pipelineDir,
    logRows,
    // a week's traffic: the recent rows spread over the 7-day window (its whole hours are read
    // from the hourly aggregates, its partial first and last hour row by row)
    logSpreadMs: 6.9 * 86_400_000,
  });
  const { seeded } = project;
  const server = { url: project.url };
  console.log(`seeded and started in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const exp = seeded.experimentId;
  const auth = { authorization: 'Basic ' + Buffer.from(`${USER.username}:${USER.password}`).toString('base64') };
  try {
    // ---------------------------------------------------------------- JSON calls
    const api = async (path: string, calls = 21) => {
      const times: number[] = [];
      for (let i = 0; i < calls; i++) {
        const t0 = performance.now();
        const r = await fetch(server.url + path, { headers: auth });
        await r.arrayBuffer();
        if (!r.ok) throw new Error(`${path}: ${r.status}`);
        if (i) times.push(performance.now() - t0);
      }
      return median(times);
    };
    const anchor: number[] = [];
    for (let i = 0; i < 21; i++) {
      const t0 = performance.now();
      await seeded.store.searchRuns({ experimentIds: [exp], maxResults: 50, orderBy: ['metrics.rmse ASC'] });
      if (i) anchor.push(performance.now() - t0);
    }
    const anchorMs = median(anchor);
    console.log(`\nJSON (median of 20, server on this machine):`);
    console.log(`  anchor: store.searchRuns 50 runs by rmse           ${anchorMs.toFixed(1)} ms`);
    for (const [label, path] of [
      ['runs page 1 (50, newest, nested folded)', `/ui/api/runs?experiment_ids=${exp}&max_results=50`],
      [
        'runs page 1 sorted by metrics.rmse',
        `/ui/api/runs?experiment_ids=${exp}&max_results=50&order_by=metrics.rmse%20ASC`,
      ],
      [
        'runs filtered (params.algo = gbdt and r2 > 0.9)',
        `/ui/api/runs?experiment_ids=${exp}&max_results=50&filter=${encodeURIComponent("params.algo = 'gbdt' and metrics.r2 > 0.9")}`,
      ],
      [
        'runs page 100 (offset 4,950)',
        `/ui/api/runs?experiment_ids=${exp}&max_results=50&page_token=${Buffer.from(JSON.stringify({ offset: 4950 })).toString('base64')}`,
      ],
      ['run detail', `/ui/api/runs/${seeded.runIds[0]}`],
      ['metric history (rmse, mae)', `/ui/api/runs/${seeded.runIds[0]}/metric-history?keys=rmse,mae`],
      ['compare 50 trials', `/ui/api/runs?experiment_ids=${exp}&parent=${seeded.parentId}&max_results=500&nest=0`],
      ['experiments', '/ui/api/experiments'],
      ['models', '/ui/api/models'],
      [`model (${versions} versions, history)`, `/ui/api/models/${MODEL}`],
      ['model version (report, card)', `/ui/api/models/${MODEL}/versions/${versions - 1}`],
      ['model version predictions (120 listings)', `/ui/api/models/${MODEL}/versions/${versions - 1}/predictions`],
      ['known values (predict pickers)', '/ui/api/known-values'],
      [`monitoring (7-day window: ${logRows.toLocaleString('en')} + shadow rows)`, '/ui/api/monitoring'],
    ] as const) {
      // the monitoring overview reads its whole window each call: 5 calls, not 21
      const m = await api(path, path.startsWith('/ui/api/monitoring') ? 5 : 21);
      console.log(`  ${label.padEnd(50)} ${m.toFixed(1).padStart(6)} ms  (${(m / anchorMs).toFixed(1)}x the anchor)`);
    }

    // ------------------------------------------- the monitoring overview's parts, in-process
    const monitorDir = join(seeded.dir, 'monitoring');
    if (logRows > 0) monitoringParts(join(monitorDir, 'predictions.db'), join(monitorDir, 'model'));

    // ---------------------------------------------------------------- pages in Chromium
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, httpCredentials: USER });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const visit = async (hash: string, ready: (p: Page) => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i <= loads; i++) {
        await page.goto('about:blank');
        const t0 = performance.now();
        await page.goto(`${server.url}/ui/${hash}`);
        await ready(page);
        await page.evaluate('new Promise((r) => requestAnimationFrame(() => r(null)))');
        if (i) times.push(performance.now() - t0);
      }
      return median(times);
    };
    const rows = (n: number) => (p: Page) =>
      p.waitForFunction(
        (k) =>
          (
            globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
          ).document.querySelectorAll('[data-testid=runs] tbody tr').length >= k,
        n,
      );
    const pages: Array<[string, string, (p: Page) => Promise<unknown>]> = [
      ['experiments', '#/', (p) => p.getByTestId('experiments').waitFor()],
      [`runs table, 50 of ${(runs + 51).toLocaleString('en')}`, `#/experiments/${exp}`, rows(45)],
      ['runs sorted by rmse', `#/experiments/${exp}?order=${encodeURIComponent('metrics.`rmse` ASC')}`, rows(45)],
      [
        'runs filtered',
        `#/experiments/${exp}?filter=${encodeURIComponent("params.algo = 'gbdt' and metrics.r2 > 0.9")}`,
        rows(10),
      ],
      ['runs, 250 rows per page', `#/experiments/${exp}?size=250`, rows(199)],
      ['run detail', `#/runs/${seeded.runIds[0]}`, (p) => p.getByTestId('params').waitFor()],
      [
        'compare 50 trials (parallel coords)',
        `#/compare?parent=${seeded.parentId}&exp=${exp}`,
        (p) => p.getByTestId('parallel').waitFor(),
      ],
      ['models', '#/models', (p) => p.getByTestId('models').waitFor()],
      [
        `model: ${versions} versions, history, report`,
        `#/models/${MODEL}`,
        (p) => Promise.all([p.getByTestId('versions').waitFor(), p.getByTestId('slices').waitFor()]),
      ],
      ...(pipelineDir
        ? [
            ['pipeline (dvc.yaml of this repo)', '#/pipeline', (p: Page) => p.getByTestId('dag').waitFor()] as [
              string,
              string,
              (p: Page) => Promise<unknown>,
            ],
          ]
        : []),
      [
        `monitoring (${logRows.toLocaleString('en')}-row window)`,
        '#/monitoring',
        (p) => Promise.all([p.getByTestId('drift-features').waitFor(), p.getByTestId('shadow').waitFor()]),
      ],
      [
        'predict form (pickers filled)',
        '#/predict',
        (p) => p.locator('select[name=make] option').first().waitFor({ state: 'attached' }),
      ],
    ];
    console.log(
      `\nPages in Chromium ${browser.version()} at 1280x800 (navigation -> content shown and answering input; median of ${loads}):`,
    );
    let worst = 0;
    for (const [label, hash, ready] of pages) {
      const m = await visit(hash, ready);
      worst = Math.max(worst, m);
      console.log(`  ${label.padEnd(38)} ${ms(m).padStart(8)}  ${m < 1000 ? 'ok' : 'OVER 1 s'}`);
    }
    // interactions on the loaded runs table
    await page.goto(`${server.url}/ui/#/experiments/${exp}`);
    await rows(45)(page);
    const interact = async (label: string, act: () => Promise<unknown>, ready: () => Promise<unknown>) => {
      const t0 = performance.now();
      await act();
      await ready();
      const m = performance.now() - t0;
      worst = Math.max(worst, m);
      console.log(`  ${label.padEnd(38)} ${ms(m).padStart(8)}  ${m < 1000 ? 'ok' : 'OVER 1 s'}`);
    };
    console.log('Interactions on the runs table:');
    await interact(
      'sort by a metric column',
      () => page.getByTestId('runs').getByRole('button', { name: /^rmse/ }).click(),
      () =>
        page
          .waitForFunction(() =>
            (globalThis as unknown as { location: { hash: string } }).location.hash.includes('order='),
          )
          .then(() => rows(45)(page)),
    );
    await interact(
      'next page',
      () => page.getByRole('button', { name: 'Next →' }).click(),
      () =>
        page.waitForFunction(
          () =>
            (
              globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }
            ).document.querySelector('.pager span')?.textContent === 'page 2',
        ),
    );
    await interact(
      'filter',
      async () => {
        await page.getByLabel('Filter runs').fill("params.algo = 'ridge'");
        await page.getByRole('button', { name: 'Search' }).click();
      },
      () =>
        page
          .waitForFunction(() =>
            (globalThis as unknown as { location: { hash: string } }).location.hash.includes('filter='),
          )
          .then(() => rows(45)(page)),
    );
    // interactions on the model page and the predict form
    console.log('Interactions on the model page and the predict form:');
    await page.goto(`${server.url}/ui/#/models/${MODEL}`);
    await page.getByTestId('slices').waitFor();
    await interact(
      'pick another version (report + card)',
      () => page.getByRole('link', { name: `v${versions - 2}`, exact: true }).click(),
      () => page.getByRole('heading', { name: `Version ${versions - 2}` }).waitFor(),
    );
    await interact(
      'predicted vs actual (scores 120 listings)',
      () => page.getByRole('tab', { name: 'Predicted vs actual' }).click(),
      () => page.getByTestId('residuals').waitFor(),
    );
    await page.goto(`${server.url}/ui/#/predict`);
    await page.locator('select[name=make] option').first().waitFor({ state: 'attached' });
    await interact(
      'predict: price, interval, explanation',
      () => page.getByTestId('predict-form').getByRole('button', { name: 'Predict' }).click(),
      () => page.getByTestId('explanation').waitFor(),
    );
    console.log(
      `\nworst: ${ms(worst)} (target < 1000 ms)${errors.length ? `; page errors: ${errors.join('; ')}` : ''}`,
    );
    console.log(
      `load average after: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
    await ctx.close();
  } finally {
    await browser.close();
    await project.close();
  }
}

runBench('ui', main);
