/**
 * `carprice tracking export` / `import` against a hostile source: a real HTTP server
 * speaking just enough of MLflow's REST API to hand out experiment, run and logged-model
 * ids such as '../x' and artifact listings with '..' and absolute paths, and a doctored
 * dump directory. Every case must stop with DATA_INVALID naming the value and the source,
 * and nothing outside the export (or import) directory may be written or removed: a
 * sandbox around it, holding a victim folder, is compared file by file before and after.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { isAppError } from '../../src/core/errors.js';
import { openStore } from '../../src/tracking/resolve-store.js';
import { dumpSource, storeSource } from '../../src/tracking/transfer/source.js';
import { exportTracking } from '../../src/tracking/transfer/export-tracking.js';
import { importTracking } from '../../src/tracking/transfer/import-tracking.js';
import { runBuiltCli } from '../helpers/built-cli.js';

/** What the hostile server answers; each case sets the fields it poisons. */
interface Scenario {
  experimentId: string;
  runId: string;
  modelId?: string;
  /** Artifact listings by folder path (below the run's mlflow-artifacts root). */
  listings: Record<string, { path: string; is_dir: boolean; file_size?: number }[]>;
}

const GOOD_RUN = '0123456789abcdef0123456789abcdef';
let scenario: Scenario = { experimentId: '1', runId: GOOD_RUN, listings: {} };
const requests: string[] = [];

function answer(url: URL, method: string): unknown {
  const p = url.pathname;
  const artifacts = '/api/2.0/mlflow-artifacts/artifacts';
  if (p === '/api/2.0/mlflow/experiments/search')
    return {
      experiments: [
        {
          experiment_id: scenario.experimentId,
          name: 'evil',
          artifact_location: 'mlflow-artifacts:/evil',
          lifecycle_stage: 'active',
          creation_time: 1,
          last_update_time: 1,
        },
      ],
    };
  if (p === '/api/2.0/mlflow/runs/search')
    return {
      runs: [
        {
          info: {
            run_id: scenario.runId,
            run_uuid: scenario.runId,
            run_name: 'evil-run',
            experiment_id: scenario.experimentId,
            user_id: 'mallory',
            status: 'FINISHED',
            start_time: 1,
            end_time: 2,
            artifact_uri: 'mlflow-artifacts:/evil/run',
            lifecycle_stage: 'active',
          },
          data: { params: [{ key: 'p', value: '1' }] },
          inputs: {},
        },
      ],
    };
  if (p === '/api/2.0/mlflow/logged-models/search')
    return scenario.modelId
      ? {
          models: [
            {
              info: {
                model_id: scenario.modelId,
                experiment_id: scenario.experimentId,
                name: 'evil-model',
                artifact_uri: 'mlflow-artifacts:/evil/model',
                status: 'LOGGED_MODEL_READY',
                creation_timestamp_ms: 1,
                last_updated_timestamp_ms: 1,
              },
              data: {},
            },
          ],
        }
      : { models: [] };
  if (p === '/api/2.0/mlflow/registered-models/search') return { registered_models: [] };
  if (p === artifacts && method === 'GET') {
    const dir = url.searchParams.get('path') ?? '';
    return { files: scenario.listings[dir.replace(/^evil\/(run|model)\/?/, '')] ?? [] };
  }
  if (p.startsWith(`${artifacts}/`)) return 'payload';
  return undefined;
}

let server: Server;
let url = '';
before(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${u.pathname}${u.search}`);
    req.resume();
    req.on('end', () => {
      const body = answer(u, req.method ?? 'GET');
      if (body === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: 'no' }));
      } else if (typeof body === 'string') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(body);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const root = mkdtempSync(join(tmpdir(), 'carprice-hostile-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Every file and folder below `dir` with its content (files) or '/' (folders), `skip` left out. */
function snapshot(dir: string, skip: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (p === skip) continue;
      if (statSync(p).isDirectory()) {
        out[relative(root, p)] = '/';
        walk(p);
      } else out[relative(root, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

/**
 * A sandbox: box/victim (files a '../' id would reach), box/dump (the export dir, which
 * already holds a dump, so a removal aimed through it would find something), box/work.
 */
function sandbox(name: string): { box: string; dump: string } {
  const box = join(root, name);
  const dump = join(box, 'work', 'dump');
  mkdirSync(join(box, 'victim', 'artifacts', 'runs', 'x'), { recursive: true });
  writeFileSync(join(box, 'victim', 'keep.txt'), 'precious');
  writeFileSync(join(box, 'victim', 'artifacts', 'runs', 'x', 'model.pkl'), 'precious model');
  mkdirSync(dump, { recursive: true });
  writeFileSync(join(dump, 'experiments.json'), '[]\n');
  return { box, dump };
}

async function exportRejects(name: string, s: Scenario, pattern: RegExp): Promise<void> {
  scenario = s;
  const { box, dump } = sandbox(name);
  const before = snapshot(root, dump);
  const t = openStore(url, { env: {}, cwd: box });
  let error: unknown;
  try {
    await exportTracking(storeSource(t), dump);
  } catch (e) {
    error = e;
  } finally {
    await t.close();
  }
  assert.deepEqual(snapshot(root, dump), before, 'nothing outside the export directory changed');
  assert.ok(isAppError(error, 'DATA_INVALID'), `DATA_INVALID expected, got ${String(error)}`);
  assert.match(error.message, pattern);
  assert.ok(error.message.includes(url.replace('http://', '')), `the source is named: ${error.message}`);
}

describe('tracking export from a hostile MLflow server', () => {
  it('refuses an experiment id that climbs out of the dump', async () => {
    await exportRejects(
      'exp-climb',
      { experimentId: '../../../victim', runId: GOOD_RUN, listings: {} },
      /experiment id "\.\.\/\.\.\/\.\.\/victim"/,
    );
  });

  it('refuses run ids that climb out, are absolute, hold NUL or are "..", before removing anything', async () => {
    for (const [i, runId] of ['../../../victim', '../../../../victim/artifacts/runs/x', '/tmp', 'a\0b', '..'].entries())
      await exportRejects(
        `run-${i}`,
        { experimentId: '1', runId, listings: {} },
        /run id ".*", which carprice will not use as a file name/,
      );
  });

  it('refuses a logged model id that climbs out', async () => {
    await exportRejects(
      'model-climb',
      { experimentId: '1', runId: GOOD_RUN, modelId: '../../../../victim', listings: {} },
      /logged model id "\.\.\/\.\.\/\.\.\/\.\.\/victim"/,
    );
  });

  it('refuses artifact listings with "..", absolute paths and folders listed inside themselves', async () => {
    await exportRejects(
      'art-dotdot',
      { experimentId: '1', runId: GOOD_RUN, listings: { '': [{ path: '../../../victim/keep.txt', is_dir: false }] } },
      /bad artifact path for run 0123456789abcdef0123456789abcdef/,
    );
    await exportRejects(
      'art-absolute',
      { experimentId: '1', runId: GOOD_RUN, listings: { '': [{ path: '/etc/passwd', is_dir: false }] } },
      /bad artifact path for run 0123456789abcdef0123456789abcdef/,
    );
    // A folder that lists itself again and again: stopped, not followed forever.
    const loop: Scenario['listings'] = {};
    for (let d = 0, p = ''; d < 80; d++, p = p ? `${p}/a` : 'a') loop[p] = [{ path: 'a', is_dir: true }];
    await exportRejects('art-loop', { experimentId: '1', runId: GOOD_RUN, listings: loop }, /more than 64 deep/);
  });

  it('exports what a well-behaved server gives (the same server, sane ids)', async () => {
    scenario = {
      experimentId: '1',
      runId: GOOD_RUN,
      listings: { '': [{ path: 'model', is_dir: true }], model: [{ path: 'MLmodel', is_dir: false, file_size: 7 }] },
    };
    const { box, dump } = sandbox('good');
    const t = openStore(url, { env: {}, cwd: box });
    try {
      const r = await exportTracking(storeSource(t), dump);
      assert.equal(r.runs, 1);
      assert.equal(r.artifacts, 1);
    } finally {
      await t.close();
    }
    assert.equal(readFileSync(join(dump, 'artifacts', 'runs', GOOD_RUN, 'model', 'MLmodel'), 'utf8'), 'payload');
  });

  it('CLI: the error names the id and the server, exit code non-zero, no stack', async () => {
    scenario = { experimentId: '1', runId: '../../../victim', listings: {} };
    const { box, dump } = sandbox('cli');
    const before = snapshot(root, dump);
    const r = await runBuiltCli(['tracking', 'export', '--tracking-uri', url, '--out', dump], box);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /run id "\.\.\/\.\.\/\.\.\/victim"/);
    assert.match(r.stderr, /127\.0\.0\.1/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(snapshot(root, dump), before);
  });
});

describe('tracking import from a hostile source', () => {
  it('refuses a hostile artifact listing before writing into the destination store', async () => {
    scenario = { experimentId: '1', runId: GOOD_RUN, listings: { '': [{ path: '../../escape.txt', is_dir: false }] } };
    const box = join(root, 'import-http');
    mkdirSync(box, { recursive: true });
    const dst = openStore(`sqlite:///${join(box, 'dst', 'mlflow.db')}`, { env: {}, cwd: box });
    const src = openStore(url, { env: {}, cwd: box });
    try {
      await assert.rejects(importTracking(storeSource(src), dst), (e) => {
        assert.ok(isAppError(e, 'DATA_INVALID'));
        assert.match(e.message, /bad artifact path for run 0123456789abcdef0123456789abcdef/);
        return true;
      });
    } finally {
      await src.close();
      await dst.close();
    }
    assert.deepEqual(readdirSync(box).sort(), ['dst']);
    const check = openStore(`sqlite:///${join(box, 'dst', 'mlflow.db')}`, { env: {}, cwd: box });
    try {
      const exps = await check.store.searchExperiments({ viewType: 'ALL' });
      const runs = await check.store.searchRuns({
        experimentIds: exps.items.map((e) => e.experimentId),
        viewType: 'ALL',
      });
      assert.equal(runs.items.length, 0, 'the listing is checked before the run is created');
    } finally {
      await check.close();
    }
  });

  it('refuses a doctored dump whose ids point outside it', async () => {
    const box = join(root, 'import-dump');
    const dump = join(box, 'dump');
    mkdirSync(join(box, 'victim', 'artifacts', 'runs', 'x'), { recursive: true });
    writeFileSync(join(box, 'victim', 'artifacts', 'runs', 'x', 'secret.txt'), 'do not import me');
    mkdirSync(join(dump, 'runs', '1'), { recursive: true });
    writeFileSync(
      join(dump, 'manifest.json'),
      JSON.stringify({
        format: 'carprice-tracking-dump',
        version: 1,
        exportedAt: 'then',
        source: 'elsewhere',
        counts: {},
      }),
    );
    const exp = {
      experimentId: '1',
      name: 'e',
      artifactLocation: '',
      lifecycleStage: 'active',
      creationTime: 1,
      lastUpdateTime: 1,
      tags: [],
    };
    const run = {
      info: {
        runId: '../../victim/artifacts/runs/x',
        runName: 'r',
        experimentId: '1',
        userId: '',
        status: 'FINISHED',
        startTime: 1,
        artifactUri: '',
        lifecycleStage: 'active',
      },
      data: { metrics: [], params: [], tags: [] },
      inputs: { datasetInputs: [] },
    };
    writeFileSync(join(dump, 'runs', '1', 'r.json'), JSON.stringify({ run, history: [] }));
    for (const [experiments, pattern] of [
      [[{ ...exp, experimentId: '../../victim' }], /experiment id "\.\.\/\.\.\/victim"/],
      [[exp], /run id "\.\.\/\.\.\/victim\/artifacts\/runs\/x"/],
    ] as const) {
      writeFileSync(join(dump, 'experiments.json'), JSON.stringify(experiments));
      const dst = openStore(`sqlite:///${join(box, 'dst', 'mlflow.db')}`, { env: {}, cwd: box });
      try {
        await assert.rejects(importTracking(dumpSource(dump), dst), (e) => {
          assert.ok(isAppError(e, 'DATA_INVALID'), String(e));
          assert.match(e.message, pattern);
          assert.match(e.message, /dump .*dump \(of elsewhere/);
          return true;
        });
        const runs = await dst.store.searchRuns({ experimentIds: ['0', '1', '2'], viewType: 'ALL' });
        for (const r of runs.items) {
          const listing = await dst.artifacts.repositoryFor(r.info.artifactUri).list('');
          assert.deepEqual(listing, [], 'no artifact of the victim folder was imported');
        }
      } finally {
        await dst.close();
      }
    }
  });
});
