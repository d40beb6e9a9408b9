/**
 * The repo lock `.dvc/tmp/lock`, the same file DVC takes, so two `repro`s (carprice or
 * DVC) do not run at once. The file holds the holder's pid; a lock whose pid is no longer
 * alive is stale and taken over. Creation is O_EXCL, so two racing processes cannot both
 * win.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../core/errors.js';

/** A held lock; `release()` is idempotent. */
export interface RepoLockHandle {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the repo lock or throw PIPELINE_LOCKED naming the holder. */
export function acquireRepoLock(dvcDir: string, what = 'carprice'): RepoLockHandle {
  const file = join(dvcDir, 'tmp', 'lock');
  mkdirSync(join(dvcDir, 'tmp'), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, ` ${process.pid}\n`);
      closeSync(fd);
      let held = true;
      return {
        release() {
          if (!held) return;
          held = false;
          try {
            if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new AppError('FILE_UNREADABLE', `cannot create the repo lock ${file}: ${(e as Error).message}`, { cause: e });
    }
    let content = '';
    try {
      content = readFileSync(file, 'utf8');
    } catch {
      continue; // released meanwhile: retry
    }
    const pid = Number(content.trim().split(/\s+/)[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
      throw new AppError(
        'PIPELINE_LOCKED',
        `the repository is locked by another process (pid ${pid}: ${what === 'carprice' ? 'a carprice or dvc command' : what}) holding .dvc/tmp/lock; wait for it to finish, or if pid ${pid} is not running any more, delete .dvc/tmp/lock`,
        { details: { pid } },
      );
    rmSync(file, { force: true }); // stale (dead pid, empty or DVC's leftover)
  }
  throw new AppError('PIPELINE_LOCKED', `could not take the repo lock ${file} after 3 attempts; another process keeps taking it`);
}
