/**
 * Monitoring's Prometheus series, registered into the registry the API's /metrics serves:
 * prediction-log writes and drops, shadow scoring outcomes, and the latest drift scores.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Drift status as a number: -1 no verdict (too few rows or no reference), 0 ok, 1 warn, 2 alert. */
export const DRIFT_STATUS_VALUE = { insufficient: -1, no_reference: -1, ok: 0, warn: 1, alert: 2 } as const;

export class MonitoringMetrics {
  readonly logWritten: Counter;
  readonly logDropped: Counter<'reason'>;
  readonly logQueued: Gauge;
  readonly shadowScored: Counter<'outcome'>;
  readonly shadowDropped: Counter<'reason'>;
  readonly shadowRestarts: Counter;
  readonly driftScore: Gauge<'feature' | 'kind'>;
  readonly driftStatus: Gauge;
  readonly driftFeatureStatus: Gauge<'feature'>;
  readonly driftRows: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.logWritten = new Counter({
      name: 'carprice_prediction_log_written_total',
      help: 'Prediction-log rows written to the SQLite log',
      registers,
    });
    this.logDropped = new Counter({
      name: 'carprice_prediction_log_dropped_total',
      help: 'Prediction-log rows dropped (queue_full: the writer fell behind; write_failed: the database refused them; writer_down: the writer thread had stopped)',
      labelNames: ['reason'],
      registers,
    });
    this.logQueued = new Gauge({
      name: 'carprice_prediction_log_queued',
      help: 'Prediction-log rows waiting to be written',
      registers,
    });
    this.shadowScored = new Counter({
      name: 'carprice_shadow_predictions_total',
      help: 'Listings the shadow challenger scored (ok) or failed on (failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.shadowDropped = new Counter({
      name: 'carprice_shadow_dropped_total',
      help: 'Listings not shadow-scored (queue_full, timeout, worker_crash, no_model)',
      labelNames: ['reason'],
      registers,
    });
    this.shadowRestarts = new Counter({
      name: 'carprice_shadow_worker_restarts_total',
      help: "Restarts of the challenger's worker thread after a crash or a timeout",
      registers,
    });
    this.driftScore = new Gauge({
      name: 'carprice_drift_score',
      help: 'Latest drift score per input feature and for the predictions (kind: psi, category_psi, unseen_excess)',
      labelNames: ['feature', 'kind'],
      registers,
    });
    this.driftStatus = new Gauge({
      name: 'carprice_drift_status',
      help: 'Latest drift verdict: -1 no verdict, 0 ok, 1 warn, 2 alert',
      registers,
    });
    this.driftFeatureStatus = new Gauge({
      name: 'carprice_drift_feature_status',
      help: 'Latest drift verdict per input feature and for the predictions: 0 ok, 1 warn, 2 alert (thresholds: params.yaml monitoring.drift)',
      labelNames: ['feature'],
      registers,
    });
    this.driftRows = new Gauge({
      name: 'carprice_drift_window_rows',
      help: 'Logged predictions in the latest drift window',
      registers,
    });
    for (const reason of ['queue_full', 'write_failed', 'writer_down']) this.logDropped.inc({ reason }, 0);
    for (const reason of ['queue_full', 'timeout', 'worker_crash', 'no_model']) this.shadowDropped.inc({ reason }, 0);
    this.driftStatus.set(-1);
  }
}
