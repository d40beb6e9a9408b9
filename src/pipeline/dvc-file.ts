/**
 * `.dvc` files as `dvc add` writes them: `outs:` with entries in the order
 * `md5, size, [nfiles], [isexec], hash, path` (different from dvc.lock's order), path
 * relative to the `.dvc` file's directory. Other top-level keys (desc, meta, frozen, deps
 * of imports) are kept when a file is re-written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { AppError } from '../core/errors.js';
import type { HashInfo } from './hash.js';
import { readLockOut, type LockOut } from './lockfile.js';
import { isMap, type PyMap } from './py-value.js';
import { dumpYaml } from './yaml-dump.js';
import { loadYaml } from './yaml-load.js';

/** A loaded `.dvc` file. */
export interface DvcFile {
  /** Repo-relative posix path of the `.dvc` file. */
  relFile: string;
  raw: PyMap;
  outs: Array<LockOut & { cache: boolean; push: boolean }>;
  frozen: boolean;
  /** True for imports (`deps` present): carprice cannot update them. */
  isImport: boolean;
}

/** Read a `.dvc` file. */
export function readDvcFile(root: string, relFile: string): DvcFile {
  let text: string;
  try {
    text = readFileSync(join(root, relFile), 'utf8');
  } catch (e) {
    throw new AppError('FILE_UNREADABLE', `cannot read ${relFile}: ${(e as Error).message}`, { cause: e });
  }
  const doc = loadYaml(text, relFile);
  const v = doc.value;
  if (!isMap(v) || !Array.isArray(v.outs))
    throw new AppError(
      'PIPELINE_INVALID',
      `${relFile}:1: a .dvc file needs an 'outs' list; re-create it with \`carprice add <path>\``,
    );
  const outs = v.outs.map((o, i) => {
    if (!isMap(o) || typeof o.path !== 'string')
      throw new AppError('PIPELINE_INVALID', `${relFile}:${doc.lineOf(['outs', i]) ?? 1}: outs[${i}]: needs a 'path'`);
    return { ...readLockOut(o), cache: o.cache !== false, push: o.push !== false };
  });
  return { relFile, raw: v, outs, frozen: v.frozen === true, isImport: v.deps !== undefined };
}

/** An out entry in `.dvc` order: md5, size, nfiles, isexec, hash, path (+ kept flags). */
export function dvcFileOut(path: string, h: HashInfo, previous?: PyMap): PyMap {
  const o: PyMap = { md5: h.md5, size: h.size };
  if (h.nfiles !== undefined) o.nfiles = h.nfiles;
  if (h.isexec) o.isexec = true;
  o.hash = 'md5';
  o.path = path;
  if (previous)
    for (const [k, val] of Object.entries(previous))
      if (!['md5', 'size', 'nfiles', 'isexec', 'hash', 'path'].includes(k)) o[k] = val;
  return o;
}

/** Write a `.dvc` file atomically; `raw` keeps other top-level keys in DVC's order. */
export function writeDvcFile(root: string, relFile: string, outs: PyMap[], raw: PyMap = {}): void {
  const order = ['desc', 'md5', 'cmd', 'wdir', 'frozen', 'deps', 'outs', 'always_changed', 'meta'];
  const doc: PyMap = {};
  for (const k of order) {
    if (k === 'outs') doc.outs = outs;
    else if (raw[k] !== undefined) doc[k] = raw[k];
  }
  for (const [k, val] of Object.entries(raw)) if (!(k in doc)) doc[k] = val;
  writeFileAtomic(join(root, relFile), dumpYaml(doc));
}
