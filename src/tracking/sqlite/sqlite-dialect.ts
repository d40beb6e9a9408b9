/**
 * What the SQL stores (../sql/) spell differently on SQLite: runs are joined on the
 * integer rowid, child rows are packed with json_group_array (a primary-key range scan
 * hands them over in key order), and a batch of metric points goes in as multi-row
 * INSERTs of 250/50/10/1 rows (each a cached statement, so 1,000 points are 4 statement
 * steps instead of 1,000) followed by one latest-value upsert per key.
 */
import type { Metric } from '../entities.js';
import type { SqlDialect } from '../sql/engine.js';
import { run, runWith, type Steps } from '../sql/steps.js';

/** Replace the latest value of a key when the point is larger by (step, timestamp, is_nan, value). */
const UPSERT_LATEST = `INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
       WHERE (excluded.step, excluded.timestamp, excluded.is_nan, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.is_nan, latest_metrics.value)`;

const ROW = '(?, ?, ?, ?, ?, ?)';
const insertSql = new Map<number, string>();
/** `INSERT OR IGNORE INTO metrics` of `size` rows (one text per size, so one cached statement each). */
function insertHistorySql(size: number): string {
  let sql = insertSql.get(size);
  if (sql === undefined) {
    sql = `INSERT OR IGNORE INTO metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES ${`${ROW}, `.repeat(size - 1)}${ROW}`;
    insertSql.set(size, sql);
  }
  return sql;
}

/** The bound values of `size` points from `from` on (a plain loop, kept out of the generator). */
function historyArgs(runId: string, metrics: readonly Metric[], from: number, size: number): unknown[] {
  const args = new Array<unknown>(size * 6);
  for (let j = 0; j < size; j++) {
    const m = metrics[from + j];
    const isNan = Number.isNaN(m.value);
    const o = j * 6;
    args[o] = runId;
    args[o + 1] = m.key;
    args[o + 2] = isNan ? 0 : m.value;
    args[o + 3] = isNan ? 1 : 0;
    args[o + 4] = m.timestamp;
    args[o + 5] = m.step;
  }
  return args;
}

function* insertMetricHistory(runId: string, metrics: readonly Metric[]): Steps<void> {
  for (let i = 0; i < metrics.length;) {
    const left = metrics.length - i;
    const size = left >= 250 ? 250 : left >= 50 ? 50 : left >= 10 ? 10 : 1;
    yield* runWith(insertHistorySql(size), historyArgs(runId, metrics, i, size));
    i += size;
  }
}

function* upsertLatestMetrics(runId: string, latest: readonly Metric[]): Steps<void> {
  for (const m of latest) {
    const isNan = Number.isNaN(m.value);
    yield* run(UPSERT_LATEST, runId, m.key, isNan ? 0 : m.value, isNan ? 1 : 0, m.timestamp, m.step);
  }
}

export const sqliteDialect: SqlDialect = {
  runKey: 'r.rowid',
  jsonRows: (columns, from) => `(SELECT json_group_array(json_array(${columns})) FROM ${from})`,
  noLimit: -1,
  insertMetricHistory,
  upsertLatestMetrics,
};
