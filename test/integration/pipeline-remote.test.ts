/**
 * push / fetch / pull round trips through a local directory remote and a real
 * S3-compatible server (s3rver on 127.0.0.1, port 0), with DVC's remote layout
 * (files/md5/xx/...), directory outputs (.dir manifest last) and the messages for a
 * missing or unconfigured remote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { reproduce } from '../../src/pipeline/reproduce.js';
import { formatStatus, status } from '../../src/pipeline/status.js';
import { pull, push, fetch } from '../../src/pipeline/transfer.js';
import { remoteAdd, remoteList, remoteModify, remoteRemove } from '../../src/pipeline/remotes.js';
import { isAppError } from '../../src/core/errors.js';
import { makeRepo, md5 } from '../helpers/pipeline-repo.js';

function pipelineRepo(): string {
  return makeRepo(
    {
      'data.csv': 'x\n1\n',
      'dvc.yaml':
        'stages:\n  make:\n    cmd: mkdir -p out && cp data.csv out/a.csv && echo b > out/b.txt && echo m > model.bin\n    deps:\n    - data.csv\n    outs:\n    - out\n    - model.bin\n',
    },
    { prefix: 'remote' },
  );
}

function wipeData(d: string): void {
  rmSync(join(d, '.dvc/cache'), { recursive: true, force: true });
  rmSync(join(d, 'out'), { recursive: true, force: true });
  rmSync(join(d, 'model.bin'), { force: true });
}

test('push/pull round trip through a local remote (relative URL resolved against .dvc/)', async (t) => {
  const d = pipelineRepo();
  const store = mkdtempSync(join(tmpdir(), 'carprice-store-'));
  t.after(() => {
    rmSync(d, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  });
  await reproduce({ cwd: d });
  // Not configured yet: a clear message naming how to add one.
  await assert.rejects(
    push({ cwd: d }),
    (e: unknown) => isAppError(e, 'REMOTE') && e.message.includes('carprice remote add -d NAME s3://'),
  );
  const rel = join('..', '..', store.split('/').pop()!); // store is a sibling of the repo in tmpdir
  remoteAdd({ cwd: d, name: 'Local', url: join('..', store.split('/').pop()!), default: true });
  assert.deepEqual(remoteList({ cwd: d }), [{ name: 'local', url: rel, isDefault: true }]);
  assert.equal(
    readFileSync(join(d, '.dvc/config'), 'utf8'),
    `[core]\n    remote = local\n['remote "local"']\n    url = ${rel}\n`,
  );
  const p1 = await push({ cwd: d });
  assert.equal(p1.transferred, 4); // a.csv, b.txt, out .dir, model.bin
  const manifest = `[{"md5": "${md5('x\n1\n')}", "relpath": "a.csv"}, {"md5": "${md5('b\n')}", "relpath": "b.txt"}]`;
  const dirMd5 = md5(manifest);
  assert.equal(readFileSync(join(store, 'files/md5', dirMd5.slice(0, 2), dirMd5.slice(2) + '.dir'), 'utf8'), manifest);
  assert.equal(readFileSync(join(store, 'files/md5', md5('m\n').slice(0, 2), md5('m\n').slice(2)), 'utf8'), 'm\n');
  assert.equal((await push({ cwd: d })).transferred, 0);
  wipeData(d);
  assert.match(formatStatus(await status({ cwd: d })), /not in cache:\s+out\n/);
  const r = await pull({ cwd: d });
  assert.equal(r.fetch.transferred, 4);
  assert.deepEqual(r.checkout.added.sort(), ['model.bin', 'out/']);
  assert.equal(readFileSync(join(d, 'out/a.csv'), 'utf8'), 'x\n1\n');
  assert.equal(formatStatus(await status({ cwd: d })), 'Data and pipelines are up to date.\n');
  // A corrupted remote object is refused, not cached.
  wipeData(d);
  const obj = join(store, 'files/md5', md5('m\n').slice(0, 2), md5('m\n').slice(2));
  rmSync(obj, { force: true });
  writeFileSync(obj, 'tampered');
  await assert.rejects(
    fetch({ cwd: d }),
    (e: unknown) => isAppError(e, 'DATA_INVALID') && e.message.includes('corrupted'),
  );
  assert.ok(!existsSync(join(d, '.dvc/cache/files/md5', md5('m\n').slice(0, 2), md5('m\n').slice(2))));
  // Missing objects are listed.
  rmSync(obj, { force: true });
  const f = await fetch({ cwd: d });
  assert.deepEqual(f.missing, [{ md5: md5('m\n'), path: 'model.bin' }]);
  remoteRemove({ cwd: d, name: 'local' });
  assert.equal(readFileSync(join(d, '.dvc/config'), 'utf8'), '');
});

test('pull from a default remote that is not in the config says so and how to add one', async (t) => {
  const d = pipelineRepo();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  writeFileSync(join(d, '.dvc/config'), '[core]\n    remote = gone\n');
  await assert.rejects(
    pull({ cwd: d }),
    (e: unknown) =>
      isAppError(e, 'REMOTE') &&
      /remote 'gone' \(the default, core.remote\) does not exist/.test(e.message) &&
      e.message.includes('carprice remote add -d'),
  );
});

test('push/pull round trip through a real S3-compatible server (s3rver)', async (t) => {
  const d = pipelineRepo();
  const s3dir = mkdtempSync(join(tmpdir(), 'carprice-s3rver-'));
  const modName = 's3rver';
  const { default: S3rver } = (await import(modName)) as {
    default: new (o: object) => { run(): Promise<AddressInfo>; close(): Promise<void> };
  };
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: s3dir,
    configureBuckets: [{ name: 'bucket' }],
  });
  const addr = await server.run();
  t.after(async () => {
    await server.close();
    rmSync(d, { recursive: true, force: true });
    rmSync(s3dir, { recursive: true, force: true });
  });
  const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
  await reproduce({ cwd: d });
  remoteAdd({ cwd: d, name: 's3', url: 's3://bucket/dvcstore', default: true });
  remoteModify({ cwd: d, name: 's3', option: 'endpointurl', value: `http://127.0.0.1:${addr.port}` });
  remoteModify({ cwd: d, name: 's3', option: 'access_key_id', value: 'S3RVER', local: true });
  remoteModify({ cwd: d, name: 's3', option: 'secret_access_key', value: 'S3RVER', local: true });
  assert.match(readFileSync(join(d, '.dvc/config.local'), 'utf8'), /access_key_id = S3RVER/);
  const p = await push({ cwd: d, env });
  assert.equal(p.transferred, 4);
  assert.equal((await push({ cwd: d, env })).transferred, 0);
  wipeData(d);
  const r = await pull({ cwd: d, env });
  assert.equal(r.fetch.transferred, 4);
  assert.equal(readFileSync(join(d, 'out/b.txt'), 'utf8'), 'b\n');
  assert.equal(readFileSync(join(d, 'model.bin'), 'utf8'), 'm\n');
  assert.equal(formatStatus(await status({ cwd: d })), 'Data and pipelines are up to date.\n');
  // A bucket that does not exist is a REMOTE error naming the problem.
  remoteModify({ cwd: d, name: 's3', option: 'url', value: 's3://nobucket/x' });
  wipeData(d);
  await assert.rejects(
    pull({ cwd: d, env }),
    (e: unknown) => isAppError(e) && /bucket does not exist|nobucket|S3 error/.test(e.message),
  );
});
