/**
 * The shadow challenger's pause protocol: it works in pieces and, before each piece, waits
 * while the server's serving thread is on a core or waiting for one (its scheduler state
 * `R` in /proc/<pid>/task/<tid>/stat), so its work falls between requests instead of
 * beside them.
 *
 * Why (Linux, measured on the bench's 2-core VM, README "How the shadow's p99 cost is
 * measured"): SCHED_IDLE makes a waking serving thread take the core from the challenger
 * at once when both are on the same core, but a core that runs only the challenger is not
 * reliably used for the tasks that wake while a request is served (the serving thread, the
 * client's thread, the log's writer thread): they queue behind each other on the other
 * core, and requests that overlap a challenger batch are slower (p50 +25-30% for those
 * requests). A challenger that is off every core while a request is in flight leaves them
 * both cores.
 *
 * The serving thread does nothing for it: no counter, no message, no wake-up; the challenger
 * reads the thread's state itself (one pread of an open /proc file, a few µs) and sleeps
 * `pollUs` at a time while it is `R`. The wait is bounded per batch (`maxPauseMs`): a server
 * that is never idle (saturated) gets its challenger's work at idle priority, as before,
 * instead of an ever-growing queue. Where /proc cannot be read (not Linux, a hardened
 * container) the gate is off and says why (`note`); the challenger then works as it did
 * without it.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { threadId } from './thread-priority.js';

/** Which thread to watch: the serving thread (a process id and a thread id of it). */
export interface ServingThread {
  pid: number;
  tid: number;
}

/** What the challenger reports about its pause protocol (with its priority, at model-ready). */
export interface PauseInfo {
  /** The serving thread watched (null: the gate is off, see `note`). */
  tid: number | null;
  /** µs of work between looks at the serving thread (0: off, the whole batch at once, never waiting). */
  sliceUs: number;
  /** Longest wait per batch, ms. */
  maxPauseMs: number;
  note?: string;
}

/** The calling thread's id (Linux: /proc/thread-self links to <pid>/task/<tid>); null elsewhere. */
export function servingThread(): ServingThread | null {
  if (process.platform !== 'linux') return null;
  const tid = threadId();
  return tid === null ? null : { pid: process.pid, tid };
}

export class ServingGate {
  private fd: number | null = null;
  private readonly buf = Buffer.alloc(256);
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  /** Why the gate is off (null: on). */
  readonly note: string | null;

  /**
   * @param target the serving thread to watch (null: off)
   * @param pollUs how long to sleep between looks while it is busy, µs
   */
  constructor(
    readonly target: ServingThread | null,
    private readonly pollUs = 200,
  ) {
    if (!target) {
      this.note = process.platform === 'linux' ? 'no serving thread given' : `Linux only (${process.platform})`;
      return;
    }
    const path = `/proc/${target.pid}/task/${target.tid}/stat`;
    try {
      this.fd = openSync(path, 'r');
      if (this.state() === null) throw new Error('unreadable state');
      this.note = null;
    } catch (e) {
      this.close();
      this.note = `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
  }

  get on(): boolean {
    return this.fd !== null;
  }

  /** The watched thread's scheduler state letter (R running or runnable, S sleeping, ...), null when unknown. */
  state(): string | null {
    if (this.fd === null) return null;
    try {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
      // "<pid> (<comm>) <state> ...": the state follows the last ") " (a name may hold spaces
      // and parentheses); the name is at most 16 bytes, so 256 bytes hold it
      const s = this.buf.toString('latin1', 0, n);
      const at = s.lastIndexOf(') ');
      return at < 0 ? null : s.charAt(at + 2);
    } catch {
      return null; // the thread is gone (the server exiting)
    }
  }

  /** Whether the serving thread is on a core or waiting for one. */
  busy(): boolean {
    return this.state() === 'R';
  }

  /** Sleep while the serving thread is busy, at most `maxMs`; the ms waited. */
  waitIdle(maxMs: number): number {
    if (this.fd === null || maxMs <= 0) return 0;
    const t0 = performance.now();
    while (this.busy()) {
      const left = maxMs - (performance.now() - t0);
      if (left <= 0) break;
      Atomics.wait(this.sleeper, 0, 0, Math.min(left, this.pollUs / 1000));
    }
    return performance.now() - t0;
  }

  close(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = null;
    }
  }
}

/**
 * The pause protocol as a challenger (its thread, or its child process) sets it up from what
 * the scorer passed, and what it reports back (with its priority, at model-ready).
 */
export function pacingFor(d: { serving: ServingThread | null; sliceUs: number; maxPauseMs: number }): {
  gate: ServingGate;
  sliceUs: number;
  maxPauseMs: number;
  info: PauseInfo;
} {
  const gate = new ServingGate(d.sliceUs > 0 ? d.serving : null);
  const info: PauseInfo = {
    tid: gate.on ? gate.target!.tid : null,
    sliceUs: gate.on ? d.sliceUs : 0,
    maxPauseMs: d.maxPauseMs,
    ...(d.sliceUs > 0 && gate.note ? { note: gate.note } : {}),
  };
  return { gate, sliceUs: d.sliceUs, maxPauseMs: d.maxPauseMs, info };
}
