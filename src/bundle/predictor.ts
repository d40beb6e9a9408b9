/**
 * The prediction API of a model bundle for one listing at a time (the HTTP service and
 * `carprice predict`): `bundle.compilePredictor()` returns a Predictor whose
 * `predictOne(record)` validates a raw listing object and prices it, and whose
 * `predictMany(records)` does so for each record independently, and `predictBatch(records)`
 * gives the same results for a batch at less CPU per listing (the batch's valid rows walk
 * the trees together, compiled to WebAssembly: the first call compiles them). None throws for bad
 * input: a row's result is either `{ok: true, price, interval, unknownCategories}` or
 * `{ok: false, errors: [{field, message}]}` naming every bad field of that row.
 *
 * Prices are bit for bit those of `bundle.predictFrame` on the same listings (tested on
 * every test listing of the real dataset).
 */
import { AppError } from '../core/errors.js';
import { BatchScorer } from './batch-scorer.js';
import { CompiledMember } from './compiled-member.js';
import { intervalOf, type PredictionInterval } from './calibration.js';
import { contributionList, MemberExplainer, type Contribution } from './explanation.js';
import type { TargetTransformName } from '../features/target-transform.js';
import type { ModelBundle } from './model-bundle.js';
import {
  defaultLimits,
  readRecord,
  recordLayout,
  type FieldError,
  type RecordLayout,
  type RecordLimits,
} from './record-validation.js';

export type { FieldError, RecordLimits } from './record-validation.js';
export type { Contribution } from './explanation.js';

export type { PredictionInterval } from './calibration.js';

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

/** A price with per-feature contributions that add up to the model output (explanation.ts). */
export interface ExplanationOk extends PredictionOk {
  /** The model's target space: contributions add up to `value` there (log1p(price) for the log target). */
  space: TargetTransformName;
  /** The model output for this listing (target space): base.value + sum of contributions. */
  value: number;
  /** The expected output with no feature known, and its price. */
  base: { value: number; price: number };
  /** By listing field, largest |value| first. */
  contributions: Contribution[];
}

export type RowExplanation = ExplanationOk | PredictionFailed;

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
  private readonly members: CompiledMember[];
  private readonly weights: Float64Array;
  private readonly logTarget: boolean;
  /** The bundle's output offset (bias-correction.ts), added after the members' weighted sum. */
  private readonly offset: number;
  private explainers: MemberExplainer[] | undefined;
  private batch: { scorer: BatchScorer; numeric: Float64Array[]; categorical: (string | null)[][] } | undefined;

  constructor(
    readonly bundle: ModelBundle,
    o: PredictorOptions = {},
  ) {
    this.layout = recordLayout(bundle.inputSchema);
    this.limits = { ...defaultLimits(o.now), ...o.limits };
    this.num = new Float64Array(this.layout.numeric.length);
    this.cat = new Array<string | null>(this.layout.categorical.length).fill(null);
    this.members = bundle.members.map((m) => new CompiledMember(m, this.layout));
    this.weights = Float64Array.from(bundle.members, (m) => m.weight);
    this.logTarget = bundle.targetTransform === 'log1p';
    this.offset = bundle.outputOffset;
  }

  /** True when explainOne works (tree members of bundles before format 2 lack node covers). */
  get canExplain(): boolean {
    return this.members.every((m) => MemberExplainer.supports(m));
  }

  /**
   * Validate, price and explain one raw listing: per-feature contributions (TreeSHAP for
   * trees, coefficient x value for linear models, weighted for a blend) adding up to the
   * model output. Throws MODEL_INVALID when !canExplain.
   */
  explainOne(record: unknown): RowExplanation {
    const errors = readRecord(record, this.layout, this.limits, this.num, this.cat);
    if (errors.length) return { ok: false, errors };
    this.explainers ??= this.members.map((m) => new MemberExplainer(m));
    const unknown: string[] = [];
    const z = this.score(unknown);
    const into = new Map<string, number>();
    let base = 0;
    // score() left every member's row in place: explain each from it
    for (let m = 0; m < this.members.length; m++) base += this.explainers[m].explain(this.weights[m], into);
    // the output offset belongs to no feature: it is part of the base
    if (this.offset !== 0) base += this.offset;
    const inv = this.logTarget ? Math.expm1 : (v: number) => v;
    const price = inv(z);
    const cal = this.bundle.calibration;
    return {
      ok: true,
      price,
      interval: cal ? intervalOf(z, cal, this.bundle.targetTransform) : null,
      unknownCategories: distinctSorted(unknown),
      space: this.bundle.targetTransform,
      value: z,
      ...contributionList(into, base, z, inv),
    };
  }

  /** Validate and price one raw listing object. */
  predictOne(record: unknown): RowPrediction {
    const errors = readRecord(record, this.layout, this.limits, this.num, this.cat);
    if (errors.length) return { ok: false, errors };
    const unknown: string[] = [];
    const z = this.score(unknown);
    const price = this.logTarget ? Math.expm1(z) : z;
    if (!Number.isFinite(price))
      throw new AppError(
        'MODEL_INVALID',
        `the model gave a non-finite price (${price}) for a valid listing; the model is damaged, retrain it`,
      );
    const cal = this.bundle.calibration;
    return {
      ok: true,
      price,
      interval: cal ? intervalOf(z, cal, this.bundle.targetTransform) : null,
      unknownCategories: distinctSorted(unknown),
    };
  }

  /** Validate and price each record; one result per record, in order. */
  predictMany(records: readonly unknown[]): RowPrediction[] {
    const out = new Array<RowPrediction>(records.length);
    for (let i = 0; i < records.length; i++) out[i] = this.predictOne(records[i]);
    return out;
  }

  /**
   * Validate and price records as one batch: the results of `predictOne` on each, bit for
   * bit (prices, intervals, unseen fields, per-record errors), for less CPU per listing in
   * batches of more than a few (BatchScorer: the valid rows walk each tree ensemble together,
   * compiled to WebAssembly). The first call builds the batch scorer and compiles the trees
   * (tens of ms for the default blend). Throws only what predictOne throws (a non-finite
   * price: a damaged model).
   */
  predictBatch(records: readonly unknown[]): RowPrediction[] {
    const n = records.length;
    const out = new Array<RowPrediction>(n);
    if (n === 0) return out;
    const b = (this.batch ??= {
      scorer: new BatchScorer(this.bundle),
      numeric: this.layout.numeric.map(() => new Float64Array(0)),
      categorical: this.layout.categorical.map(() => []),
    });
    if (b.numeric.length && b.numeric[0].length < n)
      for (let k = 0; k < b.numeric.length; k++) b.numeric[k] = new Float64Array(Math.max(n, 2 * b.numeric[k].length));
    const skip = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const errors = readRecord(records[i], this.layout, this.limits, this.num, this.cat);
      if (errors.length) {
        out[i] = { ok: false, errors };
        skip[i] = 1;
        continue;
      }
      for (let k = 0; k < this.num.length; k++) b.numeric[k][i] = this.num[k];
      for (let k = 0; k < this.cat.length; k++) b.categorical[k][i] = this.cat[k];
    }
    const unknown = Array.from({ length: n }, () => [] as string[]);
    const z = b.scorer.score(n, b.numeric, b.categorical, skip, undefined, { raw: true, unknownByRow: unknown });
    const cal = this.bundle.calibration;
    for (let i = 0; i < n; i++) {
      if (skip[i]) continue;
      const price = this.logTarget ? Math.expm1(z[i]) : z[i];
      if (!Number.isFinite(price))
        throw new AppError(
          'MODEL_INVALID',
          `the model gave a non-finite price (${price}) for a valid listing; the model is damaged, retrain it`,
        );
      out[i] = {
        ok: true,
        price,
        interval: cal ? intervalOf(z[i], cal, this.bundle.targetTransform) : null,
        unknownCategories: distinctSorted(unknown[i]),
      };
    }
    for (const c of b.categorical) c.length = 0; // no listing's strings kept past the call
    return out;
  }

  /** The blended output in target space, offset included, for the record last read into num/cat. */
  private score(unknown: string[] | null): number {
    let z = 0;
    for (let m = 0; m < this.members.length; m++) {
      const cm = this.members[m];
      cm.rows.run(this.num, this.cat, unknown);
      z += this.weights[m] * cm.evaluate();
    }
    // as bundle.predictFrame: the offset after the weighted sum (and not at all when 0)
    return this.offset === 0 ? z : z + this.offset;
  }
}

function distinctSorted(names: string[]): string[] {
  if (names.length < 2) return names;
  return [...new Set(names)].sort();
}
