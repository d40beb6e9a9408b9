/**
 * The run-cache, as DVC's `dvc/stage/cache.py` keeps it: for every successful run of an
 * eligible stage, its lock entry is saved under
 * `<cache>/runs/<key[:2]>/<key>/<value>` (`.dvc/cache/runs/...`), where
 *   key   = sha256(json.dumps(entry with outs -> [out paths], sort_keys=True))
 *   value = sha256(json.dumps(entry, sort_keys=True))
 * both with every `size`/`nfiles` key removed at any depth (Python's json.dumps defaults).
 * A later repro of the same command, deps and params finds the outputs' hashes there and
 * checks them out instead of running the command ("is cached - skipping run").
 *
 * Eligible (`_can_hash`): not always_changed and not a callback stage; a cmd, at least one
 * dep (params count) that exists, at least one out, and no `persist` out. An entry is saved
 * only when no `cache: false` out is a plain out (metrics and plots may be uncached: their
 * objects are committed to the cache for the run-cache all the same).
 * `push --run-cache` / `pull --run-cache` copy `runs/` to and from the remote.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { AppError } from '../core/errors.js';
import { dictFilter, pyJsonDumps } from './py-json.js';
import { isMap, PyDate, type PyMap, type PyValue } from './py-value.js';
import type { Remote } from './remote.js';
import type { IndexStage } from './repo.js';
import { dumpYaml } from './yaml-dump.js';
import { loadYaml } from './yaml-load.js';

const EXCLUDE = new Set(['size', 'nfiles']);

/** A date cannot go through json.dumps; DVC fails the same way ("not JSON serializable"). */
function refuseDate(d: PyDate): never {
  throw new AppError(
    'PIPELINE_INVALID',
    `a params value is a date (${d.text}), which DVC cannot record for the run-cache (Object of type date is not JSON serializable); quote it in the params file ('${d.text}')`,
  );
}

/** sha256 of Python's json.dumps(dict_filter(entry, [size, nfiles]), sort_keys=True). */
export function runCacheHash(entry: PyMap, asKey: boolean): string {
  let e: PyMap = entry;
  if (asKey)
    e = {
      ...entry,
      outs: (Array.isArray(entry.outs) ? entry.outs : []).map<PyValue>((o) => (isMap(o) ? o.path : o)),
    };
  return createHash('sha256')
    .update(pyJsonDumps(dictFilter(e, EXCLUDE), refuseDate), 'utf8')
    .digest('hex');
}

/** The first date found in a value, if any (for an early, clear error). */
export function findDate(v: PyValue): PyDate | undefined {
  if (v instanceof PyDate) return v;
  if (Array.isArray(v)) {
    for (const x of v) {
      const d = findDate(x);
      if (d) return d;
    }
    return undefined;
  }
  if (isMap(v))
    for (const x of Object.values(v)) {
      const d = findDate(x);
      if (d) return d;
    }
  return undefined;
}

/** DVC's `_can_hash` (deps existing is checked by the caller: `depsPresent`). */
export function canHash(stage: IndexStage, depsPresent: boolean): boolean {
  const def = stage.def;
  if (!def || def.alwaysChanged) return false;
  const callback = stage.deps.length === 0 && def.params.length === 0 && stage.outs.length === 0;
  if (callback) return false;
  if (stage.deps.length + def.params.length === 0 || stage.outs.length === 0 || !depsPresent) return false;
  return stage.outs.every(
    (o) =>
      !o.persist && !/^[a-z][a-z0-9+.-]*:\/\//i.test(o.path) && !o.path.startsWith('/') && !o.path.startsWith('../'),
  );
}

/** True when a run of this stage may be saved to the run-cache (no plain uncached out). */
export function savesRunCache(stage: IndexStage): boolean {
  return !stage.outs.some((o) => !o.cache && o.kind === 'outs');
}

/** The run-cache of a repo's cache directory. */
export class StageCache {
  /** `<cache>/runs`. */
  readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, 'runs');
  }

  private path(key: string, value: string): string {
    return join(this.dir, key.slice(0, 2), key, value);
  }

  /** Parse one saved entry; a corrupted file is removed (DVC warns and unlinks it too). */
  private read(file: string, warn: (line: string) => void): PyMap | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const v = loadYaml(text, file).value;
      if (
        !isMap(v) ||
        (typeof v.cmd !== 'string' && !Array.isArray(v.cmd)) ||
        !Array.isArray(v.outs) ||
        !v.outs.every((o) => isMap(o) && typeof o.path === 'string')
      )
        throw new Error('not a lock entry');
      return v;
    } catch {
      warn(`WARNING: corrupted cache file '${file}'.\n`);
      rmSync(file, { force: true });
      return undefined;
    }
  }

  /** The newest entry saved for this key entry (a lock entry; outs reduced to paths for the key). */
  load(entry: PyMap, warn: (line: string) => void): PyMap | undefined {
    const key = runCacheHash(entry, true);
    const dir = join(this.dir, key.slice(0, 2), key);
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => !n.startsWith('.'));
    } catch {
      return undefined;
    }
    const newest = names
      .map((n) => {
        try {
          return { n, t: statSync(join(dir, n)).mtimeMs };
        } catch {
          return { n, t: -1 };
        }
      })
      .sort((a, b) => b.t - a.t)[0];
    return newest ? this.read(join(dir, newest.n), warn) : undefined;
  }

  /**
   * Save a run's lock entry (no-op when the same entry is there). Returns the saved (or
   * existing) entry, whose outs the caller commits to the cache.
   */
  save(entry: PyMap, warn: (line: string) => void): PyMap {
    const key = runCacheHash(entry, true);
    const value = runCacheHash(entry, false);
    const file = this.path(key, value);
    const existing = this.read(file, warn);
    if (existing) return existing;
    writeFileAtomic(file, dumpYaml(entry));
    return entry;
  }

  /** Every saved entry file, as `runs/<k2>/<key>/<value>` rel paths. */
  list(): string[] {
    const out: string[] = [];
    const walk = (abs: string, rel: string): void => {
      let ents;
      try {
        ents = readdirSync(abs, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of ents) {
        if (e.name.startsWith('.')) continue;
        if (e.isDirectory()) walk(join(abs, e.name), `${rel}/${e.name}`);
        else out.push(`${rel}/${e.name}`);
      }
    };
    walk(this.dir, 'runs');
    return out.sort();
  }

  /**
   * Upload every entry; returns how many were sent. Like DVC (its run-cache transfer runs
   * with force), entries the remote already has are sent again and counted: the files are
   * small, and `push --run-cache` reports the same count as `dvc push --run-cache`.
   */
  async push(remote: Remote, cacheDir: string): Promise<number> {
    const mine = this.list();
    for (const rel of mine) {
      const abs = join(cacheDir, ...rel.split('/'));
      await remote.put(rel, abs, statSync(abs).size);
    }
    return mine.length;
  }

  /** Download the remote's entries this cache lacks; returns how many were fetched. */
  async pull(remote: Remote, cacheDir: string): Promise<number> {
    const mine = new Set(this.list());
    let n = 0;
    for (const rel of await remote.list('runs')) {
      if (mine.has(rel) || !/^runs\/[0-9a-f]{2}\/[0-9a-f]{64}\/[0-9a-f]{64}$/.test(rel)) continue;
      if (await remote.get(rel, join(cacheDir, ...rel.split('/')))) n++;
    }
    return n;
  }
}
