/**
 * The TrackingStore every backend presents: MLflow splits a store into runs and
 * experiments, the model registry and logged models, and each backend (sqlite/, postgres/,
 * rest/) implements those three parts on one shared handle. This class forwards each call
 * of the one interface to the part that owns it, so a backend only opens its handle, builds
 * its parts and says how to close; the forwarding is written once, here.
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
} from './entities.js';
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
  TrackingStoreLoggedModels,
  TrackingStoreRegistry,
  TrackingStoreRuns,
  UpdateRunOptions,
} from './store.js';

/** The three parts of a backend, built on its one handle. */
export interface TrackingStoreParts {
  runs: TrackingStoreRuns;
  registry: TrackingStoreRegistry;
  loggedModels: TrackingStoreLoggedModels;
}

/** A TrackingStore made of a backend's three parts; subclasses name the kind and close the handle. */
export abstract class CompositeTrackingStore implements TrackingStore {
  abstract readonly kind: string;
  private readonly runs: TrackingStoreRuns;
  private readonly registry: TrackingStoreRegistry;
  private readonly loggedModels: TrackingStoreLoggedModels;

  protected constructor(parts: TrackingStoreParts) {
    this.runs = parts.runs;
    this.registry = parts.registry;
    this.loggedModels = parts.loggedModels;
  }

  abstract close(): Promise<void>;

  // ------------------------------------------------------------ runs

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

  // ------------------------------------------------------------ registry

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

  // ------------------------------------------------------------ loggedModels

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
