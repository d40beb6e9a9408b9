/**
 * JSON schemas of the prediction API: they validate requests at the edge (every problem
 * reported with its field), serialise responses fast, and are the OpenAPI document that
 * /docs renders. The listing schema is the original FastAPI service's request body (12
 * fields, unchanged) plus the optional equipment flags; unknown extra fields are ignored,
 * as pydantic did.
 */
import { EQUIPMENT_FLAGS, NULLABLE_CATEGORICAL, SEED_CATEGORICAL, SEED_NUMERIC } from '../data/listing-schema.js';
import type { PlausibleRanges } from '../data/plausible-ranges.js';

/** The listing used in the docs and to warm a model up. */
export const EXAMPLE_LISTING = Object.freeze({
  odometer: 50000,
  fitnessAge: 10,
  featureCount: 30,
  make: 'Maruti',
  model: 'Swift',
  variant: 'VXI',
  year: 2019,
  transmissionType: 'Manual',
  bodyType: 'Hatchback',
  fuelType: 'Petrol',
  ownership: 1,
  color: 'White',
});

export interface ListingSchemaOptions {
  /** Longest accepted text field. */
  maxStringLength: number;
  /** Latest accepted model year (the current year). */
  maxYear: number;
  /** Plausible ranges of the numeric fields (params.yaml `ranges`). */
  ranges: PlausibleRanges;
}

const ERROR = {
  $id: 'ErrorResponse',
  type: 'object',
  properties: {
    error: { type: 'string', description: 'machine-readable code, e.g. invalid_input, unauthorized, not_ready' },
    message: { type: 'string' },
    field: { type: 'string', description: 'the first offending field, when the request was at fault' },
    problems: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, reason: { type: 'string' } },
        required: ['field', 'reason'],
      },
    },
  },
  required: ['error', 'message'],
} as const;

/** Shared schemas (added with app.addSchema, referenced by $ref). */
export function sharedSchemas(o: ListingSchemaOptions): Record<string, unknown>[] {
  const text = (description: string) => ({ type: 'string', minLength: 1, maxLength: o.maxStringLength, description });
  const flags: Record<string, unknown> = {};
  for (const f of EQUIPMENT_FLAGS)
    flags[f] = { type: 'number', minimum: 0, maximum: 1, description: 'equipment flag, 0 or 1 (optional)' };
  const bounds = (col: string, floor?: number) => {
    const r = o.ranges[col];
    const min = r ? r.min : floor;
    return { ...(min !== undefined ? { minimum: min } : {}), ...(r ? { maximum: r.max } : {}) };
  };
  const yearRange = o.ranges.year;
  const listing = {
    $id: 'Listing',
    type: 'object',
    description: "A used-car listing: the original service's request body, plus optional equipment flags.",
    properties: {
      odometer: { type: 'number', ...bounds('odometer', 0), description: 'kilometres driven' },
      fitnessAge: { type: 'number', ...bounds('fitnessAge', 0), description: 'years of registration fitness left' },
      featureCount: {
        type: 'number',
        ...bounds('featureCount', 0),
        description: 'number of listed equipment features',
      },
      make: text('manufacturer, e.g. Maruti'),
      model: text('model, e.g. Swift'),
      variant: text('variant, e.g. VXI'),
      year: {
        type: 'integer',
        minimum: yearRange?.min ?? 1900,
        maximum: Math.min(o.maxYear, yearRange?.max ?? o.maxYear),
        description: 'model year (not in the future)',
      },
      transmissionType: text('Manual or Automatic'),
      bodyType: text('e.g. Hatchback, Sedan, SUV'),
      fuelType: text('e.g. Petrol, Diesel, CNG, Electric'),
      ownership: { type: 'integer', ...bounds('ownership', 0), description: 'number of previous owners' },
      color: {
        type: ['string', 'null'],
        maxLength: o.maxStringLength,
        description: 'paint colour (optional, may be null)',
      },
      ...flags,
    },
    // the original service's required fields: every seed feature but the nullable colour
    required: [
      ...SEED_NUMERIC,
      ...SEED_CATEGORICAL.filter((c) => !(NULLABLE_CATEGORICAL as readonly string[]).includes(c)),
    ],
    additionalProperties: true,
    examples: [EXAMPLE_LISTING],
  };
  const modelRef = {
    $id: 'ModelRef',
    type: 'object',
    properties: { name: { type: 'string' }, version: { type: ['string', 'null'] } },
    required: ['name', 'version'],
  };
  const warning = {
    $id: 'Warning',
    type: 'object',
    properties: { field: { type: 'string' }, value: { type: 'string' }, message: { type: 'string' } },
    required: ['field', 'value', 'message'],
  };
  const interval = {
    $id: 'Interval',
    type: 'object',
    description:
      'split-conformal prediction interval: the price lies in [lower, upper] for `level` of listings like the held-out ones',
    properties: { lower: { type: 'number' }, upper: { type: 'number' }, level: { type: 'number' } },
    required: ['lower', 'upper', 'level'],
  };
  return [ERROR, listing, modelRef, warning, interval];
}

const rowPrediction = {
  predicted_price: { type: 'number', description: 'INR, rounded to 2 decimals (as the original returned it)' },
  interval: { $ref: 'Interval#' },
  warnings: {
    type: 'array',
    items: { $ref: 'Warning#' },
    description: 'present when a field held a value the model never saw (the price is still given)',
  },
};

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { $ref: 'ErrorResponse#' }]));

export const predictSchema = {
  summary: 'Price one listing',
  tags: ['prediction'],
  body: { $ref: 'Listing#' },
  response: {
    200: {
      type: 'object',
      properties: { ...rowPrediction, model: { $ref: 'ModelRef#' } },
      required: ['predicted_price', 'model'],
    },
    ...errors(400, 401, 413, 415, 422, 429, 503),
  },
};

export function batchSchema(limit: number) {
  return {
    summary: `Price up to ${limit} listings in one request`,
    tags: ['prediction'],
    body: {
      type: 'object',
      properties: { listings: { type: 'array', minItems: 1, maxItems: limit, items: { $ref: 'Listing#' } } },
      required: ['listings'],
    },
    response: {
      200: {
        type: 'object',
        properties: {
          predictions: {
            type: 'array',
            items: { type: 'object', properties: rowPrediction, required: ['predicted_price'] },
          },
          model: { $ref: 'ModelRef#' },
        },
        required: ['predictions', 'model'],
      },
      ...errors(400, 401, 413, 415, 422, 429, 503),
    },
  };
}

export const explainSchema = {
  summary: "Per-feature contributions to one listing's price",
  description:
    'Contributions are in `scale` units (log1p(price) for a log-target model) and sum, with base_value, to the prediction on that scale.',
  tags: ['prediction'],
  body: { $ref: 'Listing#' },
  response: {
    200: {
      type: 'object',
      properties: {
        predicted_price: { type: 'number' },
        base_value: { type: 'number' },
        scale: { type: 'string' },
        contributions: {
          type: 'array',
          items: {
            type: 'object',
            properties: { feature: { type: 'string' }, contribution: { type: 'number' }, value: {} },
            required: ['feature', 'contribution'],
          },
        },
        warnings: { type: 'array', items: { $ref: 'Warning#' } },
        model: { $ref: 'ModelRef#' },
      },
      required: ['predicted_price', 'base_value', 'scale', 'contributions', 'model'],
    },
    ...errors(400, 401, 413, 415, 422, 429, 501, 503),
  },
};

const modelSummary = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: ['string', 'null'] },
    stage: { type: ['string', 'null'] },
    ready: { type: 'boolean' },
  },
};

export const rootSchema = {
  summary: 'Service name, version, model and links (a load balancer may probe it)',
  tags: ['service'],
  response: {
    200: {
      type: 'object',
      properties: {
        service: { type: 'string' },
        version: { type: 'string' },
        worker: { type: ['integer', 'null'], description: 'the worker process that answered (with --workers N)' },
        model: { anyOf: [modelSummary, { type: 'null' }] },
        links: { type: 'object', additionalProperties: { type: 'string' } },
      },
      required: ['service', 'version', 'model', 'links'],
    },
  },
};

export const healthSchema = {
  summary: 'Liveness: the process answers',
  tags: ['service'],
  response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] } },
};

export const readySchema = {
  summary:
    'Readiness: 200 once a model is loaded and a warm-up prediction succeeded, 503 before and while shutting down',
  tags: ['service'],
  response: {
    200: {
      type: 'object',
      properties: { status: { type: 'string' }, model: { $ref: 'ModelRef#' } },
      required: ['status', 'model'],
    },
    503: {
      type: 'object',
      properties: { status: { type: 'string' }, message: { type: 'string' } },
      required: ['status'],
    },
  },
};

export const modelSchema = {
  summary: 'The served model: registry facts, metadata, input schema and model card',
  tags: ['service'],
  response: {
    200: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        version: { type: ['string', 'null'] },
        stage: { type: ['string', 'null'] },
        aliases: { type: 'array', items: { type: 'string' } },
        run_id: { type: ['string', 'null'] },
        source: { type: 'string' },
        origin: { type: 'string' },
        loaded_at: { type: 'string' },
        algo: { type: 'string' },
        created_at: { type: 'string' },
        carprice_version: { type: 'string' },
        training: { type: 'object', additionalProperties: true },
        metrics: { type: 'object', additionalProperties: { type: 'number' } },
        params: { type: 'object', additionalProperties: true },
        input_schema: { type: 'object', additionalProperties: true },
        interval_level: { type: ['number', 'null'] },
        can_explain: { type: 'boolean' },
        model_card: { type: 'object', additionalProperties: true },
      },
      required: ['name', 'version', 'source', 'origin', 'algo'],
    },
    503: { $ref: 'ErrorResponse#' },
  },
};

export const metricsSchema = {
  summary: 'Prometheus metrics (text exposition format)',
  tags: ['service'],
  produces: ['text/plain'],
};
