/**
 * Content hashes exactly as DVC 3 computes them (`hash: md5`):
 * - a file: the plain md5 of its raw bytes (no CRLF normalisation), its size, and
 *   `isexec` when any execute bit is set;
 * - a directory: md5 of its `.dir` manifest (`[{"md5": ..., "relpath": ...}, ...]`
 *   sorted by relpath in code point order, Python json.dumps style) + ".dir", with
 *   `size` = sum of file sizes and `nfiles` = number of files. `.git`, `.hg`, `.dvc` and
 *   `.dvcignore` matches are skipped, empty sub-directories contribute nothing, symlinked
 *   directories are not followed. An empty directory hashes to
 *   `d751713988987e9331980363e24189ce.dir` (manifest `[]`).
 *
 * A `HashState` remembers md5s keyed by (inode, mtime, size) so unchanged files are not
 * read again (a 1 GB file costs one stat).
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../core/errors.js';
import type { IgnoreFilter } from './dvcignore.js';
import type { HashState } from './hash-state.js';
import { manifestJson, type ManifestEntry } from './py-json.js';
import { codePointCompare } from './py-value.js';

/** The hash and meta of a file or directory, as recorded in dvc.lock and .dvc files. */
export interface HashInfo {
  /** 32 hex digits, with `.dir` appended for directories. */
  md5: string;
  size: number;
  /** Directories only. */
  nfiles?: number;
  /** Files only, when any execute bit is set. */
  isexec?: boolean;
}

/** A directory's hash plus what is needed to store it in the cache. */
export interface DirHash extends HashInfo {
  nfiles: number;
  /** Files in manifest order, with sizes and absolute paths. */
  entries: Array<ManifestEntry & { size: number; abs: string }>;
  /** The exact manifest bytes (the `.dir` cache object). */
  manifest: string;
}

const SMALL = 8 << 20;

/** md5 of a file's bytes, using and updating `state`. */
export async function hashFile(abs: string, st: Stats, state?: HashState): Promise<HashInfo> {
  let md5 = state?.lookup(abs, st);
  if (md5 === undefined) {
    if (st.size <= SMALL) md5 = createHash('md5').update(readFileSync(abs)).digest('hex');
    else {
      const h = createHash('md5');
      for await (const chunk of createReadStream(abs, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
      md5 = h.digest('hex');
    }
    state?.record(abs, st, md5);
  }
  const info: HashInfo = { md5, size: st.size };
  if ((st.mode & 0o111) !== 0) info.isexec = true;
  return info;
}

/**
 * Hash a directory. `repoRel` is its repo-relative posix path, used to match
 * `.dvcignore` patterns.
 */
export async function hashDir(
  abs: string,
  repoRel: string,
  ignore: IgnoreFilter | undefined,
  state?: HashState,
): Promise<DirHash> {
  const files: Array<{ relpath: string; abs: string; st: Stats }> = [];
  const walk = (dirAbs: string, rel: string): void => {
    let names;
    try {
      names = readdirSync(dirAbs, { withFileTypes: true });
    } catch (e) {
      throw new AppError('FILE_UNREADABLE', `cannot read directory ${dirAbs}: ${(e as Error).message}`, { cause: e });
    }
    for (const d of names) {
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      const childAbs = join(dirAbs, d.name);
      const repoPath = ignore?.hasRules ? (repoRel ? `${repoRel}/${childRel}` : childRel) : '';
      if (d.isDirectory()) {
        if (
          d.name === '.git' ||
          d.name === '.hg' ||
          d.name === '.dvc' ||
          (ignore?.hasRules && ignore.isIgnored(repoPath, true))
        )
          continue;
        walk(childAbs, childRel);
        continue;
      }
      let st: Stats;
      try {
        st = statSync(childAbs);
      } catch {
        continue; // dangling symlink
      }
      if (st.isDirectory()) continue; // symlinked directory: os.walk does not follow it
      if (ignore?.hasRules && ignore.isIgnored(repoPath, false)) continue;
      if (d.name === '.dvcignore')
        throw new AppError(
          'PIPELINE_INVALID',
          `${repoRel}/${childRel}: a .dvcignore inside a tracked directory is not allowed (DVC refuses it too); move its patterns to the repo root .dvcignore`,
        );
      files.push({ relpath: childRel, abs: childAbs, st });
    }
  };
  walk(abs, '');
  files.sort((a, b) => codePointCompare(a.relpath, b.relpath));
  const entries: DirHash['entries'] = [];
  let size = 0;
  for (const f of files) {
    const h = await hashFile(f.abs, f.st, state);
    entries.push({ md5: h.md5, relpath: f.relpath, size: f.st.size, abs: f.abs });
    size += f.st.size;
  }
  const manifest = manifestJson(entries);
  const md5 = createHash('md5').update(manifest, 'utf8').digest('hex') + '.dir';
  return { md5, size, nfiles: entries.length, entries, manifest };
}

/** Hash a file or directory; undefined when the path does not exist. */
export async function hashPath(
  abs: string,
  repoRel: string,
  ignore: IgnoreFilter | undefined,
  state?: HashState,
): Promise<HashInfo | DirHash | undefined> {
  let st: Stats;
  try {
    st = statSync(abs);
  } catch {
    return undefined;
  }
  if (ignore?.isIgnored(repoRel, st.isDirectory())) return undefined;
  return st.isDirectory() ? hashDir(abs, repoRel, ignore, state) : hashFile(abs, st, state);
}
