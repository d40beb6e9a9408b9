/**
 * The dashboard's monitoring page in one answer: for a window of the prediction log, the
 * drift report against the served model's training reference, the realized accuracy of
 * every sale imported so far (`carprice monitor feedback`), and the shadow challenger's
 * agreement (and accuracy) when the window has challenger rows; plus what the log holds.
 * A log that does not exist yet is an empty state with the reason, not an error.
 *
 * `monitoringOverview` is synchronous (it reads SQLite); `monitoringOverviewOffThread` runs
 * it on a worker thread (monitor-overview-worker.ts) so that a server hosting the dashboard
 * keeps answering while a large window is read. `ServedReferences` resolves and caches the
 * training reference of the model the page is about (a registry URI is re-resolved on each
 * call, and the bundle loaded again only when the version behind it changed).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError, isErrorCode } from '../core/errors.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import type { Logger } from '../core/logger.js';
import type { TrackingClient } from '../tracking/index.js';
import type { ReferenceProfile } from '../bundle/reference-profile.js';
import { anyRecord, openLogDatabase } from '../monitoring/log-store.js';
import { driftReport, thresholdsFromParams, type DriftReport } from '../monitoring/drift-report.js';
import { realizedAccuracy, type RealizedAccuracy } from './monitor-feedback.js';
import { monitorShadow, type ShadowReport } from './monitor-shadow.js';

export const MONITORING_OVERVIEW_KIND = 'carprice-monitoring-overview' as const;

/** The model a window is compared with: its name/version and training reference (or why there is none). */
export interface ServedReference {
  model: { name: string; version: string | null };
  source: string;
  reference: ReferenceProfile | null;
  origin: string;
  note: string | null;
}

export interface MonitoringOverview {
  kind: typeof MONITORING_OVERVIEW_KIND;
  formatVersion: 1;
  generatedAt: string;
  log: {
    path: string;
    exists: boolean;
    /** Rows in the whole log (champion and challenger), its first and last time, its size. */
    rows: number;
    first: string | null;
    last: string | null;
    bytes: number;
  };
  window: { since: string; until: string };
  /** Why there is nothing to show (no log yet), else null. */
  note: string | null;
  drift: DriftReport | null;
  /** Why there is no drift report (the model could not be loaded), else null. */
  driftError: string | null;
  /** Over every sale imported so far; null when none was. */
  accuracy: RealizedAccuracy | null;
  /** Null when the window has no challenger row. */
  shadow: ShadowReport | null;
}

export interface MonitoringOverviewOptions {
  logPath: string;
  /** The model's reference, or the message of why it could not be loaded. */
  served: ServedReference | { error: string };
  since: number;
  until?: number;
  now: number;
  params: Params;
  /** Newest rows of the window read for drift at most (default 200,000). */
  maxRows?: number;
}

/** What the log file holds, cheaply (no row is read). */
function logStats(path: string): MonitoringOverview['log'] {
  if (!existsSync(path)) return { path, exists: false, rows: 0, first: null, last: null, bytes: 0 };
  const db = openLogDatabase(path, { readonly: true });
  try {
    const r = db.prepare('SELECT COUNT(*) AS n, MIN(ts) AS lo, MAX(ts) AS hi FROM predictions').get() as {
      n: number;
      lo: number | null;
      hi: number | null;
    };
    let bytes = statSync(path).size;
    for (const side of ['-wal', '-shm']) if (existsSync(path + side)) bytes += statSync(path + side).size;
    return {
      path,
      exists: true,
      rows: r.n,
      first: r.lo === null ? null : new Date(r.lo).toISOString(),
      last: r.hi === null ? null : new Date(r.hi).toISOString(),
      bytes,
    };
  } finally {
    db.close();
  }
}

/** The monitoring page's data for a window (see the module comment). */
export function monitoringOverview(o: MonitoringOverviewOptions): MonitoringOverview {
  const until = o.until ?? o.now;
  const base = {
    kind: MONITORING_OVERVIEW_KIND,
    formatVersion: 1 as const,
    generatedAt: new Date(o.now).toISOString(),
    window: { since: new Date(o.since).toISOString(), until: new Date(until).toISOString() },
  };
  const log = logStats(o.logPath);
  if (!log.exists)
    return {
      ...base,
      log,
      note: `no prediction log at ${o.logPath} yet: \`carprice serve\` (or \`carprice up\`) writes it when monitoring.log_enabled is true (monitoring.log_path in params.yaml); this page reads the same file`,
      drift: null,
      driftError: null,
      accuracy: null,
      shadow: null,
    };
  let drift: DriftReport | null = null;
  let driftError: string | null = null;
  if ('error' in o.served) driftError = o.served.error;
  else {
    const db = openLogDatabase(o.logPath, { readonly: true });
    try {
      drift = driftReport({
        db,
        reference: o.served.reference,
        referenceOrigin: o.served.origin,
        referenceNote: o.served.note,
        model: o.served.model,
        since: o.since,
        until,
        thresholds: thresholdsFromParams(o.params.monitoring.drift),
        now: o.now,
        maxRows: o.maxRows,
      });
    } finally {
      db.close();
    }
  }
  const db = openLogDatabase(o.logPath, { readonly: true });
  let accuracy: RealizedAccuracy | null;
  let challenger: boolean;
  try {
    const a = realizedAccuracy(db, { period: 'week', flagRatio: o.params.model_test.slice_flag_ratio });
    accuracy = a.feedbackEntries > 0 ? a : null;
    challenger = anyRecord(db, { since: o.since, until, role: 'challenger' });
  } finally {
    db.close();
  }
  const shadow = challenger ? monitorShadow({ logPath: o.logPath, since: o.since, until, params: o.params }) : null;
  return {
    ...base,
    log,
    note: log.rows === 0 ? `the prediction log ${o.logPath} has no rows yet: send requests to the API` : null,
    drift,
    driftError,
    accuracy,
    shadow,
  };
}

/**
 * `monitoringOverview` on a worker thread, bounded by `timeoutMs` (default 60 s); its
 * errors come back as the same AppError codes.
 */
export function monitoringOverviewOffThread(
  o: MonitoringOverviewOptions,
  timeoutMs = 60_000,
): Promise<MonitoringOverview> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./monitor-overview-worker.js', import.meta.url), { workerData: o });
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void w.terminate();
      f();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new AppError(
              'TEMPORARILY_UNAVAILABLE',
              `reading the prediction log ${o.logPath} took more than ${timeoutMs / 1000} s; choose a shorter window`,
            ),
          ),
        ),
      timeoutMs,
    );
    w.on('message', (m: { ok: true; overview: MonitoringOverview } | { ok: false; code: string; message: string }) =>
      finish(() =>
        m.ok ? resolve(m.overview) : reject(new AppError(isErrorCode(m.code) ? m.code : 'INTERNAL_ERROR', m.message)),
      ),
    );
    w.on('error', (e) => finish(() => reject(e)));
    w.on('exit', (code) =>
      finish(() => reject(new Error(`the monitoring worker stopped (exit ${code}) before answering`))),
    );
  });
}

export interface ServedReferencesOptions {
  params: Params;
  cwd: string;
  env?: Env;
  logger?: Logger;
  /** The tracking client to resolve registry URIs with (shared: never closed here). */
  client: () => TrackingClient;
}

/**
 * The training reference of a model source (models:/..., runs:/... or a bundle directory),
 * cached: a registry URI is resolved on every call (cheap) and its bundle loaded again only
 * when the version behind it changed; a directory is loaded again when its bundle.json changed.
 */
export class ServedReferences {
  private cache = new Map<string, { key: string; value: Promise<ServedReference> }>();

  constructor(private readonly o: ServedReferencesOptions) {}

  async get(source: string): Promise<ServedReference> {
    let key: string;
    if (source.startsWith('models:/')) {
      const mv = await this.o.client().resolveModelVersion(source);
      key = `${mv.name}/${mv.version}`;
    } else if (source.startsWith('runs:/')) key = source;
    else {
      const file = join(this.o.cwd, source, 'bundle.json');
      const s = existsSync(file) ? statSync(file) : null;
      key = s ? `${s.mtimeMs}:${s.size}` : 'missing';
    }
    const hit = this.cache.get(source);
    if (hit && hit.key === key) return hit.value;
    const value = this.load(source);
    this.cache.set(source, { key, value });
    value.catch(() => this.cache.delete(source));
    return value;
  }

  private async load(source: string): Promise<ServedReference> {
    // loaded here, not at the top: the overview's worker thread imports this module and
    // needs none of the model-loading code (nor the training code behind resolveReference)
    const [{ loadServedBundle }, { resolveReference }] = await Promise.all([
      import('../monitoring/model-drift.js'),
      import('./monitor.js'),
    ]);
    const served = await loadServedBundle(source, this.o.cwd, this.o.client, { keepClient: true });
    const ref = await resolveReference(served.bundle, this.o);
    return { model: served.model, source, reference: ref.reference, origin: ref.origin, note: ref.note };
  }
}
