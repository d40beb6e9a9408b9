/**
 * What `carprice serve` hangs on the API's prediction hook: samples a request, queues the
 * champion's rows for the prediction log, hands the listings to the shadow challenger, and
 * keeps /metrics' drift scores fresh (computed on the log's writer thread). `observe` never
 * throws and does no I/O: it runs on the response path.
 */
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { ReferenceProfile } from '../bundle/reference-profile.js';
import { DRIFT_STATUS_VALUE, MonitoringMetrics } from './monitoring-metrics.js';
import { PredictionLog } from './prediction-log.js';
import { ShadowScorer, type ShadowIsolation } from './shadow-scorer.js';
import { championRecords, type ObservedPrediction } from './prediction-record.js';
import type { DriftReport, DriftThresholds } from './drift-report.js';
import type { ShadowModelInfo } from './shadow-worker.js';
import type { BackgroundPolicy } from './thread-priority.js';

export interface PredictionMonitorOptions {
  logPath: string;
  sampleRate: number;
  queueSize: number;
  retentionDays: number;
  maxRows: number;
  /** Seconds between drift scores on /metrics (0 = never). */
  driftIntervalS: number;
  /** Drift window, ms. */
  driftWindowMs: number;
  thresholds: DriftThresholds;
  /** Score requests with a shadow challenger (set its model with `setChallenger`). */
  shadow?: {
    queueSize: number;
    timeoutMs: number;
    nice?: number;
    policy?: BackgroundPolicy;
    isolation?: ShadowIsolation;
    /** Milliseconds between the challenger's batches (default 250). */
    batchMs?: number;
    /** The pause protocol: µs of the challenger's work between looks at the serving thread (default 100; 0 = off; shadow-scorer.ts). */
    yieldUs?: number;
    /** Tests: a substitute challenger thread, or (isolation `process`) a substitute challenger process script. */
    workerUrl?: URL;
    processScript?: string;
  };
  /** The API's Prometheus registry; monitoring's series are added to it. */
  registry: Registry;
  logger?: Logger;
  clock?: Clock;
}

export class PredictionMonitor {
  readonly metrics: MonitoringMetrics;
  private lastDrift: DriftReport | null = null;

  private constructor(
    readonly log: PredictionLog,
    readonly shadow: ShadowScorer | undefined,
    metrics: MonitoringMetrics,
    private readonly o: PredictionMonitorOptions,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    this.metrics = metrics;
  }

  /** Open the log (its writer thread) and, when asked, the shadow scorer. */
  static async open(o: PredictionMonitorOptions): Promise<PredictionMonitor> {
    const metrics = new MonitoringMetrics(o.registry);
    const logger = o.logger ?? silentLogger;
    let self: PredictionMonitor | undefined; // eslint-disable-line prefer-const -- assigned once below, after the log whose callback reads it
    const log = await PredictionLog.open({
      path: o.logPath,
      sampleRate: o.sampleRate,
      queueSize: o.queueSize,
      retentionDays: o.retentionDays,
      maxRows: o.maxRows,
      metrics,
      logger,
      onDrift: (r, err) => self?.onDrift(r, err),
    });
    const shadow = o.shadow
      ? new ShadowScorer({
          log: { path: o.logPath, wrote: (n, failed) => log.counted(n, failed) },
          queueSize: o.shadow.queueSize,
          timeoutMs: o.shadow.timeoutMs,
          nice: o.shadow.nice,
          policy: o.shadow.policy,
          isolation: o.shadow.isolation,
          pollMs: o.shadow.batchMs,
          yieldUs: o.shadow.yieldUs,
          workerUrl: o.shadow.workerUrl,
          processScript: o.shadow.processScript,
          metrics,
          logger,
        })
      : undefined;
    self = new PredictionMonitor(log, shadow, metrics, o, logger, o.clock ?? systemClock);
    return self;
  }

  /** The API's prediction hook. */
  readonly observe = (e: ObservedPrediction): void => {
    try {
      if (!this.log.sample()) return;
      const ts = this.clock.now();
      this.log.record(championRecords(e, ts));
      this.shadow?.submit(e, ts);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'prediction monitor failed on a request');
    }
  };

  /** The champion now serving: drift on /metrics is scored against its training reference. */
  setChampion(model: { name: string; version: string | null }, reference: ReferenceProfile | null): void {
    if (this.o.driftIntervalS <= 0) return;
    this.log.scheduleDrift(
      {
        reference,
        referenceOrigin: reference ? 'bundle' : 'none',
        referenceNote: reference
          ? null
          : `model ${model.name} v${model.version ?? '-'} was saved without a training reference profile (retrain it with this carprice)`,
        model,
        thresholds: this.o.thresholds,
        windowMs: this.o.driftWindowMs,
        maxRows: 100_000,
      },
      this.o.driftIntervalS * 1000,
    );
  }

  /** The challenger to shadow-score with (a saved bundle). */
  setChallenger(bundle: unknown, info: ShadowModelInfo): void {
    this.shadow?.setModel(bundle, info);
  }

  /** The latest drift report computed for /metrics (null before the first). */
  get drift(): DriftReport | null {
    return this.lastDrift;
  }

  private onDrift(report: DriftReport | null, err?: string): void {
    if (!report) {
      this.logger.warn({ err }, 'drift scoring failed');
      return;
    }
    this.lastDrift = report;
    const m = this.metrics;
    m.driftScore.reset();
    m.driftFeatureStatus.reset();
    const judged = report.status !== 'insufficient' && report.status !== 'no_reference';
    for (const f of report.features) {
      if (judged) m.driftFeatureStatus.set({ feature: f.feature }, DRIFT_STATUS_VALUE[f.status]);
      if (f.psi !== null) m.driftScore.set({ feature: f.feature, kind: 'psi' }, f.psi);
      if (f.categoryPsi !== null) m.driftScore.set({ feature: f.feature, kind: 'category_psi' }, f.categoryPsi);
      if (f.unseenExcess !== null) m.driftScore.set({ feature: f.feature, kind: 'unseen_excess' }, f.unseenExcess);
    }
    if (report.prediction) {
      m.driftScore.set({ feature: '(predictions)', kind: 'psi' }, report.prediction.psi);
      if (judged) m.driftFeatureStatus.set({ feature: '(predictions)' }, DRIFT_STATUS_VALUE[report.prediction.status]);
    }
    m.driftStatus.set(DRIFT_STATUS_VALUE[report.status]);
    m.driftRows.set(report.window.rows);
    if (report.status === 'alert' || report.status === 'warn')
      this.logger.warn({ status: report.status, summary: report.summary }, 'input drift');
  }

  /** Stop shadow scoring, write what is queued, stop the writer. */
  async close(): Promise<void> {
    await this.shadow?.close();
    await this.log.close();
  }
}
