/**
 * The delivery files checked by tools we did not write, and by running them:
 * - every GitHub workflow passes action-validator (the workflow schema),
 * - every `carprice` command a workflow calls exists with the flags it passes (the built CLI's --help),
 * - the CodeDeploy appspec names hook scripts that exist and are executable,
 * - shellcheck passes on every deploy script (skipped, with the reason, where shellcheck is absent),
 * - validate_service.sh passes against a real server that becomes ready and fails with
 *   the container log against one that never does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { runBuiltCli } from '../helpers/built-cli.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const workflowsDir = join(root, '.github', 'workflows');
const workflows = readdirSync(workflowsDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const scriptsDir = join(root, 'deploy', 'scripts');
const scripts = readdirSync(scriptsDir)
  .filter((f) => f.endsWith('.sh'))
  .sort();

test('every workflow passes action-validator', () => {
  assert.ok(workflows.length >= 2, 'ci.yml and deploy.yml exist');
  const bin = join(root, 'node_modules', '.bin', 'action-validator');
  for (const f of workflows) {
    const r = spawnSync(bin, [join(workflowsDir, f)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${f}: ${r.stdout}${r.stderr}`);
  }
});

test('action-validator rejects a broken workflow (the check is real)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-'));
  const bad = join(dir, 'bad.yml');
  writeFileSync(bad, 'on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n');
  const r = spawnSync(join(root, 'node_modules', '.bin', 'action-validator'), [bad], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
});

/** `npx carprice ...` invocations in the workflows' run scripts, as word lists. */
function carpriceCalls(): { file: string; words: string[] }[] {
  const out: { file: string; words: string[] }[] = [];
  for (const f of workflows) {
    const doc = parse(readFileSync(join(workflowsDir, f), 'utf8')) as {
      jobs: Record<string, { steps?: { run?: string }[] }>;
    };
    for (const job of Object.values(doc.jobs)) {
      for (const step of job.steps ?? []) {
        for (const m of (step.run ?? '').matchAll(/npx carprice ([^\n>|;&]*)/g))
          out.push({ file: f, words: m[1].trim().split(/\s+/) });
      }
    }
  }
  return out;
}

test('every carprice command a workflow calls exists and accepts the flags it is given', async () => {
  const calls = carpriceCalls();
  assert.ok(calls.length >= 5, `found ${calls.length} carprice calls`);
  for (const { file, words } of calls) {
    const names = words.slice(0, words.findIndex((w) => !/^[a-z][a-z-]*$/.test(w)) >>> 0).slice(0, 2);
    let help = '';
    for (let n = names.length; n >= 1 && !help; n--) {
      const cmd = names.slice(0, n);
      const r = await runBuiltCli([...cmd, '--help'], root);
      if (r.code === 0 && r.stdout.includes(`carprice ${cmd.join(' ')}`)) help = r.stdout;
    }
    assert.ok(help, `${file}: "carprice ${words.join(' ')}" is not a carprice command`);
    for (const flag of words.filter((w) => w.startsWith('--'))) {
      const name = flag.split('=')[0];
      assert.ok(
        new RegExp(`${name}(?![a-z-])`).test(help),
        `${file}: "carprice ${words.join(' ')}": ${name} is not a flag of it`,
      );
    }
  }
});

test('appspec hooks name executable scripts that exist', () => {
  const spec = parse(readFileSync(join(root, 'deploy', 'appspec.yml'), 'utf8')) as {
    hooks: Record<string, { location: string }[]>;
  };
  assert.deepEqual(Object.keys(spec.hooks), [
    'BeforeInstall',
    'ApplicationStop',
    'ApplicationStart',
    'ValidateService',
  ]);
  for (const hooks of Object.values(spec.hooks)) {
    for (const h of hooks) accessSync(join(root, 'deploy', h.location), constants.X_OK);
  }
});

const shellcheck = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
test(
  'shellcheck passes on every deploy script',
  { skip: shellcheck.status === 0 ? false : 'shellcheck is not installed (.ci/run installs it)' },
  () => {
    const r = spawnSync('shellcheck', ['-x', ...scripts.map((s) => join('deploy', 'scripts', s))], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  },
);

/** Run validate_service.sh against `url` with a stand-in docker CLI that reports the container running. */
function validateService(url: string, deadline: number): Promise<{ code: number; stderr: string }> {
  const bin = mkdtempSync(join(tmpdir(), 'fake-docker-'));
  const docker = join(bin, 'docker');
  // Only the two docker calls the script makes: inspect (running) and logs.
  writeFileSync(
    docker,
    '#!/bin/sh\ncase "$1 $2" in\n  "container inspect") echo true ;;\n  "logs --tail") echo "model failed to load: demo" ;;\nesac\n',
  );
  chmodSync(docker, 0o755);
  return new Promise((res) => {
    const child = spawn('bash', [join(scriptsDir, 'validate_service.sh')], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        CARPRICE_READY_URL: url,
        CARPRICE_READY_DEADLINE_S: String(deadline),
      },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => res({ code: code ?? -1, stderr }));
  });
}

test('validate_service.sh waits for /ready, and fails with the container log when it never comes', async () => {
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    if (req.url === '/ready' && calls > 2) res.writeHead(200).end('{"status":"ready"}');
    else res.writeHead(503).end('{"status":"loading"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const ok = await validateService(`http://127.0.0.1:${port}/ready`, 30);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /ready after/);
    const never = await validateService(`http://127.0.0.1:${port}/never`, 3);
    assert.equal(never.code, 1);
    assert.match(never.stderr, /not ready within 3s/);
    assert.match(never.stderr, /model failed to load: demo/);
  } finally {
    server.close();
  }
});
