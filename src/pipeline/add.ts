/**
 * `add`: track a data file or directory with a `.dvc` file, as `dvc add` does: hash it,
 * store it in the cache, write `<name>.dvc` next to it (`outs: [{md5, size, [nfiles],
 * hash: md5, path}]`) and add `/<name>` to the `.gitignore` beside it (git repos only).
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { AppError } from '../core/errors.js';
import { dvcFileOut, readDvcFile, writeDvcFile } from './dvc-file.js';
import { hashPath, type HashInfo } from './hash.js';
import type { PyMap } from './py-value.js';
import { Repo } from './repo.js';
import { commitToCache, gitignoreOutput } from './stage-runner.js';

/** Options of `add`. */
export interface AddOptions {
  cwd: string;
  /** Paths relative to cwd. */
  paths: string[];
}

/** One tracked path. */
export interface AddedPath {
  path: string;
  dvcFile: string;
  hash: HashInfo;
  /** False when the `.dvc` file already recorded this content. */
  changed: boolean;
  /** The .gitignore that got an entry for it (none when git ignored it already). */
  gitignore?: string;
}

/** Track files/directories; returns what was written. */
export async function add(opts: AddOptions): Promise<AddedPath[]> {
  const repo = Repo.find(opts.cwd);
  try {
    const index = repo.loadIndex();
    const out: AddedPath[] = [];
    for (const p of opts.paths) {
      const abs = resolve(opts.cwd, p);
      const rel = repo.rel(abs);
      if (rel.startsWith('..')) throw new AppError('USAGE', `'${p}' is outside the repository ${repo.root}`);
      if (!existsSync(abs)) throw new AppError('FILE_NOT_FOUND', `'${p}' does not exist; nothing to add`);
      if (repo.ignore.isIgnored(rel, false))
        throw new AppError('USAGE', `'${p}' is ignored by .dvcignore; remove the pattern to track it`);
      for (const s of index.stages)
        if (
          s.kind === 'stage' &&
          s.outs.some((o) => o.path === rel || rel.startsWith(o.path + '/') || o.path.startsWith(rel + '/'))
        )
          throw new AppError(
            'USAGE',
            `'${rel}' is (or overlaps) an output of stage '${s.name}' in dvc.yaml; it is tracked by dvc.lock already`,
          );
      const h = await hashPath(abs, rel, repo.ignore, repo.state);
      if (!h) throw new AppError('FILE_NOT_FOUND', `'${p}' does not exist`);
      const dvcRel = `${rel}.dvc`;
      let raw: PyMap = {};
      let prev: PyMap | undefined;
      let changed = true;
      if (existsSync(repo.abs(dvcRel))) {
        const df = readDvcFile(repo.root, dvcRel);
        raw = df.raw;
        prev = (df.raw.outs as PyMap[])[0];
        changed = df.outs[0]?.md5 !== h.md5;
      }
      commitToCache(repo, abs, h);
      if (changed || !prev) writeDvcFile(repo.root, dvcRel, [dvcFileOut(basename(rel), h, prev)], raw);
      const gitignore = gitignoreOutput(repo, rel);
      out.push({ path: rel, dvcFile: dvcRel, hash: h, changed, ...(gitignore ? { gitignore } : {}) });
    }
    return out;
  } finally {
    repo.state.save();
  }
}
