/**
 * Experiments and runs in the PostgreSQL tracking database (MLflow's SqlAlchemyStore part for
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
import {
  collectRunPage,
  experimentFilterSql,
  experimentOrderSql,
  runPartsSql,
  runScopeSql,
} from '../sqlite/search-sql.js';
import { mapAsync, type PgDb } from './pg-db.js';
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
} from './pg-rows.js';

/** Create experiment 0 ("Default") when the database has none, as MLflow does on first open. */
export async function ensureDefaultExperiment(h: PgDb): Promise<void> {
  if (await h.stmt('SELECT 1 FROM experiments WHERE experiment_id = 0').get()) return;
  const now = h.clock.now();
  await h
    .stmt(
      `INSERT OR IGNORE INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?)`,
    )
    .run(joinUri(h.root, '0'), now, now);
}

/** Experiments, runs and their data on one PostgreSQL handle. */
export class PgRunStore implements TrackingStoreRuns {
  constructor(private readonly h: PgDb) {}

  // ------------------------------------------------------------ experiments

  private async toExperiment(row: ExperimentRow): Promise<Experiment> {
    const tags = await this.h
      .stmt('SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key')
      .all<Tag>(row.experiment_id);
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
    return this.h.write(async () => {
      if (await this.h.stmt('SELECT 1 FROM experiments WHERE name = ?').get(name))
        throw new AppError(
          'RESOURCE_ALREADY_EXISTS',
          `Experiment(name=${name}) already exists. Error: the name is taken by an active or deleted experiment; choose another name or restore the deleted one.`,
        );
      const now = this.h.clock.now();
      const info = await this.h
        .stmt(
          `INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, '', 'active', ?, ?) RETURNING experiment_id`,
        )
        .get<{ experiment_id: number }>(name, now, now);
      const id = Number(info?.experiment_id);
      await this.h
        .stmt('UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?')
        .run(artifactLocation || joinUri(this.h.root, String(id)), id);
      const ins = this.h.stmt('INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)');
      for (const t of tags) await ins.run(id, t.key, t.value);
      return String(id);
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return this.h.read(async () => await this.toExperiment(await experimentRow(this.h, experimentId)));
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    return this.h.read(async () => {
      const row = await this.h.stmt('SELECT * FROM experiments WHERE name = ?').get<ExperimentRow>(name);
      if (!row) throw notFound(`Could not find experiment with name '${name}'`);
      return await this.toExperiment(row);
    });
  }

  async searchExperiments(opts: SearchExperimentsOptions = {}): Promise<Page<Experiment>> {
    const max = opts.maxResults ?? 1000;
    validateMaxResults(max, SEARCH_MAX_RESULTS_THRESHOLD);
    const where = experimentFilterSql(opts.filter);
    const order = experimentOrderSql(opts.orderBy);
    const offset = parsePageToken(opts.pageToken);
    const stages = lifecycleStages(opts.viewType);
    return this.h.read(async () => {
      const rows = await this.h
        .stmt(
          `SELECT e.* FROM experiments e WHERE e.lifecycle_stage IN (${stages.map(() => '?').join(',')}) AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
        )
        .all<ExperimentRow>(...stages, ...where.params, max + 1, offset);
      const page = await mapAsync(rows.slice(0, max), (r) => this.toExperiment(r));
      return rows.length > max ? { items: page, nextPageToken: createPageToken(offset + max) } : { items: page };
    });
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    await this.h.write(async () => {
      const row = await experimentRow(this.h, experimentId);
      if (row.lifecycle_stage !== 'active')
        throw notFound(`No Experiment with id=${experimentId} exists (it is already deleted)`);
      const now = this.h.clock.now();
      await this.h
        .stmt(`UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?`)
        .run(now, row.experiment_id);
      await this.h
        .stmt(
          `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = 'active'`,
        )
        .run(now, row.experiment_id);
    });
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    await this.h.write(async () => {
      const row = await experimentRow(this.h, experimentId);
      if (row.lifecycle_stage !== 'deleted')
        throw notFound(`No deleted Experiment with id=${experimentId} exists (it is active)`);
      const now = this.h.clock.now();
      await this.h
        .stmt(`UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ? WHERE experiment_id = ?`)
        .run(now, row.experiment_id);
      await this.h
        .stmt(
          `UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ? AND lifecycle_stage = 'deleted'`,
        )
        .run(row.experiment_id);
    });
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    validateExperimentName(newName);
    await this.h.write(async () => {
      const row = await experimentRow(this.h, experimentId);
      if (row.lifecycle_stage !== 'active')
        throw new AppError('INVALID_STATE', 'Cannot rename a non-active experiment.');
      const clash = await this.h
        .stmt('SELECT experiment_id FROM experiments WHERE name = ?')
        .get<{ experiment_id: number }>(newName);
      if (clash && clash.experiment_id !== row.experiment_id)
        throw new AppError(
          'RESOURCE_ALREADY_EXISTS',
          `Experiment(name=${newName}) already exists; choose another name.`,
        );
      await this.h
        .stmt('UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?')
        .run(newName, this.h.clock.now(), row.experiment_id);
    });
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    validateKey(key);
    validateLength(value, MAX_EXPERIMENT_TAG_VAL_LENGTH, 'value');
    await this.h.write(async () => {
      const row = await experimentRow(this.h, experimentId);
      if (row.lifecycle_stage !== 'active')
        throw invalid(
          `The experiment ${experimentId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`,
        );
      await this.h
        .stmt('INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)')
        .run(row.experiment_id, key, value);
    });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    await this.h.write(async () => {
      const row = await experimentRow(this.h, experimentId);
      if (row.lifecycle_stage !== 'active')
        throw invalid(
          `The experiment ${experimentId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`,
        );
      const info = await this.h
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
  COALESCE((SELECT json_agg(json_build_array(x.key, x.value) ORDER BY x.key) FROM params x WHERE x.run_uuid = r.run_uuid)::text, '[]'),
  COALESCE((SELECT json_agg(json_build_array(m.key, m.value, m.is_nan, m.timestamp, m.step) ORDER BY m.key) FROM latest_metrics m WHERE m.run_uuid = r.run_uuid)::text, '[]'),
  COALESCE((SELECT json_agg(json_build_array(t.key, t.value) ORDER BY t.key) FROM tags t WHERE t.run_uuid = r.run_uuid)::text, '[]'),
  COALESCE((SELECT json_agg(json_build_array(d.name, d.digest, d.source_type, d.source, d.schema, d.profile, d.tags_json) ORDER BY d.name, d.digest) FROM run_inputs d WHERE d.run_uuid = r.run_uuid)::text, '[]'),
  COALESCE((SELECT json_agg(json_build_array(o.model_id, o.step) ORDER BY o.model_id, o.step) FROM run_outputs o WHERE o.run_uuid = r.run_uuid)::text, '[]')
FROM page p JOIN runs r ON r.run_uuid = p.rid ORDER BY p.pos`;
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
      value: m[2] ? NaN : Number(m[1]),
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
  private async toRun(runId: string): Promise<Run> {
    const row = (
      await this.h.raw(PgRunStore.hydrateSql('SELECT run_uuid AS rid, 1 AS pos FROM runs WHERE run_uuid = ?'), [runId])
    )[0];
    if (!row) throw notFound(`Run with id=${runId} not found`);
    return PgRunStore.runFromRow(row);
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
    return this.h.write(async () => {
      const exp = await experimentRow(this.h, experimentId);
      if (exp.lifecycle_stage !== 'active')
        throw invalid(
          `The experiment ${experimentId} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`,
        );
      const runId = randomUUID().replace(/-/g, '');
      const userId = opts.userId ?? tags.find((t) => t.key === SYSTEM_TAGS.user)?.value ?? '';
      await this.h
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
      for (const t of tags) await ins.run(runId, t.key, truncate(t.value, MAX_TAG_VAL_LENGTH));
      await ins.run(runId, SYSTEM_TAGS.runName, runName);
      return await this.toRun(runId);
    });
  }

  async getRun(runId: string): Promise<Run> {
    return this.h.read(async () => await this.toRun(runId));
  }

  async updateRun(runId: string, opts: UpdateRunOptions): Promise<RunInfo> {
    return this.h.write(async () => {
      const row = await activeRunRow(this.h, runId);
      const status = opts.status ?? row.status;
      const endTime = opts.endTime ?? row.end_time;
      const name = opts.runName || row.name;
      await this.h
        .stmt('UPDATE runs SET status = ?, end_time = ?, name = ? WHERE run_uuid = ?')
        .run(status, endTime, name, runId);
      if (opts.runName)
        await this.h
          .stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)')
          .run(runId, SYSTEM_TAGS.runName, name);
      return this.toRunInfo(await runRow(this.h, runId));
    });
  }

  async deleteRun(runId: string): Promise<void> {
    await this.h.write(async () => {
      await runRow(this.h, runId);
      await this.h
        .stmt(`UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?`)
        .run(this.h.clock.now(), runId);
    });
  }

  async restoreRun(runId: string): Promise<void> {
    await this.h.write(async () => {
      await runRow(this.h, runId);
      await this.h
        .stmt(`UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?`)
        .run(runId);
    });
  }

  async searchRuns(opts: SearchRunsOptions): Promise<Page<Run>> {
    const max = opts.maxResults ?? 1000;
    validateMaxResults(max, SEARCH_MAX_RESULTS_THRESHOLD);
    const ids = opts.experimentIds.filter((id) => /^\d+$/.test(id)).map(Number);
    const scope = runScopeSql(ids, lifecycleStages(opts.viewType), opts.filter);
    const parts = runPartsSql(opts.orderBy, opts.filter, scope, 'r.run_uuid');
    const offset = parsePageToken(opts.pageToken);
    if (ids.length === 0) return { items: [] };
    const rows = await this.h.read(() =>
      collectRunPage(
        parts,
        max,
        offset,
        (p, limit, skip) => this.h.raw(PgRunStore.hydrateSql(p.page.sql), [...p.page.params, limit, skip]),
        async (p) => Number((await this.h.get<{ n: string }>(p.count.sql, ...p.count.params))?.n ?? 0),
      ),
    );
    const page = new Array<Run>(rows.length);
    for (let i = 0; i < rows.length; i++) page[i] = PgRunStore.runFromRow(rows[i]);
    // As MLflow's SQL store: a full page always carries a token, so an exactly full last
    // page is followed by an empty one (clients loop until there is no token).
    return rows.length === max ? { items: page, nextPageToken: createPageToken(offset + max) } : { items: page };
  }

  private async insertMetric(runId: string, m: Metric): Promise<void> {
    const isNan = Number.isNaN(m.value) ? 1 : 0;
    const value = isNan ? 0 : m.value;
    await this.h
      .stmt('INSERT OR IGNORE INTO metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)')
      .run(runId, m.key, value, isNan, m.timestamp, m.step);
    await this.upsertLatest(runId, m);
    if (m.modelId !== undefined) await this.insertModelMetric(runId, m);
  }

  /** Replace the latest value of a key when `m` is larger by (step, timestamp, is_nan, value). */
  private async upsertLatest(runId: string, m: Metric): Promise<void> {
    const isNan = Number.isNaN(m.value) ? 1 : 0;
    const value = isNan ? 0 : m.value;
    await this.h
      .stmt(
        `INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
       WHERE (excluded.step, excluded.timestamp, excluded.is_nan, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.is_nan, latest_metrics.value)`,
      )
      .run(runId, m.key, value, isNan, m.timestamp, m.step);
  }

  private async insertParam(runId: string, p: Param): Promise<void> {
    const value = truncate(p.value, MAX_PARAM_VAL_LENGTH);
    const existing = await this.h
      .stmt('SELECT value FROM params WHERE run_uuid = ? AND key = ?')
      .get<{ value: string }>(runId, p.key);
    if (existing) {
      if (existing.value === value) return;
      throw invalid(
        `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing.value}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
      );
    }
    await this.h.stmt('INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)').run(runId, p.key, value);
  }

  private async insertTag(runId: string, t: Tag): Promise<void> {
    const value = truncate(t.value, MAX_TAG_VAL_LENGTH);
    await this.h.stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)').run(runId, t.key, value);
    if (t.key === SYSTEM_TAGS.runName)
      await this.h.stmt('UPDATE runs SET name = ? WHERE run_uuid = ?').run(value, runId);
  }

  async logMetric(runId: string, metric: Metric): Promise<void> {
    validateMetric(metric);
    await this.h.write(async () => {
      await activeRunRow(this.h, runId);
      await this.insertMetric(runId, metric);
    });
  }

  async logParam(runId: string, param: Param): Promise<void> {
    validateParam(param);
    await this.h.write(async () => {
      await activeRunRow(this.h, runId);
      await this.insertParam(runId, param);
    });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    validateKey(key);
    await this.h.write(async () => {
      await activeRunRow(this.h, runId);
      await this.insertTag(runId, { key, value });
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.h.write(async () => {
      await activeRunRow(this.h, runId);
      const info = await this.h.stmt('DELETE FROM tags WHERE run_uuid = ? AND key = ?').run(runId, key);
      if (info.changes === 0) throw notFound(`No tag with name: ${key} in run with id ${runId}`);
    });
  }

  async logBatch(runId: string, batch: LogBatchOptions): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    validateBatch(metrics, params, tags);
    if (params.length === 0 && tags.length === 0 && metrics.every((m) => m.modelId === undefined)) {
      if (await this.logMetricsOnly(runId, metrics)) return;
      await this.h.read(() => activeRunRow(this.h, runId)); // the run is missing or deleted: say which
    }
    await this.h.write(async () => {
      await activeRunRow(this.h, runId);
      for (const p of params) await this.insertParam(runId, p);
      for (const t of tags) await this.insertTag(runId, t);
      await this.insertMetrics(runId, metrics);
    });
  }

  /**
   * The hot path of training loops (metrics only, no logged model): the active-run check,
   * the history rows and the latest values in ONE statement (data-modifying CTEs; a single
   * statement is atomic by itself), so a batch costs one round trip instead of a
   * transaction's five. Returns false, having written nothing, when the run is not active.
   */
  private async logMetricsOnly(runId: string, metrics: Metric[]): Promise<boolean> {
    await this.h.open();
    if (metrics.length === 0) return (await this.h.read(() => activeRunRow(this.h, runId))) !== undefined;
    const best = new Map<string, Metric>();
    for (const m of metrics) {
      const b = best.get(m.key);
      if (!b || latestOrder(m, b) > 0) best.set(m.key, m);
    }
    const rows = 'unnest(?::text[], ?::float8[], ?::smallint[], ?::bigint[], ?::bigint[])';
    const row = await this.h.read(() =>
      this.h.get<{ ok: boolean }>(
        `WITH run AS (SELECT 1 FROM runs WHERE run_uuid = ? AND lifecycle_stage = 'active'),
         history AS (INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step)
           SELECT ?, u.* FROM ${rows} AS u WHERE EXISTS (SELECT 1 FROM run) ON CONFLICT DO NOTHING),
         latest AS (INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step)
           SELECT ?, u.* FROM ${rows} AS u WHERE EXISTS (SELECT 1 FROM run)
           ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
           WHERE (excluded.step, excluded.timestamp, excluded.is_nan, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.is_nan, latest_metrics.value))
         SELECT EXISTS (SELECT 1 FROM run) AS ok`,
        runId,
        runId,
        ...metricColumns(metrics),
        runId,
        ...metricColumns([...best.values()]),
      ),
    );
    return row?.ok === true;
  }

  /**
   * Insert many points in two statements whatever their number: every point into the
   * history, then the latest value of each key, each as one INSERT ... SELECT FROM unnest()
   * of typed arrays (one round trip each, where a row per statement would be a thousand).
   */
  private async insertMetrics(runId: string, metrics: Metric[]): Promise<void> {
    if (metrics.length === 0) return;
    const cols = metricColumns;
    const rows = 'unnest(?::text[], ?::float8[], ?::smallint[], ?::bigint[], ?::bigint[])';
    await this.h.run(
      `INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step) SELECT ?, u.* FROM ${rows} AS u ON CONFLICT DO NOTHING`,
      runId,
      ...cols(metrics),
    );
    const best = new Map<string, Metric>();
    for (const m of metrics) {
      const b = best.get(m.key);
      if (!b || latestOrder(m, b) > 0) best.set(m.key, m);
    }
    await this.h.run(
      `INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) SELECT ?, u.* FROM ${rows} AS u
       ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
       WHERE (excluded.step, excluded.timestamp, excluded.is_nan, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.is_nan, latest_metrics.value)`,
      runId,
      ...cols([...best.values()]),
    );
    for (const m of metrics) if (m.modelId !== undefined) await this.insertModelMetric(runId, m);
  }

  /** Also record a point against the LoggedModel it evaluates (404 when the model is unknown). */
  private async insertModelMetric(runId: string, m: Metric): Promise<void> {
    const modelId = m.modelId as string;
    await loggedModelRow(this.h, modelId);
    const isNan = Number.isNaN(m.value);
    await this.h
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
    await this.h
      .stmt('UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?')
      .run(this.h.clock.now(), modelId);
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
    await this.h.write(async () => {
      await activeRunRow(this.h, runId);
      const ins = this.h.stmt(
        'INSERT OR REPLACE INTO run_inputs (run_uuid, name, digest, source_type, source, schema, profile, context, tags_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const { dataset: d, tags = [] } of datasets) {
        const context = tags.find((t) => t.key === 'mlflow.data.context')?.value ?? null;
        await ins.run(
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
    await this.h.write(async () => {
      await activeRunRow(this.h, runId);
      const prev = await this.h
        .stmt('SELECT value FROM tags WHERE run_uuid = ? AND key = ?')
        .get<{ value: string }>(runId, SYSTEM_TAGS.logModelHistory);
      let list: unknown[] = [];
      try {
        if (prev) list = JSON.parse(prev.value) as unknown[];
      } catch {
        list = [];
      }
      list.push(model);
      await this.h
        .stmt('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)')
        .run(runId, SYSTEM_TAGS.logModelHistory, JSON.stringify(list));
    });
  }

  async getMetricHistory(runId: string, key: string, opts: MetricHistoryOptions = {}): Promise<Page<Metric>> {
    const offset = parsePageToken(opts.pageToken);
    if (opts.maxResults !== undefined) validateMaxResults(opts.maxResults, Number.MAX_SAFE_INTEGER);
    return this.h.read(async () => {
      await runRow(this.h, runId);
      const limit = opts.maxResults === undefined ? null : opts.maxResults + 1;
      const rows = await this.h
        .stmt(
          'SELECT value, is_nan, timestamp, step FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY timestamp, step, is_nan, value LIMIT ? OFFSET ?',
        )
        .all<MetricRow>(runId, key, limit, offset);
      const max = opts.maxResults ?? rows.length;
      const items = rows.slice(0, max).map((r) => metricFromRow(key, r));
      return rows.length > max ? { items, nextPageToken: createPageToken(offset + max) } : { items };
    });
  }
}

/** A batch of points as the typed arrays the unnest() statements take. */
function metricColumns(ms: Metric[]): unknown[] {
  return [
    ms.map((m) => m.key),
    ms.map((m) => (Number.isNaN(m.value) ? 0 : m.value)),
    ms.map((m) => (Number.isNaN(m.value) ? 1 : 0)),
    ms.map((m) => m.timestamp),
    ms.map((m) => m.step),
  ];
}
