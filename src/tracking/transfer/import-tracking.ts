/**
 * `carprice tracking import`: experiments, runs (every metric point, params, tags, dataset
 * inputs, artifacts, status and times), logged models, registered models, versions (with
 * stages, aliases, tags, descriptions) from a TransferSource into any store, through the
 * TrackingStore interface only, so the destination may be SQLite, PostgreSQL or any MLflow
 * server (which cannot take run ids from a client: ids are mapped).
 *
 * Idempotent and resumable. Every imported object carries the id it had in the source
 * (tag carprice.import.source_run_id / source_model_id / source_version); a run gets
 * carprice.import.complete=true as its last write. A second import skips what is complete,
 * and a run left half-imported by an interruption is deleted and imported again (its
 * metric history would otherwise be logged twice); the deleted copy keeps its
 * carprice.import.source_run_id tag without carprice.import.complete, and goes with the
 * store's garbage collection (MLflow's `mlflow gc`), as any deleted run.
 *
 * Fidelity: run ids, experiment ids and model version timestamps are the destination's
 * (no MLflow API sets them); start/end times, users, run names, statuses, metric
 * timestamps and steps are the source's. Version numbers are kept when the destination
 * model has no other versions: a gap left by a deleted source version is reproduced by
 * registering and deleting a placeholder, as the registry never reuses a number.
 * Parent/child links (mlflow.parentRunId) and version sources (runs:/, models:/, the run's
 * artifact location) are rewritten to the destination's ids.
 */
import { AppError, isAppError } from '../../core/errors.js';
import type { LoggedModel, Metric, ModelVersion, Run, Tag } from '../entities.js';
import type { ResolvedTracking } from '../resolve-store.js';
import { allPages } from '../all-pages.js';
import { copyArtifactTree, listArtifactTree, type TransferProgress } from './copy-artifacts.js';
import type { TransferSource } from './source.js';

export const IMPORT_TAGS = {
  sourceRun: 'carprice.import.source_run_id',
  complete: 'carprice.import.complete',
  sourceModel: 'carprice.import.source_model_id',
  sourceVersion: 'carprice.import.source_version',
} as const;

export interface ImportReport {
  experimentsCreated: number;
  experimentsReused: number;
  runsImported: number;
  runsSkipped: number;
  runsRedone: number;
  metricPoints: number;
  artifacts: number;
  loggedModelsImported: number;
  loggedModelsSkipped: number;
  registeredModels: number;
  versionsImported: number;
  versionsSkipped: number;
  /** Source version -> destination version where the numbers could not be kept. */
  renumbered: { name: string; from: string; to: string }[];
  warnings: string[];
}

export interface ImportOptions {
  signal?: AbortSignal;
  onProgress?: TransferProgress;
}

interface RunMapping {
  dstRunId: string;
  srcArtifactUri: string;
  dstArtifactUri: string;
}

const METRICS_PER_BATCH = 1000;
const PARAMS_PER_BATCH = 100;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const ownTag = (t: Tag) => t.key.startsWith('carprice.import.');
const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function tagOf(tags: Tag[], key: string): string | undefined {
  return tags.find((t) => t.key === key)?.value;
}

export async function importTracking(
  source: TransferSource,
  dst: ResolvedTracking,
  opts: ImportOptions = {},
): Promise<ImportReport> {
  const { signal, onProgress } = opts;
  const store = dst.store;
  const report: ImportReport = {
    experimentsCreated: 0,
    experimentsReused: 0,
    runsImported: 0,
    runsSkipped: 0,
    runsRedone: 0,
    metricPoints: 0,
    artifacts: 0,
    loggedModelsImported: 0,
    loggedModelsSkipped: 0,
    registeredModels: 0,
    versionsImported: 0,
    versionsSkipped: 0,
    renumbered: [],
    warnings: [],
  };
  const stop = () => {
    if (signal?.aborted)
      throw new AppError('INTERRUPTED', 'import interrupted; run the same command again: it resumes where it stopped');
  };
  const runMap = new Map<string, RunMapping>();
  const modelMap = new Map<string, string>();
  /** Source logged model id -> the source runs that output it (with the step). */
  const outputsOf = new Map<string, { srcRunId: string; step: number }[]>();
  /** Destination runs whose mlflow.parentRunId names a source run id (fixed at the end). */
  const parentFixes: { dstRunId: string; srcParent: string; deleted: boolean }[] = [];
  const deleteAtEnd: string[] = [];
  let done = 0;

  const experiments = await source.experiments();
  for (const exp of experiments) {
    stop();
    // Experiments are matched by name (ids are the destination's; "Default" is always 0).
    let dstExpId: string;
    try {
      const found = await store.getExperimentByName(exp.name);
      dstExpId = found.experimentId;
      if (found.lifecycleStage === 'deleted') await store.restoreExperiment(dstExpId);
      report.experimentsReused++;
    } catch (e) {
      if (!isAppError(e, 'RESOURCE_DOES_NOT_EXIST')) throw e;
      dstExpId = await store.createExperiment(exp.name);
      report.experimentsCreated++;
    }
    for (const t of exp.tags) await store.setExperimentTag(dstExpId, t.key, t.value);
    if (exp.lifecycleStage === 'deleted') deleteAtEnd.push(dstExpId);

    // What an earlier import already put into this experiment.
    const existing = new Map<string, Run>();
    for await (const r of allPages((pageToken) =>
      store.searchRuns({
        experimentIds: [dstExpId],
        viewType: 'ALL',
        filter: `tags.\`${IMPORT_TAGS.sourceRun}\` LIKE '%'`,
        maxResults: 1000,
        pageToken,
      }),
    )) {
      const src = tagOf(r.data.tags, IMPORT_TAGS.sourceRun);
      if (!src) continue;
      const complete = tagOf(r.data.tags, IMPORT_TAGS.complete) === 'true';
      if (complete) existing.set(src, r);
      else if (r.info.lifecycleStage === 'active' && !existing.has(src)) {
        await store.deleteRun(r.info.runId); // half-imported by an interrupted import: redo it
        report.runsRedone++;
      }
    }

    for await (const rec of source.runs(exp.experimentId)) {
      stop();
      const info = rec.run.info;
      for (const o of rec.run.outputs?.modelOutputs ?? []) {
        const list = outputsOf.get(o.modelId) ?? [];
        list.push({ srcRunId: info.runId, step: o.step });
        outputsOf.set(o.modelId, list);
      }
      const already = existing.get(info.runId);
      if (already) {
        runMap.set(info.runId, {
          dstRunId: already.info.runId,
          srcArtifactUri: info.artifactUri,
          dstArtifactUri: already.info.artifactUri,
        });
        report.runsSkipped++;
        continue;
      }
      // Resolved first: a source whose run names a place outside it fails before anything is created.
      const srcRepo = source.runArtifacts(rec.run);
      const copy = { owner: `run ${info.runId}`, source: source.description, signal };
      const files = srcRepo ? await listArtifactTree(srcRepo, copy) : [];
      const tags = rec.run.data.tags.filter((t) => !ownTag(t) && t.key !== 'mlflow.runName');
      const parent = tagOf(tags, 'mlflow.parentRunId');
      const created = await store.createRun({
        experimentId: dstExpId,
        userId: info.userId,
        runName: info.runName,
        startTime: info.startTime,
        tags: [
          ...tags.filter((t) => t.key !== 'mlflow.parentRunId'),
          { key: IMPORT_TAGS.sourceRun, value: info.runId },
        ],
      });
      const dstRunId = created.info.runId;
      for (const params of chunks(rec.run.data.params, PARAMS_PER_BATCH)) await store.logBatch(dstRunId, { params });
      const history: Metric[] = rec.history.map((m) => ({
        key: m.key,
        value: m.value,
        timestamp: m.timestamp,
        step: m.step,
      }));
      for (const metrics of chunks(history, METRICS_PER_BATCH)) await store.logBatch(dstRunId, { metrics });
      report.metricPoints += history.length;
      const datasets = rec.run.inputs?.datasetInputs ?? [];
      if (datasets.length)
        await store.logInputs(
          dstRunId,
          datasets.map((d) => ({ dataset: d.dataset, tags: d.tags })),
        );
      if (srcRepo)
        report.artifacts += await copyArtifactTree(
          srcRepo,
          dst.artifacts.repositoryFor(created.info.artifactUri),
          copy,
          files,
        );
      await store.updateRun(dstRunId, {
        status: info.status,
        ...(info.endTime !== undefined ? { endTime: info.endTime } : {}),
      });
      // Complete only once its parent link is in destination ids: a parent imported later
      // (started after its child) is linked, and the run marked complete, at the end.
      const mappedParent = parent ? runMap.get(parent) : undefined;
      if (mappedParent) await store.setTag(dstRunId, 'mlflow.parentRunId', mappedParent.dstRunId);
      if (parent && !mappedParent)
        parentFixes.push({ dstRunId, srcParent: parent, deleted: info.lifecycleStage === 'deleted' });
      else {
        await store.setTag(dstRunId, IMPORT_TAGS.complete, 'true');
        if (info.lifecycleStage === 'deleted') await store.deleteRun(dstRunId);
      }
      if (info.status === 'RUNNING')
        report.warnings.push(`run ${info.runId} was still RUNNING in the source; imported as RUNNING`);
      runMap.set(info.runId, { dstRunId, srcArtifactUri: info.artifactUri, dstArtifactUri: created.info.artifactUri });
      report.runsImported++;
      onProgress?.({ phase: 'runs', done: ++done, item: info.runId });
    }

    await importLoggedModels(source, dst, exp.experimentId, dstExpId, {
      runMap,
      modelMap,
      outputsOf,
      report,
      stop,
      signal,
    });
  }

  for (const f of parentFixes) {
    const parent = runMap.get(f.srcParent);
    if (parent) await store.setTag(f.dstRunId, 'mlflow.parentRunId', parent.dstRunId);
    else report.warnings.push(`run ${f.dstRunId}: parent run ${f.srcParent} is not in the source; link dropped`);
    await store.setTag(f.dstRunId, IMPORT_TAGS.complete, 'true');
    if (f.deleted) await store.deleteRun(f.dstRunId);
  }

  let models = 0;
  for await (const rec of source.registeredModels()) {
    stop();
    await importRegisteredModel(dst, rec.model.name, rec, { runMap, modelMap, report });
    onProgress?.({ phase: 'registry', done: ++models, item: rec.model.name });
  }
  report.registeredModels = models;

  for (const id of deleteAtEnd) {
    const e = await store.getExperiment(id);
    if (e.lifecycleStage === 'active' && id !== '0') await store.deleteExperiment(id);
  }
  return report;
}

async function importLoggedModels(
  source: TransferSource,
  dst: ResolvedTracking,
  srcExpId: string,
  dstExpId: string,
  ctx: {
    runMap: Map<string, RunMapping>;
    modelMap: Map<string, string>;
    outputsOf: Map<string, { srcRunId: string; step: number }[]>;
    report: ImportReport;
    stop: () => void;
    signal?: AbortSignal;
  },
): Promise<void> {
  const store = dst.store;
  let existing: Map<string, LoggedModel> | undefined;
  for await (const lm of source.loggedModels(srcExpId)) {
    ctx.stop();
    if (!existing) {
      existing = new Map();
      for await (const m of allPages((pageToken) =>
        store.searchLoggedModels({ experimentIds: [dstExpId], maxResults: 1000, pageToken }),
      )) {
        const src = tagOf(m.tags, IMPORT_TAGS.sourceModel);
        if (!src) continue;
        if (m.status === 'LOGGED_MODEL_PENDING') await store.deleteLoggedModel(m.modelId);
        else existing.set(src, m);
      }
    }
    const found = existing.get(lm.modelId);
    if (found) {
      ctx.modelMap.set(lm.modelId, found.modelId);
      ctx.report.loggedModelsSkipped++;
      continue;
    }
    const srcRepo = source.loggedModelArtifacts(lm);
    const created = await store.createLoggedModel({
      experimentId: dstExpId,
      name: lm.name,
      ...(lm.modelType !== undefined ? { modelType: lm.modelType } : {}),
      ...(lm.sourceRunId && ctx.runMap.has(lm.sourceRunId)
        ? { sourceRunId: ctx.runMap.get(lm.sourceRunId)!.dstRunId }
        : {}),
      params: lm.params,
      tags: [...lm.tags.filter((t) => !ownTag(t)), { key: IMPORT_TAGS.sourceModel, value: lm.modelId }],
    });
    if (srcRepo)
      ctx.report.artifacts += await copyArtifactTree(srcRepo, dst.artifacts.repositoryFor(created.artifactLocation), {
        owner: `logged model ${lm.modelId}`,
        source: source.description,
        signal: ctx.signal,
      });
    for (const o of ctx.outputsOf.get(lm.modelId) ?? []) {
      const run = ctx.runMap.get(o.srcRunId);
      if (run) await store.logOutputs(run.dstRunId, [{ modelId: created.modelId, step: o.step }]);
    }
    await store.finalizeLoggedModel(
      created.modelId,
      lm.status === 'LOGGED_MODEL_UPLOAD_FAILED' ? 'LOGGED_MODEL_UPLOAD_FAILED' : 'LOGGED_MODEL_READY',
    );
    ctx.modelMap.set(lm.modelId, created.modelId);
    ctx.report.loggedModelsImported++;
  }
}

/** A version's source in destination terms: runs:/, models:/ and the run's artifact location rewritten. */
function rewriteSource(v: ModelVersion, runMap: Map<string, RunMapping>, modelMap: Map<string, string>): string {
  const runs = /^runs:\/([^/]+)(\/.*)?$/.exec(v.source);
  if (runs && runMap.has(runs[1])) return `runs:/${runMap.get(runs[1])!.dstRunId}${runs[2] ?? ''}`;
  const models = /^models:\/(m-[0-9a-f]+)(\/.*)?$/.exec(v.source);
  if (models && modelMap.has(models[1])) return `models:/${modelMap.get(models[1])}${models[2] ?? ''}`;
  const run = v.runId ? runMap.get(v.runId) : undefined;
  if (run && run.srcArtifactUri && v.source.startsWith(run.srcArtifactUri))
    return run.dstArtifactUri + v.source.slice(run.srcArtifactUri.length);
  return v.source;
}

async function importRegisteredModel(
  dst: ResolvedTracking,
  name: string,
  rec: {
    model: { description?: string; tags: Tag[]; aliases: { alias: string; version: string }[] };
    versions: ModelVersion[];
  },
  ctx: { runMap: Map<string, RunMapping>; modelMap: Map<string, string>; report: ImportReport },
): Promise<void> {
  const store = dst.store;
  try {
    const m = await store.getRegisteredModel(name);
    if ((rec.model.description ?? '') !== (m.description ?? ''))
      await store.updateRegisteredModel(name, rec.model.description ?? '');
  } catch (e) {
    if (!isAppError(e, 'RESOURCE_DOES_NOT_EXIST')) throw e;
    await store.createRegisteredModel(name, [], rec.model.description || undefined);
  }
  for (const t of rec.model.tags) await store.setRegisteredModelTag(name, t.key, t.value);

  // Versions an earlier import registered, by their source version number.
  const have = new Map<string, ModelVersion>();
  let others = 0;
  for await (const v of allPages((pageToken) =>
    store.searchModelVersions({ filter: `name = ${quote(name)}`, maxResults: 10000, pageToken }),
  )) {
    const src = tagOf(v.tags, IMPORT_TAGS.sourceVersion);
    if (src) have.set(src, v);
    else others++;
  }
  const versionMap = new Map<string, string>();
  for (const v of rec.versions) {
    let target = have.get(v.version);
    if (target) ctx.report.versionsSkipped++;
    else {
      const run = v.runId ? ctx.runMap.get(v.runId) : undefined;
      const modelId = v.modelId ? ctx.modelMap.get(v.modelId) : undefined;
      const create = () =>
        store.createModelVersion({
          name,
          source: rewriteSource(v, ctx.runMap, ctx.modelMap),
          ...(run ? { runId: run.dstRunId } : {}),
          ...(modelId ? { modelId } : {}),
          ...(v.runLink ? { runLink: v.runLink } : {}),
          ...(v.description ? { description: v.description } : {}),
          tags: [...v.tags.filter((t) => !ownTag(t)), { key: IMPORT_TAGS.sourceVersion, value: v.version }],
        });
      target = await create();
      // Keep the source's number: fill a gap (a deleted source version) with deleted placeholders.
      while (others === 0 && Number(target.version) < Number(v.version)) {
        await store.deleteModelVersion(name, target.version);
        target = await create();
      }
      if (target.version !== v.version) ctx.report.renumbered.push({ name, from: v.version, to: target.version });
      ctx.report.versionsImported++;
    }
    versionMap.set(v.version, target.version);
    if (target.currentStage !== v.currentStage)
      await store.transitionModelVersionStage(name, target.version, v.currentStage, false);
  }
  for (const a of rec.model.aliases) {
    const to = versionMap.get(a.version);
    if (to) await store.setRegisteredModelAlias(name, a.alias, to);
    else
      ctx.report.warnings.push(`${name}: alias @${a.alias} names version ${a.version}, which the source no longer has`);
  }
}
