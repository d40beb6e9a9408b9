/**
 * DVC refuses to work when a pipeline file is git-ignored ("'dvc.lock' is git-ignored."):
 * dvc.lock is meant to be committed. carprice keeps working but warns the same way, so a
 * checkout that real DVC would refuse is noticed. The check asks git itself
 * (`git check-ignore --no-index`), only in a git work tree and only when git is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function inGitTree(root: string): boolean {
  for (let d = root; ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return true;
    if (dirname(d) === d) return false;
  }
}

/** The given repo-relative paths that git ignores (empty outside git or without git). */
export function gitIgnored(root: string, paths: string[]): string[] {
  if (paths.length === 0 || !inGitTree(root)) return [];
  const r = spawnSync('git', ['check-ignore', '--no-index', '--', ...paths], {
    cwd: root,
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (r.error || (r.status !== 0 && r.status !== 1)) return [];
  return r.stdout.split('\n').filter(Boolean);
}

/** Warn (stderr) when dvc.lock or dvc.yaml is git-ignored, as DVC would refuse to run. */
export function warnIfLockIgnored(root: string, err: { write(s: string): void }): void {
  for (const p of gitIgnored(root, ['dvc.lock', 'dvc.yaml']))
    err.write(
      `WARNING: '${p}' is git-ignored: real DVC stops every command with "'${p}' is git-ignored."; remove the .gitignore pattern that matches it and commit the file\n`,
    );
}
