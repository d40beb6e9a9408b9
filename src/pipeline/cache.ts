/**
 * The local content-addressed cache, laid out like DVC 3's:
 * `.dvc/cache/files/md5/<h[:2]>/<h[2:]>` for file objects and `<...>.dir` for directory
 * manifests. Objects are written to a temp file in the same directory, renamed into place
 * and then made read-only (0444): DVC trusts a 0444 object without re-hashing it, so it
 * must be complete before the chmod.
 *
 * Objects are checked against their name before they are restored into the workspace or
 * trusted as already stored (the md5 is remembered per inode/mtime/size in the hash
 * state, so an unchanged object is read once). A corrupted object is removed from the
 * cache and reported: the caller treats it as missing (fetch it again, or run the stage).
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { AppError } from '../core/errors.js';
import type { DirHash } from './hash.js';
import type { HashState } from './hash-state.js';
import type { ManifestEntry } from './py-json.js';

let tmpCounter = 0;

/** Relative object path of a hash in DVC 3 layout: files/md5/ab/cdef...[.dir]. */
export function objectRelPath(md5: string): string {
  return `files/md5/${md5.slice(0, 2)}/${md5.slice(2)}`;
}

/** Copy a file to `dest` atomically (temp + rename), trying a reflink first. */
export function copyAtomic(src: string, dest: string, mode?: number): void {
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.${process.pid}.${tmpCounter++}.tmp`);
  try {
    copyFileSync(src, tmp, constants.COPYFILE_FICLONE);
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, dest);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** md5 of a file's bytes, read in 1 MiB blocks. */
export function md5OfFileSync(abs: string): string {
  const h = createHash('md5');
  const fd = openSync(abs, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** What `checkout` did. */
export interface CacheCheckout {
  /** The destination now holds the object's content. */
  ok: boolean;
  /** Objects found corrupted (and removed from the cache). */
  corrupted: string[];
  /** Files added / modified / deleted in the workspace (DVC's checkout stats). */
  files: { added: number; modified: number; deleted: number };
}

/** The repo's local object cache. */
export class LocalCache {
  constructor(
    readonly dir: string,
    private readonly state?: HashState,
  ) {}

  /**
   * Check an object's bytes against its name: 'ok', 'missing', or 'corrupted' (the object
   * is then deleted, so it reads as missing from now on).
   */
  verify(md5: string): 'ok' | 'missing' | 'corrupted' {
    const p = this.path(md5);
    let st;
    try {
      st = statSync(p);
    } catch {
      return 'missing';
    }
    let got = this.state?.lookup(p, st);
    if (got === undefined) {
      try {
        got = md5OfFileSync(p);
      } catch {
        return 'missing';
      }
      this.state?.record(p, st, got);
    }
    if (got === md5.replace(/\.dir$/, '')) return 'ok';
    this.remove(md5);
    return 'corrupted';
  }

  /** Delete an object (objects are read-only). */
  remove(md5: string): void {
    const p = this.path(md5);
    try {
      chmodSync(p, 0o644);
    } catch {
      /* absent */
    }
    rmSync(p, { force: true });
  }

  /** Verify a file object, or a `.dir` manifest and every file it lists. */
  verifyAll(md5: string): { missing: string[]; corrupted: string[] } {
    const r = { missing: [] as string[], corrupted: [] as string[] };
    const add = (m: string): boolean => {
      const v = this.verify(m);
      if (v !== 'ok') r[v].push(m);
      return v === 'ok';
    };
    if (!add(md5) || !md5.endsWith('.dir')) return r;
    let entries: ManifestEntry[] | undefined;
    try {
      entries = this.readManifest(md5);
    } catch {
      this.remove(md5);
      r.corrupted.push(md5);
      return r;
    }
    for (const e of entries ?? []) add(e.md5);
    return r;
  }

  /** Absolute path of an object. */
  path(md5: string): string {
    return `${this.dir}${sep}files${sep}md5${sep}${md5.slice(0, 2)}${sep}${md5.slice(2)}`;
  }

  /** True when the object file exists (a `.dir` object alone; see hasTree). */
  has(md5: string): boolean {
    return existsSync(this.path(md5));
  }

  /** True when a file object, or a `.dir` manifest and every file it lists, is present. */
  hasAll(md5: string): boolean {
    if (!md5.endsWith('.dir')) return this.has(md5);
    const entries = this.readManifest(md5);
    return entries !== undefined && entries.every((e) => this.has(e.md5));
  }

  /** Store a file's bytes under `md5` (no-op when a sound copy is present). */
  addFile(abs: string, md5: string): void {
    const dest = this.path(md5);
    if (this.verify(md5) === 'ok') return;
    copyAtomic(abs, dest, 0o444);
    this.state?.record(dest, statSync(dest), md5);
  }

  /** Store raw bytes under `md5` (no-op when a sound copy is present). */
  addBytes(md5: string, data: string | Uint8Array): void {
    const dest = this.path(md5);
    if (this.verify(md5) === 'ok') return;
    writeFileAtomic(dest, data);
    chmodSync(dest, 0o444);
    this.state?.record(dest, statSync(dest), md5.replace(/\.dir$/, ''));
  }

  /** Store a hashed directory: every file, then its `.dir` manifest last. */
  addDir(h: DirHash): void {
    for (const e of h.entries) this.addFile(e.abs, e.md5);
    this.addBytes(h.md5, h.manifest);
  }

  /** Parse a `.dir` manifest from the cache; undefined when absent. */
  readManifest(md5: string): ManifestEntry[] | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(md5), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const list = JSON.parse(text) as ManifestEntry[];
      if (!Array.isArray(list)) throw new Error('not a list');
      return list;
    } catch (e) {
      throw new AppError(
        'PIPELINE_INVALID',
        `cache object ${this.path(md5)} is not a valid .dir manifest; delete it and run the command again`,
        { cause: e },
      );
    }
  }

  /**
   * Make `dest` a copy of a cached object (file or directory), after checking every object
   * it needs against its hash. A directory is made to match the manifest exactly: files
   * added or replaced, extra files removed. `current` (relpath -> md5 of what is in `dest`
   * now) lets unchanged files stay. Nothing is written when an object is missing or
   * corrupted (corrupted ones are removed from the cache and listed).
   */
  checkout(md5: string, dest: string, isexec = false, current?: ReadonlyMap<string, string>): CacheCheckout {
    const v = this.verifyAll(md5);
    const files = { added: 0, modified: 0, deleted: 0 };
    if (v.missing.length || v.corrupted.length) return { ok: false, corrupted: v.corrupted, files };
    if (!md5.endsWith('.dir')) {
      const existed = existsSync(dest);
      if (existed && statSync(dest).isDirectory()) rmSync(dest, { recursive: true, force: true });
      copyAtomic(this.path(md5), dest, isexec ? 0o755 : 0o644);
      files[existed ? 'modified' : 'added']++;
      return { ok: true, corrupted: [], files };
    }
    const entries = this.readManifest(md5)!;
    if (existsSync(dest) && !statSync(dest).isDirectory()) rmSync(dest, { force: true });
    mkdirSync(dest, { recursive: true });
    const want = new Set(entries.map((e) => e.relpath));
    for (const e of entries)
      if (current?.get(e.relpath) !== e.md5) {
        const target = join(dest, ...e.relpath.split('/'));
        files[existsSync(target) ? 'modified' : 'added']++;
        copyAtomic(this.path(e.md5), target, 0o644);
      }
    const prune = (d: string): void => {
      for (const ent of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, ent.name);
        const rel = relative(dest, p).split(sep).join('/');
        if (ent.isDirectory()) {
          prune(p);
          if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
        } else if (!want.has(rel)) {
          rmSync(p, { force: true });
          files.deleted++;
        }
      }
    };
    prune(dest);
    return { ok: true, corrupted: [], files };
  }
}

/** DVC-like warning lines for corrupted objects found (and removed) in the cache. */
export function formatCorrupted(corrupted: readonly string[], path: string): string {
  return corrupted
    .map(
      (m) =>
        `WARNING: corrupted cache object md5: ${m} (for '${path}'): its content does not match its hash; removed it from the cache\n`,
    )
    .join('');
}
