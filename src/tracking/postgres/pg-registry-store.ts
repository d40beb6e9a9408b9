/**
 * The model registry in the PostgreSQL tracking database (MLflow's SqlAlchemyStore for the
 * registry): registered models, versions, stages, aliases and tags. A version's source is
 * checked as MLflow checks it (local paths only inside the run's artifact directory;
 * models:/<model_id> resolves to the logged model's artifact location). Runs on the
 * shared handle of sqlite-db.ts.
 */
import { isAbsolute, normalize } from 'node:path';
import { AppError } from '../../core/errors.js';
import {
  canonicalStage,
  STAGES,
  type ModelVersion,
  type Page,
  type RegisteredModel,
  type Stage,
  type Tag,
} from '../entities.js';
import { createPageToken, parsePageToken } from '../page-token.js';
import type { CreateModelVersionOptions, SearchRegistryOptions, TrackingStoreRegistry } from '../store.js';
import {
  MAX_REGISTRY_TAG_VAL_LENGTH,
  parseVersion,
  SEARCH_MODEL_VERSION_MAX_RESULTS,
  SEARCH_REGISTERED_MODEL_MAX_RESULTS,
  validateAlias,
  validateKey,
  validateLength,
  validateMaxResults,
  validateNonLocalSource,
  validateRegisteredModelName,
} from '../validation.js';
import {
  modelVersionFilterSql,
  modelVersionOrderSql,
  registeredModelFilterSql,
  registeredModelOrderSql,
} from '../sqlite/search-sql.js';
import { mapAsync, type PgDb } from './pg-db.js';
import {
  DELETED_STAGE,
  invalid,
  localPathOf,
  notFound,
  type LoggedModelRow,
  type ModelVersionRow,
  type RegisteredModelRow,
} from './pg-rows.js';

/** Registered models and model versions on one PostgreSQL handle. */
export class PgRegistryStore implements TrackingStoreRegistry {
  constructor(private readonly h: PgDb) {}

  // ------------------------------------------------------------ registry

  private async modelRow(name: string): Promise<RegisteredModelRow> {
    const row = await this.h.stmt('SELECT * FROM registered_models WHERE name = ?').get<RegisteredModelRow>(name);
    if (!row) throw notFound(`Registered Model with name=${name} not found`);
    return row;
  }

  private async versionRow(name: string, version: string): Promise<ModelVersionRow> {
    const n = parseVersion(version);
    const row = await this.h
      .stmt(`SELECT * FROM model_versions WHERE name = ? AND version = ? AND current_stage != '${DELETED_STAGE}'`)
      .get<ModelVersionRow>(name, n);
    if (!row) throw notFound(`Model Version (name=${name}, version=${version}) not found`);
    return row;
  }

  private async toModelVersion(r: ModelVersionRow): Promise<ModelVersion> {
    const tags = await this.h
      .stmt('SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key')
      .all<Tag>(r.name, r.version);
    const aliases = (
      await this.h
        .stmt('SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias')
        .all<{ alias: string }>(r.name, r.version)
    ).map((a) => a.alias);
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

  private async latestVersionRows(name: string, stages: readonly string[]): Promise<ModelVersionRow[]> {
    const out: ModelVersionRow[] = [];
    for (const stage of stages) {
      const row = await this.h
        .stmt('SELECT * FROM model_versions WHERE name = ? AND current_stage = ? ORDER BY version DESC LIMIT 1')
        .get<ModelVersionRow>(name, stage);
      if (row) out.push(row);
    }
    // MLflow 3.5 lists them by version number, ascending (checked against a running server).
    return out.sort((a, b) => a.version - b.version);
  }

  private async toRegisteredModel(r: RegisteredModelRow): Promise<RegisteredModel> {
    const tags = await this.h
      .stmt('SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key')
      .all<Tag>(r.name);
    const aliases = (
      await this.h
        .stmt('SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias')
        .all<{ alias: string; version: number }>(r.name)
    ).map((a) => ({
      alias: a.alias,
      version: String(a.version),
    }));
    const rm: RegisteredModel = {
      name: r.name,
      creationTimestamp: r.creation_time,
      lastUpdatedTimestamp: r.last_updated_time,
      latestVersions: await mapAsync(await this.latestVersionRows(r.name, STAGES), (v) => this.toModelVersion(v)),
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

  private async touchModel(name: string, now: number): Promise<void> {
    await this.h.stmt('UPDATE registered_models SET last_updated_time = ? WHERE name = ?').run(now, name);
  }

  async createRegisteredModel(name: string, tags: Tag[] = [], description?: string): Promise<RegisteredModel> {
    validateRegisteredModelName(name);
    for (const t of tags) this.validateRegistryTag(t.key, t.value);
    return this.h.write(async () => {
      if (await this.h.stmt('SELECT 1 FROM registered_models WHERE name = ?').get(name))
        throw new AppError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
      const now = this.h.clock.now();
      await this.h
        .stmt('INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, ?)')
        .run(name, now, now, description ?? null);
      const ins = this.h.stmt('INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)');
      for (const t of tags) await ins.run(name, t.key, t.value);
      return await this.toRegisteredModel(await this.modelRow(name));
    });
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.h.read(async () => await this.toRegisteredModel(await this.modelRow(name)));
  }

  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    validateRegisteredModelName(newName);
    return this.h.write(async () => {
      await this.modelRow(name);
      if (newName !== name && (await this.h.stmt('SELECT 1 FROM registered_models WHERE name = ?').get(newName)))
        throw new AppError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${newName}) already exists.`);
      const now = this.h.clock.now();
      await this.h
        .stmt('UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?')
        .run(newName, now, name);
      await this.h.stmt('UPDATE model_versions SET last_updated_time = ? WHERE name = ?').run(now, newName);
      return await this.toRegisteredModel(await this.modelRow(newName));
    });
  }

  async updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
    return this.h.write(async () => {
      await this.modelRow(name);
      await this.h
        .stmt('UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?')
        .run(description, this.h.clock.now(), name);
      return await this.toRegisteredModel(await this.modelRow(name));
    });
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    await this.h.write(async () => {
      await this.modelRow(name);
      await this.h.stmt('DELETE FROM model_version_tags WHERE name = ?').run(name);
      await this.h.stmt('DELETE FROM registered_models WHERE name = ?').run(name);
    });
  }

  async searchRegisteredModels(opts: SearchRegistryOptions = {}): Promise<Page<RegisteredModel>> {
    const max = opts.maxResults ?? 100;
    validateMaxResults(max, SEARCH_REGISTERED_MODEL_MAX_RESULTS);
    const where = registeredModelFilterSql(opts.filter);
    const order = registeredModelOrderSql(opts.orderBy);
    const offset = parsePageToken(opts.pageToken);
    return this.h.read(async () => {
      const rows = await this.h
        .stmt(`SELECT rm.* FROM registered_models rm WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
        .all<RegisteredModelRow>(...where.params, max + 1, offset);
      const items = await mapAsync(rows.slice(0, max), (r) => this.toRegisteredModel(r));
      return rows.length > max ? { items, nextPageToken: createPageToken(offset + max) } : { items };
    });
  }

  async getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    const wanted = stages && stages.length ? stages.map((s) => this.stage(s)) : STAGES;
    return this.h.read(async () => {
      await this.modelRow(name);
      return mapAsync(await this.latestVersionRows(name, [...new Set(wanted)]), (r) => this.toModelVersion(r));
    });
  }

  private stage(input: string): Stage {
    const s = canonicalStage(input);
    if (!s) throw invalid(`Invalid Model Version stage: ${input}. Value must be one of ${STAGES.join(', ')}.`);
    return s;
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    this.validateRegistryTag(key, value);
    await this.h.write(async () => {
      await this.modelRow(name);
      await this.h
        .stmt('INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)')
        .run(name, key, value);
    });
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    await this.h.write(async () => {
      await this.modelRow(name);
      await this.h.stmt('DELETE FROM registered_model_tags WHERE name = ? AND key = ?').run(name, key);
    });
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    validateAlias(alias);
    await this.h.write(async () => {
      await this.modelRow(name);
      const row = await this.versionRow(name, version);
      await this.h
        .stmt('INSERT OR REPLACE INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?)')
        .run(name, alias, row.version);
      await this.touchModel(name, this.h.clock.now());
    });
  }

  async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    validateAlias(alias);
    await this.h.write(async () => {
      await this.modelRow(name);
      await this.h.stmt('DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?').run(name, alias);
    });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.h.read(async () => {
      await this.modelRow(name);
      const a = await this.h
        .stmt('SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?')
        .get<{ version: number }>(name, alias);
      if (!a) throw invalid(`Registered model alias ${alias} not found.`);
      return await this.toModelVersion(await this.versionRow(name, String(a.version)));
    });
  }

  private async validateSource(source: string, runId: string | undefined): Promise<void> {
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
    const run = await this.h
      .stmt('SELECT artifact_uri FROM runs WHERE run_uuid = ?')
      .get<{ artifact_uri: string }>(runId);
    const root = run ? localPathOf(run.artifact_uri) : undefined;
    if (!root || !isAbsolute(local)) throw fail();
    const a = normalize(local);
    const b = normalize(root);
    if (a !== b && !a.startsWith(b.endsWith('/') ? b : b + '/')) throw fail();
  }

  async createModelVersion(opts: CreateModelVersionOptions): Promise<ModelVersion> {
    const tags = opts.tags ?? [];
    for (const t of tags) this.validateRegistryTag(t.key, t.value);
    return this.h.write(async () => {
      await this.modelRow(opts.name);
      // A 3.x source models:/<model_id> is stored as given; its storage location (what
      // get-download-uri answers) is the logged model's artifact location, as in MLflow.
      let storage = opts.source;
      // An empty run_id or run_link is stored as sent: MLflow keeps the request's "" and
      // answers it back.
      let runId: string | null = opts.runId ?? null;
      let modelId = opts.modelId || null;
      const m = /^models:\/(m-[0-9a-f]{32})\/?$/.exec(opts.source);
      const logged = m
        ? await this.h
            .stmt(`SELECT * FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'`)
            .get<LoggedModelRow>(m[1])
        : undefined;
      if (logged) {
        storage = logged.artifact_location;
        runId = runId || logged.source_run_id;
        modelId = modelId ?? logged.model_id;
      } else {
        await this.validateSource(opts.source, opts.runId);
      }
      const max = (await this.h.stmt('SELECT MAX(version) AS v FROM model_versions WHERE name = ?').get(opts.name)) as {
        v: number | null;
      };
      const version = (max.v ?? 0) + 1;
      const now = this.h.clock.now();
      await this.h
        .stmt(
          `INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, current_stage, source, storage_location, run_id, run_link, status, model_id)
         VALUES (?, ?, ?, ?, ?, NULL, 'None', ?, ?, ?, ?, 'READY', ?)`,
        )
        .run(
          opts.name,
          version,
          now,
          now,
          opts.description ?? null,
          opts.source,
          storage,
          runId,
          opts.runLink ?? null,
          modelId,
        );
      const ins = this.h.stmt(
        'INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)',
      );
      for (const t of tags) await ins.run(opts.name, version, t.key, t.value);
      await this.touchModel(opts.name, now);
      return await this.toModelVersion(await this.versionRow(opts.name, String(version)));
    });
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return this.h.read(async () => await this.toModelVersion(await this.versionRow(name, version)));
  }

  async updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion> {
    return this.h.write(async () => {
      const row = await this.versionRow(name, version);
      await this.h
        .stmt('UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?')
        .run(description, this.h.clock.now(), name, row.version);
      return await this.toModelVersion(await this.versionRow(name, version));
    });
  }

  async transitionModelVersionStage(
    name: string,
    version: string,
    stage: string,
    archiveExistingVersions: boolean,
  ): Promise<ModelVersion> {
    const target = this.stage(stage);
    if (archiveExistingVersions && target !== 'Staging' && target !== 'Production')
      throw invalid(
        `Model version transition cannot archive existing model versions because '${target}' is not an Active stage. Valid stages are Staging, Production.`,
      );
    return this.h.write(async () => {
      const row = await this.versionRow(name, version);
      const now = this.h.clock.now();
      if (archiveExistingVersions)
        await this.h
          .stmt(
            `UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? WHERE name = ? AND current_stage = ? AND version != ?`,
          )
          .run(now, name, target, row.version);
      await this.h
        .stmt('UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?')
        .run(target, now, name, row.version);
      await this.touchModel(name, now);
      return await this.toModelVersion(await this.versionRow(name, version));
    });
  }

  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.h.write(async () => {
      const row = await this.versionRow(name, version);
      const now = this.h.clock.now();
      await this.h
        .stmt(
          `UPDATE model_versions SET current_stage = '${DELETED_STAGE}', source = 'REDACTED-SOURCE-PATH', storage_location = NULL, run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK', description = NULL, status_message = NULL, last_updated_time = ? WHERE name = ? AND version = ?`,
        )
        .run(now, name, row.version);
      await this.h.stmt('DELETE FROM registered_model_aliases WHERE name = ? AND version = ?').run(name, row.version);
      await this.touchModel(name, now);
    });
  }

  async searchModelVersions(opts: SearchRegistryOptions = {}): Promise<Page<ModelVersion>> {
    const max = opts.maxResults ?? 1000;
    validateMaxResults(max, SEARCH_MODEL_VERSION_MAX_RESULTS);
    const where = modelVersionFilterSql(opts.filter);
    const order = modelVersionOrderSql(opts.orderBy);
    const offset = parsePageToken(opts.pageToken);
    return this.h.read(async () => {
      const rows = await this.h
        .stmt(
          `SELECT mv.* FROM model_versions mv WHERE mv.current_stage != '${DELETED_STAGE}' AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
        )
        .all<ModelVersionRow>(...where.params, max + 1, offset);
      const items = await mapAsync(rows.slice(0, max), (r) => this.toModelVersion(r));
      return rows.length > max ? { items, nextPageToken: createPageToken(offset + max) } : { items };
    });
  }

  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    return this.h.read(async () => {
      const row = await this.versionRow(name, version);
      return row.storage_location ?? row.source;
    });
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    this.validateRegistryTag(key, value);
    await this.h.write(async () => {
      const row = await this.versionRow(name, version);
      await this.h
        .stmt('INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)')
        .run(name, row.version, key, value);
    });
  }

  async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    await this.h.write(async () => {
      const row = await this.versionRow(name, version);
      await this.h
        .stmt('DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?')
        .run(name, row.version, key);
    });
  }
}
