/**
 * One handler per REST endpoint: takes the parsed request (protocol/fields.ts), calls the
 * store, and returns the response message as wire JSON (protocol/codec.ts). Empty lists
 * and unset fields are omitted, as MLflow's message_to_json does.
 */
import { AppError } from '../../core/errors.js';
import type { Parsed } from '../protocol/fields.js';
import { ENDPOINTS, type EndpointName } from '../protocol/endpoints.js';
import {
  encodeExperiment,
  encodeFileInfo,
  encodeLoggedModel,
  encodeMetric,
  encodeFetchedRun,
  encodeListedModelVersion,
  encodeModelVersion,
  encodeRegisteredModel,
  encodeRun,
  encodeRunInfo,
  type Json,
} from '../protocol/codec.js';
import type { TrackingStore } from '../store.js';
import type { Metric, Page } from '../entities.js';
import type { ArtifactRepository } from '../artifacts/artifact-repository.js';
import { safeRelativePath } from '../artifacts/artifact-repository.js';

/** What handlers need besides the store. */
export interface HandlerContext {
  store: TrackingStore;
  /** The repository holding a run's artifacts, given the run's artifact_uri. */
  artifactsFor(artifactUri: string): ArtifactRepository;
}

export type Handlers = {
  [K in EndpointName]: (req: Parsed<(typeof ENDPOINTS)[K]['fields']>, ctx: HandlerContext) => Promise<Json>;
};

function paged<T>(key: string, p: Page<T>, encode: (t: T) => Json): Json {
  const out: Json = {};
  if (p.items.length) out[key] = p.items.map(encode);
  if (p.nextPageToken) out.next_page_token = p.nextPageToken;
  return out;
}

function metricsOf(metrics: { key: string; value: number; timestamp: number; step: number }[] | undefined) {
  return metrics ?? [];
}

export const handlers: Handlers = {
  async createExperiment(r, { store }) {
    return { experiment_id: await store.createExperiment(r.name, r.artifact_location, r.tags) };
  },
  async getExperiment(r, { store }) {
    return { experiment: encodeExperiment(await store.getExperiment(r.experiment_id)) };
  },
  async getExperimentByName(r, { store }) {
    return { experiment: encodeExperiment(await store.getExperimentByName(r.experiment_name)) };
  },
  async searchExperiments(r, { store }) {
    // The reference has no default for max_results (0 -> 400); carprice uses 1000 like its clients.
    const p = await store.searchExperiments({
      maxResults: r.max_results ?? 1000,
      pageToken: r.page_token,
      filter: r.filter,
      orderBy: r.order_by,
      viewType: r.view_type,
    });
    return paged('experiments', p, encodeExperiment);
  },
  async deleteExperiment(r, { store }) {
    await store.deleteExperiment(r.experiment_id);
    return {};
  },
  async restoreExperiment(r, { store }) {
    await store.restoreExperiment(r.experiment_id);
    return {};
  },
  async updateExperiment(r, { store }) {
    await store.renameExperiment(r.experiment_id, r.new_name);
    return {};
  },
  async setExperimentTag(r, { store }) {
    await store.setExperimentTag(r.experiment_id, r.key, r.value);
    return {};
  },
  async deleteExperimentTag(r, { store }) {
    await store.deleteExperimentTag(r.experiment_id, r.key);
    return {};
  },

  async createRun(r, { store }) {
    // MLflow 3.5 refuses a run without an experiment (400 BAD_REQUEST, from its foreign key)
    // rather than putting it in Default; so does carprice, saying which field is missing.
    if (r.experiment_id === undefined)
      throw new AppError(
        'BAD_REQUEST',
        `Missing value for parameter 'experiment_id': a run is created in an experiment; pass its id ("0" is Default).`,
      );
    const run = await store.createRun({
      experimentId: r.experiment_id,
      userId: r.user_id,
      runName: r.run_name,
      startTime: r.start_time === undefined || r.start_time === 0 ? undefined : r.start_time,
      tags: r.tags,
    });
    return { run: encodeRun(run) };
  },
  async updateRun(r, { store }) {
    const info = await store.updateRun(r.run_id, { status: r.status, endTime: r.end_time, runName: r.run_name });
    return { run_info: encodeRunInfo(info) };
  },
  async deleteRun(r, { store }) {
    await store.deleteRun(r.run_id);
    return {};
  },
  async restoreRun(r, { store }) {
    await store.restoreRun(r.run_id);
    return {};
  },
  async getRun(r, { store }) {
    return { run: encodeFetchedRun(await store.getRun(r.run_id)) };
  },
  async searchRuns(r, { store }) {
    const p = await store.searchRuns({
      experimentIds: r.experiment_ids ?? [],
      filter: r.filter,
      viewType: r.run_view_type,
      maxResults: r.max_results,
      orderBy: r.order_by,
      pageToken: r.page_token,
    });
    return paged('runs', p, encodeRun);
  },
  async logMetric(r, { store }) {
    const metric: Metric = { key: r.key, value: r.value, timestamp: r.timestamp, step: r.step ?? 0 };
    if (r.model_id) metric.modelId = r.model_id;
    if (r.dataset_name) metric.datasetName = r.dataset_name;
    if (r.dataset_digest) metric.datasetDigest = r.dataset_digest;
    await store.logMetric(r.run_id, metric);
    return {};
  },
  async logParam(r, { store }) {
    await store.logParam(r.run_id, { key: r.key, value: r.value ?? '' });
    return {};
  },
  async setTag(r, { store }) {
    await store.setTag(r.run_id, r.key, r.value ?? '');
    return {};
  },
  async deleteTag(r, { store }) {
    await store.deleteTag(r.run_id, r.key);
    return {};
  },
  async logBatch(r, { store }) {
    await store.logBatch(r.run_id, { metrics: metricsOf(r.metrics), params: r.params ?? [], tags: r.tags ?? [] });
    return {};
  },
  async logInputs(r, { store }) {
    await store.logInputs(r.run_id, r.datasets ?? []);
    return {};
  },
  async logModel(r, { store }) {
    await store.logModel(r.run_id, r.model_json);
    return {};
  },
  async getMetricHistory(r, { store }) {
    const p = await store.getMetricHistory(r.run_id, r.metric_key, {
      maxResults: r.max_results,
      pageToken: r.page_token,
    });
    return paged('metrics', p, encodeMetric);
  },
  async listArtifacts(r, ctx) {
    const run = await ctx.store.getRun(r.run_id);
    const path = safeRelativePath(r.path);
    const files = await ctx.artifactsFor(run.info.artifactUri).list(path);
    const out: Json = { root_uri: run.info.artifactUri };
    if (files.length) out.files = files.map(encodeFileInfo);
    return out;
  },
  async logOutputs(r, { store }) {
    await store.logOutputs(r.run_id, r.models ?? []);
    return {};
  },

  async createLoggedModel(r, { store }) {
    const model = await store.createLoggedModel({
      experimentId: r.experiment_id,
      name: r.name,
      modelType: r.model_type,
      sourceRunId: r.source_run_id,
      params: r.params,
      tags: r.tags,
    });
    return { model: encodeLoggedModel(model) };
  },
  async searchLoggedModels(r, { store }) {
    const p = await store.searchLoggedModels({
      experimentIds: r.experiment_ids ?? [],
      filter: r.filter,
      maxResults: r.max_results,
      orderBy: r.order_by,
      pageToken: r.page_token,
    });
    return paged('models', p, encodeLoggedModel);
  },
  async finalizeLoggedModel(r, { store }) {
    return { model: encodeLoggedModel(await store.finalizeLoggedModel(r.model_id, r.status)) };
  },
  async getLoggedModel(r, { store }) {
    return { model: encodeLoggedModel(await store.getLoggedModel(r.model_id)) };
  },
  async deleteLoggedModel(r, { store }) {
    await store.deleteLoggedModel(r.model_id);
    return {};
  },
  async setLoggedModelTags(r, { store }) {
    return { model: encodeLoggedModel(await store.setLoggedModelTags(r.model_id, r.tags ?? [])) };
  },
  async deleteLoggedModelTag(r, { store }) {
    await store.deleteLoggedModelTag(r.model_id, r.tag_key);
    return {};
  },
  async listLoggedModelArtifacts(r, ctx) {
    const model = await ctx.store.getLoggedModel(r.model_id);
    const path = safeRelativePath(r.artifact_directory_path);
    const files = await ctx.artifactsFor(model.artifactLocation).list(path);
    const out: Json = { root_uri: model.artifactLocation };
    if (files.length) out.files = files.map(encodeFileInfo);
    return out;
  },
  async logLoggedModelParams(r, { store }) {
    await store.logLoggedModelParams(r.model_id, r.params ?? []);
    return {};
  },

  async createRegisteredModel(r, { store }) {
    return {
      registered_model: encodeRegisteredModel(await store.createRegisteredModel(r.name, r.tags, r.description)),
    };
  },
  async getRegisteredModel(r, { store }) {
    return { registered_model: encodeRegisteredModel(await store.getRegisteredModel(r.name)) };
  },
  async renameRegisteredModel(r, { store }) {
    return { registered_model: encodeRegisteredModel(await store.renameRegisteredModel(r.name, r.new_name)) };
  },
  async updateRegisteredModel(r, { store }) {
    return { registered_model: encodeRegisteredModel(await store.updateRegisteredModel(r.name, r.description ?? '')) };
  },
  async deleteRegisteredModel(r, { store }) {
    await store.deleteRegisteredModel(r.name);
    return {};
  },
  async searchRegisteredModels(r, { store }) {
    const p = await store.searchRegisteredModels({
      filter: r.filter,
      maxResults: r.max_results,
      orderBy: r.order_by,
      pageToken: r.page_token,
    });
    return paged('registered_models', p, encodeRegisteredModel);
  },
  async getLatestVersions(r, { store }) {
    const versions = await store.getLatestVersions(r.name, r.stages);
    return versions.length ? { model_versions: versions.map(encodeListedModelVersion) } : {};
  },
  async setRegisteredModelTag(r, { store }) {
    await store.setRegisteredModelTag(r.name, r.key, r.value ?? '');
    return {};
  },
  async deleteRegisteredModelTag(r, { store }) {
    await store.deleteRegisteredModelTag(r.name, r.key);
    return {};
  },
  async setRegisteredModelAlias(r, { store }) {
    await store.setRegisteredModelAlias(r.name, r.alias, r.version);
    return {};
  },
  async deleteRegisteredModelAlias(r, { store }) {
    await store.deleteRegisteredModelAlias(r.name, r.alias);
    return {};
  },
  async getModelVersionByAlias(r, { store }) {
    return { model_version: encodeModelVersion(await store.getModelVersionByAlias(r.name, r.alias)) };
  },
  async createModelVersion(r, { store }) {
    const mv = await store.createModelVersion({
      name: r.name,
      source: r.source,
      runId: r.run_id ?? '',
      tags: r.tags,
      // MLflow stores the proto defaults of unset fields: run_id, description and run_link "".
      runLink: r.run_link ?? '',
      description: r.description ?? '',
      modelId: r.model_id,
    });
    return { model_version: encodeModelVersion(mv) };
  },
  async getModelVersion(r, { store }) {
    return { model_version: encodeModelVersion(await store.getModelVersion(r.name, r.version)) };
  },
  async updateModelVersion(r, { store }) {
    return {
      model_version: encodeModelVersion(await store.updateModelVersion(r.name, r.version, r.description ?? '')),
    };
  },
  async transitionModelVersionStage(r, { store }) {
    const mv = await store.transitionModelVersionStage(
      r.name,
      r.version,
      r.stage,
      r.archive_existing_versions ?? false,
    );
    return { model_version: encodeModelVersion(mv) };
  },
  async deleteModelVersion(r, { store }) {
    await store.deleteModelVersion(r.name, r.version);
    return {};
  },
  async searchModelVersions(r, { store }) {
    const p = await store.searchModelVersions({
      filter: r.filter,
      maxResults: r.max_results,
      orderBy: r.order_by,
      pageToken: r.page_token,
    });
    return paged('model_versions', p, encodeListedModelVersion);
  },
  async getModelVersionDownloadUri(r, { store }) {
    return { artifact_uri: await store.getModelVersionDownloadUri(r.name, r.version) };
  },
  async setModelVersionTag(r, { store }) {
    await store.setModelVersionTag(r.name, r.version, r.key, r.value);
    return {};
  },
  async deleteModelVersionTag(r, { store }) {
    await store.deleteModelVersionTag(r.name, r.version, r.key);
    return {};
  },
};
