/**
 * Row lookups the PostgreSQL tracking stores share (the async twins of sqlite-rows.ts);
 * row shapes, error constructors and value helpers are SQLite's, re-exported.
 */
import type { PgDb } from './pg-db.js';
import { invalid, notFound, type ExperimentRow, type LoggedModelRow, type RunRow } from '../sqlite/sqlite-rows.js';

export {
  DELETED_STAGE,
  invalid,
  joinUri,
  latestOrder,
  lifecycleStages,
  localPathOf,
  metricFromRow,
  notFound,
  type ExperimentRow,
  type LoggedModelRow,
  type MetricRow,
  type ModelVersionRow,
  type RegisteredModelRow,
  type RunRow,
} from '../sqlite/sqlite-rows.js';

export async function experimentRow(h: PgDb, experimentId: string): Promise<ExperimentRow> {
  const row = /^\d{1,18}$/.test(experimentId)
    ? await h.stmt('SELECT * FROM experiments WHERE experiment_id = ?').get<ExperimentRow>(Number(experimentId))
    : undefined;
  if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
  return row;
}

export async function runRow(h: PgDb, runId: string): Promise<RunRow> {
  const row = await h.stmt('SELECT * FROM runs WHERE run_uuid = ?').get<RunRow>(runId);
  if (!row) throw notFound(`Run with id=${runId} not found`);
  return row;
}

export async function activeRunRow(h: PgDb, runId: string): Promise<RunRow> {
  const row = await runRow(h, runId);
  if (row.lifecycle_stage !== 'active')
    throw invalid(`The run ${runId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
  return row;
}

export async function loggedModelRow(h: PgDb, modelId: string): Promise<LoggedModelRow> {
  const row = await h
    .stmt(`SELECT * FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'`)
    .get<LoggedModelRow>(modelId);
  if (!row) throw notFound(`Logged model with ID '${modelId}' not found.`);
  return row;
}
