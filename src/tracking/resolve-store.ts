/**
 * Tracking URI -> store. The URI comes from MLFLOW_TRACKING_URI, else params.yaml
 * (`mlflow.tracking_uri`, passed in as `paramsUri`), else the embedded default
 * `sqlite:///<project>/.carprice/mlflow.db`, which needs no setup.
 *   sqlite:///rel/path.db   relative to the project (SQLAlchemy's convention)
 *   sqlite:////abs/path.db  absolute
 *   http(s)://host[/path]   any MLflow server (DagsHub: https://dagshub.com/OWNER/REPO.mlflow)
 *   postgresql://user:pass@host:5432/db   a team database (artifacts in ./mlartifacts)
 * Embedded stores keep artifacts next to the database in `mlartifacts/`.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { TrackingStore } from './store.js';
import { SqliteTrackingStore } from './sqlite/sqlite-tracking-store.js';
import { RestTrackingStore } from './rest/rest-tracking-store.js';
import { PgTrackingStore } from './postgres/pg-tracking-store.js';
import { isPostgresUri, pgConnectionFromUri } from './postgres/pg-uri.js';
import { ArtifactResolver } from './artifacts/resolve-artifact-repository.js';

export interface ResolveStoreOptions {
  env: Env;
  /** `mlflow.tracking_uri` from params.yaml, if set. */
  paramsUri?: string;
  /** Project root: relative sqlite paths and the default database live under it. */
  cwd: string;
  logger?: Logger;
  clock?: Clock;
}

/** A store with the artifact resolver that goes with it. */
export interface ResolvedTracking {
  uri: string;
  store: TrackingStore;
  artifacts: ArtifactResolver;
  close(): Promise<void>;
}

/** The project's default tracking database. */
export function defaultTrackingUri(cwd: string): string {
  return `sqlite:///${join(resolve(cwd), '.carprice', 'mlflow.db')}`;
}

/** Which tracking URI applies: env, then params.yaml, then the embedded default. */
export function resolveTrackingUri(opts: Pick<ResolveStoreOptions, 'env' | 'paramsUri' | 'cwd'>): string {
  return (
    opts.env.MLFLOW_TRACKING_URI ??
    (opts.paramsUri && opts.paramsUri.trim() ? opts.paramsUri.trim() : undefined) ??
    defaultTrackingUri(opts.cwd)
  );
}

/** The database path of a sqlite:// URI (relative paths resolved against cwd). */
export function sqlitePathOf(uri: string, cwd: string): string {
  const rest = uri.replace(/^sqlite:\/\//, '');
  if (!rest.startsWith('/') || rest === '/')
    throw new AppError(
      'CONFIG_INVALID',
      `invalid SQLite tracking URI '${uri}': use sqlite:///relative/path.db or sqlite:////absolute/path.db`,
    );
  const path = rest.slice(1);
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/** Open the store for a URI. */
export function openStore(uri: string, opts: ResolveStoreOptions): ResolvedTracking {
  if (uri.startsWith('sqlite:')) {
    const path = sqlitePathOf(uri, opts.cwd);
    const store = new SqliteTrackingStore({
      path,
      defaultArtifactRoot: join(dirname(path), 'mlartifacts'),
      clock: opts.clock,
      logger: opts.logger,
    });
    const artifacts = new ArtifactResolver({ env: opts.env });
    return { uri, store, artifacts, close: async () => (artifacts.close(), store.close()) };
  }
  if (/^https?:\/\//.test(uri)) {
    const store = new RestTrackingStore({ trackingUri: uri, env: opts.env, logger: opts.logger });
    const artifacts = new ArtifactResolver({ env: opts.env, http: store.http });
    return { uri, store, artifacts, close: async () => (artifacts.close(), store.close()) };
  }
  if (isPostgresUri(uri)) {
    const { connection, where } = pgConnectionFromUri(uri, opts.env);
    const store = new PgTrackingStore({
      connection,
      where,
      defaultArtifactRoot: join(resolve(opts.cwd), 'mlartifacts'),
      clock: opts.clock,
      logger: opts.logger,
    });
    const artifacts = new ArtifactResolver({ env: opts.env });
    return { uri: where, store, artifacts, close: async () => (artifacts.close(), store.close()) };
  }
  throw new AppError(
    'CONFIG_INVALID',
    `unsupported tracking URI '${uri}': use sqlite:///path/to.db (embedded), postgresql://user@host:5432/db or http(s)://host (an MLflow server, e.g. https://dagshub.com/OWNER/REPO.mlflow); set it with MLFLOW_TRACKING_URI or mlflow.tracking_uri in params.yaml`,
  );
}

/** Resolve the tracking URI and open its store. */
export function resolveStore(opts: ResolveStoreOptions): ResolvedTracking {
  return openStore(resolveTrackingUri(opts), opts);
}
