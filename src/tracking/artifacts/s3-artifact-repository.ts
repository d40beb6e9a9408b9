/**
 * Artifacts under an S3 prefix (s3://bucket/prefix) through @aws-sdk/client-s3. Honours
 * AWS_* credentials and region from the declared Env, and an endpoint override for
 * S3-compatible servers (MLFLOW_S3_ENDPOINT_URL, else AWS_ENDPOINT_URL_S3, else
 * AWS_ENDPOINT_URL), with path-style addressing and checksums only when required so that
 * MinIO, s3rver and friends work.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { AppError } from '../../core/errors.js';
import type { Env } from '../../config/env.js';
import type { FileInfo } from '../entities.js';
import { deletablePath, joinArtifactPath, safeRelativePath, type ArtifactRepository } from './artifact-repository.js';

/** Split s3://bucket/prefix into its parts (prefix without trailing '/'). */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m || !m[1]) throw new AppError('CONFIG_INVALID', `invalid S3 URI '${uri}': expected s3://bucket/prefix`);
  return { bucket: m[1], prefix: m[2].replace(/\/+$/, '') };
}

/** An S3 client configured from the declared environment. */
export function s3ClientFromEnv(env: Env): S3Client {
  const endpoint = env.MLFLOW_S3_ENDPOINT_URL ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const config: S3ClientConfig = {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (endpoint) {
    config.endpoint = endpoint;
    config.forcePathStyle = true;
  }
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)
    config.credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  return new S3Client(config);
}

function remote(what: string, e: unknown): AppError {
  const name = (e as { name?: string }).name ?? 'Error';
  return new AppError(
    'REMOTE',
    `S3 ${what} failed (${name}): ${(e as Error).message}; check the bucket, credentials (AWS_*) and endpoint (MLFLOW_S3_ENDPOINT_URL)`,
    { cause: e },
  );
}

async function toBuffer(body: Readable | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** A key segment that can be an artifact name ('.', '..' and backslashes cannot: a download would leave its folder). */
function listable(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('\\');
}

export class S3ArtifactRepository implements ArtifactRepository {
  private readonly bucket: string;
  private readonly prefix: string;
  constructor(
    readonly rootUri: string,
    private readonly client: S3Client,
  ) {
    const p = parseS3Uri(rootUri);
    this.bucket = p.bucket;
    this.prefix = p.prefix;
  }

  private key(relPath: string): string {
    return joinArtifactPath(this.prefix, safeRelativePath(relPath));
  }

  async write(relPath: string, body: Readable | Buffer): Promise<void> {
    const data = await toBuffer(body);
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.key(relPath), Body: data, ContentLength: data.length }),
      );
    } catch (e) {
      throw remote(`upload of ${relPath}`, e);
    }
  }

  async read(relPath: string): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(relPath) }));
      return out.Body as Readable;
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound')
        throw new AppError('RESOURCE_DOES_NOT_EXIST', `Artifact '${relPath}' does not exist.`);
      throw remote(`download of ${relPath}`, e);
    }
  }

  async list(relDir: string): Promise<FileInfo[]> {
    const rel = safeRelativePath(relDir);
    const base = joinArtifactPath(this.prefix, rel);
    const prefix = base ? base + '/' : '';
    const out: FileInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
        );
        for (const cp of page.CommonPrefixes ?? []) {
          const name = (cp.Prefix ?? '').slice(prefix.length).replace(/\/$/, '');
          if (listable(name)) out.push({ path: joinArtifactPath(rel, name), isDir: true });
        }
        for (const obj of page.Contents ?? []) {
          const name = (obj.Key ?? '').slice(prefix.length);
          if (listable(name)) out.push({ path: joinArtifactPath(rel, name), isDir: false, fileSize: obj.Size ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw remote(`listing of ${rel || '/'}`, e);
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(relPath: string): Promise<void> {
    // Never the prefix itself: that would remove every object of the repository.
    const key = joinArtifactPath(this.prefix, deletablePath(relPath));
    try {
      let token: string | undefined;
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, ContinuationToken: token }),
        );
        const keys = (page.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k === key || k.startsWith(key + '/'));
        if (keys.length)
          await this.client.send(
            new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
          );
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw remote(`delete of ${relPath}`, e);
    }
  }
}
