/**
 * Versioned schema migrations for the embedded SQLite tracking store. The schema version
 * lives in `PRAGMA user_version`; each migration runs once, in an immediate transaction, so
 * several processes opening a fresh database at once agree on one schema. A database made
 * by a newer carprice is refused rather than guessed at. schema-snapshot.sql holds the
 * resulting schema; migrations.test.ts fails when the two drift apart.
 */
import type Database from 'better-sqlite3';
import { AppError } from '../../core/errors.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** Every migration, oldest first. Never edit a released one: append a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'experiments, runs, metrics, params, tags, inputs, registry',
    sql: `
CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE runs (
  run_uuid TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  user_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  deleted_time INTEGER,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  artifact_uri TEXT NOT NULL
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, lifecycle_stage, start_time DESC, run_uuid);
CREATE TABLE metrics (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_uuid, key, timestamp, step, value, is_nan)
) WITHOUT ROWID;
CREATE TABLE latest_metrics (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value);
CREATE TABLE params (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key ON params (key, value);
CREATE TABLE tags (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX tags_by_key ON tags (key, value);
CREATE TABLE run_inputs (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  context TEXT,
  tags_json TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_uuid, name, digest)
) WITHOUT ROWID;
CREATE TABLE registered_models (
  name TEXT PRIMARY KEY,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT
);
CREATE TABLE registered_model_tags (
  name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, key)
) WITHOUT ROWID;
CREATE TABLE model_versions (
  name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  version INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT,
  user_id TEXT,
  current_stage TEXT NOT NULL DEFAULT 'None',
  source TEXT NOT NULL,
  storage_location TEXT,
  run_id TEXT,
  run_link TEXT,
  status TEXT NOT NULL DEFAULT 'READY',
  status_message TEXT,
  PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_by_stage ON model_versions (name, current_stage, version);
CREATE TABLE model_version_tags (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON UPDATE CASCADE ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE registered_model_aliases (
  name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (name, alias)
) WITHOUT ROWID;
`,
  },
  {
    version: 2,
    description: 'MLflow 3.x logged models, run outputs, model_id on model versions',
    sql: `
CREATE TABLE logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  artifact_location TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  status TEXT NOT NULL,
  model_type TEXT,
  source_run_id TEXT,
  status_message TEXT,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted'))
) WITHOUT ROWID;
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, lifecycle_stage, creation_time);
CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE run_outputs (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  model_id TEXT NOT NULL,
  step INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, model_id, step)
) WITHOUT ROWID;
ALTER TABLE model_versions ADD COLUMN model_id TEXT;
`,
  },
  {
    version: 3,
    description: 'metrics logged against MLflow 3.x logged models',
    sql: `
CREATE TABLE logged_model_metrics (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  run_uuid TEXT NOT NULL DEFAULT '',
  dataset_name TEXT NOT NULL DEFAULT '',
  dataset_digest TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (model_id, key, step, timestamp, value, is_nan, run_uuid, dataset_name, dataset_digest)
) WITHOUT ROWID;
`,
  },
  {
    version: 4,
    description: 'latest_metrics index on (key, is_nan, value): a search ordered by a metric walks it',
    sql: `
DROP INDEX latest_metrics_by_key;
CREATE INDEX latest_metrics_by_key_value ON latest_metrics (key, is_nan, value);
`,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Bring `db` up to SCHEMA_VERSION. Safe to call from several processes at once. */
export function migrate(db: Database.Database, where: string): number {
  const current = () => db.pragma('user_version', { simple: true }) as number;
  if (current() === SCHEMA_VERSION) return SCHEMA_VERSION;
  const run = db.transaction(() => {
    const from = current();
    if (from > SCHEMA_VERSION)
      throw new AppError(
        'FORMAT_VERSION',
        `tracking database ${where} has schema version ${from}, newer than this carprice understands (${SCHEMA_VERSION}); upgrade carprice or point MLFLOW_TRACKING_URI at another database`,
      );
    for (const m of MIGRATIONS) if (m.version > from) db.exec(m.sql);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  run.immediate();
  return SCHEMA_VERSION;
}
