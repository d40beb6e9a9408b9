/**
 * The import rules of docs/ARCHITECTURE.md are enforced by dependency-cruiser with
 * .dependency-cruiser.cjs (`npm run lint:deps`, part of `npm test`). This test proves that
 * check bites: it plants one violation of each rule in a scratch tree laid out like src/,
 * runs the real dependency-cruiser with the project's config on it, and expects exactly
 * those violations, no more (the worker-pool boundary file and a type-only back-reference
 * are planted too, and must pass). Removing or loosening a rule makes this test fail.
 * Also here: the one rule dependency-cruiser cannot see (only config/env.ts reads
 * process.env).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const src = join(root, 'src');
const DEPCRUISE = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** Files of the scratch tree: path under the tree -> content. */
const PLANTED: Record<string, string> = {
  'src/core/clock.ts': 'export const now = (): number => 0;\n',
  'src/data/frame.ts': 'export interface Frame { nRows: number }\n',
  'src/tracking/store.ts': 'export const kind = "store";\n',
  'src/tracking/rest/rest-store.ts': 'export const rest = 1;\n',
  // ml/ reads a file: a Node built-in outside the worker-pool boundary
  'src/ml/reads-file.ts': "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
  // ml/ names a type of data/: a type-only import still crosses the layer
  'src/ml/knows-frame.ts': "import type { Frame } from '../data/frame.js';\nexport type Rows = Frame['nRows'];\n",
  // the declared boundary may use worker_threads (must pass)
  'src/ml/parallel-fit.ts':
    "import { Worker } from 'node:worker_threads';\nimport { now } from '../core/clock.js';\nexport const start = (): [typeof Worker, number] => [Worker, now()];\n",
  // bundle/ reaching into tracking/
  'src/bundle/logs-run.ts': "import { kind } from '../tracking/store.js';\nexport const k = kind;\n",
  // one tracking backend importing another
  'src/tracking/sqlite/uses-rest.ts': "import { rest } from '../rest/rest-store.js';\nexport const r = rest;\n",
  // a run-time cycle (one edge a dynamic import)
  'src/pipeline/remote.ts':
    "export async function open(): Promise<number> {\n  return (await import('./s3-remote.js')).s3;\n}\n",
  'src/pipeline/s3-remote.ts':
    "import { open } from './remote.js';\nexport const s3 = 1;\nexport const again = open;\n",
  // a type-only back-reference (must pass)
  'src/bundle/model-bundle.ts':
    "import { Predictor } from './predictor.js';\nexport class ModelBundle { p = new Predictor(); }\n",
  'src/bundle/predictor.ts':
    "import type { ModelBundle } from './model-bundle.js';\nexport class Predictor { bundle?: ModelBundle; }\n",
  // a folder with no row in the matrix
  'src/widgets/gauge.ts': 'export const gauge = 1;\n',
  'src/cli/main.ts': "import { gauge } from '../widgets/gauge.js';\nexport const g = gauge;\n",
  // estimators used past their allowed surface (features, jobs, cli)
  'src/ml/tree/grower.ts': 'export const grow = 1;\n',
  'src/ml/metrics.ts': 'export const rmse = 1;\n',
  'src/features/grows-trees.ts': "import { grow } from '../ml/tree/grower.js';\nexport const g = grow;\n",
  'src/jobs/grows-trees.ts':
    "import { grow } from '../ml/tree/grower.js';\nimport { rmse } from '../ml/metrics.js';\nexport const g = grow + rmse;\n",
  'src/cli/grows-trees.ts':
    "import { grow } from '../ml/tree/grower.js';\nimport { rmse } from '../ml/metrics.js';\nexport const g = grow + rmse;\n",
  // ml/ using an npm package
  'node_modules/leftpad-lite/package.json': '{"name":"leftpad-lite","version":"1.0.0","main":"index.js"}\n',
  'node_modules/leftpad-lite/index.js': 'module.exports = 1;\n',
  'src/ml/uses-package.ts': "import pad from 'leftpad-lite';\nexport const p = pad;\n",
  // the shared SQL stores reaching for a database driver and for a backend
  'node_modules/pg/package.json': '{"name":"pg","version":"8.0.0","main":"index.js"}\n',
  'node_modules/pg/index.js': 'module.exports = 1;\n',
  'src/tracking/sql/uses-driver.ts':
    "import pg from 'pg';\nimport { r } from '../sqlite/uses-rest.js';\nexport const p = [pg, r];\n",
  // a job opening a backend directly instead of through resolve-store
  'src/jobs/opens-backend.ts': "import { rest } from '../tracking/rest/rest-store.js';\nexport const r = rest;\n",
  // something importing cli/
  'src/jobs/calls-cli.ts': "import { g } from '../cli/main.js';\nexport const x = g;\n",
};

/** rule name -> offending file, as the config must report them. */
const EXPECTED = [
  'layer-bundle src/bundle/logs-run.ts',
  'layer-jobs src/jobs/calls-cli.ts',
  'layer-cli src/cli/main.ts',
  'layer-ml src/ml/knows-frame.ts',
  'ml-no-node-builtins src/ml/reads-file.ts',
  'no-circular src/pipeline/remote.ts',
  'features-ml-surface src/features/grows-trees.ts',
  'jobs-ml-surface src/jobs/grows-trees.ts',
  'cli-ml-surface src/cli/grows-trees.ts',
  'ml-no-packages src/ml/uses-package.ts',
  'tracking-internals src/jobs/opens-backend.ts',
  'not-in-matrix src/cli/main.ts',
  'nothing-imports-cli src/jobs/calls-cli.ts',
  'tracking-backends-apart src/tracking/sqlite/uses-rest.ts',
  'tracking-sql-driver-free src/tracking/sql/uses-driver.ts',
];

interface Violation {
  from: string;
  rule: { name: string };
}

test('dependency-cruiser reports every planted violation of the project config, and nothing else', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-depcruise-'));
  try {
    for (const [path, text] of Object.entries(PLANTED)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    writeFileSync(join(dir, 'package.json'), '{"name":"planted","type":"module","private":true}\n');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
        include: ['src/**/*.ts'],
      }),
    );
    const r = spawnSync(
      process.execPath,
      [DEPCRUISE, 'src', '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'json', '--no-cache'],
      {
        cwd: dir,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { summary: { violations: Violation[]; error: number } };
    // `npm run lint:deps` uses the default reporter, whose exit code is this error count
    assert.ok(out.summary.error > 0);
    const got = [...new Set(out.summary.violations.map((v) => `${v.rule.name} ${v.from}`))].sort();
    assert.deepEqual(got, [...EXPECTED].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

test('only config/env.ts reads process.env', () => {
  const offenders = files(src)
    .filter((f) => !f.endsWith(join('config', 'env.ts')) && !f.endsWith(join('cli', 'main.ts')))
    .filter((f) => /process\.env\b/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(src, f));
  assert.deepEqual(offenders, []);
});
