/**
 * An S3 (or S3-compatible: MinIO, s3rver) remote at `s3://bucket/prefix`, with DVC's
 * object layout under the prefix. Configuration, as DVC reads it from the remote's section
 * of .dvc/config: `endpointurl`, `region`, `access_key_id`, `secret_access_key`,
 * `session_token`; otherwise the AWS SDK's usual sources (AWS_* env vars, profiles).
 * The endpoint may also come from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; a custom
 * endpoint uses path-style addressing. Checksums are only computed when required, which
 * keeps S3-compatible servers happy.
 */
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Env } from '../config/env.js';
import { AppError } from '../core/errors.js';
import type { Remote } from './remote-interface.js';

let tmpCounter = 0;

function remoteError(name: string, what: string, e: unknown): AppError {
  const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const code = err.code ?? err.name ?? '';
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET/.test(code + ' ' + (err.message ?? '')))
    return new AppError(
      'NETWORK',
      `remote '${name}': cannot reach the S3 endpoint while ${what} (${err.message ?? code}); check endpointurl / AWS_ENDPOINT_URL_S3 and your network`,
      { cause: e },
    );
  if (code === 'NoSuchBucket')
    return new AppError('REMOTE', `remote '${name}': the bucket does not exist (${what}); create it or fix the url`, {
      cause: e,
    });
  if (code === 'CredentialsProviderError' || /credential/i.test(err.message ?? ''))
    return new AppError(
      'REMOTE',
      `remote '${name}': no AWS credentials found (${what}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or access_key_id/secret_access_key in .dvc/config.local`,
      { cause: e },
    );
  if (code === 'AccessDenied' || err.$metadata?.httpStatusCode === 403)
    return new AppError(
      'REMOTE',
      `remote '${name}': access denied while ${what}; check the credentials' permissions on the bucket`,
      { cause: e },
    );
  return new AppError('REMOTE', `remote '${name}': S3 error while ${what}: ${code} ${err.message ?? ''}`.trim(), {
    cause: e,
  });
}

/** The S3 remote. */
export class S3Remote implements Remote {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;

  constructor(
    readonly name: string,
    readonly url: string,
    section: Map<string, string>,
    env: Env,
  ) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
    if (!m) throw new AppError('REMOTE', `remote '${name}': cannot parse S3 url ${url}; expected s3://bucket/prefix`);
    this.bucket = m[1];
    this.prefix = m[2].replace(/\/+$/, '');
    const endpoint = section.get('endpointurl') ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    const cfg: S3ClientConfig = {
      region: section.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (endpoint) {
      cfg.endpoint = endpoint;
      cfg.forcePathStyle = true;
    }
    const key = section.get('access_key_id');
    const secret = section.get('secret_access_key');
    if (key && secret)
      cfg.credentials = { accessKeyId: key, secretAccessKey: secret, sessionToken: section.get('session_token') };
    this.client = new S3Client(cfg);
  }

  private key(rel: string): string {
    return this.prefix ? `${this.prefix}/${rel}` : rel;
  }

  async exists(rels: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    if (rels.length === 0) return found;
    if (rels.length > 64) {
      // One listing beats thousands of HEADs.
      const want = new Set(rels);
      const base = this.key('files/md5/');
      let token: string | undefined;
      try {
        do {
          const r = await this.client.send(
            new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, ContinuationToken: token }),
          );
          for (const o of r.Contents ?? []) {
            const rel = (o.Key ?? '').slice(this.prefix ? this.prefix.length + 1 : 0);
            if (want.has(rel)) found.add(rel);
          }
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
      } catch (e) {
        throw remoteError(this.name, 'listing objects', e);
      }
      return found;
    }
    let i = 0;
    const worker = async (): Promise<void> => {
      while (i < rels.length) {
        const rel = rels[i++];
        try {
          await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
          found.add(rel);
        } catch (e) {
          const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
          if (
            err.name !== 'NoSuchBucket' &&
            (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404)
          )
            continue;
          throw remoteError(this.name, `checking ${rel}`, e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, rels.length) }, worker));
    return found;
  }

  async put(rel: string, localAbs: string, size: number): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(rel),
          Body: createReadStream(localAbs),
          ContentLength: size,
        }),
      );
    } catch (e) {
      throw remoteError(this.name, `uploading ${rel}`, e);
    }
  }

  async get(rel: string, destAbs: string): Promise<boolean> {
    let body: Readable;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
      body = r.Body as Readable;
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (
        err.name !== 'NoSuchBucket' &&
        (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404)
      )
        return false;
      throw remoteError(this.name, `downloading ${rel}`, e);
    }
    mkdirSync(dirname(destAbs), { recursive: true });
    const tmp = join(dirname(destAbs), `.${process.pid}.${tmpCounter++}.tmp`);
    try {
      await pipeline(body, createWriteStream(tmp, { mode: 0o444 }));
      renameSync(tmp, destAbs);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw remoteError(this.name, `downloading ${rel}`, e);
    }
    return true;
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const base = this.key(prefix.replace(/\/+$/, '') + '/');
    let token: string | undefined;
    try {
      do {
        const r = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, ContinuationToken: token }),
        );
        for (const o of r.Contents ?? []) out.push((o.Key ?? '').slice(this.prefix ? this.prefix.length + 1 : 0));
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw remoteError(this.name, `listing ${prefix}`, e);
    }
    return out.sort();
  }
}
