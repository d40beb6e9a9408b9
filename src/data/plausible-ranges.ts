/**
 * Plausible ranges of listing values (params.yaml `ranges`): an odometer of 1e9 km, a
 * fitnessAge of 1e5 years, a model year 2100 or a price of 1e308 is a typo or an attack,
 * not a car, and a model asked about it answers nonsense. Every entry point checks them:
 * training, evaluation and batch prediction files (a value out of range is a bad cell,
 * reported with its row), `--input` listings and the HTTP API (`listingRangeErrors`).
 * Columns without a range are not checked; a missing value is not judged here.
 *
 * The other half of the promise: a price that comes out negative, non-finite or missing is
 * never printed (`priceProblem`); that row gets an error instead.
 */
import { scalarText } from '../core/text.js';

/** Inclusive bounds of one column. */
export interface ValueRange {
  min: number;
  max: number;
}

/** Ranges by column name (a categorical column such as `year` is read as a number). */
export type PlausibleRanges = Readonly<Record<string, Readonly<ValueRange>>>;

/** The problem with `value` of `column`, or undefined when it is within its range (or has none). */
export function rangeProblem(column: string, value: number, ranges: PlausibleRanges): string | undefined {
  const r = ranges[column];
  if (!r || Number.isNaN(value)) return undefined;
  if (value < r.min || value > r.max) return `outside the plausible range ${r.min}..${r.max} (ranges.${column} in params.yaml)`;
  return undefined;
}

/**
 * Range problems of one listing object as an API or `--input` receives it: one
 * `{field, message}` per field out of range. Values that are not numbers are left to the
 * schema check (they are reported there as "expected a number").
 */
export function listingRangeErrors(record: unknown, ranges: PlausibleRanges): { field: string; message: string }[] {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return [];
  const out: { field: string; message: string }[] = [];
  const rec = record as Record<string, unknown>;
  for (const column of Object.keys(ranges)) {
    const v = rec[column];
    if (v === undefined || v === null || v === '' || typeof v === 'boolean') continue;
    const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
    if (!Number.isFinite(x)) {
      if (typeof v === 'string' && Number.isNaN(x)) continue;
      out.push({ field: column, message: `expected a finite number, got ${scalarText(v)}` });
      continue;
    }
    const p = rangeProblem(column, x, ranges);
    if (p) out.push({ field: column, message: `${x} is ${p}` });
  }
  return out;
}

/**
 * Why a predicted price cannot be given to a user (negative, zero, non-finite, missing), or
 * undefined when it is a usable price.
 */
export function priceProblem(price: number | null | undefined): string | undefined {
  if (price === null || price === undefined || Number.isNaN(price)) return 'the model gave no price for this listing';
  if (!Number.isFinite(price)) return 'the model gave an infinite price for this listing';
  if (price <= 0) return `the model gave a price of ${price} (not positive) for this listing; its values are probably outside what the model was trained on`;
  return undefined;
}
