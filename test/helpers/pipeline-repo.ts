/**
 * The pipeline integration tests' scratch repositories: a temp directory with `.dvc/` and
 * the given files (folders made as needed), removed when the test ends; git with a fixed
 * identity (and no signing) for the tests that commit; the md5 of a text and the path of
 * its cache object; the outcome of each stage of a reproduce.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ReproduceResult } from '../../src/pipeline/reproduce.js';

/** The part of a node:test context that registers clean-up. */
interface Cleanup {
  after(fn: () => void): void;
}

/**
 * A scratch repository: a new temp directory (`carprice-<prefix>-...`) with `.dvc/` and
 * `files` (path -> content). With `t`, it is removed when the test ends.
 */
export function makeRepo(files: Record<string, string>, o: { prefix?: string; t?: Cleanup } = {}): string {
  const d = mkdtempSync(join(tmpdir(), `carprice-${o.prefix ?? 'repo'}-`));
  mkdirSync(join(d, '.dvc'));
  for (const [k, v] of Object.entries(files)) {
    mkdirSync(dirname(join(d, k)), { recursive: true });
    writeFileSync(join(d, k), v);
  }
  o.t?.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A temp directory (a remote, a store, a clone), removed when the test ends when `t` is given. */
export function tempDir(prefix: string, t?: Cleanup): string {
  const d = mkdtempSync(join(tmpdir(), `carprice-${prefix}-`));
  t?.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export const hasGit = spawnSync('git', ['--version']).status === 0;

/** git in `cwd` with a fixed identity and no commit signing; fails the test on a non-zero exit. */
export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync(
    'git',
    ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', ...args],
    { cwd, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

export const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** Where DVC 3 keeps the cache object of md5 `h` under `root` (a repo's .dvc/cache or a remote). */
export const cacheObject = (root: string, h: string): string => join(root, 'files/md5', h.slice(0, 2), h.slice(2));

/** stage name -> outcome of a reproduce. */
export function outcomes(r: ReproduceResult): Record<string, string> {
  return Object.fromEntries(r.stages.map((s) => [s.name, s.outcome]));
}
