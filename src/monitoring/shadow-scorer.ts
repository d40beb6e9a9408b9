/**
 * Shadow scoring: every logged request is also priced by a challenger model, on its own
 * worker thread (shadow-worker.ts), after the champion's answer has gone out; the
 * challenger's prices go to the prediction log under the same request id (role
 * `challenger`). What the serving thread does per request is bounded and small: queue the
 * request, and post the queued requests to the thread in one message every few
 * milliseconds (or at 64 listings). The thread writes its rows to the log's writer thread
 * itself, through a port of their own (`logPort`), and answers here with counts only: the
 * listings cross to the challenger once and its rows never pass through this thread.
 *
 * Failure design (a challenger never affects a response):
 * - queue full (the challenger is slower than the traffic): listings are not shadow-scored,
 *   counted as dropped (queue_full);
 * - no answer within `timeoutMs` (a challenger stuck in a loop): the thread is terminated
 *   and restarted with the same model; its pending listings are counted (timeout);
 * - the thread crashes: restarted after a pause that doubles up to 30 s, pending listings
 *   counted (worker_crash); a challenger that fails on a listing is logged with its error;
 * - no challenger loaded (yet, or it failed to load): counted (no_model).
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import { silentLogger, type Logger } from '../core/logger.js';
import type { MonitoringMetrics } from './monitoring-metrics.js';
import type { ObservedPrediction } from './prediction-record.js';
import type { ShadowItem, ShadowLogDrops, ShadowModelInfo, ShadowReply, ShadowRequest } from './shadow-worker.js';

/** Where the challenger's rows go: a fresh port to the log's writer thread (null when it is down). */
export interface ShadowLogLink {
  /** A new port to the writer and which writer it reaches (its epoch); null while the writer is down. */
  port(): { port: MessagePort; epoch: number } | null;
  /** Most challenger rows waiting at the writer before more are dropped. */
  capacity: number;
  /** The thread handed `n` rows to writer `epoch` and dropped others (counted in the log's metrics). */
  handed(n: number, dropped: ShadowLogDrops, epoch: number): void;
}

export interface ShadowScorerOptions {
  /** Where the challenger's rows go. */
  log: ShadowLogLink;
  /** Most listings waiting for the challenger (default 1,000). */
  queueSize?: number;
  /** A batch unanswered this long restarts the thread (default 5,000 ms). */
  timeoutMs?: number;
  /** Longest a request waits here before its batch is posted (default 5 ms). */
  batchMs?: number;
  metrics?: MonitoringMetrics;
  logger?: Logger;
  /** The worker script (tests substitute a misbehaving one); default shadow-worker.js. */
  workerUrl?: URL;
}

type DropReason = 'queue_full' | 'timeout' | 'worker_crash' | 'no_model';

/** Listings per message to the thread, at most (a full batch goes at once). */
const BATCH_LISTINGS = 64;

export interface ShadowStats {
  scored: number;
  failed: number;
  dropped: Record<DropReason, number>;
  restarts: number;
  model: ShadowModelInfo | null;
}

export class ShadowScorer {
  private worker: Worker | undefined;
  private model: { bundle: unknown; info: ShadowModelInfo } | undefined;
  private ready = false;
  private queue: ShadowItem[] = [];
  private queuedListings = 0;
  private readonly sent = new Map<number, { listings: number; timer: NodeJS.Timeout }>();
  private sentListings = 0;
  private nextId = 1;
  private immediate: NodeJS.Immediate | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = 500;
  private closed = false;
  private readonly stats_: ShadowStats = {
    scored: 0,
    failed: 0,
    dropped: { queue_full: 0, timeout: 0, worker_crash: 0, no_model: 0 },
    restarts: 0,
    model: null,
  };
  private readonly log: Logger;
  private readonly queueSize: number;
  private readonly timeoutMs: number;
  private readonly batchMs: number;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: ShadowScorerOptions) {
    this.log = o.logger ?? silentLogger;
    this.queueSize = o.queueSize ?? 1000;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.batchMs = o.batchMs ?? 5;
  }

  /** Load (or replace) the challenger: a saved bundle (ModelBundle.toJSON()) and who it is. */
  setModel(bundle: unknown, info: ShadowModelInfo): void {
    this.model = { bundle, info };
    this.ready = false;
    if (!this.worker) this.spawn();
    else this.worker.postMessage({ type: 'model', bundle, info } satisfies ShadowRequest);
  }

  private spawn(): void {
    if (this.closed || !this.model) return;
    const w = new Worker(this.o.workerUrl ?? new URL('./shadow-worker.js', import.meta.url));
    this.worker = w;
    w.on('message', (m: ShadowReply) => this.onReply(w, m));
    w.on('error', (e) => this.log.error({ err: e.message }, 'shadow challenger thread crashed'));
    w.on('exit', () => this.onExit(w));
    this.linkLog(w);
    w.postMessage({ type: 'model', bundle: this.model.bundle, info: this.model.info } satisfies ShadowRequest);
  }

  /** Give the thread a fresh port to the log's writer (at start, and when the writer restarted). */
  private linkLog(w: Worker): void {
    let link: { port: MessagePort; epoch: number } | null = null;
    try {
      link = this.o.log.port();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'shadow rows cannot reach the prediction log');
    }
    const msg = {
      type: 'log',
      port: link?.port ?? null,
      epoch: link?.epoch ?? -1,
      capacity: this.o.log.capacity,
    } satisfies ShadowRequest;
    if (link) w.postMessage(msg, [link.port]);
    else w.postMessage(msg);
  }

  /** The log's writer thread was restarted: the old port is dead; hand the thread a new one. */
  relinkLog(): void {
    if (this.worker) this.linkLog(this.worker);
  }

  private onReply(w: Worker, m: ShadowReply): void {
    if (w !== this.worker) return;
    if (m.type === 'model-ready') {
      this.ready = true;
      this.stats_.model = m.info;
      this.backoffMs = 500;
      this.log.info({ model: m.info.name, version: m.info.version }, 'shadow challenger ready');
      this.schedule();
    } else if (m.type === 'model-failed') {
      this.ready = false;
      this.stats_.model = null;
      this.log.error(
        { model: m.info.name, version: m.info.version, err: m.message },
        'shadow challenger failed to load',
      );
    } else if (m.type === 'scored') {
      const batch = this.sent.get(m.id);
      if (!batch) return;
      clearTimeout(batch.timer);
      this.sent.delete(m.id);
      this.sentListings -= batch.listings;
      this.stats_.scored += m.ok;
      this.stats_.failed += m.failed;
      this.o.metrics?.shadowScored.inc({ outcome: 'ok' }, m.ok);
      if (m.failed) this.o.metrics?.shadowScored.inc({ outcome: 'failed' }, m.failed);
      try {
        this.o.log.handed(m.logged, m.dropped, m.epoch);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'shadow rows could not be counted');
      }
      this.schedule();
      this.wake();
    }
  }

  private onExit(w: Worker): void {
    if (w !== this.worker) return;
    this.worker = undefined;
    this.ready = false;
    this.failSent('worker_crash');
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

  private failSent(reason: DropReason): void {
    for (const [, b] of this.sent) {
      clearTimeout(b.timer);
      this.drop(reason, b.listings);
    }
    this.sent.clear();
    this.sentListings = 0;
    this.wake();
  }

  private drop(reason: DropReason, n: number): void {
    this.stats_.dropped[reason] += n;
    this.o.metrics?.shadowDropped.inc({ reason }, n);
  }

  /** Queue a priced request for the challenger; never blocks or throws. */
  submit(e: ObservedPrediction, ts: number): void {
    const n = e.listings.length;
    if (this.closed || !this.model) {
      this.drop('no_model', n);
      return;
    }
    if (this.queuedListings + this.sentListings + n > this.queueSize) {
      this.drop('queue_full', n);
      return;
    }
    this.queue.push({ requestId: e.requestId, route: e.route, ts, listings: e.listings });
    this.queuedListings += n;
    this.schedule();
  }

  /** Post the queue after this event-loop turn when it holds a full batch, else within batchMs. */
  private schedule(): void {
    if (!this.ready || this.queue.length === 0 || this.immediate) return;
    if (this.queuedListings >= BATCH_LISTINGS || this.batchMs <= 0) {
      if (this.batchTimer) clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.send();
      });
    } else if (!this.batchTimer) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = undefined;
        this.send();
      }, this.batchMs);
      this.batchTimer.unref();
    }
  }

  private send(): void {
    const w = this.worker;
    if (!w || !this.ready || this.queue.length === 0) return;
    const items = this.queue;
    const listings = this.queuedListings;
    this.queue = [];
    this.queuedListings = 0;
    this.sentListings += listings;
    const id = this.nextId++;
    const timer = setTimeout(() => this.onTimeout(w), this.timeoutMs);
    timer.unref();
    this.sent.set(id, { listings, timer });
    w.postMessage({ type: 'score', id, items } satisfies ShadowRequest);
  }

  private onTimeout(w: Worker): void {
    if (w !== this.worker) return;
    this.log.warn({ timeoutMs: this.timeoutMs }, 'shadow challenger did not answer in time; restarting its thread');
    this.worker = undefined;
    this.ready = false;
    this.failSent('timeout');
    this.stats_.restarts++;
    this.o.metrics?.shadowRestarts.inc();
    void w.terminate();
    this.spawn();
  }

  private wake(): void {
    if (this.queue.length === 0 && this.sent.size === 0) for (const f of this.idleWaiters.splice(0)) f();
  }

  /** Resolves once nothing is queued or being scored (tests, shutdown). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.sent.size === 0) return Promise.resolve();
    return new Promise((res) => this.idleWaiters.push(res));
  }

  stats(): ShadowStats {
    return { ...this.stats_, dropped: { ...this.stats_.dropped } };
  }

  /** Stop the thread (what is still queued is not scored). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.immediate) clearImmediate(this.immediate);
    if (this.batchTimer) clearTimeout(this.batchTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const w = this.worker;
    this.worker = undefined;
    for (const [, b] of this.sent) clearTimeout(b.timer);
    this.sent.clear();
    this.queue = [];
    this.wake();
    if (w) await w.terminate();
  }
}
