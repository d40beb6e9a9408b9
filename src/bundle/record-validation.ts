/**
 * Validation of one raw listing object (an API request body, a `carprice predict --input`
 * element) against a bundle's input schema, reporting every bad field by name instead of
 * throwing. Values are read with exactly the rules of `frameFromRecords` (numbers or numeric
 * strings for numeric fields, strings or numbers trimmed for categorical ones, absent / null /
 * "" = missing), so a record gives the same features here as in a frame; on top of those
 * rules it refuses over-long strings and model years in the future.
 */
import type { InputSchema } from './model-bundle.js';

/** One problem with one field of a listing. */
export interface FieldError {
  /** The field's name (`input` when the record itself is not an object). */
  field: string;
  message: string;
}

export interface RecordLimits {
  /** Longest accepted categorical string (after trimming). Default 200. */
  maxStringLength: number;
  /** Largest accepted numeric `year`. Default: the current UTC year + 1 (next model year). */
  maxYear: number;
}

/** The input fields in slot order: numeric (required then optional) and categorical. */
export interface RecordLayout {
  numeric: readonly string[];
  categorical: readonly string[];
  required: ReadonlySet<string>;
}

export function recordLayout(s: InputSchema): RecordLayout {
  return {
    numeric: [...s.numeric, ...s.optionalNumeric],
    categorical: [...s.categorical],
    required: new Set(s.required),
  };
}

export function defaultLimits(now: Date = new Date()): RecordLimits {
  return { maxStringLength: 200, maxYear: now.getUTCFullYear() + 1 };
}

/**
 * Read `r` into `num` (NaN = missing) and `cat` (null = missing), one slot per layout field.
 * Returns the problems found (empty when the record is valid).
 */
export function readRecord(
  r: unknown,
  layout: RecordLayout,
  limits: RecordLimits,
  num: Float64Array,
  cat: (string | null)[],
): FieldError[] {
  const errors: FieldError[] = [];
  if (r === null || typeof r !== 'object' || Array.isArray(r)) {
    errors.push({ field: 'input', message: 'expected an object with the listing fields' });
    return errors;
  }
  const rec = r as Record<string, unknown>;
  const { numeric, categorical, required } = layout;
  for (let k = 0; k < numeric.length; k++) {
    const c = numeric[k];
    const v = rec[c];
    if (v === undefined || v === null || v === '') {
      if (required.has(c)) errors.push({ field: c, message: 'is required (a number)' });
      num[k] = NaN;
    } else {
      const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
      if (!Number.isFinite(x)) errors.push({ field: c, message: `expected a number, got ${preview(v)}` });
      else if (x < 0) errors.push({ field: c, message: `must not be negative, got ${x}` });
      num[k] = x;
    }
  }
  for (let k = 0; k < categorical.length; k++) {
    const c = categorical[k];
    const v = rec[c];
    cat[k] = null;
    if (v === undefined || v === null || v === '') {
      if (required.has(c)) errors.push({ field: c, message: 'is required (a string)' });
    } else if (typeof v === 'string' || typeof v === 'number') {
      const s = String(v).trim();
      if (s.length > limits.maxStringLength)
        errors.push({ field: c, message: `is longer than ${limits.maxStringLength} characters (${s.length})` });
      else if (c === 'year' && Number(s) > limits.maxYear)
        errors.push({ field: c, message: `must not be in the future (latest ${limits.maxYear}), got ${s}` });
      cat[k] = s;
    } else errors.push({ field: c, message: `expected a string, got ${preview(v)}` });
  }
  return errors;
}

/** A short JSON rendering of a bad value for a message. */
function preview(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** One line naming every bad field, e.g. `odometer: must not be negative, got -5; make: is required (a string)`. */
export function describeErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}
