/**
 * Pipeline runner speed against the targets:
 * - `carprice repro` with nothing changed: < 0.5 s wall, measured on the real CLI process;
 * - `carprice status` on a directory of 10,000 small files, nothing changed: < 1 s
 *   (the hash cache makes it one stat per file).
 * Also prints the in-process library times and a bare `node -e 0` for context (the CLI
 * figure includes Node start-up and loading every command module).
 * Run: node dist/bench/pipeline.js
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reproduce } from '../src/pipeline/reproduce.js';
import { status } from '../src/pipeline/status.js';
import { add } from '../src/pipeline/add.js';
import { benchArgs, runBench, usageError, wholeNumber } from './bench-args.js';

const args = benchArgs({
  name: 'pipeline',
  summary: 'pipeline runner speed: carprice repro with nothing changed, carprice status on 10,000 files',
  options: {
    runs: { type: 'string', value: 'N', default: '5', help: 'runs per figure (median)', check: wholeNumber(1) },
  },
  positionals: { value: 'RUNS', help: 'the same as --runs (the older form)', check: (v) => wholeNumber(1)(v) },
});
if (args.positionals.length > 1) usageError('pipeline', `one RUNS at most, got ${args.positionals.join(' ')}`);

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const main = join(root, 'dist/src/cli/main.js');

function wall(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function wallAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function cli(cwd: string, ...args: string[]): void {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  if (r.status !== 0) throw new Error(`carprice ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

function row(name: string, seconds: number, target?: number): void {
  const ratio = target
    ? `  ${(seconds / target).toFixed(2)}x of target ${target} s ${seconds <= target ? '(OK)' : '(OVER)'}`
    : '';
  process.stdout.write(`${name.padEnd(52)} ${seconds.toFixed(3)} s${ratio}\n`);
}

async function main_(): Promise<void> {
  const runs = Number(args.positionals[0] ?? args.values.runs);
  const d = mkdtempSync(join(tmpdir(), 'carprice-bench-'));
  const big = mkdtempSync(join(tmpdir(), 'carprice-bench-big-'));
  try {
    // A small three-stage pipeline, like the car pipeline's shape.
    mkdirSync(join(d, '.dvc'));
    writeFileSync(join(d, 'params.yaml'), 'train:\n  lr: 0.1\n');
    writeFileSync(join(d, 'data.csv'), 'a,b\n'.repeat(1000));
    writeFileSync(
      join(d, 'dvc.yaml'),
      'stages:\n  prepare:\n    cmd: cp data.csv p.csv\n    deps:\n    - data.csv\n    outs:\n    - p.csv\n  train:\n    cmd: echo ${train.lr} > m.txt\n    deps:\n    - p.csv\n    params:\n    - train.lr\n    outs:\n    - m.txt\n  report:\n    cmd: cat m.txt > r.txt\n    deps:\n    - m.txt\n    outs:\n    - r.txt\n',
    );
    // 10,000 small files tracked with a .dvc file.
    mkdirSync(join(big, '.dvc'));
    const many = join(big, 'many');
    for (let i = 0; i < 100; i++) {
      mkdirSync(join(many, `d${i}`), { recursive: true });
      for (let j = 0; j < 100; j++) writeFileSync(join(many, `d${i}`, `f${j}.txt`), `file ${i} ${j}\n`);
    }
    process.stdout.write(
      `pipeline bench (${runs} runs each, median); load average ${loadavg()[0].toFixed(2)} on ${availableParallelism()} CPUs\n`,
    );
    await reproduce({ cwd: d });
    row(
      'node -e 0 (Node start-up alone)',
      median(Array.from({ length: runs }, () => wall(() => spawnSync(process.execPath, ['-e', '0'])))),
    );
    row(
      'carprice --version (CLI start-up, all commands loaded)',
      median(Array.from({ length: runs }, () => wall(() => cli(d, '--version')))),
    );
    row(
      'carprice repro, 3 stages, nothing changed (CLI process)',
      median(Array.from({ length: runs }, () => wall(() => cli(d, 'repro')))),
      0.5,
    );
    const lib: number[] = [];
    for (let i = 0; i < runs; i++) lib.push(await wallAsync(() => reproduce({ cwd: d })));
    row('reproduce() no-op, in process', median(lib));
    const addT = await wallAsync(() => add({ cwd: big, paths: ['many'] }));
    row('add many/ (10,000 files, cold: reads + caches every file)', addT);
    row(
      'carprice status, 10,000-file dir unchanged (CLI process)',
      median(Array.from({ length: runs }, () => wall(() => cli(big, 'status')))),
      1,
    );
    const st: number[] = [];
    for (let i = 0; i < runs; i++) st.push(await wallAsync(() => status({ cwd: big })));
    row('status() 10,000-file dir unchanged, in process', median(st), 1);
    rmSync(join(big, '.dvc/tmp/carprice-hashes.json'));
    row('status() 10,000-file dir, hash cache deleted (cold)', await wallAsync(() => status({ cwd: big })));
  } finally {
    rmSync(d, { recursive: true, force: true });
    rmSync(big, { recursive: true, force: true });
  }
  await carPipeline(runs);
}

/**
 * The real car pipeline from a fresh clone: git clone of this checkout, pull of the dataset
 * from the shared DVC remote, full repro (every stage, the tracking store created from
 * scratch), then the no-op repro of the same 5-stage pipeline.
 */
async function carPipeline(runs: number): Promise<void> {
  const remote = resolve(root, '../shared/dvc-remote');
  if (!existsSync(remote)) {
    process.stdout.write(`car pipeline: skipped (${remote} not found)\n`);
    return;
  }
  const clone = mkdtempSync(join(tmpdir(), 'carprice-bench-clone-'));
  try {
    const git = spawnSync('git', ['clone', '-q', root, clone], { encoding: 'utf8' });
    if (git.status !== 0) {
      process.stdout.write(`car pipeline: skipped (git clone failed: ${git.stderr.trim()})\n`);
      return;
    }
    cli(clone, 'remote', 'modify', 'local', 'url', remote);
    const pullT = wall(() => cli(clone, 'pull'));
    row('car pipeline: pull the dataset (fresh clone)', pullT);
    let r: ReturnType<typeof spawnSync> | undefined;
    const total = wall(() => {
      r = spawnSync(process.execPath, [main, 'repro'], {
        cwd: clone,
        encoding: 'utf8',
        env: { ...process.env, CI: '1', MLFLOW_TRACKING_URI: '' },
      });
    });
    if (r?.status !== 0) throw new Error(`carprice repro failed in the clone: ${String(r?.stderr)}`);
    const ran = [...String(r.stdout).matchAll(/Running stage '(\w+)'/g)].map((m) => m[1]);
    row(`car pipeline: full repro after pull (${ran.length} stages, CLI process)`, total);
    row(
      'car pipeline: carprice repro, nothing changed (CLI process)',
      median(Array.from({ length: runs }, () => wall(() => cli(clone, 'repro')))),
      0.5,
    );
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
}

runBench('pipeline', main_);
