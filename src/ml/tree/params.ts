/**
 * Hyper-parameter checking for the tree estimators. Each estimator declares its params
 * (type, range, default); `resolveParams` fills defaults, maps aliases (seed ->
 * random_state, ...) and rejects unknown names and bad values with AppError('USAGE')
 * naming the param and what is allowed, reporting every problem at once.
 */
import { AppError } from '../../core/errors.js';

/** One declared hyper-parameter. */
export type ParamSpec =
  | { type: 'int'; default: number; min?: number; max?: number; nullMeans?: number; doc?: string }
  | { type: 'number'; default: number; min?: number; max?: number; minExclusive?: boolean; nullMeans?: number; doc?: string }
  | { type: 'bool'; default: boolean }
  | { type: 'enum'; default: string; values: readonly string[] }
  /** A number in a range, or one of a few named values (e.g. max_features: 'sqrt'). */
  | { type: 'numberOrEnum'; default: number | string; min: number; max?: number; minExclusive?: boolean; values: readonly string[] };

/** Resolved params: every declared name present. */
export type ResolvedParams = Record<string, number | string | boolean>;

function describe(spec: ParamSpec): string {
  switch (spec.type) {
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'numberOrEnum':
      return `a number ${spec.minExclusive ? '>' : '>='} ${spec.min}${spec.max !== undefined ? ` and <= ${spec.max}` : ''} or one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default: {
      const kind = spec.type === 'int' ? 'an integer' : 'a number';
      const lo = spec.min !== undefined ? `${spec.type === 'number' && spec.minExclusive ? '>' : '>='} ${spec.min}` : '';
      const hi = spec.max !== undefined ? `<= ${spec.max}` : '';
      return [kind, [lo, hi].filter(Boolean).join(' and '), spec.nullMeans !== undefined ? `(or null)` : ''].filter(Boolean).join(' ');
    }
  }
}

function show(x: unknown): string {
  return typeof x === 'string' ? JSON.stringify(x) : String(x);
}

/**
 * Check `input` against `specs`. `owner` names the estimator in messages. Aliases map
 * alternative names to declared ones (giving both is an error).
 */
export function resolveParams(
  owner: string,
  specs: Record<string, ParamSpec>,
  input: Record<string, unknown> | undefined,
  aliases: Record<string, string> = {},
): ResolvedParams {
  const problems: string[] = [];
  const out: ResolvedParams = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = spec.default;
  const seen = new Set<string>();
  for (const [rawName, value] of Object.entries(input ?? {})) {
    if (value === undefined) continue;
    const name = aliases[rawName] ?? rawName;
    const spec = specs[name];
    if (!spec) {
      problems.push(`unknown parameter "${rawName}"; allowed: ${Object.keys(specs).sort().join(', ')}`);
      continue;
    }
    if (seen.has(name)) {
      problems.push(`parameter "${name}" is given twice (also as an alias); keep one`);
      continue;
    }
    seen.add(name);
    const bad = () => problems.push(`parameter ${name} must be ${describe(spec)}, got ${show(value)}`);
    switch (spec.type) {
      case 'bool':
        if (typeof value !== 'boolean') bad();
        else out[name] = value;
        break;
      case 'enum':
        if (typeof value !== 'string' || !spec.values.includes(value)) bad();
        else out[name] = value;
        break;
      case 'numberOrEnum':
        if (typeof value === 'string' && spec.values.includes(value)) out[name] = value;
        else if (
          typeof value !== 'number' ||
          !Number.isFinite(value) ||
          (spec.minExclusive ? value <= spec.min : value < spec.min) ||
          (spec.max !== undefined && value > spec.max)
        )
          bad();
        else out[name] = value;
        break;
      default: {
        if (value === null && spec.nullMeans !== undefined) {
          out[name] = spec.nullMeans;
          break;
        }
        if (
          typeof value !== 'number' ||
          !Number.isFinite(value) ||
          (spec.type === 'int' && !Number.isInteger(value)) ||
          (spec.min !== undefined && (spec.type === 'number' && spec.minExclusive ? value <= spec.min : value < spec.min)) ||
          (spec.max !== undefined && value > spec.max)
        )
          bad();
        else out[name] = value;
      }
    }
  }
  if (problems.length) throw new AppError('USAGE', `${owner}: ${problems.join('; ')}`, { details: { problems } });
  return out;
}

/** Features tried per split for a max_features value ('sqrt', 'log2', fraction or count). */
export function featuresPerSplit(maxFeatures: number | string, nFeatures: number): number {
  let k: number;
  if (maxFeatures === 'sqrt') k = Math.floor(Math.sqrt(nFeatures));
  else if (maxFeatures === 'log2') k = Math.floor(Math.log2(nFeatures));
  else if (typeof maxFeatures === 'number' && maxFeatures <= 1) k = Math.floor(maxFeatures * nFeatures);
  else k = Math.floor(Number(maxFeatures));
  return Math.max(1, Math.min(nFeatures, k));
}
