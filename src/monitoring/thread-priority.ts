/**
 * How a background thread of the server (the shadow challenger's) gets out of the serving
 * thread's way, set by the thread on itself at start. Two steps, both per thread on Linux:
 *
 * - nice (setpriority on the calling thread): a smaller share of the CPU when both want it.
 *   Under the kernel's fair scheduler this is not enough for latency: a serving thread that
 *   wakes on a request while a nice-19 thread holds the core may still wait for the
 *   running thread's protected slice (about a millisecond), and that wait is what a p99
 *   shows.
 * - SCHED_IDLE (the `idle` policy): the thread runs only when the core has nothing else to
 *   run, and any normal thread that wakes takes the core from it at once; a core running
 *   only SCHED_IDLE threads counts as idle when the kernel places a waking thread. Any
 *   thread may lower itself to SCHED_IDLE without privileges (it cannot come back). Node has
 *   no call for it, so the thread runs util-linux's `chrt --idle -p 0 <its thread id>`
 *   once, and reads its policy back from /proc; when chrt is missing or refused (a seccomp
 *   profile), the thread stays at its nice value and says why.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** What a background thread asks for: SCHED_IDLE (falling back to nice) or only the nice value. */
export type BackgroundPolicy = 'idle' | 'nice';

/** A thread's scheduling as it read it back after setting it. */
export interface ThreadPriority {
  /** The kernel's policy: 'normal' (SCHED_OTHER), 'idle' (SCHED_IDLE), ...; null when unknown (not Linux). */
  policy: string | null;
  /** The thread's nice value (null: not set, see `note`). */
  nice: number | null;
  /** The thread's id (Linux), to find it under /proc/<pid>/task/. */
  tid?: number;
  /** Why what was asked is not in effect. */
  note?: string;
}

const POLICIES: Record<number, string> = { 0: 'normal', 1: 'fifo', 2: 'rr', 3: 'batch', 5: 'idle', 6: 'deadline' };

/** Policy and nice value of a task from its /proc stat file (fields 41 and 19). */
export function readSchedStat(path: string): { policy: string; nice: number } | null {
  try {
    // fields after the command name (which may hold spaces) start at field 3, the state
    const f = readFileSync(path, 'utf8').split(') ').pop()!.split(' ');
    const policy = Number(f[41 - 3]);
    return { policy: POLICIES[policy] ?? `policy ${policy}`, nice: Number(f[19 - 3]) };
  } catch {
    return null;
  }
}

/** The calling thread's id (Linux: /proc/thread-self links to <pid>/task/<tid>); null where it cannot be read. */
export function threadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/**
 * Lower the calling thread's priority: for `idle`, SCHED_IDLE, then nice `nice` (0 = keep
 * it). Never throws: what could not be done is in the answer's `note`. Off Linux
 * nothing is changed (setpriority there would renice the whole process).
 */
export function lowerThisThread(ask: { policy: BackgroundPolicy; nice: number }): ThreadPriority {
  if (process.platform !== 'linux')
    return { policy: null, nice: null, note: `per-thread priority is Linux only (${process.platform})` };
  const notes: string[] = [];
  let nice: number | null = null;
  const tid = threadId();
  // SCHED_IDLE first: chrt is a process of its own and inherits this thread's nice value, so
  // at nice 19 on a busy machine it would wait long for a core (and the thread with it)
  if (ask.policy === 'idle') {
    if (tid === null) notes.push('SCHED_IDLE: /proc/thread-self is not readable');
    else {
      const r = spawnSync('chrt', ['--idle', '-p', '0', String(tid)], { encoding: 'utf8', timeout: 10_000 });
      if (r.error)
        notes.push(
          `SCHED_IDLE: cannot run chrt (util-linux): ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`,
        );
      else if (r.status !== 0) notes.push(`SCHED_IDLE: chrt failed: ${(r.stderr || `exit ${r.status}`).trim()}`);
    }
  }
  if (ask.nice > 0) {
    try {
      setPriority(ask.nice);
      nice = getPriority();
    } catch (e) {
      notes.push(`nice ${ask.nice}: ${(e as Error).message}`);
    }
  }
  const now = tid === null ? null : readSchedStat('/proc/thread-self/stat');
  if (ask.policy === 'idle' && now && now.policy !== 'idle' && notes.length === 0)
    notes.push(`SCHED_IDLE asked, the thread runs under ${now.policy}`);
  return {
    policy: now?.policy ?? null,
    nice: ask.nice > 0 ? (now?.nice ?? nice) : null,
    ...(tid === null ? {} : { tid }),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}
