/**
 * Drift of a served model, from its name alone: load the model (a registry URI through the
 * tracking client, or a bundle directory), take the training reference profile its bundle
 * carries, read a window of the prediction log, return the drift report as data. This is
 * the entry point for callers that do not load bundles themselves (the dashboard); `carprice
 * monitor drift` adds rebuilding a missing reference from the training file (jobs/monitor.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ModelBundle } from '../bundle/model-bundle.js';
import type { TrackingClient } from '../tracking/index.js';
import { driftReport, type DriftReport, type DriftThresholds } from './drift-report.js';
import { openLogDatabase } from './log-store.js';

export interface ServedBundle {
  bundle: ModelBundle;
  model: { name: string; version: string | null };
}

export function isModelUri(s: string): boolean {
  return s.startsWith('models:/') || s.startsWith('runs:/');
}

/**
 * Load a model: `models:/Name@alias` (or /Stage, /3), `runs:/id/model` (downloaded to a
 * temporary directory, removed after loading), or a bundle directory relative to `cwd`.
 * The client is opened only for a registry URI, and closed after (unless `keepClient`: a
 * client the caller shares, e.g. a server's).
 */
export async function loadServedBundle(
  source: string,
  cwd: string,
  openClient: () => TrackingClient,
  o: { keepClient?: boolean } = {},
): Promise<ServedBundle> {
  if (!isModelUri(source)) {
    const dir = resolve(cwd, source);
    return {
      bundle: ModelBundle.load(dir),
      model: { name: dir.split(/[\\/]/).filter(Boolean).pop() ?? 'model', version: null },
    };
  }
  const client = openClient();
  try {
    let model: ServedBundle['model'] = { name: 'model', version: null };
    if (source.startsWith('models:/')) {
      const mv = await client.resolveModelVersion(source);
      model = { name: mv.name, version: mv.version };
    }
    const tmp = await mkdtemp(join(tmpdir(), 'carprice-monitor-'));
    try {
      const dir = await client.downloadModel(source, join(tmp, 'model'));
      return { bundle: ModelBundle.load(dir), model };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  } finally {
    if (!o.keepClient) await client.close();
  }
}

export interface ModelDriftOptions {
  /** The prediction log (SQLite file). */
  logPath: string;
  /** models:/..., runs:/... or a bundle directory. */
  model: string;
  cwd: string;
  openClient: () => TrackingClient;
  thresholds: DriftThresholds;
  /** Window (Unix ms); until defaults to now. */
  since: number;
  until?: number;
  now: number;
}

/**
 * The drift report of a window of the log against `model`'s stored training reference
 * (status `no_reference`, with the reason, for a bundle saved without one).
 */
export async function modelDriftReport(o: ModelDriftOptions): Promise<DriftReport> {
  const db = openLogDatabase(o.logPath, { readonly: true });
  try {
    const served = await loadServedBundle(o.model, o.cwd, o.openClient);
    const ref = served.bundle.reference;
    return driftReport({
      db,
      reference: ref,
      referenceOrigin: ref ? 'bundle' : 'none',
      referenceNote: ref
        ? null
        : `model ${served.model.name} v${served.model.version ?? '-'} was saved without a training reference profile; retrain it, or run \`carprice monitor drift --reference TRAIN_FILE\``,
      model: served.model,
      since: o.since,
      until: o.until,
      thresholds: o.thresholds,
      now: o.now,
    });
  } finally {
    db.close();
  }
}
