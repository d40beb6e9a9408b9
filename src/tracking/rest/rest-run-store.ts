/**
 * Experiments and runs over MLflow's REST API (the tracking half of RestTrackingStore):
 * each call maps one TrackingStoreRuns method to its endpoint and decodes the answer.
 */
import type { Dataset, Experiment, Metric, Page, Param, Run, RunInfo, Tag } from '../entities.js';
import { decodeExperiment, decodeMetric, decodeRun, decodeRunInfo, encodeTags, type Json } from '../protocol/codec.js';
import { ENDPOINTS } from '../protocol/endpoints.js';
import { collectPages } from '../all-pages.js';
import type {
  CreateRunOptions,
  LogBatchOptions,
  MetricHistoryOptions,
  SearchExperimentsOptions,
  SearchRunsOptions,
  TrackingStoreRuns,
  UpdateRunOptions,
} from '../store.js';
import { defined, list, metricJson, page, type MlflowRestApi } from './mlflow-rest-api.js';

/** Experiments, runs and their data through an MLflow server. */
export class RestRunStore implements TrackingStoreRuns {
  constructor(private readonly api: MlflowRestApi) {}

  // ------------------------------------------------------------ experiments

  async createExperiment(name: string, artifactLocation?: string, tags?: Tag[]): Promise<string> {
    const out = await this.api.call(ENDPOINTS.createExperiment, {
      name,
      artifact_location: artifactLocation,
      tags: tags && encodeTags(tags),
    });
    return String(out.experiment_id);
  }
  async getExperiment(experimentId: string): Promise<Experiment> {
    const out = await this.api.call(ENDPOINTS.getExperiment, { experiment_id: experimentId });
    return decodeExperiment(out.experiment as Json);
  }
  async getExperimentByName(name: string): Promise<Experiment> {
    const out = await this.api.call(ENDPOINTS.getExperimentByName, { experiment_name: name });
    return decodeExperiment(out.experiment as Json);
  }
  async searchExperiments(opts: SearchExperimentsOptions = {}): Promise<Page<Experiment>> {
    const out = await this.api.call(ENDPOINTS.searchExperiments, {
      max_results: opts.maxResults ?? 1000,
      page_token: opts.pageToken,
      filter: opts.filter,
      order_by: opts.orderBy,
      view_type: opts.viewType,
    });
    return page(list(out.experiments).map(decodeExperiment), out.next_page_token);
  }
  async deleteExperiment(experimentId: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteExperiment, { experiment_id: experimentId });
  }
  async restoreExperiment(experimentId: string): Promise<void> {
    await this.api.call(ENDPOINTS.restoreExperiment, { experiment_id: experimentId });
  }
  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    await this.api.call(ENDPOINTS.updateExperiment, { experiment_id: experimentId, new_name: newName });
  }
  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    await this.api.call(ENDPOINTS.setExperimentTag, { experiment_id: experimentId, key, value });
  }
  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteExperimentTag, { experiment_id: experimentId, key });
  }

  // ------------------------------------------------------------ runs

  async createRun(opts: CreateRunOptions = {}): Promise<Run> {
    const out = await this.api.call(ENDPOINTS.createRun, {
      // Default is resolved here, as MLflow's Python client does: an MLflow 3.5 server
      // refuses runs/create without experiment_id (400 BAD_REQUEST, recorded in
      // mlflow-3.5-hostile), and so does carprice's.
      experiment_id: opts.experimentId ?? '0',
      user_id: opts.userId,
      run_name: opts.runName,
      start_time: opts.startTime ?? Date.now(),
      tags: opts.tags && encodeTags(opts.tags),
    });
    return decodeRun(out.run as Json);
  }
  async getRun(runId: string): Promise<Run> {
    const out = await this.api.call(ENDPOINTS.getRun, { run_id: runId });
    return decodeRun(out.run as Json);
  }
  async updateRun(runId: string, opts: UpdateRunOptions): Promise<RunInfo> {
    const out = await this.api.call(ENDPOINTS.updateRun, {
      run_id: runId,
      run_uuid: runId,
      status: opts.status,
      end_time: opts.endTime,
      run_name: opts.runName,
    });
    return decodeRunInfo(out.run_info as Json);
  }
  async deleteRun(runId: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteRun, { run_id: runId });
  }
  async restoreRun(runId: string): Promise<void> {
    await this.api.call(ENDPOINTS.restoreRun, { run_id: runId });
  }
  async searchRuns(opts: SearchRunsOptions): Promise<Page<Run>> {
    const out = await this.api.call(ENDPOINTS.searchRuns, {
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
    await this.api.call(ENDPOINTS.logMetric, { run_id: runId, run_uuid: runId, ...metricJson(metric) });
  }
  async logParam(runId: string, param: Param): Promise<void> {
    await this.api.call(ENDPOINTS.logParam, { run_id: runId, run_uuid: runId, key: param.key, value: param.value });
  }
  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.api.call(ENDPOINTS.setTag, { run_id: runId, run_uuid: runId, key, value });
  }
  async deleteTag(runId: string, key: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteTag, { run_id: runId, key });
  }
  async logBatch(runId: string, batch: LogBatchOptions): Promise<void> {
    await this.api.call(ENDPOINTS.logBatch, {
      run_id: runId,
      metrics: (batch.metrics ?? []).map(metricJson),
      params: (batch.params ?? []).map((p) => ({ key: p.key, value: p.value })),
      tags: encodeTags(batch.tags ?? []),
    });
  }
  async logInputs(runId: string, datasets: { dataset: Dataset; tags?: Tag[] }[]): Promise<void> {
    await this.api.call(ENDPOINTS.logInputs, {
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
    await this.api.call(ENDPOINTS.logModel, { run_id: runId, model_json: modelJson });
  }
  async getMetricHistory(runId: string, key: string, opts: MetricHistoryOptions = {}): Promise<Page<Metric>> {
    if (opts.maxResults !== undefined || opts.pageToken !== undefined) {
      const out = await this.api.call(ENDPOINTS.getMetricHistory, {
        run_id: runId,
        run_uuid: runId,
        metric_key: key,
        max_results: opts.maxResults,
        page_token: opts.pageToken,
      });
      return page(list(out.metrics).map(decodeMetric), out.next_page_token);
    }
    // Everything: page through with MLflow's own page size (servers >= 3.4 need max_results).
    return {
      items: await collectPages((pageToken) => this.getMetricHistory(runId, key, { maxResults: 25000, pageToken })),
    };
  }
}
