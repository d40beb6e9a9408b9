/**
 * The MLmodel file MLflow expects at the root of a logged model (spec §6): YAML with sorted
 * keys, `artifact_path`, `run_id`, `flavors`, `model_uuid`, `utc_time_created`, and
 * optional `metadata`. carprice models carry one flavor (default `carprice`) saying how
 * to load the bundle; there is no python_function flavor because Python cannot load it.
 */
import { randomUUID } from 'node:crypto';
import { stringify } from 'yaml';

export interface MlmodelOptions {
  artifactPath: string;
  runId: string;
  /** Milliseconds since the epoch. */
  createdMs: number;
  /** Flavor name (default 'carprice'). */
  flavor?: string;
  /** Flavor configuration, e.g. {loader: 'carprice', bundle_format_version: 1, files: [...]}. */
  flavorConfig?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  modelUuid?: string;
}

/** MLflow's 'YYYY-MM-DD HH:MM:SS.ffffff' (naive UTC). */
export function mlflowUtcTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2025-01-02T03:04:05.678Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

/** The MLmodel content as a plain object (what runs/log-model receives as JSON). */
export function mlmodelDict(opts: MlmodelOptions): Record<string, unknown> {
  const flavor = opts.flavor ?? 'carprice';
  const out: Record<string, unknown> = {
    artifact_path: opts.artifactPath,
    flavors: { [flavor]: { loader: 'carprice', ...(opts.flavorConfig ?? {}) } },
    model_uuid: opts.modelUuid ?? randomUUID().replace(/-/g, ''),
    run_id: opts.runId,
    utc_time_created: mlflowUtcTime(opts.createdMs),
  };
  if (opts.metadata && Object.keys(opts.metadata).length) out.metadata = opts.metadata;
  return out;
}

/** The MLmodel file text (YAML, keys sorted). */
export function mlmodelYaml(dict: Record<string, unknown>): string {
  return stringify(dict, { sortMapEntries: true });
}
