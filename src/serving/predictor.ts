/**
 * The one place the API meets the model: a `ServingPredictor` built from a loaded bundle.
 * Routes only see this interface (predict one listing, many listings, explain one), so
 * swapping the bundle's prediction path (batch frames today, a compiled single-row path
 * when the bundle offers one) changes this file and nothing else.
 *
 * It also knows which category values the model saw at training time (read from the
 * fitted encoders), so a listing with an unseen make/model/variant is still priced (the
 * model falls back on its other features) and flagged with a warning naming the field.
 */
import { AppError } from '../core/errors.js';
import type { ModelBundle } from '../bundle/model-bundle.js';
import type { FieldError, PredictionInterval } from '../bundle/predictor.js';
import { priceProblem } from '../data/plausible-ranges.js';

/** A listing as the API receives it (the original's request shape, plus optional flags). */
export type Listing = Record<string, unknown>;

/** A field whose value the model never saw in training. */
export interface UnknownCategoryWarning {
  field: string;
  value: string;
  message: string;
}

/** A prediction interval (split-conformal), when the bundle carries one. */
export interface PriceInterval {
  lower: number;
  upper: number;
  level: number;
}

export interface RowPrediction {
  price: number;
  interval?: PriceInterval;
  warnings: UnknownCategoryWarning[];
}

export interface FeatureContribution {
  feature: string;
  contribution: number;
  value?: unknown;
}

export interface Explanation {
  /** The price the contributions explain. */
  price: number;
  /** Prediction with no feature information (the model's base value), in the same units. */
  base: number;
  /** Units the contributions are in, e.g. 'log1p(price)' or 'price'. */
  scale: string;
  contributions: FeatureContribution[];
}

export interface ServingPredictor {
  /** Price one listing; throws AppError INPUT_INVALID naming the field on bad input. */
  predictOne(listing: Listing): RowPrediction;
  /** Price many listings; throws AppError INPUT_INVALID naming `[row].field` on bad input. */
  predictMany(listings: readonly Listing[]): RowPrediction[];
  /** Per-feature contributions to one listing's price, when the model can explain itself. */
  explain?(listing: Listing): Explanation;
  /** Coverage of the intervals the predictor gives (e.g. 0.9), when it gives them. */
  readonly intervalLevel?: number;
  /** Input categorical fields checked for unseen values. */
  readonly categoricalFields: readonly string[];
}

/** Category values each input column had at fit time, read from the fitted encoders. */
export function knownCategories(bundle: ModelBundle): Map<string, Set<string>> {
  const known = new Map<string, Set<string>>();
  const inputs = new Set(bundle.inputSchema.categorical);
  const add = (col: string, values: Iterable<string>) => {
    if (!inputs.has(col)) return;
    let s = known.get(col);
    if (!s) known.set(col, (s = new Set()));
    for (const v of values) s.add(v);
  };
  for (const m of bundle.members) {
    const saved = m.features.toJSON();
    for (const step of saved.steps) {
      const cats = step.categories as Record<string, string[]> | undefined;
      if (cats && typeof cats === 'object')
        for (const [c, vals] of Object.entries(cats)) if (Array.isArray(vals)) add(c, vals);
      const enc = step.encodings as Record<string, { values?: Record<string, number> }> | undefined;
      if (enc && typeof enc === 'object')
        for (const [c, e] of Object.entries(enc)) if (e?.values) add(c, Object.keys(e.values));
    }
  }
  return known;
}

function categoryText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number') return String(v);
  return undefined;
}

/** Known values per field, with a case-insensitive index for "did you mean" hints. */
interface KnownValues {
  exact: Set<string>;
  folded: Map<string, string>;
}

function indexKnown(known: Map<string, Set<string>>): Map<string, KnownValues> {
  const out = new Map<string, KnownValues>();
  for (const [field, exact] of known) {
    const folded = new Map<string, string>();
    for (const v of exact) if (!folded.has(v.toLowerCase())) folded.set(v.toLowerCase(), v);
    out.set(field, { exact, folded });
  }
  return out;
}

function warningsFor(listing: Listing, known: Map<string, KnownValues>): UnknownCategoryWarning[] {
  let out: UnknownCategoryWarning[] | undefined;
  for (const [field, k] of known) {
    const v = categoryText(listing[field]);
    if (v !== undefined && !k.exact.has(v)) {
      const hint = k.folded.get(v.toLowerCase());
      (out ??= []).push({
        field,
        value: v,
        message: `${field} '${v}' was not seen in training; the price leans on the listing's other fields${hint ? ` (did you mean '${hint}'?)` : ''}`,
      });
    }
  }
  return out ?? [];
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function checkPrice(p: number, where: string): number {
  const problem = priceProblem(p);
  if (problem) throw new AppError('INPUT_INVALID', `${where}: ${problem}`);
  return round2(p);
}

function rowError(errors: readonly FieldError[], row?: number): AppError {
  const at = (f: string) =>
    row === undefined ? (f === 'input' ? '(body)' : f) : f === 'input' ? `[${row}]` : `[${row}].${f}`;
  const problems = errors.map((e) => `${at(e.field)}: ${e.message}`);
  return new AppError('INPUT_INVALID', `invalid listing: ${problems.join('; ')}`, { details: { problems } });
}

function interval(i: PredictionInterval | null): PriceInterval | undefined {
  return i ? { lower: round2(i.lower), upper: round2(i.upper), level: i.level } : undefined;
}

/**
 * The predictor for a bundle: the bundle's compiled one-listing predictor
 * (`bundle.compilePredictor()`: validation naming every bad field, the price, a conformal
 * interval when the bundle is calibrated), plus the unseen-category warnings.
 */
export function createPredictor(bundle: ModelBundle): ServingPredictor {
  const known = indexKnown(knownCategories(bundle));
  const compiled = bundle.compilePredictor();
  let level: number | undefined;
  const row = (listing: Listing, r: ReturnType<typeof compiled.predictOne>, at?: number): RowPrediction => {
    if (!r.ok) throw rowError(r.errors, at);
    level ??= r.interval?.level;
    return {
      price: checkPrice(r.price, at === undefined ? '(body)' : `[${at}]`),
      interval: interval(r.interval),
      warnings: warningsFor(listing, known),
    };
  };
  return {
    categoricalFields: [...known.keys()],
    get intervalLevel() {
      return level;
    },
    predictOne(listing) {
      return row(listing, compiled.predictOne(listing));
    },
    predictMany(listings) {
      const results = compiled.predictMany(listings);
      const failed = results.flatMap((r, i) =>
        r.ok ? [] : r.errors.map((e) => ({ ...e, field: e.field === 'input' ? `[${i}]` : `[${i}].${e.field}` })),
      );
      if (failed.length) throw rowError(failed);
      return results.map((r, i) => row(listings[i], r, i));
    },
    ...(compiled.canExplain
      ? {
          explain(listing: Listing): Explanation {
            const r = compiled.explainOne(listing);
            if (!r.ok) throw rowError(r.errors);
            return {
              price: checkPrice(r.price, '(body)'),
              base: r.base.value,
              scale: r.space === 'log1p' ? 'log1p(price)' : 'price',
              contributions: r.contributions.map((c) => ({
                feature: c.feature,
                contribution: c.value,
                value: listing[c.feature],
              })),
            };
          },
        }
      : {}),
  };
}
