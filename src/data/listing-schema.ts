/**
 * The listing schema: which columns of a listings file are the target and the features.
 *
 * Column choice (and a warning): the cars24 file has 39 columns. The loan-offer columns
 * (emiStartingValue, emiEndingValue, emiOriginal*, roi*, cashDownPayment, avgEmi) are
 * computed FROM the listing price (emiStartingValue is about 2% of listingPrice), so using
 * them as features leaks the target: a model would look excellent offline and be useless
 * for a new car that has no price yet. They are never features; `LEAKY_COLUMNS` lists them
 * and `buildListingSchema` refuses them.
 */
import { AppError } from '../core/errors.js';
import { SEED_CATEGORICAL, SEED_NUMERIC } from '../config/seed-columns.js';

/** Target column of the seed dataset. */
export const DEFAULT_TARGET = 'listingPrice';

export { EQUIPMENT_FLAGS, SEED_CATEGORICAL, SEED_NUMERIC } from '../config/seed-columns.js';

/** Columns derived from the price itself: never features (target leakage). */
export const LEAKY_COLUMNS = [
  'cashDownPayment',
  'emiStartingValue',
  'emiEndingValue',
  'roiMinDiscounted',
  'roiMaxDiscounted',
  'roiMinOriginal',
  'roiMaxOriginal',
  'emiOriginalStartingValue',
  'emiOriginalEndingValue',
  'avgEmi',
] as const;

/** Categorical columns allowed to be missing in a listing (imputed); others are required. */
export const NULLABLE_CATEGORICAL = ['color'] as const;

export interface ListingSchema {
  target: string;
  /** Required numeric features. */
  numeric: string[];
  /** Required categorical features. */
  categorical: string[];
  /** Numeric features used when the file has them (equipment flags); absent = skipped. */
  optionalNumeric: string[];
  /** Per numeric column, the smallest valid value (e.g. 0 for odometer). */
  minimum: Record<string, number>;
}

export interface ListingSchemaOptions {
  target?: string;
  numeric?: readonly string[];
  categorical?: readonly string[];
  optionalNumeric?: readonly string[];
}

/** Build a schema from params (seed defaults), refusing leaky and overlapping columns. */
export function buildListingSchema(opts: ListingSchemaOptions = {}): ListingSchema {
  const target = opts.target ?? DEFAULT_TARGET;
  const numeric = [...(opts.numeric ?? SEED_NUMERIC)];
  const categorical = [...(opts.categorical ?? SEED_CATEGORICAL)];
  const optionalNumeric = [...(opts.optionalNumeric ?? [])];
  const all = [...numeric, ...categorical, ...optionalNumeric];
  const leaky = all.filter((c) => (LEAKY_COLUMNS as readonly string[]).includes(c));
  if (leaky.length)
    throw new AppError(
      'CONFIG_INVALID',
      `${leaky.join(', ')} cannot be features: they are computed from ${target} (target leakage); remove them from data_ingestion columns`,
    );
  if (all.includes(target)) throw new AppError('CONFIG_INVALID', `the target ${target} is also listed as a feature; remove it from the feature columns`);
  const seen = new Set<string>();
  for (const c of all) {
    if (seen.has(c)) throw new AppError('CONFIG_INVALID', `column ${c} is listed twice among the feature columns`);
    seen.add(c);
  }
  const minimum: Record<string, number> = {};
  for (const c of [...numeric, ...optionalNumeric]) minimum[c] = 0;
  return { target, numeric, categorical, optionalNumeric, minimum };
}
