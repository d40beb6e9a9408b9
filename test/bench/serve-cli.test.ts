/**
 * bench/serve's command line: --help prints the usage and exits 0; an unknown option, a
 * stray argument or a value that is not a positive number exits 2 with the reason on stderr
 * (no stack trace), before any work starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../bench/serve.js', import.meta.url));

const run = (...args: string[]) =>
  spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env } });

test('bench/serve --help: the usage on stdout, exit 0', () => {
  for (const flag of ['--help', '-h']) {
    const r = run(flag);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: node dist\/bench\/serve\.js \[options\]/);
    assert.match(r.stdout, /--only shadow/);
    assert.match(r.stdout, /--pairs N\s+shadow pairs counted \(110 with --only shadow/);
    assert.equal(r.stderr, '');
  }
});

test('bench/serve: a bad option or value exits 2 with the reason, no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /Unknown option '--bogus'[\s\S]*--help/],
    [['stray'], /Unexpected argument 'stray'/],
    [['--pairs', 'many'], /--pairs must be a positive number, got "many"/],
    [['--pair-duration', '0'], /--pair-duration must be a positive number, got "0"/],
    [['--only', 'flat'], /--only flat: unknown part; the one part that runs alone is shadow/],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
