/**
 * Atomic file writes: write to a temp file in the same directory, fsync, rename over the
 * target. A crash or Ctrl-C leaves either the old file or the new one, never half of one.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  realpathSync,
  openSync,
  writeSync,
  fsyncSync,
  closeSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { AppError } from './errors.js';

const WRITE_PROBLEMS: Record<string, string> = {
  ENOSPC: 'no space left on the device; free some space and run again',
  EDQUOT: 'the disk quota is exhausted; free some space and run again',
  EFBIG: 'the file is larger than this file system or ulimit allows',
  EROFS: 'the file system is read-only (EROFS); write somewhere else',
  EACCES: 'permission denied (EACCES); write somewhere you may write, or fix the permissions',
  EPERM: 'operation not permitted (EPERM); write somewhere you may write, or fix the permissions',
  ENOTDIR: 'a part of the path is a file, not a directory (ENOTDIR)',
  EISDIR: 'the path is a directory (EISDIR)',
  EIO: 'an I/O error from the device (EIO)',
};

/**
 * The coded error for a failed write of `path`: FILE_UNWRITABLE with a one-line reason for
 * the errno (full disk, read-only file system, permissions), or `e` itself when it is not a
 * system error (an AppError thrown by a `fill` callback passes through unchanged).
 */
export function writeFailure(e: unknown, path: string): unknown {
  if (e instanceof AppError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return e;
  const why = WRITE_PROBLEMS[code] ?? `${(e as Error).message}`;
  return new AppError('FILE_UNWRITABLE', `cannot write ${path}: ${why}`, { cause: e, details: { errno: code } });
}

let counter = 0;

/**
 * Atomically replace `path` with `data`, creating parent directories. A full disk, a
 * read-only file system or a permission problem is FILE_UNWRITABLE naming `path`.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  try {
    writeFileAtomicRaw(path, data);
  } catch (e) {
    throw writeFailure(e, path);
  }
}

function writeFileAtomicRaw(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    // one write(2) may write less than asked (Linux caps a call at ~2 GiB): loop until done
    for (let off = 0; off < buf.byteLength;) off += writeSync(fd, buf, off, buf.byteLength - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Atomically create or replace the directory `dir`: `fill` writes the new content into a
 * temporary sibling, which is then renamed into place. The previous directory is moved
 * aside first and put back if the final rename fails, so an interruption leaves either
 * the old directory or the new one, never a half-written one. The temp dir is removed on
 * failure and the error rethrown (system errors as FILE_UNWRITABLE, see writeFailure).
 */
export function replaceDirAtomic(dir: string, fill: (tmp: string) => void): void {
  try {
    replaceDirAtomicRaw(dir, fill);
  } catch (e) {
    // a file written inside the temp dir failed: name the directory the user knows
    throw writeFailure(e instanceof AppError && e.code === 'FILE_UNWRITABLE' ? e.cause : e, dir);
  }
}

function replaceDirAtomicRaw(dir: string, fill: (tmp: string) => void): void {
  const parent = dirname(dir);
  const tmp = join(parent, `.${basename(dir)}.${process.pid}.tmp`);
  const old = join(parent, `.${basename(dir)}.${process.pid}.old`);
  let moved = false;
  try {
    mkdirSync(parent, { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    fill(tmp);
    rmSync(old, { recursive: true, force: true });
    if (existsSync(dir)) {
      renameSync(dir, old);
      moved = true;
    }
    renameSync(tmp, dir);
  } catch (e) {
    if (moved && !existsSync(dir)) renameSync(old, dir); // put the previous directory back
    try {
      rmSync(tmp, { recursive: true, force: true });
    } catch {
      // nothing was created (e.g. the parent is a file): nothing to clean
    }
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}

/**
 * A file written piece by piece and made visible all at once: pieces go to a temp file in
 * the target's directory, `commit` fsyncs and renames it over `path`, `abort` removes it.
 * For outputs too big to build in memory (batch predictions); errors are FILE_UNWRITABLE.
 */
export class AtomicFileWriter {
  private fd: number | undefined;
  private readonly tmp: string;
  /** Writing straight to `path` (a device, pipe or a link into /dev or /proc: see the constructor). */
  private readonly direct: boolean;
  /** Where the temp file is renamed to: `path`, or the file a symbolic link `path` points at. */
  private readonly target: string;

  /**
   * A `path` that exists as a device (/dev/null), a named pipe or a socket, or as a link into
   * /dev or /proc (/dev/stdout), is written straight through, as a shell's `>` would:
   * renaming a temp file over it would replace the link or device node itself (as root,
   * /dev/stdout or /dev/null become plain files for every later process). Such a target gets
   * the bytes as they come; `abort` cannot take them back. A symbolic link to a regular file
   * stays a link: the temp file goes next to the link's target and
   * is renamed over that, so the target is still replaced whole or not at all.
   */
  constructor(readonly path: string) {
    const target = writeTarget(path);
    this.direct = target === null;
    this.target = target ?? path;
    const dir = dirname(this.target);
    this.tmp = join(dir, `.${basename(this.target)}.${process.pid}.${counter++}.tmp`);
    try {
      if (!this.direct) mkdirSync(dir, { recursive: true });
      this.fd = openSync(this.direct ? path : this.tmp, 'w');
    } catch (e) {
      throw writeFailure(e, path);
    }
  }

  /** Append `text` (UTF-8) or bytes (synchronously: the caller's chunks are bounded). */
  write(text: string | Uint8Array): void {
    if (this.fd === undefined)
      throw new AppError('FILE_UNWRITABLE', `cannot write ${this.path}: the output was already closed`);
    const buf = typeof text === 'string' ? Buffer.from(text) : text;
    try {
      for (let off = 0; off < buf.byteLength;) off += writeSync(this.fd, buf, off, buf.byteLength - off);
    } catch (e) {
      this.abort();
      throw writeFailure(e, this.path);
    }
  }

  /** Make the file visible at `path` (replacing what was there). */
  commit(): void {
    if (this.fd === undefined) return;
    if (this.direct) {
      const fd = this.fd;
      this.fd = undefined;
      try {
        closeSync(fd);
      } catch (e) {
        throw writeFailure(e, this.path);
      }
      return;
    }
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
      renameSync(this.tmp, this.target);
    } catch (e) {
      this.abort();
      throw writeFailure(e, this.path);
    }
  }

  /** Drop the partial output; `path` is left as it was. */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = undefined;
    }
    if (!this.direct) rmSync(this.tmp, { force: true });
  }
}

/**
 * Where an AtomicFileWriter renames its temp file for `path`: `path` itself when it is a
 * regular file, a directory or absent; for a symbolic link to a regular file, that file;
 * null (write straight through) for a device, pipe or socket, a link resolving to one, a
 * dangling link (open creates its target), and a link into /dev or /proc (/dev/stdout resolves to
 * whatever the shell redirected to, which must not be renamed over).
 */
function writeTarget(path: string): string | null {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return path;
  }
  if (st.isFile() || st.isDirectory()) return path;
  if (!st.isSymbolicLink()) return null;
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return null; // dangling or looping: let open() follow it (or fail naming the path)
  }
  if (/^\/(dev|proc)(\/|$)/.test(real) || /^\/(dev|proc)(\/|$)/.test(path)) return null;
  try {
    return lstatSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}
