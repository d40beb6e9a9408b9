/**
 * Remote storage for cache objects, with DVC 3's layout under the remote URL:
 * `<url>/files/md5/<h[:2]>/<h[2:]>` (`.dir` manifests included). `LocalRemote` is a
 * directory; `S3Remote` (s3://bucket/prefix) lives in s3-remote.ts and is imported only
 * when used, so commands that never touch S3 do not pay for loading the AWS SDK.
 */
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '../config/env.js';
import { AppError } from '../core/errors.js';
import { copyAtomic } from './cache.js';
import { hasScheme, resolveLocalUrl, type RepoConfig } from './config.js';
import type { Remote } from './remote-interface.js';

export type { Remote } from './remote-interface.js';

/** A directory remote (DVC resolves a relative URL against `.dvc/`). */
export class LocalRemote implements Remote {
  readonly dir: string;
  constructor(
    readonly name: string,
    readonly url: string,
    dvcDir: string,
  ) {
    this.dir = resolveLocalUrl(url, dvcDir);
  }
  async exists(rels: string[]): Promise<Set<string>> {
    return new Set(rels.filter((r) => existsSync(join(this.dir, r))));
  }
  async put(rel: string, localAbs: string): Promise<void> {
    const dest = join(this.dir, rel);
    try {
      copyAtomic(localAbs, dest, 0o444);
    } catch (e) {
      throw new AppError('REMOTE', `cannot write ${dest} on remote '${this.name}': ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  async get(rel: string, destAbs: string): Promise<boolean> {
    const src = join(this.dir, rel);
    if (!existsSync(src)) return false;
    copyAtomic(src, destAbs, 0o444);
    chmodSync(destAbs, 0o444);
    return true;
  }
  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = (rel: string): void => {
      let ents;
      try {
        ents = readdirSync(join(this.dir, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of ents) {
        if (e.name.startsWith('.')) continue;
        if (e.isDirectory()) walk(`${rel}/${e.name}`);
        else out.push(`${rel}/${e.name}`);
      }
    };
    walk(prefix.replace(/\/+$/, ''));
    return out.sort();
  }
}

/** How to add a remote, for messages. */
export const ADD_REMOTE_HINT =
  'add one with `carprice remote add -d NAME s3://BUCKET/PREFIX` (or a local directory path)';

/** The remote to use: `name`, or the default (`core.remote`). */
export async function openRemote(config: RepoConfig, name: string | undefined, env: Env): Promise<Remote> {
  const chosen = name ?? config.get('core', 'remote');
  if (!chosen)
    throw new AppError('REMOTE', `no remote given and no default remote set; ${ADD_REMOTE_HINT}, or pass -r NAME`);
  const sec = config.section(`remote "${chosen}"`);
  if (!sec) {
    const known = config.remoteNames();
    throw new AppError(
      'REMOTE',
      `remote '${chosen}' ${name ? '' : '(the default, core.remote) '}does not exist in .dvc/config; ${known.length ? `known remotes: ${known.join(', ')}; ` : ''}${ADD_REMOTE_HINT}`,
    );
  }
  const url = sec.get('url');
  if (!url)
    throw new AppError(
      'REMOTE',
      `remote '${chosen}' has no url in .dvc/config; set one with \`carprice remote modify ${chosen} url URL\``,
    );
  if (url.startsWith('s3://')) {
    const { S3Remote } = await import('./s3-remote.js');
    return new S3Remote(chosen, url, sec, env);
  }
  if (hasScheme(url) && !url.startsWith('file://'))
    throw new AppError(
      'REMOTE',
      `remote '${chosen}' uses ${url.split(':')[0]}://, which carprice does not support; use s3:// or a local directory`,
    );
  return new LocalRemote(chosen, url, config.dvcDir);
}
