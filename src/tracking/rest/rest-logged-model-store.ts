/**
 * MLflow 3.x LoggedModels over the REST API (spec §2.7): each call maps one
 * TrackingStoreLoggedModels method to its endpoint.
 */
import type { LoggedModel, LoggedModelStatus, Page, Param, Tag } from '../entities.js';
import { decodeLoggedModel, encodeTags, type Json } from '../protocol/codec.js';
import { ENDPOINTS } from '../protocol/endpoints.js';
import type { CreateLoggedModelOptions, SearchLoggedModelsOptions, TrackingStoreLoggedModels } from '../store.js';
import { list, page, type MlflowRestApi } from './mlflow-rest-api.js';

/** LoggedModels through an MLflow server. */
export class RestLoggedModelStore implements TrackingStoreLoggedModels {
  constructor(private readonly api: MlflowRestApi) {}

  // ------------------------------------------------------------ logged models (MLflow 3.x)

  async createLoggedModel(opts: CreateLoggedModelOptions): Promise<LoggedModel> {
    const out = await this.api.call(ENDPOINTS.createLoggedModel, {
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
    const out = await this.api.call(ENDPOINTS.finalizeLoggedModel, { model_id: modelId, status });
    return decodeLoggedModel(out.model as Json);
  }
  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    const out = await this.api.call(ENDPOINTS.getLoggedModel, { model_id: modelId });
    return decodeLoggedModel(out.model as Json);
  }
  async deleteLoggedModel(modelId: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteLoggedModel, { model_id: modelId });
  }
  async searchLoggedModels(opts: SearchLoggedModelsOptions): Promise<Page<LoggedModel>> {
    const out = await this.api.call(ENDPOINTS.searchLoggedModels, {
      experiment_ids: opts.experimentIds,
      filter: opts.filter,
      max_results: opts.maxResults,
      order_by: opts.orderBy?.map((o) => ({ field_name: o.fieldName, ascending: o.ascending ?? true })),
      page_token: opts.pageToken,
    });
    return page(list(out.models).map(decodeLoggedModel), out.next_page_token);
  }
  async setLoggedModelTags(modelId: string, tags: Tag[]): Promise<LoggedModel> {
    await this.api.call(ENDPOINTS.setLoggedModelTags, { model_id: modelId, tags: encodeTags(tags) });
    // MLflow 3.5 answers {} here (its proto promises the model), so read it back.
    return this.getLoggedModel(modelId);
  }
  async deleteLoggedModelTag(modelId: string, key: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteLoggedModelTag, { model_id: modelId, tag_key: key });
  }
  async logLoggedModelParams(modelId: string, params: Param[]): Promise<void> {
    await this.api.call(ENDPOINTS.logLoggedModelParams, { model_id: modelId, params: encodeTags(params) });
  }
  async logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    await this.api.call(ENDPOINTS.logOutputs, {
      run_id: runId,
      models: models.map((m) => ({ model_id: m.modelId, step: m.step })),
    });
  }
}
