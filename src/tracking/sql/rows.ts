/**
 * What the SQL tracking stores share besides the engine: the row shapes of the tables they
 * read (the same in SQLite and PostgreSQL), MLflow's error constructors, small value
 * helpers, and the row lookups that cross store boundaries (a logged model needs its
 * experiment and run; a run's metric may point at a logged model).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../core/errors.js';
import type { LifecycleStage, LoggedModelStatus, Metric, RunStatus, ViewType } from '../entities.js';
import { get, type Steps } from './steps.js';

export interface ExperimentRow {
  experiment_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  creation_time: number;
  last_update_time: number;
}

export interface RunRow {
  run_uuid: string;
  name: string;
  experiment_id: number;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  deleted_time: number | null;
  lifecycle_stage: LifecycleStage;
  artifact_uri: string;
}

export interface MetricRow {
  key: string;
  value: number;
  is_nan: number;
  timestamp: number;
  step: number;
}

export interface ModelVersionRow {
  name: string;
  version: number;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
  user_id: string | null;
  current_stage: string;
  source: string;
  storage_location: string | null;
  run_id: string | null;
  run_link: string | null;
  status: string;
  status_message: string | null;
  model_id: string | null;
}

export interface LoggedModelRow {
  model_id: string;
  experiment_id: number;
  name: string;
  artifact_location: string;
  creation_time: number;
  last_updated_time: number;
  status: LoggedModelStatus;
  model_type: string | null;
  source_run_id: string | null;
  status_message: string | null;
  lifecycle_stage: LifecycleStage;
}

export interface RegisteredModelRow {
  name: string;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
}

export const DELETED_STAGE = 'Deleted_Internal';

export function notFound(message: string): AppError {
  return new AppError('RESOURCE_DOES_NOT_EXIST', message);
}
export function invalid(message: string): AppError {
  return new AppError('INVALID_PARAMETER_VALUE', message);
}

export function lifecycleStages(viewType: ViewType | undefined): LifecycleStage[] {
  if (viewType === 'DELETED_ONLY') return ['deleted'];
  if (viewType === 'ALL') return ['active', 'deleted'];
  return ['active'];
}

/** Compare two points the way MLflow picks the latest: step, then timestamp, then value (NaN last). */
export function latestOrder(a: Metric, b: Metric): number {
  const an = Number.isNaN(a.value) ? 1 : 0;
  const bn = Number.isNaN(b.value) ? 1 : 0;
  return a.step - b.step || a.timestamp - b.timestamp || an - bn || (an ? 0 : a.value - b.value);
}

export function metricFromRow(key: string, r: MetricRow): Metric {
  return { key, value: r.is_nan ? NaN : r.value, timestamp: r.timestamp, step: r.step };
}

export function joinUri(root: string, ...parts: string[]): string {
  return [root.replace(/\/+$/, ''), ...parts].join('/');
}

/** The local path of a file:// URI or plain path; undefined for other schemes. */
export function localPathOf(uri: string): string | undefined {
  if (uri.startsWith('file:'))
    return fileURLToPath(uri.startsWith('file:///') ? uri : uri.replace(/^file:(\/\/)?/, 'file:///'));
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) return undefined;
  return resolve(uri);
}

// ------------------------------------------------------------ lookups shared by the stores

export function* experimentRow(experimentId: string): Steps<ExperimentRow> {
  // Ids are bigints: more digits than that cannot name one (and would overflow the binding).
  const row = /^\d{1,18}$/.test(experimentId)
    ? yield* get<ExperimentRow>('SELECT * FROM experiments WHERE experiment_id = ?', Number(experimentId))
    : undefined;
  if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
  return row;
}

export function* runRow(runId: string): Steps<RunRow> {
  const row = yield* get<RunRow>('SELECT * FROM runs WHERE run_uuid = ?', runId);
  if (!row) throw notFound(`Run with id=${runId} not found`);
  return row;
}

export function* activeRunRow(runId: string): Steps<RunRow> {
  const row = yield* runRow(runId);
  if (row.lifecycle_stage !== 'active')
    throw invalid(`The run ${runId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
  return row;
}

export function* loggedModelRow(modelId: string): Steps<LoggedModelRow> {
  const row = yield* get<LoggedModelRow>(
    `SELECT * FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'`,
    modelId,
  );
  if (!row) throw notFound(`Logged model with ID '${modelId}' not found.`);
  return row;
}
