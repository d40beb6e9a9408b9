/**
 * Assembles and starts the tracking server for `carprice tracking serve`: opens the backend
 * store (new runs get mlflow-artifacts: URIs, proxied to the artifacts destination), picks
 * the artifact destination (a directory or s3://), the accepted Host headers and the users,
 * builds the app and listens. The only place that calls listen. `close()` is graceful:
 * requests in flight (and those already arriving on open keep-alive connections) are
 * answered, with `Connection: close`, before the store closes; after `drainMs` any
 * connection still open is cut.
 */
import { dirname, join, resolve } from 'node:path';
import type { Env } from '../../config/env.js';
import type { Logger } from '../../core/logger.js';
import { AppError, listenError } from '../../core/errors.js';
import { SqliteTrackingStore } from '../sqlite/sqlite-tracking-store.js';
import { RestTrackingStore } from '../rest/rest-tracking-store.js';
import { ArtifactResolver } from '../artifacts/resolve-artifact-repository.js';
import { resolveTrackingUri, sqlitePathOf } from '../resolve-store.js';
import { PgTrackingStore } from '../postgres/pg-tracking-store.js';
import { isPostgresUri, pgConnectionFromUri } from '../postgres/pg-uri.js';
import type { TrackingStore } from '../store.js';
import { buildTrackingServer, type TrackingServerOptions } from './build-tracking-server.js';
import { parseUsers } from './basic-auth.js';
import { defaultAllowedHosts, parseHostList } from './security.js';

export interface ServeTrackingOptions {
  host: string;
  port: number;
  /** sqlite:///path.db or http(s)://...; default: MLFLOW_TRACKING_URI, then `paramsUri`, then the embedded database. */
  backendStoreUri?: string;
  /** `mlflow.tracking_uri` from params.yaml, if set. */
  paramsUri?: string;
  artifactsDestination?: string;
  /** Accepted Host header patterns, comma-separated (MLflow's --allowed-hosts); default: $MLFLOW_SERVER_ALLOWED_HOSTS, else localhost and private addresses. */
  allowedHosts?: string;
  /** Origins allowed to change state cross-origin, comma-separated; default: $MLFLOW_SERVER_CORS_ALLOWED_ORIGINS. */
  corsAllowedOrigins?: string;
  env: Env;
  cwd: string;
  logger?: Logger;
  /** How long close() waits for requests in flight before cutting connections (default 10 s). */
  drainMs?: number;
  /** More routes on the server (the web dashboard), as TrackingServerOptions.extend. */
  extend?: TrackingServerOptions['extend'];
}

export interface RunningTrackingServer {
  url: string;
  backendUri: string;
  artifactsUri: string;
  /** Basic-auth user names; empty = an open server (anyone who can reach it can read, write and delete). */
  users: string[];
  /** The Host header patterns accepted. */
  allowedHosts: string[];
  close(): Promise<void>;
}

const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]', '']);

/** The Host patterns: explicit list, else MLflow's defaults plus the name the server binds to. */
function allowedHostsFor(spec: string | undefined, bindHost: string): string[] {
  const explicit = parseHostList(spec);
  if (explicit) return explicit;
  const hosts = defaultAllowedHosts();
  if (!ANY_ADDRESS.has(bindHost)) {
    // The name or address the server binds to is what its clients put in Host.
    const name = bindHost.includes(':') ? `[[]${bindHost}]` : bindHost.replace(/[[*?]/g, '[$&]');
    if (!hosts.includes(name)) hosts.push(name, `${name}:*`);
  }
  return hosts;
}

/** Open the store, build the server and listen. */
export async function serveTracking(opts: ServeTrackingOptions): Promise<RunningTrackingServer> {
  let backendUri =
    opts.backendStoreUri ?? resolveTrackingUri({ env: opts.env, paramsUri: opts.paramsUri, cwd: opts.cwd });
  let store: TrackingStore;
  let defaultDest: string;
  if (backendUri.startsWith('sqlite:')) {
    const path = sqlitePathOf(backendUri, opts.cwd);
    store = new SqliteTrackingStore({ path, defaultArtifactRoot: 'mlflow-artifacts:', logger: opts.logger });
    defaultDest = join(dirname(path), 'mlartifacts');
  } else if (/^https?:\/\//.test(backendUri)) {
    store = new RestTrackingStore({ trackingUri: backendUri, env: opts.env, logger: opts.logger });
    defaultDest = resolve(opts.cwd, 'mlartifacts');
  } else if (isPostgresUri(backendUri)) {
    const { connection, where } = pgConnectionFromUri(backendUri, opts.env);
    backendUri = where; // printed and logged: never the password
    const pgStore = new PgTrackingStore({
      connection,
      where,
      defaultArtifactRoot: 'mlflow-artifacts:',
      logger: opts.logger,
    });
    try {
      await pgStore.open(); // connect and migrate now: a bad URI fails at start, not on the first request
    } catch (e) {
      await pgStore.close();
      throw e;
    }
    store = pgStore;
    defaultDest = resolve(opts.cwd, 'mlartifacts');
  } else {
    throw new AppError(
      'USAGE',
      `--backend-store-uri must be sqlite:///path.db, postgresql://user@host:5432/db or http(s)://..., got '${backendUri}'`,
    );
  }
  const artifactsUri = opts.artifactsDestination
    ? opts.artifactsDestination.startsWith('s3://')
      ? opts.artifactsDestination
      : resolve(opts.cwd, opts.artifactsDestination)
    : defaultDest;
  let users: string[];
  try {
    users = [...parseUsers(opts.env.CARPRICE_TRACKING_USERS).keys()];
  } catch (e) {
    await store.close();
    throw e;
  }
  const allowedHosts = allowedHostsFor(opts.allowedHosts ?? opts.env.MLFLOW_SERVER_ALLOWED_HOSTS, opts.host);
  const resolver = new ArtifactResolver({ env: opts.env });
  const app = await buildTrackingServer({
    store,
    artifactsDestination: resolver.repositoryFor(artifactsUri),
    artifactRepositoryFor: (uri) => resolver.repositoryFor(uri),
    users: opts.env.CARPRICE_TRACKING_USERS,
    allowedHosts,
    corsAllowedOrigins: parseHostList(opts.corsAllowedOrigins ?? opts.env.MLFLOW_SERVER_CORS_ALLOWED_ORIGINS),
    logger: opts.logger,
    extend: opts.extend,
  });
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (e) {
    await store.close();
    throw listenError(opts.host, opts.port, e);
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    backendUri,
    artifactsUri,
    users,
    allowedHosts,
    async close() {
      // Fastify stops accepting connections, closes idle ones and waits for the rest; a
      // client that never finishes its request is cut after drainMs.
      const drain = setTimeout(() => app.server.closeAllConnections(), opts.drainMs ?? 10_000);
      try {
        await app.close();
      } finally {
        clearTimeout(drain);
        resolver.close();
        await store.close();
      }
    },
  };
}
