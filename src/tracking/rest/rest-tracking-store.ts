/**
 * TrackingStore over MLflow's REST API: any MLflow server (self-hosted, DagsHub,
 * `carprice tracking serve`). Requests follow spec §1.2 (GET fields in the query string,
 * JSON bodies otherwise, Content-Type application/json); responses are decoded leniently
 * (missing lists are empty). Errors arrive as AppError with the server's error_code, so a
 * caller cannot tell this store from the embedded one except by speed.
 */
import type { Env } from '../../config/env.js';
import type { Logger } from '../../core/logger.js';
import type { Dataset, Experiment, LoggedModel, LoggedModelStatus, Metric, ModelVersion, Page, Param, RegisteredModel, Run, RunInfo, Tag } from '../entities.js';
import {
  decodeExperiment,
  decodeLoggedModel,
  decodeMetric,
  decodeModelVersion,
  decodeRegisteredModel,
  decodeRun,
  decodeRunInfo,
  encodeDouble,
  encodeTags,
  type Json,
} from '../protocol/codec.js';
import { ENDPOINTS, type Endpoint } from '../protocol/endpoints.js';
import type {
  CreateLoggedModelOptions,
  CreateModelVersionOptions,
  CreateRunOptions,
  LogBatchOptions,
  MetricHistoryOptions,
  SearchExperimentsOptions,
  SearchRegistryOptions,
  SearchLoggedModelsOptions,
  SearchRunsOptions,
  TrackingStore,
  UpdateRunOptions,
} from '../store.js';
import { MlflowHttpClient, type MlflowHttpClientOptions } from './http-client.js';

export interface RestTrackingStoreOptions extends Omit<MlflowHttpClientOptions, 'baseUrl'> {
  /** The tracking URI, e.g. http://127.0.0.1:5000 or https://dagshub.com/OWNER/REPO.mlflow. */
  trackingUri: string;
  env?: Env;
  logger?: Logger;
}

function list(x: unknown): Json[] {
  return Array.isArray(x) ? (x as Json[]) : [];
}

function page<T>(items: T[], token: unknown): Page<T> {
  return typeof token === 'string' && token !== '' ? { items, nextPageToken: token } : { items };
}

function metricJson(m: Metric): Json {
  const out: Json = { key: m.key, value: encodeDouble(m.value), timestamp: m.timestamp, step: m.step };
  if (m.modelId !== undefined) out.model_id = m.modelId;
  if (m.datasetName !== undefined) out.dataset_name = m.datasetName;
  if (m.datasetDigest !== undefined) out.dataset_digest = m.datasetDigest;
  return out;
}

/** Remove undefined entries so they are not sent. */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export class RestTrackingStore implements TrackingStore {
  readonly kind = 'rest';
  readonly http: MlflowHttpClient;

  constructor(opts: RestTrackingStoreOptions) {
    this.http = new MlflowHttpClient({ ...opts, baseUrl: opts.trackingUri });
  }

  async close(): Promise<void> {
    // fetch keeps no per-store state to release.
  }

  /** Call one endpoint: GET sends a query string, every other method a JSON body. */
  async call(endpoint: Endpoint, fields: Record<string, unknown>): Promise<Json> {
    const method = endpoint.methods[0];
    const body = defined(fields);
    // `:name` path parameters are filled from their field, which also stays in the query
    // string / body: MLflow's handlers (finalize, get logged model) read it from there too,
    // as its Python client sends it in both places.
    const path = '/api/2.0' + endpoint.path.replace(/:([a-z_]+)/g, (_m, name: string) => encodeURIComponent(String(body[name] ?? '')));
    if (method === 'GET') {
      const query: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(body)) query[k] = Array.isArray(v) ? v.map(String) : String(v);
      return this.http.request({ method, path, query });
    }
    return this.http.request({ method, path, json: body });
  }

  // ------------------------------------------------------------ experiments

  async createExperiment(name: string, artifactLocation?: string, tags?: Tag[]): Promise<string> {
    const out = await this.call(ENDPOINTS.createExperiment, { name, artifact_location: artifactLocation, tags: tags && encodeTags(tags) });
    return String(out.experiment_id);
  }
  async getExperiment(experimentId: string): Promise<Experiment> {
    const out = await this.call(ENDPOINTS.getExperiment, { experiment_id: experimentId });
    return decodeExperiment(out.experiment as Json);
  }
  async getExperimentByName(name: string): Promise<Experiment> {
    const out = await this.call(ENDPOINTS.getExperimentByName, { experiment_name: name });
    return decodeExperiment(out.experiment as Json);
  }
  async searchExperiments(opts: SearchExperimentsOptions = {}): Promise<Page<Experiment>> {
    const out = await this.call(ENDPOINTS.searchExperiments, {
      max_results: opts.maxResults ?? 1000,
      page_token: opts.pageToken,
      filter: opts.filter,
      order_by: opts.orderBy,
      view_type: opts.viewType,
    });
    return page(list(out.experiments).map(decodeExperiment), out.next_page_token);
  }
  async deleteExperiment(experimentId: string): Promise<void> {
    await this.call(ENDPOINTS.deleteExperiment, { experiment_id: experimentId });
  }
  async restoreExperiment(experimentId: string): Promise<void> {
    await this.call(ENDPOINTS.restoreExperiment, { experiment_id: experimentId });
  }
  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    await this.call(ENDPOINTS.updateExperiment, { experiment_id: experimentId, new_name: newName });
  }
  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    await this.call(ENDPOINTS.setExperimentTag, { experiment_id: experimentId, key, value });
  }
  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    await this.call(ENDPOINTS.deleteExperimentTag, { experiment_id: experimentId, key });
  }

  // ------------------------------------------------------------ runs

  async createRun(opts: CreateRunOptions = {}): Promise<Run> {
    const out = await this.call(ENDPOINTS.createRun, {
      experiment_id: opts.experimentId,
      user_id: opts.userId,
      run_name: opts.runName,
      start_time: opts.startTime ?? Date.now(),
      tags: opts.tags && encodeTags(opts.tags),
    });
    return decodeRun(out.run as Json);
  }
  async getRun(runId: string): Promise<Run> {
    const out = await this.call(ENDPOINTS.getRun, { run_id: runId });
    return decodeRun(out.run as Json);
  }
  async updateRun(runId: string, opts: UpdateRunOptions): Promise<RunInfo> {
    const out = await this.call(ENDPOINTS.updateRun, { run_id: runId, run_uuid: runId, status: opts.status, end_time: opts.endTime, run_name: opts.runName });
    return decodeRunInfo(out.run_info as Json);
  }
  async deleteRun(runId: string): Promise<void> {
    await this.call(ENDPOINTS.deleteRun, { run_id: runId });
  }
  async restoreRun(runId: string): Promise<void> {
    await this.call(ENDPOINTS.restoreRun, { run_id: runId });
  }
  async searchRuns(opts: SearchRunsOptions): Promise<Page<Run>> {
    const out = await this.call(ENDPOINTS.searchRuns, {
      experiment_ids: opts.experimentIds,
      filter: opts.filter,
      run_view_type: opts.viewType,
      max_results: opts.maxResults,
      order_by: opts.orderBy,
      page_token: opts.pageToken,
    });
    return page(list(out.runs).map(decodeRun), out.next_page_token);
  }
  async logMetric(runId: string, metric: Metric): Promise<void> {
    await this.call(ENDPOINTS.logMetric, { run_id: runId, run_uuid: runId, ...metricJson(metric) });
  }
  async logParam(runId: string, param: Param): Promise<void> {
    await this.call(ENDPOINTS.logParam, { run_id: runId, run_uuid: runId, key: param.key, value: param.value });
  }
  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.call(ENDPOINTS.setTag, { run_id: runId, run_uuid: runId, key, value });
  }
  async deleteTag(runId: string, key: string): Promise<void> {
    await this.call(ENDPOINTS.deleteTag, { run_id: runId, key });
  }
  async logBatch(runId: string, batch: LogBatchOptions): Promise<void> {
    await this.call(ENDPOINTS.logBatch, {
      run_id: runId,
      metrics: (batch.metrics ?? []).map(metricJson),
      params: (batch.params ?? []).map((p) => ({ key: p.key, value: p.value })),
      tags: encodeTags(batch.tags ?? []),
    });
  }
  async logInputs(runId: string, datasets: { dataset: Dataset; tags?: Tag[] }[]): Promise<void> {
    await this.call(ENDPOINTS.logInputs, {
      run_id: runId,
      datasets: datasets.map((d) => ({
        tags: encodeTags(d.tags ?? []),
        dataset: defined({
          name: d.dataset.name,
          digest: d.dataset.digest,
          source_type: d.dataset.sourceType,
          source: d.dataset.source,
          schema: d.dataset.schema,
          profile: d.dataset.profile,
        }),
      })),
    });
  }
  async logModel(runId: string, modelJson: string): Promise<void> {
    await this.call(ENDPOINTS.logModel, { run_id: runId, model_json: modelJson });
  }
  async getMetricHistory(runId: string, key: string, opts: MetricHistoryOptions = {}): Promise<Page<Metric>> {
    if (opts.maxResults !== undefined || opts.pageToken !== undefined) {
      const out = await this.call(ENDPOINTS.getMetricHistory, { run_id: runId, run_uuid: runId, metric_key: key, max_results: opts.maxResults, page_token: opts.pageToken });
      return page(list(out.metrics).map(decodeMetric), out.next_page_token);
    }
    // Everything: page through with MLflow's own page size (servers >= 3.4 need max_results).
    const all: Metric[] = [];
    let token: string | undefined;
    do {
      const out = await this.call(ENDPOINTS.getMetricHistory, { run_id: runId, run_uuid: runId, metric_key: key, max_results: 25000, page_token: token });
      const got = list(out.metrics).map(decodeMetric);
      all.push(...got);
      token = typeof out.next_page_token === 'string' && out.next_page_token && got.length > 0 ? out.next_page_token : undefined;
    } while (token);
    return { items: all };
  }

  // ------------------------------------------------------------ registry

  async createRegisteredModel(name: string, tags?: Tag[], description?: string): Promise<RegisteredModel> {
    const out = await this.call(ENDPOINTS.createRegisteredModel, { name, tags: tags && encodeTags(tags), description });
    return decodeRegisteredModel(out.registered_model as Json);
  }
  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const out = await this.call(ENDPOINTS.getRegisteredModel, { name });
    return decodeRegisteredModel(out.registered_model as Json);
  }
  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    const out = await this.call(ENDPOINTS.renameRegisteredModel, { name, new_name: newName });
    return decodeRegisteredModel(out.registered_model as Json);
  }
  async updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
    const out = await this.call(ENDPOINTS.updateRegisteredModel, { name, description });
    return decodeRegisteredModel(out.registered_model as Json);
  }
  async deleteRegisteredModel(name: string): Promise<void> {
    await this.call(ENDPOINTS.deleteRegisteredModel, { name });
  }
  async searchRegisteredModels(opts: SearchRegistryOptions = {}): Promise<Page<RegisteredModel>> {
    const out = await this.call(ENDPOINTS.searchRegisteredModels, {
      filter: opts.filter,
      max_results: opts.maxResults,
      order_by: opts.orderBy,
      page_token: opts.pageToken,
    });
    return page(list(out.registered_models).map(decodeRegisteredModel), out.next_page_token);
  }
  async getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    const out = await this.call(ENDPOINTS.getLatestVersions, { name, stages });
    return list(out.model_versions).map(decodeModelVersion);
  }
  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    await this.call(ENDPOINTS.setRegisteredModelTag, { name, key, value });
  }
  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    await this.call(ENDPOINTS.deleteRegisteredModelTag, { name, key });
  }
  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call(ENDPOINTS.setRegisteredModelAlias, { name, alias, version });
  }
  async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    await this.call(ENDPOINTS.deleteRegisteredModelAlias, { name, alias });
  }
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const out = await this.call(ENDPOINTS.getModelVersionByAlias, { name, alias });
    return decodeModelVersion(out.model_version as Json);
  }
  async createModelVersion(opts: CreateModelVersionOptions): Promise<ModelVersion> {
    const out = await this.call(ENDPOINTS.createModelVersion, {
      name: opts.name,
      source: opts.source,
      run_id: opts.runId,
      tags: opts.tags && encodeTags(opts.tags),
      run_link: opts.runLink,
      description: opts.description,
      model_id: opts.modelId,
    });
    return decodeModelVersion(out.model_version as Json);
  }
  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const out = await this.call(ENDPOINTS.getModelVersion, { name, version });
    return decodeModelVersion(out.model_version as Json);
  }
  async updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion> {
    const out = await this.call(ENDPOINTS.updateModelVersion, { name, version, description });
    return decodeModelVersion(out.model_version as Json);
  }
  async transitionModelVersionStage(name: string, version: string, stage: string, archiveExistingVersions: boolean): Promise<ModelVersion> {
    const out = await this.call(ENDPOINTS.transitionModelVersionStage, { name, version, stage, archive_existing_versions: archiveExistingVersions });
    return decodeModelVersion(out.model_version as Json);
  }
  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.call(ENDPOINTS.deleteModelVersion, { name, version });
  }
  async searchModelVersions(opts: SearchRegistryOptions = {}): Promise<Page<ModelVersion>> {
    const out = await this.call(ENDPOINTS.searchModelVersions, {
      filter: opts.filter,
      max_results: opts.maxResults,
      order_by: opts.orderBy,
      page_token: opts.pageToken,
    });
    return page(list(out.model_versions).map(decodeModelVersion), out.next_page_token);
  }
  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    const out = await this.call(ENDPOINTS.getModelVersionDownloadUri, { name, version });
    return String(out.artifact_uri ?? '');
  }
  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.call(ENDPOINTS.setModelVersionTag, { name, version, key, value });
  }
  async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    await this.call(ENDPOINTS.deleteModelVersionTag, { name, version, key });
  }

  // ------------------------------------------------------------ logged models (MLflow 3.x)

  async createLoggedModel(opts: CreateLoggedModelOptions): Promise<LoggedModel> {
    const out = await this.call(ENDPOINTS.createLoggedModel, {
      experiment_id: opts.experimentId,
      name: opts.name,
      model_type: opts.modelType,
      source_run_id: opts.sourceRunId,
      params: opts.params && encodeTags(opts.params),
      tags: opts.tags && encodeTags(opts.tags),
    });
    return decodeLoggedModel(out.model as Json);
  }
  async finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel> {
    const out = await this.call(ENDPOINTS.finalizeLoggedModel, { model_id: modelId, status });
    return decodeLoggedModel(out.model as Json);
  }
  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    const out = await this.call(ENDPOINTS.getLoggedModel, { model_id: modelId });
    return decodeLoggedModel(out.model as Json);
  }
  async deleteLoggedModel(modelId: string): Promise<void> {
    await this.call(ENDPOINTS.deleteLoggedModel, { model_id: modelId });
  }
  async searchLoggedModels(opts: SearchLoggedModelsOptions): Promise<Page<LoggedModel>> {
    const out = await this.call(ENDPOINTS.searchLoggedModels, {
      experiment_ids: opts.experimentIds,
      filter: opts.filter,
      max_results: opts.maxResults,
      order_by: opts.orderBy?.map((o) => ({ field_name: o.fieldName, ascending: o.ascending ?? true })),
      page_token: opts.pageToken,
    });
    return page(list(out.models).map(decodeLoggedModel), out.next_page_token);
  }
  async setLoggedModelTags(modelId: string, tags: Tag[]): Promise<LoggedModel> {
    await this.call(ENDPOINTS.setLoggedModelTags, { model_id: modelId, tags: encodeTags(tags) });
    // MLflow 3.5 answers {} here (its proto promises the model), so read it back.
    return this.getLoggedModel(modelId);
  }
  async deleteLoggedModelTag(modelId: string, key: string): Promise<void> {
    await this.call(ENDPOINTS.deleteLoggedModelTag, { model_id: modelId, tag_key: key });
  }
  async logLoggedModelParams(modelId: string, params: Param[]): Promise<void> {
    await this.call(ENDPOINTS.logLoggedModelParams, { model_id: modelId, params: encodeTags(params) });
  }
  async logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    await this.call(ENDPOINTS.logOutputs, { run_id: runId, models: models.map((m) => ({ model_id: m.modelId, step: m.step })) });
  }
}
