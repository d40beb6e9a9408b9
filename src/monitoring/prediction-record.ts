/**
 * What monitoring is told and what it keeps: the event the prediction API hands its
 * observer after pricing a request (`ObservedPrediction`, built by serving), and one row of
 * the prediction log per priced listing (`PredictionRecord`), for the champion and, when a
 * shadow challenger runs, for the challenger under the same request id.
 */

/** A listing as the API received it. */
export type ListingInput = Record<string, unknown>;

/** One priced listing as the API answered it. */
export interface ObservedRow {
  price: number;
  interval?: { lower: number; upper: number; level: number };
  warnings: readonly { field: string; value: string }[];
}

/** The model that answered. */
export interface ObservedModel {
  name: string;
  version: string | null;
}

/**
 * What a request's JSON text holds: its listings as an array, the one listing (a /predict
 * or /explain body), or a batch body, an object whose `listings` is the array.
 */
export type JsonShape = 'array' | 'listing' | 'batch';

/**
 * A priced request, handed to the observer after the answer is computed and before it is
 * sent. The observer must only queue work: it runs on the response path.
 */
export interface ObservedPrediction {
  route: string;
  /** The request id echoed in the `x-request-id` response header. */
  requestId: string;
  listings: readonly ListingInput[];
  /**
   * The listings as JSON text, when serving has it at hand for free (the request body as it
   * came in, holding them as `jsonShape` says): what the shadow challenger is handed, never
   * serialised again on the serving thread. Absent: made with JSON.stringify when needed.
   */
  listingsJson?: string;
  /** What `listingsJson` holds (default `array`). */
  jsonShape?: JsonShape;
  rows: readonly ObservedRow[];
  model: ObservedModel;
  /** Milliseconds from the request's arrival to the computed answer. */
  latencyMs: number;
}

export type PredictionRole = 'champion' | 'challenger';

/** One row of the prediction log. */
export interface PredictionRecord {
  /** Unix time, ms. */
  ts: number;
  requestId: string;
  /** Position of the listing in its request (0 for /predict). */
  row: number;
  /** The listing's own id when the request gave one (`listing_id`, `listingId` or `id`). */
  listingId: string | null;
  route: string;
  role: PredictionRole;
  modelName: string;
  modelVersion: string | null;
  /** The price; null when the challenger failed on this listing (see `error`). */
  price: number | null;
  lower: number | null;
  upper: number | null;
  level: number | null;
  latencyMs: number;
  inputs: ListingInput;
  /** Fields whose category value was never seen in training. */
  unseen: string[];
  error: string | null;
}

/** Field names a listing's own id may come under, in order of preference. */
export const LISTING_ID_FIELDS = ['listing_id', 'listingId', 'id'] as const;

export function listingIdOf(l: ListingInput): string | null {
  for (const f of LISTING_ID_FIELDS) {
    const v = l[f];
    if ((typeof v === 'string' && v.trim()) || (typeof v === 'number' && Number.isFinite(v))) return String(v).trim();
  }
  return null;
}

/** The champion's log rows for an observed request. */
export function championRecords(e: ObservedPrediction, ts: number): PredictionRecord[] {
  return e.rows.map((r, i) => ({
    ts,
    requestId: e.requestId,
    row: i,
    listingId: listingIdOf(e.listings[i]),
    route: e.route,
    role: 'champion',
    modelName: e.model.name,
    modelVersion: e.model.version,
    price: r.price,
    lower: r.interval?.lower ?? null,
    upper: r.interval?.upper ?? null,
    level: r.interval?.level ?? null,
    latencyMs: e.latencyMs,
    inputs: e.listings[i],
    unseen: r.warnings.map((w) => w.field),
    error: null,
  }));
}
