/**
 * The public face of carprice's MLflow-compatible tracking: the client jobs use, the store
 * resolution, the server builder and the entity types. Other layers import from here.
 */
export * from './entities.js';
export type { TrackingStore } from './store.js';
export {
  TrackingClient,
  type StartRunOptions,
  type LogModelOptions,
  type RegisterModelOptions,
  type ResolvedModel,
  type ArtifactResolving,
} from './client.js';
export {
  resolveStore,
  resolveTrackingUri,
  openStore,
  defaultTrackingUri,
  type ResolveStoreOptions,
  type ResolvedTracking,
} from './resolve-store.js';
export { buildTrackingServer, type TrackingServerOptions } from './server/build-tracking-server.js';
export { mlmodelDict, mlmodelYaml } from './mlmodel.js';
export { parseUsers, authenticatedUser } from './server/basic-auth.js';
