/**
 * Compares one stage with its record (dvc.lock entry, or the `.dvc` file) the way
 * `Stage.status()` in DVC does, and keeps the hashes it computed so that `repro` can write
 * the lock without hashing twice.
 *
 * Order of the result (DVC's): `changed deps` (path deps, then params files with per-key
 * `modified`/`new`/`deleted`; skipped for frozen stages), `changed outs` (`not in cache`,
 * `deleted`, `modified`), `always changed`, `changed command`.
 */
import { posix } from 'node:path';
import { hashPath, type HashInfo } from './hash.js';
import type { LockEntry, LockOut } from './lockfile.js';
import { DEFAULT_PARAMS_FILE, getParam, readParamsFile } from './params.js';
import { pyEqual, type PyMap } from './py-value.js';
import type { IndexStage, Repo } from './repo.js';
import { repoPath } from './repo.js';

/** `{file: state}` for a whole params file, or `{file: {key: state}}`. */
export type DepChange = [display: string, state: string | Array<[key: string, state: string]>];

/** The status of one stage. Empty lists and false flags mean "unchanged". */
export interface StageStatus {
  name: string;
  changedDeps: DepChange[];
  changedOuts: Array<[display: string, state: string]>;
  alwaysChanged: boolean;
  changedCmd: boolean;
  frozen: boolean;
}

/** What was computed while checking a stage (reused to write its lock entry). */
export interface StageObservation {
  status: StageStatus;
  deps: Array<{ path: string; hash: HashInfo | undefined }>;
  params: Array<{ file: string; values: PyMap; missingKeys: string[]; missingFile: boolean }>;
  outs: Array<{ path: string; hash: HashInfo | undefined; recorded: LockOut | undefined; inCache: boolean }>;
}

/** True when the status shows any change. */
export function isChanged(s: StageStatus): boolean {
  return s.changedCmd || s.alwaysChanged || s.changedDeps.length > 0 || s.changedOuts.length > 0;
}

/** Read the current values of a stage's params (per file, keys as written in dvc.yaml). */
export function readStageParams(repo: Repo, stage: IndexStage): StageObservation['params'] {
  const def = stage.def!;
  return def.params.map((p) => {
    const rel = repoPath(def.wdir, p.file);
    const data = readParamsFile(repo.abs(rel), rel);
    if (!data) return { file: p.file, values: {}, missingKeys: p.keys ?? [], missingFile: true };
    if (p.keys === null) return { file: p.file, values: { ...data }, missingKeys: [], missingFile: false };
    const values: PyMap = {};
    const missing: string[] = [];
    for (const k of p.keys) {
      const got = getParam(data, k);
      if (got.found) values[k] = got.value;
      else missing.push(k);
    }
    return { file: p.file, values, missingKeys: missing, missingFile: false };
  });
}

/** Check a stage against its record. `display(repoRel)` renders paths for output. */
export async function observeStage(
  repo: Repo,
  stage: IndexStage,
  lock: LockEntry | undefined,
  display: (repoRel: string) => string,
): Promise<StageObservation> {
  const status: StageStatus = {
    name: stage.name,
    changedDeps: [],
    changedOuts: [],
    alwaysChanged: false,
    changedCmd: false,
    frozen: false,
  };
  const obs: StageObservation = { status, deps: [], params: [], outs: [] };
  const recordedOuts: Array<LockOut | undefined> =
    stage.kind === 'stage'
      ? stage.outs.map((o) => lock?.outs.find((l) => l.path === o.defPath))
      : stage.dvcfile!.outs.map((o) => o);
  if (stage.kind === 'stage') {
    const def = stage.def!;
    status.frozen = def.frozen;
    for (const d of stage.deps) {
      const h = await hashPath(repo.abs(d.path), d.path, repo.ignore, repo.state);
      obs.deps.push({ path: d.defPath, hash: h });
      if (def.frozen) continue;
      const rec = lock?.deps.find((l) => l.path === d.defPath);
      if (!h) status.changedDeps.push([display(d.path), 'deleted']);
      else if (!rec || rec.md5 !== h.md5) status.changedDeps.push([display(d.path), 'modified']);
    }
    obs.params = readStageParams(repo, stage);
    if (!def.frozen)
      for (let i = 0; i < def.params.length; i++) {
        const p = def.params[i];
        const cur = obs.params[i];
        const shown = display(repoPath(def.wdir, p.file));
        if (cur.missingFile) {
          status.changedDeps.push([shown, 'deleted']);
          continue;
        }
        const rec = lock?.params[p.file];
        if (!rec) {
          status.changedDeps.push([shown, 'new']);
          continue;
        }
        const keys = p.keys ?? [...new Set([...Object.keys(cur.values), ...Object.keys(rec)])];
        const changes: Array<[string, string]> = [];
        for (const k of keys) {
          const inCur = Object.prototype.hasOwnProperty.call(cur.values, k);
          const inRec = Object.prototype.hasOwnProperty.call(rec, k);
          if (!inCur) changes.push([k, 'deleted']);
          else if (!inRec) changes.push([k, 'new']);
          else if (!pyEqual(cur.values[k], rec[k])) changes.push([k, 'modified']);
        }
        if (changes.length) status.changedDeps.push([shown, changes]);
      }
    const callback = stage.deps.length === 0 && def.params.length === 0 && stage.outs.length === 0;
    status.alwaysChanged = def.alwaysChanged || callback;
    if (lock && !pyEqualCmd(lock.cmd, def.cmd)) status.changedCmd = true;
  } else status.frozen = stage.dvcfile!.frozen;
  for (let i = 0; i < stage.outs.length; i++) {
    const o = stage.outs[i];
    const rec = recordedOuts[i];
    const h = await hashPath(repo.abs(o.path), o.path, repo.ignore, repo.state);
    const inCache = rec?.md5 !== undefined && o.cache ? repo.cache.hasAll(rec.md5) : false;
    obs.outs.push({ path: o.defPath, hash: h, recorded: rec, inCache });
    if (rec?.md5 && o.cache && !inCache) status.changedOuts.push([display(o.path), 'not in cache']);
    else if (!h) status.changedOuts.push([display(o.path), 'deleted']);
    else if (!rec?.md5 || rec.md5 !== h.md5) status.changedOuts.push([display(o.path), 'modified']);
  }
  return obs;
}

function pyEqualCmd(a: string | string[], b: string | string[]): boolean {
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  return pyEqual(a, b);
}

/** Render a repo-relative path relative to `cwd` (repo-relative) like DVC's str(out). */
export function displayFrom(cwdRel: string): (p: string) => string {
  if (cwdRel === '.' || cwdRel === '') return (p) => p;
  return (p) => posix.relative(cwdRel, p) || '.';
}

export { DEFAULT_PARAMS_FILE };
