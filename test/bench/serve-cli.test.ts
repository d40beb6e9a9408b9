/**
 * bench/serve's command line (bench/bench-args.ts): --help prints the usage and exits 0; an
 * unknown option, a stray argument, a value that is not a positive number or a bad
 * CARPRICE_BENCH_* variable exits 2 with one line naming it and the fix (no stack trace),
 * before any work starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../bench/serve.js', import.meta.url));

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [SCRIPT, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CARPRICE_BENCH_'))),
      ...env,
    },
  });

test('bench/serve --help: the usage on stdout, exit 0', () => {
  for (const flag of ['--help', '-h']) {
    const r = run([flag]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /\n\nUsage \(from the project root, after npm run build\): node dist\/bench\/serve\.js \[options\]/,
    );
    assert.match(r.stdout, /--only shadow/);
    assert.match(
      r.stdout,
      /--pairs N\s+shadow pairs counted \(110 with --only shadow, 10 in the whole bench\) \(alias --rounds\) \[CARPRICE_BENCH_PAIRS, CARPRICE_BENCH_ROUNDS\]\n/,
    );
    assert.match(r.stdout, /--no-python +skip the original's service \[CARPRICE_BENCH_NO_PYTHON=1\]\n/);
    assert.match(r.stdout, /--shadow-set K=V +a params override for the --shadow server\(s\) \(repeatable\)\n/);
    assert.match(r.stdout, /--shadow-variant K=V\[,K=V\] +one more --shadow server .* \(repeatable\)\n/);
    assert.equal(r.stderr, '');
  }
});

test('bench/serve: a bad option or value exits 2 with the reason, no stack trace', () => {
  const fix = '; run `node dist/bench/serve.js --help`\n$';
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [['--bogus'], new RegExp(`^bench/serve: unknown option --bogus${fix}`)],
    [['--rnds', '3'], /^bench\/serve: unknown option --rnds \(did you mean --rounds\?\)/],
    [['stray'], /^bench\/serve: unexpected argument "stray"/],
    [['--pairs', 'many'], new RegExp(`^bench/serve: --pairs must be a positive number, got "many"${fix}`)],
    [['--rounds', '0'], /^bench\/serve: --rounds must be a positive number, got "0"/],
    [['--pair-duration', '0'], /^bench\/serve: --pair-duration must be a positive number, got "0"/],
    [['--only', 'flat'], /^bench\/serve: --only must be shadow \(the one part that runs alone\), got "flat"/],
    [['--shadow-set'], /^bench\/serve: --shadow-set needs a value/],
    [['--shadow-variant', 'a=1', '--shadow-variant'], /^bench\/serve: --shadow-variant needs a value/],
    [[], /^bench\/serve: CARPRICE_BENCH_PAIRS must be a positive number, got "x"/, { CARPRICE_BENCH_PAIRS: 'x' }],
    [[], /^bench\/serve: CARPRICE_BENCH_ROUNDS must be a positive number, got "-1"/, { CARPRICE_BENCH_ROUNDS: '-1' }],
    [[], /^bench\/serve: CARPRICE_BENCH_DURATION must be a positive number/, { CARPRICE_BENCH_DURATION: '0' }],
    [[], /^bench\/serve: CARPRICE_BENCH_ONLY must be shadow/, { CARPRICE_BENCH_ONLY: 'flat' }],
    [
      [],
      /^bench\/serve: CARPRICE_BENCH_NO_PYTHON must be 1 \(on\) or 0 \(off\), got "yes"/,
      { CARPRICE_BENCH_NO_PYTHON: 'yes' },
    ],
  ];
  for (const [args, message, env] of cases) {
    const label = `${Object.entries(env ?? {})
      .map(([k, v]) => `${k}=${v} `)
      .join('')}${args.join(' ')}`;
    const r = run(args, env);
    assert.equal(r.status, 2, `${label}: ${r.stderr}`);
    assert.match(r.stderr, message, label);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${label}: one line expected:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '', `${label}: nothing on stdout`);
  }
});

test('bench/serve: an option wins over its alias and its variables, which are read only when it is absent', () => {
  // options are checked in the order of --help (--only, then --pairs, then --pair-duration):
  // a bad variable that were read would be named before the bad --pair-duration
  const cases: [string[], Record<string, string>][] = [
    [['--pairs', '3', '--pair-duration', 'x'], { CARPRICE_BENCH_PAIRS: 'bad', CARPRICE_BENCH_ROUNDS: 'bad' }],
    [['--rounds', '3', '--pair-duration', 'x'], { CARPRICE_BENCH_PAIRS: 'bad' }],
    [['--only', 'shadow', '--pair-duration', 'x'], { CARPRICE_BENCH_ONLY: 'flat' }],
    [['--pair-duration', 'x'], { CARPRICE_BENCH_PAIRS: '3', CARPRICE_BENCH_ROUNDS: 'bad' }],
  ];
  for (const [args, env] of cases) {
    const r = run(args, env);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^bench\/serve: --pair-duration must be a positive number, got "x"/, args.join(' '));
  }
});
