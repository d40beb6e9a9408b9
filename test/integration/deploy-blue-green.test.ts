/**
 * Local blue/green deployments with real processes and real sockets: the balancer is the
 * built CLI's `deploy lb`, each colour a separate process. Under continuous load from a
 * client: deploy v1, deploy v2, roll back to v1, a broken v3 that never gets ready (the
 * deployment fails and v1 keeps serving): zero failed requests, and every response names
 * the version and the colour that served it. A version whose error rate spikes during the
 * bake window is rolled back by itself; the state survives the command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../src/core/errors.js';
import {
  deploy,
  deployStatus,
  rollback,
  stopDeployment,
  type DeployContext,
  type DeployOptions,
} from '../../src/deploy/blue-green.js';
import { freePort, spawnDetached } from '../../src/deploy/processes.js';
import { readDeployState } from '../../src/deploy/state.js';
import { EXAMPLE_LISTING } from '../../src/serving/schemas.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const slotServer = join(root, 'dist', 'test', 'fixtures', 'deploy-slot-server.js');

/** Context whose colours are the stand-in server; `model` is "VERSION:MODE". */
function context(cwd: string): DeployContext {
  return {
    cwd,
    env: process.env,
    cliEntry: join(root, 'dist', 'src', 'cli', 'main.js'),
    smokeListing: EXAMPLE_LISTING,
    say: () => {},
    launcher: ({ port, model, logFile }) => {
      const [version, mode] = model.split(':');
      return spawnDetached(process.execPath, [slotServer, String(port), version, mode ?? 'ok'], {
        cwd,
        env: process.env,
        logFile,
      });
    },
  };
}

/** Deploy options on 127.0.0.1:port: no tag, 3 s to get ready, 100 ms drain, 5% errors allowed, unless `more` says. */
function deployOptions(port: number, model: string, more: Partial<DeployOptions> & { bakeMs: number }): DeployOptions {
  return { model, tag: '', host: '127.0.0.1', port, readyTimeoutMs: 3000, drainMs: 100, maxErrorRate: 0.05, ...more };
}

interface LoadReport {
  ok: number;
  failed: string[];
  versions: Set<string>;
  stop(): Promise<void>;
}

/** Four keep-alive clients posting predictions to the balancer until stopped. */
function load(port: number): LoadReport {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const report: LoadReport = { ok: 0, failed: [], versions: new Set(), stop: async () => {} };
  let running = true;
  const one = () =>
    new Promise<void>((res) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/predict',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json' },
        },
        (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => {
            if (r.statusCode === 200) {
              const v = (JSON.parse(body) as { model: { version: string } }).model.version;
              const slot = r.headers['x-carprice-slot'];
              if (!slot) report.failed.push('response without x-carprice-slot');
              report.versions.add(v);
              report.ok++;
            } else report.failed.push(`${r.statusCode}: ${body}`);
            res();
          });
        },
      );
      req.on('error', (e) => {
        report.failed.push(e.message);
        res();
      });
      req.end('{"odometer":1}');
    });
  const workers = Array.from({ length: 4 }, async () => {
    while (running) await one();
  });
  report.stop = async () => {
    running = false;
    await Promise.all(workers);
    agent.destroy();
  };
  return report;
}

async function predictVersion(port: number): Promise<{ version: string; slot: string | null }> {
  const r = await fetch(`http://127.0.0.1:${port}/predict`, {
    method: 'POST',
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  const body = (await r.json()) as { model: { version: string } };
  return { version: body.model.version, slot: r.headers.get('x-carprice-slot') };
}

test('deploy v1, v2, roll back, broken v3: zero failed requests under load', { timeout: 120_000 }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'carprice-deploy-'));
  const ctx = context(cwd);
  const port = await freePort();
  const opts = (model: string) =>
    deployOptions(port, model, { tag: `t${model}`, bakeMs: 600, drainMs: 300, maxErrorRate: 0.01 });
  try {
    const v1 = await deploy(ctx, opts('1:ok'));
    assert.equal(v1.color, 'blue');
    assert.equal(v1.version, '1');
    const traffic = load(port);
    await new Promise((r) => setTimeout(r, 300));

    const v2 = await deploy(ctx, opts('2:ok'));
    assert.equal(v2.color, 'green');
    assert.deepEqual(await predictVersion(port), { version: '2', slot: 'green' });

    const back = await rollback(ctx, opts(''));
    assert.equal(back.version, '1');
    assert.deepEqual(await predictVersion(port), { version: '1', slot: back.color });

    await assert.rejects(
      deploy(ctx, opts('3:never-ready')),
      (e: unknown) =>
        e instanceof AppError && e.code === 'HEALTH_CHECK_FAILED' && /not ready within 3000 ms/.test(e.message),
    );
    assert.equal((await predictVersion(port)).version, '1', 'v1 keeps serving after the broken v3');

    await new Promise((r) => setTimeout(r, 300));
    await traffic.stop();
    assert.deepEqual(traffic.failed, [], `failed requests: ${traffic.failed.slice(0, 5).join('; ')}`);
    assert.ok(traffic.ok > 50, `requests served: ${traffic.ok}`);
    assert.deepEqual([...traffic.versions].sort(), ['1', '2']);

    const status = await deployStatus(cwd);
    assert.equal(status.slots.length, 1, 'only the serving colour runs after the drain');
    assert.equal(status.slots[0].slot.version, '1');
    assert.ok(status.loadBalancer?.alive);
    assert.deepEqual(
      status.history.map((h) => `${h.action}:${h.outcome}`),
      ['deploy:serving', 'deploy:serving', 'rollback:serving', 'deploy:failed'],
    );
  } finally {
    await stopDeployment(ctx);
  }
  const after = readDeployState(cwd);
  assert.equal(after.active, null);
  assert.deepEqual(after.slots, {});
});

test('an error spike during the bake window rolls back by itself', { timeout: 60_000 }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'carprice-deploy-'));
  const ctx = context(cwd);
  const port = await freePort();
  const opts = (model: string) => deployOptions(port, model, { bakeMs: 2000 });
  try {
    await deploy(ctx, opts('1:ok'));
    const traffic = load(port);
    await assert.rejects(
      deploy(ctx, opts('4:spike')),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'DEPLOY_FAILED' &&
        /failed on green during the bake window: rolled back to blue/.test(e.message),
    );
    await traffic.stop();
    assert.deepEqual(await predictVersion(port), { version: '1', slot: 'blue' });
    const state = readDeployState(cwd);
    assert.equal(state.active, 'blue');
    assert.equal(state.history.at(-1)?.action, 'auto-rollback');
  } finally {
    await stopDeployment(ctx);
  }
});

test(
  'a second deploy while one runs is refused; the balancer is resumed after it dies',
  { timeout: 60_000 },
  async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'carprice-deploy-'));
    const ctx = context(cwd);
    const port = await freePort();
    const opts = (model: string) => deployOptions(port, model, { bakeMs: 100 });
    try {
      await deploy(ctx, opts('1:ok'));
      const first = deploy(ctx, opts('2:ok'));
      await assert.rejects(deploy(ctx, opts('3:ok')), /another carprice deploy \(pid \d+\) is running/);
      await first;
      // The balancer dies (a reboot, a kill): the next command starts it again and routes to the active colour.
      const lbPid = readDeployState(cwd).loadBalancer!.pid;
      process.kill(lbPid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      const s = await deployStatus(cwd);
      assert.equal(s.loadBalancer?.alive, false);
      await deploy(ctx, opts('5:ok'));
      assert.deepEqual(await predictVersion(port), { version: '5', slot: 'blue' });
    } finally {
      await stopDeployment(ctx);
    }
  },
);

test(
  'blue/green with the real `carprice serve`: two bundles, a rollback and a broken bundle, zero failed requests',
  { timeout: 240_000 },
  async () => {
    const { writeFixtureCsv } = await import('../fixtures/listings.js');
    const { runBuiltCli } = await import('../helpers/built-cli.js');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const cwd = mkdtempSync(join(tmpdir(), 'carprice-deploy-serve-'));
    writeFixtureCsv(join(cwd, 'train.csv'), { n: 400, seed: 3 });
    for (const [name, alpha] of [
      ['v1', '1'],
      ['v2', '30'],
    ] as const) {
      const r = await runBuiltCli(
        [
          'train',
          '--train',
          'train.csv',
          '--algo',
          'ridge',
          '--set',
          `model_trainer.params.ridge.alpha=${alpha}`,
          '--out',
          name,
        ],
        cwd,
      );
      assert.equal(r.code, 0, r.stderr);
    }
    mkdirSync(join(cwd, 'v3'));
    writeFileSync(join(cwd, 'v3', 'bundle.json'), '{"kind":"carprice-model-bundle","formatVersion":1}');
    const ctx: DeployContext = {
      cwd,
      env: process.env,
      cliEntry: join(root, 'dist', 'src', 'cli', 'main.js'),
      smokeListing: EXAMPLE_LISTING,
      say: () => {},
    };
    const port = await freePort();
    const opts = (model: string) =>
      deployOptions(port, join(cwd, model), {
        tag: model,
        readyTimeoutMs: 30_000,
        bakeMs: 500,
        drainMs: 300,
        maxErrorRate: 0.01,
      });
    const served = async () => {
      const r = await fetch(`http://127.0.0.1:${port}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(EXAMPLE_LISTING),
      });
      assert.equal(r.status, 200);
      return ((await r.json()) as { model: { name: string } }).model.name;
    };
    try {
      await deploy(ctx, opts('v1'));
      assert.equal(await served(), 'v1');
      const names = new Set<string>();
      const failed: string[] = [];
      let running = true;
      const traffic = Promise.all(
        Array.from({ length: 3 }, async () => {
          while (running) {
            try {
              const r = await fetch(`http://127.0.0.1:${port}/predict`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(EXAMPLE_LISTING),
              });
              const body = (await r.json()) as { model?: { name: string } };
              if (r.status !== 200 || !body.model || !r.headers.get('x-carprice-slot'))
                failed.push(`${r.status} ${JSON.stringify(body)}`);
              else names.add(body.model.name);
            } catch (e) {
              failed.push((e as Error).message);
            }
          }
        }),
      );
      await deploy(ctx, opts('v2'));
      assert.equal(await served(), 'v2');
      await rollback(ctx, opts('v1'));
      assert.equal(await served(), 'v1');
      await assert.rejects(
        deploy(ctx, opts('v3')),
        (e: unknown) => e instanceof AppError && e.code === 'HEALTH_CHECK_FAILED',
      );
      assert.equal(await served(), 'v1');
      running = false;
      await traffic;
      assert.deepEqual(failed, []);
      assert.deepEqual([...names].sort(), ['v1', 'v2']);
    } finally {
      await stopDeployment(ctx);
    }
  },
);
