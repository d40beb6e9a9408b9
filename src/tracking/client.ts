/**
 * The typed tracking client jobs use: runs (start, log params/metrics/tags/artifacts,
 * end), logged models (bundle files + an MLmodel file), the registry (register,
 * transition stage, aliases) and model URI resolution
 * ('models:/Name@alias' | 'models:/Name/Production' | 'models:/Name/3' | 'models:/Name/latest'
 * | 'runs:/<id>/path') down to an artifact location that `downloadModel` copies into a local
 * directory. It validates inputs, chunks batches to MLflow's limits, and works the same
 * over every store.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError, isAppError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/logger.js';
import {
  canonicalStage,
  SYSTEM_TAGS,
  type FileInfo,
  type Metric,
  type ModelVersion,
  type Run,
  type RunInfo,
  type RunStatus,
  type Tag,
} from './entities.js';
import type { TrackingStore } from './store.js';
import { ArtifactResolver, downloadTree, uploadDir, uploadFile } from './artifacts/resolve-artifact-repository.js';
import { joinArtifactPath, safeRelativePath, type ArtifactRepository } from './artifacts/artifact-repository.js';
import { MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH } from './validation.js';
import { mlmodelDict, mlmodelYaml } from './mlmodel.js';
import { resolveStore, type ResolveStoreOptions } from './resolve-store.js';

/** What the client needs of an artifact resolver (a server passes its own: mlflow-artifacts: -> its destination). */
export interface ArtifactResolving {
  repositoryFor(uri: string): ArtifactRepository;
  close(): void;
}

export interface TrackingClientOptions {
  store: TrackingStore;
  artifacts: ArtifactResolving;
  clock?: Clock;
  logger?: Logger;
}

export interface StartRunOptions {
  /** Experiment by name (created when missing). */
  experimentName?: string;
  /** Experiment by id (wins over the name). */
  experimentId?: string;
  runName?: string;
  tags?: Record<string, string>;
  /** Makes this a nested run (tag mlflow.parentRunId). */
  parentRunId?: string;
  userId?: string;
}

export interface LogModelOptions {
  /** Run-relative directory (default 'model'). */
  artifactPath?: string;
  flavor?: string;
  flavorConfig?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

export interface RegisterModelOptions {
  tags?: Record<string, string>;
  description?: string;
}

/** Where a model URI points. */
export interface ResolvedModel {
  /** Artifact location of the model directory (local path, s3://, mlflow-artifacts:...). */
  artifactUri: string;
  runId?: string;
  name?: string;
  version?: string;
}

type ParamValue = string | number | boolean;

function toTags(r: Record<string, string> | undefined): Tag[] {
  return Object.entries(r ?? {}).map(([key, value]) => ({ key, value: String(value) }));
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class TrackingClient {
  readonly store: TrackingStore;
  readonly artifacts: ArtifactResolving;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(opts: TrackingClientOptions) {
    this.store = opts.store;
    this.artifacts = opts.artifacts;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
  }

  /** A client for the tracking URI resolved from env / params.yaml / default. */
  static open(opts: ResolveStoreOptions): TrackingClient {
    const r = resolveStore(opts);
    return new TrackingClient({ store: r.store, artifacts: r.artifacts, clock: opts.clock, logger: opts.logger });
  }

  async close(): Promise<void> {
    this.artifacts.close();
    await this.store.close();
  }

  // ------------------------------------------------------------ runs

  /** The id of the experiment called `name`, created when missing (restored when deleted). */
  async getOrCreateExperiment(name: string): Promise<string> {
    try {
      const e = await this.store.getExperimentByName(name);
      if (e.lifecycleStage === 'deleted') await this.store.restoreExperiment(e.experimentId);
      return e.experimentId;
    } catch (e) {
      if (!isAppError(e, 'RESOURCE_DOES_NOT_EXIST')) throw e;
    }
    try {
      return await this.store.createExperiment(name);
    } catch (e) {
      // Another process created it in between.
      if (isAppError(e, 'RESOURCE_ALREADY_EXISTS')) return (await this.store.getExperimentByName(name)).experimentId;
      throw e;
    }
  }

  /** Start a run; returns its info (run id, artifact URI...). */
  async startRun(opts: StartRunOptions = {}): Promise<RunInfo> {
    const experimentId =
      opts.experimentId ?? (opts.experimentName ? await this.getOrCreateExperiment(opts.experimentName) : undefined);
    const tags = toTags(opts.tags);
    if (opts.parentRunId) tags.push({ key: SYSTEM_TAGS.parentRunId, value: opts.parentRunId });
    if (opts.userId) tags.push({ key: SYSTEM_TAGS.user, value: opts.userId });
    const run = await this.store.createRun({
      experimentId,
      runName: opts.runName,
      startTime: this.clock.now(),
      tags,
      userId: opts.userId,
    });
    this.log.debug({ runId: run.info.runId, experimentId: run.info.experimentId }, 'run started');
    return run.info;
  }

  /** Log params (write-once), in batches of 100. */
  async logParams(runId: string, params: Record<string, ParamValue>): Promise<void> {
    const list = Object.entries(params).map(([key, v]) => ({ key, value: String(v) }));
    for (const part of chunks(list, MAX_PARAMS_TAGS_PER_BATCH)) await this.store.logBatch(runId, { params: part });
  }

  /** Log metric values at one step (default 0), in batches of 1000. */
  async logMetrics(
    runId: string,
    metrics: Record<string, number>,
    opts: { step?: number; timestamp?: number } = {},
  ): Promise<void> {
    const timestamp = opts.timestamp ?? this.clock.now();
    const list: Metric[] = Object.entries(metrics).map(([key, value]) => ({
      key,
      value,
      timestamp,
      step: opts.step ?? 0,
    }));
    await this.logMetricPoints(runId, list);
  }

  /** Log explicit metric points (histories), in batches of 1000. */
  async logMetricPoints(runId: string, points: Metric[]): Promise<void> {
    for (const part of chunks(points, MAX_METRICS_PER_BATCH)) await this.store.logBatch(runId, { metrics: part });
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    for (const part of chunks(toTags(tags), MAX_PARAMS_TAGS_PER_BATCH))
      await this.store.logBatch(runId, { tags: part });
  }

  /** End a run with a status (default FINISHED). */
  async endRun(runId: string, status: RunStatus = 'FINISHED'): Promise<RunInfo> {
    return this.store.updateRun(runId, { status, endTime: this.clock.now() });
  }

  async getRun(runId: string): Promise<Run> {
    return this.store.getRun(runId);
  }

  // ------------------------------------------------------------ artifacts

  private async runRepo(runId: string) {
    const run = await this.store.getRun(runId);
    return this.artifacts.repositoryFor(run.info.artifactUri);
  }

  /** Upload one file to `<artifactPath>/<basename>`. */
  async logArtifact(runId: string, localFile: string, artifactPath?: string): Promise<void> {
    await uploadFile(await this.runRepo(runId), localFile, artifactPath, basename(localFile));
  }

  /** Upload a directory tree under `artifactPath`; returns the number of files. */
  async logArtifacts(runId: string, localDir: string, artifactPath?: string): Promise<number> {
    return uploadDir(await this.runRepo(runId), localDir, artifactPath);
  }

  async listArtifacts(runId: string, path?: string): Promise<FileInfo[]> {
    return (await this.runRepo(runId)).list(safeRelativePath(path));
  }

  /** Download a run's artifact (file or directory) into `destDir`; returns the local path. */
  async downloadArtifacts(runId: string, path: string, destDir: string): Promise<string> {
    return downloadTree(await this.runRepo(runId), path, destDir);
  }

  /**
   * Log a model bundle directory as the run's model: its files go to `<artifactPath>/`,
   * with an MLmodel file written next to them, and the MLmodel dict is appended to the run's
   * mlflow.log-model.history. Returns the model URI `runs:/<id>/<artifactPath>`.
   */
  async logModel(runId: string, bundleDir: string, opts: LogModelOptions = {}): Promise<string> {
    const artifactPath = safeRelativePath(opts.artifactPath ?? 'model');
    const st = await stat(bundleDir).catch(() => undefined);
    if (!st?.isDirectory())
      throw new AppError('FILE_NOT_FOUND', `model bundle directory ${bundleDir} does not exist; save the bundle first`);
    const repo = await this.runRepo(runId);
    await uploadDir(repo, bundleDir, artifactPath);
    const dict = mlmodelDict({
      artifactPath,
      runId,
      createdMs: this.clock.now(),
      flavor: opts.flavor,
      flavorConfig: opts.flavorConfig,
      metadata: opts.metadata,
    });
    await repo.write(joinArtifactPath(artifactPath, 'MLmodel'), Buffer.from(mlmodelYaml(dict)));
    await this.store.logModel(runId, JSON.stringify(dict));
    return `runs:/${runId}/${artifactPath}`;
  }

  // ------------------------------------------------------------ registry

  /**
   * Register a model URI (runs:/..., or any artifact location) as a new version of `name`,
   * creating the registered model when missing.
   */
  async registerModel(name: string, modelUri: string, opts: RegisterModelOptions = {}): Promise<ModelVersion> {
    try {
      await this.store.createRegisteredModel(name);
    } catch (e) {
      if (!isAppError(e, 'RESOURCE_ALREADY_EXISTS')) throw e;
    }
    let source = modelUri;
    let runId: string | undefined;
    const m = /^runs:\/([^/]+)\/?(.*)$/.exec(modelUri);
    if (m) {
      runId = m[1];
      const run = await this.store.getRun(runId);
      source = joinArtifactPath(run.info.artifactUri.replace(/\/+$/, ''), safeRelativePath(m[2]));
    }
    return this.store.createModelVersion({
      name,
      source,
      runId,
      tags: toTags(opts.tags),
      description: opts.description,
    });
  }

  async transitionStage(
    name: string,
    version: string,
    stage: string,
    archiveExistingVersions = false,
  ): Promise<ModelVersion> {
    return this.store.transitionModelVersionStage(name, version, stage, archiveExistingVersions);
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.store.setRegisteredModelAlias(name, alias, version);
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.store.deleteRegisteredModelAlias(name, alias);
  }

  /** The model version a models:/ URI names (alias, number, 'latest' or stage). */
  async resolveModelVersion(uri: string): Promise<ModelVersion> {
    const alias = /^models:\/([^/@]+)@([^/]+)$/.exec(uri);
    if (alias) return this.store.getModelVersionByAlias(alias[1], alias[2]);
    const m = /^models:\/([^/@]+)\/([^/]+)$/.exec(uri);
    if (!m)
      throw new AppError(
        'INVALID_PARAMETER_VALUE',
        `invalid model URI '${uri}': expected models:/Name@alias, models:/Name/<version>, models:/Name/<stage> or models:/Name/latest`,
      );
    const [, name, ref] = m;
    if (/^\d+$/.test(ref)) return this.store.getModelVersion(name, ref);
    if (ref === 'latest') {
      const all = await this.store.getLatestVersions(name);
      const best = all.sort((a, b) => Number(b.version) - Number(a.version))[0];
      if (!best) throw new AppError('RESOURCE_DOES_NOT_EXIST', `registered model '${name}' has no versions`);
      return best;
    }
    const stage = canonicalStage(ref);
    if (!stage)
      throw new AppError(
        'INVALID_PARAMETER_VALUE',
        `invalid model URI '${uri}': '${ref}' is neither a version number, 'latest', nor a stage (None, Staging, Production, Archived)`,
      );
    const versions = await this.store.getLatestVersions(name, [stage]);
    if (!versions.length)
      throw new AppError('RESOURCE_DOES_NOT_EXIST', `registered model '${name}' has no version in stage ${stage}`);
    return versions[0];
  }

  /** Resolve a models:/ or runs:/ URI to the artifact location of the model directory. */
  async resolveModelUri(uri: string, depth = 0): Promise<ResolvedModel> {
    if (depth > 5)
      throw new AppError(
        'INVALID_PARAMETER_VALUE',
        `model URI '${uri}' refers to itself through too many models:/ hops`,
      );
    const run = /^runs:\/([^/]+)\/?(.*)$/.exec(uri);
    if (run) {
      const r = await this.store.getRun(run[1]);
      return {
        artifactUri: joinArtifactPath(r.info.artifactUri.replace(/\/+$/, ''), safeRelativePath(run[2])),
        runId: run[1],
      };
    }
    if (uri.startsWith('models:/')) {
      const mv = await this.resolveModelVersion(uri);
      const location = await this.store.getModelVersionDownloadUri(mv.name, mv.version);
      const inner =
        location.startsWith('runs:/') || location.startsWith('models:/')
          ? await this.resolveModelUri(location, depth + 1)
          : { artifactUri: location };
      return { ...inner, runId: mv.runId ?? inner.runId, name: mv.name, version: mv.version };
    }
    return { artifactUri: uri };
  }

  /**
   * Download the model a URI names into `destDir` (replaced atomically: the files land in
   * a temp sibling first, so an interrupted download leaves no half model). Returns destDir.
   */
  async downloadModel(uri: string, destDir: string): Promise<string> {
    const resolved = await this.resolveModelUri(uri);
    const repo = this.artifacts.repositoryFor(resolved.artifactUri);
    const tmp = join(dirname(destDir), `.${basename(destDir)}.${randomBytes(4).toString('hex')}.partial`);
    await mkdir(dirname(destDir), { recursive: true });
    try {
      await downloadTree(repo, '', tmp);
      await rm(destDir, { recursive: true, force: true });
      await rename(tmp, destDir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    this.log.debug({ uri, artifactUri: resolved.artifactUri, destDir }, 'model downloaded');
    return destDir;
  }
}
