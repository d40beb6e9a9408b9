/**
 * The command line of every bench entry point (dist/bench/NAME.js), read the same way:
 * `--help` (or `-h`) prints the usage and the options and exits 0 before any work starts;
 * an unknown option, a missing or bad value prints one line naming the option and the fix
 * (`bench/NAME: --rows must be a whole number >= 1, got "x"; run `node dist/bench/NAME.js
 * --help``) and exits 2, never a stack trace. `runBench` runs the bench's main function and
 * turns a carprice AppError that reaches it (a missing data file, a bad params.yaml) into
 * one line and the CLI's exit code for that error; anything else is a bug and keeps its stack.
 */
import { parseArgs } from 'node:util';
import { exitCodeOf, isAppError } from '../src/core/errors.js';
import { nearestName } from '../src/core/text.js';
import { algorithmInfo, algorithmNames } from '../src/ml/algorithm-catalog.js';

/** Checks one string value: the problem ("must be ...") or undefined when it is good. */
export type Check = (value: string) => string | undefined;

export interface BenchOption {
  type: 'string' | 'boolean';
  /** Repeatable (string options): every occurrence is kept. */
  multiple?: boolean;
  /** The value's placeholder in --help (N, DIR, LIST). */
  value?: string;
  /** The value when the option is absent (string options). */
  default?: string;
  help: string;
  check?: Check;
  /** Other names of the same option (`--rounds` for `--pairs`): the option's own name wins. */
  aliases?: readonly string[];
  /**
   * Environment variables read, in order, when the option and its aliases are absent (not for
   * repeatable options): a string option's value (checked like the option's), a boolean's 1
   * (on) or 0 (off).
   */
  env?: readonly string[];
}

export interface BenchSpec<O extends Record<string, BenchOption>> {
  /** The entry's name: bench/NAME.ts, run as node dist/bench/NAME.js. */
  name: string;
  /** One line: what the bench measures. */
  summary: string;
  options: O;
  /** Positional arguments, when the bench takes any: their placeholder, help and check. */
  positionals?: { value: string; help: string; check?: Check };
  /** More lines for --help (environment variables, notes). */
  notes?: string;
}

/** The options' values as node's parseArgs gives them (defaults applied; repeatable ones as lists). */
export type BenchValues<O> = {
  [K in keyof O]: O[K] extends { multiple: true }
    ? string[] | undefined
    : O[K] extends { type: 'boolean' }
      ? boolean | undefined
      : O[K] extends { default: string }
        ? string
        : string | undefined;
};

export interface BenchArgs<O> {
  values: BenchValues<O>;
  /** A boolean option: present or not. */
  flag(name: keyof O & string): boolean;
  /** A string option's value (its default when absent), undefined when absent without a default. */
  string(name: keyof O & string): string | undefined;
  /** A string option's value as a number (checked by the option's check), its default when absent. */
  number(name: keyof O & string): number | undefined;
  /** Every value of a repeatable option. */
  strings(name: keyof O & string): string[];
  positionals: string[];
}

/** --dir and --keep, for the benches that work in a scratch directory. */
export const WORK_DIR_OPTIONS = {
  dir: { type: 'string', value: 'DIR', help: 'work in DIR and keep it (default: a temporary directory, removed)' },
  keep: { type: 'boolean', help: 'keep the temporary directory' },
} as const satisfies Record<string, BenchOption>;

/** Ends the process with a usage error: one line, exit code 2. */
export function usageError(name: string, message: string): never {
  process.stderr.write(`bench/${name}: ${message}; run \`node dist/bench/${name}.js --help\`\n`);
  process.exit(2);
}

/** The --help text of a bench. */
export function benchUsage(spec: BenchSpec<Record<string, BenchOption>>): string {
  const opts = Object.entries(spec.options).map(([k, o]) => {
    const left = `--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const more = [
      o.default !== undefined ? `default ${o.default}` : '',
      o.multiple ? 'repeatable' : '',
      ...(o.aliases ?? []).map((a) => `alias --${a}`),
    ]
      .filter(Boolean)
      .join(', ');
    const env = o.env?.length ? ` [${o.env.map((e) => (o.type === 'boolean' ? `${e}=1` : e)).join(', ')}]` : '';
    return [left, `${o.help}${more ? ` (${more})` : ''}${env}`];
  });
  opts.push(['--help', 'print this and exit']);
  const pos = spec.positionals ? ` [${spec.positionals.value}...]` : '';
  const width = Math.max(...opts.map(([l]) => l.length), spec.positionals?.value.length ?? 0);
  const lines = [
    `bench/${spec.name}: ${spec.summary}`,
    '',
    `Usage (from the project root, after npm run build): node dist/bench/${spec.name}.js [options]${pos}`,
    '',
    ...(spec.positionals ? [`  ${spec.positionals.value.padEnd(width)}  ${spec.positionals.help}`] : []),
    ...opts.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`),
  ];
  if (spec.notes) lines.push('', spec.notes.trimEnd());
  return lines.join('\n') + '\n';
}

/** Reads the bench's command line by `spec`, or ends the process (help: 0, usage error: 2). */
export function benchArgs<O extends Record<string, BenchOption>>(
  spec: BenchSpec<O>,
  argv: readonly string[] = process.argv.slice(2),
): BenchArgs<O> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(benchUsage(spec));
    process.exit(0);
  }
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; default?: string }> = {};
  for (const [k, o] of Object.entries(spec.options))
    for (const name of [k, ...(o.aliases ?? [])]) options[name] = { type: o.type, multiple: Boolean(o.multiple) };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: Boolean(spec.positionals), strict: true });
  } catch (e) {
    usageError(spec.name, parseProblem((e as Error).message, Object.keys(options)));
  }
  for (const [k, o] of Object.entries(spec.options)) {
    // the option's own name, else its first alias given, else its environment variables, else its default
    const given = [k, ...(o.aliases ?? [])].find((n) => parsed.values[n] !== undefined);
    let raw = given === undefined ? undefined : parsed.values[given];
    let from = `--${given ?? k}`;
    for (const n of o.aliases ?? []) delete parsed.values[n];
    for (const e of o.multiple ? [] : (o.env ?? [])) {
      const v = process.env[e];
      if (raw !== undefined || v === undefined || v === '') continue;
      from = e;
      if (o.type === 'string') raw = v;
      else if (v === '1' || v === '0') raw = v === '1';
      else usageError(spec.name, `${e} must be 1 (on) or 0 (off), got "${v}"`);
    }
    raw ??= o.default;
    if (raw === undefined) continue;
    parsed.values[k] = raw;
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (typeof v !== 'string') continue;
      if (given !== undefined && v.startsWith('--'))
        usageError(spec.name, `${from} needs a value (${o.value ?? 'VALUE'}), got the option ${v}`);
      const problem = o.check?.(v);
      if (problem) usageError(spec.name, `${from} ${problem}, got "${v}"`);
    }
  }
  if (spec.positionals?.check)
    for (const p of parsed.positionals) {
      const problem = spec.positionals.check(p);
      if (problem) usageError(spec.name, `${spec.positionals.value} ${problem}, got "${p}"`);
    }
  const value = (name: string): string | undefined => {
    const v = parsed.values[name];
    return typeof v === 'string' ? v : spec.options[name]?.default;
  };
  return {
    values: parsed.values as BenchValues<O>,
    flag: (name) => parsed.values[name] === true,
    string: value,
    number: (name) => {
      const v = value(name);
      return v === undefined ? undefined : Number(v);
    },
    strings: (name) => {
      const v = parsed.values[name];
      return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
    },
    positionals: parsed.positionals,
  };
}

function parseProblem(message: string, names: string[]): string {
  const first = message.split('\n')[0];
  const unknown = /^Unknown option '([^']+)'/.exec(first);
  if (unknown) {
    const near = nearestName(unknown[1].replace(/^-+/, ''), [...names, 'help']);
    return `unknown option ${unknown[1]}${near ? ` (did you mean --${near}?)` : ''}`;
  }
  const missing = /^Option '(?:-\w, )?--([^ ']+)(?: <value>)?' argument (missing|is ambiguous)/.exec(first);
  if (missing)
    return `--${missing[1]} needs a value${missing[2] === 'missing' ? '' : ' (a value that starts with - goes as --NAME=VALUE)'}`;
  const positional = /^Unexpected argument '([^']+)'/.exec(first);
  if (positional) return `unexpected argument "${positional[1]}" (this bench takes options only)`;
  return first.replace(/\.$/, '');
}

/** A whole number from `min` (to `max`). */
export function wholeNumber(min: number, max?: number): Check {
  return (v) => {
    const n = Number(v);
    const ok = /^-?\d+$/.test(v.trim()) && Number.isSafeInteger(n) && n >= min && (max === undefined || n <= max);
    return ok ? undefined : `must be a whole number ${max === undefined ? `>= ${min}` : `from ${min} to ${max}`}`;
  };
}

/** A number greater than `above` (seconds, rates). */
export function numberAbove(above: number): Check {
  return (v) => {
    const n = Number(v);
    return v.trim() !== '' && Number.isFinite(n) && n > above ? undefined : `must be a number > ${above}`;
  };
}

/** A comma-separated list whose every item passes `item`. */
export function listOf(item: Check): Check {
  return (v) => {
    const parts = v.split(',').map((s) => s.trim());
    if (parts.some((p) => p === '')) return 'must be a comma-separated list without empty items';
    for (const p of parts) {
      const problem = item(p);
      if (problem) return `has "${p}", which ${problem.replace(/^must/, 'must')}`;
    }
    return undefined;
  };
}

/** Seeds as `42`, `0-9` or `1,2,3` (what several benches take). */
export const seedList: Check = (v) =>
  listOf((p) => (/^\d+(-\d+)?$/.test(p) ? undefined : 'must be a seed N or a range A-B'))(v) ??
  (v.split(',').some((p) => {
    const [a, b] = p.split('-').map(Number);
    return b !== undefined && b < a;
  })
    ? 'has a range that runs backwards'
    : undefined);

/** Runs the bench's main function: an AppError that reaches it is one line and its exit code. */
export function runBench(name: string, main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    if (isAppError(e)) {
      process.stderr.write(`bench/${name}: ${e.message}\n`);
      process.exitCode = exitCodeOf(e.code);
      return;
    }
    process.stderr.write(`bench/${name}: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}

/** The seeds of a `seedList` value: `0-9` is 0 to 9, `1,5-6` is 1, 5, 6 (each once, in order). */
export function seedsOf(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const [a, b = a] = part.split('-').map(Number);
    for (let s = a; s <= b; s++) if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** An algorithm name of the catalogue (blend included). */
export const algorithmName: Check = (v) => {
  try {
    algorithmInfo(v);
    return undefined;
  } catch {
    return `must be one of ${algorithmNames().join(', ')}`;
  }
};

/** A number from the environment variable `name` (its default when unset), checked like an option. */
export function envNumber(bench: string, name: string, fallback: number, check: Check): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const problem = check(v);
  if (problem) usageError(bench, `${name} ${problem}, got "${v}"`);
  return Number(v);
}
