/**
 * Read and validate a listings file with the columns params.yaml chooses: the common first
 * step of ingest, train, evaluate and batch predict.
 */
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import type { Logger } from '../core/logger.js';
import { buildListingSchema, type ListingSchema } from '../data/listing-schema.js';
import { readTable } from '../data/read.js';
import { describeReport, validateListings, type ValidatedListings } from '../data/validate.js';

export interface LoadListingsOptions {
  params: Params;
  env?: Env;
  logger?: Logger;
  signal?: AbortSignal;
  /** Whether rows need a price (false for batch prediction). */
  requireTarget?: boolean;
  /** Report sink for the validation summary (stderr in the CLI). */
  onReport?: (summary: string) => void;
}

/** The listing schema params.yaml describes. */
export function schemaFromParams(params: Params): ListingSchema {
  return buildListingSchema({
    target: params.base.target_col,
    numeric: params.data_ingestion.numerical_cols,
    categorical: params.data_ingestion.categorical_cols,
    optionalNumeric: params.data_ingestion.optional_cols,
  });
}

/** Read + validate a listings file. */
export async function loadListings(source: string, o: LoadListingsOptions): Promise<ValidatedListings> {
  const table = await readTable(source, { env: o.env, signal: o.signal, sheet: o.params.data_source.sheet });
  const v = validateListings(table, schemaFromParams(o.params), {
    maxInvalidFraction: o.params.data_ingestion.max_invalid_fraction,
    dropDuplicates: o.params.data_ingestion.drop_duplicates,
    requireTarget: o.requireTarget ?? true,
  });
  o.logger?.debug({ report: { ...v.report, badCells: v.report.badCells.length } }, 'listings validated');
  o.onReport?.(describeReport(v.report));
  return v;
}
