/**
 * The repo lock `.dvc/tmp/lock`, the same file DVC takes, so two `repro`s (carprice or
 * DVC) do not run at once. The file holds the holder's pid (` <pid>\n`, DVC's format).
 *
 * Taking it is atomic and the file is never seen half-written: the pid is written to a
 * private temp file which is then hard-linked to the lock name (link(2) fails with EEXIST
 * when the lock exists). A lock whose pid is no longer alive is stale; it is removed only
 * under a second, short-lived mutex (`lock.break`, a directory) after reading the lock
 * again, so two processes that both saw the same stale lock cannot remove each other's
 * fresh one. A lock file that is empty or unreadable (DVC writes its pid after creating
 * the file) is stale only once it is older than a few seconds: a lock that was just
 * created is never taken for stale.
 */
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../core/errors.js';

/** A held lock; `release()` is idempotent. */
export interface RepoLockHandle {
  release(): void;
}

/** How old an empty/garbled lock file, or a leftover break mutex, must be to be stale. */
const STALE_UNREADABLE_MS = 5000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder's pid, or undefined when the file is absent (`null` when empty/garbled). */
function readHolder(file: string): { pid: number | null; ageMs: number } | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const ageMs = Date.now() - statSync(file).mtimeMs;
    const pid = Number(text.trim().split(/\s+/)[0]);
    return { pid: Number.isInteger(pid) && pid > 0 ? pid : null, ageMs };
  } catch {
    return undefined;
  }
}

function isStale(h: { pid: number | null; ageMs: number }): boolean {
  if (h.pid === null) return h.ageMs > STALE_UNREADABLE_MS;
  return h.pid !== process.pid && !alive(h.pid);
}

/** Remove `file` if, read again under the break mutex, it is still stale. */
function breakStale(file: string): void {
  const mutex = `${file}.break`;
  try {
    mkdirSync(mutex);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return;
    // Another process is breaking the lock; a mutex left by a process that died is old.
    try {
      if (Date.now() - statSync(mutex).mtimeMs > STALE_UNREADABLE_MS) rmdirSync(mutex);
    } catch {
      /* gone meanwhile */
    }
    return;
  }
  try {
    const h = readHolder(file);
    if (h && isStale(h)) rmSync(file, { force: true });
  } finally {
    try {
      rmdirSync(mutex);
    } catch {
      /* already removed as stale by someone else */
    }
  }
}

function lockedError(pid: number | null, what: string): AppError {
  if (pid === null)
    return new AppError(
      'PIPELINE_LOCKED',
      `the repository is locked by another process that is just starting (.dvc/tmp/lock is being written); run the command again when it has finished`,
    );
  return new AppError(
    'PIPELINE_LOCKED',
    `the repository is locked by another process (pid ${pid}: ${what === 'carprice' ? 'a carprice or dvc command' : what}) holding .dvc/tmp/lock; wait for it to finish, or if pid ${pid} is not running any more, delete .dvc/tmp/lock`,
    { details: { pid } },
  );
}

/** Take the repo lock or throw PIPELINE_LOCKED naming the holder. */
export function acquireRepoLock(dvcDir: string, what = 'carprice'): RepoLockHandle {
  const dir = join(dvcDir, 'tmp');
  const file = join(dir, 'lock');
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.lock.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, ` ${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new AppError(
      'FILE_UNREADABLE',
      `cannot create the repo lock in ${dir}: ${(e as Error).message}; check that the directory is writable`,
      { cause: e },
    );
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, file);
        let held = true;
        return {
          release() {
            if (!held) return;
            held = false;
            const h = readHolder(file);
            if (h?.pid === process.pid) rmSync(file, { force: true });
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new AppError('FILE_UNREADABLE', `cannot create the repo lock ${file}: ${(e as Error).message}`, {
            cause: e,
          });
      }
      const h = readHolder(file);
      if (h === undefined) continue; // released meanwhile: try again
      if (!isStale(h)) throw lockedError(h.pid, what);
      breakStale(file);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  throw new AppError(
    'PIPELINE_LOCKED',
    `could not take the repo lock ${file} after 5 attempts; another process keeps taking it. Run the command again when it has finished`,
  );
}
