/**
 * The embedded tracking backend: one SQLite file (better-sqlite3, WAL) holding experiments,
 * runs, metrics, params, tags and the model registry, with MLflow's SQL-store semantics
 * (spec §2-5). Writes run in immediate transactions with a busy timeout, so several
 * processes can log to the same file at once without losing a row, and a process killed
 * mid-run leaves every committed write readable. Timestamps come from an injectable clock.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../core/errors.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import {
  canonicalStage,
  STAGES,
  SYSTEM_TAGS,
  type Dataset,
  type DatasetInput,
  type Experiment,
  type LifecycleStage,
  type LoggedModel,
  type LoggedModelStatus,
  type Metric,
  type ModelVersion,
  type Page,
  type Param,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
  type Stage,
  type Tag,
  type ViewType,
} from '../entities.js';
import { createPageToken, parsePageToken } from '../page-token.js';
import { randomRunName } from '../run-name.js';
import type {
  CreateLoggedModelOptions,
  CreateModelVersionOptions,
  CreateRunOptions,
  LogBatchOptions,
  MetricHistoryOptions,
  SearchExperimentsOptions,
  SearchRegistryOptions,
  SearchLoggedModelsOptions,
  SearchRunsOptions,
  TrackingStore,
  UpdateRunOptions,
} from '../store.js';
import {
  MAX_EXPERIMENT_TAG_VAL_LENGTH,
  MAX_PARAM_VAL_LENGTH,
  MAX_REGISTRY_TAG_VAL_LENGTH,
  MAX_TAG_VAL_LENGTH,
  parseVersion,
  SEARCH_MAX_RESULTS_THRESHOLD,
  SEARCH_MODEL_VERSION_MAX_RESULTS,
  SEARCH_REGISTERED_MODEL_MAX_RESULTS,
  truncate,
  validateAlias,
  validateArtifactLocation,
  validateBatch,
  validateExperimentName,
  validateKey,
  validateLength,
  validateMaxResults,
  validateMetric,
  validateNonLocalSource,
  validateParam,
  validateRegisteredModelName,
  validateTag,
} from '../validation.js';
import { migrate } from './migrations.js';
import {
  experimentFilterSql,
  loggedModelFilterSql,
  loggedModelOrderSql,
  experimentOrderSql,
  modelVersionFilterSql,
  modelVersionOrderSql,
  registeredModelFilterSql,
  registeredModelOrderSql,
  runFilterSql,
  runOrderSql,
} from './search-sql.js';

export interface SqliteTrackingStoreOptions {
  /** Database file path (created with its directory when missing). */
  path: string;
  /** Root under which experiments get `<root>/<experiment_id>`: a local path, file://, s3:// or mlflow-artifacts:. */
  defaultArtifactRoot: string;
  clock?: Clock;
  logger?: Logger;
  /** How long a writer waits for another process's lock, ms (default 30000). */
  busyTimeoutMs?: number;
}

interface ExperimentRow {
  experiment_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  creation_time: number;
  last_update_time: number;
}

interface RunRow {
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

interface MetricRow {
  key: string;
  value: number;
  is_nan: number;
  timestamp: number;
  step: number;
}

interface ModelVersionRow {
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

interface LoggedModelRow {
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

interface RegisteredModelRow {
  name: string;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
}

const DELETED_STAGE = 'Deleted_Internal';

function notFound(message: string): AppError {
  return new AppError('RESOURCE_DOES_NOT_EXIST', message);
}
function invalid(message: string): AppError {
  return new AppError('INVALID_PARAMETER_VALUE', message);
}

function lifecycleStages(viewType: ViewType | undefined): LifecycleStage[] {
  if (viewType === 'DELETED_ONLY') return ['deleted'];
  if (viewType === 'ALL') return ['active', 'deleted'];
  return ['active'];
}

/** Compare two points the way MLflow picks the latest: step, then timestamp, then value (NaN last). */
function latestOrder(a: Metric, b: Metric): number {
  const an = Number.isNaN(a.value) ? 1 : 0;
  const bn = Number.isNaN(b.value) ? 1 : 0;
  return a.step - b.step || a.timestamp - b.timestamp || an - bn || (an ? 0 : a.value - b.value);
}

function metricFromRow(key: string, r: MetricRow): Metric {
  return { key, value: r.is_nan ? NaN : r.value, timestamp: r.timestamp, step: r.step };
}

function joinUri(root: string, ...parts: string[]): string {
  return [root.replace(/\/+$/, ''), ...parts].join('/');
}

/** The local path of a file:// URI or plain path; undefined for other schemes. */
function localPathOf(uri: string): string | undefined {
  if (uri.startsWith('file:')) return fileURLToPath(uri.startsWith('file:///') ? uri : uri.replace(/^file:(\/\/)?/, 'file:///'));
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) return undefined;
  return resolve(uri);
}

/** SQLite-backed TrackingStore. */
export class SqliteTrackingStore implements TrackingStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly root: string;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly searchStmts = new Map<string, Database.Statement>();

  constructor(opts: SqliteTrackingStoreOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.root = opts.defaultArtifactRoot;
    mkdirSync(dirname(resolve(opts.path)), { recursive: true });
    try {
      this.db = new Database(opts.path, { timeout: opts.busyTimeoutMs ?? 30000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('case_sensitive_like = ON');
      // 32 MiB page cache (default 2 MiB) and in-memory sort b-trees: searches over tens of
      // thousands of runs stay in memory instead of re-reading pages through the OS.
      this.db.pragma('cache_size = -32768');
      this.db.pragma('temp_store = MEMORY');
      migrate(this.db, opts.path);
      this.ensureDefaultExperiment();
    } catch (e) {
      if (e instanceof AppError) throw e;
      const code = (e as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
        throw new AppError('CONFIG_INVALID', `tracking database ${opts.path} is not a SQLite database (${(e as Error).message}); point MLFLOW_TRACKING_URI (or mlflow.tracking_uri) at a SQLite file or a server, or move the file away`, { cause: e });
      throw new AppError('TEMPORARILY_UNAVAILABLE', `cannot open tracking database ${opts.path}: ${(e as Error).message}; check the path is writable`, { cause: e });
    }
    this.log.debug({ path: opts.path }, 'sqlite tracking store opened');
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // ------------------------------------------------------------ plumbing

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /**
   * A prepared statement for SQL built from a search request (filter/order shapes vary),
   * kept in a small LRU so repeated searches skip the prepare; raw mode (rows as arrays).
   */
  private cachedStmt(sql: string): Database.Statement {
    let s = this.searchStmts.get(sql);
    if (s) {
      this.searchStmts.delete(sql);
    } else {
      s = this.db.prepare(sql).raw();
      if (this.searchStmts.size >= 64) this.searchStmts.delete(this.searchStmts.keys().next().value as string);
    }
    this.searchStmts.set(sql, s);
    return s;
  }

  /** Run `fn` in an immediate (write-locking) transaction; SQLite busy errors become 503. */
  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      throw this.mapError(e);
    }
  }

  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.mapError(e);
    }
  }

  private mapError(e: unknown): unknown {
    if (e instanceof AppError) return e;
    const code = (e as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
      return new AppError('TEMPORARILY_UNAVAILABLE', 'the tracking database is busy (another process holds the write lock); retry', { cause: e });
    if (code.startsWith('SQLITE_CONSTRAINT')) return new AppError('BAD_REQUEST', `constraint violated: ${(e as Error).message}`, { cause: e });
    return e;
  }

  private ensureDefaultExperiment(): void {
    if (this.stmt('SELECT 1 FROM experiments WHERE experiment_id = 0').get()) return;
    this.write(() => {
      const now = this.clock.now();
      this.stmt(
        `INSERT OR IGNORE INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?)`,
      ).run(joinUri(this.root, '0'), now, now);
    });
  }

  // ------------------------------------------------------------ experiments

  private experimentRow(experimentId: string): ExperimentRow {
    const row = /^\d+$/.test(experimentId)
      ? (this.stmt('SELECT * FROM experiments WHERE experiment_id = ?').get(Number(experimentId)) as ExperimentRow | undefined)
      : undefined;
    if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
    return row;
  }

  private toExperiment(row: ExperimentRow): Experiment {
    const tags = this.stmt('SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key').all(row.experiment_id) as Tag[];
    return {
      experimentId: String(row.experiment_id),
      name: row.name,
      artifactLocation: row.artifact_location,
      lifecycleStage: row.lifecycle_stage,
      creationTime: row.creation_time,
      lastUpdateTime: row.last_update_time,
      tags,
    };
  }

  async createExperiment(name: string, artifactLocation?: string, tags: Tag[] = []): Promise<string> {
    validateExperimentName(name);
    if (artifactLocation) validateArtifactLocation(artifactLocation);
    for (const t of tags) {
      validateKey(t.key);
      validateLength(t.value, MAX_EXPERIMENT_TAG_VAL_LENGTH, 'value');
    }
    return this.write(() => {
      if (this.stmt('SELECT 1 FROM experiments WHERE name = ?').get(name))
        throw new AppError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${name}) already exists. Error: the name is taken by an active or deleted experiment; choose another name or restore the deleted one.`);
      const now = this.clock.now();
      const info = this.stmt(
        `INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, '', 'active', ?, ?)`,
      ).run(name, now, now);
      const id = Number(info.lastInsertRowid);
      this.stmt('UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?').run(artifactLocation || joinUri(this.root, String(id)), id);
      const ins = this.stmt('INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)');
      for (const t of tags) ins.run(id, t.key, t.value);
      return String(id);
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return this.read(() => this.toExperiment(this.experimentRow(experimentId)));
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    return this.read(() => {
      const row = this.stmt('SELECT * FROM experiments WHERE name = ?').get(name) as ExperimentRow | undefined;
      if (!row) throw notFound(`Could not find experiment with name '${name}'`);
      return this.toExperiment(row);
    });
  }

  async searchExperiments(opts: SearchExperimentsOptions = {}): Promise<Page<Experiment>> {
    const max = opts.maxResults ?? 1000;
    validateMaxResults(max, SEARCH_MAX_RESULTS_THRESHOLD);
    const where = experimentFilterSql(opts.filter);
    const order = experimentOrderSql(opts.orderBy);
    const offset = parsePageToken(opts.pageToken);
    const stages = lifecycleStages(opts.viewType);
    return this.read(() => {
      const rows = this.db
        .prepare(
          `SELECT e.* FROM experiments e WHERE e.lifecycle_stage IN (${stages.map(() => '?').join(',')}) AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
        )
        .all(...stages, ...where.params, max + 1, offset) as ExperimentRow[];
      const page = rows.slice(0, max).map((r) => this.toExperiment(r));
      return rows.length > max ? { items: page, nextPageToken: createPageToken(offset + max) } : { items: page };
    });
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    this.write(() => {
      const row = this.experimentRow(experimentId);
      if (row.lifecycle_stage !== 'active') throw notFound(`No Experiment with id=${experimentId} exists (it is already deleted)`);
      const now = this.clock.now();
      this.stmt(`UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?`).run(now, row.experiment_id);
      this.stmt(`UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = 'active'`).run(now, row.experiment_id);
    });
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    this.write(() => {
      const row = this.experimentRow(experimentId);
      if (row.lifecycle_stage !== 'deleted') throw notFound(`No deleted Experiment with id=${experimentId} exists (it is active)`);
      const now = this.clock.now();
      this.stmt(`UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ? WHERE experiment_id = ?`).run(now, row.experiment_id);
      this.stmt(`UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ? AND lifecycle_stage = 'deleted'`).run(row.experiment_id);
    });
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    validateExperimentName(newName);
    this.write(() => {
      const row = this.experimentRow(experimentId);
      if (row.lifecycle_stage !== 'active') throw new AppError('INVALID_STATE', 'Cannot rename a non-active experiment.');
      const clash = this.stmt('SELECT experiment_id FROM experiments WHERE name = ?').get(newName) as { experiment_id: number } | undefined;
      if (clash && clash.experiment_id !== row.experiment_id)
        throw new AppError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${newName}) already exists; choose another name.`);
      this.stmt('UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?').run(newName, this.clock.now(), row.experiment_id);
    });
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    validateKey(key);
    validateLength(value, MAX_EXPERIMENT_TAG_VAL_LENGTH, 'value');
    this.write(() => {
      const row = this.experimentRow(experimentId);
      if (row.lifecycle_stage !== 'active') throw invalid(`The experiment ${experimentId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
      this.stmt('INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)').run(row.experiment_id, key, value);
    });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    this.write(() => {
      const row = this.experimentRow(experimentId);
      if (row.lifecycle_stage !== 'active') throw invalid(`The experiment ${experimentId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
      const info = this.stmt('DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?').run(row.experiment_id, key);
      if (info.changes === 0) throw notFound(`No tag with name: ${key} in experiment with id ${experimentId}`);
    });
  }

  // ------------------------------------------------------------ runs

  private runRow(runId: string): RunRow {
    const row = this.stmt('SELECT * FROM runs WHERE run_uuid = ?').get(runId) as RunRow | undefined;
    if (!row) throw notFound(`Run with id=${runId} not found`);
    return row;
  }

  private activeRunRow(runId: string): RunRow {
    const row = this.runRow(runId);
    if (row.lifecycle_stage !== 'active')
      throw invalid(`The run ${runId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
    return row;
  }

  private toRunInfo(r: RunRow): RunInfo {
    const info: RunInfo = {
      runId: r.run_uuid,
      runName: r.name,
      experimentId: String(r.experiment_id),
      userId: r.user_id,
      status: r.status,
      startTime: r.start_time,
      artifactUri: r.artifact_uri,
      lifecycleStage: r.lifecycle_stage,
    };
    if (r.end_time !== null) info.endTime = r.end_time;
    return info;
  }

  /**
   * Runs for a page in one statement: `pageSql` selects `(rid, pos)` (runs.rowid and the
   * position in the page); the outer query joins runs by rowid (an integer probe) and packs
   * each run's latest metrics, params, tags and inputs into JSON arrays with one
   * primary-key range scan per child table, so a 1,000-run page is one round trip and
   * 1,000 rows instead of ~8,000. The PK scans return children in key order, the order
   * MLflow's SQL store gives. Example row:
   *   ['3f2a…', 'gentle-ant-9', 1, '', 'FINISHED', 1700000000000, null, 'active', 's3://…/artifacts',
   *    '[["depth","5"]]', '[["rmse",0.36,0,305,0]]', '[["mlflow.runName","gentle-ant-9"]]', '[]', '[]']
   */
  private static hydrateSql(pageSql: string): string {
    return `WITH page AS MATERIALIZED (${pageSql})
SELECT r.run_uuid, r.name, r.experiment_id, r.user_id, r.status, r.start_time, r.end_time, r.lifecycle_stage, r.artifact_uri,
  (SELECT json_group_array(json_array(x.key, x.value)) FROM params x WHERE x.run_uuid = r.run_uuid),
  (SELECT json_group_array(json_array(m.key, m.value, m.is_nan, m.timestamp, m.step)) FROM latest_metrics m WHERE m.run_uuid = r.run_uuid),
  (SELECT json_group_array(json_array(t.key, t.value)) FROM tags t WHERE t.run_uuid = r.run_uuid),
  (SELECT json_group_array(json_array(d.name, d.digest, d.source_type, d.source, d.schema, d.profile, d.tags_json)) FROM run_inputs d WHERE d.run_uuid = r.run_uuid),
  (SELECT json_group_array(json_array(o.model_id, o.step)) FROM run_outputs o WHERE o.run_uuid = r.run_uuid)
FROM page p JOIN runs r ON r.rowid = p.rid ORDER BY p.pos`;
  }

  /** Build a Run from one raw row of hydrateSql (column order as selected there). */
  private static runFromRow(row: unknown[]): Run {
    const info: RunInfo = {
      runId: row[0] as string,
      runName: row[1] as string,
      experimentId: String(row[2]),
      userId: row[3] as string,
      status: row[4] as RunStatus,
      startTime: row[5] as number,
      artifactUri: row[8] as string,
      lifecycleStage: row[7] as LifecycleStage,
    };
    if (row[6] !== null) info.endTime = row[6] as number;
    const params = (JSON.parse(row[9] as string) as [string, string][]).map((p): Param => ({ key: p[0], value: p[1] }));
    const metrics = (JSON.parse(row[10] as string) as [string, number, number, number, number][]).map(
      (m): Metric => ({ key: m[0], value: m[2] ? NaN : m[1], timestamp: m[3], step: m[4] }),
    );
    const tags = (JSON.parse(row[11] as string) as [string, string][]).map((t): Tag => ({ key: t[0], value: t[1] }));
    const inputsJson = row[12] as string;
    const datasetInputs =
      inputsJson === '[]'
        ? []
        : (JSON.parse(inputsJson) as [string, string, string, string, string | null, string | null, string][]).map((d): DatasetInput => {
            const dataset: Dataset = { name: d[0], digest: d[1], sourceType: d[2], source: d[3] };
            if (d[4] !== null) dataset.schema = d[4];
            if (d[5] !== null) dataset.profile = d[5];
            return { tags: JSON.parse(d[6]) as Tag[], dataset };
          });
    const run: Run = { info, data: { metrics, params, tags }, inputs: { datasetInputs } };
    if (row[13] !== '[]') run.outputs = { modelOutputs: (JSON.parse(row[13] as string) as [string, number][]).map((o) => ({ modelId: o[0], step: o[1] })) };
    return run;
  }

  /** One run, hydrated like a search page. */
  private toRun(runId: string): Run {
    const row = this.stmt(SqliteTrackingStore.hydrateSql('SELECT rowid AS rid, 1 AS pos FROM runs WHERE run_uuid = ?')).raw().get(runId) as unknown[] | undefined;
    if (!row) throw notFound(`Run with id=${runId} not found`);
    return SqliteTrackingStore.runFromRow(row);
  }

  async createRun(opts: CreateRunOptions = {}): Promise<Run> {
    const tags = opts.tags ?? [];
    for (const t of tags) validateTag(t);
    const tagName = tags.filter((t) => t.key === SYSTEM_TAGS.runName).pop()?.value;
    if (opts.runName && tagName !== undefined && tagName !== opts.runName)
      throw invalid(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${opts.runName}', mlflow.runName='${tagName}').`,
      );
    const runName = opts.runName || tagName || randomRunName();
    const experimentId = opts.experimentId ?? '0';
    return this.write(() => {
      const exp = this.experimentRow(experimentId);
      if (exp.lifecycle_stage !== 'active')
        throw invalid(`The experiment ${experimentId} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`);
      const runId = randomUUID().replace(/-/g, '');
      const userId = opts.userId ?? tags.find((t) => t.key === SYSTEM_TAGS.user)?.value ?? '';
      this.stmt(
        `INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, lifecycle_stage, artifact_uri) VALUES (?, ?, ?, ?, 'RUNNING', ?, 'active', ?)`,
      ).run(runId, runName, exp.experiment_id, userId, opts.startTime ?? this.clock.now(), joinUri(exp.artifact_location, runId, 'artifacts'));
      const ins = this.stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)');
      for (const t of tags) ins.run(runId, t.key, truncate(t.value, MAX_TAG_VAL_LENGTH));
      ins.run(runId, SYSTEM_TAGS.runName, runName);
      return this.toRun(runId);
    });
  }

  async getRun(runId: string): Promise<Run> {
    return this.read(() => this.toRun(runId));
  }

  async updateRun(runId: string, opts: UpdateRunOptions): Promise<RunInfo> {
    return this.write(() => {
      const row = this.activeRunRow(runId);
      const status = opts.status ?? row.status;
      const endTime = opts.endTime ?? row.end_time;
      const name = opts.runName || row.name;
      this.stmt('UPDATE runs SET status = ?, end_time = ?, name = ? WHERE run_uuid = ?').run(status, endTime, name, runId);
      if (opts.runName) this.stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)').run(runId, SYSTEM_TAGS.runName, name);
      return this.toRunInfo(this.runRow(runId));
    });
  }

  async deleteRun(runId: string): Promise<void> {
    this.write(() => {
      this.runRow(runId);
      this.stmt(`UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?`).run(this.clock.now(), runId);
    });
  }

  async restoreRun(runId: string): Promise<void> {
    this.write(() => {
      this.runRow(runId);
      this.stmt(`UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?`).run(runId);
    });
  }

  async searchRuns(opts: SearchRunsOptions): Promise<Page<Run>> {
    const max = opts.maxResults ?? 1000;
    validateMaxResults(max, SEARCH_MAX_RESULTS_THRESHOLD);
    const where = runFilterSql(opts.filter);
    const { joins, order } = runOrderSql(opts.orderBy);
    const offset = parsePageToken(opts.pageToken);
    const ids = opts.experimentIds.filter((id) => /^\d+$/.test(id)).map(Number);
    if (ids.length === 0) return { items: [] };
    const stages = lifecycleStages(opts.viewType);
    return this.read(() => {
      const pageSql =
        `SELECT r.rowid AS rid, row_number() OVER (ORDER BY ${order}) AS pos FROM runs r ${joins.sql} WHERE r.experiment_id IN (${ids.map(() => '?').join(',')}) ` +
        `AND r.lifecycle_stage IN (${stages.map(() => '?').join(',')}) AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`;
      const rows = this.cachedStmt(SqliteTrackingStore.hydrateSql(pageSql)).all(...joins.params, ...ids, ...stages, ...where.params, max + 1, offset) as unknown[][];
      const n = Math.min(rows.length, max);
      const page = new Array<Run>(n);
      for (let i = 0; i < n; i++) page[i] = SqliteTrackingStore.runFromRow(rows[i]);
      return rows.length > max ? { items: page, nextPageToken: createPageToken(offset + max) } : { items: page };
    });
  }

  private insertMetric(runId: string, m: Metric): void {
    const isNan = Number.isNaN(m.value) ? 1 : 0;
    const value = isNan ? 0 : m.value;
    this.stmt('INSERT OR IGNORE INTO metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)').run(runId, m.key, value, isNan, m.timestamp, m.step);
    this.upsertLatest(runId, m);
    if (m.modelId !== undefined) this.insertModelMetric(runId, m);
  }

  /** Replace the latest value of a key when `m` is larger by (step, timestamp, is_nan, value). */
  private upsertLatest(runId: string, m: Metric): void {
    const isNan = Number.isNaN(m.value) ? 1 : 0;
    const value = isNan ? 0 : m.value;
    this.stmt(
      `INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
       WHERE (excluded.step, excluded.timestamp, excluded.is_nan, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.is_nan, latest_metrics.value)`,
    ).run(runId, m.key, value, isNan, m.timestamp, m.step);
  }

  private insertParam(runId: string, p: Param): void {
    const value = truncate(p.value, MAX_PARAM_VAL_LENGTH);
    const existing = this.stmt('SELECT value FROM params WHERE run_uuid = ? AND key = ?').get(runId, p.key) as { value: string } | undefined;
    if (existing) {
      if (existing.value === value) return;
      throw invalid(
        `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing.value}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
      );
    }
    this.stmt('INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)').run(runId, p.key, value);
  }

  private insertTag(runId: string, t: Tag): void {
    const value = truncate(t.value, MAX_TAG_VAL_LENGTH);
    this.stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)').run(runId, t.key, value);
    if (t.key === SYSTEM_TAGS.runName) this.stmt('UPDATE runs SET name = ? WHERE run_uuid = ?').run(value, runId);
  }

  async logMetric(runId: string, metric: Metric): Promise<void> {
    validateMetric(metric);
    this.write(() => {
      this.activeRunRow(runId);
      this.insertMetric(runId, metric);
    });
  }

  async logParam(runId: string, param: Param): Promise<void> {
    validateParam(param);
    this.write(() => {
      this.activeRunRow(runId);
      this.insertParam(runId, param);
    });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    validateKey(key);
    this.write(() => {
      this.activeRunRow(runId);
      this.insertTag(runId, { key, value });
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    this.write(() => {
      this.activeRunRow(runId);
      const info = this.stmt('DELETE FROM tags WHERE run_uuid = ? AND key = ?').run(runId, key);
      if (info.changes === 0) throw notFound(`No tag with name: ${key} in run with id ${runId}`);
    });
  }

  async logBatch(runId: string, batch: LogBatchOptions): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    validateBatch(metrics, params, tags);
    this.write(() => {
      this.activeRunRow(runId);
      for (const p of params) this.insertParam(runId, p);
      for (const t of tags) this.insertTag(runId, t);
      this.insertMetrics(runId, metrics);
    });
  }

  /**
   * Insert many points: every point into the history with multi-row INSERTs (chunks of
   * 250/50/10/1 rows, each a cached statement, so 1,000 points are 4 statement steps
   * instead of 1,000), then one latest-value upsert per key.
   */
  private insertMetrics(runId: string, metrics: Metric[]): void {
    const best = new Map<string, Metric>();
    let i = 0;
    while (i < metrics.length) {
      const left = metrics.length - i;
      const size = left >= 250 ? 250 : left >= 50 ? 50 : left >= 10 ? 10 : 1;
      const args = new Array<unknown>(size * 6);
      for (let j = 0; j < size; j++) {
        const m = metrics[i + j];
        const isNan = Number.isNaN(m.value);
        const o = j * 6;
        args[o] = runId;
        args[o + 1] = m.key;
        args[o + 2] = isNan ? 0 : m.value;
        args[o + 3] = isNan ? 1 : 0;
        args[o + 4] = m.timestamp;
        args[o + 5] = m.step;
        const b = best.get(m.key);
        if (!b || latestOrder(m, b) > 0) best.set(m.key, m);
      }
      this.stmt(`INSERT OR IGNORE INTO metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES ${'(?, ?, ?, ?, ?, ?), '.repeat(size - 1)}(?, ?, ?, ?, ?, ?)`).run(args);
      i += size;
    }
    for (const m of best.values()) this.upsertLatest(runId, m);
    for (const m of metrics) if (m.modelId !== undefined) this.insertModelMetric(runId, m);
  }

  /** Also record a point against the LoggedModel it evaluates (404 when the model is unknown). */
  private insertModelMetric(runId: string, m: Metric): void {
    const modelId = m.modelId as string;
    this.loggedModelRow(modelId);
    const isNan = Number.isNaN(m.value);
    this.stmt(
      `INSERT OR IGNORE INTO logged_model_metrics (model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(modelId, m.key, isNan ? 0 : m.value, isNan ? 1 : 0, m.timestamp, m.step, runId, m.datasetName ?? '', m.datasetDigest ?? '');
    this.stmt('UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?').run(this.clock.now(), modelId);
  }

  async logInputs(runId: string, datasets: { dataset: Dataset; tags?: Tag[] }[]): Promise<void> {
    for (const d of datasets) {
      validateLength(d.dataset.name, 500, 'dataset.name');
      validateLength(d.dataset.digest, 36, 'dataset.digest');
      validateLength(d.dataset.source, 65535, 'dataset.source');
      validateLength(d.dataset.schema ?? '', 1048575, 'dataset.schema');
      validateLength(d.dataset.profile ?? '', 16777215, 'dataset.profile');
      for (const t of d.tags ?? []) {
        validateLength(t.key, 255, 'input tag key');
        validateLength(t.value, 500, 'input tag value');
      }
    }
    this.write(() => {
      this.activeRunRow(runId);
      const ins = this.stmt(
        'INSERT OR REPLACE INTO run_inputs (run_uuid, name, digest, source_type, source, schema, profile, context, tags_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const { dataset: d, tags = [] } of datasets) {
        const context = tags.find((t) => t.key === 'mlflow.data.context')?.value ?? null;
        ins.run(runId, d.name, d.digest, d.sourceType, d.source, d.schema ?? null, d.profile ?? null, context, JSON.stringify(tags));
      }
    });
  }

  async logModel(runId: string, modelJson: string): Promise<void> {
    let model: unknown;
    try {
      model = JSON.parse(modelJson);
    } catch (e) {
      throw invalid(`Malformed model info. model_json is not valid JSON: ${(e as Error).message}`);
    }
    if (model === null || typeof model !== 'object' || Array.isArray(model)) throw invalid('Malformed model info. model_json must be a JSON object.');
    const missing = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'].filter((k) => !(k in (model as object)));
    if (missing.length) throw invalid(`Model json is missing mandatory fields: [${missing.map((k) => `'${k}'`).join(', ')}]`);
    this.write(() => {
      this.activeRunRow(runId);
      const prev = this.stmt('SELECT value FROM tags WHERE run_uuid = ? AND key = ?').get(runId, SYSTEM_TAGS.logModelHistory) as { value: string } | undefined;
      let list: unknown[] = [];
      try {
        if (prev) list = JSON.parse(prev.value) as unknown[];
      } catch {
        list = [];
      }
      list.push(model);
      this.stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)').run(runId, SYSTEM_TAGS.logModelHistory, JSON.stringify(list));
    });
  }

  async getMetricHistory(runId: string, key: string, opts: MetricHistoryOptions = {}): Promise<Page<Metric>> {
    const offset = parsePageToken(opts.pageToken);
    if (opts.maxResults !== undefined) validateMaxResults(opts.maxResults, Number.MAX_SAFE_INTEGER);
    return this.read(() => {
      this.runRow(runId);
      const limit = opts.maxResults === undefined ? -1 : opts.maxResults + 1;
      const rows = this.stmt(
        'SELECT value, is_nan, timestamp, step FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY timestamp, step, is_nan, value LIMIT ? OFFSET ?',
      ).all(runId, key, limit, offset) as MetricRow[];
      const max = opts.maxResults ?? rows.length;
      const items = rows.slice(0, max).map((r) => metricFromRow(key, r));
      return rows.length > max ? { items, nextPageToken: createPageToken(offset + max) } : { items };
    });
  }

  // ------------------------------------------------------------ registry

  private modelRow(name: string): RegisteredModelRow {
    const row = this.stmt('SELECT * FROM registered_models WHERE name = ?').get(name) as RegisteredModelRow | undefined;
    if (!row) throw notFound(`Registered Model with name=${name} not found`);
    return row;
  }

  private versionRow(name: string, version: string): ModelVersionRow {
    const n = parseVersion(version);
    const row = this.stmt(`SELECT * FROM model_versions WHERE name = ? AND version = ? AND current_stage != '${DELETED_STAGE}'`).get(name, n) as
      | ModelVersionRow
      | undefined;
    if (!row) throw notFound(`Model Version (name=${name}, version=${version}) not found`);
    return row;
  }

  private toModelVersion(r: ModelVersionRow): ModelVersion {
    const tags = this.stmt('SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key').all(r.name, r.version) as Tag[];
    const aliases = (this.stmt('SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias').all(r.name, r.version) as { alias: string }[]).map(
      (a) => a.alias,
    );
    const mv: ModelVersion = {
      name: r.name,
      version: String(r.version),
      creationTimestamp: r.creation_time,
      lastUpdatedTimestamp: r.last_updated_time,
      currentStage: r.current_stage as Stage,
      source: r.source,
      status: r.status as ModelVersion['status'],
      tags,
      aliases,
    };
    if (r.user_id !== null) mv.userId = r.user_id;
    if (r.description !== null) mv.description = r.description;
    if (r.run_id !== null) mv.runId = r.run_id;
    if (r.run_link !== null) mv.runLink = r.run_link;
    if (r.status_message !== null) mv.statusMessage = r.status_message;
    if (r.model_id !== null) mv.modelId = r.model_id;
    return mv;
  }

  private latestVersionRows(name: string, stages: readonly string[]): ModelVersionRow[] {
    const out: ModelVersionRow[] = [];
    for (const stage of stages) {
      const row = this.stmt('SELECT * FROM model_versions WHERE name = ? AND current_stage = ? ORDER BY version DESC LIMIT 1').get(name, stage) as ModelVersionRow | undefined;
      if (row) out.push(row);
    }
    // MLflow 3.5 lists them by version number, ascending (checked against a running server).
    return out.sort((a, b) => a.version - b.version);
  }

  private toRegisteredModel(r: RegisteredModelRow): RegisteredModel {
    const tags = this.stmt('SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key').all(r.name) as Tag[];
    const aliases = (this.stmt('SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias').all(r.name) as { alias: string; version: number }[]).map((a) => ({
      alias: a.alias,
      version: String(a.version),
    }));
    const rm: RegisteredModel = {
      name: r.name,
      creationTimestamp: r.creation_time,
      lastUpdatedTimestamp: r.last_updated_time,
      latestVersions: this.latestVersionRows(r.name, STAGES).map((v) => this.toModelVersion(v)),
      tags,
      aliases,
    };
    if (r.description !== null) rm.description = r.description;
    return rm;
  }

  private validateRegistryTag(key: string, value: string): void {
    validateKey(key);
    validateLength(value, MAX_REGISTRY_TAG_VAL_LENGTH, 'value');
  }

  private touchModel(name: string, now: number): void {
    this.stmt('UPDATE registered_models SET last_updated_time = ? WHERE name = ?').run(now, name);
  }

  async createRegisteredModel(name: string, tags: Tag[] = [], description?: string): Promise<RegisteredModel> {
    validateRegisteredModelName(name);
    for (const t of tags) this.validateRegistryTag(t.key, t.value);
    return this.write(() => {
      if (this.stmt('SELECT 1 FROM registered_models WHERE name = ?').get(name))
        throw new AppError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
      const now = this.clock.now();
      this.stmt('INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, ?)').run(name, now, now, description ?? null);
      const ins = this.stmt('INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)');
      for (const t of tags) ins.run(name, t.key, t.value);
      return this.toRegisteredModel(this.modelRow(name));
    });
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.read(() => this.toRegisteredModel(this.modelRow(name)));
  }

  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    validateRegisteredModelName(newName);
    return this.write(() => {
      this.modelRow(name);
      if (newName !== name && this.stmt('SELECT 1 FROM registered_models WHERE name = ?').get(newName))
        throw new AppError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${newName}) already exists.`);
      const now = this.clock.now();
      this.stmt('UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?').run(newName, now, name);
      this.stmt('UPDATE model_versions SET last_updated_time = ? WHERE name = ?').run(now, newName);
      return this.toRegisteredModel(this.modelRow(newName));
    });
  }

  async updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
    return this.write(() => {
      this.modelRow(name);
      this.stmt('UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?').run(description, this.clock.now(), name);
      return this.toRegisteredModel(this.modelRow(name));
    });
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    this.write(() => {
      this.modelRow(name);
      this.stmt('DELETE FROM model_version_tags WHERE name = ?').run(name);
      this.stmt('DELETE FROM registered_models WHERE name = ?').run(name);
    });
  }

  async searchRegisteredModels(opts: SearchRegistryOptions = {}): Promise<Page<RegisteredModel>> {
    const max = opts.maxResults ?? 100;
    validateMaxResults(max, SEARCH_REGISTERED_MODEL_MAX_RESULTS);
    const where = registeredModelFilterSql(opts.filter);
    const order = registeredModelOrderSql(opts.orderBy);
    const offset = parsePageToken(opts.pageToken);
    return this.read(() => {
      const rows = this.db
        .prepare(`SELECT rm.* FROM registered_models rm WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
        .all(...where.params, max + 1, offset) as RegisteredModelRow[];
      const items = rows.slice(0, max).map((r) => this.toRegisteredModel(r));
      return rows.length > max ? { items, nextPageToken: createPageToken(offset + max) } : { items };
    });
  }

  async getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    const wanted = stages && stages.length ? stages.map((s) => this.stage(s)) : STAGES;
    return this.read(() => {
      this.modelRow(name);
      return this.latestVersionRows(name, [...new Set(wanted)]).map((r) => this.toModelVersion(r));
    });
  }

  private stage(input: string): Stage {
    const s = canonicalStage(input);
    if (!s) throw invalid(`Invalid Model Version stage: ${input}. Value must be one of ${STAGES.join(', ')}.`);
    return s;
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    this.validateRegistryTag(key, value);
    this.write(() => {
      this.modelRow(name);
      this.stmt('INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)').run(name, key, value);
    });
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    this.write(() => {
      this.modelRow(name);
      this.stmt('DELETE FROM registered_model_tags WHERE name = ? AND key = ?').run(name, key);
    });
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    validateAlias(alias);
    this.write(() => {
      this.modelRow(name);
      const row = this.versionRow(name, version);
      this.stmt('INSERT OR REPLACE INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?)').run(name, alias, row.version);
      this.touchModel(name, this.clock.now());
    });
  }

  async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    validateAlias(alias);
    this.write(() => {
      this.modelRow(name);
      this.stmt('DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?').run(name, alias);
    });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.read(() => {
      this.modelRow(name);
      const a = this.stmt('SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?').get(name, alias) as { version: number } | undefined;
      if (!a) throw invalid(`Registered model alias ${alias} not found.`);
      return this.toModelVersion(this.versionRow(name, String(a.version)));
    });
  }

  private validateSource(source: string, runId: string | undefined): void {
    const local = localPathOf(source);
    if (local === undefined) {
      validateNonLocalSource(source);
      return;
    }
    const fail = () =>
      invalid(
        `Invalid model version source: '${source}'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.`,
      );
    if (!runId) throw fail();
    const run = this.stmt('SELECT artifact_uri FROM runs WHERE run_uuid = ?').get(runId) as { artifact_uri: string } | undefined;
    const root = run ? localPathOf(run.artifact_uri) : undefined;
    if (!root || !isAbsolute(local)) throw fail();
    const a = normalize(local);
    const b = normalize(root);
    if (a !== b && !a.startsWith(b.endsWith('/') ? b : b + '/')) throw fail();
  }

  async createModelVersion(opts: CreateModelVersionOptions): Promise<ModelVersion> {
    const tags = opts.tags ?? [];
    for (const t of tags) this.validateRegistryTag(t.key, t.value);
    return this.write(() => {
      this.modelRow(opts.name);
      // A 3.x source models:/<model_id> is stored as given; its storage location (what
      // get-download-uri answers) is the logged model's artifact location, as in MLflow.
      let storage = opts.source;
      let runId = opts.runId || null;
      let modelId = opts.modelId || null;
      const m = /^models:\/(m-[0-9a-f]{32})\/?$/.exec(opts.source);
      const logged = m ? (this.stmt(`SELECT * FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'`).get(m[1]) as LoggedModelRow | undefined) : undefined;
      if (logged) {
        storage = logged.artifact_location;
        runId = runId ?? logged.source_run_id;
        modelId = modelId ?? logged.model_id;
      } else {
        this.validateSource(opts.source, opts.runId);
      }
      const max = this.stmt('SELECT MAX(version) AS v FROM model_versions WHERE name = ?').get(opts.name) as { v: number | null };
      const version = (max.v ?? 0) + 1;
      const now = this.clock.now();
      this.stmt(
        `INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, current_stage, source, storage_location, run_id, run_link, status, model_id)
         VALUES (?, ?, ?, ?, ?, NULL, 'None', ?, ?, ?, ?, 'READY', ?)`,
      ).run(opts.name, version, now, now, opts.description ?? null, opts.source, storage, runId, opts.runLink || null, modelId);
      const ins = this.stmt('INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)');
      for (const t of tags) ins.run(opts.name, version, t.key, t.value);
      this.touchModel(opts.name, now);
      return this.toModelVersion(this.versionRow(opts.name, String(version)));
    });
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return this.read(() => this.toModelVersion(this.versionRow(name, version)));
  }

  async updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion> {
    return this.write(() => {
      const row = this.versionRow(name, version);
      this.stmt('UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?').run(description, this.clock.now(), name, row.version);
      return this.toModelVersion(this.versionRow(name, version));
    });
  }

  async transitionModelVersionStage(name: string, version: string, stage: string, archiveExistingVersions: boolean): Promise<ModelVersion> {
    const target = this.stage(stage);
    if (archiveExistingVersions && target !== 'Staging' && target !== 'Production')
      throw invalid(`Model version transition cannot archive existing model versions because '${target}' is not an Active stage. Valid stages are Staging, Production.`);
    return this.write(() => {
      const row = this.versionRow(name, version);
      const now = this.clock.now();
      if (archiveExistingVersions)
        this.stmt(`UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? WHERE name = ? AND current_stage = ? AND version != ?`).run(
          now,
          name,
          target,
          row.version,
        );
      this.stmt('UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?').run(target, now, name, row.version);
      this.touchModel(name, now);
      return this.toModelVersion(this.versionRow(name, version));
    });
  }

  async deleteModelVersion(name: string, version: string): Promise<void> {
    this.write(() => {
      const row = this.versionRow(name, version);
      const now = this.clock.now();
      this.stmt(
        `UPDATE model_versions SET current_stage = '${DELETED_STAGE}', source = 'REDACTED-SOURCE-PATH', storage_location = NULL, run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK', description = NULL, status_message = NULL, last_updated_time = ? WHERE name = ? AND version = ?`,
      ).run(now, name, row.version);
      this.stmt('DELETE FROM registered_model_aliases WHERE name = ? AND version = ?').run(name, row.version);
      this.touchModel(name, now);
    });
  }

  async searchModelVersions(opts: SearchRegistryOptions = {}): Promise<Page<ModelVersion>> {
    const max = opts.maxResults ?? 1000;
    validateMaxResults(max, SEARCH_MODEL_VERSION_MAX_RESULTS);
    const where = modelVersionFilterSql(opts.filter);
    const order = modelVersionOrderSql(opts.orderBy);
    const offset = parsePageToken(opts.pageToken);
    return this.read(() => {
      const rows = this.db
        .prepare(`SELECT mv.* FROM model_versions mv WHERE mv.current_stage != '${DELETED_STAGE}' AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
        .all(...where.params, max + 1, offset) as ModelVersionRow[];
      const items = rows.slice(0, max).map((r) => this.toModelVersion(r));
      return rows.length > max ? { items, nextPageToken: createPageToken(offset + max) } : { items };
    });
  }

  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    return this.read(() => {
      const row = this.versionRow(name, version);
      return row.storage_location ?? row.source;
    });
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    this.validateRegistryTag(key, value);
    this.write(() => {
      const row = this.versionRow(name, version);
      this.stmt('INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)').run(name, row.version, key, value);
    });
  }

  async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    this.write(() => {
      const row = this.versionRow(name, version);
      this.stmt('DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?').run(name, row.version, key);
    });
  }

  // ------------------------------------------------------------ logged models (MLflow 3.x)

  private loggedModelRow(modelId: string): LoggedModelRow {
    const row = this.stmt(`SELECT * FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'`).get(modelId) as LoggedModelRow | undefined;
    if (!row) throw notFound(`Logged model with ID '${modelId}' not found.`);
    return row;
  }

  private toLoggedModel(r: LoggedModelRow): LoggedModel {
    const m: LoggedModel = {
      modelId: r.model_id,
      experimentId: String(r.experiment_id),
      name: r.name,
      artifactLocation: r.artifact_location,
      creationTimestampMs: r.creation_time,
      lastUpdatedTimestampMs: r.last_updated_time,
      status: r.status,
      tags: this.stmt('SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key').all(r.model_id) as Tag[],
      params: this.stmt('SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key').all(r.model_id) as Param[],
      metrics: (
        this.stmt(
          'SELECT key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest FROM logged_model_metrics WHERE model_id = ? ORDER BY key, step, timestamp, value',
        ).all(r.model_id) as (MetricRow & { run_uuid: string; dataset_name: string; dataset_digest: string })[]
      ).map((x) => {
        const m = metricFromRow(x.key, x);
        m.modelId = r.model_id;
        if (x.run_uuid) m.runId = x.run_uuid;
        if (x.dataset_name) m.datasetName = x.dataset_name;
        if (x.dataset_digest) m.datasetDigest = x.dataset_digest;
        return m;
      }),
    };
    if (r.model_type !== null) m.modelType = r.model_type;
    if (r.source_run_id !== null) m.sourceRunId = r.source_run_id;
    if (r.status_message !== null) m.statusMessage = r.status_message;
    return m;
  }

  private insertLoggedModelParams(modelId: string, params: Param[]): void {
    for (const p of params) {
      const value = truncate(p.value, MAX_PARAM_VAL_LENGTH);
      const existing = this.stmt('SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?').get(modelId, p.key) as { value: string } | undefined;
      if (existing) {
        if (existing.value === value) continue;
        throw invalid(
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing.value}' for logged model ID='${modelId}'. Attempted logging new value '${value}'.`,
        );
      }
      this.stmt('INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?)').run(modelId, p.key, value);
    }
  }

  async createLoggedModel(opts: CreateLoggedModelOptions): Promise<LoggedModel> {
    for (const p of opts.params ?? []) validateParam(p);
    for (const t of opts.tags ?? []) validateTag(t);
    return this.write(() => {
      const exp = this.experimentRow(opts.experimentId);
      if (exp.lifecycle_stage !== 'active')
        throw invalid(`The experiment ${opts.experimentId} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`);
      if (opts.sourceRunId) this.runRow(opts.sourceRunId);
      const modelId = `m-${randomUUID().replace(/-/g, '')}`;
      const now = this.clock.now();
      this.stmt(
        `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_time, last_updated_time, status, model_type, source_run_id)
         VALUES (?, ?, ?, ?, ?, ?, 'LOGGED_MODEL_PENDING', ?, ?)`,
      ).run(
        modelId,
        exp.experiment_id,
        opts.name || randomRunName(),
        joinUri(exp.artifact_location, 'models', modelId, 'artifacts'),
        now,
        now,
        opts.modelType ?? null,
        opts.sourceRunId || null,
      );
      const tag = this.stmt('INSERT OR REPLACE INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?)');
      for (const t of opts.tags ?? []) tag.run(modelId, t.key, truncate(t.value, MAX_TAG_VAL_LENGTH));
      this.insertLoggedModelParams(modelId, opts.params ?? []);
      return this.toLoggedModel(this.loggedModelRow(modelId));
    });
  }

  async finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel> {
    if (status !== 'LOGGED_MODEL_READY' && status !== 'LOGGED_MODEL_UPLOAD_FAILED' && status !== 'LOGGED_MODEL_PENDING')
      throw invalid(`Invalid status '${status}' for a logged model; use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.`);
    return this.write(() => {
      this.loggedModelRow(modelId);
      this.stmt('UPDATE logged_models SET status = ?, last_updated_time = ? WHERE model_id = ?').run(status, this.clock.now(), modelId);
      return this.toLoggedModel(this.loggedModelRow(modelId));
    });
  }

  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    return this.read(() => this.toLoggedModel(this.loggedModelRow(modelId)));
  }

  async deleteLoggedModel(modelId: string): Promise<void> {
    this.write(() => {
      this.loggedModelRow(modelId);
      this.stmt(`UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_time = ? WHERE model_id = ?`).run(this.clock.now(), modelId);
    });
  }

  async searchLoggedModels(opts: SearchLoggedModelsOptions): Promise<Page<LoggedModel>> {
    const max = opts.maxResults ?? 50;
    validateMaxResults(max, SEARCH_MAX_RESULTS_THRESHOLD);
    const where = loggedModelFilterSql(opts.filter);
    const order = loggedModelOrderSql(opts.orderBy);
    const offset = parsePageToken(opts.pageToken);
    const ids = opts.experimentIds.filter((id) => /^\d+$/.test(id)).map(Number);
    if (ids.length === 0) return { items: [] };
    return this.read(() => {
      const sql =
        `SELECT lm.* FROM logged_models lm WHERE lm.experiment_id IN (${ids.map(() => '?').join(',')}) AND lm.lifecycle_stage = 'active' ` +
        `AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`;
      const rows = this.db.prepare(sql).all(...ids, ...where.params, max + 1, offset) as LoggedModelRow[];
      const page = rows.slice(0, max).map((r) => this.toLoggedModel(r));
      return rows.length > max ? { items: page, nextPageToken: createPageToken(offset + max) } : { items: page };
    });
  }

  async setLoggedModelTags(modelId: string, tags: Tag[]): Promise<LoggedModel> {
    for (const t of tags) validateTag(t);
    return this.write(() => {
      this.loggedModelRow(modelId);
      const ins = this.stmt('INSERT OR REPLACE INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?)');
      for (const t of tags) ins.run(modelId, t.key, truncate(t.value, MAX_TAG_VAL_LENGTH));
      this.stmt('UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?').run(this.clock.now(), modelId);
      return this.toLoggedModel(this.loggedModelRow(modelId));
    });
  }

  async deleteLoggedModelTag(modelId: string, key: string): Promise<void> {
    this.write(() => {
      this.loggedModelRow(modelId);
      const info = this.stmt('DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?').run(modelId, key);
      if (info.changes === 0) throw notFound(`No tag with key '${key}' found for logged model with ID '${modelId}'.`);
    });
  }

  async logLoggedModelParams(modelId: string, params: Param[]): Promise<void> {
    for (const p of params) validateParam(p);
    this.write(() => {
      this.loggedModelRow(modelId);
      this.insertLoggedModelParams(modelId, params);
    });
  }

  async logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    this.write(() => {
      this.activeRunRow(runId);
      const ins = this.stmt('INSERT OR IGNORE INTO run_outputs (run_uuid, model_id, step) VALUES (?, ?, ?)');
      for (const m of models) {
        this.loggedModelRow(m.modelId);
        ins.run(runId, m.modelId, m.step);
      }
    });
  }
}
