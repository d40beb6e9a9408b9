/**
 * The model registry over MLflow's REST API (registered models, versions, stages,
 * aliases, tags): each call maps one TrackingStoreRegistry method to its endpoint.
 */
import type { ModelVersion, Page, RegisteredModel, Tag } from '../entities.js';
import { decodeModelVersion, decodeRegisteredModel, encodeTags, type Json } from '../protocol/codec.js';
import { ENDPOINTS } from '../protocol/endpoints.js';
import type { CreateModelVersionOptions, SearchRegistryOptions, TrackingStoreRegistry } from '../store.js';
import { list, page, type MlflowRestApi } from './mlflow-rest-api.js';
import { scalarText } from '../../core/text.js';

/** Registered models and versions through an MLflow server. */
export class RestRegistryStore implements TrackingStoreRegistry {
  constructor(private readonly api: MlflowRestApi) {}

  // ------------------------------------------------------------ registry

  async createRegisteredModel(name: string, tags?: Tag[], description?: string): Promise<RegisteredModel> {
    const out = await this.api.call(ENDPOINTS.createRegisteredModel, {
      name,
      tags: tags && encodeTags(tags),
      description,
    });
    return decodeRegisteredModel(out.registered_model as Json);
  }
  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const out = await this.api.call(ENDPOINTS.getRegisteredModel, { name });
    return decodeRegisteredModel(out.registered_model as Json);
  }
  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    const out = await this.api.call(ENDPOINTS.renameRegisteredModel, { name, new_name: newName });
    return decodeRegisteredModel(out.registered_model as Json);
  }
  async updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
    const out = await this.api.call(ENDPOINTS.updateRegisteredModel, { name, description });
    return decodeRegisteredModel(out.registered_model as Json);
  }
  async deleteRegisteredModel(name: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteRegisteredModel, { name });
  }
  async searchRegisteredModels(opts: SearchRegistryOptions = {}): Promise<Page<RegisteredModel>> {
    const out = await this.api.call(ENDPOINTS.searchRegisteredModels, {
      filter: opts.filter,
      max_results: opts.maxResults,
      order_by: opts.orderBy,
      page_token: opts.pageToken,
    });
    return page(list(out.registered_models).map(decodeRegisteredModel), out.next_page_token);
  }
  async getLatestVersions(name: string, stages?: string[]): Promise<ModelVersion[]> {
    const out = await this.api.call(ENDPOINTS.getLatestVersions, { name, stages });
    return list(out.model_versions).map(decodeModelVersion);
  }
  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    await this.api.call(ENDPOINTS.setRegisteredModelTag, { name, key, value });
  }
  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteRegisteredModelTag, { name, key });
  }
  async setRegisteredModelAlias(name: string, alias: string, version: string): Promise<void> {
    await this.api.call(ENDPOINTS.setRegisteredModelAlias, { name, alias, version });
  }
  async deleteRegisteredModelAlias(name: string, alias: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteRegisteredModelAlias, { name, alias });
  }
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const out = await this.api.call(ENDPOINTS.getModelVersionByAlias, { name, alias });
    return decodeModelVersion(out.model_version as Json);
  }
  async createModelVersion(opts: CreateModelVersionOptions): Promise<ModelVersion> {
    const out = await this.api.call(ENDPOINTS.createModelVersion, {
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
    const out = await this.api.call(ENDPOINTS.getModelVersion, { name, version });
    return decodeModelVersion(out.model_version as Json);
  }
  async updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion> {
    const out = await this.api.call(ENDPOINTS.updateModelVersion, { name, version, description });
    return decodeModelVersion(out.model_version as Json);
  }
  async transitionModelVersionStage(
    name: string,
    version: string,
    stage: string,
    archiveExistingVersions: boolean,
  ): Promise<ModelVersion> {
    const out = await this.api.call(ENDPOINTS.transitionModelVersionStage, {
      name,
      version,
      stage,
      archive_existing_versions: archiveExistingVersions,
    });
    return decodeModelVersion(out.model_version as Json);
  }
  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteModelVersion, { name, version });
  }
  async searchModelVersions(opts: SearchRegistryOptions = {}): Promise<Page<ModelVersion>> {
    const out = await this.api.call(ENDPOINTS.searchModelVersions, {
      filter: opts.filter,
      max_results: opts.maxResults,
      order_by: opts.orderBy,
      page_token: opts.pageToken,
    });
    return page(list(out.model_versions).map(decodeModelVersion), out.next_page_token);
  }
  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    const out = await this.api.call(ENDPOINTS.getModelVersionDownloadUri, { name, version });
    return scalarText(out.artifact_uri ?? '');
  }
  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.api.call(ENDPOINTS.setModelVersionTag, { name, version, key, value });
  }
  async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    await this.api.call(ENDPOINTS.deleteModelVersionTag, { name, version, key });
  }
}
