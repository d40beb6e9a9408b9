/**
 * Drift monitoring on the real dataset, end to end: a model trained on the training split
 * of ../shared/data/cars24_v3.xlsx (its reference profile saved in the bundle) is served
 * by `serve` with the prediction log on, the held-out test split is sent to it as HTTP
 * requests, and the built CLI's `carprice monitor drift` reads the log at the default
 * thresholds (params.yaml): real unseen listings from the same market flag nothing (exit
 * 0, every input and the predictions "ok"). Beside it, the same test split with a
 * synthetic shift (cars six years older, 40% of them diesel, a fifth of a make the model
 * never saw) is flagged on year, fuelType, make (exit 9). Ridge keeps the training short;
 * the drift report compares inputs and predictions with the training reference whatever the
 * algorithm. Skipped when the dataset is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadParams, type Params } from '../../src/config/params.js';
import { readEnv } from '../../src/config/env.js';
import { loadListings } from '../../src/jobs/load-listings.js';
import { train } from '../../src/jobs/train.js';
import { splitIndices } from '../../src/data/split.js';
import { takeFrameRows, type Frame } from '../../src/data/frame.js';
import { serve } from '../../src/serving/serve.js';
import { thresholdsFromParams } from '../../src/monitoring/drift-report.js';
import { parseDuration } from '../../src/monitoring/time-window.js';
import { runBuiltCli } from '../helpers/built-cli.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DATASET = join(root, '..', 'shared', 'data', 'cars24_v3.xlsx');
const present = existsSync(DATASET);
if (!present)
  console.log(`# skipping the real-data drift test: ${DATASET} is absent (run \`carprice pull\` to fetch it)`);

/** A test-split row as a client sends it (missing values left out). */
function requestOf(f: Frame, i: number): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, col] of Object.entries(f.numeric)) if (!Number.isNaN(col[i])) r[k] = col[i];
  for (const [k, col] of Object.entries(f.categorical))
    if (col[i] !== null) r[k] = k === 'year' || k === 'ownership' ? Number(col[i]) : col[i];
  return r;
}

/** Serve `model` with the prediction log at `logPath`, send every listing, stop (the log is flushed). */
async function sendThroughApi(params: Params, dir: string, logPath: string, listings: Record<string, unknown>[]) {
  const m = params.monitoring;
  const s = params.serving;
  const server = await serve({
    host: '127.0.0.1',
    port: 0,
    model: 'model',
    cwd: dir,
    env: readEnv({}),
    logger: pino({ level: 'silent' }),
    pollIntervalS: 0,
    batchLimit: s.batch_limit,
    bodyLimit: s.body_limit_bytes,
    rateLimitPerMinute: 0,
    maxStringLength: s.max_string_length,
    ranges: params.ranges,
    shutdownTimeoutS: 5,
    logRequests: false,
    monitoring: {
      logPath,
      sampleRate: 1,
      queueSize: m.queue_size,
      retentionDays: m.retention_days,
      maxRows: m.max_rows,
      driftIntervalS: 0,
      driftWindowMs: parseDuration(m.drift.window, 'monitoring.drift.window'),
      thresholds: thresholdsFromParams(m.drift),
    },
  });
  try {
    let next = 0;
    const failures: string[] = [];
    // eight clients at once, as a small production load would
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < listings.length) {
          const l = listings[next++];
          const r = await fetch(`${server.url}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(l),
          });
          const body = await r.text();
          if (r.status !== 200) failures.push(`${r.status} ${body}`);
        }
      }),
    );
    assert.deepEqual(failures.slice(0, 3), [], `${failures.length} requests failed`);
  } finally {
    await server.close();
  }
}

test(
  'monitor drift on the real test split sent as requests: nothing flagged at the default thresholds; the same split shifted is flagged',
  { skip: present ? false : `${DATASET} is absent` },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carprice-realdrift-'));
    try {
      const params = loadParams({ path: join(root, 'params.yaml') });
      await train({ params, train: DATASET, out: join(dir, 'model'), algo: 'ridge' });
      const all = await loadListings(DATASET, { params, requireTarget: true });
      const split = splitIndices(all.frame.nRows, params.data_ingestion.test_size, params.data_ingestion.random_state);
      const test = takeFrameRows(all.frame, split.test);
      const listings = Array.from({ length: test.nRows }, (_, i) => requestOf(test, i));
      assert.ok(listings.length > params.monitoring.drift.min_rows, `${listings.length} test listings`);

      await sendThroughApi(params, dir, join(dir, 'real.db'), listings);
      const real = await runBuiltCli(['monitor', 'drift', '--model', 'model', '--log', 'real.db', '--json'], dir);
      assert.equal(real.code, 0, real.stdout + real.stderr);
      const report = JSON.parse(real.stdout) as {
        status: string;
        window: { rows: number };
        features: { feature: string; status: string; reasons: string[] }[];
        prediction: { status: string; psi: number } | null;
      };
      assert.equal(report.window.rows, listings.length, 'every request was logged');
      assert.deepEqual(
        report.features.filter((f) => f.status !== 'ok').map((f) => `${f.feature}: ${f.reasons.join(', ')}`),
        [],
      );
      assert.equal(report.prediction?.status, 'ok', `prediction psi ${report.prediction?.psi}`);
      assert.equal(report.status, 'ok');
      const table = await runBuiltCli(['monitor', 'drift', '--model', 'model', '--log', 'real.db'], dir);
      assert.equal(table.code, 0);
      assert.match(table.stdout, new RegExp(`verdict: no drift past the thresholds over ${listings.length} logged`));

      // the same listings, shifted: older cars, more diesel, a make never seen in training
      const shifted = listings.map((l, i) => ({
        ...l,
        year: Math.max(params.ranges.year?.min ?? 1950, Number(l.year) - 6),
        ...(i % 5 < 2 ? { fuelType: 'Diesel' } : {}),
        ...(i % 5 === 4 ? { make: 'Zorvex' } : {}),
      }));
      await sendThroughApi(params, dir, join(dir, 'shifted.db'), shifted);
      const flagged = await runBuiltCli(['monitor', 'drift', '--model', 'model', '--log', 'shifted.db'], dir);
      assert.equal(flagged.code, 9, flagged.stdout + flagged.stderr);
      assert.match(flagged.stdout, /^year\s.*ALERT/m);
      assert.match(flagged.stdout, /^fuelType\s.*ALERT/m);
      assert.match(flagged.stdout, /^make\s.*ALERT.*Zorvex \(unseen\)/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
