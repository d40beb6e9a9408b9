/**
 * bench/serve: the prediction API under load on loopback, against the original's service.
 *
 * Trains the default model (params.yaml, the blend) on cars24_v3.xlsx, saves the bundle,
 * and starts `carprice serve --model DIR` (the built CLI) as its own process. Then, with
 * autocannon in this process, 8 connections, POST /predict cycling through 500 real
 * listings in the original's request shape:
 *   - cold start: process start to the first 200 from /ready (median of 3 starts);
 *   - throughput: requests/s, p50 and p99 latency as fast as it goes;
 *   - p99 latency at a fixed 1,000 requests/s;
 *   - RSS before and after 100,000 requests;
 *   - the same throughput run against `serve --workers 2`, and its p99 at 1,000 requests/s;
 *   - the server's own CPU time per request (utime + stime from /proc, for both services):
 *     on a machine shared with other jobs this ratio moves far less than requests/s do;
 *   - with --soak S, RSS sampled every 30 s over S seconds of steady load (growth check).
 *   - the original's FastAPI + pandas + scikit-learn + XGBoost service (bench/py/seed-api.py
 *     under Debian's /usr/bin/python3, uvicorn, one worker) under the same load, and the
 *     ratio; skipped with the reason when those packages are missing.
 * Request logs are on (serving.log_requests, as deployed), written to /dev/null. Every
 * figure is printed with the load average at the time: the machine may be shared.
 *
 * Usage (from the project root, after npm run build):
 *   node dist/bench/serve.js [--duration 10] [--model DIR] [--no-python] [--amount 100000] [--soak 300]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loadParams } from '../src/config/params.js';
import { train } from '../src/jobs/train.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { PYTHON, probePython } from './python-peer.js';

const DATA = '../shared/data/cars24_v3.xlsx';
const CLI = 'dist/src/cli/main.js';
const FIELDS_NUM = ['odometer', 'fitnessAge', 'featureCount'];
const FIELDS_CAT = [
  'make',
  'model',
  'variant',
  'year',
  'transmissionType',
  'bodyType',
  'fuelType',
  'ownership',
  'color',
];
const AS_NUMBER = new Set(['year', 'ownership']);

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Poll `url` until it answers 200; milliseconds from `t0`, or -1 after `timeoutMs` or when the process died. */
async function waitFor200(url: string, t0: number, timeoutMs: number, child: ChildProcess): Promise<number> {
  while (performance.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) return -1;
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === 200) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  return -1;
}

/** CPU seconds (user + system) the process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
  } catch {
    return NaN;
  }
}

const load = () => `load ${loadavg()[0].toFixed(1)}`;

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([done, sleep(15000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function startCarprice(
  model: string,
  extra: string[] = [],
): Promise<{ child: ChildProcess; url: string; readyMs: number; readyCpuMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const devnull = openSync('/dev/null', 'w');
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--model',
      model,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--set',
      'serving.poll_interval_s=0',
      ...extra,
    ],
    {
      stdio: ['ignore', 'ignore', devnull],
      env: { ...process.env, CARPRICE_API_TOKEN: '' },
    },
  );
  const readyMs = await waitFor200(`${url}/ready`, t0, 120_000, child);
  if (readyMs < 0) throw new Error(`carprice serve ${extra.join(' ')} did not become ready`);
  return { child, url, readyMs, readyCpuMs: cpuSeconds(child.pid!) * 1000 };
}

async function run(
  url: string,
  bodies: string[],
  o: { duration?: number; amount?: number; overallRate?: number },
): Promise<Load> {
  const r = await autocannon({
    url,
    connections: 8,
    pipelining: 1,
    ...(o.amount ? { amount: o.amount } : { duration: o.duration ?? 10 }),
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
    requests: bodies.map((body) => ({
      method: 'POST' as const,
      path: '/predict',
      headers: { 'content-type': 'application/json' },
      body,
    })),
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    total: r.requests.total,
  };
}

function fmt(l: Load): string {
  return `${l.rps.toFixed(0).padStart(7)} req/s   p50 ${l.p50.toFixed(2).padStart(6)} ms   p99 ${l.p99.toFixed(2).padStart(6)} ms   (${l.total} requests, ${l.non2xx} non-2xx, ${l.errors} errors; ${load()})`;
}

/** A load run plus the server's CPU µs per request during it. */
async function measured(
  pid: number,
  url: string,
  bodies: string[],
  o: Parameters<typeof run>[2],
): Promise<Load & { cpuUs: number }> {
  const c0 = cpuSeconds(pid);
  const l = await run(url, bodies, o);
  return { ...l, cpuUs: ((cpuSeconds(pid) - c0) * 1e6) / Math.max(1, l.total) };
}

const cpuOf = (l: { cpuUs: number }) => `   server CPU ${l.cpuUs.toFixed(0)} µs/request`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      model: { type: 'string' },
      'no-python': { type: 'boolean' },
      amount: { type: 'string', default: '100000' },
      soak: { type: 'string', default: '0' },
    },
  });
  const duration = Number(values.duration);
  const amount = Number(values.amount);
  const soakS = Number(values.soak);
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  if (!existsSync(CLI)) {
    console.log(`skipped: ${CLI} not found; run npm run build first`);
    return;
  }
  const params = loadParams({ path: 'params.yaml' });
  const all = await loadListings(DATA, { params });
  const bodies: string[] = [];
  for (let i = 0; i < 500; i++) {
    const row = (i * 13) % all.frame.nRows;
    const o: Record<string, unknown> = {};
    for (const c of FIELDS_NUM) o[c] = all.frame.numeric[c][row];
    for (const c of FIELDS_CAT) {
      const v = all.frame.categorical[c][row];
      o[c] = v === null ? (c === 'color' ? 'White' : v) : AS_NUMBER.has(c) ? Number(v) : v;
    }
    bodies.push(JSON.stringify(o));
  }
  let model = values.model;
  if (!model) {
    model = join(mkdtempSync(join(tmpdir(), 'carprice-bench-serve-')), 'model');
    const t = performance.now();
    const r = await train({ params, train: DATA, out: model });
    console.log(
      `trained the default model (${r.bundle.metadata.algo}) in ${((performance.now() - t) / 1000).toFixed(1)} s -> ${model}`,
    );
  }
  console.log(
    `load: autocannon, 8 connections, POST /predict over ${bodies.length} real listings, ${duration} s per run, loopback\n`,
  );

  // cold start
  const starts: number[] = [];
  const startCpu: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = await startCarprice(model);
    starts.push(s.readyMs);
    startCpu.push(s.readyCpuMs);
    await stop(s.child);
  }
  starts.sort((a, b) => a - b);
  startCpu.sort((a, b) => a - b);
  console.log(
    `cold start, process start to /ready 200: median ${starts[2].toFixed(0)} ms wall (${starts.map((x) => x.toFixed(0)).join(', ')}), ` +
      `median ${startCpu[2].toFixed(0)} ms of CPU by then (all threads); ${load()}`,
  );

  // one process
  const one = await startCarprice(model);
  await run(one.url, bodies, { amount: 20_000 }); // warm-up: JIT-compiled before anything is measured
  const carprice = await measured(one.child.pid!, one.url, bodies, { duration });
  console.log(`carprice, 1 process:        ${fmt(carprice)}${cpuOf(carprice)}`);
  const fixed = await run(one.url, bodies, { duration, overallRate: 1000 });
  console.log(`carprice at 1,000 req/s:    ${fmt(fixed)}`);
  const rssBefore = rssMb(one.child.pid!);
  const soak = await run(one.url, bodies, { amount });
  const rssAfter = rssMb(one.child.pid!);
  console.log(`carprice, ${amount} requests:  ${fmt(soak)}`);
  console.log(
    `RSS of the server: ${rssBefore.toFixed(0)} MB before, ${rssAfter.toFixed(0)} MB after ${amount} more requests`,
  );
  if (soakS > 0) {
    // steady load for soakS seconds; RSS every 30 s
    const samples: string[] = [];
    const t0 = performance.now();
    let served = 0;
    while (performance.now() - t0 < soakS * 1000) {
      const l = await run(one.url, bodies, { duration: Math.min(30, soakS), overallRate: 2000 });
      served += l.total;
      samples.push(`${Math.round((performance.now() - t0) / 1000)} s: ${rssMb(one.child.pid!).toFixed(0)} MB`);
    }
    console.log(`soak, ${soakS} s at up to 2,000 req/s (${served} requests), RSS: ${samples.join(', ')}; ${load()}`);
  }
  await stop(one.child);

  // two workers
  const two = await startCarprice(model, ['--workers', '2']);
  await run(two.url, bodies, { amount: 20_000 });
  const workers = await run(two.url, bodies, { duration });
  console.log(`carprice, --workers 2:      ${fmt(workers)}   (cold start ${two.readyMs.toFixed(0)} ms)`);
  const workersFixed = await run(two.url, bodies, { duration, overallRate: 1000 });
  console.log(`--workers 2 at 1,000 req/s: ${fmt(workersFixed)}`);
  await stop(two.child);

  // the original
  if (values['no-python']) return;
  const probe = probePython(
    ['fastapi', 'uvicorn', 'sklearn', 'xgboost', 'pandas', 'openpyxl'],
    'install python3-fastapi python3-uvicorn python3-sklearn python3-xgboost python3-pandas python3-openpyxl',
  );
  if (!probe.ok) {
    console.log(`\nthe original's service: skipped (${probe.reason})`);
    return;
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const py = spawn(PYTHON, ['bench/py/seed-api.py', DATA, String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const readyMs = await waitFor200(`${url}/health`, t0, 300_000, py);
    if (readyMs < 0) {
      console.log(`\nthe original's service: did not start (see its error above)`);
      return;
    }
    const v = probe.versions;
    await run(url, bodies, { amount: 200 });
    const seed = await measured(py.pid!, url, bodies, { duration });
    console.log(
      `\nthe original (FastAPI ${v.fastapi}, uvicorn ${v.uvicorn}, pandas ${v.pandas}, scikit-learn ${v.sklearn}, XGBoost ${v.xgboost}):`,
    );
    console.log(
      `original, 1 process:        ${fmt(seed)}${cpuOf(seed)}   (start incl. fitting ${(readyMs / 1000).toFixed(1)} s)`,
    );
    console.log(
      `\nratio carprice / original: ${(carprice.rps / seed.rps).toFixed(1)}x requests/s (target >= 50x); ` +
        `${(seed.cpuUs / carprice.cpuUs).toFixed(1)}x less server CPU per request; p99 ${carprice.p99.toFixed(2)} ms vs ${seed.p99.toFixed(2)} ms`,
    );
  } finally {
    await stop(py);
  }
}

await main();
