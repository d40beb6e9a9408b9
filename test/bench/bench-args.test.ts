/**
 * bench/bench-args.ts in-process, on the paths that do not end the process: an option's
 * aliases and environment variables (the order they are read in, a boolean's 1 and 0),
 * repeatable options, defaults. Its errors end the process: they are checked on real bench
 * processes (test/bench/serve-cli.test.ts, test/integration/cli-entrypoints.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchArgs, benchUsage, numberAbove } from '../../bench/bench-args.js';

const SPEC = {
  name: 'spec-test',
  summary: 'a spec for the test',
  options: {
    pairs: {
      type: 'string',
      value: 'N',
      help: 'pairs',
      check: numberAbove(0),
      aliases: ['rounds'],
      env: ['T_BENCH_PAIRS', 'T_BENCH_ROUNDS'],
    },
    rate: { type: 'string', value: 'N', default: '1000', help: 'rate', check: numberAbove(0), env: ['T_BENCH_RATE'] },
    quiet: { type: 'boolean', help: 'quiet', env: ['T_BENCH_QUIET'] },
    set: { type: 'string', value: 'K=V', multiple: true, help: 'set', aliases: ['s'] },
  },
} as const;

/** benchArgs(SPEC, argv) with these environment variables set (and the others of the spec unset). */
function parse(argv: string[], env: Record<string, string> = {}) {
  const names = ['T_BENCH_PAIRS', 'T_BENCH_ROUNDS', 'T_BENCH_RATE', 'T_BENCH_QUIET'];
  const saved = names.map((n) => process.env[n]);
  for (const n of names) delete process.env[n];
  Object.assign(process.env, env);
  try {
    return benchArgs(SPEC, argv);
  } finally {
    names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
  }
}

test('benchArgs: the option, else its alias, else its variables in order, else its default', () => {
  const env = { T_BENCH_PAIRS: '7', T_BENCH_ROUNDS: '8', T_BENCH_RATE: '5' };
  assert.equal(parse(['--pairs', '3', '--rounds', '4'], env).number('pairs'), 3);
  assert.equal(parse(['--rounds', '4'], env).number('pairs'), 4);
  assert.equal(parse([], env).number('pairs'), 7);
  assert.equal(parse([], { T_BENCH_ROUNDS: '8' }).number('pairs'), 8);
  assert.equal(parse([], { T_BENCH_PAIRS: '', T_BENCH_ROUNDS: '8' }).number('pairs'), 8, 'an empty variable is unset');
  assert.equal(parse([]).number('pairs'), undefined);
  assert.equal(parse([], env).number('rate'), 5);
  assert.equal(parse(['--rate', '9'], env).number('rate'), 9);
  assert.equal(parse([]).number('rate'), 1000);
  const a = parse(['--rounds', '4']);
  assert.equal(a.values.pairs, '4');
  assert.ok(!('rounds' in a.values), 'an alias is folded into its option');
});

test('benchArgs: a boolean option from its variable (1 on, 0 off), a repeatable one with its alias', () => {
  assert.equal(parse([]).flag('quiet'), false);
  assert.equal(parse([], { T_BENCH_QUIET: '1' }).flag('quiet'), true);
  assert.equal(parse([], { T_BENCH_QUIET: '0' }).flag('quiet'), false);
  assert.equal(parse(['--quiet'], { T_BENCH_QUIET: '0' }).flag('quiet'), true);
  assert.deepEqual(parse(['--set', 'a=1', '--set', 'b=2']).strings('set'), ['a=1', 'b=2']);
  assert.deepEqual(parse(['--s', 'a=1', '--s', 'b=2']).strings('set'), ['a=1', 'b=2']);
  assert.deepEqual(parse([]).strings('set'), []);
});

test('benchUsage: aliases and variables in the help line', () => {
  const text = benchUsage(SPEC);
  assert.match(text, /\n {2}--pairs N +pairs \(alias --rounds\) \[T_BENCH_PAIRS, T_BENCH_ROUNDS\]\n/);
  assert.match(text, /\n {2}--rate N +rate \(default 1000\) \[T_BENCH_RATE\]\n/);
  assert.match(text, /\n {2}--quiet +quiet \[T_BENCH_QUIET=1\]\n/);
  assert.match(text, /\n {2}--set K=V +set \(repeatable, alias --s\)\n/);
});
