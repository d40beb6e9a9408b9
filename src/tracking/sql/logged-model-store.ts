/**
 * MLflow 3.x LoggedModels in the SQL tracking database (spec §2.7): create, finalize,
 * search, tags, write-once params and run outputs, written once for SQLite and PostgreSQL
 * against an engine (engine.ts); a logged model belongs to an experiment and may name its
 * source run.
 */
import { randomUUID } from 'node:crypto';
import type { LoggedModel, LoggedModelStatus, Page, Param, Tag } from '../entities.js';
import { parsePageToken } from '../page-token.js';
import { randomRunName } from '../run-name.js';
import type { CreateLoggedModelOptions, SearchLoggedModelsOptions, TrackingStoreLoggedModels } from '../store.js';
import {
  MAX_PARAM_VAL_LENGTH,
  MAX_TAG_VAL_LENGTH,
  SEARCH_MAX_RESULTS_THRESHOLD,
  truncate,
  validateMaxResults,
  validateParam,
  validateTag,
} from '../validation.js';
import type { SqlEngine } from './engine.js';
import {
  activeRunRow,
  experimentRow,
  invalid,
  joinUri,
  loggedModelRow,
  metricFromRow,
  notFound,
  runRow,
  type LoggedModelRow,
  type MetricRow,
} from './rows.js';
import { loggedModelFilterSql, loggedModelOrderSql } from './search-sql.js';
import { all, get, run, searchPage, type Steps } from './steps.js';

type ModelMetricRow = MetricRow & { run_uuid: string; dataset_name: string; dataset_digest: string };

function* toLoggedModel(r: LoggedModelRow): Steps<LoggedModel> {
  const m: LoggedModel = {
    modelId: r.model_id,
    experimentId: String(r.experiment_id),
    name: r.name,
    artifactLocation: r.artifact_location,
    creationTimestampMs: r.creation_time,
    lastUpdatedTimestampMs: r.last_updated_time,
    status: r.status,
    tags: yield* all<Tag>('SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key', r.model_id),
    params: yield* all<Param>('SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key', r.model_id),
    metrics: (yield* all<ModelMetricRow>(
      'SELECT key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest FROM logged_model_metrics WHERE model_id = ? ORDER BY key, step, timestamp, value',
      r.model_id,
    )).map((x) => {
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

function* loggedModel(modelId: string): Steps<LoggedModel> {
  return yield* toLoggedModel(yield* loggedModelRow(modelId));
}

function* insertLoggedModelParams(modelId: string, params: Param[]): Steps<void> {
  for (const p of params) {
    const value = truncate(p.value, MAX_PARAM_VAL_LENGTH);
    const existing = yield* get<{ value: string }>(
      'SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?',
      modelId,
      p.key,
    );
    if (existing) {
      if (existing.value === value) continue;
      throw invalid(
        `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing.value}' for logged model ID='${modelId}'. Attempted logging new value '${value}'.`,
      );
    }
    yield* run('INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?)', modelId, p.key, value);
  }
}

function* insertTags(modelId: string, tags: Tag[]): Steps<void> {
  for (const t of tags)
    yield* run(
      'INSERT OR REPLACE INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?)',
      modelId,
      t.key,
      truncate(t.value, MAX_TAG_VAL_LENGTH),
    );
}

/** LoggedModels, their tags, params and metrics, on one engine. */
export class SqlLoggedModelStore implements TrackingStoreLoggedModels {
  constructor(private readonly e: SqlEngine) {}

  async createLoggedModel(opts: CreateLoggedModelOptions): Promise<LoggedModel> {
    for (const p of opts.params ?? []) validateParam(p);
    for (const t of opts.tags ?? []) validateTag(t);
    const { clock } = this.e;
    return this.e.write(function* () {
      const exp = yield* experimentRow(opts.experimentId);
      if (exp.lifecycle_stage !== 'active')
        throw invalid(
          `The experiment ${opts.experimentId} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`,
        );
      if (opts.sourceRunId) yield* runRow(opts.sourceRunId);
      const modelId = `m-${randomUUID().replace(/-/g, '')}`;
      const now = clock.now();
      yield* run(
        `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_time, last_updated_time, status, model_type, source_run_id)
         VALUES (?, ?, ?, ?, ?, ?, 'LOGGED_MODEL_PENDING', ?, ?)`,
        modelId,
        exp.experiment_id,
        opts.name || randomRunName(),
        joinUri(exp.artifact_location, 'models', modelId, 'artifacts'),
        now,
        now,
        opts.modelType ?? null,
        opts.sourceRunId || null,
      );
      yield* insertTags(modelId, opts.tags ?? []);
      yield* insertLoggedModelParams(modelId, opts.params ?? []);
      return yield* loggedModel(modelId);
    });
  }

  async finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel> {
    if (status !== 'LOGGED_MODEL_READY' && status !== 'LOGGED_MODEL_UPLOAD_FAILED' && status !== 'LOGGED_MODEL_PENDING')
      throw invalid(
        `Invalid status '${status}' for a logged model; use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.`,
      );
    const { clock } = this.e;
    return this.e.write(function* () {
      yield* loggedModelRow(modelId);
      yield* run(
        'UPDATE logged_models SET status = ?, last_updated_time = ? WHERE model_id = ?',
        status,
        clock.now(),
        modelId,
      );
      return yield* loggedModel(modelId);
    });
  }

  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    return this.e.read(() => loggedModel(modelId));
  }

  async deleteLoggedModel(modelId: string): Promise<void> {
    const { clock } = this.e;
    await this.e.write(function* () {
      yield* loggedModelRow(modelId);
      yield* run(
        `UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_time = ? WHERE model_id = ?`,
        clock.now(),
        modelId,
      );
    });
  }

  async searchLoggedModels(opts: SearchLoggedModelsOptions): Promise<Page<LoggedModel>> {
    const max = opts.maxResults ?? 50;
    validateMaxResults(max, SEARCH_MAX_RESULTS_THRESHOLD);
    const where = loggedModelFilterSql(opts.filter);
    const order = loggedModelOrderSql(opts.orderBy);
    const ids = opts.experimentIds.filter((id) => /^\d+$/.test(id)).map(Number);
    if (ids.length === 0) {
      parsePageToken(opts.pageToken);
      return { items: [] };
    }
    return this.e.read(() =>
      searchPage(
        `SELECT lm.* FROM logged_models lm WHERE lm.experiment_id IN (${ids.map(() => '?').join(',')}) AND lm.lifecycle_stage = 'active' ` +
          `AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
        [...ids, ...where.params],
        { max, pageToken: opts.pageToken },
        toLoggedModel,
      ),
    );
  }

  async setLoggedModelTags(modelId: string, tags: Tag[]): Promise<LoggedModel> {
    for (const t of tags) validateTag(t);
    const { clock } = this.e;
    return this.e.write(function* () {
      yield* loggedModelRow(modelId);
      yield* insertTags(modelId, tags);
      yield* run('UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?', clock.now(), modelId);
      return yield* loggedModel(modelId);
    });
  }

  async deleteLoggedModelTag(modelId: string, key: string): Promise<void> {
    await this.e.write(function* () {
      yield* loggedModelRow(modelId);
      const info = yield* run('DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?', modelId, key);
      if (info.changes === 0) throw notFound(`No tag with key '${key}' found for logged model with ID '${modelId}'.`);
    });
  }

  async logLoggedModelParams(modelId: string, params: Param[]): Promise<void> {
    for (const p of params) validateParam(p);
    await this.e.write(function* () {
      yield* loggedModelRow(modelId);
      yield* insertLoggedModelParams(modelId, params);
    });
  }

  async logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    await this.e.write(function* () {
      yield* activeRunRow(runId);
      for (const m of models) {
        yield* loggedModelRow(m.modelId);
        yield* run(
          'INSERT OR IGNORE INTO run_outputs (run_uuid, model_id, step) VALUES (?, ?, ?)',
          runId,
          m.modelId,
          m.step,
        );
      }
    });
  }
}
