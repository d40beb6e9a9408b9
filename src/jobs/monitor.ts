/**
 * `carprice monitor export` and `carprice monitor drift`: the prediction log as JSON lines,
 * and the drift report of a window of it against the served model's training reference.
 *
 * The model is the one `carprice serve` would serve (serving.model_uri, else
 * models:/<model_name>@champion) or `--model URI|DIR`. Its training reference profile comes
 * from the bundle; a bundle saved before bundles carried one gets it rebuilt from its
 * training source when that file is still here and still the same rows (the bundle's
 * training fingerprint is checked, also against the seeded train split `carprice train`
 * makes), or from `--reference FILE` as given; otherwise the report says what is missing.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AtomicFileWriter } from '../core/atomic-write.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import type { Logger } from '../core/logger.js';
import { takeFrameRows, takeValues } from '../data/frame.js';
import { splitIndices } from '../data/split.js';
import type { ModelBundle } from '../bundle/model-bundle.js';
import { buildReferenceProfile, type ReferenceProfile } from '../bundle/reference-profile.js';
import type { TrackingClient } from '../tracking/index.js';
import { openLogDatabase, iterateRecords, type LogQuery } from '../monitoring/log-store.js';
import { driftReport, thresholdsFromParams, type DriftReport } from '../monitoring/drift-report.js';
import type { PredictionRecord } from '../monitoring/prediction-record.js';
import { loadServedBundle } from '../monitoring/model-drift.js';
import { loadListings, withOptionalColumns } from './load-listings.js';
import { dataFingerprint } from './train.js';

/** The prediction log's path: --log, else params.yaml monitoring.log_path, from `cwd`. */
export function logPathOf(params: Params, cwd: string, flag?: string): string {
  return resolve(cwd, flag ?? params.monitoring.log_path);
}

/** One exported log row (the JSON-lines shape of `carprice monitor export`). */
export function exportRow(r: PredictionRecord): Record<string, unknown> {
  return {
    ts: new Date(r.ts).toISOString(),
    request_id: r.requestId,
    row: r.row,
    listing_id: r.listingId,
    route: r.route,
    role: r.role,
    model: { name: r.modelName, version: r.modelVersion },
    predicted_price: r.price,
    interval: r.lower !== null && r.upper !== null ? { lower: r.lower, upper: r.upper, level: r.level } : null,
    latency_ms: Math.round(r.latencyMs * 1000) / 1000,
    inputs: r.inputs,
    unseen: r.unseen,
    error: r.error,
  };
}

export interface MonitorExportOptions {
  logPath: string;
  query: LogQuery;
  /** Write here (atomically: a failed export leaves no partial file); else to `write`. */
  out?: string;
  write?: (chunk: string) => void;
}

/** Write the log rows of a window as JSON lines; returns the row count. */
export function monitorExport(o: MonitorExportOptions): number {
  const db = openLogDatabase(o.logPath, { readonly: true });
  const file = o.out ? new AtomicFileWriter(o.out) : undefined;
  let n = 0;
  try {
    let buf = '';
    const emit = (s: string) => (file ? file.write(s) : o.write?.(s));
    for (const r of iterateRecords(db, o.query)) {
      buf += JSON.stringify(exportRow(r)) + '\n';
      n++;
      if (buf.length > 1 << 16) {
        emit(buf);
        buf = '';
      }
    }
    if (buf) emit(buf);
    file?.commit();
    return n;
  } catch (e) {
    file?.abort();
    throw e;
  } finally {
    db.close();
  }
}

export interface ReferenceResolution {
  reference: ReferenceProfile | null;
  origin: string;
  note: string | null;
}

/**
 * The bundle's training reference profile, or one rebuilt from its training data (see the
 * module comment), or null with a note saying what is missing and what to do.
 */
export async function resolveReference(
  bundle: ModelBundle,
  o: { params: Params; cwd: string; env?: Env; referenceFile?: string; logger?: Logger },
): Promise<ReferenceResolution> {
  if (bundle.reference && !o.referenceFile) return { reference: bundle.reference, origin: 'bundle', note: null };
  const profile = async (file: string, check: boolean): Promise<ReferenceResolution | string> => {
    const loaded = await loadListings(file, { params: o.params, env: o.env, logger: o.logger, requireTarget: true });
    let frame = loaded.frame;
    const y = loaded.y!;
    const want = bundle.metadata.training.dataHash;
    if (check) {
      if (dataFingerprint(frame, y) !== want) {
        const di = o.params.data_ingestion;
        const s = splitIndices(frame.nRows, di.test_size, di.random_state);
        const f2 = takeFrameRows(frame, s.train);
        const y2 = takeValues(y, s.train);
        if (dataFingerprint(f2, y2) !== want)
          return `its training source ${file} no longer holds the rows it was trained on (fingerprint differs)`;
        frame = f2;
      }
    }
    const full = withOptionalColumns(frame, bundle.inputSchema);
    return {
      reference: buildReferenceProfile(full, bundle.predictFrame(full)),
      origin: check ? `recomputed from ${file}` : `profiled from ${file}`,
      note: check
        ? `the bundle has no stored reference profile; rebuilt from its training source ${file} (fingerprint matches)`
        : `profiled from ${file} as given (--reference), not checked against the model's training rows`,
    };
  };
  if (o.referenceFile) {
    const r = await profile(resolve(o.cwd, o.referenceFile), false);
    if (typeof r !== 'string') return r;
  }
  const source = bundle.metadata.training.source;
  const path = source ? resolve(o.cwd, source) : '';
  let why: string;
  if (!source) why = 'it records no training source';
  else if (!existsSync(path)) why = `its training source ${source} is not readable here`;
  else {
    try {
      const r = await profile(path, true);
      if (typeof r !== 'string') return r;
      why = r;
    } catch (e) {
      why = `its training source ${source} could not be read (${(e as Error).message})`;
    }
  }
  return {
    reference: null,
    origin: 'none',
    note: `the model was saved without a training reference profile (older bundles have none) and ${why}; retrain the model, or give --reference TRAIN_FILE (the listings it was trained on)`,
  };
}

/** What `carprice monitor drift` exits with when a score passes an alert threshold (README, exit codes). */
export const DRIFT_EXIT_CODE = 9;

export interface MonitorDriftOptions {
  params: Params;
  cwd: string;
  env?: Env;
  logger?: Logger;
  logPath: string;
  /** Model URI or bundle directory (default serving.model_uri, else models:/<name>@champion). */
  model?: string;
  referenceFile?: string;
  since: number;
  until?: number;
  now: number;
  openClient: () => TrackingClient;
}

/** The drift report of a window of the log against the model's training reference. */
export async function monitorDrift(o: MonitorDriftOptions): Promise<DriftReport> {
  const source = o.model ?? o.params.serving.model_uri ?? `models:/${o.params.model_registration.model_name}@champion`;
  const db = openLogDatabase(o.logPath, { readonly: true });
  try {
    const served = await loadServedBundle(source, o.cwd, o.openClient);
    const ref = await resolveReference(served.bundle, o);
    return driftReport({
      db,
      reference: ref.reference,
      referenceOrigin: ref.origin,
      referenceNote: ref.note,
      model: served.model,
      since: o.since,
      until: o.until,
      thresholds: thresholdsFromParams(o.params.monitoring.drift),
      now: o.now,
      // every row of the window: they are streamed into counts, so memory does not grow with it
      maxRows: null,
    });
  } finally {
    db.close();
  }
}

const f3 = (x: number | null) => (x === null ? '-' : x.toFixed(3));
const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);

/** The drift report as a text table (what `carprice monitor drift` prints). */
export function formatDriftReport(r: DriftReport): string {
  const lines: string[] = [];
  lines.push(
    `drift of ${r.model.name}${r.model.version ? ` v${r.model.version}` : ''}: ${r.window.rows} logged predictions from ${r.window.since} to ${r.window.until}`,
  );
  lines.push(
    `reference: ${r.reference.available ? `${r.reference.rows} training rows (${r.reference.origin})` : 'none'}${r.reference.note ? `; ${r.reference.note}` : ''}`,
  );
  if (r.features.length) {
    const head = [
      'feature',
      'psi',
      'category psi',
      'unseen',
      'expected',
      'missing',
      'status',
      'largest shifts / reasons',
    ];
    const rows = r.features.map((f) => [
      f.feature,
      f3(f.psi),
      f3(f.categoryPsi),
      pct(f.unseenRate),
      pct(f.expectedUnseenRate),
      `${pct(f.missingRate.window)} (${pct(f.missingRate.reference)})`,
      f.status.toUpperCase(),
      [...f.reasons, ...f.topShifts.map((s) => `${s.value} ${pct(s.reference)} -> ${pct(s.window)}`)].join('; '),
    ]);
    if (r.prediction)
      rows.push([
        '(predictions)',
        f3(r.prediction.psi),
        '-',
        '-',
        '-',
        '-',
        r.prediction.status.toUpperCase(),
        r.prediction.reasons.join('; '),
      ]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
    const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
    lines.push('', fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt));
  }
  lines.push(
    '',
    `thresholds: psi ${r.thresholds.psiWarn}/${r.thresholds.psiAlert}, category psi ${r.thresholds.categoryPsiWarn}/${r.thresholds.categoryPsiAlert}, unseen excess ${r.thresholds.unseenExcessWarn}/${r.thresholds.unseenExcessAlert} (warn/alert), at least ${r.thresholds.minRows} rows`,
    `verdict: ${r.summary}`,
  );
  return lines.join('\n') + '\n';
}

/** Exit code of `carprice monitor drift`: 9 (DRIFT_EXIT_CODE) past an alert threshold, else 0. */
export function driftExitCode(r: DriftReport): number {
  return r.status === 'alert' ? DRIFT_EXIT_CODE : 0;
}
