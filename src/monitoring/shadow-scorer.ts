/**
 * Shadow scoring: every logged request is also priced by a challenger model, off the
 * serving thread, after the champion's answer has gone out; the challenger's prices go to
 * the prediction log under the same request id (role `challenger`). What the serving thread
 * does per request is small and fixed: copy the request's id, route, time and body (the
 * JSON text it received, never serialised again) into a ring shared with a worker thread
 * (shadow-ring.ts), after one atomic load for the queue's bound. No message, timer or
 * wake-up per request or per batch: the thread looks at the ring every `pollMs` (250 ms by
 * default: few, large batches, so the challenger starts rarely and spends less per listing)
 * on its own clock, and adds each batch's counts to a tally in the ring, which this side
 * reads on its watchdog's tick (the metrics lag by at most a second). Only a batch whose
 * rows could not be stored is answered with a message (it carries the error).
 *
 * Where the challenger runs (`isolation`):
 * - `process` (the default on Linux): the thread is a relay (shadow-relay.ts) that hands the
 *   ring's bytes, one batch at a time, to a child process (shadow-process.ts) started under
 *   SCHED_IDLE at nice `nice` (chrt, nice) with a parent-death signal (setpriv): every
 *   thread of the challenger, V8's garbage-collector and compiler threads included, runs
 *   at idle priority, and it shares no heap, allocator or memory map (with its lock) with
 *   the server. The relay thread itself moves to SCHED_IDLE.
 * - `thread`: the thread prices the requests itself (shadow-worker.ts) and lowers only
 *   itself (thread-priority.ts): the V8 helper threads that collect its garbage and compile
 *   its code are the server's, at the server's priority.
 * Either way the challenger prices each batch at once (shadow-challenger.ts,
 * `Predictor.predictBatch`) and stores its rows in the prediction log itself (a SQLite
 * connection of its own, so the log's writer thread, at the server's priority, does none
 * of its work). Under SCHED_IDLE it gets only the CPU that serving and the rest of the
 * machine leave, and a serving thread that wakes takes the core from it at once, so its
 * work waits instead of delaying responses.
 *
 * Failure design (a challenger never affects a response):
 * - ring full, or more than `queueSize` listings waiting (the challenger is slower than the
 *   traffic): listings are not shadow-scored, counted as dropped (queue_full);
 * - listings waiting and no answer for `timeoutMs` (a challenger stuck in a loop): the thread
 *   (and its child process, killed and reaped by the relay, or by its parent-death signal
 *   if the relay is gone) is ended and restarted with the same model; its pending listings
 *   are counted (timeout); a watchdog timer, armed only while listings wait, checks every
 *   timeoutMs/4;
 * - the thread or the child process crashes: restarted after a pause that doubles up to
 *   30 s, pending listings counted (worker_crash), as are requests during the pause; a
 *   challenger that fails on a listing is logged with its error;
 * - its rows cannot be stored (the log's lock held past half of `timeoutMs`, a full disk):
 *   counted as the log's write_failed, with a warning;
 * - no challenger loaded (yet, or it failed to load): counted (no_model).
 */
import { Worker } from 'node:worker_threads';
import { silentLogger, type Logger } from '../core/logger.js';
import type { MonitoringMetrics } from './monitoring-metrics.js';
import type { ObservedPrediction } from './prediction-record.js';
import type { ShadowModelInfo, ShadowPriority, ShadowReply, ShadowRequest, ShadowWorkerData } from './shadow-worker.js';
import { createShadowRing, readTally, ShadowRingWriter, type Tally } from './shadow-ring.js';
import type { BackgroundPolicy } from './thread-priority.js';
import { servingThread, type PauseInfo, type ServingThread } from './serving-gate.js';

/** Where the challenger's rows go: the prediction log's file, which the thread writes itself. */
export interface ShadowLogLink {
  /** The log's SQLite file (already opened, so created and migrated, by the log's writer thread). */
  path: string;
  /** The thread stored `n` rows and could not store `failed` (counted in the log's metrics; `error` why). */
  wrote(n: number, failed: number, error?: string): void;
}

export interface ShadowScorerOptions {
  /** Where the challenger's rows go. */
  log: ShadowLogLink;
  /** Most listings waiting for the challenger (default 1,000). */
  queueSize?: number;
  /** Listings waiting this long with no answer from the thread restart it (default 5,000 ms). */
  timeoutMs?: number;
  /**
   * How often the thread looks for new requests, ms (default 250): the challenger prices what
   * came meanwhile as one batch. Larger batches cost the challenger less per listing and
   * start it (taking a core, and the caches, from whatever ran there) less often.
   */
  pollMs?: number;
  /**
   * The challenger thread's nice value, 0-19 (default 19: it gets only the CPU nothing else
   * wants; on a saturated machine its listings wait, then are dropped as queue_full). Linux
   * only (elsewhere the thread keeps the server's priority).
   */
  nice?: number;
  /**
   * `idle` (default): the thread also moves itself to SCHED_IDLE (thread-priority.ts), so a
   * serving thread that wakes takes the core from it at once, falling back to the nice value
   * where that is refused; `nice`: the nice value only.
   */
  policy?: BackgroundPolicy;
  /**
   * `process` (default on Linux): the challenger runs in a child process started under the
   * policy and nice value asked (chrt, nice; shadow-process.ts), fed by a relay thread that
   * takes the ring's bytes (shadow-relay.ts), so all of its threads, V8's collector and
   * compiler threads included, run at that priority, and it shares no heap, allocator or
   * memory map with the server; `thread`: the challenger runs on a worker thread of the
   * server (only that thread is lowered: V8's helper threads it uses keep the server's priority).
   */
  isolation?: ShadowIsolation;
  /**
   * The pause protocol (serving-gate.ts): about every `yieldUs` µs of its work (default
   * 100; 0 = off: each batch at once, beside requests) the challenger looks at the thread that
   * made this scorer (the serving thread) and waits while it is on a core or waiting for one,
   * for at most a quarter of `timeoutMs` (and 1 s) per batch.
   */
  yieldUs?: number;
  metrics?: MonitoringMetrics;
  logger?: Logger;
  /** The worker script (tests substitute a misbehaving one); default shadow-worker.js, or shadow-relay.js for `process`. */
  workerUrl?: URL;
  /** `process` only: the child's script (tests substitute a misbehaving one); default shadow-process.js. */
  processScript?: string;
}

export type ShadowIsolation = 'process' | 'thread';

type DropReason = 'queue_full' | 'timeout' | 'worker_crash' | 'no_model';

/** Bytes of ring per listing of `queueSize` (a listing's JSON is ~250 bytes; long texts more). */
const RING_BYTES_PER_LISTING = 2048;

export interface ShadowStats {
  scored: number;
  failed: number;
  dropped: Record<DropReason, number>;
  restarts: number;
  model: ShadowModelInfo | null;
  /** The challenger thread's scheduling priority, as it read it back (null before it is ready). */
  priority: ShadowPriority | null;
  /** The pause protocol as the challenger set it up (null before it is ready). */
  pause: PauseInfo | null;
}

const zeroTally = (): Tally => ({ listings: 0, ok: 0, failed: 0, logged: 0, notLogged: 0, batches: 0 });

export class ShadowScorer {
  private worker: Worker | undefined;
  private ring: ShadowRingWriter | undefined;
  private model: { bundle: unknown; info: ShadowModelInfo } | undefined;
  private ready = false;
  /**
   * Listings appended to the current ring, and answered for by a message (a batch with an
   * error); the ring's tally counts the others (modulo 2^32, as the tally): pending = the
   * difference.
   */
  private submitted = 0;
  private answeredByMessage = 0;
  /** The ring's tally as last read into the stats and metrics. */
  private seen: Tally = zeroTally();
  private idlePoll: NodeJS.Timeout | undefined;
  /** When the thread last showed progress (an answer, its model ready, the first listing waiting). */
  private lastProgress = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = 500;
  private lastStoreWarn = -Infinity;
  private closed = false;
  private readonly stats_: ShadowStats = {
    scored: 0,
    failed: 0,
    dropped: { queue_full: 0, timeout: 0, worker_crash: 0, no_model: 0 },
    restarts: 0,
    model: null,
    priority: null,
    pause: null,
  };
  private readonly log: Logger;
  private readonly queueSize: number;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly nice: number;
  private readonly policy: BackgroundPolicy;
  readonly isolation: ShadowIsolation;
  private readonly yieldUs: number;
  /** The serving thread (the one that made this scorer and submits to it), for the pause protocol. */
  private readonly serving: ServingThread | null;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: ShadowScorerOptions) {
    this.log = o.logger ?? silentLogger;
    this.queueSize = o.queueSize ?? 1000;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.pollMs = o.pollMs ?? 250;
    this.nice = Math.max(0, Math.min(19, Math.round(o.nice ?? 19)));
    this.policy = o.policy ?? 'idle';
    this.isolation = o.isolation ?? (process.platform === 'linux' ? 'process' : 'thread');
    this.yieldUs = Math.max(0, Math.round(o.yieldUs ?? 100));
    this.serving = servingThread();
  }

  /** Load (or replace) the challenger: a saved bundle (ModelBundle.toJSON()) and who it is. */
  setModel(bundle: unknown, info: ShadowModelInfo): void {
    this.model = { bundle, info };
    this.ready = false;
    if (!this.worker) {
      if (!this.restartTimer) this.spawn();
    } else this.worker.postMessage({ type: 'model', bundle, info } satisfies ShadowRequest);
  }

  private spawn(): void {
    if (this.closed || !this.model) return;
    const ring = createShadowRing(Math.max(1 << 18, this.queueSize * RING_BYTES_PER_LISTING));
    const script = this.isolation === 'process' ? './shadow-relay.js' : './shadow-worker.js';
    const w = new Worker(this.o.workerUrl ?? new URL(script, import.meta.url), {
      workerData: {
        ring,
        pollMs: this.pollMs,
        nice: this.nice,
        policy: this.policy,
        logPath: this.o.log.path,
        // a batch waiting for the log's lock longer than this is given up before the watchdog restarts the thread
        busyTimeoutMs: Math.max(50, Math.floor(this.timeoutMs / 2)),
        ...(this.o.processScript ? { processScript: this.o.processScript } : {}),
        serving: this.serving,
        sliceUs: this.yieldUs,
        // well under the watchdog's timeout: a batch that waited its most still answers in time
        maxPauseMs: Math.min(1000, Math.floor(this.timeoutMs / 4)),
      } satisfies ShadowWorkerData,
    });
    this.worker = w;
    this.ring = new ShadowRingWriter(ring);
    this.submitted = this.answeredByMessage = 0;
    this.seen = zeroTally();
    w.on('message', (m: ShadowReply) => this.onReply(w, m));
    w.on('error', (e) => this.log.error({ err: e.message }, 'shadow challenger thread crashed'));
    w.on('exit', () => this.onExit(w));
    w.postMessage({ type: 'model', bundle: this.model.bundle, info: this.model.info } satisfies ShadowRequest);
  }

  private onReply(w: Worker, m: ShadowReply): void {
    if (w !== this.worker) return;
    if (m.type === 'model-ready') {
      this.ready = true;
      this.stats_.model = m.info;
      this.stats_.priority = m.priority ?? null;
      this.stats_.pause = m.pause ?? null;
      this.backoffMs = 500;
      const p = m.priority;
      this.log.info(
        {
          model: m.info.name,
          version: m.info.version,
          policy: p?.policy ?? null,
          nice: p?.nice ?? null,
          pauseForThread: m.pause?.tid ?? null,
          pauseEveryUs: m.pause?.sliceUs ?? 0,
        },
        'shadow challenger ready',
      );
      if (m.pause?.note && this.yieldUs > 0)
        this.log.warn(
          { reason: m.pause.note },
          "the shadow challenger cannot see the serving thread's state: it works beside requests, not between them",
        );
      if (p?.note && (this.nice > 0 || this.policy === 'idle'))
        this.log.warn(
          { asked: { policy: this.policy, nice: this.nice }, got: { policy: p.policy, nice: p.nice }, reason: p.note },
          p.policy === 'idle' || (p.nice ?? 0) > 0
            ? "the shadow challenger's thread got only part of the priority asked: its work may delay responses"
            : "the shadow challenger's thread keeps the server's priority: its work competes with responses",
        );
      this.lastProgress = performance.now();
      this.arm();
    } else if (m.type === 'model-failed') {
      this.ready = false;
      this.stats_.model = null;
      this.log.error(
        { model: m.info.name, version: m.info.version, err: m.message },
        'shadow challenger failed to load',
      );
    } else if (m.type === 'scored') {
      // a batch answered by message (its rows could not be stored, or a challenger that does
      // not use the tally): counted here, not in the ring's tally
      this.answeredByMessage = (this.answeredByMessage + m.listings) >>> 0;
      this.lastProgress = performance.now();
      this.count(m.ok, m.failed, m.logged, m.notLogged, m.error);
      this.wake();
    }
  }

  /** Add what the challenger reported to the stats, the metrics and the log's counts. */
  private count(ok: number, failed: number, logged: number, notLogged: number, error?: string): void {
    if (ok) {
      this.stats_.scored += ok;
      this.o.metrics?.shadowScored.inc({ outcome: 'ok' }, ok);
    }
    if (failed) {
      this.stats_.failed += failed;
      this.o.metrics?.shadowScored.inc({ outcome: 'failed' }, failed);
    }
    if (logged === 0 && notLogged === 0) return;
    if (error !== undefined && notLogged > 0 && performance.now() - this.lastStoreWarn > 60_000) {
      this.lastStoreWarn = performance.now();
      this.log.warn(
        { rows: notLogged, err: error },
        'shadow rows could not be stored in the prediction log (counted as write_failed; said at most once a minute)',
      );
    }
    try {
      this.o.log.wrote(logged, notLogged, error);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'shadow rows could not be counted');
    }
  }

  /**
   * Read the ring's tally into the stats and metrics; a batch finished since the last read is
   * the challenger's progress (the watchdog's clock).
   */
  private harvest(): void {
    const ring = this.ring;
    if (!ring) return;
    const t = readTally(ring.ctl);
    const was = this.seen;
    if (t.batches === was.batches) return;
    this.seen = t;
    this.lastProgress = performance.now();
    const d = (k: keyof Tally) => (t[k] - was[k]) >>> 0;
    this.count(d('ok'), d('failed'), d('logged'), d('notLogged'));
  }

  /** Listings appended to the current ring and not yet answered for (one atomic load). */
  private get pending(): number {
    const ring = this.ring;
    if (!ring) return 0;
    return (this.submitted - this.answeredByMessage - ring.done()) >>> 0;
  }

  private onExit(w: Worker): void {
    if (w !== this.worker) return;
    this.harvest(); // what it finished before it died
    this.failPending('worker_crash');
    this.worker = undefined;
    this.ready = false;
    if (this.closed) return;
    this.stats_.restarts++;
    this.o.metrics?.shadowRestarts.inc();
    const wait = this.backoffMs;
    this.backoffMs = Math.min(30_000, this.backoffMs * 2);
    this.log.warn({ restartInMs: wait }, 'shadow challenger thread stopped; restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.spawn();
    }, wait);
    this.restartTimer.unref();
  }

  /** The listings the current thread holds are lost (it died or was stopped); its ring goes. */
  private failPending(reason: DropReason): void {
    this.drop(reason, this.pending);
    this.ring = undefined;
    this.wake();
  }

  private drop(reason: DropReason, n: number): void {
    if (n <= 0) return;
    this.stats_.dropped[reason] += n;
    this.o.metrics?.shadowDropped.inc({ reason }, n);
  }

  /** Queue a priced request for the challenger; never blocks or throws. */
  submit(e: ObservedPrediction, ts: number): void {
    const n = e.listings.length;
    if (this.closed || !this.model) return this.drop('no_model', n);
    const ring = this.ring;
    if (!ring) return this.drop('worker_crash', n); // the thread is restarting
    const pending = this.pending;
    if (pending + n > this.queueSize) return this.drop('queue_full', n);
    const ok =
      e.listingsJson !== undefined
        ? ring.append(e.requestId, e.route, ts, n, e.listingsJson, e.jsonShape ?? 'array')
        : ring.append(e.requestId, e.route, ts, n, JSON.stringify(e.listings), 'array');
    if (!ok) return this.drop('queue_full', n);
    this.submitted = (this.submitted + n) >>> 0;
    if (pending === 0) {
      this.lastProgress = performance.now();
      this.arm();
    }
  }

  /** Check on the thread while listings wait for it (a stuck challenger is restarted). */
  private arm(): void {
    if (this.watchdog || !this.ready || this.pending === 0 || this.closed) return;
    const every = Math.max(10, Math.min(1000, this.timeoutMs / 4));
    const check = () => {
      this.watchdog = undefined;
      this.harvest();
      const w = this.worker;
      if (!w || !this.ready || this.pending === 0) return this.wake();
      if (performance.now() - this.lastProgress > this.timeoutMs) this.onTimeout(w);
      else this.arm();
    };
    this.watchdog = setTimeout(check, every);
    this.watchdog.unref();
  }

  private onTimeout(w: Worker): void {
    if (w !== this.worker) return;
    this.log.warn({ timeoutMs: this.timeoutMs }, 'shadow challenger did not answer in time; restarting its thread');
    this.harvest();
    this.failPending('timeout');
    this.worker = undefined;
    this.ready = false;
    this.stats_.restarts++;
    this.o.metrics?.shadowRestarts.inc();
    void this.retire(w);
    this.spawn();
  }

  private wake(): void {
    if (this.pending !== 0 || this.idleWaiters.length === 0) return;
    this.harvest();
    if (this.idlePoll) clearInterval(this.idlePoll);
    this.idlePoll = undefined;
    for (const f of this.idleWaiters.splice(0)) f();
  }

  /** Resolves once nothing is waiting for or being scored by the challenger (tests, shutdown). */
  idle(): Promise<void> {
    this.harvest();
    if (this.pending === 0) return Promise.resolve();
    // the tally wakes nothing here: look at it every 5 ms while someone waits
    if (!this.idlePoll) {
      this.idlePoll = setInterval(() => this.wake(), 5);
      this.idlePoll.unref();
    }
    return new Promise((res) => this.idleWaiters.push(res));
  }

  /** The counts so far (the challenger's tally read first). */
  stats(): ShadowStats {
    this.harvest();
    return {
      ...this.stats_,
      dropped: { ...this.stats_.dropped },
      priority: this.stats_.priority && { ...this.stats_.priority },
      pause: this.stats_.pause && { ...this.stats_.pause },
    };
  }

  /** Stop the thread (what is still waiting is not scored). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const w = this.worker;
    this.worker = undefined;
    this.harvest();
    this.ring = undefined; // what still waits is not scored
    this.wake();
    if (w) await this.retire(w);
  }

  /**
   * End a thread. A relay thread is asked first to kill its child process and wait for it
   * (so no zombie is left; a stuck child dies of the signal too), for up to a second; then,
   * or at once for a challenger thread, the thread is terminated (a relay's child, if still
   * there, gets its parent-death signal).
   */
  private async retire(w: Worker): Promise<void> {
    if (this.isolation === 'process') {
      const gone = new Promise<void>((res) => w.once('exit', () => res()));
      try {
        w.postMessage({ type: 'stop' } satisfies ShadowRequest);
      } catch {
        // already gone
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise<void>((res) => (timer = setTimeout(res, 1000)))]);
      clearTimeout(timer);
    }
    await w.terminate();
  }
}
