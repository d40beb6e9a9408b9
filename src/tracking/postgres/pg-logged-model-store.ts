/**
 * MLflow 3.x LoggedModels in the PostgreSQL tracking database (spec §2.7): create, finalize,
 * search, tags, write-once params and run outputs. Runs on the shared handle of
 * sqlite-db.ts; a logged model belongs to an experiment and may name its source run.
 */
import { randomUUID } from 'node:crypto';
import type { LoggedModel, LoggedModelStatus, Page, Param, Tag } from '../entities.js';
import { createPageToken, parsePageToken } from '../page-token.js';
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
import { loggedModelFilterSql, loggedModelOrderSql } from '../sqlite/search-sql.js';
import type { PgDb } from './pg-db.js';
import { mapAsync } from './pg-db.js';
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
} from './pg-rows.js';

/** LoggedModels, their tags, params and metrics, on one PostgreSQL handle. */
export class PgLoggedModelStore implements TrackingStoreLoggedModels {
  constructor(private readonly h: PgDb) {}

  // ------------------------------------------------------------ logged models (MLflow 3.x)

  private async toLoggedModel(r: LoggedModelRow): Promise<LoggedModel> {
    const m: LoggedModel = {
      modelId: r.model_id,
      experimentId: String(r.experiment_id),
      name: r.name,
      artifactLocation: r.artifact_location,
      creationTimestampMs: r.creation_time,
      lastUpdatedTimestampMs: r.last_updated_time,
      status: r.status,
      tags: await this.h
        .stmt('SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key')
        .all<Tag>(r.model_id),
      params: await this.h
        .stmt('SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key')
        .all<Param>(r.model_id),
      metrics: (
        await this.h
          .stmt(
            'SELECT key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest FROM logged_model_metrics WHERE model_id = ? ORDER BY key, step, timestamp, value',
          )
          .all<MetricRow & { run_uuid: string; dataset_name: string; dataset_digest: string }>(r.model_id)
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

  private async insertLoggedModelParams(modelId: string, params: Param[]): Promise<void> {
    for (const p of params) {
      const value = truncate(p.value, MAX_PARAM_VAL_LENGTH);
      const existing = await this.h
        .stmt('SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?')
        .get<{ value: string }>(modelId, p.key);
      if (existing) {
        if (existing.value === value) continue;
        throw invalid(
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing.value}' for logged model ID='${modelId}'. Attempted logging new value '${value}'.`,
        );
      }
      await this.h
        .stmt('INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?)')
        .run(modelId, p.key, value);
    }
  }

  async createLoggedModel(opts: CreateLoggedModelOptions): Promise<LoggedModel> {
    for (const p of opts.params ?? []) validateParam(p);
    for (const t of opts.tags ?? []) validateTag(t);
    return this.h.write(async () => {
      const exp = await experimentRow(this.h, opts.experimentId);
      if (exp.lifecycle_stage !== 'active')
        throw invalid(
          `The experiment ${opts.experimentId} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`,
        );
      if (opts.sourceRunId) await runRow(this.h, opts.sourceRunId);
      const modelId = `m-${randomUUID().replace(/-/g, '')}`;
      const now = this.h.clock.now();
      await this.h
        .stmt(
          `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_time, last_updated_time, status, model_type, source_run_id)
         VALUES (?, ?, ?, ?, ?, ?, 'LOGGED_MODEL_PENDING', ?, ?)`,
        )
        .run(
          modelId,
          exp.experiment_id,
          opts.name || randomRunName(),
          joinUri(exp.artifact_location, 'models', modelId, 'artifacts'),
          now,
          now,
          opts.modelType ?? null,
          opts.sourceRunId || null,
        );
      const tag = this.h.stmt('INSERT OR REPLACE INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?)');
      for (const t of opts.tags ?? []) await tag.run(modelId, t.key, truncate(t.value, MAX_TAG_VAL_LENGTH));
      await this.insertLoggedModelParams(modelId, opts.params ?? []);
      return await this.toLoggedModel(await loggedModelRow(this.h, modelId));
    });
  }

  async finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel> {
    if (status !== 'LOGGED_MODEL_READY' && status !== 'LOGGED_MODEL_UPLOAD_FAILED' && status !== 'LOGGED_MODEL_PENDING')
      throw invalid(
        `Invalid status '${status}' for a logged model; use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.`,
      );
    return this.h.write(async () => {
      await loggedModelRow(this.h, modelId);
      await this.h
        .stmt('UPDATE logged_models SET status = ?, last_updated_time = ? WHERE model_id = ?')
        .run(status, this.h.clock.now(), modelId);
      return await this.toLoggedModel(await loggedModelRow(this.h, modelId));
    });
  }

  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    return this.h.read(async () => await this.toLoggedModel(await loggedModelRow(this.h, modelId)));
  }

  async deleteLoggedModel(modelId: string): Promise<void> {
    await this.h.write(async () => {
      await loggedModelRow(this.h, modelId);
      await this.h
        .stmt(`UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_time = ? WHERE model_id = ?`)
        .run(this.h.clock.now(), modelId);
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
    return this.h.read(async () => {
      const sql =
        `SELECT lm.* FROM logged_models lm WHERE lm.experiment_id IN (${ids.map(() => '?').join(',')}) AND lm.lifecycle_stage = 'active' ` +
        `AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`;
      const rows = await this.h.stmt(sql).all<LoggedModelRow>(...ids, ...where.params, max + 1, offset);
      const page = await mapAsync(rows.slice(0, max), (r) => this.toLoggedModel(r));
      return rows.length > max ? { items: page, nextPageToken: createPageToken(offset + max) } : { items: page };
    });
  }

  async setLoggedModelTags(modelId: string, tags: Tag[]): Promise<LoggedModel> {
    for (const t of tags) validateTag(t);
    return this.h.write(async () => {
      await loggedModelRow(this.h, modelId);
      const ins = this.h.stmt('INSERT OR REPLACE INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?)');
      for (const t of tags) await ins.run(modelId, t.key, truncate(t.value, MAX_TAG_VAL_LENGTH));
      await this.h
        .stmt('UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?')
        .run(this.h.clock.now(), modelId);
      return await this.toLoggedModel(await loggedModelRow(this.h, modelId));
    });
  }

  async deleteLoggedModelTag(modelId: string, key: string): Promise<void> {
    await this.h.write(async () => {
      await loggedModelRow(this.h, modelId);
      const info = await this.h.stmt('DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?').run(modelId, key);
      if (info.changes === 0) throw notFound(`No tag with key '${key}' found for logged model with ID '${modelId}'.`);
    });
  }

  async logLoggedModelParams(modelId: string, params: Param[]): Promise<void> {
    for (const p of params) validateParam(p);
    await this.h.write(async () => {
      await loggedModelRow(this.h, modelId);
      await this.insertLoggedModelParams(modelId, params);
    });
  }

  async logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    await this.h.write(async () => {
      await activeRunRow(this.h, runId);
      const ins = this.h.stmt('INSERT OR IGNORE INTO run_outputs (run_uuid, model_id, step) VALUES (?, ?, ?)');
      for (const m of models) {
        await loggedModelRow(this.h, m.modelId);
        await ins.run(runId, m.modelId, m.step);
      }
    });
  }
}
