/**
 * A real S3-compatible server (s3rver) on 127.0.0.1, an ephemeral port, for tests that read
 * s3:// URLs: the environment carprice reads (endpoint and s3rver's fixed credentials), a
 * client to put objects with, and one close for both.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

interface S3rverLike {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

export interface S3Fixture {
  endpoint: string;
  /** What carprice reads to reach this server (AWS_ENDPOINT_URL_S3, credentials, region). */
  env: Record<string, string>;
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Start s3rver storing under `directory` with the given buckets. */
export async function startS3rver(directory: string, buckets: string[]): Promise<S3Fixture> {
  const S3rver = createRequire(import.meta.url)('s3rver') as new (o: Record<string, unknown>) => S3rverLike;
  const s3 = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const addr = await s3.run();
  const endpoint = `http://127.0.0.1:${addr.port}`;
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    },
    async put(bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async close() {
      client.destroy();
      await s3.close();
    },
  };
}
