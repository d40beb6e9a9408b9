/**
 * The team-scale tracking backend: PostgreSQL through the pg driver's connection pool,
 * with the same MLflow SQL-store semantics as the embedded SQLite store and split the same
 * way: runs and experiments (pg-run-store.ts), the model registry (pg-registry-store.ts)
 * and logged models (pg-logged-model-store.ts), all on one shared pool (pg-db.ts:
 * connections, migrations, serializable transactions). Opening is lazy: the first call
 * connects and migrates (once across servers, under an advisory lock).
 */
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
import { PgDb, type PgDbOptions } from './pg-db.js';
import { PgLoggedModelStore } from './pg-logged-model-store.js';
import { PgRegistryStore } from './pg-registry-store.js';
import { ensureDefaultExperiment, PgRunStore } from './pg-run-store.js';

export type PgTrackingStoreOptions = PgDbOptions;

/** PostgreSQL-backed TrackingStore. */
export class PgTrackingStore implements TrackingStore {
  readonly kind = 'postgresql';
  private readonly h: PgDb;
  private readonly runs: PgRunStore;
  private readonly registry: PgRegistryStore;
  private readonly loggedModels: PgLoggedModelStore;

  constructor(opts: PgTrackingStoreOptions) {
    this.h = new PgDb(opts, ensureDefaultExperiment);
    this.runs = new PgRunStore(this.h);
    this.registry = new PgRegistryStore(this.h);
    this.loggedModels = new PgLoggedModelStore(this.h);
  }

  /** Connect and migrate now (otherwise the first call does). */
  open(): Promise<void> {
    return this.h.open();
  }

  async close(): Promise<void> {
    await this.h.close();
  }

  // ------------------------------------------------------------ runs (sqlite-run-store.ts)

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

  // ------------------------------------------------------------ registry (sqlite-registry-store.ts)

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

  // ------------------------------------------------------------ loggedModels (sqlite-logged-model-store.ts)

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
