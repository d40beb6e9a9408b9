/**
 * TrackingStore over MLflow's REST API: any MLflow server (self-hosted, DagsHub,
 * `carprice tracking serve`). Split like the SQLite store: runs and experiments
 * (rest-run-store.ts), the model registry (rest-registry-store.ts) and logged models
 * (rest-logged-model-store.ts), all calling through one MlflowRestApi (mlflow-rest-api.ts:
 * request shape per spec §1.2, lenient decoding). Errors arrive as AppError with the
 * server's error_code, so a caller cannot tell this store from the embedded one except by
 * speed.
 */
import type { Env } from '../../config/env.js';
import type { Logger } from '../../core/logger.js';
import { CompositeTrackingStore } from '../composite-store.js';
import { MlflowHttpClient, type MlflowHttpClientOptions } from './http-client.js';
import { MlflowRestApi } from './mlflow-rest-api.js';
import { RestLoggedModelStore } from './rest-logged-model-store.js';
import { RestRegistryStore } from './rest-registry-store.js';
import { RestRunStore } from './rest-run-store.js';

export interface RestTrackingStoreOptions extends Omit<MlflowHttpClientOptions, 'baseUrl'> {
  /** The tracking URI, e.g. http://127.0.0.1:5000 or https://dagshub.com/OWNER/REPO.mlflow. */
  trackingUri: string;
  env?: Env;
  logger?: Logger;
}

export class RestTrackingStore extends CompositeTrackingStore {
  readonly kind = 'rest';
  /** The HTTP client (the artifact repository for mlflow-artifacts: URIs shares it). */
  readonly http: MlflowHttpClient;

  constructor(opts: RestTrackingStoreOptions) {
    const http = new MlflowHttpClient({ ...opts, baseUrl: opts.trackingUri });
    const api = new MlflowRestApi(http);
    super({
      runs: new RestRunStore(api),
      registry: new RestRegistryStore(api),
      loggedModels: new RestLoggedModelStore(api),
    });
    this.http = http;
  }

  async close(): Promise<void> {
    // fetch keeps no per-store state to release.
  }
}
