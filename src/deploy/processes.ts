/**
 * The processes of a local deployment: detached children (the load balancer and each
 * colour's API) whose output goes to a log file under .carprice/deploy/, so they outlive
 * the `carprice deploy` command that started them, plus the waits around them: a free
 * port, readiness by HTTP, a graceful stop (SIGTERM, then SIGKILL after a deadline).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { isAlive } from './state.js';

/** Starts `command args` detached, stdout and stderr appended to `logFile`; returns its pid. */
export function spawnDetached(
  command: string,
  args: readonly string[],
  opts: { cwd: string; logFile: string; env: NodeJS.ProcessEnv },
): number {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** A port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `url` until it answers 200 (true), the process `pid` exits, or `timeoutMs` passes
 * (false). Each probe has its own short timeout.
 */
export async function waitForHttp200(url: string, pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) return true;
    } catch {
      // not listening yet
    }
    if (!isAlive(pid)) return false;
    await sleep(100);
  }
  return false;
}

/** SIGTERM to the process (its group when it leads one), SIGKILL after `graceMs`; resolves when it is gone. */
export async function stopProcess(pid: number, graceMs = 30_000): Promise<void> {
  if (!isAlive(pid)) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    signal('SIGKILL');
    while (isAlive(pid)) await sleep(20);
  }
}

/** The last `n` lines of a log file ('' when absent), for error messages. */
export function tailLog(file: string, n = 15): string {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}
