/**
 * Every command-line entry point answers --help and refuses what it does not know, before
 * doing any work: each `carprice` command (in-process through main(), the same parse and
 * catch as the binary) and each bench entry (dist/bench/NAME.js, a real child process).
 * --help: the usage on stdout, exit 0. An unknown option or a bad value: one line on
 * stderr naming the option and where to look, exit 2, no stack trace, nothing on stdout.
 *
 * A bench file is an entry point when it exports nothing; every entry must read its command
 * line with bench/bench-args.ts (checked here, so a new bench cannot skip it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { commands } from '../../src/cli/commands/index.js';
import { readEnv } from '../../src/config/env.js';
import { cleanEnv } from '../helpers/built-cli.js';
import { TrackingClient } from '../../src/tracking/client.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Bench entries owned by another piece of work, not yet on bench-args.ts (say why here). */
const NOT_YET: Record<string, string> = {};

function benchEntries(): string[] {
  return readdirSync(join(root, 'bench'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .filter((name) => !/^export /m.test(readFileSync(join(root, 'bench', `${name}.ts`), 'utf8')))
    .sort();
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), cwd = root): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    // an entry that starts its work instead of answering is stopped and fails below
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((res) => probe.listen(0, '127.0.0.1', res));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((res) => probe.close(() => res()));
  return port;
}

/** Runs `fn` over `items`, two at a time (the machine's cores are shared). */
async function twoAtATime<T, R>(items: T[], fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

function oneLineError(r: Run, label: string, pattern: RegExp): void {
  assert.equal(r.code, 2, `${label}: exit ${r.code}\n${r.stderr}`);
  assert.equal(r.stdout, '', `${label}: stdout should be empty`);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, label);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${label}: one line expected:\n${r.stderr}`);
  assert.match(r.stderr, pattern, label);
}

test('every bench entry point reads its command line with bench-args.ts', () => {
  const entries = benchEntries();
  assert.ok(entries.length >= 10, `bench entries found: ${entries.join(', ')}`);
  for (const name of entries) {
    if (NOT_YET[name]) continue;
    const text = readFileSync(join(root, 'bench', `${name}.ts`), 'utf8');
    assert.match(text, /\bbenchArgs\(/, `bench/${name}.ts: read the command line with benchArgs (bench/bench-args.ts)`);
    assert.doesNotMatch(
      text,
      /process\.argv\.(slice|includes|indexOf)\(/,
      `bench/${name}.ts reads process.argv itself`,
    );
  }
});

test('bench entries: --help exits 0, an unknown option exits 2 with one line, before any work', async () => {
  const entries = benchEntries().filter((n) => !NOT_YET[n]);
  const results = await twoAtATime(entries, async (name) => ({
    name,
    help: await runNode([join('dist', 'bench', `${name}.js`), '--help']),
    unknown: await runNode([join('dist', 'bench', `${name}.js`), '--no-such-option']),
  }));
  for (const { name, help, unknown } of results) {
    assert.equal(help.code, 0, `bench/${name} --help: exit ${help.code}\n${help.stderr}`);
    assert.equal(help.stderr, '', `bench/${name} --help wrote to stderr`);
    assert.match(help.stdout, new RegExp(`^bench/${name}: .+\n\nUsage .*node dist/bench/${name}\\.js`), name);
    assert.match(help.stdout, /\n {2}--help +print this and exit\n/, name);
    oneLineError(
      unknown,
      `bench/${name} --no-such-option`,
      new RegExp(`^bench/${name}: unknown option --no-such-option; run \`node dist/bench/${name}\\.js --help\`\n$`),
    );
  }
});

test('bench entries: a bad value names the option and the fix', async () => {
  const cases: [string[], RegExp][] = [
    [['scale', '--repeat', 'ten'], /^bench\/scale: --repeat must be a whole number >= 1, got "ten"; run `node/],
    [['scale', '--sizes', '5912,lots'], /^bench\/scale: --sizes has "lots", which must be a whole number/],
    [['xlsx', '--rows'], /^bench\/xlsx: --rows needs a value; run `node dist\/bench\/xlsx\.js --help`/],
    [['ui', '--runs', '--loads', '3'], /^bench\/ui: --runs needs a value/],
    [['tracking', '--rnus', '5'], /^bench\/tracking: unknown option --rnus \(did you mean --runs\?\)/],
    [['quality', 'gdbt'], /^bench\/quality: ALGO must be one of blend, .*gbdt.*, got "gdbt"/],
    [['quality-vs-python', '--seeds', '9-1'], /^bench\/quality-vs-python: --seeds has a range that runs backwards/],
    [['quality-vs-python', '--algos', 'ridge,,gbdt'], /^bench\/quality-vs-python: --algos must be a comma-separated/],
    [['experiments', '--folds', '1'], /^bench\/experiments: --folds must be a whole number from 2 to 50, got "1"/],
    [['pipeline', '3', '4'], /^bench\/pipeline: one RUNS at most, got 3 4/],
    [['monitoring', '--rate', '-5'], /^bench\/monitoring: --rate needs a value \(a value that starts with - goes as/],
    [['monitoring', '--rate=-5'], /^bench\/monitoring: --rate must be a number > 0, got "-5"/],
    [['quality-grid', '--no-eval', '--no-inner'], /^bench\/quality-grid: --no-eval and --no-inner leave nothing/],
    [['train-vs-xgboost', '--skip-large', 'x'], /^bench\/train-vs-xgboost: unexpected argument "x"/],
  ];
  const results = await twoAtATime(cases, ([[name, ...args]]) =>
    runNode([join('dist', 'bench', `${name}.js`), ...args]),
  );
  cases.forEach(([argv, pattern], i) => oneLineError(results[i], argv.join(' '), pattern));
  const env = await runNode([join('dist', 'bench', 'tracking-team.js')], cleanEnv({ BENCH_PARTS: 'load,serch' }));
  oneLineError(env, 'BENCH_PARTS=load,serch', /^bench\/tracking-team: BENCH_PARTS must be a comma list of load, kill/);
});

/** carprice's main() in-process with its output captured. */
async function carprice(argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    env: readEnv(cleanEnv()),
    cwd: root,
    stdout: { write: (t) => void (stdout += t), isTTY: false },
    stderr: { write: (t) => void (stderr += t), isTTY: false },
  });
  return { code, stdout, stderr };
}

test('every carprice command: --help exits 0 with its usage, an unknown flag exits 2 with one line', async () => {
  assert.ok(commands.length >= 40);
  for (const c of commands) {
    const words = c.name.split(' ');
    const help = await carprice([...words, '--help']);
    assert.equal(help.code, 0, `carprice ${c.name} --help`);
    assert.equal(help.stderr, '');
    assert.ok(help.stdout.startsWith(`Usage: carprice ${c.name}`), `carprice ${c.name} --help: ${help.stdout}`);
    const short = await carprice([...words, '-h']);
    assert.equal(short.stdout, help.stdout, `carprice ${c.name} -h`);
    const unknown = await carprice([...words, '--no-such-flag']);
    oneLineError(
      unknown,
      `carprice ${c.name} --no-such-flag`,
      new RegExp(`^carprice: unknown flag --no-such-flag; run \`carprice ${c.name} --help\`\n$`),
    );
  }
});

test('carprice: unknown commands and subcommands are one line, exit 2', async () => {
  oneLineError(await carprice(['trian']), 'trian', /^carprice: unknown command "trian"; run `carprice --help`/);
  oneLineError(
    await carprice(['model', 'promot']),
    'model promot',
    /^carprice: unknown subcommand "model promot"; try one of: model test, model promote/,
  );
  const bin = await runNode([join('dist', 'src', 'cli', 'main.js'), 'serve', '--prot', '8000']);
  oneLineError(
    bin,
    'serve --prot',
    /^carprice: unknown flag --prot \(did you mean --port\?\); run `carprice serve --help`/,
  );
});

test('carprice: a bad flag value is one line naming the flag, checked before any work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-entry-'));
  try {
    const at = async (argv: string[], env: Record<string, string> = {}): Promise<Run> => {
      let stdout = '';
      let stderr = '';
      const code = await main(argv, {
        env: readEnv(cleanEnv(env)),
        cwd: dir,
        stdout: { write: (t) => void (stdout += t), isTTY: false },
        stderr: { write: (t) => void (stderr += t), isTTY: false },
      });
      return { code, stdout, stderr };
    };
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [['serve', '--port', '70000'], /^carprice: --port must be a whole number from 0 to 65535, got "70000"\n$/],
      [['serve', '--workers', '0'], /^carprice: --workers must be a whole number from 1 to 256, got "0"\n$/],
      [['serve', '--host', 'a..b'], /^carprice: --host "a\.\.b" is not a valid host name or IP address\n$/],
      [['serve'], /^carprice: \$PORT must be a whole number from 0 to 65535, got "eighty"\n$/, { PORT: 'eighty' }],
      // up checks its serving flags before it pulls data and runs the pipeline (here: no dvc.yaml)
      [['up', '--port', 'abc'], /^carprice: --port must be a whole number from 0 to 65535, got "abc"\n$/],
      [['up', '--workers', '-2'], /^carprice: --workers must be a whole number from 1 to 256, got "-2"\n$/],
      [['tracking', 'serve', '--port', 'x'], /^carprice: --port must be a whole number from 0 to 65535, got "x"\n$/],
      [['deploy', '--port', '0'], /^carprice: --port must be a whole number from 1 to 65535, got "0"\n$/],
      [['deploy', '--host', '300.1.1.1'], /^carprice: --host 300\.1\.1\.1 is not a valid IPv4 address/],
      [['push', '--jobs', '0'], /^carprice: --jobs must be a whole number >= 1, got "0"\n$/],
      [['pull', '-j', 'many'], /^carprice: --jobs must be a whole number >= 1, got "many"\n$/],
      [['repro', '--jobs', '1.5'], /^carprice: --jobs must be a whole number >= 1, got "1\.5"\n$/],
      [['start', '--jobs', '0'], /^carprice: --jobs must be a whole number >= 1, got "0"\n$/],
      [['runs', 'list', '--max', '0'], /^carprice: --max must be a whole number from 1 to 50000, got "0"\n$/],
      [['exp', 'show', '--limit', 'all'], /^carprice: --limit must be a whole number >= 1, got "all"\n$/],
      [['cv', '--data', 'x.csv', '--folds', '1'], /^carprice: --folds must be a whole number >= 2, got "1"\n$/],
      [
        ['monitor', 'feedback', 'sold.csv', '--min-slice', '0'],
        /^carprice: --min-slice must be a whole number >= 1, got "0"\n$/,
      ],
    ];
    for (const [argv, pattern, env] of cases) oneLineError(await at(argv, env), argv.join(' '), pattern);
    assert.deepEqual(readdirSync(dir), [], 'nothing written by a refused command');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('carprice exp show --sort: a metric no run has is refused, naming the ones there are', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-entry-'));
  try {
    const client = TrackingClient.open({ env: {}, cwd: dir });
    const run = await client.startRun({ experimentName: 'exp' });
    await client.logMetrics(run.runId, { cv_mape: 0.12, test_r2: 0.9 });
    await client.endRun(run.runId);
    await client.close();
    let stderr = '';
    const code = await main(['exp', 'show', '--experiment', 'exp', '--sort', 'cv_mpae'], {
      env: readEnv(cleanEnv()),
      cwd: dir,
      stdout: { write: () => undefined, isTTY: false },
      stderr: { write: (t) => void (stderr += t), isTTY: false },
    });
    oneLineError(
      { code, stdout: '', stderr },
      'exp show --sort cv_mpae',
      /^carprice: --sort cv_mpae: no run here has that metric; choose one of cv_mape, test_r2\n$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('carprice serve and tracking serve on a busy port: one line naming the port and the fix', async () => {
  const busy = createServer();
  await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
  const port = String((busy.address() as AddressInfo).port);
  const dir = mkdtempSync(join(tmpdir(), 'carprice-entry-'));
  try {
    for (const argv of [
      ['serve', '--host', '127.0.0.1', '--port', port, '--model', join(dir, 'none')],
      ['tracking', 'serve', '--host', '127.0.0.1', '--port', port, '--backend-store-uri', `sqlite:///${dir}/t.db`],
      // up finds the port taken before it runs the pipeline (here there is none: no dvc.yaml)
      ['up', '--host', '127.0.0.1', '--port', port],
    ]) {
      const r = await runNode([join(root, 'dist', 'src', 'cli', 'main.js'), ...argv], cleanEnv(), dir);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('carprice: ') && !l.includes('warning'));
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0],
        new RegExp(`^carprice: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*; pick another --port`),
      );
    }
  } finally {
    busy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tracking server that does not answer: one warning before the retries, then one error line', async () => {
  const port = await closedPort();
  const dir = mkdtempSync(join(tmpdir(), 'carprice-entry-'));
  try {
    const r = await runNode(
      [join(root, 'dist', 'src', 'cli', 'main.js'), 'experiments', 'list'],
      cleanEnv({
        MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}`,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2',
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.05',
      }),
      dir,
    );
    assert.equal(r.code, 6, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(
      lines[0],
      new RegExp(
        `^carprice: warning: MLflow server http://127\\.0\\.0\\.1:${port}/, POST /api/2\\.0/mlflow/experiments/search: connect ECONNREFUSED .*; retrying up to 2 times with growing waits, the first in 0\\.1 s \\(MLFLOW_HTTP_REQUEST_MAX_RETRIES sets how many; Ctrl-C stops\\)$`,
      ),
    );
    assert.match(
      lines[1],
      /^carprice: cannot reach the MLflow server at .* after 3 attempts: .*check MLFLOW_TRACKING_URI/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an S3 remote that does not answer: push is one error line naming the remote and the setting, no SDK notice', async () => {
  const port = await closedPort();
  const dir = mkdtempSync(join(tmpdir(), 'carprice-entry-'));
  try {
    mkdirSync(join(dir, '.dvc'));
    writeFileSync(
      join(dir, '.dvc', 'config'),
      `[core]\n    remote = s3r\n['remote "s3r"']\n    url = s3://bucket/prefix\n    endpointurl = http://127.0.0.1:${port}\n`,
    );
    writeFileSync(join(dir, 'data.csv'), 'a,b\n1,2\n');
    const cli = (...args: string[]) =>
      runNode(
        [join(root, 'dist', 'src', 'cli', 'main.js'), ...args],
        cleanEnv({ AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_MAX_ATTEMPTS: '1' }),
        dir,
      );
    assert.equal((await cli('add', 'data.csv')).code, 0);
    const r = await cli('push');
    assert.equal(r.code, 6, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^carprice: remote 's3r': cannot reach the S3 endpoint .*ECONNREFUSED.*check endpointurl/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CARPRICE_LOG_LEVEL: an unknown level is one line naming the levels (exit 3); silent drops warnings too', async () => {
  const at = async (env: Record<string, string>): Promise<Run> => {
    let stderr = '';
    const code = await main(['experiments', 'list', '--tracking-uri', 'nope://x'], {
      env: readEnv(cleanEnv(env)),
      cwd: root,
      stdout: { write: () => undefined, isTTY: false },
      stderr: { write: (t) => void (stderr += t), isTTY: false },
    });
    return { code, stdout: '', stderr };
  };
  const bad = await at({ CARPRICE_LOG_LEVEL: 'verbose' });
  assert.equal(bad.code, 3);
  assert.equal(
    bad.stderr,
    'carprice: CARPRICE_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "verbose"; unset it for warnings only\n',
  );
  const silent = await at({ CARPRICE_LOG_LEVEL: 'silent' });
  assert.match(silent.stderr, /^carprice: unsupported tracking URI 'nope:\/\/x'/);
});
