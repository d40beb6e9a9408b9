/**
 * What the shadow challenger costs the serving thread, in CPU per request: a measure that
 * holds on a loaded machine, where bench/serve's p99 ratio (shadow-cost.ts) cannot be told
 * from the noise. Two `carprice serve` processes from the same bundle, identical but for
 * `--shadow` (the same bundle as challenger), each warmed up with 20,000 requests; then
 * `rounds` ABBA pairs of runs of `duration` s at `rate` requests/s (the open-loop
 * generator), and per run the CPU time the kernel accounted to each of the server's threads
 * (the runtime of /proc/PID/task/TID/schedstat, nanoseconds) and to its child processes,
 * divided by the requests answered. Printed: per server, medians over the runs of the
 * serving (main) thread's µs/request, of its other threads at its priority, of its lowered
 * threads and processes (the challenger's), and the serving thread's difference with a 95%
 * bootstrap interval over the pairs (paired-ratio.ts, on differences).
 *
 * `node dist/bench/shadow-cpu.js [--model DIR] [--rounds 6] [--duration 5] [--rate 1000]
 * [--shadow-set K=V ...] [--variant K=V[,K=V] ...] [--variant-root DIR ...]`; without
 * --model it trains the default model first. Each `--variant` adds one more --shadow server
 * with those params overrides; each `--variant-root` one more --shadow server run from another
 * checkout's build (e.g. main's, to compare before and after in the same runs).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs, numberAbove, runBench, wholeNumber } from './bench-args.js';
import { loadParams } from '../src/config/params.js';
import { train } from '../src/jobs/train.js';
import { autocannonPredict, fixedRate } from './load-generator.js';
import { medianOf } from './paired-ratio.js';
import {
  CLI,
  DATA,
  childPids,
  requestListings,
  sleep,
  startCarprice,
  stopCarprice,
  type Started,
} from './serve-harness.js';
import { existsSync } from 'node:fs';
import { Rng } from '../src/core/rng.js';

/** Nanoseconds on a core of every thread of `pid` (tid -> [name, ns, lowered]). */
function threadRuntimes(pid: number): Map<string, { name: string; ns: number; lowered: boolean }> {
  const out = new Map<string, { name: string; ns: number; lowered: boolean }>();
  const add = (p: number, prefix: string) => {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${p}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
        const lowered = !(Number(f[38]) === 0 && Number(f[16]) <= 0);
        const ns = Number(readFileSync(`/proc/${p}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        out.set(`${prefix}${tid}`, { name: `${prefix}${name}`, ns, lowered });
      } catch {
        // ended meanwhile
      }
    }
  };
  add(pid, '');
  for (const c of childPids(pid)) add(c, 'child:');
  return out;
}

interface CpuRun {
  mainUs: number;
  otherNormalUs: number;
  loweredUs: number;
  byName: Map<string, number>;
  requests: number;
  p99: number;
}

/** Median of the per-pair differences with a 95% percentile-bootstrap interval. */
function diffCi(d: number[], resamples = 10_000): { median: number; lower: number; upper: number } {
  const rng = new Rng(42);
  const meds: number[] = [];
  const draw = new Array<number>(d.length);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < d.length; i++) draw[i] = d[rng.int(d.length)];
    meds.push(medianOf(draw));
  }
  meds.sort((a, b) => a - b);
  return {
    median: medianOf(d),
    lower: meds[Math.floor(0.025 * resamples)],
    upper: meds[Math.floor(0.975 * resamples)],
  };
}

async function main(): Promise<void> {
  const { values } = benchArgs({
    name: 'shadow-cpu',
    summary: "the shadow challenger's cost to the serving thread, in CPU per request",
    options: {
      model: { type: 'string', value: 'DIR', help: 'a model bundle (default: train the default model first)' },
      rounds: { type: 'string', value: 'N', default: '6', help: 'ABBA pairs of runs', check: wholeNumber(1) },
      duration: { type: 'string', value: 'S', default: '5', help: 'seconds per run', check: numberAbove(0) },
      rate: { type: 'string', value: 'N', default: '1000', help: 'requests/s', check: numberAbove(0) },
      'shadow-set': {
        type: 'string',
        value: 'K=V',
        multiple: true,
        help: 'a params override for the --shadow servers',
      },
      variant: {
        type: 'string',
        value: 'K=V[,K=V]',
        multiple: true,
        help: 'one more --shadow server with these overrides',
      },
      'variant-root': {
        type: 'string',
        value: 'DIR',
        multiple: true,
        help: "one more --shadow server from another checkout's build",
      },
    },
  });
  if (!existsSync(DATA) || !existsSync(CLI)) {
    console.log(`skipped: ${DATA} or ${CLI} not found (run from the project root after npm run build)`);
    return;
  }
  const rounds = Number(values.rounds);
  const duration = Number(values.duration);
  const rate = Number(values.rate);
  const params = loadParams({ path: 'params.yaml' });
  const { bodies } = await requestListings(params);
  let model = values.model;
  let trained: string | undefined;
  if (!model) {
    trained = mkdtempSync(join(tmpdir(), 'carprice-bench-shadow-cpu-'));
    model = join(trained, 'model');
    await train({ params, train: DATA, out: model });
  }
  const sets = (values['shadow-set'] ?? []).flatMap((x) => ['--set', x]);
  const la = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  console.log(
    `serving thread CPU per request, with and without --shadow (same bundle as challenger); ${rounds} ABBA pairs of ${duration} s at ${rate} req/s; load average ${la()}`,
  );
  const sides: { label: string; server?: Started; extra: string[]; root?: string; runs: CpuRun[] }[] = [
    { label: 'A (without)', extra: [], runs: [] },
    { label: 'B (--shadow)', extra: ['--shadow', model, ...sets], runs: [] },
    ...(values.variant ?? []).map((v, i) => ({
      label: `${String.fromCharCode(67 + i)} (--shadow ${v})`,
      extra: ['--shadow', model, ...sets, ...v.split(',').flatMap((x) => ['--set', x.trim()])],
      runs: [],
    })),
    ...(values['variant-root'] ?? []).map((root, i) => ({
      label: `${String.fromCharCode(67 + (values.variant?.length ?? 0) + i)} (--shadow, the build in ${root})`,
      extra: ['--shadow', model, ...sets],
      root,
      runs: [],
    })),
  ];
  try {
    for (const s of sides) s.server = await startCarprice(model, s.extra, s.root);
    for (const s of sides) await autocannonPredict(s.server!.url, bodies, { amount: 20_000 });
    await sleep(2000);
    const run = async (s: Started): Promise<CpuRun> => {
      await sleep(500);
      const pid = s.child.pid!;
      const t0 = threadRuntimes(pid);
      const r = await fixedRate({ host: '127.0.0.1', port: s.port, bodies, rate, durationS: duration });
      await sleep(300); // the challenger's last batch
      const t1 = threadRuntimes(pid);
      const out: CpuRun = {
        mainUs: 0,
        otherNormalUs: 0,
        loweredUs: 0,
        byName: new Map(),
        requests: r.total,
        p99: r.p99,
      };
      for (const [tid, x] of t1) {
        const us = (x.ns - (t0.get(tid)?.ns ?? 0)) / 1000 / Math.max(1, r.total);
        if (tid === String(pid)) out.mainUs += us;
        else if (x.lowered) out.loweredUs += us;
        else out.otherNormalUs += us;
        out.byName.set(x.name, (out.byName.get(x.name) ?? 0) + us);
      }
      return out;
    };
    for (let p = 0; p <= rounds; p++) {
      const order = p % 2 === 0 ? sides : [...sides].reverse();
      for (const s of order) s.runs.push(await run(s.server!));
      const k = sides[0].runs.length - 1;
      console.log(
        `  ${p === 0 ? 'warm-up' : `pair ${p}`}: serving thread µs/request ${sides.map((s) => `${s.label} ${s.runs[k].mainUs.toFixed(1)}`).join(', ')}; load ${loadavg()[0].toFixed(2)}`,
      );
      if (p === 0) for (const s of sides) s.runs.length = 0;
    }
    for (const s of sides) {
      const med = (f: (r: CpuRun) => number) => medianOf(s.runs.map(f)).toFixed(1);
      const names = [...new Set(s.runs.flatMap((r) => [...r.byName.keys()]))]
        .map((n) => [n, medianOf(s.runs.map((r) => r.byName.get(n) ?? 0))] as const)
        .filter(([, us]) => us >= 0.5)
        .sort((a, b) => b[1] - a[1])
        .map(([n, us]) => `${n} ${us.toFixed(1)}`)
        .join(', ');
      console.log(
        `  ${s.label}: serving thread ${med((r) => r.mainUs)} µs/request, other threads at its priority ${med((r) => r.otherNormalUs)}, lowered ${med((r) => r.loweredUs)}; p99 ${med((r) => r.p99)} ms\n      by thread name: ${names}`,
      );
    }
    for (const s of sides.slice(1)) {
      const d = diffCi(s.runs.map((r, k) => r.mainUs - sides[0].runs[k].mainUs));
      const dn = diffCi(s.runs.map((r, k) => r.otherNormalUs - sides[0].runs[k].otherNormalUs));
      console.log(
        `  ${s.label} adds to the serving thread ${d.median.toFixed(1)} µs/request (95% CI ${d.lower.toFixed(1)} to ${d.upper.toFixed(1)}, ${rounds} pairs); to its other threads at its priority ${dn.median.toFixed(1)} (${dn.lower.toFixed(1)} to ${dn.upper.toFixed(1)})`,
      );
    }
    console.log(`  load average ${la()}`);
  } finally {
    for (const s of sides) if (s.server) await stopCarprice(s.server);
    if (trained) rmSync(trained, { recursive: true, force: true });
  }
}

runBench('shadow-cpu', main);
