/**
 * Chooses the artifact repository for an artifact URI by scheme: local paths and file://
 * -> LocalArtifactRepository; s3:// -> S3ArtifactRepository; mlflow-artifacts: ->
 * HttpArtifactRepository through the tracking server (needs an http(s) tracking URI).
 * A plain path handed out by a remote MLflow server that does not proxy artifacts (MLflow
 * 2.x `--no-serve-artifacts --default-artifact-root /srv/...`) names the server's disk, not
 * this machine's: writing there would leave the files on the client only (or fail with
 * EACCES), so it is refused with what to do, unless the server runs on this machine.
 * Also: upload of a whole directory and download of a file or tree into a local directory.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../../core/errors.js';
import type { Env } from '../../config/env.js';
import type { MlflowHttpClient } from '../rest/http-client.js';
import { joinArtifactPath, safeRelativePath, type ArtifactRepository } from './artifact-repository.js';
import { HttpArtifactRepository } from './http-artifact-repository.js';
import { LocalArtifactRepository } from './local-artifact-repository.js';
import { S3ArtifactRepository, s3ClientFromEnv } from './s3-artifact-repository.js';

export interface ArtifactResolverOptions {
  env: Env;
  /** Needed for mlflow-artifacts: URIs (the tracking server's HTTP client). */
  http?: MlflowHttpClient;
  /**
   * With `http`: the tracking server runs on this machine (a loopback host), so a local
   * artifact path it hands out is on the same disk. Default: worked out from `http`'s URL.
   */
  serverSharesDisk?: boolean;
}

/** True for http(s) URLs whose host is this machine (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
  } catch {
    return false;
  }
}

/** Resolves artifact URIs to repositories, sharing one S3 client. */
export class ArtifactResolver {
  private s3: S3Client | undefined;
  constructor(private readonly opts: ArtifactResolverOptions) {}

  /** The repository rooted at `uri`. */
  repositoryFor(uri: string): ArtifactRepository {
    if (uri.startsWith('s3://')) {
      this.s3 ??= s3ClientFromEnv(this.opts.env);
      return new S3ArtifactRepository(uri, this.s3);
    }
    if (uri.startsWith('mlflow-artifacts:')) {
      if (!this.opts.http)
        throw new AppError(
          'CONFIG_INVALID',
          `artifact URI '${uri}' needs an MLflow tracking server to proxy it, but the tracking URI is not http(s); set MLFLOW_TRACKING_URI to the server that created the run`,
        );
      return new HttpArtifactRepository(uri, this.opts.http);
    }
    if (uri.startsWith('file:') || !/^[a-z][a-z0-9+.-]*:/i.test(uri)) {
      const http = this.opts.http;
      if (http && !(this.opts.serverSharesDisk ?? isLoopbackUrl(http.baseUrl)))
        throw new AppError(
          'CONFIG_INVALID',
          `the MLflow server at ${http.baseUrl} hands out the artifact location '${uri}', a path on the server's own disk that carprice cannot reach from here (it would write to this machine's disk instead); start the server with artifact proxying (mlflow server --serve-artifacts --artifacts-destination <dir>, the default since MLflow 2.0) or give it an s3:// artifact root (--default-artifact-root s3://bucket/path, with AWS credentials here)`,
          { details: { artifactUri: uri } },
        );
      return new LocalArtifactRepository(uri);
    }
    throw new AppError(
      'CONFIG_INVALID',
      `unsupported artifact URI scheme in '${uri}'; carprice handles local paths, file://, s3:// and mlflow-artifacts:`,
    );
  }

  /** Release the S3 client. */
  close(): void {
    this.s3?.destroy();
  }
}

/** Upload one local file to `<artifactPath>/<name>`. */
export async function uploadFile(
  repo: ArtifactRepository,
  localFile: string,
  artifactPath: string | undefined,
  name: string,
): Promise<void> {
  await repo.write(joinArtifactPath(safeRelativePath(artifactPath), name), createReadStream(localFile));
}

/** Upload every file under `localDir` to `artifactPath`, keeping the tree; returns the count. */
export async function uploadDir(repo: ArtifactRepository, localDir: string, artifactPath?: string): Promise<number> {
  const base = safeRelativePath(artifactPath);
  let count = 0;
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      const r = joinArtifactPath(rel, e.name);
      if (e.isDirectory()) await walk(p, r);
      else if (e.isFile()) {
        await repo.write(joinArtifactPath(base, r), createReadStream(p));
        count++;
      }
    }
  };
  await walk(localDir, '');
  return count;
}

/** Every file below `relDir`, recursively. */
export async function listTree(repo: ArtifactRepository, relDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of await repo.list(relDir)) {
    if (f.isDir) out.push(...(await listTree(repo, f.path)));
    else out.push(f.path);
  }
  return out;
}

async function downloadOne(repo: ArtifactRepository, relPath: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${randomBytes(6).toString('hex')}.part`);
  try {
    await pipeline(await repo.read(relPath), createWriteStream(tmp));
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Download `relPath` (a file or a directory; '' = everything) into `destDir`. A directory's
 * contents land directly in `destDir`; a file lands as `destDir/<basename>`. Returns the
 * local path of the downloaded file or directory.
 */
export async function downloadTree(repo: ArtifactRepository, relPath: string, destDir: string): Promise<string> {
  const rel = safeRelativePath(relPath);
  const files = await listTree(repo, rel);
  await mkdir(destDir, { recursive: true });
  if (files.length === 0) {
    // Either a single file or nothing at all.
    const name = rel.split('/').pop() ?? '';
    if (!name) throw new AppError('RESOURCE_DOES_NOT_EXIST', `no artifacts found at '${repo.rootUri}'`);
    const target = join(destDir, name);
    await downloadOne(repo, rel, target);
    return target;
  }
  for (const f of files) {
    // Checked again here: whatever a repository lists, a download stays inside destDir.
    const inner = safeRelativePath(rel ? f.slice(rel.length + 1) : f);
    if (!inner) continue;
    await downloadOne(repo, f, join(destDir, ...inner.split('/')));
  }
  return destDir;
}
