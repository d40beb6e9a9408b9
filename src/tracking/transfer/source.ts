/**
 * Where a tracking transfer reads from: a live store (SQLite, PostgreSQL or any MLflow
 * server, through the TrackingStore interface and its artifact repositories) or a dump
 * directory written by `carprice tracking export`. Both yield the same records, so
 * `tracking import` moves store -> store and dump -> store with one code path.
 *
 * Dump layout (format `carprice-tracking-dump`, version 1):
 *   manifest.json                      written last: a dump without it is incomplete
 *   experiments.json                   every experiment (active and deleted)
 *   runs/<experiment id>/<run id>.json {run, history}: the run and every metric point
 *   logged-models/<experiment id>/<model id>.json
 *   registry/<model name, URI-encoded>.json {model, versions}
 *   artifacts/runs/<run id>/...        the run's artifact tree
 *   artifacts/logged-models/<model id>/...
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../core/errors.js';
import type { Experiment, LoggedModel, Metric, ModelVersion, RegisteredModel, Run } from '../entities.js';
import type { ArtifactRepository } from '../artifacts/artifact-repository.js';
import { LocalArtifactRepository } from '../artifacts/local-artifact-repository.js';
import type { ResolvedTracking } from '../resolve-store.js';
import { allPages } from '../all-pages.js';
import { safeId } from './safe-names.js';

export const DUMP_FORMAT = 'carprice-tracking-dump';
export const DUMP_VERSION = 1;

/** A run with its full metric history (every step of every key). */
export interface RunRecord {
  run: Run;
  history: Metric[];
}

/** A registered model with its versions (deleted ones excluded), in version order. */
export interface ModelRecord {
  model: RegisteredModel;
  versions: ModelVersion[];
}

export interface DumpManifest {
  format: typeof DUMP_FORMAT;
  version: number;
  exportedAt: string;
  /** The source store, credentials removed. */
  source: string;
  counts: { experiments: number; runs: number; loggedModels: number; registeredModels: number; artifacts: number };
}

export interface TransferSource {
  /** Where the records come from, for messages (no credentials). */
  readonly description: string;
  experiments(): Promise<Experiment[]>;
  runs(experimentId: string): AsyncIterable<RunRecord>;
  runArtifacts(run: Run): ArtifactRepository | undefined;
  loggedModels(experimentId: string): AsyncIterable<LoggedModel>;
  loggedModelArtifacts(model: LoggedModel): ArtifactRepository | undefined;
  registeredModels(): AsyncIterable<ModelRecord>;
}

/** A URI with its password (user:pass@) hidden. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^@/:]*):[^@/]*@/, '//$1:***@');
}

/** Every metric point of a run, key by key. */
async function fullHistory(t: ResolvedTracking, run: Run): Promise<Metric[]> {
  const out: Metric[] = [];
  const keys = [...new Set(run.data.metrics.map((m) => m.key))].sort();
  for (const key of keys) {
    for await (const m of allPages((pageToken) =>
      t.store.getMetricHistory(run.info.runId, key, pageToken ? { pageToken, maxResults: 25000 } : undefined),
    ))
      out.push({ key, value: m.value, timestamp: m.timestamp, step: m.step });
  }
  return out;
}

/** Records read from a live store. */
export function storeSource(t: ResolvedTracking, description = redactUri(t.uri)): TransferSource {
  return {
    description,
    async experiments() {
      const out: Experiment[] = [];
      for await (const e of allPages((pageToken) =>
        t.store.searchExperiments({ viewType: 'ALL', maxResults: 1000, pageToken }),
      ))
        out.push(e);
      return out.sort((a, b) => Number(a.experimentId) - Number(b.experimentId) || a.name.localeCompare(b.name));
    },
    async *runs(experimentId) {
      const runs = allPages((pageToken) =>
        t.store.searchRuns({
          experimentIds: [experimentId],
          viewType: 'ALL',
          maxResults: 1000,
          orderBy: ['attributes.start_time ASC'],
          pageToken,
        }),
      );
      for await (const run of runs) yield { run, history: await fullHistory(t, run) };
    },
    runArtifacts(run) {
      return run.info.artifactUri ? t.artifacts.repositoryFor(run.info.artifactUri) : undefined;
    },
    async *loggedModels(experimentId) {
      try {
        yield* allPages((pageToken) =>
          t.store.searchLoggedModels({
            experimentIds: [experimentId],
            maxResults: 1000,
            orderBy: [{ fieldName: 'creation_timestamp', ascending: true }],
            pageToken,
          }),
        );
      } catch (e) {
        // An MLflow 2.x server has no logged models: nothing to move.
        if (e instanceof AppError && (e.code === 'ENDPOINT_NOT_FOUND' || e.code === 'NOT_IMPLEMENTED')) return;
        throw e;
      }
    },
    loggedModelArtifacts(model) {
      return model.artifactLocation ? t.artifacts.repositoryFor(model.artifactLocation) : undefined;
    },
    async *registeredModels() {
      const models = allPages((pageToken) => t.store.searchRegisteredModels({ maxResults: 1000, pageToken }));
      for await (const model of models) {
        const versions: ModelVersion[] = [];
        const filter = `name = '${model.name.replace(/'/g, "\\'")}'`;
        for await (const v of allPages((pageToken) =>
          t.store.searchModelVersions({ filter, maxResults: 10000, pageToken }),
        ))
          versions.push(await t.store.getModelVersion(model.name, v.version));
        versions.sort((a, b) => Number(a.version) - Number(b.version));
        yield { model: await t.store.getRegisteredModel(model.name), versions };
      }
    },
  };
}

/**
 * Dump JSON: NaN and ±Infinity (legal metric values) written as {"$nonfinite": "NaN"}, which
 * JSON cannot spell otherwise and no tracking entity uses as a value.
 */
export function dumpJson(value: unknown): string {
  return (
    JSON.stringify(
      value,
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $nonfinite: String(v) } : v),
      1,
    ) + '\n'
  );
}

function reviveNonFinite(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$nonfinite' && typeof o.$nonfinite === 'string') return Number(o.$nonfinite);
  }
  return v;
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8'), reviveNonFinite) as T;
  } catch (e) {
    throw new AppError(
      'DATA_INVALID',
      `the tracking dump file ${path} cannot be read (${(e as Error).message}); export again with carprice tracking export`,
      { cause: e },
    );
  }
}

function jsonFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => join(dir, n));
}

/** The manifest of a complete dump, or a clear error. */
export function readDumpManifest(dir: string): DumpManifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(dir))
    throw new AppError(
      'FILE_NOT_FOUND',
      `no tracking dump at ${dir}; write one with carprice tracking export --out ${dir}`,
    );
  if (!existsSync(path))
    throw new AppError(
      'DATA_INVALID',
      `${dir} is not a complete tracking dump (no manifest.json: the export was interrupted or this is another directory); run carprice tracking export --out ${dir} again, it resumes`,
    );
  const m = readJson<DumpManifest>(path);
  if (m.format !== DUMP_FORMAT)
    throw new AppError('FORMAT_UNKNOWN', `${path} is not a carprice tracking dump (format '${String(m.format)}')`);
  if (m.version !== DUMP_VERSION)
    throw new AppError(
      'FORMAT_VERSION',
      `${path} has dump version ${m.version}; this carprice reads version ${DUMP_VERSION}: upgrade carprice`,
    );
  return m;
}

/** Records read from a dump directory. */
export function dumpSource(dir: string): TransferSource {
  const manifest = readDumpManifest(dir);
  const description = `dump ${dir} (of ${String(manifest.source)}, ${String(manifest.exportedAt)})`;
  // Ids read from the dump's JSON name its folders: each is one plain segment (safeId), so
  // a doctored dump cannot point the import at files outside it.
  const folder = (kind: string, id: unknown, ...parts: string[]) => join(dir, ...parts, safeId(kind, id, description));
  return {
    description,
    async experiments() {
      return readJson<Experiment[]>(join(dir, 'experiments.json'));
    },
    async *runs(experimentId) {
      for (const f of jsonFiles(folder('experiment id', experimentId, 'runs'))) yield readJson<RunRecord>(f);
    },
    runArtifacts(run) {
      const d = folder('run id', run.info.runId, 'artifacts', 'runs');
      return existsSync(d) ? new LocalArtifactRepository(d) : undefined;
    },
    async *loggedModels(experimentId) {
      for (const f of jsonFiles(folder('experiment id', experimentId, 'logged-models'))) yield readJson<LoggedModel>(f);
    },
    loggedModelArtifacts(model) {
      const d = folder('logged model id', model.modelId, 'artifacts', 'logged-models');
      return existsSync(d) ? new LocalArtifactRepository(d) : undefined;
    },
    async *registeredModels() {
      for (const f of jsonFiles(join(dir, 'registry'))) yield readJson<ModelRecord>(f);
    },
  };
}
