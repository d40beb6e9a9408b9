/**
 * bench/monitoring: what monitoring costs the prediction API.
 *
 * Three `carprice serve --model DIR` processes over the same bundle, each in its own
 * scratch directory (its own prediction log):
 *   off     --set monitoring.log_enabled=false (the anchor)
 *   log     the defaults: every request logged (sample_rate 1) to SQLite on the writer thread
 *   shadow  the defaults plus --shadow DIR (the same bundle as challenger, so the shadow thread
 *           does as much work per request as the champion: the expensive case)
 * POST /predict over 500 real listings, loopback, 8 connections: each is measured at a fixed
 * rate with bench/serve's open-loop generator (load-generator.ts: microsecond latencies, no
 * coordinated omission; p50/p99) and flat out (requests/s; wrk when installed, else
 * autocannon); the three run in turn, `--rounds` times, the order reversed every other round
 * (ABCCBA), and the medians are compared: the logging overhead (log vs off) and the shadow
 * path's added p99 (shadow vs log; target < 10%). After each run the server's /metrics give
 * the rows written and dropped and the shadow outcomes.
 * In-process it also times `PredictionMonitor.observe` (what a request pays on the
 * response path to be logged and queued for the challenger), per call.
 *
 * First, the memory of one drift score over a 100,000-row window (what the server's writer
 * thread does every drift_interval_s): a real log of --drift-rows rows, scored in a fresh
 * child process each way, the rows held at once (as before: read the window into an array,
 * then score it) and streamed into per-feature counts (now); peak RSS and JS heap above the
 * baseline, time, and whether the two reports agree; then the whole log streamed at once
 * (`carprice monitor drift --since` over a busy month), to show the memory does not grow.
 *
 * Usage (from the project root, after npm run build):
 *   node dist/bench/monitoring.js [--model DIR] [--duration 8] [--rate 500] [--rounds 3] [--drift-rows 300000] [--only-drift]
 * Without --model it trains the default model on cars24_v3.xlsx first (as bench/serve does).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs, numberAbove, runBench, wholeNumber } from './bench-args.js';
import { getHeapStatistics } from 'node:v8';
import { Registry } from 'prom-client';
import { loadParams } from '../src/config/params.js';
import { train } from '../src/jobs/train.js';
import { PredictionMonitor } from '../src/monitoring/prediction-monitor.js';
import { thresholdsFromParams } from '../src/monitoring/drift-report.js';
import type { ObservedPrediction } from '../src/monitoring/prediction-record.js';
import { ModelBundle } from '../src/bundle/model-bundle.js';
import { DriftAccumulator, compareWithReference } from '../src/monitoring/drift-report.js';
import { iterateDriftRows, iterateRecords, openLogDatabase } from '../src/monitoring/log-store.js';
import { referenceBundle, writePredictionLog } from '../test/helpers/monitoring.js';
import {
  autocannonPredict,
  findWrk,
  fixedRate,
  flatOut,
  type AutocannonLoad,
  type LatencyResult,
} from './load-generator.js';
import { CLI, DATA, median, requestListings, sleep, startCarprice, stopCarprice } from './serve-harness.js';

/** Sum of a Prometheus series' samples whose line starts with `prefix`. */
function series(text: string, prefix: string): number {
  let s = 0;
  for (const line of text.split('\n')) if (line.startsWith(prefix)) s += Number(line.split(' ').pop());
  return s;
}

const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)}%`;
const load1 = () => loadavg()[0].toFixed(1);

interface DriftMemory {
  mode: string;
  rows: number;
  ms: number;
  rssBaseMb: number;
  rssPeakMb: number;
  heapBaseMb: number;
  heapPeakMb: number;
  digest: string;
}

/** In a child process: score the window of the log at `path` one way and print what it cost. */
function driftChild(mode: 'array' | 'stream', logPath: string, modelDir: string, limit: string): void {
  const bundle = ModelBundle.load(modelDir);
  const thresholds = thresholdsFromParams(loadParams({ path: 'params.yaml' }).monitoring.drift);
  const o = { reference: bundle.reference!, thresholds };
  const db = openLogDatabase(logPath, { readonly: true });
  const window = { role: 'champion' as const, limit: limit === 'all' ? undefined : Number(limit) };
  const mb = (b: number) => b / 1024 / 1024;
  (globalThis as { gc?: () => void }).gc?.();
  const rssBase = process.memoryUsage.rss();
  const heapBase = getHeapStatistics().used_heap_size;
  let heapPeak = heapBase;
  let n = 0;
  function* sampled<T>(it: Iterable<T>): Generator<T> {
    for (const x of it) {
      if (++n % 1000 === 0) heapPeak = Math.max(heapPeak, getHeapStatistics().used_heap_size);
      yield x;
    }
  }
  const t0 = performance.now();
  let result;
  if (mode === 'array') {
    // before: the window read into an array, then scored
    const records = [...sampled(iterateRecords(db, window))];
    heapPeak = Math.max(heapPeak, getHeapStatistics().used_heap_size);
    result = compareWithReference(records, o);
  } else {
    // now: each row streamed into per-feature counts (what driftReport does)
    const acc = new DriftAccumulator(o);
    for (const r of sampled(iterateDriftRows(db, window))) acc.add(r);
    result = acc.result();
  }
  const ms = performance.now() - t0;
  heapPeak = Math.max(heapPeak, getHeapStatistics().used_heap_size);
  db.close();
  const out: DriftMemory = {
    mode,
    rows: n,
    ms,
    rssBaseMb: mb(rssBase),
    rssPeakMb: process.resourceUsage().maxRSS / 1024,
    heapBaseMb: mb(heapBase),
    heapPeakMb: mb(heapPeak),
    digest: JSON.stringify(result),
  };
  console.log(JSON.stringify(out));
}

/** The drift-memory figures: a log of `rows` rows, scored both ways in fresh processes. */
function driftMemory(rows: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-bench-drift-'));
  try {
    const bundle = referenceBundle();
    bundle.save(join(dir, 'model'));
    const t = performance.now();
    writePredictionLog(join(dir, 'log.db'), bundle, { unshifted: 0, shifted: rows, now: Date.now() });
    console.log(
      `drift memory: a real log of ${rows.toLocaleString('en')} priced rows written in ${((performance.now() - t) / 1000).toFixed(1)} s; each way scored in a fresh process   [load ${load1()}]`,
    );
    const run = (mode: string, limit = '100000'): DriftMemory => {
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', process.argv[1], '--drift-child', mode, join(dir, 'log.db'), join(dir, 'model'), limit],
        { encoding: 'utf8', maxBuffer: 64 << 20 },
      );
      if (r.status !== 0) throw new Error(`drift child (${mode}) failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as DriftMemory;
    };
    // the server's window (its newest 100,000 rows), each way twice; then every row streamed
    const results = [run('array'), run('stream'), run('array'), run('stream')];
    if (rows > 100_000) results.push(run('stream', 'all'));
    for (const m of results)
      console.log(
        `  ${m.mode === 'array' ? 'rows held (before)' : 'streamed (now)    '}  ${m.rows.toLocaleString('en')} rows in ${m.ms.toFixed(0)} ms; peak RSS +${(m.rssPeakMb - m.rssBaseMb).toFixed(1)} MB over ${m.rssBaseMb.toFixed(0)} MB; peak JS heap +${(m.heapPeakMb - m.heapBaseMb).toFixed(1)} MB`,
      );
    const [a, s] = [results[2], results[3]];
    if (rows > 100_000) {
      const w = results[4];
      console.log(
        `  the whole ${w.rows.toLocaleString('en')}-row window streamed: peak RSS +${(w.rssPeakMb - w.rssBaseMb).toFixed(1)} MB vs +${(s.rssPeakMb - s.rssBaseMb).toFixed(1)} MB for 100,000 rows (bounded: it does not grow with the window)`,
      );
    }
    console.log(
      `  streaming: peak RSS ${((a.rssPeakMb - a.rssBaseMb) / Math.max(0.1, s.rssPeakMb - s.rssBaseMb)).toFixed(1)}x lower, heap ${((a.heapPeakMb - a.heapBaseMb) / Math.max(0.1, s.heapPeakMb - s.heapBaseMb)).toFixed(1)}x lower, time ${((s.ms / a.ms) * 100).toFixed(0)}% of before; reports identical: ${a.digest === s.digest ? 'yes' : 'NO'}   [load ${load1()}]\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = benchArgs({
    name: 'monitoring',
    summary: 'what monitoring (the prediction log, drift, the shadow) costs the prediction API',
    options: {
      duration: { type: 'string', value: 'S', default: '8', help: 'seconds per measured run', check: numberAbove(0) },
      rate: {
        type: 'string',
        value: 'N',
        default: '500',
        help: 'requests/s of the fixed-rate runs',
        check: numberAbove(0),
      },
      rounds: { type: 'string', value: 'N', default: '3', help: 'rounds of the three servers', check: wholeNumber(1) },
      model: { type: 'string', value: 'DIR', help: 'a model bundle (default: train the default model first)' },
      'drift-rows': {
        type: 'string',
        value: 'N',
        default: '300000',
        help: 'rows of the prediction log scored for drift memory',
        check: wholeNumber(1),
      },
      'only-drift': { type: 'boolean', help: 'measure the drift memory only' },
    },
  });
  driftMemory(Number(values['drift-rows']));
  if (values['only-drift']) return;
  const duration = Number(values.duration);
  const rate = Number(values.rate);
  const rounds = Number(values.rounds);
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  if (!existsSync(CLI)) {
    console.log(`skipped: ${CLI} not found; run npm run build first`);
    return;
  }
  const params = loadParams({ path: 'params.yaml' });
  const { listings, bodies } = await requestListings(params);
  let model = values.model ? resolve(values.model) : undefined;
  if (!model) {
    model = join(mkdtempSync(join(tmpdir(), 'carprice-bench-mon-model-')), 'model');
    const t = performance.now();
    const r = await train({ params, train: DATA, out: model });
    console.log(
      `trained the default model (${r.bundle.metadata.algo}) in ${((performance.now() - t) / 1000).toFixed(1)} s -> ${model}`,
    );
  }

  // 1. the response-path cost of observe(), in process
  {
    const dir = mkdtempSync(join(tmpdir(), 'carprice-bench-mon-obs-'));
    const monitor = await PredictionMonitor.open({
      logPath: join(dir, 'log.db'),
      sampleRate: 1,
      queueSize: 1_000_000,
      retentionDays: 30,
      maxRows: 10_000_000,
      driftIntervalS: 0,
      driftWindowMs: 86_400_000,
      thresholds: thresholdsFromParams(params.monitoring.drift),
      registry: new Registry(),
    });
    const n = 100_000;
    // One event per call, each with its own request id, as a server logs them (a request id seen
    // twice makes the writer look up its earlier rows and read that hour row by row).
    const events: ObservedPrediction[] = Array.from({ length: 5000 + n }, (_, i) => ({
      route: '/predict',
      requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      listings: [listings[i % listings.length]],
      rows: [{ price: 500_000, interval: { lower: 450_000, upper: 560_000, level: 0.9 }, warnings: [] }],
      model: { name: 'UsedCarPriceModel', version: '3' },
      latencyMs: 0.3,
    }));
    for (let i = 0; i < 5000; i++) monitor.observe(events[i]);
    await monitor.log.flush();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) monitor.observe(events[5000 + i]);
    const ns = Number(process.hrtime.bigint() - t0) / n;
    const tf = performance.now();
    await monitor.log.flush();
    const writeMs = performance.now() - tf;
    const st = monitor.log.stats();
    await monitor.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(
      `observe() on the response path: ${(ns / 1000).toFixed(2)} us per request (${n} calls; sample, build the row, queue it)`,
    );
    console.log(
      `writer thread: ${n} rows written in ${writeMs.toFixed(0)} ms after the calls (${((n / writeMs) * 1000).toFixed(0)} rows/s), ${st.dropped.queue_full} dropped   [load ${load1()}]\n`,
    );
  }

  // 2. servers under load
  const configs: { name: string; extra: string[] }[] = [
    { name: 'off', extra: ['--set', 'monitoring.log_enabled=false'] },
    { name: 'log', extra: [] },
    { name: 'shadow', extra: ['--shadow', model] },
  ];
  const wrk = findWrk();
  console.log(
    `load: POST /predict over ${bodies.length} real listings, loopback, 8 connections, ${duration} s per run, ${rounds} rounds (the order reversed every other round); ` +
      `at ${rate}/s bench/serve's open-loop generator (microsecond latencies), flat out ${wrk ? `wrk (${wrk})` : 'autocannon (wrk not installed)'}`,
  );
  const results: Record<string, { fixed: LatencyResult[]; max: AutocannonLoad[]; notes: string[] }> = {};
  for (const c of configs) results[c.name] = { fixed: [], max: [], notes: [] };
  for (let round = 0; round < rounds; round++) {
    for (const c of round % 2 === 0 ? configs : [...configs].reverse()) {
      const s = await startCarprice(model, c.extra);
      try {
        await autocannonPredict(s.url, bodies, { duration: 2 }); // warm-up
        const fixed = await fixedRate({ host: '127.0.0.1', port: s.port, bodies, rate, durationS: duration });
        const max = await flatOut(wrk, s.url, bodies, duration);
        await sleep(300);
        const m = await (await fetch(`${s.url}/metrics`)).text();
        const written = series(m, 'carprice_prediction_log_written_total');
        const dropped = series(m, 'carprice_prediction_log_dropped_total');
        const shadowOk = series(m, 'carprice_shadow_predictions_total{outcome="ok"');
        const shadowDropped = series(m, 'carprice_shadow_dropped_total');
        results[c.name].fixed.push(fixed);
        results[c.name].max.push(max);
        results[c.name].notes.push(
          c.name === 'off'
            ? ''
            : `log ${written} written / ${dropped} dropped${c.name === 'shadow' ? `; shadow ${shadowOk} scored / ${shadowDropped} dropped` : ''}`,
        );
        console.log(
          `  round ${round + 1} ${c.name.padEnd(6)} at ${rate}/s: p50 ${fixed.p50.toFixed(2)} ms p99 ${fixed.p99.toFixed(2)} ms; flat out ${max.rps.toFixed(0)} req/s p99 ${max.p99.toFixed(2)} ms; ${fixed.non2xx + max.non2xx} non-2xx, ${fixed.errors + max.errors} errors  ${results[c.name].notes.at(-1)}  [load ${load1()}]`,
        );
      } finally {
        await stopCarprice(s);
      }
    }
  }
  const med = (name: string) => ({
    p50: median(results[name].fixed.map((l) => l.p50)),
    p99: median(results[name].fixed.map((l) => l.p99)),
    rps: median(results[name].max.map((l) => l.rps)),
    maxP99: median(results[name].max.map((l) => l.p99)),
  });
  const off = med('off');
  const log = med('log');
  const shadow = med('shadow');
  console.log(`\nmedians of ${rounds} rounds (at ${rate} req/s: p50 / p99; flat out: req/s / p99):`);
  for (const [n, r] of [
    ['off', off],
    ['log', log],
    ['shadow', shadow],
  ] as const)
    console.log(
      `  ${n.padEnd(6)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms   ${r.rps.toFixed(0)} req/s  p99 ${r.maxP99.toFixed(2)} ms`,
    );
  console.log(
    `\nlogging overhead (log vs off): p99 at ${rate}/s ${pct(log.p99, off.p99)}, throughput ${pct(log.rps, off.rps)}`,
  );
  console.log(
    `shadow path added p99 (shadow vs log) at ${rate}/s: ${pct(shadow.p99, log.p99)} (target < +10%); vs off ${pct(shadow.p99, off.p99)}; throughput ${pct(shadow.rps, log.rps)}`,
  );
  console.log(
    `load average now ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} (other jobs share the machine)`,
  );
}

if (process.argv[2] === '--drift-child')
  driftChild(process.argv[3] as 'array' | 'stream', process.argv[4], process.argv[5], process.argv[6] ?? '100000');
else runBench('monitoring', main);
