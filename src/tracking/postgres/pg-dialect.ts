/**
 * What the SQL stores (../sql/) spell differently on PostgreSQL: runs are joined on their
 * primary key, child rows are packed with json_agg (ordered explicitly), and a batch of
 * metric points goes in as INSERT ... SELECT FROM unnest() of typed arrays: one round trip
 * for the history and one for the latest values, whatever the number of points. A batch
 * of plain points (the hot path of training loops) is one statement of data-modifying
 * CTEs that checks the run is active too: a single statement is atomic by itself, so it
 * needs no transaction's five round trips.
 */
import type { Metric } from '../entities.js';
import type { SqlDialect } from '../sql/engine.js';
import { activeRunRow } from '../sql/rows.js';
import { get, run, type Steps } from '../sql/steps.js';

/** A batch of points as the typed arrays the unnest() statements take. */
function metricColumns(ms: readonly Metric[]): unknown[] {
  return [
    ms.map((m) => m.key),
    ms.map((m) => (Number.isNaN(m.value) ? 0 : m.value)),
    ms.map((m) => (Number.isNaN(m.value) ? 1 : 0)),
    ms.map((m) => m.timestamp),
    ms.map((m) => m.step),
  ];
}

const POINTS = 'unnest(?::text[], ?::float8[], ?::smallint[], ?::bigint[], ?::bigint[]) AS u';
const INSERT_HISTORY = `INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step) SELECT ?, u.* FROM ${POINTS}`;
const INSERT_LATEST = `INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) SELECT ?, u.* FROM ${POINTS}`;
/** Keep the larger point by (step, timestamp, is_nan, value), as MLflow does. */
const LATER_WINS = `ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
       WHERE (excluded.step, excluded.timestamp, excluded.is_nan, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.is_nan, latest_metrics.value)`;

function* insertMetricHistory(runId: string, metrics: readonly Metric[]): Steps<void> {
  if (metrics.length) yield* run(`${INSERT_HISTORY} ON CONFLICT DO NOTHING`, runId, ...metricColumns(metrics));
}

function* upsertLatestMetrics(runId: string, latest: readonly Metric[]): Steps<void> {
  if (latest.length) yield* run(`${INSERT_LATEST} ${LATER_WINS}`, runId, ...metricColumns(latest));
}

function* logMetricsOnly(runId: string, metrics: readonly Metric[], latest: readonly Metric[]): Steps<boolean> {
  if (metrics.length === 0) return (yield* activeRunRow(runId)) !== undefined;
  const row = yield* get<{ ok: boolean }>(
    `WITH run AS (SELECT 1 FROM runs WHERE run_uuid = ? AND lifecycle_stage = 'active'),
         history AS (${INSERT_HISTORY} WHERE EXISTS (SELECT 1 FROM run) ON CONFLICT DO NOTHING),
         latest AS (${INSERT_LATEST} WHERE EXISTS (SELECT 1 FROM run) ${LATER_WINS})
       SELECT EXISTS (SELECT 1 FROM run) AS ok`,
    runId,
    runId,
    ...metricColumns(metrics),
    runId,
    ...metricColumns(latest),
  );
  return row?.ok === true;
}

export const pgDialect: SqlDialect = {
  runKey: 'r.run_uuid',
  jsonRows: (columns, from, orderBy) =>
    `COALESCE((SELECT json_agg(json_build_array(${columns}) ORDER BY ${orderBy}) FROM ${from})::text, '[]')`,
  noLimit: null,
  insertMetricHistory,
  upsertLatestMetrics,
  logMetricsOnly,
};
