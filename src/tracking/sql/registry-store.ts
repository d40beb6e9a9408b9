/**
 * The model registry in the SQL tracking database (MLflow's SqlAlchemyStore for the
 * registry): registered models, versions, stages, aliases and tags, written once for
 * SQLite and PostgreSQL against an engine (engine.ts). A version's source is checked as
 * MLflow checks it (local paths only inside the run's artifact directory;
 * models:/<model_id> resolves to the logged model's artifact location).
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
import type { SqlEngine } from './engine.js';
import {
  DELETED_STAGE,
  invalid,
  localPathOf,
  notFound,
  type LoggedModelRow,
  type ModelVersionRow,
  type RegisteredModelRow,
} from './rows.js';
import {
  modelVersionFilterSql,
  modelVersionOrderSql,
  registeredModelFilterSql,
  registeredModelOrderSql,
} from './search-sql.js';
import { all, get, mapSteps, run, searchPage, type Steps } from './steps.js';

function* modelRow(name: string): Steps<RegisteredModelRow> {
  const row = yield* get<RegisteredModelRow>('SELECT * FROM registered_models WHERE name = ?', name);
  if (!row) throw notFound(`Registered Model with name=${name} not found`);
  return row;
}

function* versionRow(name: string, version: string): Steps<ModelVersionRow> {
  const n = parseVersion(version);
  const row = yield* get<ModelVersionRow>(
    `SELECT * FROM model_versions WHERE name = ? AND version = ? AND current_stage != '${DELETED_STAGE}'`,
    name,
    n,
  );
  if (!row) throw notFound(`Model Version (name=${name}, version=${version}) not found`);
  return row;
}

function* toModelVersion(r: ModelVersionRow): Steps<ModelVersion> {
  const tags = yield* all<Tag>(
    'SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key',
    r.name,
    r.version,
  );
  const aliases = (yield* all<{ alias: string }>(
    'SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias',
    r.name,
    r.version,
  )).map((a) => a.alias);
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

function* modelVersion(name: string, version: string): Steps<ModelVersion> {
  return yield* toModelVersion(yield* versionRow(name, version));
}

function* latestVersionRows(name: string, stages: readonly string[]): Steps<ModelVersionRow[]> {
  const out: ModelVersionRow[] = [];
  for (const stage of stages) {
    const row = yield* get<ModelVersionRow>(
      'SELECT * FROM model_versions WHERE name = ? AND current_stage = ? ORDER BY version DESC LIMIT 1',
      name,
      stage,
    );
    if (row) out.push(row);
  }
  // MLflow 3.5 lists them by version number, ascending (checked against a running server).
  return out.sort((a, b) => a.version - b.version);
}

function* toRegisteredModel(r: RegisteredModelRow): Steps<RegisteredModel> {
  const tags = yield* all<Tag>('SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key', r.name);
  const aliases = (yield* all<{ alias: string; version: number }>(
    'SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias',
    r.name,
  )).map((a) => ({ alias: a.alias, version: String(a.version) }));
  const rm: RegisteredModel = {
    name: r.name,
    creationTimestamp: r.creation_time,
    lastUpdatedTimestamp: r.last_updated_time,
    latestVersions: yield* mapSteps(yield* latestVersionRows(r.name, STAGES), toModelVersion),
    tags,
    aliases,
  };
  if (r.description !== null) rm.description = r.description;
  return rm;
}

function* registeredModel(name: string): Steps<RegisteredModel> {
  return yield* toRegisteredModel(yield* modelRow(name));
}

function validateRegistryTag(key: string, value: string): void {
  validateKey(key);
  validateLength(value, MAX_REGISTRY_TAG_VAL_LENGTH, 'value');
}

function* touchModel(name: string, now: number): Steps<void> {
  yield* run('UPDATE registered_models SET last_updated_time = ? WHERE name = ?', now, name);
}

function stageOf(input: string): Stage {
  const s = canonicalStage(input);
  if (!s) throw invalid(`Invalid Model Version stage: ${input}. Value must be one of ${STAGES.join(', ')}.`);
  return s;
}

function* validateSource(source: string, runId: string | undefined): Steps<void> {
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
  const run = yield* get<{ artifact_uri: string }>('SELECT artifact_uri FROM runs WHERE run_uuid = ?', runId);
  const root = run ? localPathOf(run.artifact_uri) : undefined;
  if (!root || !isAbsolute(local)) throw fail();
  const a = normalize(local);
  const b = normalize(root);
  if (a !== b && !a.startsWith(b.endsWith('/') ? b : b + '/')) throw fail();
}

/** Registered models and model versions on one engine. */
export class SqlRegistryStore implements TrackingStoreRegistry {
  constructor(private readonly e: SqlEngine) {}

  async createRegisteredModel(name: string, tags: Tag[] = [], description?: string): Promise<RegisteredModel> {
    validateRegisteredModelName(name);
    for (const t of tags) validateRegistryTag(t.key, t.value);
    const { clock } = this.e;
    return this.e.write(function* () {
      if (yield* get('SELECT 1 FROM registered_models WHERE name = ?', name))
        throw new AppError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
      const now = clock.now();
      yield* run(
        'INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, ?)',
        name,
        now,
        now,
        description ?? null,
      );
      for (const t of tags)
        yield* run(
          'INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)',
          name,
          t.key,
          t.value,
        );
      return yield* registeredModel(name);
    });
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.e.read(() => registeredModel(name));
  }

  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    validateRegisteredModelName(newName);
    const { clock } = this.e;
    return this.e.write(function* () {
      yield* modelRow(name);
      if (newName !== name && (yield* get('SELECT 1 FROM registered_models WHERE name = ?', newName)))
        throw new AppError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${newName}) already exists.`);
      const now = clock.now();
      yield* run('UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?', newName, now, name);
      yield* run('UPDATE model_versions SET last_updated_time = ? WHERE name = ?', now, newName);
      return yield* registeredModel(newName);
    });
  }

  async updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
    const { clock } = this.e;
    return this.e.write(function* () {
      yield* modelRow(name);
      yield* run(
        'UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?',
        description,
        clock.now(),
        name,
      );
      return yield* registeredModel(name);
    });
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    await this.e.write(function* () {
      yield* modelRow(name);
      yield* run('DELETE FROM model_version_tags WHERE name = ?', name);
      yield* run('DELETE FROM registered_models WHERE name = ?', name);
    });
  }

  async searchRegisteredModels(opts: SearchRegistryOptions = {}): Promise<Page<RegisteredModel>> {
    const max = opts.maxResults ?? 100;
    validateMaxResults(max, SEARCH_REGISTERED_MODEL_MAX_RESULTS);
    const where = registeredModelFilterSql(opts.filter);
    const order = registeredModelOrderSql(opts.orderBy);
    return this.e.read(() =>
      searchPage(
        `SELECT rm.* FROM registered_models rm WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
        where.params,
        { max, pageToken: opts.pageToken },
        toRegisteredModel,
      ),
    );
  }

  async getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    const wanted = stages && stages.length ? stages.map(stageOf) : STAGES;
    return this.e.read(function* () {
      yield* modelRow(name);
      return yield* mapSteps(yield* latestVersionRows(name, [...new Set(wanted)]), toModelVersion);
    });
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    validateRegistryTag(key, value);
    await this.e.write(function* () {
      yield* modelRow(name);
      yield* run('INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)', name, key, value);
    });
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    await this.e.write(function* () {
      yield* modelRow(name);
      yield* run('DELETE FROM registered_model_tags WHERE name = ? AND key = ?', name, key);
    });
  }

  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    validateAlias(alias);
    const { clock } = this.e;
    await this.e.write(function* () {
      yield* modelRow(name);
      const row = yield* versionRow(name, version);
      yield* run(
        'INSERT OR REPLACE INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?)',
        name,
        alias,
        row.version,
      );
      yield* touchModel(name, clock.now());
    });
  }

  async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    validateAlias(alias);
    await this.e.write(function* () {
      yield* modelRow(name);
      yield* run('DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?', name, alias);
    });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.e.read(function* () {
      yield* modelRow(name);
      const a = yield* get<{ version: number }>(
        'SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?',
        name,
        alias,
      );
      if (!a) throw invalid(`Registered model alias ${alias} not found.`);
      return yield* modelVersion(name, String(a.version));
    });
  }

  async createModelVersion(opts: CreateModelVersionOptions): Promise<ModelVersion> {
    const tags = opts.tags ?? [];
    for (const t of tags) validateRegistryTag(t.key, t.value);
    const { clock } = this.e;
    return this.e.write(function* () {
      yield* modelRow(opts.name);
      // A 3.x source models:/<model_id> is stored as given; its storage location (what
      // get-download-uri answers) is the logged model's artifact location, as in MLflow.
      let storage = opts.source;
      // An empty run_id or run_link is stored as sent: MLflow keeps the request's "" and
      // answers it back.
      let runId: string | null = opts.runId ?? null;
      let modelId = opts.modelId || null;
      const m = /^models:\/(m-[0-9a-f]{32})\/?$/.exec(opts.source);
      const logged = m
        ? yield* get<LoggedModelRow>(
            `SELECT * FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'`,
            m[1],
          )
        : undefined;
      if (logged) {
        storage = logged.artifact_location;
        runId = runId || logged.source_run_id;
        modelId = modelId ?? logged.model_id;
      } else {
        yield* validateSource(opts.source, opts.runId);
      }
      const max = yield* get<{ v: number | null }>(
        'SELECT MAX(version) AS v FROM model_versions WHERE name = ?',
        opts.name,
      );
      const version = (max?.v ?? 0) + 1;
      const now = clock.now();
      yield* run(
        `INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, current_stage, source, storage_location, run_id, run_link, status, model_id)
         VALUES (?, ?, ?, ?, ?, NULL, 'None', ?, ?, ?, ?, 'READY', ?)`,
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
      for (const t of tags)
        yield* run(
          'INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)',
          opts.name,
          version,
          t.key,
          t.value,
        );
      yield* touchModel(opts.name, now);
      return yield* modelVersion(opts.name, String(version));
    });
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return this.e.read(() => modelVersion(name, version));
  }

  async updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion> {
    const { clock } = this.e;
    return this.e.write(function* () {
      const row = yield* versionRow(name, version);
      yield* run(
        'UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?',
        description,
        clock.now(),
        name,
        row.version,
      );
      return yield* modelVersion(name, version);
    });
  }

  async transitionModelVersionStage(
    name: string,
    version: string,
    stage: string,
    archiveExistingVersions: boolean,
  ): Promise<ModelVersion> {
    const target = stageOf(stage);
    if (archiveExistingVersions && target !== 'Staging' && target !== 'Production')
      throw invalid(
        `Model version transition cannot archive existing model versions because '${target}' is not an Active stage. Valid stages are Staging, Production.`,
      );
    const { clock } = this.e;
    return this.e.write(function* () {
      const row = yield* versionRow(name, version);
      const now = clock.now();
      if (archiveExistingVersions)
        yield* run(
          `UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? WHERE name = ? AND current_stage = ? AND version != ?`,
          now,
          name,
          target,
          row.version,
        );
      yield* run(
        'UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?',
        target,
        now,
        name,
        row.version,
      );
      yield* touchModel(name, now);
      return yield* modelVersion(name, version);
    });
  }

  async deleteModelVersion(name: string, version: string): Promise<void> {
    const { clock } = this.e;
    await this.e.write(function* () {
      const row = yield* versionRow(name, version);
      const now = clock.now();
      yield* run(
        `UPDATE model_versions SET current_stage = '${DELETED_STAGE}', source = 'REDACTED-SOURCE-PATH', storage_location = NULL, run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK', description = NULL, status_message = NULL, last_updated_time = ? WHERE name = ? AND version = ?`,
        now,
        name,
        row.version,
      );
      yield* run('DELETE FROM registered_model_aliases WHERE name = ? AND version = ?', name, row.version);
      yield* touchModel(name, now);
    });
  }

  async searchModelVersions(opts: SearchRegistryOptions = {}): Promise<Page<ModelVersion>> {
    const max = opts.maxResults ?? 1000;
    validateMaxResults(max, SEARCH_MODEL_VERSION_MAX_RESULTS);
    const where = modelVersionFilterSql(opts.filter);
    const order = modelVersionOrderSql(opts.orderBy);
    return this.e.read(() =>
      searchPage(
        `SELECT mv.* FROM model_versions mv WHERE mv.current_stage != '${DELETED_STAGE}' AND ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
        where.params,
        { max, pageToken: opts.pageToken },
        toModelVersion,
      ),
    );
  }

  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    return this.e.read(function* () {
      const row = yield* versionRow(name, version);
      return row.storage_location ?? row.source;
    });
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    validateRegistryTag(key, value);
    await this.e.write(function* () {
      const row = yield* versionRow(name, version);
      yield* run(
        'INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)',
        name,
        row.version,
        key,
        value,
      );
    });
  }

  async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    await this.e.write(function* () {
      const row = yield* versionRow(name, version);
      yield* run('DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?', name, row.version, key);
    });
  }
}
