/**
 * The prediction API of a model bundle for one listing at a time (the HTTP service and
 * `carprice predict`): `bundle.compilePredictor()` returns a Predictor whose
 * `predictOne(record)` validates a raw listing object and prices it, and whose
 * `predictMany(records)` does so for each record independently. Neither throws for bad
 * input: a row's result is either `{ok: true, price, interval, unknownCategories}` or
 * `{ok: false, errors: [{field, message}]}` naming every bad field of that row.
 *
 * Prices are bit for bit those of `bundle.predictFrame` on the same listings (tested on
 * every test listing of the real dataset).
 */
import { AppError } from '../core/errors.js';
import type { Frame } from '../data/frame.js';
import { newStats } from '../features/transformer.js';
import type { ModelBundle } from './model-bundle.js';
import { defaultLimits, readRecord, recordLayout, type FieldError, type RecordLayout, type RecordLimits } from './record-validation.js';

export type { FieldError, RecordLimits } from './record-validation.js';

/** A price range holding the true price with probability `level` (split-conformal). */
export interface PredictionInterval {
  lower: number;
  upper: number;
  level: number;
}

export interface PredictionOk {
  ok: true;
  /** Predicted price (original currency, not rounded). */
  price: number;
  /** null when the bundle carries no calibration (bundles saved before format 2). */
  interval: PredictionInterval | null;
  /** Input fields whose value was never seen in training (still priced; a warning). */
  unknownCategories: string[];
}

export interface PredictionFailed {
  ok: false;
  errors: FieldError[];
}

export type RowPrediction = PredictionOk | PredictionFailed;

export interface PredictorOptions {
  /** Validation limits beyond the schema (string length, latest model year). */
  limits?: Partial<RecordLimits>;
  /** The clock for the latest accepted year (default now). */
  now?: Date;
}

/** A bundle compiled for one-listing prediction. */
export class Predictor {
  private readonly layout: RecordLayout;
  private readonly limits: RecordLimits;
  private readonly num: Float64Array;
  private readonly cat: (string | null)[];

  constructor(
    readonly bundle: ModelBundle,
    o: PredictorOptions = {},
  ) {
    this.layout = recordLayout(bundle.inputSchema);
    this.limits = { ...defaultLimits(o.now), ...o.limits };
    this.num = new Float64Array(this.layout.numeric.length);
    this.cat = new Array<string | null>(this.layout.categorical.length).fill(null);
  }

  /** Validate and price one raw listing object. */
  predictOne(record: unknown): RowPrediction {
    const errors = readRecord(record, this.layout, this.limits, this.num, this.cat);
    if (errors.length) return { ok: false, errors };
    const stats = newStats();
    const z = this.bundle.predictFrame(this.rowFrame(), stats)[0];
    if (!Number.isFinite(z)) throw new AppError('MODEL_INVALID', `the model gave a non-finite price (${z}) for a valid listing; the model is damaged, retrain it`);
    return { ok: true, price: z, interval: null, unknownCategories: Object.keys(stats.unknownCategories).sort() };
  }

  /** Validate and price each record; one result per record, in order. */
  predictMany(records: readonly unknown[]): RowPrediction[] {
    return records.map((r) => this.predictOne(r));
  }

  private rowFrame(): Frame {
    const numeric: Record<string, Float64Array> = {};
    const categorical: Record<string, (string | null)[]> = {};
    this.layout.numeric.forEach((c, k) => (numeric[c] = Float64Array.of(this.num[k])));
    this.layout.categorical.forEach((c, k) => (categorical[c] = [this.cat[k]]));
    return { nRows: 1, numeric, categorical };
  }
}
