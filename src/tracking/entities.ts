/**
 * The tracking and registry entities, in TypeScript shape (camelCase). They mirror MLflow's
 * protobuf messages one to one (service.proto, model_registry.proto); protocol/codec.ts
 * turns them into MLflow's snake_case wire JSON and back.
 */

/** Which lifecycle stages a search covers. */
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
export const VIEW_TYPES: readonly ViewType[] = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'];

export type LifecycleStage = 'active' | 'deleted';

/** Run status, as MLflow's RunStatus enum. */
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];

/** Public model version stages (input is case-insensitive; these are the canonical spellings). */
export type Stage = 'None' | 'Staging' | 'Production' | 'Archived';
export const STAGES: readonly Stage[] = ['None', 'Staging', 'Production', 'Archived'];

export type ModelVersionStatus = 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';

/** A key/value tag (run, experiment, registered model, model version). */
export interface Tag {
  key: string;
  value: string;
}

/** A run parameter: write-once per run. */
export interface Param {
  key: string;
  value: string;
}

/** One metric point. `value` may be NaN or +-Infinity. */
export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
  /** MLflow 3.x: the LoggedModel this point evaluates (set only when logged with one). */
  modelId?: string;
  datasetName?: string;
  datasetDigest?: string;
  /** MLflow 3.x: the run that logged the point (on a LoggedModel's metrics). */
  runId?: string;
}

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Tag[];
}

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
}

export interface RunData {
  /** Latest value per key: the point with the largest (step, timestamp, value). */
  metrics: Metric[];
  params: Param[];
  tags: Tag[];
}

/** A dataset a run used (log-inputs). */
export interface Dataset {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  tags: Tag[];
  dataset: Dataset;
}

/** A LoggedModel a run produced (runs/outputs, MLflow 3.x). */
export interface ModelOutput {
  modelId: string;
  step: number;
}

export interface Run {
  info: RunInfo;
  data: RunData;
  inputs: { datasetInputs: DatasetInput[] };
  /** Present only when the run logged outputs (MLflow 3.x LoggedModels). */
  outputs?: { modelOutputs: ModelOutput[] };
}

/** A file or directory in a run's artifact tree; `path` is relative to the listed root. */
export interface FileInfo {
  path: string;
  isDir: boolean;
  fileSize?: number;
}

export interface RegisteredModelAlias {
  alias: string;
  version: string;
}

export interface ModelVersion {
  name: string;
  version: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  userId?: string;
  currentStage: Stage;
  description?: string;
  source: string;
  runId?: string;
  status: ModelVersionStatus;
  statusMessage?: string;
  tags: Tag[];
  runLink?: string;
  aliases: string[];
  /** The MLflow 3.x LoggedModel this version was registered from, if any. */
  modelId?: string;
}

export interface RegisteredModel {
  name: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  userId?: string;
  description?: string;
  /** Highest version per stage (None/Staging/Production/Archived), deleted ones excluded. */
  latestVersions: ModelVersion[];
  tags: Tag[];
  aliases: RegisteredModelAlias[];
}

/** Lifecycle of an MLflow 3.x LoggedModel (service.proto LoggedModelStatus, by proto number). */
export type LoggedModelStatus =
  'LOGGED_MODEL_STATUS_UNSPECIFIED' | 'LOGGED_MODEL_PENDING' | 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED';
export const LOGGED_MODEL_STATUSES: readonly LoggedModelStatus[] = [
  'LOGGED_MODEL_STATUS_UNSPECIFIED',
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
];

/**
 * An MLflow 3.x LoggedModel: a model logged from a run (or on its own) with its own id
 * (`m-<32 hex>`) and artifact location `<experiment artifact_location>/models/<id>/artifacts`.
 */
export interface LoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  artifactLocation: string;
  creationTimestampMs: number;
  lastUpdatedTimestampMs: number;
  status: LoggedModelStatus;
  modelType?: string;
  sourceRunId?: string;
  statusMessage?: string;
  tags: Tag[];
  params: Param[];
  /** Every metric point logged with this model's id, ordered by key, step, timestamp. */
  metrics: Metric[];
}

/** One page of a search; `nextPageToken` is absent on the last page. */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/** Well-known system tags (mlflow/utils/mlflow_tags.py). */
export const SYSTEM_TAGS = {
  runName: 'mlflow.runName',
  user: 'mlflow.user',
  parentRunId: 'mlflow.parentRunId',
  sourceName: 'mlflow.source.name',
  sourceType: 'mlflow.source.type',
  gitCommit: 'mlflow.source.git.commit',
  note: 'mlflow.note.content',
  logModelHistory: 'mlflow.log-model.history',
} as const;

/** Canonicalise a stage name case-insensitively; undefined when it is not a public stage. */
export function canonicalStage(input: string): Stage | undefined {
  const low = input.toLowerCase();
  return STAGES.find((s) => s.toLowerCase() === low);
}
