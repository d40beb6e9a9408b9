/**
 * S3 artifacts against a real S3-compatible server (s3rver on 127.0.0.1, started here):
 * the S3 repository's write/list/read/delete, and a run whose experiment stores artifacts
 * at s3://bucket/prefix logging and downloading a model through the client.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Env } from '../../src/config/env.js';
import { isAppError } from '../../src/core/errors.js';
import { ArtifactResolver } from '../../src/tracking/artifacts/resolve-artifact-repository.js';
import { TrackingClient } from '../../src/tracking/client.js';
import { openStore } from '../../src/tracking/resolve-store.js';

interface S3rverLike {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (opts: Record<string, unknown>) => S3rverLike;

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const c of stream) s += c.toString();
  return s;
}

describe('S3 artifacts (s3rver)', () => {
  let dir: string;
  let server: S3rverLike;
  let env: Env;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'carprice-s3-'));
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: join(dir, 's3'),
      configureBuckets: [{ name: 'mlruns' }],
    });
    const addr = await server.run();
    env = {
      MLFLOW_S3_ENDPOINT_URL: `http://127.0.0.1:${addr.port}`,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    };
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes, lists, reads and deletes objects under a prefix', async () => {
    const resolver = new ArtifactResolver({ env });
    const repo = resolver.repositoryFor('s3://mlruns/exp/1');
    await repo.write('a/one.txt', Buffer.from('one'));
    await repo.write('a/b/two.txt', Buffer.from('two!'));
    await repo.write('top.txt', Buffer.from('t'));
    assert.deepEqual(await repo.list(''), [
      { path: 'a', isDir: true },
      { path: 'top.txt', isDir: false, fileSize: 1 },
    ]);
    assert.deepEqual(await repo.list('a'), [
      { path: 'a/b', isDir: true },
      { path: 'a/one.txt', isDir: false, fileSize: 3 },
    ]);
    assert.equal(await text(await repo.read('a/b/two.txt')), 'two!');
    await assert.rejects(repo.read('a/missing.txt'), (e) => isAppError(e, 'RESOURCE_DOES_NOT_EXIST'));
    assert.deepEqual(await repo.list('nothing/here'), []);
    await repo.delete('a');
    assert.deepEqual(await repo.list(''), [{ path: 'top.txt', isDir: false, fileSize: 1 }]);
    resolver.close();
  });

  it('logs a model to s3:// and downloads it back through the registry', async () => {
    const t = openStore(`sqlite:///${join(dir, 'mlflow.db')}`, { env, cwd: dir });
    const client = new TrackingClient({ store: t.store, artifacts: t.artifacts });
    const exp = await t.store.createExperiment('s3-exp', 's3://mlruns/artifacts');
    const run = await client.startRun({ experimentId: exp });
    assert.equal(run.artifactUri, `s3://mlruns/artifacts/${run.runId}/artifacts`);
    const bundle = join(dir, 'bundle');
    mkdirSync(join(bundle, 'est'), { recursive: true });
    writeFileSync(join(bundle, 'bundle.json'), '{"kind":"b"}');
    writeFileSync(join(bundle, 'est', 'w.bin'), Buffer.from([9, 8, 7]));
    const uri = await client.logModel(run.runId, bundle);
    await client.registerModel('S3Model', uri);
    await client.setAlias('S3Model', 'champion', '1');
    const dest = await client.downloadModel('models:/S3Model@champion', join(dir, 'out'));
    assert.deepEqual(readdirSync(dest).sort(), ['MLmodel', 'bundle.json', 'est']);
    assert.deepEqual([...readFileSync(join(dest, 'est', 'w.bin'))], [9, 8, 7]);
    assert.match(readFileSync(join(dest, 'MLmodel'), 'utf8'), /^artifact_path: model$/m);
    await client.close();
  });
});
