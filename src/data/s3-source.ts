/**
 * Reading a data file from S3 (or an S3-compatible server). Loaded lazily so that the AWS
 * SDK is only imported when an s3:// source is used.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';

/** Download s3://bucket/key into memory. */
export async function readS3Object(bucket: string, key: string, env: Env, signal?: AbortSignal): Promise<Uint8Array> {
  const endpoint = env.MLFLOW_S3_ENDPOINT_URL ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const client = new S3Client({
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
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    if (!res.Body) throw new AppError('REMOTE', `s3://${bucket}/${key} has no body`);
    return await res.Body.transformToByteArray();
  } catch (e) {
    if (e instanceof AppError) throw e;
    const name = (e as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound')
      throw new AppError('FILE_NOT_FOUND', `s3://${bucket}/${key} does not exist; check the bucket and key`, { cause: e });
    throw new AppError('REMOTE', `reading s3://${bucket}/${key} failed: ${(e as Error).message}; check AWS credentials, region and endpoint`, { cause: e });
  } finally {
    client.destroy();
  }
}
