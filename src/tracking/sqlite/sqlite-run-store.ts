/**
 * Experiments and runs in the SQLite tracking database (MLflow's SqlAlchemyStore part for
 * tracking): experiment lifecycle and tags, runs, metrics (history and latest value),
 * params, tags, dataset inputs and the log-model history, with MLflow's SQL-store
 * semantics (spec §2-5). Runs on the shared handle of sqlite-db.ts.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../core/errors.js';
import {
  SYSTEM_TAGS,
  type Dataset,
  type DatasetInput,
  type Experiment,
  type LifecycleStage,
  type Metric,
  type Page,
  type Param,
  type Run,
  type RunInfo,
  type RunStatus,
  type Tag,
} from '../entities.js';
import { createPageToken, parsePageToken } from '../page-token.js';
import { randomRunName } from '../run-name.js';
import type {
  CreateRunOptions,
  LogBatchOptions,
  MetricHistoryOptions,
  SearchExperimentsOptions,
  SearchRunsOptions,
  TrackingStoreRuns,
  UpdateRunOptions,
} from '../store.js';
import {
  MAX_EXPERIMENT_TAG_VAL_LENGTH,
  MAX_PARAM_VAL_LENGTH,
  MAX_TAG_VAL_LENGTH,
  SEARCH_MAX_RESULTS_THRESHOLD,
  truncate,
  validateArtifactLocation,
  validateBatch,
  validateExperimentName,
  validateKey,
  validateLength,
  validateMaxResults,
  validateMetric,
  validateParam,
  validateTag,
} from '../validation.js';
import { collectRunPage, experimentFilterSql, experimentOrderSql, runPartsSql, runScopeSql } from './search-sql.js';
import type { SqliteDb } from './sqlite-db.js';
import {
  activeRunRow,
  experimentRow,
  invalid,
  joinUri,
  latestOrder,
  lifecycleStages,
  loggedModelRow,
  metricFromRow,
  notFound,
  runRow,
  type ExperimentRow,
  type MetricRow,
  type RunRow,
} from './sqlite-rows.js';

/** Create experiment 0 ("Default") when the database has none, as MLflow does on first open. */
export function ensureDefaultExperiment(h: SqliteDb): void {
  if (h.stmt('SELECT 1 FROM experiments WHERE experiment_id = 0').get()) return;
  h.write(() => {
    const now = h.clock.now();
    h.stmt(
      `INSERT OR IGNORE INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?)`,
    ).run(joinUri(h.root, '0'), now, now);
  });
}

/** Experiments, runs and their data on one SQLite handle. */
export class SqliteRunStore implements TrackingStoreRuns {
  constructor(private readonly h: SqliteDb) {}

  // ------------------------------------------------------------ experiments

  private toExperiment(row: ExperimentRow): Experiment {
    const tags = this.h
      .stmt('SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key')
      .all(row.experiment_id) as Tag[];
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
    return this.h.write(() => {
      if (this.h.stmt('SELECT 1 FROM experiments WHERE name = ?').get(name))
        throw new AppError(
          'RESOURCE_ALREADY_EXISTS',
          `Experiment(name=${name}) already exists. Error: the name is taken by an active or deleted experiment; choose another name or restore the deleted one.`,
        );
      const now = this.h.clock.now();
      const info = this.h
        .stmt(
          `INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, '', 'active', ?, ?)`,
        )
        .run(name, now, now);
      const id = Number(info.lastInsertRowid);
      this.h
        .stmt('UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?')
        .run(artifactLocation || joinUri(this.h.root, String(id)), id);
      const ins = this.h.stmt('INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)');
      for (const t of tags) ins.run(id, t.key, t.value);
      return String(id);
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return this.h.read(() => this.toExperiment(experimentRow(this.h, experimentId)));
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    return this.h.read(() => {
      const row = this.h.stmt('SELECT * FROM experiments WHERE name = ?').get(name) as ExperimentRow | undefined;
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
    return this.h.read(() => {
      const rows = this.h.db
        .prepare(
          `SELECT e.* FROM experiments e WHERE e.lifecycle_stage IN (${stages.map(() => '?').join(',')}) AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
        )
        .all(...stages, ...where.params, max + 1, offset) as ExperimentRow[];
      const page = rows.slice(0, max).map((r) => this.toExperiment(r));
      return rows.length > max ? { items: page, nextPageToken: createPageToken(offset + max) } : { items: page };
    });
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    this.h.write(() => {
      const row = experimentRow(this.h, experimentId);
      if (row.lifecycle_stage !== 'active')
        throw notFound(`No Experiment with id=${experimentId} exists (it is already deleted)`);
      const now = this.h.clock.now();
      this.h
        .stmt(`UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?`)
        .run(now, row.experiment_id);
      this.h
        .stmt(
          `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = 'active'`,
        )
        .run(now, row.experiment_id);
    });
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    this.h.write(() => {
      const row = experimentRow(this.h, experimentId);
      if (row.lifecycle_stage !== 'deleted')
        throw notFound(`No deleted Experiment with id=${experimentId} exists (it is active)`);
      const now = this.h.clock.now();
      this.h
        .stmt(`UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ? WHERE experiment_id = ?`)
        .run(now, row.experiment_id);
      this.h
        .stmt(
          `UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ? AND lifecycle_stage = 'deleted'`,
        )
        .run(row.experiment_id);
    });
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    validateExperimentName(newName);
    this.h.write(() => {
      const row = experimentRow(this.h, experimentId);
      if (row.lifecycle_stage !== 'active')
        throw new AppError('INVALID_STATE', 'Cannot rename a non-active experiment.');
      const clash = this.h.stmt('SELECT experiment_id FROM experiments WHERE name = ?').get(newName) as
        { experiment_id: number } | undefined;
      if (clash && clash.experiment_id !== row.experiment_id)
        throw new AppError(
          'RESOURCE_ALREADY_EXISTS',
          `Experiment(name=${newName}) already exists; choose another name.`,
        );
      this.h
        .stmt('UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?')
        .run(newName, this.h.clock.now(), row.experiment_id);
    });
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    validateKey(key);
    validateLength(value, MAX_EXPERIMENT_TAG_VAL_LENGTH, 'value');
    this.h.write(() => {
      const row = experimentRow(this.h, experimentId);
      if (row.lifecycle_stage !== 'active')
        throw invalid(
          `The experiment ${experimentId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`,
        );
      this.h
        .stmt('INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)')
        .run(row.experiment_id, key, value);
    });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    this.h.write(() => {
      const row = experimentRow(this.h, experimentId);
      if (row.lifecycle_stage !== 'active')
        throw invalid(
          `The experiment ${experimentId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`,
        );
      const info = this.h
        .stmt('DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?')
        .run(row.experiment_id, key);
      if (info.changes === 0) throw notFound(`No tag with name: ${key} in experiment with id ${experimentId}`);
    });
  }

  // ------------------------------------------------------------ runs

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
    const metrics = (JSON.parse(row[10] as string) as [string, number, number, number, number][]).map((m): Metric => ({
      key: m[0],
      value: m[2] ? NaN : m[1],
      timestamp: m[3],
      step: m[4],
    }));
    const tags = (JSON.parse(row[11] as string) as [string, string][]).map((t): Tag => ({ key: t[0], value: t[1] }));
    const inputsJson = row[12] as string;
    const datasetInputs =
      inputsJson === '[]'
        ? []
        : (JSON.parse(inputsJson) as [string, string, string, string, string | null, string | null, string][]).map(
            (d): DatasetInput => {
              const dataset: Dataset = { name: d[0], digest: d[1], sourceType: d[2], source: d[3] };
              if (d[4] !== null) dataset.schema = d[4];
              if (d[5] !== null) dataset.profile = d[5];
              return { tags: JSON.parse(d[6]) as Tag[], dataset };
            },
          );
    const run: Run = { info, data: { metrics, params, tags }, inputs: { datasetInputs } };
    if (row[13] !== '[]')
      run.outputs = {
        modelOutputs: (JSON.parse(row[13] as string) as [string, number][]).map((o) => ({ modelId: o[0], step: o[1] })),
      };
    return run;
  }

  /** One run, hydrated like a search page. */
  private toRun(runId: string): Run {
    const row = this.h
      .stmt(SqliteRunStore.hydrateSql('SELECT rowid AS rid, 1 AS pos FROM runs WHERE run_uuid = ?'))
      .raw()
      .get(runId) as unknown[] | undefined;
    if (!row) throw notFound(`Run with id=${runId} not found`);
    return SqliteRunStore.runFromRow(row);
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
    return this.h.write(() => {
      const exp = experimentRow(this.h, experimentId);
      if (exp.lifecycle_stage !== 'active')
        throw invalid(
          `The experiment ${experimentId} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`,
        );
      const runId = randomUUID().replace(/-/g, '');
      const userId = opts.userId ?? tags.find((t) => t.key === SYSTEM_TAGS.user)?.value ?? '';
      this.h
        .stmt(
          `INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, lifecycle_stage, artifact_uri) VALUES (?, ?, ?, ?, 'RUNNING', ?, 'active', ?)`,
        )
        .run(
          runId,
          runName,
          exp.experiment_id,
          userId,
          opts.startTime ?? this.h.clock.now(),
          joinUri(exp.artifact_location, runId, 'artifacts'),
        );
      const ins = this.h.stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)');
      for (const t of tags) ins.run(runId, t.key, truncate(t.value, MAX_TAG_VAL_LENGTH));
      ins.run(runId, SYSTEM_TAGS.runName, runName);
      return this.toRun(runId);
    });
  }

  async getRun(runId: string): Promise<Run> {
    return this.h.read(() => this.toRun(runId));
  }

  async updateRun(runId: string, opts: UpdateRunOptions): Promise<RunInfo> {
    return this.h.write(() => {
      const row = activeRunRow(this.h, runId);
      const status = opts.status ?? row.status;
      const endTime = opts.endTime ?? row.end_time;
      const name = opts.runName || row.name;
      this.h
        .stmt('UPDATE runs SET status = ?, end_time = ?, name = ? WHERE run_uuid = ?')
        .run(status, endTime, name, runId);
      if (opts.runName)
        this.h
          .stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)')
          .run(runId, SYSTEM_TAGS.runName, name);
      return this.toRunInfo(runRow(this.h, runId));
    });
  }

  async deleteRun(runId: string): Promise<void> {
    this.h.write(() => {
      runRow(this.h, runId);
      this.h
        .stmt(`UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?`)
        .run(this.h.clock.now(), runId);
    });
  }

  async restoreRun(runId: string): Promise<void> {
    this.h.write(() => {
      runRow(this.h, runId);
      this.h.stmt(`UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?`).run(runId);
    });
  }

  async searchRuns(opts: SearchRunsOptions): Promise<Page<Run>> {
    const max = opts.maxResults ?? 1000;
    validateMaxResults(max, SEARCH_MAX_RESULTS_THRESHOLD);
    const ids = opts.experimentIds.filter((id) => /^\d+$/.test(id)).map(Number);
    const scope = runScopeSql(ids, lifecycleStages(opts.viewType), opts.filter);
    const parts = runPartsSql(opts.orderBy, opts.filter, scope, 'r.rowid');
    const offset = parsePageToken(opts.pageToken);
    if (ids.length === 0) return { items: [] };
    const rows = await collectRunPage(
      parts,
      max,
      offset,
      (p, limit, skip) =>
        this.h.read(
          () =>
            this.h.cachedStmt(SqliteRunStore.hydrateSql(p.page.sql)).all(...p.page.params, limit, skip) as unknown[][],
        ),
      (p) => this.h.read(() => Number((this.h.cachedStmt(p.count.sql).get(...p.count.params) as [number])[0])),
    );
    const page = new Array<Run>(rows.length);
    for (let i = 0; i < rows.length; i++) page[i] = SqliteRunStore.runFromRow(rows[i]);
    // As MLflow's SQL store: a full page always carries a token, so an exactly full last
    // page is followed by an empty one (clients loop until there is no token).
    return rows.length === max ? { items: page, nextPageToken: createPageToken(offset + max) } : { items: page };
  }

  private insertMetric(runId: string, m: Metric): void {
    const isNan = Number.isNaN(m.value) ? 1 : 0;
    const value = isNan ? 0 : m.value;
    this.h
      .stmt('INSERT OR IGNORE INTO metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)')
      .run(runId, m.key, value, isNan, m.timestamp, m.step);
    this.upsertLatest(runId, m);
    if (m.modelId !== undefined) this.insertModelMetric(runId, m);
  }

  /** Replace the latest value of a key when `m` is larger by (step, timestamp, is_nan, value). */
  private upsertLatest(runId: string, m: Metric): void {
    const isNan = Number.isNaN(m.value) ? 1 : 0;
    const value = isNan ? 0 : m.value;
    this.h
      .stmt(
        `INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
       WHERE (excluded.step, excluded.timestamp, excluded.is_nan, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.is_nan, latest_metrics.value)`,
      )
      .run(runId, m.key, value, isNan, m.timestamp, m.step);
  }

  private insertParam(runId: string, p: Param): void {
    const value = truncate(p.value, MAX_PARAM_VAL_LENGTH);
    const existing = this.h.stmt('SELECT value FROM params WHERE run_uuid = ? AND key = ?').get(runId, p.key) as
      { value: string } | undefined;
    if (existing) {
      if (existing.value === value) return;
      throw invalid(
        `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing.value}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
      );
    }
    this.h.stmt('INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)').run(runId, p.key, value);
  }

  private insertTag(runId: string, t: Tag): void {
    const value = truncate(t.value, MAX_TAG_VAL_LENGTH);
    this.h.stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)').run(runId, t.key, value);
    if (t.key === SYSTEM_TAGS.runName) this.h.stmt('UPDATE runs SET name = ? WHERE run_uuid = ?').run(value, runId);
  }

  async logMetric(runId: string, metric: Metric): Promise<void> {
    validateMetric(metric);
    this.h.write(() => {
      activeRunRow(this.h, runId);
      this.insertMetric(runId, metric);
    });
  }

  async logParam(runId: string, param: Param): Promise<void> {
    validateParam(param);
    this.h.write(() => {
      activeRunRow(this.h, runId);
      this.insertParam(runId, param);
    });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    validateKey(key);
    this.h.write(() => {
      activeRunRow(this.h, runId);
      this.insertTag(runId, { key, value });
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    this.h.write(() => {
      activeRunRow(this.h, runId);
      const info = this.h.stmt('DELETE FROM tags WHERE run_uuid = ? AND key = ?').run(runId, key);
      if (info.changes === 0) throw notFound(`No tag with name: ${key} in run with id ${runId}`);
    });
  }

  async logBatch(runId: string, batch: LogBatchOptions): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    validateBatch(metrics, params, tags);
    this.h.write(() => {
      activeRunRow(this.h, runId);
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
      this.h
        .stmt(
          `INSERT OR IGNORE INTO metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES ${'(?, ?, ?, ?, ?, ?), '.repeat(size - 1)}(?, ?, ?, ?, ?, ?)`,
        )
        .run(args);
      i += size;
    }
    for (const m of best.values()) this.upsertLatest(runId, m);
    for (const m of metrics) if (m.modelId !== undefined) this.insertModelMetric(runId, m);
  }

  /** Also record a point against the LoggedModel it evaluates (404 when the model is unknown). */
  private insertModelMetric(runId: string, m: Metric): void {
    const modelId = m.modelId as string;
    loggedModelRow(this.h, modelId);
    const isNan = Number.isNaN(m.value);
    this.h
      .stmt(
        `INSERT OR IGNORE INTO logged_model_metrics (model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        modelId,
        m.key,
        isNan ? 0 : m.value,
        isNan ? 1 : 0,
        m.timestamp,
        m.step,
        runId,
        m.datasetName ?? '',
        m.datasetDigest ?? '',
      );
    this.h.stmt('UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?').run(this.h.clock.now(), modelId);
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
    this.h.write(() => {
      activeRunRow(this.h, runId);
      const ins = this.h.stmt(
        'INSERT OR REPLACE INTO run_inputs (run_uuid, name, digest, source_type, source, schema, profile, context, tags_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const { dataset: d, tags = [] } of datasets) {
        const context = tags.find((t) => t.key === 'mlflow.data.context')?.value ?? null;
        ins.run(
          runId,
          d.name,
          d.digest,
          d.sourceType,
          d.source,
          d.schema ?? null,
          d.profile ?? null,
          context,
          JSON.stringify(tags),
        );
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
    if (model === null || typeof model !== 'object' || Array.isArray(model))
      throw invalid('Malformed model info. model_json must be a JSON object.');
    const missing = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'].filter((k) => !(k in model));
    if (missing.length)
      throw invalid(`Model json is missing mandatory fields: [${missing.map((k) => `'${k}'`).join(', ')}]`);
    this.h.write(() => {
      activeRunRow(this.h, runId);
      const prev = this.h
        .stmt('SELECT value FROM tags WHERE run_uuid = ? AND key = ?')
        .get(runId, SYSTEM_TAGS.logModelHistory) as { value: string } | undefined;
      let list: unknown[] = [];
      try {
        if (prev) list = JSON.parse(prev.value) as unknown[];
      } catch {
        list = [];
      }
      list.push(model);
      this.h
        .stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)')
        .run(runId, SYSTEM_TAGS.logModelHistory, JSON.stringify(list));
    });
  }

  async getMetricHistory(runId: string, key: string, opts: MetricHistoryOptions = {}): Promise<Page<Metric>> {
    const offset = parsePageToken(opts.pageToken);
    if (opts.maxResults !== undefined) validateMaxResults(opts.maxResults, Number.MAX_SAFE_INTEGER);
    return this.h.read(() => {
      runRow(this.h, runId);
      const limit = opts.maxResults === undefined ? -1 : opts.maxResults + 1;
      const rows = this.h
        .stmt(
          'SELECT value, is_nan, timestamp, step FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY timestamp, step, is_nan, value LIMIT ? OFFSET ?',
        )
        .all(runId, key, limit, offset) as MetricRow[];
      const max = opts.maxResults ?? rows.length;
      const items = rows.slice(0, max).map((r) => metricFromRow(key, r));
      return rows.length > max ? { items, nextPageToken: createPageToken(offset + max) } : { items };
    });
  }
}
