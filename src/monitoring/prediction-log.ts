/**
 * The prediction log's sink on the serving thread. `record` only pushes onto a bounded
 * queue; batches go to the writer thread (log-writer-worker.ts) after the current event-loop
 * turn (so never inside a request's handler), which owns the SQLite connection. Rows beyond
 * `queueSize` (queued + sent but not yet written) are dropped and counted, never waited
 * for: a slow disk costs log rows, not response time. A writer thread that dies is
 * restarted after a pause; the rows meanwhile are dropped and counted as writer_down.
 *
 * Sampling is per request (`sample()`), so a request's champion and challenger rows are
 * logged together or not at all. The shadow challenger's thread stores its rows in the file
 * itself (its own connection, at its own low priority); it reports them here (`counted`),
 * so the metrics count them.
 */
import { Worker } from 'node:worker_threads';
import { AppError, isErrorCode } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { MonitoringMetrics } from './monitoring-metrics.js';
import type { PredictionRecord } from './prediction-record.js';
import type { DriftReport } from './drift-report.js';
import type { WriterInit, WriterReply, WriterRequest } from './log-writer-worker.js';

export interface PredictionLogOptions {
  path: string;
  /** Share of requests logged, 0..1 (default 1). */
  sampleRate?: number;
  /** Most rows waiting (queued or being written); beyond it rows are dropped (default 10,000). */
  queueSize?: number;
  /** Rows per write (default 256). */
  batchSize?: number;
  /** Longest a row waits before its batch is sent, ms (default 100). */
  flushMs?: number;
  retentionDays?: number;
  maxRows?: number;
  metrics?: MonitoringMetrics;
  logger?: Logger;
  /** Uniform [0, 1) draws for sampling (default Math.random). */
  random?: () => number;
  /** Told about each drift report the writer computes (see `scheduleDrift`). */
  onDrift?: (report: DriftReport | null, error?: string) => void;
}

export type DropReason = 'queue_full' | 'write_failed' | 'writer_down';

export interface PredictionLogStats {
  queued: number;
  inFlight: number;
  written: number;
  dropped: Record<DropReason, number>;
}

export class PredictionLog {
  private queue: PredictionRecord[] = [];
  private inFlight = 0;
  private worker: Worker | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private lastDrift: Extract<WriterRequest, { type: 'drift' }> | undefined;
  private readonly counts: PredictionLogStats = {
    queued: 0,
    inFlight: 0,
    written: 0,
    dropped: { queue_full: 0, write_failed: 0, writer_down: 0 },
  };
  private readonly sampleRate: number;
  private readonly queueSize: number;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly log: Logger;
  private readonly random: () => number;

  private constructor(private readonly o: PredictionLogOptions) {
    this.sampleRate = o.sampleRate ?? 1;
    this.queueSize = o.queueSize ?? 10_000;
    this.batchSize = o.batchSize ?? 256;
    this.flushMs = o.flushMs ?? 100;
    this.log = o.logger ?? silentLogger;
    this.random = o.random ?? Math.random;
  }

  /**
   * Start the writer thread on `path` (created with its folder when absent). Fails with
   * FILE_UNWRITABLE / FORMAT_* when the file cannot be opened as a prediction log.
   */
  static async open(o: PredictionLogOptions): Promise<PredictionLog> {
    const log = new PredictionLog(o);
    await log.start();
    return log;
  }

  private start(): Promise<void> {
    const init: WriterInit = {
      path: this.o.path,
      retentionDays: this.o.retentionDays ?? 30,
      maxRows: this.o.maxRows ?? 1_000_000,
    };
    const w = new Worker(new URL('./log-writer-worker.js', import.meta.url), { workerData: init });
    this.worker = w;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      w.on('message', (m: WriterReply) => {
        if (m.type === 'ready') {
          started = true;
          if (this.lastDrift) w.postMessage(this.lastDrift);
          resolve();
          this.schedule();
        } else if (m.type === 'init-failed') {
          const err = new AppError(isErrorCode(m.code) ? m.code : 'FILE_UNWRITABLE', m.message);
          if (!started) reject(err);
          void w.terminate();
        } else this.onReply(m);
      });
      w.on('error', (e) => {
        if (!started) reject(new AppError('FILE_UNWRITABLE', `prediction log writer failed to start: ${e.message}`));
        else this.log.error({ err: e.message }, 'prediction log writer crashed');
      });
      w.on('exit', () => {
        if (this.worker !== w) return;
        this.worker = undefined;
        // rows sent to a dead writer are lost
        this.drop('writer_down', this.inFlight);
        this.inFlight = 0;
        this.wake();
        if (started && !this.closed) {
          this.log.warn({ path: this.o.path }, 'prediction log writer stopped; restarting in 1 s');
          this.restartTimer = setTimeout(() => {
            this.restartTimer = undefined;
            if (!this.closed)
              this.start().catch((e) => this.log.error({ err: errorText(e) }, 'prediction log writer restart failed'));
          }, 1000);
          this.restartTimer.unref();
        }
      });
    });
  }

  private onReply(m: WriterReply): void {
    if (m.type === 'written') {
      this.inFlight -= m.n;
      this.counts.written += m.n;
      this.o.metrics?.logWritten.inc(m.n);
    } else if (m.type === 'write-failed') {
      this.inFlight -= m.n;
      this.drop('write_failed', m.n);
      this.log.warn({ rows: m.n, err: m.message }, 'prediction log write failed; rows dropped');
    } else if (m.type === 'drift') {
      this.o.onDrift?.(m.report, m.message);
      return;
    } else return;
    this.o.metrics?.logQueued.set(this.queue.length + this.inFlight);
    this.schedule();
    this.wake();
  }

  private drop(reason: DropReason, n: number): void {
    if (n <= 0) return;
    this.counts.dropped[reason] += n;
    this.o.metrics?.logDropped.inc({ reason }, n);
  }

  private wake(): void {
    if (this.queue.length === 0 && this.inFlight === 0) for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Rows another thread (the shadow challenger's) stored in the file itself: `n` written,
   * `failed` not (counted as write_failed), for the metrics and stats.
   */
  counted(n: number, failed: number): void {
    if (n > 0) {
      this.counts.written += n;
      this.o.metrics?.logWritten.inc(n);
    }
    this.drop('write_failed', failed);
  }

  /** Whether to log this request (per-request sampling at `sampleRate`). */
  sample(): boolean {
    return !this.closed && (this.sampleRate >= 1 || (this.sampleRate > 0 && this.random() < this.sampleRate));
  }

  /** Queue rows for writing; never blocks or throws. Rows past the bound are dropped and counted. */
  record(records: readonly PredictionRecord[]): void {
    if (records.length === 0) return;
    if (this.closed || !this.worker) {
      this.drop('writer_down', records.length);
      return;
    }
    const room = this.queueSize - this.queue.length - this.inFlight;
    if (room < records.length) {
      if (room > 0) for (let i = 0; i < room; i++) this.queue.push(records[i]);
      this.drop('queue_full', records.length - Math.max(0, room));
    } else for (const r of records) this.queue.push(r);
    this.o.metrics?.logQueued.set(this.queue.length + this.inFlight);
    this.schedule();
  }

  /** Send a batch after this event-loop turn when one is full, else within flushMs. */
  private schedule(): void {
    if (this.queue.length === 0 || !this.worker) return;
    if (this.queue.length >= this.batchSize) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.send();
      });
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.send();
      }, this.flushMs);
      this.timer.unref();
    }
  }

  private send(): void {
    const w = this.worker;
    if (!w) return;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      if (this.post(w, batch) === undefined) continue;
      // a row the structured clone refuses (e.g. inputs nested thousands deep: a RangeError)
      // must not take its batch, or the server (this runs from a timer), down with it
      let failed = 0;
      let why = '';
      for (const r of batch) {
        const err = this.post(w, [r]);
        if (err !== undefined) {
          failed++;
          why ||= err;
        }
      }
      this.drop('write_failed', failed);
      this.log.warn({ rows: failed, err: why }, 'prediction log rows could not be handed to the writer; dropped');
    }
  }

  /** Hand rows to the writer thread; undefined, or why they could not be copied. */
  private post(w: Worker, records: PredictionRecord[]): string | undefined {
    try {
      w.postMessage({ type: 'write', records } satisfies WriterRequest);
    } catch (e) {
      return errorText(e);
    }
    this.inFlight += records.length;
    return undefined;
  }

  /**
   * Have the writer thread compute a drift report now and every `intervalMs` (0 = once),
   * handed to `onDrift`; `inputs` null stops it. The writer reads the log itself, so the
   * serving thread never runs the query.
   */
  scheduleDrift(inputs: Extract<WriterRequest, { type: 'drift' }>['inputs'], intervalMs: number): void {
    this.lastDrift = { type: 'drift', inputs, intervalMs };
    this.worker?.postMessage(this.lastDrift);
  }

  stats(): PredictionLogStats {
    return {
      ...this.counts,
      queued: this.queue.length,
      inFlight: this.inFlight,
      dropped: { ...this.counts.dropped },
    };
  }

  /** Resolves once every row queued so far is written (or dropped). */
  flush(): Promise<void> {
    if (this.immediate) clearImmediate(this.immediate);
    if (this.timer) clearTimeout(this.timer);
    this.immediate = this.timer = undefined;
    this.send();
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((res) => this.waiters.push(res));
  }

  /** Write what is queued (bounded by `timeoutMs`), then stop the writer thread. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((res) => (timer = setTimeout(res, timeoutMs)))]);
    clearTimeout(timer);
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    const done = new Promise<void>((res) => {
      w.once('exit', () => res());
      w.on('message', (m: WriterReply) => m.type === 'closed' && res());
    });
    w.postMessage({ type: 'close' } satisfies WriterRequest);
    const t = setTimeout(() => void w.terminate(), 2000);
    await done;
    clearTimeout(t);
    await w.terminate();
    this.drop('writer_down', this.queue.length);
    this.queue = [];
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
