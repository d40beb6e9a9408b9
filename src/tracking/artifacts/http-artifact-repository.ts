/**
 * Artifacts behind an MLflow server's proxied artifact service (spec §2.4):
 * `mlflow-artifacts:/a/b` resolves to `<tracking URI>/api/2.0/mlflow-artifacts/artifacts/a/b`
 * (or to its own host when the URI has one). PUT uploads raw bytes, GET streams them,
 * `GET ...artifacts?path=dir` lists a directory with basenames.
 */
import type { Readable } from 'node:stream';
import { AppError } from '../../core/errors.js';
import type { FileInfo } from '../entities.js';
import { MlflowHttpClient } from '../rest/http-client.js';
import { ARTIFACTS_PREFIX } from '../protocol/endpoints.js';
import {
  deletablePath,
  joinArtifactPath,
  safeRelativePath,
  safeSegment,
  type ArtifactRepository,
} from './artifact-repository.js';

function encodePath(p: string): string {
  return p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

async function toBuffer(body: Readable | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

export class HttpArtifactRepository implements ArtifactRepository {
  /** Path below the artifact service root, e.g. '1/abc/artifacts'. */
  private readonly base: string;

  /** `rootUri` is mlflow-artifacts:/path or mlflow-artifacts://host/path; `http` talks to the server. */
  constructor(
    readonly rootUri: string,
    private readonly http: MlflowHttpClient,
  ) {
    const m = /^mlflow-artifacts:(?:\/\/[^/]+)?\/*(.*)$/.exec(rootUri);
    if (!m) throw new AppError('CONFIG_INVALID', `invalid mlflow-artifacts URI '${rootUri}'`);
    this.base = m[1].replace(/\/+$/, '');
  }

  private path(relPath: string): string {
    return joinArtifactPath(this.base, safeRelativePath(relPath));
  }

  async write(relPath: string, body: Readable | Buffer): Promise<void> {
    await this.http.request({
      method: 'PUT',
      path: `${ARTIFACTS_PREFIX}/${encodePath(this.path(relPath))}`,
      body: await toBuffer(body),
    });
  }

  async read(relPath: string): Promise<Readable> {
    const res = await this.http.request({
      method: 'GET',
      path: `${ARTIFACTS_PREFIX}/${encodePath(this.path(relPath))}`,
      raw: true,
    });
    return MlflowHttpClient.bodyStream(res);
  }

  async list(relDir: string): Promise<FileInfo[]> {
    const rel = safeRelativePath(relDir);
    const full = joinArtifactPath(this.base, rel);
    const out = await this.http.request({ method: 'GET', path: ARTIFACTS_PREFIX, query: full ? { path: full } : {} });
    const files = Array.isArray(out.files) ? (out.files as Record<string, unknown>[]) : [];
    return files
      .map((f) => {
        // A name from the server is one segment: a listing cannot steer a download outside its folder.
        const info: FileInfo = { path: joinArtifactPath(rel, safeSegment(String(f.path))), isDir: Boolean(f.is_dir) };
        if (!info.isDir) info.fileSize = Number(f.file_size ?? 0);
        return info;
      })
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(relPath: string): Promise<void> {
    const rel = deletablePath(relPath);
    await this.http.request({ method: 'DELETE', path: `${ARTIFACTS_PREFIX}/${encodePath(this.path(rel))}` });
  }
}
