/**
 * Versioned schema migrations for the PostgreSQL tracking store. Applied versions are rows
 * of `carprice_schema_migrations`; each migration runs once, in its own transaction, while
 * the migrating process holds a session advisory lock, so two servers starting at once on
 * an empty database migrate it once (the second waits, then finds nothing to do). A
 * database migrated by a newer carprice is refused rather than guessed at.
 * schema-snapshot.sql holds the resulting schema; pg-migrations.test.ts fails when the two
 * drift apart. Text columns use the "C" collation so ordering and LIKE match SQLite's
 * byte-wise comparison whatever the cluster's locale.
 */
import pg from 'pg';
import { AppError } from '../../core/errors.js';

export interface PgMigration {
  version: number;
  description: string;
  sql: string;
}

/** Arbitrary constant naming carprice's migration lock (pg_advisory_lock key). */
export const MIGRATION_LOCK_KEY = 7_240_115_015;

/** Every migration, oldest first. Never edit a released one: append a new one. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'experiments, runs, metrics, params, tags, inputs, outputs, registry, logged models',
    sql: `
CREATE TABLE experiments (
  experiment_id BIGSERIAL PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL UNIQUE,
  artifact_location TEXT COLLATE "C" NOT NULL,
  lifecycle_stage TEXT COLLATE "C" NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  creation_time BIGINT NOT NULL,
  last_update_time BIGINT NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (experiment_id, key)
);
CREATE TABLE runs (
  run_uuid TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  user_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  status TEXT COLLATE "C" NOT NULL CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  deleted_time BIGINT,
  lifecycle_stage TEXT COLLATE "C" NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  artifact_uri TEXT COLLATE "C" NOT NULL
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, lifecycle_stage, start_time DESC, run_uuid);
CREATE TABLE metrics (
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan SMALLINT NOT NULL DEFAULT 0,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (run_uuid, key, timestamp, step, value, is_nan)
);
CREATE TABLE latest_metrics (
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan SMALLINT NOT NULL DEFAULT 0,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value);
CREATE TABLE params (
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
CREATE INDEX params_by_key ON params (key);
CREATE TABLE tags (
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
CREATE INDEX tags_by_key ON tags (key);
CREATE TABLE run_inputs (
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  name TEXT COLLATE "C" NOT NULL,
  digest TEXT COLLATE "C" NOT NULL,
  source_type TEXT COLLATE "C" NOT NULL,
  source TEXT COLLATE "C" NOT NULL,
  schema TEXT COLLATE "C",
  profile TEXT COLLATE "C",
  context TEXT COLLATE "C",
  tags_json TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_uuid, name, digest)
);
CREATE TABLE registered_models (
  name TEXT COLLATE "C" PRIMARY KEY,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT COLLATE "C"
);
CREATE TABLE registered_model_tags (
  name TEXT COLLATE "C" NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (name, key)
);
CREATE TABLE model_versions (
  name TEXT COLLATE "C" NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  version INTEGER NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT COLLATE "C",
  user_id TEXT COLLATE "C",
  current_stage TEXT COLLATE "C" NOT NULL DEFAULT 'None',
  source TEXT COLLATE "C" NOT NULL,
  storage_location TEXT COLLATE "C",
  run_id TEXT COLLATE "C",
  run_link TEXT COLLATE "C",
  status TEXT COLLATE "C" NOT NULL DEFAULT 'READY',
  status_message TEXT COLLATE "C",
  model_id TEXT COLLATE "C",
  PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_by_stage ON model_versions (name, current_stage, version);
CREATE TABLE model_version_tags (
  name TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE TABLE registered_model_aliases (
  name TEXT COLLATE "C" NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  alias TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (name, alias)
);
CREATE TABLE logged_models (
  model_id TEXT COLLATE "C" PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  name TEXT COLLATE "C" NOT NULL,
  artifact_location TEXT COLLATE "C" NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  model_type TEXT COLLATE "C",
  source_run_id TEXT COLLATE "C",
  status_message TEXT COLLATE "C",
  lifecycle_stage TEXT COLLATE "C" NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted'))
);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, lifecycle_stage, creation_time);
CREATE TABLE logged_model_tags (
  model_id TEXT COLLATE "C" NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (model_id, key)
);
CREATE TABLE logged_model_params (
  model_id TEXT COLLATE "C" NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (model_id, key)
);
CREATE TABLE logged_model_metrics (
  model_id TEXT COLLATE "C" NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  is_nan SMALLINT NOT NULL DEFAULT 0,
  timestamp BIGINT NOT NULL,
  step BIGINT NOT NULL,
  run_uuid TEXT COLLATE "C" NOT NULL DEFAULT '',
  dataset_name TEXT COLLATE "C" NOT NULL DEFAULT '',
  dataset_digest TEXT COLLATE "C" NOT NULL DEFAULT '',
  PRIMARY KEY (model_id, key, step, timestamp, value, is_nan, run_uuid, dataset_name, dataset_digest)
);
CREATE TABLE run_outputs (
  run_uuid TEXT COLLATE "C" NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  model_id TEXT COLLATE "C" NOT NULL,
  step BIGINT NOT NULL,
  PRIMARY KEY (run_uuid, model_id, step)
);
`,
  },
  {
    version: 2,
    description:
      'latest_metrics index on (key, is_nan, value) covering run_uuid: a search ordered by a metric walks it',
    sql: `
DROP INDEX latest_metrics_by_key;
CREATE INDEX latest_metrics_by_key_value ON latest_metrics (key, is_nan, value) INCLUDE (run_uuid);
`,
  },
];

/** The schema version this build writes. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1].version;

/** What `migratePg` did. */
export interface PgMigrateResult {
  from: number;
  to: number;
  applied: number[];
}

async function currentVersion(c: pg.PoolClient | pg.Pool): Promise<number> {
  const r = await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM carprice_schema_migrations');
  return Number(r.rows[0]?.v ?? 0);
}

/** Bring the database up to PG_SCHEMA_VERSION, once, however many processes call this at once. */
export async function migratePg(pool: pg.Pool, where: string): Promise<PgMigrateResult> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS carprice_schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const from = await currentVersion(client);
      if (from > PG_SCHEMA_VERSION)
        throw new AppError(
          'FORMAT_VERSION',
          `tracking database ${where} has schema version ${from}, newer than this carprice understands (${PG_SCHEMA_VERSION}); upgrade carprice or point MLFLOW_TRACKING_URI at another database`,
        );
      const applied: number[] = [];
      for (const m of PG_MIGRATIONS) {
        if (m.version <= from) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO carprice_schema_migrations (version, description) VALUES ($1, $2)', [
            m.version,
            m.description,
          ]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
        applied.push(m.version);
      }
      return { from, to: PG_SCHEMA_VERSION, applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
