/**
 * `dvc.lock` (schema 2.0): reading, building entries and writing them deterministically in
 * DVC's key order and YAML style. Entries of stages that are no longer in dvc.yaml are kept
 * (as DVC does: only `dvc remove` deletes them); an updated stage keeps its position, a new
 * one is appended.
 *
 * Entry layout (DVC `to_single_stage_lockfile`): `cmd`, `deps` (sorted by path), `params`
 * (params.yaml first, then other files sorted; keys sorted), `outs` (outs+metrics+plots
 * sorted by path); each dep/out is `path, hash: md5, md5, size, [nfiles], [isexec]`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { AppError } from '../core/errors.js';
import type { HashInfo } from './hash.js';
import { DEFAULT_PARAMS_FILE } from './params.js';
import { codePointCompare, isMap, type PyMap, type PyValue } from './py-value.js';
import { dumpYaml } from './yaml-dump.js';
import { loadYaml } from './yaml-load.js';
import { scalarText } from '../core/text.js';

/** A dep or out as recorded in the lock. */
export interface LockOut {
  path: string;
  /** 'md5' for DVC 3 entries; undefined for legacy 2.x entries. */
  hash?: string;
  md5?: string;
  size?: number;
  nfiles?: number;
  isexec?: boolean;
}

/**
 * A dep/out entry as recorded in dvc.lock or a `.dvc` file: path plus whichever hash
 * fields are present (md5 lower-cased; fields of the wrong type are left out).
 */
export function readLockOut(o: PyMap): LockOut {
  const r: LockOut = { path: scalarText(o.path) };
  if (typeof o.hash === 'string') r.hash = o.hash;
  if (o.md5 !== undefined && o.md5 !== null) r.md5 = scalarText(o.md5).toLowerCase();
  if (typeof o.size === 'number') r.size = o.size;
  if (typeof o.nfiles === 'number') r.nfiles = o.nfiles;
  if (o.isexec === true) r.isexec = true;
  return r;
}

/** One stage's lock entry. */
export interface LockEntry {
  cmd: string | string[];
  deps: LockOut[];
  params: Record<string, PyMap>;
  outs: LockOut[];
}

/** The lock file: entries as raw maps in file order (stale ones included). */
export class LockFile {
  /** Raw entries by stage name, in file order. */
  readonly raw = new Map<string, PyMap>();

  constructor(
    readonly root: string,
    readonly relFile = 'dvc.lock',
  ) {}

  /** Load from disk (an absent file is empty). */
  static load(root: string, relFile = 'dvc.lock'): LockFile {
    const lf = new LockFile(root, relFile);
    let text: string;
    try {
      text = readFileSync(join(root, relFile), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return lf;
      throw new AppError('FILE_UNREADABLE', `cannot read ${relFile}: ${(e as Error).message}`, { cause: e });
    }
    const v = loadYaml(text, relFile).value;
    if (v === null) return lf;
    if (!isMap(v))
      throw new AppError(
        'PIPELINE_INVALID',
        `${relFile}: expected a mapping; delete the file and run \`carprice repro\` to regenerate it`,
      );
    if (v.schema !== '2.0')
      throw new AppError(
        'PIPELINE_INVALID',
        `${relFile}: unsupported lock schema ${JSON.stringify(v.schema ?? '1.0 (no schema key)')}; only '2.0' (DVC 2.x/3.x) is supported. Delete it and run \`carprice repro\``,
      );
    const stages = v.stages ?? {};
    if (!isMap(stages)) throw new AppError('PIPELINE_INVALID', `${relFile}: 'stages' must be a mapping`);
    for (const [name, entry] of Object.entries(stages)) {
      if (!isMap(entry) || (typeof entry.cmd !== 'string' && !Array.isArray(entry.cmd)))
        throw new AppError(
          'PIPELINE_INVALID',
          `${relFile}: stage '${name}' must be a mapping with a 'cmd'; delete the entry and run \`carprice repro\``,
        );
      lf.raw.set(name, entry);
    }
    return lf;
  }

  /** The parsed entry of a stage, if recorded. */
  get(name: string): LockEntry | undefined {
    const e = this.raw.get(name);
    if (!e) return undefined;
    const outs = (list: PyValue | undefined): LockOut[] =>
      Array.isArray(list) ? list.filter(isMap).map(readLockOut) : [];
    const params: Record<string, PyMap> = {};
    if (isMap(e.params)) for (const [f, vals] of Object.entries(e.params)) params[f] = isMap(vals) ? vals : {};
    return { cmd: e.cmd as string | string[], deps: outs(e.deps), params, outs: outs(e.outs) };
  }

  /** Replace (in place) or append a stage's entry. */
  set(name: string, entry: PyMap): void {
    this.raw.set(name, entry);
  }

  /** The file's bytes. */
  serialize(): string {
    const stages: PyMap = {};
    for (const [k, v] of this.raw) stages[k] = v;
    return dumpYaml({ schema: '2.0', stages });
  }

  /** Write atomically. */
  save(): void {
    writeFileAtomic(join(this.root, this.relFile), this.serialize());
  }
}

/** A dep/out entry in lock key order: path, hash, md5, size, nfiles, isexec. */
export function lockOut(path: string, h: HashInfo): PyMap {
  const o: PyMap = { path, hash: 'md5', md5: h.md5, size: h.size };
  if (h.nfiles !== undefined) o.nfiles = h.nfiles;
  if (h.isexec) o.isexec = true;
  return o;
}

/** Build a stage's lock entry in DVC's order (deps/outs sorted, params default file first). */
export function buildLockEntry(
  cmd: string | string[],
  deps: Array<{ path: string; hash: HashInfo }>,
  params: Array<{ file: string; values: PyMap }>,
  outs: Array<{ path: string; hash: HashInfo }>,
): PyMap {
  const e: PyMap = { cmd: Array.isArray(cmd) ? [...cmd] : cmd };
  if (deps.length)
    e.deps = [...deps].sort((a, b) => codePointCompare(a.path, b.path)).map((d) => lockOut(d.path, d.hash));
  if (params.length) {
    const files = [...params].sort((a, b) =>
      a.file === DEFAULT_PARAMS_FILE ? -1 : b.file === DEFAULT_PARAMS_FILE ? 1 : codePointCompare(a.file, b.file),
    );
    const p: PyMap = {};
    for (const f of files) {
      const vals: PyMap = {};
      for (const k of Object.keys(f.values).sort(codePointCompare)) vals[k] = f.values[k];
      p[f.file] = vals;
    }
    e.params = p;
  }
  if (outs.length)
    e.outs = [...outs].sort((a, b) => codePointCompare(a.path, b.path)).map((o) => lockOut(o.path, o.hash));
  return e;
}
