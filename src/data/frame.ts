/**
 * Frame: validated listings held column by column. Numeric columns are Float64Array
 * (NaN = missing), categorical columns are string arrays (null = missing). Rows never
 * become objects in the hot paths.
 */
import { AppError } from '../core/errors.js';

/** A numeric column: float64 (NaN = missing), or uint8 for 0/1 indicator columns (never missing). */
export type NumericColumn = Float64Array | Uint8Array;

export interface Frame {
  readonly nRows: number;
  readonly numeric: Readonly<Record<string, NumericColumn>>;
  readonly categorical: Readonly<Record<string, (string | null)[]>>;
}

/** Column names of a frame, numeric first, each group in insertion order. */
export function frameColumns(f: Frame): string[] {
  return [...Object.keys(f.numeric), ...Object.keys(f.categorical)];
}

/** Rows of a frame at the given indices. */
export function takeFrameRows(f: Frame, idx: ArrayLike<number>): Frame {
  const numeric: Record<string, Float64Array> = {};
  const categorical: Record<string, (string | null)[]> = {};
  for (const [k, col] of Object.entries(f.numeric)) {
    const out = new Float64Array(idx.length);
    for (let i = 0; i < idx.length; i++) out[i] = col[idx[i]];
    numeric[k] = out;
  }
  for (const [k, col] of Object.entries(f.categorical)) {
    const out = new Array<string | null>(idx.length);
    for (let i = 0; i < idx.length; i++) out[i] = col[idx[i]];
    categorical[k] = out;
  }
  return { nRows: idx.length, numeric, categorical };
}

/** Rows [start, end) of a frame: `takeFrameRows` of those indices (float64 copies, category arrays), by block copies. */
export function sliceFrameRows(f: Frame, start: number, end: number): Frame {
  const numeric: Record<string, Float64Array> = {};
  const categorical: Record<string, (string | null)[]> = {};
  for (const [k, col] of Object.entries(f.numeric)) {
    const out = new Float64Array(end - start);
    out.set(col.subarray(start, end));
    numeric[k] = out;
  }
  for (const [k, col] of Object.entries(f.categorical)) categorical[k] = col.slice(start, end);
  return { nRows: end - start, numeric, categorical };
}

/** Take elements of a vector at the given indices. */
export function takeValues(v: Float64Array, idx: ArrayLike<number>): Float64Array {
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = v[idx[i]];
  return out;
}

/**
 * Build a frame from row objects (prediction requests). Numeric fields accept numbers or
 * numeric strings; categorical fields accept strings or numbers. Every bad field of every
 * row is reported at once with its path (`[3].odometer`).
 */
export function frameFromRecords(
  records: readonly Record<string, unknown>[],
  schema: { numeric: readonly string[]; categorical: readonly string[]; required: readonly string[] },
): Frame {
  const problems: string[] = [];
  const n = records.length;
  const numeric: Record<string, Float64Array> = {};
  const categorical: Record<string, (string | null)[]> = {};
  const required = new Set(schema.required);
  for (const c of schema.numeric) numeric[c] = new Float64Array(n);
  for (const c of schema.categorical) categorical[c] = new Array<string | null>(n).fill(null);
  records.forEach((r, i) => {
    const at = n > 1 ? `[${i}].` : '';
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      problems.push(`${n > 1 ? `[${i}]` : 'input'}: expected an object with the listing fields`);
      return;
    }
    for (const c of schema.numeric) {
      const v = r[c];
      if (v === undefined || v === null || v === '') {
        if (required.has(c)) problems.push(`${at}${c}: is required (a number)`);
        numeric[c][i] = NaN;
      } else {
        const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
        if (!Number.isFinite(x)) problems.push(`${at}${c}: expected a number, got ${JSON.stringify(v)}`);
        else if (x < 0) problems.push(`${at}${c}: must not be negative, got ${x}`);
        numeric[c][i] = x;
      }
    }
    for (const c of schema.categorical) {
      const v = r[c];
      if (v === undefined || v === null || v === '') {
        if (required.has(c)) problems.push(`${at}${c}: is required (a string)`);
      } else if (typeof v === 'string' || typeof v === 'number') categorical[c][i] = String(v).trim();
      else problems.push(`${at}${c}: expected a string, got ${JSON.stringify(v)}`);
    }
  });
  if (problems.length)
    throw new AppError('INPUT_INVALID', `invalid listing input (${problems.length} problem(s)):\n  ${problems.slice(0, 50).join('\n  ')}`, {
      details: { problems },
    });
  return { nRows: n, numeric, categorical };
}
