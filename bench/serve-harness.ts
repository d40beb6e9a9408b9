/**
 * What the benches that load a running `carprice serve` share (bench/serve, bench/monitoring):
 * the request bodies (500 real listings of cars24_v3.xlsx in the original's request shape),
 * starting the built CLI's server as its own process the way it is deployed (request logs
 * on, to /dev/null; the prediction log in a scratch directory of its own) and stopping it,
 * the server's CPU from /proc, medians and the load average.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Params } from '../src/config/params.js';
import { SEED_CATEGORICAL, SEED_NUMERIC } from '../src/config/seed-columns.js';
import { freePort, sleep } from '../src/deploy/processes.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { DATA } from './dataset.js';

export { freePort, sleep };

export { DATA };
export const CLI = 'dist/src/cli/main.js';

const AS_NUMBER = new Set(['year', 'ownership']);

/** `n` listings of the data set (every 13th row, cycling), as /predict takes them, and their JSON bodies. */
export async function requestListings(
  params: Params,
  n = 500,
): Promise<{ listings: Record<string, unknown>[]; bodies: string[] }> {
  const all = await loadListings(DATA, { params });
  const listings: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const row = (i * 13) % all.frame.nRows;
    const o: Record<string, unknown> = {};
    for (const c of SEED_NUMERIC) o[c] = all.frame.numeric[c][row];
    for (const c of SEED_CATEGORICAL) {
      const v = all.frame.categorical[c][row];
      o[c] = v === null ? (c === 'color' ? 'White' : v) : AS_NUMBER.has(c) ? Number(v) : v;
    }
    listings.push(o);
  }
  return { listings, bodies: listings.map((l) => JSON.stringify(l)) };
}

/** Poll `url` until it answers 200; milliseconds from `t0`, or -1 after `timeoutMs` or when the process died. */
export async function waitFor200(url: string, t0: number, timeoutMs: number, child: ChildProcess): Promise<number> {
  while (performance.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) return -1;
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === 200) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    await sleep(2);
  }
  return -1;
}

/** CPU seconds (user + system) from a /proc stat file (the process: all threads; a task: one thread). */
export function statCpu(path: string): number {
  try {
    const fields = readFileSync(path, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
  } catch {
    return NaN;
  }
}
export const cpuSeconds = (pid: number) => statCpu(`/proc/${pid}/stat`);
export const mainThreadCpu = (pid: number) => statCpu(`/proc/${pid}/task/${pid}/stat`);

/** The ids of a process's child processes (a server's shadow challenger process, cluster workers). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`))
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean))
        out.push(Number(c));
  } catch {
    // no children file on this kernel, or the process ended
  }
  return out;
}

/**
 * CPU seconds of a process's threads, and of its child processes' threads, by how they are
 * scheduled: `normal` the threads at the server's own priority (SCHED_OTHER, nice 0 or
 * less: they compete with the serving thread as equals), `lowered` the others (a niced or
 * SCHED_IDLE thread: the shadow challenger's thread, or every thread of its process).
 * `children` is the child processes' share of the total.
 */
export function cpuByPriority(pid: number): { normal: number; lowered: number; children: number } {
  const out = { normal: 0, lowered: 0, children: 0 };
  const add = (p: number, child: boolean): boolean => {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      return false;
    }
    for (const tid of tids) {
      try {
        const f = readFileSync(`/proc/${p}/task/${tid}/stat`, 'utf8').split(') ').pop()!.split(' ');
        const cpu = (Number(f[11]) + Number(f[12])) / 100;
        if (Number(f[38]) === 0 && Number(f[16]) <= 0) out.normal += cpu;
        else out.lowered += cpu;
        if (child) out.children += cpu;
      } catch {
        // the thread ended meanwhile
      }
    }
    return true;
  };
  if (!add(pid, false)) return { normal: NaN, lowered: NaN, children: NaN };
  for (const c of childPids(pid)) add(c, true);
  return out;
}

/**
 * Nanoseconds a thread has spent runnable but waiting for a core (the second field of
 * /proc/<pid>/task/<tid>/schedstat): the scheduling delay a latency figure carries.
 */
export function runQueueWaitNs(pid: number, tid = pid): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return NaN;
  }
}

/** SIGTERM, then SIGKILL after 15 s. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([done, sleep(15000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

export interface Started {
  child: ChildProcess;
  url: string;
  port: number;
  readyMs: number;
  /** CPU by /ready: all threads, and the main thread alone. */
  readyCpuMs: number;
  readyMainCpuMs: number;
  /** The prediction log's scratch directory. */
  scratch: string;
}

/**
 * `carprice serve --model DIR` (the built CLI) on a free loopback port, its prediction log in
 * a scratch directory, model polling off; `extra` flags appended. Resolves at its first
 * /ready 200. `root`: another checkout's build to run, from that directory (its own
 * params.yaml; e.g. to compare two versions in the same run).
 */
export async function startCarprice(model: string, extra: string[] = [], root?: string): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const scratch = mkdtempSync(join(tmpdir(), 'carprice-bench-serve-log-'));
  const devnull = openSync('/dev/null', 'w');
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      root ? resolve(root, CLI) : resolve(CLI),
      'serve',
      '--model',
      model,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--set',
      'serving.poll_interval_s=0',
      '--set',
      `monitoring.log_path=${join(scratch, 'predictions.db')}`,
      ...extra,
    ],
    {
      stdio: ['ignore', 'ignore', devnull],
      env: { ...process.env, CARPRICE_API_TOKEN: '' },
      ...(root ? { cwd: resolve(root) } : {}),
    },
  );
  const readyMs = await waitFor200(`${url}/ready`, t0, 120_000, child);
  if (readyMs < 0) {
    await stop(child);
    rmSync(scratch, { recursive: true, force: true });
    throw new Error(`carprice serve ${extra.join(' ')} did not become ready`);
  }
  return {
    child,
    url,
    port,
    readyMs,
    readyCpuMs: cpuSeconds(child.pid!) * 1000,
    readyMainCpuMs: mainThreadCpu(child.pid!) * 1000,
    scratch,
  };
}

export async function stopCarprice(s: Started): Promise<void> {
  await stop(s.child);
  rmSync(s.scratch, { recursive: true, force: true });
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `load 1.3`: the 1-minute load average (other jobs may share the machine). */
export const load = () => `load ${loadavg()[0].toFixed(1)}`;
