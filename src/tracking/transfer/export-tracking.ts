/**
 * `carprice tracking export`: a store's experiments, runs (every metric point), logged
 * models, registry and artifacts into a dump directory (layout in source.ts).
 *
 * Resumable: each run's artifacts are copied into a temp directory renamed into place, and
 * the run's JSON is written (atomically) only after them, so a run whose JSON exists is
 * complete; a second export skips finished runs already there and redoes the rest.
 * manifest.json is written last, so an interrupted dump is never taken for a complete one.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { AppError } from '../../core/errors.js';
import type { Run } from '../entities.js';
import type { ArtifactRepository } from '../artifacts/artifact-repository.js';
import { LocalArtifactRepository } from '../artifacts/local-artifact-repository.js';
import {
  DUMP_FORMAT,
  DUMP_VERSION,
  type DumpManifest,
  type RunRecord,
  type TransferSource,
  dumpJson,
} from './source.js';
import { copyArtifactTree, type CopyContext, type TransferProgress } from './copy-artifacts.js';
import { safeId } from './safe-names.js';

export interface ExportReport {
  dir: string;
  experiments: number;
  runs: number;
  runsSkipped: number;
  loggedModels: number;
  registeredModels: number;
  modelVersions: number;
  artifacts: number;
}

export interface ExportOptions {
  signal?: AbortSignal;
  onProgress?: TransferProgress;
}

const TERMINAL = new Set(['FINISHED', 'FAILED', 'KILLED']);

/** True when the dump already holds this run, finished, as it is now in the source. */
function alreadyExported(file: string, run: Run): boolean {
  if (!existsSync(file) || !TERMINAL.has(run.info.status)) return false;
  try {
    const old = (JSON.parse(readFileSync(file, 'utf8')) as RunRecord).run.info;
    return (
      old.status === run.info.status &&
      old.endTime === run.info.endTime &&
      old.lifecycleStage === run.info.lifecycleStage
    );
  } catch {
    return false;
  }
}

/**
 * Copy `repo`'s whole tree into `target` (replaced atomically); returns the file count.
 * `target` ends in an id already checked by safeId, so the removals stay in the dump.
 */
async function exportTree(repo: ArtifactRepository | undefined, target: string, ctx: CopyContext): Promise<number> {
  if (!repo) return 0;
  const tmp = `${target}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  const n = await copyArtifactTree(repo, new LocalArtifactRepository(tmp), ctx);
  rmSync(target, { recursive: true, force: true });
  if (n > 0) renameSync(tmp, target);
  else rmSync(tmp, { recursive: true, force: true });
  return n;
}

/**
 * The dump file of a registered model: its name URI-encoded (no '/', and '.' only inside
 * a longer name), shortened with a hash when too long for a file name. Import reads the
 * name from the file's content, never from the file name.
 */
function registryFileName(name: string): string {
  const encoded = encodeURIComponent(name).replace(/^\./, '%2E');
  if (encoded.length <= 200) return `${encoded}.json`;
  return `${encoded.slice(0, 150)}-${createHash('sha256').update(name).digest('hex').slice(0, 16)}.json`;
}

function checkTarget(dir: string): void {
  if (!existsSync(dir)) return;
  if (existsSync(join(dir, 'experiments.json')) || existsSync(join(dir, 'manifest.json'))) return; // a dump: resume
  const entries = readdirSync(dir);
  if (entries.length > 0)
    throw new AppError(
      'USAGE',
      `${dir} exists and is not a tracking dump (it holds ${entries.slice(0, 3).join(', ')}); give --out an empty or new directory`,
    );
}

export async function exportTracking(
  source: TransferSource,
  dir: string,
  opts: ExportOptions = {},
): Promise<ExportReport> {
  const { signal, onProgress } = opts;
  checkTarget(dir);
  mkdirSync(dir, { recursive: true });
  const report: ExportReport = {
    dir,
    experiments: 0,
    runs: 0,
    runsSkipped: 0,
    loggedModels: 0,
    registeredModels: 0,
    modelVersions: 0,
    artifacts: 0,
  };
  const stop = () => {
    if (signal?.aborted)
      throw new AppError('INTERRUPTED', `export interrupted; run it again with the same --out ${dir} to resume`);
  };
  rmSync(join(dir, 'manifest.json'), { force: true }); // incomplete until this run finishes

  const experiments = await source.experiments();
  // Every id that names a file is checked before the first one is used on disk.
  for (const exp of experiments) safeId('experiment id', exp.experimentId, source.description);
  writeFileAtomic(join(dir, 'experiments.json'), dumpJson(experiments));
  report.experiments = experiments.length;

  for (const exp of experiments) {
    const runDir = join(dir, 'runs', exp.experimentId);
    mkdirSync(runDir, { recursive: true });
    for await (const rec of source.runs(exp.experimentId)) {
      stop();
      const runId = safeId('run id', rec.run.info.runId, source.description);
      const file = join(runDir, `${runId}.json`);
      if (alreadyExported(file, rec.run)) {
        report.runsSkipped++;
        continue;
      }
      report.artifacts += await exportTree(source.runArtifacts(rec.run), join(dir, 'artifacts', 'runs', runId), {
        owner: `run ${runId}`,
        source: source.description,
        signal,
      });
      writeFileAtomic(file, dumpJson(rec));
      report.runs++;
      onProgress?.({ phase: 'runs', done: report.runs + report.runsSkipped, item: runId });
    }
    const lmDir = join(dir, 'logged-models', exp.experimentId);
    for await (const lm of source.loggedModels(exp.experimentId)) {
      stop();
      const modelId = safeId('logged model id', lm.modelId, source.description);
      mkdirSync(lmDir, { recursive: true });
      report.artifacts += await exportTree(
        source.loggedModelArtifacts(lm),
        join(dir, 'artifacts', 'logged-models', modelId),
        { owner: `logged model ${modelId}`, source: source.description, signal },
      );
      writeFileAtomic(join(lmDir, `${modelId}.json`), dumpJson(lm));
      report.loggedModels++;
    }
  }

  const regDir = join(dir, 'registry');
  mkdirSync(regDir, { recursive: true });
  for await (const rec of source.registeredModels()) {
    stop();
    writeFileAtomic(join(regDir, registryFileName(rec.model.name)), dumpJson(rec));
    report.registeredModels++;
    report.modelVersions += rec.versions.length;
  }

  const manifest: DumpManifest = {
    format: DUMP_FORMAT,
    version: DUMP_VERSION,
    exportedAt: new Date().toISOString(),
    source: source.description,
    counts: {
      experiments: report.experiments,
      runs: report.runs + report.runsSkipped,
      loggedModels: report.loggedModels,
      registeredModels: report.registeredModels,
      artifacts: report.artifacts,
    },
  };
  writeFileAtomic(join(dir, 'manifest.json'), dumpJson(manifest));
  return report;
}
