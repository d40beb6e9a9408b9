/**
 * What the benches that time whole processes share: the load
 * average printed beside every figure, a process run under /usr/bin/time (wall, CPU and
 * peak RSS) and the carprice CLI run that way.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';

const TIME = '/usr/bin/time';
/** The built CLI (benches run from the project root after `npm run build`). */
export const CLI = resolve('dist/src/cli/main.js');

/** The 1, 5 and 15-minute load averages, one decimal. */
export const loadAverage = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

export interface Timed {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall seconds. */
  wall: number;
  /** CPU seconds (user + system) from /usr/bin/time, when present. */
  cpu: number | null;
  /** Peak RSS in MB from /usr/bin/time, when present. */
  peakMb: number | null;
  /** The load average before -> after. */
  load: string;
}

/** A whole process, timed, with its CPU time and peak RSS from /usr/bin/time when present. */
export function timed(argv: string[], env: NodeJS.ProcessEnv = {}): Timed {
  const marker = '@@time';
  const full = existsSync(TIME) ? [TIME, '-f', `${marker} %U %S %M`, ...argv] : argv;
  const before = loadAverage();
  const t0 = performance.now();
  const r = spawnSync(full[0], full.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 28,
  });
  const wall = (performance.now() - t0) / 1000;
  let stderr = r.stderr ?? '';
  const m = new RegExp(`${marker} ([\\d.]+) ([\\d.]+) (\\d+)`).exec(stderr);
  if (m) stderr = stderr.replace(m[0], '');
  return {
    code: r.status,
    stdout: r.stdout ?? '',
    stderr,
    wall,
    cpu: m ? Number(m[1]) + Number(m[2]) : null,
    peakMb: m ? Number(m[3]) / 1024 : null,
    load: `${before} -> ${loadAverage()}`,
  };
}

/** `carprice ARGV` as a timed whole process; throws with its stderr when it fails. */
export function carprice(argv: string[], env: NodeJS.ProcessEnv = {}): Timed {
  const r = timed([process.execPath, CLI, ...argv], env);
  if (r.code !== 0) throw new Error(`carprice ${argv.join(' ')} failed (exit ${r.code}):\n${r.stderr}`);
  return r;
}

/** Megabytes as `N MB`, or `N.NN GB` from 1 GB. */
export const mb = (x: number | null) =>
  x === null ? 'n/a' : x >= 1024 ? `${(x / 1024).toFixed(2)} GB` : `${Math.round(x)} MB`;
