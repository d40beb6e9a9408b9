/**
 * The dashboard's other pages in Chromium, mounted as `carprice up` mounts it: on the real
 * prediction API (buildApp with a real bundle), with the CLI's own wiring (governance from
 * jobs/promotion.ts, predictions through app.inject, known values from a listings CSV,
 * version scoring on a test CSV) over a real SQLite store with a registered model, and a
 * real pipeline repo (reproduced by the built CLI, committed with git, then edited).
 * Covers run detail (charts, artifact previews), a comparison, the models page (promote
 * and roll back through the buttons), the pipeline page and a prediction through the form;
 * no console errors; 1280x800 and 390-px screenshots in test-artifacts/ui/.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage, screenshotDir, type Seeded } from '../helpers/dashboard.js';
import { MODEL, USER, startProjectDashboard, type ProjectDashboard } from '../helpers/dashboard-project.js';
import { governanceAdapter } from '../../src/cli/dashboard-wiring.js';
import type { TrackingClient } from '../../src/tracking/index.js';

interface El {
  textContent: string | null;
}
declare const document: {
  querySelectorAll(s: string): { length: number };
  querySelector(s: string): El | null;
  documentElement: { scrollWidth: number };
};

let browser: Browser | undefined;
let skip: string | false = false;
let project: ProjectDashboard;
let seeded: Seeded;
let url = '';
let client: TrackingClient;
const shots = screenshotDir();

before(async () => {
  const b = await launchChromium();
  if (typeof b === 'string') {
    skip = b;
    return;
  }
  browser = b;
  project = await startProjectDashboard({ runs: 12, children: 5, versions: 2 });
  ({ seeded, client, url } = project);
});

after(async () => {
  await browser?.close();
  await project?.close();
});

const signedIn = () =>
  browser!.newContext({
    viewport: { width: 1280, height: 800 },
    httpCredentials: USER,
  });

describe('dashboard pages in Chromium (mounted on the prediction API)', () => {
  it('asks for credentials: without them the page is a 401 challenge with no data', async (t) => {
    if (skip) return t.skip(skip);
    const ctx = await browser!.newContext();
    const page = await ctx.newPage();
    // the server challenges (401 + WWW-Authenticate: Basic); a browser with nobody to ask gives up
    await assert.rejects(page.goto(url + '/ui/'), /ERR_INVALID_AUTH_CREDENTIALS/);
    for (const path of ['/ui/', '/ui/assets/app.js', '/ui/api/models', `/ui/api/runs/${seeded.runIds[0]}`]) {
      const r = await ctx.request.get(url + path);
      assert.equal(r.status(), 401, path);
      assert.match(r.headers()['www-authenticate'] ?? '', /^Basic realm="carprice"/);
      assert.doesNotMatch(await r.text(), /cars|UsedCarPriceModel|run-0|preact/, path);
    }
    await ctx.close();
  });

  it('run detail: params, metrics, tags, metric charts, artifacts previewed as text, JSON and PNG', async (t) => {
    if (skip) return t.skip(skip);
    const ctx = await signedIn();
    const { page, problems } = await openPage(ctx);
    await page.goto(`${url}/ui/#/runs/${seeded.runIds[0]}`);
    await page.getByTestId('params').waitFor();
    assert.match(await page.getByTestId('params').innerText(), /algo\s+ridge/);
    assert.match(await page.getByTestId('metrics').innerText(), /rmse\s+[\d,.]+/);
    // the run's own tags (mlflow.* system tags left out); run 0 is a tuning-stage run
    assert.match(await page.getByTestId('tags').innerText(), /stage\s+tune/);
    await page.getByRole('tab', { name: 'Metric charts' }).click();
    await page.getByTestId('chart-rmse').locator('canvas').waitFor();
    await page.screenshot({ path: join(shots, 'run-charts-1280.png') });
    await page.getByRole('tab', { name: 'Artifacts' }).click();
    const list = page.getByTestId('artifact-list');
    await list.getByRole('button', { name: /notes\.txt/ }).click();
    await page.getByTestId('artifact-preview').locator('pre').waitFor();
    assert.match(await page.getByTestId('artifact-preview').locator('pre').innerText(), /hello from run 0/);
    await list.getByRole('button', { name: /metrics\// }).click();
    await list.getByRole('button', { name: /summary\.json/ }).click();
    await page.waitForFunction(() =>
      (document.querySelector('[data-testid=artifact-preview] pre')?.textContent ?? '').includes('"rmse": 1.5'),
    );
    await list.getByRole('button', { name: '..' }).click();
    await list.getByRole('button', { name: /plots\// }).click();
    await list.getByRole('button', { name: /residuals\.png/ }).click();
    const img = page.getByTestId('artifact-preview').locator('img');
    await img.waitFor();
    await page.waitForFunction(() => {
      const i = document.querySelector('[data-testid=artifact-preview] img') as unknown as {
        naturalWidth: number;
      } | null;
      return (i?.naturalWidth ?? 0) === 8;
    });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'residuals.png');
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  it('compares runs: selection in the table, scatter, parallel coordinates, the trials of a tuning run', async (t) => {
    if (skip) return t.skip(skip);
    const ctx = await signedIn();
    const { page, problems } = await openPage(ctx);
    await page.goto(`${url}/ui/#/experiments/${seeded.experimentId}`);
    const table = page.getByTestId('runs');
    await table.waitFor();
    for (const n of ['run-00000', 'run-00001', 'run-00002']) await table.getByLabel(`select ${n}`).check();
    await page.getByRole('button', { name: 'Compare (3)' }).click();
    await page.getByTestId('scatter').waitFor();
    assert.equal(await page.getByTestId('scatter').locator('circle').count(), 3);
    await page.getByLabel('x axis').selectOption('metric:mae');
    await page.getByLabel('y axis').selectOption('metric:rmse');
    assert.equal(await page.getByTestId('scatter').locator('circle').count(), 3);
    assert.equal(await page.getByTestId('compare-table').locator('thead th').count(), 4);
    await page.screenshot({ path: join(shots, 'compare-1280.png'), fullPage: true });
    // the tuning parent's trials: one line per trial in the parallel coordinates
    await page.goto(`${url}/ui/#/experiments/${seeded.experimentId}`);
    await page.getByRole('link', { name: /compare trials/ }).click();
    await page.getByTestId('parallel').waitFor();
    assert.equal(await page.getByTestId('parallel').locator('polyline').count(), 5);
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  it('models: versions, report with error by slice, predicted vs actual, promote and roll back', async (t) => {
    if (skip) return t.skip(skip);
    const ctx = await signedIn();
    const { page, problems } = await openPage(ctx);
    const reasons = ['first release', 'better on Hyundai', 'Hyundai prices look wrong'];
    page.on('dialog', (d) => void d.accept(reasons.shift()));
    await page.goto(`${url}/ui/#/models`);
    await page.getByRole('link', { name: MODEL }).click();
    const versions = page.getByTestId('versions');
    await versions.waitFor();
    assert.equal(await versions.locator('tbody tr').count(), 2);
    // v2 is shown first (newest): its report has the slices
    await page.getByTestId('slices').waitFor();
    assert.equal(await page.getByTestId('slices').locator('rect').count(), 2, 'make: Maruti, Hyundai');
    await page.getByRole('tab', { name: 'Model card' }).click();
    assert.match(await page.getByTestId('model-card').innerText(), /Intended use/);
    await page.getByRole('tab', { name: 'Predicted vs actual' }).click();
    await page.getByTestId('pred-vs-actual').waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('pred-vs-actual').locator('circle').count(), 120);
    assert.equal(await page.getByTestId('residuals').locator('circle').count(), 120);
    await page.screenshot({ path: join(shots, 'model-1280.png'), fullPage: true });

    // promote v1, then v2 (v1 archived), then roll back (v1 Production again)
    const row = (v: string) =>
      versions.locator('tbody tr', { has: page.getByRole('link', { name: `v${v}`, exact: true }) });
    await row('1').getByRole('button', { name: 'Promote' }).click();
    await page.waitForFunction(() =>
      (document.querySelector('[data-testid=history] tbody')?.textContent ?? '').includes('promoted v1'),
    );
    await row('2').getByRole('button', { name: 'Promote' }).click();
    await page.waitForFunction(() =>
      (document.querySelector('[data-testid=history] tbody')?.textContent ?? '').includes('promoted v2'),
    );
    assert.match(await row('1').innerText(), /Archived/);
    assert.match(await row('2').innerText(), /Production/);
    await page.getByRole('button', { name: /Roll back the promotion of v2/ }).click();
    await page.waitForFunction(() =>
      (document.querySelector('[data-testid=history] tbody')?.textContent ?? '').includes('rolled back'),
    );
    assert.match(await row('1').innerText(), /Production/);
    assert.match(await page.getByTestId('history').innerText(), /Hyundai prices look wrong/);
    const history = await governanceAdapter(client).history(MODEL);
    assert.deepEqual(
      history.map((h) => `${h.action} v${h.version} by ${h.by}`),
      ['promote v1 by alice', 'promote v2 by alice', 'rollback v2 by alice'],
    );
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  it('pipeline: the DAG with each stage state and why, params and metrics diffs against the last commit', async (t) => {
    if (skip) return t.skip(skip);
    const ctx = await signedIn();
    const { page, problems } = await openPage(ctx);
    await page.goto(`${url}/ui/#/pipeline`);
    await page.getByTestId('dag').waitFor();
    assert.equal(await page.getByTestId('dag').locator('rect').count(), 2);
    const prepare = page.locator('[data-stage=prepare]');
    const train = page.locator('[data-stage=train]');
    assert.match(await prepare.innerText(), /up to date/);
    assert.match(await train.innerText(), /changed/);
    assert.match(await train.innerText(), /train\.factor/);
    assert.match(await page.getByTestId('params-diff').innerText(), /train\.factor\s+2\s+3/);
    assert.match(await page.getByTestId('metrics-diff').innerText(), /score\s+0\.5\s+0\.75\s+0\.25/);
    await page.screenshot({ path: join(shots, 'pipeline-1280.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  it('predicts through the form: make -> model -> variant pickers, price, interval, explanation bars', async (t) => {
    if (skip) return t.skip(skip);
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      const ctx = await browser!.newContext({ viewport, httpCredentials: USER });
      const { page, problems } = await openPage(ctx);
      await page.goto(`${url}/ui/#/predict`);
      const form = page.getByTestId('predict-form');
      await form.locator('select[name=make]').waitFor();
      const makes = await form.locator('select[name=make] option').allTextContents();
      assert.ok(makes.length >= 2, `makes: ${makes.join(',')}`);
      await form.locator('select[name=make]').selectOption(makes[1]);
      const models = await form.locator('select[name=model] option').allTextContents();
      assert.ok(models.length >= 1);
      const variants = await form.locator('select[name=variant] option').allTextContents();
      assert.ok(variants.length >= 1);
      await form.getByRole('button', { name: 'Predict' }).click();
      await page.getByTestId('price').waitFor();
      assert.match(await page.getByTestId('price').innerText(), /^₹[\d,]+$/);
      await page.getByTestId('explanation').waitFor();
      assert.ok((await page.getByTestId('explanation').locator('rect').count()) > 3);
      // a bad field is named next to the form
      await form.locator('input[name=odometer]').fill('-5');
      await form.getByRole('button', { name: 'Predict' }).click();
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /Odometer/);
      const overflow = await page.evaluate((w) => document.documentElement.scrollWidth - w, viewport.width);
      assert.ok(overflow <= 1, `page ${overflow}px wider than the screen at ${viewport.width}`);
      await page.screenshot({ path: join(shots, `predict-${viewport.width}.png`), fullPage: true });
      // the two 422 answers of the bad odometer (predict and explain) are the only console lines
      assert.deepEqual(
        problems.filter((p) => !/status of 422/.test(p)),
        [],
      );
      await ctx.close();
    }
  });
});
