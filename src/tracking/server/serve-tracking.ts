/**
 * Assembles and starts the tracking server for `carprice tracking serve`: opens the backend
 * store (new runs get mlflow-artifacts: URIs, proxied to the artifacts destination), picks
 * the artifact destination (a directory or s3://), builds the app and listens. The only
 * place that calls listen.
 */
import { dirname, join, resolve } from 'node:path';
import type { Env } from '../../config/env.js';
import type { Logger } from '../../core/logger.js';
import { AppError } from '../../core/errors.js';
import { SqliteTrackingStore } from '../sqlite/sqlite-tracking-store.js';
import { RestTrackingStore } from '../rest/rest-tracking-store.js';
import { ArtifactResolver } from '../artifacts/resolve-artifact-repository.js';
import { resolveTrackingUri, sqlitePathOf } from '../resolve-store.js';
import type { TrackingStore } from '../store.js';
import { buildTrackingServer } from './build-tracking-server.js';

export interface ServeTrackingOptions {
  host: string;
  port: number;
  /** sqlite:///path.db or http(s)://...; default: MLFLOW_TRACKING_URI, then `paramsUri`, then the embedded database. */
  backendStoreUri?: string;
  /** `mlflow.tracking_uri` from params.yaml, if set. */
  paramsUri?: string;
  artifactsDestination?: string;
  env: Env;
  cwd: string;
  logger?: Logger;
}

export interface RunningTrackingServer {
  url: string;
  backendUri: string;
  artifactsUri: string;
  close(): Promise<void>;
}

/** Open the store, build the server and listen. */
export async function serveTracking(opts: ServeTrackingOptions): Promise<RunningTrackingServer> {
  const backendUri = opts.backendStoreUri ?? resolveTrackingUri({ env: opts.env, paramsUri: opts.paramsUri, cwd: opts.cwd });
  let store: TrackingStore;
  let defaultDest: string;
  if (backendUri.startsWith('sqlite:')) {
    const path = sqlitePathOf(backendUri, opts.cwd);
    store = new SqliteTrackingStore({ path, defaultArtifactRoot: 'mlflow-artifacts:', logger: opts.logger });
    defaultDest = join(dirname(path), 'mlartifacts');
  } else if (/^https?:\/\//.test(backendUri)) {
    store = new RestTrackingStore({ trackingUri: backendUri, env: opts.env, logger: opts.logger });
    defaultDest = resolve(opts.cwd, 'mlartifacts');
  } else {
    throw new AppError('USAGE', `--backend-store-uri must be sqlite:///path.db or http(s)://..., got '${backendUri}'`);
  }
  const artifactsUri = opts.artifactsDestination
    ? opts.artifactsDestination.startsWith('s3://')
      ? opts.artifactsDestination
      : resolve(opts.cwd, opts.artifactsDestination)
    : defaultDest;
  const resolver = new ArtifactResolver({ env: opts.env });
  const app = await buildTrackingServer({
    store,
    artifactsDestination: resolver.repositoryFor(artifactsUri),
    artifactRepositoryFor: (uri) => resolver.repositoryFor(uri),
    users: opts.env.CARPRICE_TRACKING_USERS,
    logger: opts.logger,
  });
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (e) {
    await store.close();
    throw new AppError('USAGE', `cannot listen on ${opts.host}:${opts.port}: ${(e as Error).message}; pick another --port`, { cause: e });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    backendUri,
    artifactsUri,
    async close() {
      await app.close();
      resolver.close();
      await store.close();
    },
  };
}
