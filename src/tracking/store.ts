/**
 * The seam between carprice and a tracking backend: one interface for experiments, runs
 * and the model registry, implemented by `SqliteTrackingStore` (embedded) and
 * `RestTrackingStore` (any MLflow server). Semantics follow MLflow's SQL store; every
 * failure is an AppError with MLflow's error code, so both backends fail identically
 * (test/contract/tracking-store-contract.ts checks this).
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
  RunStatus,
  Tag,
  ViewType,
} from './entities.js';

export interface SearchExperimentsOptions {
  viewType?: ViewType;
  /** 1..50000; default 1000. */
  maxResults?: number;
  filter?: string;
  orderBy?: string[];
  pageToken?: string;
}

export interface CreateRunOptions {
  /** Default experiment "0" when absent. */
  experimentId?: string;
  userId?: string;
  runName?: string;
  /** Milliseconds; the store's clock when absent. */
  startTime?: number;
  tags?: Tag[];
}

export interface UpdateRunOptions {
  status?: RunStatus;
  endTime?: number;
  runName?: string;
}

export interface SearchRunsOptions {
  experimentIds: string[];
  filter?: string;
  viewType?: ViewType;
  /** 1..50000; default 1000. */
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

export interface LogBatchOptions {
  metrics?: Metric[];
  params?: Param[];
  tags?: Tag[];
}

export interface MetricHistoryOptions {
  /** Everything when absent. */
  maxResults?: number;
  pageToken?: string;
}

export interface SearchRegistryOptions {
  filter?: string;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

export interface CreateModelVersionOptions {
  name: string;
  source: string;
  runId?: string;
  tags?: Tag[];
  runLink?: string;
  description?: string;
  /** MLflow 3.x: the LoggedModel registered (source models:/<model_id>). */
  modelId?: string;
}

/** Experiments, runs, metrics, params, tags. */
export interface TrackingStoreRuns {
  createExperiment(name: string, artifactLocation?: string, tags?: Tag[]): Promise<string>;
  getExperiment(experimentId: string): Promise<Experiment>;
  getExperimentByName(name: string): Promise<Experiment>;
  searchExperiments(opts?: SearchExperimentsOptions): Promise<Page<Experiment>>;
  deleteExperiment(experimentId: string): Promise<void>;
  restoreExperiment(experimentId: string): Promise<void>;
  renameExperiment(experimentId: string, newName: string): Promise<void>;
  setExperimentTag(experimentId: string, key: string, value: string): Promise<void>;
  deleteExperimentTag(experimentId: string, key: string): Promise<void>;

  createRun(opts?: CreateRunOptions): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  updateRun(runId: string, opts: UpdateRunOptions): Promise<RunInfo>;
  deleteRun(runId: string): Promise<void>;
  restoreRun(runId: string): Promise<void>;
  searchRuns(opts: SearchRunsOptions): Promise<Page<Run>>;
  logMetric(runId: string, metric: Metric): Promise<void>;
  logParam(runId: string, param: Param): Promise<void>;
  setTag(runId: string, key: string, value: string): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  logBatch(runId: string, batch: LogBatchOptions): Promise<void>;
  logInputs(runId: string, datasets: { dataset: Dataset; tags?: Tag[] }[]): Promise<void>;
  /** Append an MLmodel dict (as JSON text) to the run's mlflow.log-model.history tag. */
  logModel(runId: string, modelJson: string): Promise<void>;
  getMetricHistory(runId: string, key: string, opts?: MetricHistoryOptions): Promise<Page<Metric>>;
}

/** Registered models, versions, stages and aliases. */
export interface TrackingStoreRegistry {
  createRegisteredModel(name: string, tags?: Tag[], description?: string): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel>;
  updateRegisteredModel(name: string, description: string): Promise<RegisteredModel>;
  deleteRegisteredModel(name: string): Promise<void>;
  searchRegisteredModels(opts?: SearchRegistryOptions): Promise<Page<RegisteredModel>>;
  getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]>;
  setRegisteredModelTag(name: string, key: string, value: string): Promise<void>;
  deleteRegisteredModelTag(name: string, key: string): Promise<void>;
  setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void>;
  deleteRegisteredModelAlias(name: string, alias: string): Promise<void>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;

  createModelVersion(opts: CreateModelVersionOptions): Promise<ModelVersion>;
  getModelVersion(name: string, version: string): Promise<ModelVersion>;
  updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion>;
  transitionModelVersionStage(
    name: string,
    version: string,
    stage: string,
    archiveExistingVersions: boolean,
  ): Promise<ModelVersion>;
  deleteModelVersion(name: string, version: string): Promise<void>;
  searchModelVersions(opts?: SearchRegistryOptions): Promise<Page<ModelVersion>>;
  getModelVersionDownloadUri(name: string, version: string): Promise<string>;
  setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void>;
  deleteModelVersionTag(name: string, version: string, key: string): Promise<void>;
}

export interface CreateLoggedModelOptions {
  experimentId: string;
  /** A random name (like run names) when absent. */
  name?: string;
  modelType?: string;
  sourceRunId?: string;
  params?: Param[];
  tags?: Tag[];
}

export interface SearchLoggedModelsOptions {
  experimentIds: string[];
  /** Attributes name, model_id, model_type, status, source_run_id (= != LIKE ILIKE),
   * creation_timestamp / last_updated_timestamp (numeric), tags.<key>, params.<key>. */
  filter?: string;
  /** 1..50000; default 50 (service.proto). */
  maxResults?: number;
  /** Default creation_timestamp DESC; ties break on model_id ASC. */
  orderBy?: { fieldName: string; ascending?: boolean }[];
  pageToken?: string;
}

/** MLflow 3.x LoggedModels (spec §2.7), used by the 3.x Python client's log_model. */
export interface TrackingStoreLoggedModels {
  createLoggedModel(opts: CreateLoggedModelOptions): Promise<LoggedModel>;
  /** Set the final status (READY or UPLOAD_FAILED) once the artifacts are uploaded. */
  finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel>;
  /** Deleted models are not found. */
  getLoggedModel(modelId: string): Promise<LoggedModel>;
  /** Soft delete: the model disappears from get and search. */
  deleteLoggedModel(modelId: string): Promise<void>;
  searchLoggedModels(opts: SearchLoggedModelsOptions): Promise<Page<LoggedModel>>;
  /** Upsert tags; returns the updated model. */
  setLoggedModelTags(modelId: string, tags: Tag[]): Promise<LoggedModel>;
  /** A missing key is 404, as for run tags. */
  deleteLoggedModelTag(modelId: string, key: string): Promise<void>;
  /** Params are write-once like run params (same value again is fine). */
  logLoggedModelParams(modelId: string, params: Param[]): Promise<void>;
  /** Record that a run produced these models (runs/outputs). */
  logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void>;
}

/** A full tracking backend. `close` releases connections; the store is unusable afterwards. */
export interface TrackingStore extends TrackingStoreRuns, TrackingStoreRegistry, TrackingStoreLoggedModels {
  /** Human-readable kind for diagnostics: 'sqlite' | 'rest'. */
  readonly kind: string;
  close(): Promise<void>;
}
