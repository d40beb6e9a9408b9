/**
 * A small validation kit for data read at the edges (params.yaml, CLI flags, files, HTTP
 * bodies that are not JSON-schema validated). Every check reports every problem with its
 * path (`data_ingestion.test_size: expected a number between 0 and 1, got "abc"`),
 * instead of stopping at the first.
 */
import { AppError, type ErrorCode } from './errors.js';
import { scalarText } from './text.js';

/** One problem found by a validator. */
export interface Issue {
  path: string;
  message: string;
}

/** A validator turns unknown input into T, pushing issues for what is wrong. */
export type Validator<T> = (value: unknown, path: string, issues: Issue[]) => T;

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? s.slice(0, 77) + '...' : s;
  } catch {
    return scalarText(v);
  }
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

export const v = {
  number(
    opts: { min?: number; max?: number; int?: boolean; exclusiveMin?: boolean; exclusiveMax?: boolean } = {},
  ): Validator<number> {
    return (x, path, issues) => {
      const n = typeof x === 'string' && x.trim() !== '' ? Number(x) : x;
      const bounds =
        opts.min !== undefined || opts.max !== undefined
          ? ` ${opts.min !== undefined ? (opts.exclusiveMin ? `> ${opts.min}` : `>= ${opts.min}`) : ''}${opts.min !== undefined && opts.max !== undefined ? ' and ' : ''}${opts.max !== undefined ? (opts.exclusiveMax ? `< ${opts.max}` : `<= ${opts.max}`) : ''}`
          : '';
      const want = `${opts.int ? 'an integer' : 'a number'}${bounds}`;
      if (typeof n !== 'number' || !Number.isFinite(n)) {
        issues.push({ path, message: `expected ${want}, got ${show(x)}` });
        return NaN;
      }
      if (
        (opts.int && !Number.isInteger(n)) ||
        (opts.min !== undefined && (opts.exclusiveMin ? n <= opts.min : n < opts.min)) ||
        (opts.max !== undefined && (opts.exclusiveMax ? n >= opts.max : n > opts.max))
      ) {
        issues.push({ path, message: `expected ${want}, got ${show(x)}` });
      }
      return n;
    };
  },
  string(opts: { nonEmpty?: boolean; pattern?: RegExp } = {}): Validator<string> {
    return (x, path, issues) => {
      if (typeof x !== 'string' && typeof x !== 'number') {
        issues.push({ path, message: `expected a string, got ${show(x)}` });
        return '';
      }
      const s = String(x);
      if (opts.nonEmpty && s.length === 0) issues.push({ path, message: 'must not be empty' });
      if (opts.pattern && !opts.pattern.test(s))
        issues.push({ path, message: `${show(s)} does not match ${opts.pattern}` });
      return s;
    };
  },
  boolean(): Validator<boolean> {
    return (x, path, issues) => {
      if (typeof x === 'boolean') return x;
      if (x === 'true') return true;
      if (x === 'false') return false;
      issues.push({ path, message: `expected true or false, got ${show(x)}` });
      return false;
    };
  },
  oneOf<const T extends string>(values: readonly T[]): Validator<T> {
    return (x, path, issues) => {
      if (typeof x !== 'string' || !(values as readonly string[]).includes(x)) {
        issues.push({ path, message: `expected one of ${values.join(', ')}, got ${show(x)}` });
        return values[0];
      }
      return x as T;
    };
  },
  array<T>(item: Validator<T>, opts: { minLength?: number } = {}): Validator<T[]> {
    return (x, path, issues) => {
      if (!Array.isArray(x)) {
        issues.push({ path, message: `expected a list, got ${show(x)}` });
        return [];
      }
      if (opts.minLength !== undefined && x.length < opts.minLength)
        issues.push({ path, message: `expected at least ${opts.minLength} item(s), got ${x.length}` });
      return x.map((e, i) => item(e, join(path, i), issues));
    };
  },
  optional<T>(inner: Validator<T>, fallback: T): Validator<T> {
    return (x, path, issues) => (x === undefined || x === null ? fallback : inner(x, path, issues));
  },
  maybe<T>(inner: Validator<T>): Validator<T | undefined> {
    return (x, path, issues) => (x === undefined || x === null ? undefined : inner(x, path, issues));
  },
  /** A map of string keys to values of one type. */
  record<T>(inner: Validator<T>): Validator<Record<string, T>> {
    return (x, path, issues) => {
      if (x === null || typeof x !== 'object' || Array.isArray(x)) {
        issues.push({ path, message: `expected a mapping, got ${show(x)}` });
        return {};
      }
      const out: Record<string, T> = {};
      for (const [k, e] of Object.entries(x)) out[k] = inner(e, join(path, k), issues);
      return out;
    };
  },
  /** An object with known keys; unknown keys are reported unless `open` is set. */
  object<S extends Record<string, Validator<unknown>>>(
    shape: S,
    opts: { open?: boolean } = {},
  ): Validator<{ [K in keyof S]: ReturnType<S[K]> }> {
    return (x, path, issues) => {
      if (x === null || typeof x !== 'object' || Array.isArray(x)) {
        issues.push({ path: path || '(root)', message: `expected a mapping, got ${show(x)}` });
        x = {};
      }
      const obj = x as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(shape)) out[key] = shape[key](obj[key], join(path, key), issues);
      if (!opts.open) {
        for (const key of Object.keys(obj))
          if (!(key in shape))
            issues.push({ path: join(path, key), message: `unknown key (known: ${Object.keys(shape).join(', ')})` });
      } else {
        for (const key of Object.keys(obj)) if (!(key in shape)) out[key] = obj[key];
      }
      return out as { [K in keyof S]: ReturnType<S[K]> };
    };
  },
  /** An object whose absence means "all defaults": validates `{}` when the value is missing. */
  section<S extends Record<string, Validator<unknown>>>(
    shape: S,
    opts: { open?: boolean } = {},
  ): Validator<{ [K in keyof S]: ReturnType<S[K]> }> {
    const inner = v.object(shape, opts);
    return (x, path, issues) => inner(x ?? {}, path, issues);
  },
  required<T>(inner: Validator<T>): Validator<T> {
    return (x, path, issues) => {
      if (x === undefined || x === null) {
        issues.push({ path, message: 'is required' });
      }
      return inner(x, path, issues);
    };
  },
};

/**
 * Run a validator and throw one AppError listing every issue when there are any.
 * `where` names the source (a file name, "--set flags", "request body").
 */
export function parseWith<T>(
  validator: Validator<T>,
  value: unknown,
  where: string,
  code: ErrorCode = 'CONFIG_INVALID',
): T {
  const issues: Issue[] = [];
  const out = validator(value, '', issues);
  if (issues.length > 0) {
    const lines = issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`);
    throw new AppError(code, `${where} has ${issues.length} problem(s):\n${lines.join('\n')}`, { details: { issues } });
  }
  return out;
}

// ------------------------------------------------------------ estimator hyper-parameters

/**
 * One declared hyper-parameter of an estimator: its type, default and allowed values.
 * `nullMeans`: YAML `null` is accepted and stands for that value (e.g. max_depth: null =
 * unlimited). Numbers may arrive as numeric strings (CLI `--set` values).
 */
export type ParamSpec =
  | { type: 'int' | 'number'; default: number; min?: number; max?: number; exclusiveMin?: boolean; nullMeans?: number }
  | { type: 'bool'; default: boolean }
  | { type: 'enum'; default: string; values: readonly string[] }
  /** A number in a range, or one of a few named values (e.g. max_features: 'sqrt'). */
  | {
      type: 'numberOrEnum';
      default: number | string;
      min: number;
      max?: number;
      exclusiveMin?: boolean;
      values: readonly string[];
    };

type ParamValue<S> = S extends { type: 'int' | 'number' }
  ? number
  : S extends { type: 'bool' }
    ? boolean
    : S extends { type: 'enum' }
      ? string
      : number | string;

/** Resolved hyper-parameters: every declared name present, typed by its spec. */
export type ResolvedParams<S extends Readonly<Record<string, ParamSpec>> = Record<string, ParamSpec>> = {
  -readonly [K in keyof S]: ParamValue<S[K]>;
};

function describeParam(spec: ParamSpec): string {
  const range = (min: number | undefined, max: number | undefined, exclusive: boolean | undefined) => {
    if (min !== undefined && max !== undefined && !exclusive) return `from ${min} to ${max}`;
    return [min !== undefined ? `${exclusive ? '>' : '>='} ${min}` : '', max !== undefined ? `<= ${max}` : '']
      .filter(Boolean)
      .join(' and ');
  };
  switch (spec.type) {
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.map((x) => JSON.stringify(x)).join(', ')}`;
    case 'numberOrEnum':
      return `a number ${range(spec.min, spec.max, spec.exclusiveMin)} or one of ${spec.values.map((x) => JSON.stringify(x)).join(', ')}`;
    default:
      return [
        spec.type === 'int' ? 'an integer' : 'a number',
        range(spec.min, spec.max, spec.exclusiveMin),
        spec.nullMeans !== undefined ? '(or null)' : '',
      ]
        .filter(Boolean)
        .join(' ');
  }
}

function inRange(n: number, min: number | undefined, max: number | undefined, exclusive: boolean | undefined): boolean {
  return (
    Number.isFinite(n) && (min === undefined || (exclusive ? n > min : n >= min)) && (max === undefined || n <= max)
  );
}

/**
 * Check an estimator's hyper-parameters against its specs: fills defaults, maps aliases
 * (seed -> random_state; giving both is an error) and reports every unknown name and bad
 * value at once in one AppError('USAGE') naming the estimator (`owner`), the parameter,
 * what is allowed and what was given.
 */
export function resolveParams<S extends Readonly<Record<string, ParamSpec>>>(
  owner: string,
  specs: S,
  input: Readonly<Record<string, unknown>> | undefined,
  aliases: Readonly<Record<string, string>> = {},
): ResolvedParams<S> {
  const names = Object.keys(specs);
  const problems: string[] = [];
  const out: Record<string, number | string | boolean> = {};
  for (const name of names) out[name] = specs[name].default;
  const seen = new Set<string>();
  for (const rawName of Object.keys(input ?? {}).sort()) {
    const value = input![rawName];
    if (value === undefined) continue;
    const name = aliases[rawName] ?? rawName;
    const spec = specs[name] as ParamSpec | undefined;
    if (!spec) {
      problems.push(
        `unknown parameter "${rawName}" (allowed: ${names.length ? [...names].sort().join(', ') : 'none'})`,
      );
      continue;
    }
    if (seen.has(name)) {
      problems.push(`parameter "${name}" is given twice (also as an alias); keep one`);
      continue;
    }
    seen.add(name);
    const num = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    let ok = false;
    switch (spec.type) {
      case 'bool':
        ok = typeof value === 'boolean';
        if (ok) out[name] = value as boolean;
        break;
      case 'enum':
        ok = typeof value === 'string' && spec.values.includes(value);
        if (ok) out[name] = value as string;
        break;
      case 'numberOrEnum':
        if (typeof value === 'string' && spec.values.includes(value)) {
          ok = true;
          out[name] = value;
        } else if (typeof num === 'number' && inRange(num, spec.min, spec.max, spec.exclusiveMin)) {
          ok = true;
          out[name] = num;
        }
        break;
      default:
        if (value === null && spec.nullMeans !== undefined) {
          ok = true;
          out[name] = spec.nullMeans;
        } else if (
          typeof num === 'number' &&
          (spec.type !== 'int' || Number.isInteger(num)) &&
          inRange(num, spec.min, spec.max, spec.exclusiveMin)
        ) {
          ok = true;
          out[name] = num;
        }
    }
    if (!ok) problems.push(`parameter "${name}" must be ${describeParam(spec)}, got ${show(value)}`);
  }
  if (problems.length)
    throw new AppError('USAGE', `${owner}: ${problems.join('; ')}`, { details: { owner, problems } });
  return out as ResolvedParams<S>;
}
