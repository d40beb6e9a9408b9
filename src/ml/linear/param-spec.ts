/**
 * Hyper-parameter tables for the linear models and the one validator that reads them.
 * Names follow scikit-learn (`alpha`, `l1_ratio`, `max_iter`, `tol`) so params.yaml and
 * the MLflow run params read like the original project's.
 */
import { AppError } from '../../core/errors.js';

/** One numeric hyper-parameter. */
export interface NumberParamSpec {
  integer?: boolean;
  default: number;
  min?: number;
  /** When true, the value must be strictly greater than `min`. */
  exclusiveMin?: boolean;
  max?: number;
}

/** A model's hyper-parameters by name. */
export type ParamSpecs = Readonly<Record<string, NumberParamSpec>>;

function describe(s: NumberParamSpec): string {
  const what = s.integer ? 'an integer' : 'a number';
  if (s.min !== undefined && s.max !== undefined) return `${what} from ${s.min} to ${s.max}`;
  if (s.min !== undefined) return `${what} ${s.exclusiveMin ? '>' : '>='} ${s.min}`;
  return what;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Resolve hyper-parameters against their specs: fills defaults, accepts numbers and
 * numeric strings (CLI flags), and reports every unknown name and bad value in one
 * AppError('USAGE') whose message names the model, the parameter, the allowed names and
 * the allowed range.
 */
export function resolveParams<K extends string>(
  kind: string,
  specs: Readonly<Record<K, NumberParamSpec>>,
  given: Readonly<Record<string, unknown>> | undefined,
): Record<K, number> {
  const names = Object.keys(specs) as K[];
  const allowed = names.length ? names.join(', ') : 'none';
  const problems: string[] = [];
  const out = {} as Record<K, number>;
  for (const key of Object.keys(given ?? {}).sort()) {
    if (given![key] === undefined) continue;
    if (!(names as string[]).includes(key)) problems.push(`unknown parameter "${key}" (allowed: ${allowed})`);
  }
  for (const name of names) {
    const spec = specs[name];
    const raw = given?.[name];
    if (raw === undefined) {
      out[name] = spec.default;
      continue;
    }
    const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    const ok =
      typeof n === 'number' &&
      Number.isFinite(n) &&
      (!spec.integer || Number.isInteger(n)) &&
      (spec.min === undefined || (spec.exclusiveMin ? n > spec.min : n >= spec.min)) &&
      (spec.max === undefined || n <= spec.max);
    if (!ok) problems.push(`parameter "${name}" must be ${describe(spec)}, got ${show(raw)}`);
    else out[name] = n as number;
  }
  if (problems.length)
    throw new AppError('USAGE', `${kind}: ${problems.join('; ')}`, { details: { kind, problems } });
  return out;
}
