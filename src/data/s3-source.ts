/**
 * Reading a data file from S3 (or an S3-compatible server). Loaded lazily so that the AWS
 * SDK is only imported when an s3:// source is used.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';

function clientFor(env: Env): S3Client {
  const endpoint = env.MLFLOW_S3_ENDPOINT_URL ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // credentials come from the injected Env (else the SDK's default chain)
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  });
}

function s3Error(e: unknown, bucket: string, key: string): AppError {
  if (e instanceof AppError) return e;
  const name = (e as { name?: string }).name;
  if (name === 'NoSuchKey' || name === 'NotFound')
    return new AppError('FILE_NOT_FOUND', `s3://${bucket}/${key} does not exist; check the bucket and key`, { cause: e });
  return new AppError(
    'REMOTE',
    `reading s3://${bucket}/${key} failed: ${(e as Error).message}; check AWS credentials, region and endpoint`,
    { cause: e },
  );
}

/** Download s3://bucket/key into memory. */
export async function readS3Object(bucket: string, key: string, env: Env, signal?: AbortSignal): Promise<Uint8Array> {
  const client = clientFor(env);
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    if (!res.Body) throw new AppError('REMOTE', `s3://${bucket}/${key} has no body`);
    return await res.Body.transformToByteArray();
  } catch (e) {
    throw s3Error(e, bucket, key);
  } finally {
    client.destroy();
  }
}

/**
 * s3://bucket/key as a stream of byte chunks, read as they are consumed (a file of any size
 * in constant memory); `size` is its length (NaN when the server does not say).
 */
export async function openS3Object(
  bucket: string,
  key: string,
  env: Env,
  signal?: AbortSignal,
): Promise<{ chunks: AsyncIterable<Uint8Array>; size: number; close(): Promise<void> }> {
  const client = clientFor(env);
  let body: AsyncIterable<Uint8Array> & { destroy?: () => void };
  let size: number;
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    if (!res.Body) throw new AppError('REMOTE', `s3://${bucket}/${key} has no body`);
    // in Node the body is an http.IncomingMessage: an async iterable of Buffers
    body = res.Body as unknown as AsyncIterable<Uint8Array> & { destroy?: () => void };
    size = res.ContentLength ?? NaN;
  } catch (e) {
    client.destroy();
    throw s3Error(e, bucket, key);
  }
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const c of body) yield c;
    } catch (e) {
      throw s3Error(e, bucket, key);
    }
  }
  return {
    chunks: chunks(),
    size,
    close: async () => {
      body.destroy?.();
      client.destroy();
    },
  };
}
