/**
 * The prediction log's SQLite file: schema, writes (used by the writer worker), retention,
 * and the reads the reports need. WAL mode, so `carprice monitor ...` reads while the
 * server writes, and several server processes (`serve --workers N`) share one file.
 *
 * Tables: `predictions` (one row per priced listing and role), `feedback` (realized
 * prices imported by `carprice monitor feedback`), `hourly` (per-hour aggregates of the
 * rows, written in the same transaction: hourly.ts). Schema version in PRAGMA user_version
 * (2; a version 1 log gets its aggregates built from its rows when opened for writing).
 */
import Database from 'better-sqlite3';
import { mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../core/errors.js';
import type { PredictionRecord, PredictionRole } from './prediction-record.js';
import { HOURLY_SCHEMA, HourlyMaintainer, rebuildHourly, trimHours } from './hourly.js';

export const LOG_SCHEMA_VERSION = 2;
/** Bytes the -wal file is truncated to after a checkpoint. */
const WAL_SIZE_LIMIT = 16 * 1024 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS predictions (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  row INTEGER NOT NULL,
  listing_id TEXT,
  route TEXT NOT NULL,
  role TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT,
  price REAL,
  lower REAL,
  upper REAL,
  level REAL,
  latency_ms REAL NOT NULL,
  inputs TEXT NOT NULL,
  unseen TEXT,
  error TEXT
);
CREATE INDEX IF NOT EXISTS predictions_ts ON predictions(ts);
CREATE INDEX IF NOT EXISTS predictions_request ON predictions(request_id, row);
CREATE INDEX IF NOT EXISTS predictions_listing ON predictions(listing_id) WHERE listing_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS feedback (
  key TEXT PRIMARY KEY,
  request_id TEXT,
  row INTEGER,
  listing_id TEXT,
  sold_price REAL NOT NULL,
  sold_at INTEGER,
  imported_at INTEGER NOT NULL
);
`;

export type LogDatabase = Database.Database;

/**
 * Open (and create or migrate, unless `readonly`) the log at `path`. A missing file opened
 * read-only is FILE_NOT_FOUND naming it and how it gets written; a newer schema is
 * FORMAT_VERSION. `busyTimeoutMs` (default 10 s): how long a write waits for another
 * writer's lock (the log's writer thread, the shadow challenger's, another server process).
 */
export function openLogDatabase(path: string, o: { readonly?: boolean; busyTimeoutMs?: number } = {}): LogDatabase {
  if (o.readonly && !existsSync(path))
    throw new AppError(
      'FILE_NOT_FOUND',
      `no prediction log at ${path}; \`carprice serve\` writes it (monitoring.log_path in params.yaml, or --log FILE)`,
    );
  let db: LogDatabase;
  try {
    if (!o.readonly) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: o.busyTimeoutMs ?? 10_000, fileMustExist: o.readonly === true });
  } catch (e) {
    throw new AppError(
      o.readonly ? 'FILE_UNREADABLE' : 'FILE_UNWRITABLE',
      `cannot open the prediction log ${path}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > LOG_SCHEMA_VERSION)
      throw new AppError(
        'FORMAT_VERSION',
        `the prediction log ${path} has schema version ${version}; this carprice reads up to ${LOG_SCHEMA_VERSION}. Upgrade carprice`,
      );
    if (!o.readonly) {
      // a new file returns the pages retention frees to the file system (pruneLog), so the
      // file stays near max_rows' size; must be set before the first table exists
      if (version === 0) db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // the write-ahead log is truncated back to this after a checkpoint
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      if (version < LOG_SCHEMA_VERSION)
        db.transaction(() => {
          db.exec(SCHEMA);
          db.exec(HOURLY_SCHEMA);
          // a log written before the aggregates: build them from its rows, once
          rebuildHourly(db);
          db.pragma(`user_version = ${LOG_SCHEMA_VERSION}`);
        }).immediate();
    } else if (version === 0) {
      const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='predictions'").get();
      if (!has) throw new AppError('FORMAT_UNKNOWN', `${path} is not a carprice prediction log (no predictions table)`);
    }
    return db;
  } catch (e) {
    db.close();
    if (e instanceof AppError) throw e;
    throw new AppError('FORMAT_UNKNOWN', `${path} is not a readable SQLite prediction log: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * Prepared insert of records, in one transaction per call, with the per-hour aggregates of
 * the rows (hourly.ts) updated in the same transaction.
 */
export function recordInserter(db: LogDatabase): (records: readonly PredictionRecord[]) => void {
  const stmt = db.prepare(
    `INSERT INTO predictions (ts, request_id, row, listing_id, route, role, model_name, model_version, price, lower, upper, level, latency_ms, inputs, unseen, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const hourly = new HourlyMaintainer(db);
  const tx = db.transaction((records: readonly PredictionRecord[]) => {
    for (const r of records) {
      const ts = Math.round(r.ts);
      const earlier = hourly.earlier(r.requestId, r.row);
      const id = stmt.run(
        ts,
        r.requestId,
        r.row,
        r.listingId,
        r.route,
        r.role,
        r.modelName,
        r.modelVersion,
        r.price,
        r.lower,
        r.upper,
        r.level,
        r.latencyMs,
        JSON.stringify(r.inputs),
        r.unseen.length ? JSON.stringify(r.unseen) : null,
        r.error,
      ).lastInsertRowid;
      hourly.add(Number(id), ts, r, earlier);
    }
    hourly.flush();
  });
  // immediate: the lookups read before the first insert; take the write lock first, so two
  // server processes sharing the file wait for each other instead of failing
  return (records) => tx.immediate(records);
}

/**
 * Delete rows older than `retentionDays` and beyond the newest `maxRows`, and return the
 * freed pages to the file system; returns rows deleted. This is the log's rotation: the
 * file holds at most `maxRows` rows (and `retentionDays` of them), whatever the traffic.
 * The hours rows were deleted from lose their aggregates in the same transaction (or are
 * marked to be read row by row, when rows of them remain).
 */
export function pruneLog(db: LogDatabase, o: { now: number; retentionDays: number; maxRows: number }): number {
  const cutoff = o.now - o.retentionDays * 86_400_000;
  const deleted = db
    .transaction(() => {
      const hours = new Set<number>();
      const collect = (sql: string, arg: number) => {
        for (const [h] of db.prepare(sql).raw().iterate(arg) as IterableIterator<[number]>) hours.add(h);
      };
      collect('SELECT DISTINCT ts / 3600000 FROM predictions WHERE ts < ?', cutoff);
      let n = db.prepare('DELETE FROM predictions WHERE ts < ?').run(cutoff).changes;
      const row = db.prepare('SELECT id FROM predictions ORDER BY id DESC LIMIT 1 OFFSET ?').get(o.maxRows) as
        { id: number } | undefined;
      if (row) {
        collect('SELECT DISTINCT ts / 3600000 FROM predictions WHERE id <= ?', row.id);
        n += db.prepare('DELETE FROM predictions WHERE id <= ?').run(row.id).changes;
      }
      if (n > 0) trimHours(db, hours);
      return n;
    })
    .immediate();
  // give the freed pages back (a no-op on files made before auto_vacuum was set)
  if (deleted > 0) db.pragma('incremental_vacuum');
  return deleted;
}

interface Row {
  ts: number;
  request_id: string;
  row: number;
  listing_id: string | null;
  route: string;
  role: string;
  model_name: string;
  model_version: string | null;
  price: number | null;
  lower: number | null;
  upper: number | null;
  level: number | null;
  latency_ms: number;
  inputs: string;
  unseen: string | null;
  error: string | null;
}

function toRecord(r: Row): PredictionRecord {
  return {
    ts: r.ts,
    requestId: r.request_id,
    row: r.row,
    listingId: r.listing_id,
    route: r.route,
    role: r.role as PredictionRole,
    modelName: r.model_name,
    modelVersion: r.model_version,
    price: r.price,
    lower: r.lower,
    upper: r.upper,
    level: r.level,
    latencyMs: r.latency_ms,
    inputs: JSON.parse(r.inputs) as Record<string, unknown>,
    unseen: r.unseen ? (JSON.parse(r.unseen) as string[]) : [],
    error: r.error,
  };
}

export interface LogQuery {
  /** From this Unix time (ms), inclusive. */
  since?: number;
  /** Before this Unix time (ms). */
  until?: number;
  role?: PredictionRole;
  /** Only this model version (champion rows of one model). */
  modelVersion?: string | null;
  /** Newest rows at most (the window's most recent). */
  limit?: number;
  /** A further SQL condition on the columns, with its arguments (a window's rows outside its whole hours: hourly.ts). */
  where?: { cond: string; args: readonly unknown[] };
}

function whereOf(q: Omit<LogQuery, 'limit'>): { cond: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    where.push(sql);
    args.push(...values);
  };
  if (q.since !== undefined) add('ts >= ?', q.since);
  if (q.until !== undefined) add('ts < ?', q.until);
  if (q.role) add('role = ?', q.role);
  if (q.modelVersion === null) add('model_version IS NULL');
  else if (q.modelVersion !== undefined) add('model_version = ?', q.modelVersion);
  if (q.where) add(q.where.cond, ...q.where.args);
  return { cond: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}

/**
 * The WHERE clause of a query with its `limit` turned into an id range (the newest `limit`
 * matching rows are those from the limit-th newest id up to the newest id now), so the rows
 * can be streamed in id order without SQLite sorting them into a temporary table; rows the
 * server writes meanwhile are not included. null when nothing matches.
 */
function windowOf(db: LogDatabase, q: LogQuery): { cond: string; args: unknown[] } | null {
  const { cond, args } = whereOf(q);
  if (q.limit === undefined) return { cond, args };
  const limit = Math.max(0, Math.floor(q.limit));
  if (limit === 0) return null;
  const b = db
    .prepare(
      `SELECT MIN(id) AS lo, MAX(id) AS hi FROM (SELECT id FROM predictions ${cond} ORDER BY id DESC LIMIT ${limit})`,
    )
    .get(...args) as { lo: number | null; hi: number | null };
  if (b.lo === null || b.hi === null) return null;
  return { cond: `${cond ? `${cond} AND` : 'WHERE'} id BETWEEN ? AND ?`, args: [...args, b.lo, b.hi] };
}

/** Records in time order (oldest first), lazily (one row in memory at a time). */
export function* iterateRecords(db: LogDatabase, q: LogQuery = {}): Generator<PredictionRecord> {
  const w = windowOf(db, q);
  if (!w) return;
  for (const r of db
    .prepare(`SELECT * FROM predictions ${w.cond} ORDER BY id`)
    .iterate(...w.args) as IterableIterator<Row>)
    yield toRecord(r);
}

/**
 * The columns drift needs (inputs, price, model version) of the rows matching `q`, oldest
 * first, lazily: what the drift report streams into its counts.
 */
export function* iterateDriftRows(
  db: LogDatabase,
  q: LogQuery = {},
): Generator<{
  id: number;
  inputs: Record<string, unknown>;
  price: number | null;
  modelName: string;
  modelVersion: string | null;
}> {
  const w = windowOf(db, q);
  if (!w) return;
  const stmt = db.prepare(`SELECT id, inputs, price, model_name, model_version FROM predictions ${w.cond} ORDER BY id`);
  for (const r of stmt.iterate(...w.args) as IterableIterator<
    Pick<Row, 'inputs' | 'price' | 'model_name' | 'model_version'> & { id: number }
  >)
    yield {
      id: r.id,
      inputs: JSON.parse(r.inputs) as Record<string, unknown>,
      price: r.price,
      modelName: r.model_name,
      modelVersion: r.model_version,
    };
}

/** What price comparisons need of a logged row (no listing, no timing). */
export type PriceRow = Pick<
  PredictionRecord,
  'role' | 'requestId' | 'row' | 'listingId' | 'modelName' | 'modelVersion' | 'price' | 'lower' | 'upper'
> & { id: number };

/** The price columns of the rows matching `q`, oldest first, lazily (a fraction of a record's cost). */
export function* iteratePriceRows(db: LogDatabase, q: LogQuery = {}): Generator<PriceRow> {
  const w = windowOf(db, q);
  if (!w) return;
  const stmt = db
    .prepare(
      `SELECT role, request_id, row, listing_id, model_name, model_version, price, lower, upper, id FROM predictions ${w.cond} ORDER BY id`,
    )
    .raw();
  for (const r of stmt.iterate(...w.args) as IterableIterator<unknown[]>)
    yield {
      role: r[0] as PredictionRole,
      requestId: r[1] as string,
      row: r[2] as number,
      listingId: r[3] as string | null,
      modelName: r[4] as string,
      modelVersion: r[5] as string | null,
      price: r[6] as number | null,
      lower: r[7] as number | null,
      upper: r[8] as number | null,
      id: r[9] as number,
    };
}

/** Whether any record matches the query. */
export function anyRecord(db: LogDatabase, q: Omit<LogQuery, 'limit'> = {}): boolean {
  const { cond, args } = whereOf(q);
  return db.prepare(`SELECT 1 FROM predictions ${cond} LIMIT 1`).get(...args) !== undefined;
}

/** Count of records matching the query (no limit). */
export function countRecords(db: LogDatabase, q: Omit<LogQuery, 'limit'> = {}): number {
  const { cond, args } = whereOf(q);
  return (db.prepare(`SELECT COUNT(*) AS n FROM predictions ${cond}`).get(...args) as { n: number }).n;
}

/** A realized price for a logged prediction (by request id and row, or by listing id). */
export interface FeedbackEntry {
  requestId: string | null;
  row: number;
  listingId: string | null;
  soldPrice: number;
  soldAt: number | null;
}

/** Store feedback (a later import of the same request/listing replaces the earlier one). */
export function upsertFeedback(db: LogDatabase, entries: readonly FeedbackEntry[], now: number): void {
  const stmt = db.prepare(
    `INSERT INTO feedback (key, request_id, row, listing_id, sold_price, sold_at, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(key) DO UPDATE SET sold_price = excluded.sold_price, sold_at = excluded.sold_at, imported_at = excluded.imported_at`,
  );
  db.transaction(() => {
    for (const f of entries) {
      const key = f.requestId !== null ? `r:${f.requestId}#${f.row}` : `l:${f.listingId}`;
      stmt.run(key, f.requestId, f.requestId !== null ? f.row : null, f.listingId, f.soldPrice, f.soldAt, now);
    }
  })();
}

/** Every stored feedback entry. */
export function readFeedback(db: LogDatabase): FeedbackEntry[] {
  return (
    db.prepare('SELECT request_id, row, listing_id, sold_price, sold_at FROM feedback ORDER BY key').all() as {
      request_id: string | null;
      row: number | null;
      listing_id: string | null;
      sold_price: number;
      sold_at: number | null;
    }[]
  ).map((r) => ({
    requestId: r.request_id,
    row: r.row ?? 0,
    listingId: r.listing_id,
    soldPrice: r.sold_price,
    soldAt: r.sold_at,
  }));
}

/**
 * The champion prediction a sale is about: by request id and row (its first champion row),
 * else the listing's latest champion row logged before the sale (or its latest). Prepared
 * once, one indexed lookup a sale, so a join of 10,000 sales costs milliseconds.
 */
export function championLookup(db: LogDatabase): (f: FeedbackEntry) => PredictionRecord | undefined {
  const byRequest = db.prepare(
    "SELECT * FROM predictions WHERE request_id = ? AND row = ? AND role = 'champion' ORDER BY id LIMIT 1",
  );
  const byListingBefore = db.prepare(
    "SELECT * FROM predictions WHERE listing_id = ? AND role = 'champion' AND ts <= ? ORDER BY id DESC LIMIT 1",
  );
  const byListing = db.prepare(
    "SELECT * FROM predictions WHERE listing_id = ? AND role = 'champion' ORDER BY id DESC LIMIT 1",
  );
  return (f) => {
    let r: Row | undefined;
    if (f.requestId) r = byRequest.get(f.requestId, f.row) as Row | undefined;
    if (!r && f.listingId) {
      if (f.soldAt !== null) r = byListingBefore.get(f.listingId, f.soldAt) as Row | undefined;
      r ??= byListing.get(f.listingId) as Row | undefined;
    }
    return r && toRecord(r);
  };
}
