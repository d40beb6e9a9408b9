/**
 * The MLflow REST 2.0 endpoint table (service.proto, model_registry.proto; spec §2),
 * shared by both sides of the wire: the server mounts each entry under /api/2.0 and
 * /ajax-api/2.0, and the REST store calls the same entries. Each entry gives the HTTP
 * methods, the path below the version prefix, and the request fields.
 */
import { LOGGED_MODEL_STATUSES, RUN_STATUSES, VIEW_TYPES } from '../entities.js';
import { opt, req, type Fields } from './fields.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface Endpoint<F extends Fields = Fields> {
  /** Methods the server accepts; the client uses the first. */
  methods: readonly HttpMethod[];
  /**
   * Path below /api/2.0, e.g. /mlflow/runs/create. `:name` segments are path parameters
   * (service.proto `{name}`), filled from the request field of the same name.
   */
  path: string;
  fields: F;
}

function ep<const F extends Fields>(methods: readonly HttpMethod[], path: string, fields: F): Endpoint<F> {
  return { methods, path, fields };
}

const viewType = { enum: VIEW_TYPES } as const;
const runStatus = { enum: RUN_STATUSES } as const;
const loggedModelStatus = { enum: LOGGED_MODEL_STATUSES } as const;

/** Every RPC carprice serves and calls, keyed by MLflow's RPC name (camelCased). */
export const ENDPOINTS = {
  // experiments
  createExperiment: ep(['POST'], '/mlflow/experiments/create', {
    name: req('string'),
    artifact_location: opt('string'),
    tags: opt('tagList'),
  }),
  getExperiment: ep(['GET'], '/mlflow/experiments/get', { experiment_id: req('string') }),
  getExperimentByName: ep(['GET'], '/mlflow/experiments/get-by-name', { experiment_name: req('string') }),
  searchExperiments: ep(['POST', 'GET'], '/mlflow/experiments/search', {
    max_results: opt('int64'),
    page_token: opt('string'),
    filter: opt('string'),
    order_by: opt('stringList'),
    view_type: opt(viewType),
  }),
  deleteExperiment: ep(['POST'], '/mlflow/experiments/delete', { experiment_id: req('string') }),
  restoreExperiment: ep(['POST'], '/mlflow/experiments/restore', { experiment_id: req('string') }),
  updateExperiment: ep(['POST'], '/mlflow/experiments/update', {
    experiment_id: req('string'),
    new_name: req('string'),
  }),
  setExperimentTag: ep(['POST'], '/mlflow/experiments/set-experiment-tag', {
    experiment_id: req('string'),
    key: req('string'),
    value: req('string'),
  }),
  deleteExperimentTag: ep(['POST'], '/mlflow/experiments/delete-experiment-tag', {
    experiment_id: req('string'),
    key: req('string'),
  }),

  // runs
  createRun: ep(['POST'], '/mlflow/runs/create', {
    experiment_id: opt('string'),
    user_id: opt('string'),
    run_name: opt('string'),
    start_time: opt('int64'),
    tags: opt('tagList'),
  }),
  updateRun: ep(['POST'], '/mlflow/runs/update', {
    run_id: req('string', 'run_uuid'),
    status: opt(runStatus),
    end_time: opt('int64'),
    run_name: opt('string'),
  }),
  deleteRun: ep(['POST'], '/mlflow/runs/delete', { run_id: req('string') }),
  restoreRun: ep(['POST'], '/mlflow/runs/restore', { run_id: req('string') }),
  getRun: ep(['GET'], '/mlflow/runs/get', { run_id: req('string', 'run_uuid') }),
  searchRuns: ep(['POST'], '/mlflow/runs/search', {
    experiment_ids: opt('stringList'),
    filter: opt('string'),
    run_view_type: opt(viewType),
    max_results: opt('int64'),
    order_by: opt('stringList'),
    page_token: opt('string'),
  }),
  logMetric: ep(['POST'], '/mlflow/runs/log-metric', {
    run_id: req('string', 'run_uuid'),
    key: req('string'),
    value: req('double'),
    timestamp: req('int64'),
    step: opt('int64'),
    model_id: opt('string'),
    dataset_name: opt('string'),
    dataset_digest: opt('string'),
  }),
  logParam: ep(['POST'], '/mlflow/runs/log-parameter', {
    run_id: req('string', 'run_uuid'),
    key: req('string'),
    value: opt('string'),
  }),
  setTag: ep(['POST'], '/mlflow/runs/set-tag', {
    run_id: req('string', 'run_uuid'),
    key: req('string'),
    value: opt('string'),
  }),
  deleteTag: ep(['POST'], '/mlflow/runs/delete-tag', { run_id: req('string'), key: req('string') }),
  logBatch: ep(['POST'], '/mlflow/runs/log-batch', {
    run_id: req('string'),
    metrics: opt('metricList'),
    params: opt('tagList'),
    tags: opt('tagList'),
  }),
  logInputs: ep(['POST'], '/mlflow/runs/log-inputs', { run_id: req('string'), datasets: opt('datasetInputList') }),
  logModel: ep(['POST'], '/mlflow/runs/log-model', { run_id: req('string'), model_json: req('string') }),
  getMetricHistory: ep(['GET'], '/mlflow/metrics/get-history', {
    run_id: req('string', 'run_uuid'),
    metric_key: req('string'),
    max_results: opt('int64'),
    page_token: opt('string'),
  }),
  listArtifacts: ep(['GET'], '/mlflow/artifacts/list', {
    run_id: req('string', 'run_uuid'),
    path: opt('string'),
    page_token: opt('string'),
  }),
  logOutputs: ep(['POST'], '/mlflow/runs/outputs', { run_id: req('string'), models: opt('modelOutputList') }),

  // logged models (MLflow 3.x, spec §2.7)
  createLoggedModel: ep(['POST'], '/mlflow/logged-models', {
    experiment_id: req('string'),
    name: opt('string'),
    model_type: opt('string'),
    source_run_id: opt('string'),
    params: opt('tagList'),
    tags: opt('tagList'),
  }),
  searchLoggedModels: ep(['POST'], '/mlflow/logged-models/search', {
    experiment_ids: opt('stringList'),
    filter: opt('string'),
    max_results: opt('int64'),
    order_by: opt('orderByList'),
    page_token: opt('string'),
  }),
  finalizeLoggedModel: ep(['PATCH'], '/mlflow/logged-models/:model_id', {
    model_id: req('string'),
    status: req(loggedModelStatus),
  }),
  getLoggedModel: ep(['GET'], '/mlflow/logged-models/:model_id', { model_id: req('string') }),
  deleteLoggedModel: ep(['DELETE'], '/mlflow/logged-models/:model_id', { model_id: req('string') }),
  setLoggedModelTags: ep(['PATCH'], '/mlflow/logged-models/:model_id/tags', {
    model_id: req('string'),
    tags: opt('tagList'),
  }),
  deleteLoggedModelTag: ep(['DELETE'], '/mlflow/logged-models/:model_id/tags/:tag_key', {
    model_id: req('string'),
    tag_key: req('string'),
  }),
  listLoggedModelArtifacts: ep(['GET'], '/mlflow/logged-models/:model_id/artifacts/directories', {
    model_id: req('string'),
    artifact_directory_path: opt('string'),
    page_token: opt('string'),
  }),
  logLoggedModelParams: ep(['POST'], '/mlflow/logged-models/:model_id/params', {
    model_id: req('string'),
    params: opt('tagList'),
  }),

  // registered models
  createRegisteredModel: ep(['POST'], '/mlflow/registered-models/create', {
    name: req('string'),
    tags: opt('tagList'),
    description: opt('string'),
  }),
  getRegisteredModel: ep(['GET'], '/mlflow/registered-models/get', { name: req('string') }),
  renameRegisteredModel: ep(['POST'], '/mlflow/registered-models/rename', {
    name: req('string'),
    new_name: req('string'),
  }),
  updateRegisteredModel: ep(['PATCH'], '/mlflow/registered-models/update', {
    name: req('string'),
    description: opt('string'),
  }),
  deleteRegisteredModel: ep(['DELETE'], '/mlflow/registered-models/delete', { name: req('string') }),
  searchRegisteredModels: ep(['GET'], '/mlflow/registered-models/search', {
    filter: opt('string'),
    max_results: opt('int64'),
    order_by: opt('stringList'),
    page_token: opt('string'),
  }),
  getLatestVersions: ep(['POST', 'GET'], '/mlflow/registered-models/get-latest-versions', {
    name: req('string'),
    stages: opt('stringList'),
  }),
  setRegisteredModelTag: ep(['POST'], '/mlflow/registered-models/set-tag', {
    name: req('string'),
    key: req('string'),
    value: opt('string'),
  }),
  deleteRegisteredModelTag: ep(['DELETE'], '/mlflow/registered-models/delete-tag', {
    name: req('string'),
    key: req('string'),
  }),
  setRegisteredModelAlias: ep(['POST'], '/mlflow/registered-models/alias', {
    name: req('string'),
    alias: req('string'),
    version: req('string'),
  }),
  deleteRegisteredModelAlias: ep(['DELETE'], '/mlflow/registered-models/alias', {
    name: req('string'),
    alias: req('string'),
  }),
  getModelVersionByAlias: ep(['GET'], '/mlflow/registered-models/alias', { name: req('string'), alias: req('string') }),

  // model versions
  createModelVersion: ep(['POST'], '/mlflow/model-versions/create', {
    name: req('string'),
    source: req('string'),
    run_id: opt('string'),
    tags: opt('tagList'),
    run_link: opt('string'),
    description: opt('string'),
    model_id: opt('string'),
  }),
  getModelVersion: ep(['GET'], '/mlflow/model-versions/get', { name: req('string'), version: req('string') }),
  updateModelVersion: ep(['PATCH'], '/mlflow/model-versions/update', {
    name: req('string'),
    version: req('string'),
    description: opt('string'),
  }),
  transitionModelVersionStage: ep(['POST'], '/mlflow/model-versions/transition-stage', {
    name: req('string'),
    version: req('string'),
    stage: req('string'),
    archive_existing_versions: opt('bool'),
  }),
  deleteModelVersion: ep(['DELETE'], '/mlflow/model-versions/delete', { name: req('string'), version: req('string') }),
  searchModelVersions: ep(['GET'], '/mlflow/model-versions/search', {
    filter: opt('string'),
    max_results: opt('int64'),
    order_by: opt('stringList'),
    page_token: opt('string'),
  }),
  getModelVersionDownloadUri: ep(['GET'], '/mlflow/model-versions/get-download-uri', {
    name: req('string'),
    version: req('string'),
  }),
  setModelVersionTag: ep(['POST'], '/mlflow/model-versions/set-tag', {
    name: req('string'),
    version: req('string'),
    key: req('string'),
    value: req('string'),
  }),
  deleteModelVersionTag: ep(['DELETE'], '/mlflow/model-versions/delete-tag', {
    name: req('string'),
    version: req('string'),
    key: req('string'),
  }),
} as const;

export type EndpointName = keyof typeof ENDPOINTS;

/** The version prefixes every endpoint is mounted under. */
export const API_PREFIXES = ['/api/2.0', '/ajax-api/2.0'] as const;

/** Base path of the proxied artifact service. */
export const ARTIFACTS_PREFIX = '/api/2.0/mlflow-artifacts/artifacts';
