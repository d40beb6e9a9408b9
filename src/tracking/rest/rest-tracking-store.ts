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
import type {
  Dataset,
  Experiment,
  LoggedModel,
  LoggedModelStatus,
  Metric,
  ModelVersion,
  Page,
  Param,
  RegisteredModel,
  Run,
  RunInfo,
  Tag,
} from '../entities.js';
import type {
  CreateLoggedModelOptions,
  CreateModelVersionOptions,
  CreateRunOptions,
  LogBatchOptions,
  MetricHistoryOptions,
  SearchExperimentsOptions,
  SearchLoggedModelsOptions,
  SearchRegistryOptions,
  SearchRunsOptions,
  TrackingStore,
  UpdateRunOptions,
} from '../store.js';
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

export class RestTrackingStore implements TrackingStore {
  readonly kind = 'rest';
  /** The HTTP client (the artifact repository for mlflow-artifacts: URIs shares it). */
  readonly http: MlflowHttpClient;
  private readonly runs: RestRunStore;
  private readonly registry: RestRegistryStore;
  private readonly loggedModels: RestLoggedModelStore;

  constructor(opts: RestTrackingStoreOptions) {
    this.http = new MlflowHttpClient({ ...opts, baseUrl: opts.trackingUri });
    const api = new MlflowRestApi(this.http);
    this.runs = new RestRunStore(api);
    this.registry = new RestRegistryStore(api);
    this.loggedModels = new RestLoggedModelStore(api);
  }

  async close(): Promise<void> {
    // fetch keeps no per-store state to release.
  }
  // ------------------------------------------------------------ runs (rest-run-store.ts)

  createExperiment(name: string, artifactLocation?: string, tags?: Tag[]): Promise<string> {
    return this.runs.createExperiment(name, artifactLocation, tags);
  }
  getExperiment(experimentId: string): Promise<Experiment> {
    return this.runs.getExperiment(experimentId);
  }
  getExperimentByName(name: string): Promise<Experiment> {
    return this.runs.getExperimentByName(name);
  }
  searchExperiments(opts?: SearchExperimentsOptions): Promise<Page<Experiment>> {
    return this.runs.searchExperiments(opts);
  }
  deleteExperiment(experimentId: string): Promise<void> {
    return this.runs.deleteExperiment(experimentId);
  }
  restoreExperiment(experimentId: string): Promise<void> {
    return this.runs.restoreExperiment(experimentId);
  }
  renameExperiment(experimentId: string, newName: string): Promise<void> {
    return this.runs.renameExperiment(experimentId, newName);
  }
  setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    return this.runs.setExperimentTag(experimentId, key, value);
  }
  deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    return this.runs.deleteExperimentTag(experimentId, key);
  }
  createRun(opts?: CreateRunOptions): Promise<Run> {
    return this.runs.createRun(opts);
  }
  getRun(runId: string): Promise<Run> {
    return this.runs.getRun(runId);
  }
  updateRun(runId: string, opts: UpdateRunOptions): Promise<RunInfo> {
    return this.runs.updateRun(runId, opts);
  }
  deleteRun(runId: string): Promise<void> {
    return this.runs.deleteRun(runId);
  }
  restoreRun(runId: string): Promise<void> {
    return this.runs.restoreRun(runId);
  }
  searchRuns(opts: SearchRunsOptions): Promise<Page<Run>> {
    return this.runs.searchRuns(opts);
  }
  logMetric(runId: string, metric: Metric): Promise<void> {
    return this.runs.logMetric(runId, metric);
  }
  logParam(runId: string, param: Param): Promise<void> {
    return this.runs.logParam(runId, param);
  }
  setTag(runId: string, key: string, value: string): Promise<void> {
    return this.runs.setTag(runId, key, value);
  }
  deleteTag(runId: string, key: string): Promise<void> {
    return this.runs.deleteTag(runId, key);
  }
  logBatch(runId: string, batch: LogBatchOptions): Promise<void> {
    return this.runs.logBatch(runId, batch);
  }
  logInputs(runId: string, datasets: { dataset: Dataset; tags?: Tag[] }[]): Promise<void> {
    return this.runs.logInputs(runId, datasets);
  }
  logModel(runId: string, modelJson: string): Promise<void> {
    return this.runs.logModel(runId, modelJson);
  }
  getMetricHistory(runId: string, key: string, opts?: MetricHistoryOptions): Promise<Page<Metric>> {
    return this.runs.getMetricHistory(runId, key, opts);
  }

  // ------------------------------------------------------------ registry (rest-registry-store.ts)

  createRegisteredModel(name: string, tags?: Tag[], description?: string): Promise<RegisteredModel> {
    return this.registry.createRegisteredModel(name, tags, description);
  }
  getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.registry.getRegisteredModel(name);
  }
  renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    return this.registry.renameRegisteredModel(name, newName);
  }
  updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
    return this.registry.updateRegisteredModel(name, description);
  }
  deleteRegisteredModel(name: string): Promise<void> {
    return this.registry.deleteRegisteredModel(name);
  }
  searchRegisteredModels(opts?: SearchRegistryOptions): Promise<Page<RegisteredModel>> {
    return this.registry.searchRegisteredModels(opts);
  }
  getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    return this.registry.getLatestVersions(name, stages);
  }
  setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    return this.registry.setRegisteredModelTag(name, key, value);
  }
  deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    return this.registry.deleteRegisteredModelTag(name, key);
  }
  setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    return this.registry.setRegisteredModelAlias(name, alias, version);
  }
  deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    return this.registry.deleteRegisteredModelAlias(name, alias);
  }
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.registry.getModelVersionByAlias(name, alias);
  }
  createModelVersion(opts: CreateModelVersionOptions): Promise<ModelVersion> {
    return this.registry.createModelVersion(opts);
  }
  getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return this.registry.getModelVersion(name, version);
  }
  updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion> {
    return this.registry.updateModelVersion(name, version, description);
  }
  transitionModelVersionStage(
    name: string,
    version: string,
    stage: string,
    archiveExistingVersions: boolean,
  ): Promise<ModelVersion> {
    return this.registry.transitionModelVersionStage(name, version, stage, archiveExistingVersions);
  }
  deleteModelVersion(name: string, version: string): Promise<void> {
    return this.registry.deleteModelVersion(name, version);
  }
  searchModelVersions(opts?: SearchRegistryOptions): Promise<Page<ModelVersion>> {
    return this.registry.searchModelVersions(opts);
  }
  getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    return this.registry.getModelVersionDownloadUri(name, version);
  }
  setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    return this.registry.setModelVersionTag(name, version, key, value);
  }
  deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    return this.registry.deleteModelVersionTag(name, version, key);
  }

  // ------------------------------------------------------------ loggedModels (rest-logged-model-store.ts)

  createLoggedModel(opts: CreateLoggedModelOptions): Promise<LoggedModel> {
    return this.loggedModels.createLoggedModel(opts);
  }
  finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel> {
    return this.loggedModels.finalizeLoggedModel(modelId, status);
  }
  getLoggedModel(modelId: string): Promise<LoggedModel> {
    return this.loggedModels.getLoggedModel(modelId);
  }
  deleteLoggedModel(modelId: string): Promise<void> {
    return this.loggedModels.deleteLoggedModel(modelId);
  }
  searchLoggedModels(opts: SearchLoggedModelsOptions): Promise<Page<LoggedModel>> {
    return this.loggedModels.searchLoggedModels(opts);
  }
  setLoggedModelTags(modelId: string, tags: Tag[]): Promise<LoggedModel> {
    return this.loggedModels.setLoggedModelTags(modelId, tags);
  }
  deleteLoggedModelTag(modelId: string, key: string): Promise<void> {
    return this.loggedModels.deleteLoggedModelTag(modelId, key);
  }
  logLoggedModelParams(modelId: string, params: Param[]): Promise<void> {
    return this.loggedModels.logLoggedModelParams(modelId, params);
  }
  logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    return this.loggedModels.logOutputs(runId, models);
  }
}
