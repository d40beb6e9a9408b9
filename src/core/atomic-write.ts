/**
 * Atomic file writes: write to a temp file in the same directory, fsync, rename over the
 * target. A crash or Ctrl-C leaves either the old file or the new one, never half of one.
 */
import { existsSync, mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

let counter = 0;

/** Atomically replace `path` with `data`, creating parent directories. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    // one write(2) may write less than asked (Linux caps a call at ~2 GiB): loop until done
    for (let off = 0; off < buf.byteLength; ) off += writeSync(fd, buf, off, buf.byteLength - off);
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
 * failure and the error rethrown.
 */
export function replaceDirAtomic(dir: string, fill: (tmp: string) => void): void {
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
