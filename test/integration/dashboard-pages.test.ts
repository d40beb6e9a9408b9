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
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { launchChromium, screenshotDir, seedStore, type Seeded } from '../helpers/dashboard.js';
import { fixtureBundle, savedBundle } from '../helpers/serving.js';
import { runBuiltCli } from '../helpers/built-cli.js';
import { writeFixtureCsv } from '../fixtures/listings.js';
import { buildApp } from '../../src/serving/build-app.js';
import { ModelProvider } from '../../src/serving/model-provider.js';
import { registerDashboard } from '../../src/dashboard/index.js';
import { TrackingClient } from '../../src/tracking/index.js';
import { LocalArtifactRepository } from '../../src/tracking/artifacts/local-artifact-repository.js';
import { parseParams } from '../../src/config/params.js';
import {
  governanceAdapter,
  injectedPredictor,
  knownValuesFor,
  versionPredictionsFor,
} from '../../src/cli/dashboard-wiring.js';

interface El {
  textContent: string | null;
}
declare const document: {
  querySelectorAll(s: string): { length: number };
  querySelector(s: string): El | null;
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number };

let browser: Browser | undefined;
let skip: string | false = false;
let seeded: Seeded;
let app: FastifyInstance;
let url = '';
let client: TrackingClient;
let provider: ModelProvider;
let repo = '';
const shots = screenshotDir();
const MODEL = 'UsedCarPriceModel';

async function openPage(ctx: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  return { page, problems };
}

const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
};

/** A pipeline repo: prepare -> train, reproduced and committed, then a param and the raw data edited. */
async function pipelineRepo(): Promise<string> {
  const d = mkdtempSync(join(tmpdir(), 'carprice-ui-pipe-'));
  mkdirSync(join(d, '.dvc'));
  writeFileSync(join(d, 'raw.txt'), 'abc\n');
  writeFileSync(join(d, 'params.yaml'), 'train:\n  factor: 2\n');
  writeFileSync(join(d, 'score.cjs'), "require('fs').writeFileSync('metrics.json', JSON.stringify({ score: 0.5 }));\n");
  writeFileSync(
    join(d, 'dvc.yaml'),
    [
      'stages:',
      '  prepare:',
      '    cmd: cp raw.txt prepared.txt',
      '    deps:',
      '    - raw.txt',
      '    outs:',
      '    - prepared.txt',
      '  train:',
      '    cmd: node score.cjs',
      '    deps:',
      '    - prepared.txt',
      '    params:',
      '    - train.factor',
      '    metrics:',
      '    - metrics.json:',
      '        cache: false',
      '',
    ].join('\n'),
  );
  const r = await runBuiltCli(['repro'], d);
  assert.equal(r.code, 0, r.stderr);
  git(d, 'init', '-q');
  git(d, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '-A');
  git(d, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'pipeline');
  writeFileSync(join(d, 'params.yaml'), 'train:\n  factor: 3\n');
  writeFileSync(join(d, 'metrics.json'), JSON.stringify({ score: 0.75 }));
  return d;
}

before(async () => {
  const b = await launchChromium();
  if (typeof b === 'string') {
    skip = b;
    return;
  }
  browser = b;
  seeded = await seedStore({ runs: 12, children: 5 });
  client = new TrackingClient({
    store: seeded.store,
    artifacts: { repositoryFor: (uri) => new LocalArtifactRepository(uri), close() {} },
  });
  // a project: listings for the pickers and the test split, a registered model with two versions
  const project = join(seeded.dir, 'project');
  const ingest = join(project, 'artifacts/data_ingestion');
  mkdirSync(ingest, { recursive: true });
  writeFixtureCsv(join(ingest, 'train.csv'), { n: 300, seed: 1 });
  writeFixtureCsv(join(ingest, 'test.csv'), { n: 120, seed: 2 });
  const params = parseParams({});
  const bundleDir = savedBundle(fixtureBundle({ n: 300 }));
  for (const [i, runId] of [seeded.runIds[0], seeded.runIds[1]].entries()) {
    await client.logModel(runId, bundleDir);
    const v = await client.registerModel(MODEL, `runs:/${runId}/model`);
    await seeded.store.setModelVersionTag(MODEL, v.version, 'carprice.test.status', 'passed');
    await seeded.store.setModelVersionTag(MODEL, v.version, 'carprice.test.at', '2026-01-02T03:04:05.000Z');
    await seeded.store.setModelVersionTag(MODEL, v.version, 'carprice.test.champion', i === 0 ? 'none' : '1');
  }
  const repo2 = new LocalArtifactRepository((await seeded.store.getRun(seeded.runIds[1])).info.artifactUri);
  const slice = (column: string, value: string, mape: number, flagged = false) => ({
    column,
    value,
    n: 40,
    mae: 50_000,
    mape,
    flagged,
  });
  await repo2.write(
    'model_test/report.json',
    Buffer.from(
      JSON.stringify({
        kind: 'carprice-model-test-report',
        formatVersion: 1,
        passed: true,
        failures: [],
        testedAt: '2026-01-02T03:04:05.000Z',
        data: { source: 'test.csv', rows: 120, dataHash: 'x' },
        metrics: { r2: 0.9, mae: 60_000, mape: 0.12 },
        gates: [{ name: 'min_r2', value: 0.9, threshold: 0.7, passed: true }],
        champion: null,
        championNote: 'there is no Production version yet',
        behaviour: [{ name: 'older is cheaper', passed: true, detail: 'ok on 50 listings' }],
        slices: {
          overall: { n: 120, mae: 60_000, mape: 0.12 },
          minCount: 20,
          flagRatio: 1.5,
          slices: [
            slice('make', 'Maruti', 0.1),
            slice('make', 'Hyundai', 0.2, true),
            slice('fuelType', 'Petrol', 0.11),
          ],
          flagged: [slice('make', 'Hyundai', 0.2, true)],
          smallSliceListings: 0,
        },
      }),
    ),
  );
  await repo2.write('model_card/model_card.md', Buffer.from('# UsedCarPriceModel v2\n\nIntended use: prices.\n'));

  repo = await pipelineRepo();
  provider = new ModelProvider({ source: bundleDir });
  await provider.start();
  const knownValues = await knownValuesFor(
    { ...params, data_source: { ...params.data_source, raw_data: 'none.csv' } },
    project,
  );
  app = await buildApp({
    provider,
    logRequests: false,
    docs: false,
    extend: (a) =>
      registerDashboard(a, {
        store: seeded.store,
        artifactsFor: (uri) => new LocalArtifactRepository(uri),
        users: 'alice:s3cret',
        pipelineDir: repo,
        governance: governanceAdapter(client),
        knownValues,
        predict: injectedPredictor(a, {}),
        versionPredictions: versionPredictionsFor(client, params, project, {}),
        host: 'prediction API',
      }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await browser?.close();
  await app?.close();
  await provider?.close();
  await seeded?.store.close();
  if (repo) rmSync(repo, { recursive: true, force: true });
});

const signedIn = () =>
  browser!.newContext({
    viewport: { width: 1280, height: 800 },
    httpCredentials: { username: 'alice', password: 's3cret' },
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

  it('run detail: metric charts, params, artifacts previewed as text, JSON and PNG', async (t) => {
    if (skip) return t.skip(skip);
    const ctx = await signedIn();
    const { page, problems } = await openPage(ctx);
    await page.goto(`${url}/ui/#/runs/${seeded.runIds[0]}`);
    await page.getByTestId('params').waitFor();
    assert.match(await page.getByTestId('params').innerText(), /algo\s+ridge/);
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
      const ctx = await browser!.newContext({ viewport, httpCredentials: { username: 'alice', password: 's3cret' } });
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
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
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
