/**
 * Experiments and runs in the SQL tracking database (MLflow's SqlAlchemyStore part for
 * tracking): experiment lifecycle and tags, runs, metrics (history and latest value),
 * params, tags, dataset inputs and the log-model history, with MLflow's SQL-store
 * semantics (spec §2-5), written once for SQLite and PostgreSQL against an engine
 * (engine.ts); where the two differ (JSON aggregation, bulk metric inserts) the engine's
 * dialect says how.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
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
import type { SqlDialect, SqlEngine } from './engine.js';
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
} from './rows.js';
import { collectRunPage, experimentFilterSql, experimentOrderSql, runPartsSql, runScopeSql } from './search-sql.js';
import { all, get, rows, run, searchPage, type Steps } from './steps.js';

/** Is there experiment 0 ("Default")? */
export function* hasDefaultExperiment(): Steps<boolean> {
  return (yield* get('SELECT 1 FROM experiments WHERE experiment_id = 0')) !== undefined;
}

/** Create experiment 0 ("Default"), as MLflow does on a new database's first open. */
export function* createDefaultExperiment(root: string, now: number): Steps<void> {
  yield* run(
    `INSERT OR IGNORE INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?)`,
    joinUri(root, '0'),
    now,
    now,
  );
}

// ------------------------------------------------------------ experiments

function* toExperiment(row: ExperimentRow): Steps<Experiment> {
  const tags = yield* all<Tag>(
    'SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key',
    row.experiment_id,
  );
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

function* activeExperimentRow(experimentId: string): Steps<ExperimentRow> {
  const row = yield* experimentRow(experimentId);
  if (row.lifecycle_stage !== 'active')
    throw invalid(
      `The experiment ${experimentId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`,
    );
  return row;
}

// ------------------------------------------------------------ runs

function toRunInfo(r: RunRow): RunInfo {
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
 * Runs for a page in one statement: `pageSql` selects `(rid, pos)` (the dialect's run key
 * and the position in the page); the outer query joins runs on the key and packs each
 * run's latest metrics, params, tags, inputs and outputs into JSON arrays with one
 * primary-key range scan per child table, so a 1,000-run page is one round trip and 1,000
 * rows instead of ~8,000. Children come in key order, the order MLflow's SQL store gives.
 * Example row:
 *   ['3f2a…', 'gentle-ant-9', 1, '', 'FINISHED', 1700000000000, null, 'active', 's3://…/artifacts',
 *    '[["depth","5"]]', '[["rmse",0.36,0,305,0]]', '[["mlflow.runName","gentle-ant-9"]]', '[]', '[]']
 */
function hydrateSql(d: SqlDialect, pageSql: string): string {
  let byPage = hydrated.get(d);
  if (!byPage) hydrated.set(d, (byPage = new Map<string, string>()));
  let sql = byPage.get(pageSql);
  if (sql === undefined) {
    if (byPage.size >= 256) byPage.clear();
    sql = hydrateText(d, pageSql);
    byPage.set(pageSql, sql);
  }
  return sql;
}

/** hydrateSql's texts by dialect and page query (the same few shapes come back on every search). */
const hydrated = new WeakMap<SqlDialect, Map<string, string>>();

function hydrateText(d: SqlDialect, pageSql: string): string {
  return `WITH page AS MATERIALIZED (${pageSql})
SELECT r.run_uuid, r.name, r.experiment_id, r.user_id, r.status, r.start_time, r.end_time, r.lifecycle_stage, r.artifact_uri,
  ${d.jsonRows('x.key, x.value', 'params x WHERE x.run_uuid = r.run_uuid', 'x.key')},
  ${d.jsonRows('m.key, m.value, m.is_nan, m.timestamp, m.step', 'latest_metrics m WHERE m.run_uuid = r.run_uuid', 'm.key')},
  ${d.jsonRows('t.key, t.value', 'tags t WHERE t.run_uuid = r.run_uuid', 't.key')},
  ${d.jsonRows('d.name, d.digest, d.source_type, d.source, d.schema, d.profile, d.tags_json', 'run_inputs d WHERE d.run_uuid = r.run_uuid', 'd.name, d.digest')},
  ${d.jsonRows('o.model_id, o.step', 'run_outputs o WHERE o.run_uuid = r.run_uuid', 'o.model_id, o.step')}
FROM page p JOIN runs r ON ${d.runKey} = p.rid ORDER BY p.pos`;
}

/** Build a Run from one row of hydrateSql (column order as selected there). */
function runFromRow(row: unknown[]): Run {
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
  // Number(): PostgreSQL's JSON spells infinities as strings.
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
function* toRun(d: SqlDialect, runId: string): Steps<Run> {
  const found = yield* rows(
    hydrateSql(d, `SELECT ${d.runKey} AS rid, 1 AS pos FROM runs r WHERE r.run_uuid = ?`),
    [runId],
    false,
  );
  if (found.length === 0) throw notFound(`Run with id=${runId} not found`);
  return runFromRow(found[0]);
}

/** The latest point of each key in a batch, by MLflow's order (latestOrder). */
function latestPerKey(metrics: readonly Metric[]): Metric[] {
  const best = new Map<string, Metric>();
  for (const m of metrics) {
    const b = best.get(m.key);
    if (!b || latestOrder(m, b) > 0) best.set(m.key, m);
  }
  return [...best.values()];
}

/** Points into the history and the latest values, and against the LoggedModels they evaluate. */
function* insertMetrics(d: SqlDialect, clock: Clock, runId: string, metrics: readonly Metric[]): Steps<void> {
  if (metrics.length === 0) return;
  yield* d.insertMetricHistory(runId, metrics);
  yield* d.upsertLatestMetrics(runId, latestPerKey(metrics));
  for (const m of metrics) if (m.modelId !== undefined) yield* insertModelMetric(clock, runId, m);
}

/** Also record a point against the LoggedModel it evaluates (404 when the model is unknown). */
function* insertModelMetric(clock: Clock, runId: string, m: Metric): Steps<void> {
  const modelId = m.modelId as string;
  yield* loggedModelRow(modelId);
  const isNan = Number.isNaN(m.value);
  yield* run(
    `INSERT OR IGNORE INTO logged_model_metrics (model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
  yield* run('UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?', clock.now(), modelId);
}

function* insertParam(runId: string, p: Param): Steps<void> {
  const value = truncate(p.value, MAX_PARAM_VAL_LENGTH);
  const existing = yield* get<{ value: string }>(
    'SELECT value FROM params WHERE run_uuid = ? AND key = ?',
    runId,
    p.key,
  );
  if (existing) {
    if (existing.value === value) return;
    throw invalid(
      `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing.value}' for run ID='${runId}'. Attempted logging new value '${value}'.`,
    );
  }
  yield* run('INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)', runId, p.key, value);
}

function* setRunTag(runId: string, key: string, value: string): Steps<void> {
  yield* run('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)', runId, key, value);
}

function* insertTag(runId: string, t: Tag): Steps<void> {
  const value = truncate(t.value, MAX_TAG_VAL_LENGTH);
  yield* setRunTag(runId, t.key, value);
  if (t.key === SYSTEM_TAGS.runName) yield* run('UPDATE runs SET name = ? WHERE run_uuid = ?', value, runId);
}

/** Experiments, runs and their data on one engine. */
export class SqlRunStore implements TrackingStoreRuns {
  constructor(private readonly e: SqlEngine) {}

  // ------------------------------------------------------------ experiments

  async createExperiment(name: string, artifactLocation?: string, tags: Tag[] = []): Promise<string> {
    validateExperimentName(name);
    if (artifactLocation) validateArtifactLocation(artifactLocation);
    for (const t of tags) {
      validateKey(t.key);
      validateLength(t.value, MAX_EXPERIMENT_TAG_VAL_LENGTH, 'value');
    }
    const { clock, root } = this.e;
    return this.e.write(function* () {
      if (yield* get('SELECT 1 FROM experiments WHERE name = ?', name))
        throw new AppError(
          'RESOURCE_ALREADY_EXISTS',
          `Experiment(name=${name}) already exists. Error: the name is taken by an active or deleted experiment; choose another name or restore the deleted one.`,
        );
      const now = clock.now();
      const created = yield* get<{ experiment_id: number }>(
        `INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, '', 'active', ?, ?) RETURNING experiment_id`,
        name,
        now,
        now,
      );
      const id = Number(created?.experiment_id);
      yield* run(
        'UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?',
        artifactLocation || joinUri(root, String(id)),
        id,
      );
      for (const t of tags)
        yield* run(
          'INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)',
          id,
          t.key,
          t.value,
        );
      return String(id);
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return this.e.read(function* () {
      return yield* toExperiment(yield* experimentRow(experimentId));
    });
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    return this.e.read(function* () {
      const row = yield* get<ExperimentRow>('SELECT * FROM experiments WHERE name = ?', name);
      if (!row) throw notFound(`Could not find experiment with name '${name}'`);
      return yield* toExperiment(row);
    });
  }

  async searchExperiments(opts: SearchExperimentsOptions = {}): Promise<Page<Experiment>> {
    const max = opts.maxResults ?? 1000;
    validateMaxResults(max, SEARCH_MAX_RESULTS_THRESHOLD);
    const where = experimentFilterSql(opts.filter);
    const order = experimentOrderSql(opts.orderBy);
    const stages = lifecycleStages(opts.viewType);
    return this.e.read(() =>
      searchPage(
        `SELECT e.* FROM experiments e WHERE e.lifecycle_stage IN (${stages.map(() => '?').join(',')}) AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
        [...stages, ...where.params],
        { max, pageToken: opts.pageToken },
        toExperiment,
      ),
    );
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    const { clock } = this.e;
    await this.e.write(function* () {
      const row = yield* experimentRow(experimentId);
      if (row.lifecycle_stage !== 'active')
        throw notFound(`No Experiment with id=${experimentId} exists (it is already deleted)`);
      const now = clock.now();
      yield* run(
        `UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?`,
        now,
        row.experiment_id,
      );
      yield* run(
        `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = 'active'`,
        now,
        row.experiment_id,
      );
    });
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    const { clock } = this.e;
    await this.e.write(function* () {
      const row = yield* experimentRow(experimentId);
      if (row.lifecycle_stage !== 'deleted')
        throw notFound(`No deleted Experiment with id=${experimentId} exists (it is active)`);
      yield* run(
        `UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ? WHERE experiment_id = ?`,
        clock.now(),
        row.experiment_id,
      );
      yield* run(
        `UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ? AND lifecycle_stage = 'deleted'`,
        row.experiment_id,
      );
    });
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    validateExperimentName(newName);
    const { clock } = this.e;
    await this.e.write(function* () {
      const row = yield* experimentRow(experimentId);
      if (row.lifecycle_stage !== 'active')
        throw new AppError('INVALID_STATE', 'Cannot rename a non-active experiment.');
      const clash = yield* get<{ experiment_id: number }>(
        'SELECT experiment_id FROM experiments WHERE name = ?',
        newName,
      );
      if (clash && clash.experiment_id !== row.experiment_id)
        throw new AppError(
          'RESOURCE_ALREADY_EXISTS',
          `Experiment(name=${newName}) already exists; choose another name.`,
        );
      yield* run(
        'UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?',
        newName,
        clock.now(),
        row.experiment_id,
      );
    });
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    validateKey(key);
    validateLength(value, MAX_EXPERIMENT_TAG_VAL_LENGTH, 'value');
    await this.e.write(function* () {
      const row = yield* activeExperimentRow(experimentId);
      yield* run(
        'INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)',
        row.experiment_id,
        key,
        value,
      );
    });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    await this.e.write(function* () {
      const row = yield* activeExperimentRow(experimentId);
      const info = yield* run(
        'DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?',
        row.experiment_id,
        key,
      );
      if (info.changes === 0) throw notFound(`No tag with name: ${key} in experiment with id ${experimentId}`);
    });
  }

  // ------------------------------------------------------------ runs

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
    const { clock, dialect } = this.e;
    return this.e.write(function* () {
      const exp = yield* activeExperimentRow(experimentId);
      const runId = randomUUID().replace(/-/g, '');
      const userId = opts.userId ?? tags.find((t) => t.key === SYSTEM_TAGS.user)?.value ?? '';
      yield* run(
        `INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, lifecycle_stage, artifact_uri) VALUES (?, ?, ?, ?, 'RUNNING', ?, 'active', ?)`,
        runId,
        runName,
        exp.experiment_id,
        userId,
        opts.startTime ?? clock.now(),
        joinUri(exp.artifact_location, runId, 'artifacts'),
      );
      for (const t of tags) yield* setRunTag(runId, t.key, truncate(t.value, MAX_TAG_VAL_LENGTH));
      yield* setRunTag(runId, SYSTEM_TAGS.runName, runName);
      return yield* toRun(dialect, runId);
    });
  }

  async getRun(runId: string): Promise<Run> {
    return this.e.read(() => toRun(this.e.dialect, runId));
  }

  async updateRun(runId: string, opts: UpdateRunOptions): Promise<RunInfo> {
    return this.e.write(function* () {
      const row = yield* activeRunRow(runId);
      const status = opts.status ?? row.status;
      const endTime = opts.endTime ?? row.end_time;
      const name = opts.runName || row.name;
      yield* run('UPDATE runs SET status = ?, end_time = ?, name = ? WHERE run_uuid = ?', status, endTime, name, runId);
      if (opts.runName) yield* setRunTag(runId, SYSTEM_TAGS.runName, name);
      return toRunInfo(yield* runRow(runId));
    });
  }

  async deleteRun(runId: string): Promise<void> {
    const { clock } = this.e;
    await this.e.write(function* () {
      yield* runRow(runId);
      yield* run(
        `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?`,
        clock.now(),
        runId,
      );
    });
  }

  async restoreRun(runId: string): Promise<void> {
    await this.e.write(function* () {
      yield* runRow(runId);
      yield* run(`UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?`, runId);
    });
  }

  async searchRuns(opts: SearchRunsOptions): Promise<Page<Run>> {
    const max = opts.maxResults ?? 1000;
    validateMaxResults(max, SEARCH_MAX_RESULTS_THRESHOLD);
    const d = this.e.dialect;
    const ids = opts.experimentIds.filter((id) => /^\d+$/.test(id)).map(Number);
    const scope = runScopeSql(ids, lifecycleStages(opts.viewType), opts.filter);
    const parts = runPartsSql(opts.orderBy, opts.filter, scope, d.runKey);
    const offset = parsePageToken(opts.pageToken);
    if (ids.length === 0) return { items: [] };
    const found = await this.e.read(() =>
      collectRunPage(
        parts,
        max,
        offset,
        (p, limit, skip) => rows(hydrateSql(d, p.page.sql), [...p.page.params, limit, skip], true),
        function* (p) {
          return Number((yield* rows(p.count.sql, p.count.params, true))[0][0]);
        },
      ),
    );
    const page = new Array<Run>(found.length);
    for (let i = 0; i < found.length; i++) page[i] = runFromRow(found[i]);
    // As MLflow's SQL store: a full page always carries a token, so an exactly full last
    // page is followed by an empty one (clients loop until there is no token).
    return found.length === max ? { items: page, nextPageToken: createPageToken(offset + max) } : { items: page };
  }

  async logMetric(runId: string, metric: Metric): Promise<void> {
    validateMetric(metric);
    const { clock, dialect } = this.e;
    await this.e.write(function* () {
      yield* activeRunRow(runId);
      yield* insertMetrics(dialect, clock, runId, [metric]);
    });
  }

  async logParam(runId: string, param: Param): Promise<void> {
    validateParam(param);
    await this.e.write(function* () {
      yield* activeRunRow(runId);
      yield* insertParam(runId, param);
    });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    validateKey(key);
    await this.e.write(function* () {
      yield* activeRunRow(runId);
      yield* insertTag(runId, { key, value });
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.e.write(function* () {
      yield* activeRunRow(runId);
      const info = yield* run('DELETE FROM tags WHERE run_uuid = ? AND key = ?', runId, key);
      if (info.changes === 0) throw notFound(`No tag with name: ${key} in run with id ${runId}`);
    });
  }

  async logBatch(runId: string, batch: LogBatchOptions): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    validateBatch(metrics, params, tags);
    const { clock, dialect } = this.e;
    // The hot path of training loops where the backend has one: plain points in one statement.
    const { logMetricsOnly } = dialect;
    if (logMetricsOnly && params.length === 0 && tags.length === 0 && metrics.every((m) => m.modelId === undefined)) {
      if (await this.e.read(() => logMetricsOnly(runId, metrics, latestPerKey(metrics)))) return;
      await this.e.read(() => activeRunRow(runId)); // the run is missing or deleted: say which
    }
    await this.e.write(function* () {
      yield* activeRunRow(runId);
      for (const p of params) yield* insertParam(runId, p);
      for (const t of tags) yield* insertTag(runId, t);
      yield* insertMetrics(dialect, clock, runId, metrics);
    });
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
    await this.e.write(function* () {
      yield* activeRunRow(runId);
      for (const { dataset: d, tags = [] } of datasets) {
        const context = tags.find((t) => t.key === 'mlflow.data.context')?.value ?? null;
        yield* run(
          'INSERT OR REPLACE INTO run_inputs (run_uuid, name, digest, source_type, source, schema, profile, context, tags_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
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
    await this.e.write(function* () {
      yield* activeRunRow(runId);
      const prev = yield* get<{ value: string }>(
        'SELECT value FROM tags WHERE run_uuid = ? AND key = ?',
        runId,
        SYSTEM_TAGS.logModelHistory,
      );
      let list: unknown[] = [];
      try {
        if (prev) list = JSON.parse(prev.value) as unknown[];
      } catch {
        list = [];
      }
      list.push(model);
      yield* setRunTag(runId, SYSTEM_TAGS.logModelHistory, JSON.stringify(list));
    });
  }

  async getMetricHistory(runId: string, key: string, opts: MetricHistoryOptions = {}): Promise<Page<Metric>> {
    const offset = parsePageToken(opts.pageToken);
    if (opts.maxResults !== undefined) validateMaxResults(opts.maxResults, Number.MAX_SAFE_INTEGER);
    const { dialect } = this.e;
    return this.e.read(function* () {
      yield* runRow(runId);
      const limit = opts.maxResults === undefined ? dialect.noLimit : opts.maxResults + 1;
      const points = yield* all<MetricRow>(
        'SELECT value, is_nan, timestamp, step FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY timestamp, step, is_nan, value LIMIT ? OFFSET ?',
        runId,
        key,
        limit,
        offset,
      );
      const max = opts.maxResults ?? points.length;
      const items = points.slice(0, max).map((r) => metricFromRow(key, r));
      return points.length > max ? { items, nextPageToken: createPageToken(offset + max) } : { items };
    });
  }
}
