/**
 * Every page of the dashboard, in every state a user reaches by clicking (tabs, a chosen
 * artifact, a prediction), at 1280x800 and on a 390x844 phone, in Chromium against the
 * dashboard as `carprice up` mounts it (signed in; a registry with 12 versions, stages,
 * aliases and real promotion history; a pipeline with a long-named stage and paths):
 *  - the page body never scrolls sideways (only a table or chart box may, inside itself);
 *  - every visible control (link, button, field, tab, summary) can be brought on screen by
 *    scrolling and is the element under its own centre there (not clipped by a box that
 *    cannot scroll, not covered by another element);
 *  - chart text is drawn at 10 px or more (an SVG squeezed to a phone's width shrinks it);
 *  - nothing is logged to the console, no request fails, and no request leaves this server
 *    (no CDN, no font or script from elsewhere).
 * A full-page screenshot of each state goes to test-artifacts/ui/layout-<page>-<width>.png.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshotDir } from '../helpers/dashboard.js';
import { MODEL, USER, startProjectDashboard, type ProjectDashboard } from '../helpers/dashboard-project.js';

let browser: Browser | undefined;
let skip: string | false = false;
let project: ProjectDashboard;
const shots = screenshotDir();

before(async () => {
  const b = await launchChromium();
  if (typeof b === 'string') {
    skip = b;
    return;
  }
  browser = b;
  project = await startProjectDashboard({ runs: 60, children: 6, versions: 12, promotions: 3, longStage: true });
  // long names as real runs have them (the run page's cards must wrap them, not widen the page)
  const t = Date.UTC(2026, 0, 3);
  await project.seeded.store.logBatch(project.seeded.runIds[1], {
    params: [{ key: 'model_trainer.params.gbdt.min_child_weight_for_leaves', value: 'a'.repeat(90) }],
    metrics: [{ key: 'validation_mean_absolute_percentage_error_by_make', value: 0.123, timestamp: t, step: 0 }],
    tags: [{ key: 'carprice.data.source_url_of_the_training_listings', value: 's3://bucket/' + 'x'.repeat(80) }],
  });
});

after(async () => {
  await browser?.close();
  await project?.close();
});

interface LayoutReport {
  overflow: number;
  innerWidth: number;
  controls: number;
  unreachable: string[];
}

/**
 * Runs in the page: the page's sideways overflow, and every visible control that cannot be
 * scrolled into view and hit at its centre. Written as a string: the Node build has no DOM types.
 */
const CHECK_LAYOUT = `((vw) => {
  // vw: the screen's width as configured; a mobile browser widens innerWidth to fit wide content
  const vh = window.innerHeight;
  const scrolled = [...document.querySelectorAll('*')].filter((e) => e.scrollLeft || e.scrollTop).map((e) => [e, e.scrollLeft, e.scrollTop]);
  const describe = (e) => {
    const label = (e.getAttribute('aria-label') || e.textContent || e.getAttribute('name') || '').trim().slice(0, 40);
    return e.tagName.toLowerCase() + (label ? ' "' + label + '"' : '');
  };
  const overflow = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - vw;
  const els = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [role=tab]')].filter((e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden' && !e.closest('details:not([open]) > :not(summary)');
  });
  const unreachable = [];
  for (const e of els) {
    e.scrollIntoView({ block: 'center', inline: 'center' });
    // a box that clips without scrolling hides what scrollIntoView had to scroll it to
    let clipped = null;
    for (let p = e.parentElement; p; p = p.parentElement) {
      const cs = getComputedStyle(p);
      const clips = (v) => v === 'hidden' || v === 'clip';
      if ((clips(cs.overflowX) && p.scrollLeft !== 0) || (clips(cs.overflowY) && p.scrollTop !== 0)) {
        clipped = p;
        p.scrollLeft = 0;
        p.scrollTop = 0;
      }
    }
    if (clipped) {
      unreachable.push(describe(e) + ': clipped by a box that does not scroll (' + clipped.className + ')');
      continue;
    }
    const r = e.getBoundingClientRect();
    const x0 = Math.max(r.left, 0), x1 = Math.min(r.right, vw), y0 = Math.max(r.top, 0), y1 = Math.min(r.bottom, vh);
    if (x1 - x0 < 1 || y1 - y0 < 1) {
      unreachable.push(describe(e) + ': off screen at ' + Math.round(r.left) + ',' + Math.round(r.top));
      continue;
    }
    const hit = document.elementFromPoint((x0 + x1) / 2, (y0 + y1) / 2);
    const label = e.closest('label');
    if (!hit || !(e === hit || e.contains(hit) || (label && label.contains(hit)))) {
      unreachable.push(describe(e) + ': covered by ' + (hit ? describe(hit) + ' .' + hit.className : 'nothing'));
    }
  }
  // chart text as drawn on screen: an SVG scaled down to a phone's width shrinks its text
  const small = new Map();
  for (const t of document.querySelectorAll('svg text')) {
    const m = t.getScreenCTM();
    if (!m || t.getBoundingClientRect().width === 0) continue;
    const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    if (px < 10) small.set(t.closest('[data-testid]')?.getAttribute('data-testid') ?? 'svg', px);
  }
  for (const [chart, px] of small) unreachable.push('chart ' + chart + ': text drawn at ' + px.toFixed(1) + 'px (under 10px)');
  for (const e of document.querySelectorAll('*')) if (e.scrollLeft || e.scrollTop) { e.scrollLeft = 0; e.scrollTop = 0; }
  for (const [e, l, t] of scrolled) { e.scrollLeft = l; e.scrollTop = t; }
  window.scrollTo(0, 0);
  return { overflow, innerWidth: window.innerWidth, controls: els.length, unreachable };
})`;

/** The layout problems of the page as it is now (empty = fine); saves its screenshot first. */
async function checkLayout(
  page: Page,
  label: string,
  width: number,
): Promise<{ problems: string[]; controls: number }> {
  await page.screenshot({ path: join(shots, `layout-${label}-${width}.png`), fullPage: true });
  const r = await page.evaluate<LayoutReport>(`${CHECK_LAYOUT}(${width})`);
  const problems: string[] = [];
  if (r.innerWidth !== width) problems.push(`the browser widened the page to ${r.innerWidth}px to fit it`);
  if (r.overflow > 1) problems.push(`the page is ${r.overflow}px wider than the screen`);
  if (r.controls === 0) problems.push('no controls found');
  problems.push(...r.unreachable);
  return { problems: problems.map((p) => `${label} at ${width}px: ${p}`), controls: r.controls };
}

type Step = [label: string, go: (p: Page) => Promise<unknown>];

function steps(): Step[] {
  const { seeded, url } = project;
  const exp = seeded.experimentId;
  const tab = (name: string) => (p: Page) => p.getByRole('tab', { name }).click();
  return [
    ['experiments', (p) => p.goto(`${url}/ui/#/`).then(() => p.getByTestId('experiments').waitFor())],
    [
      'runs',
      (p) =>
        p
          .goto(`${url}/ui/#/experiments/${exp}`)
          .then(() => p.getByTestId('runs').locator('tbody tr').first().waitFor()),
    ],
    [
      'runs-unfolded-columns',
      async (p) => {
        await p.getByRole('button', { name: /unfold 6 child runs/ }).click();
        await p.getByRole('button', { name: /Columns/ }).click();
        await p.getByTestId('column-chooser').waitFor();
      },
    ],
    ['run', (p) => p.goto(`${url}/ui/#/runs/${seeded.runIds[1]}`).then(() => p.getByTestId('params').waitFor())],
    ['run-charts', (p) => tab('Metric charts')(p).then(() => p.getByTestId('chart-rmse').locator('canvas').waitFor())],
    [
      'run-artifacts',
      async (p) => {
        await p.goto(`${url}/ui/#/runs/${seeded.runIds[0]}`);
        await tab('Artifacts')(p);
        await p
          .getByTestId('artifact-list')
          .getByRole('button', { name: /notes\.txt/ })
          .click();
        await p.getByTestId('artifact-preview').locator('pre').waitFor();
      },
    ],
    [
      'compare',
      (p) =>
        p
          .goto(`${url}/ui/#/compare?ids=${seeded.runIds.slice(0, 4).join(',')}`)
          .then(() => p.getByTestId('scatter').waitFor()),
    ],
    [
      'compare-trials',
      (p) =>
        p
          .goto(`${url}/ui/#/compare?parent=${seeded.parentId}&exp=${exp}`)
          .then(() => p.getByTestId('parallel').waitFor()),
    ],
    ['models', (p) => p.goto(`${url}/ui/#/models`).then(() => p.getByTestId('models').waitFor())],
    [
      'model',
      async (p) => {
        await p.goto(`${url}/ui/#/models/${MODEL}`);
        await p.getByTestId('versions').waitFor();
        await p.getByTestId('history').waitFor();
        await p.getByTestId('slices').waitFor();
      },
    ],
    ['model-card', (p) => tab('Model card')(p).then(() => p.getByTestId('model-card').waitFor())],
    [
      'model-plots',
      (p) => tab('Predicted vs actual')(p).then(() => p.getByTestId('residuals').waitFor({ timeout: 60_000 })),
    ],
    [
      'model-v1-untested',
      async (p) => {
        await p.goto(`${url}/ui/#/models/${MODEL}?v=1`);
        await tab('Test report')(p);
        await p.getByText(/No test report/).waitFor();
      },
    ],
    [
      'pipeline',
      async (p) => {
        await p.goto(`${url}/ui/#/pipeline`);
        await p.getByTestId('dag').waitFor();
        await p.getByTestId('metrics-diff').waitFor();
        for (const s of await p.locator('[data-testid=stages] summary').all()) await s.click();
      },
    ],
    [
      'monitoring',
      async (p) => {
        await p.goto(`${url}/ui/#/monitoring`);
        await p.getByTestId('drift-features').waitFor();
        await p.getByTestId('accuracy-slices').waitFor();
        await p.getByTestId('shadow').waitFor();
      },
    ],
    [
      'predict',
      async (p) => {
        await p.goto(`${url}/ui/#/predict`);
        const form = p.getByTestId('predict-form');
        await form.locator('select[name=make]').waitFor();
        await form.getByRole('button', { name: 'Predict' }).click();
        await p.getByTestId('explanation').waitFor();
      },
    ],
  ];
}

describe('dashboard layout in Chromium: every page at 1280x800 and 390x844', () => {
  for (const viewport of [
    { width: 1280, height: 800, isMobile: false },
    { width: 390, height: 844, isMobile: true },
  ])
    it(`every page at ${viewport.width}px: no sideways page scroll, every control reachable, no console errors`, async (t) => {
      if (skip) return t.skip(skip);
      const ctx = await browser!.newContext({
        viewport: { width: viewport.width, height: viewport.height },
        isMobile: viewport.isMobile,
        hasTouch: viewport.isMobile,
        httpCredentials: USER,
      });
      const page = await ctx.newPage();
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
      // everything the pages load comes from this server (no CDN: machines may have no internet)
      page.on('request', (r) => {
        const u = r.url();
        if (!u.startsWith(project.url + '/') && !/^(data|blob|about):/.test(u))
          problems.push(`request elsewhere: ${u}`);
      });
      const seen: string[] = [];
      const layout: string[] = [];
      for (const [label, go] of steps()) {
        await go(page);
        const r = await checkLayout(page, label, viewport.width);
        seen.push(`${label}:${r.controls}`);
        layout.push(...r.problems);
        assert.deepEqual(problems, [], `after ${label}`);
      }
      t.diagnostic(`controls checked per page: ${seen.join(' ')}`);
      assert.deepEqual(layout, []);
      await ctx.close();
    });
});
