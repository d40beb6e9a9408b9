/**
 * The training reference profile a bundle carries for drift monitoring: what the listings
 * the model was trained on looked like, summarised so that a window of served requests can
 * be compared with it without the training file.
 *
 * - numeric inputs: decile edges of the training values and the training count in each bin
 *   (bins are upper-inclusive: bin i holds v with edges[i-1] < v <= edges[i]; repeated
 *   values give fewer, uneven bins, which is why the counts are stored rather than assumed
 *   to be 10% each), plus the missing count;
 * - categorical inputs: the training count of every value, plus the missing count (the
 *   long tail is kept: the unseen-category rate needs the full set of known values, and
 *   the share of values seen exactly once estimates how often an unseen value is normal);
 * - categorical inputs whose values are all numbers (year, ownership): also a numeric view,
 *   so an ageing fleet shows as a shift of the year distribution, not only as new labels;
 * - the model's own predictions on the training rows, binned the same way.
 *
 * Saved inside bundle.json under `reference`, `{kind: 'carprice-reference-profile',
 * formatVersion: 1}`; bundles saved before it existed have none (monitoring says so).
 */
import { AppError } from '../core/errors.js';
import type { Frame } from '../data/frame.js';

export const REFERENCE_KIND = 'carprice-reference-profile';
export const REFERENCE_FORMAT_VERSION = 1;
/** Quantiles used as bin edges (deciles). */
export const REFERENCE_QUANTILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] as const;

/** A numeric distribution: bin edges (ascending, distinct) and counts (edges.length + 1 bins). */
export interface NumericProfile {
  edges: number[];
  counts: number[];
  missing: number;
}

/** A categorical distribution: count per value, and missing values. */
export interface CategoricalProfile {
  counts: Record<string, number>;
  missing: number;
}

export interface ReferenceProfile {
  kind: typeof REFERENCE_KIND;
  formatVersion: number;
  /** Training rows profiled. */
  rows: number;
  numeric: Record<string, NumericProfile>;
  categorical: Record<string, CategoricalProfile>;
  /** Numeric views of categorical columns whose training values are all numbers (year). */
  numericViews: Record<string, NumericProfile>;
  /** The model's predictions (price) on the training rows. */
  prediction: NumericProfile;
}

/** Bin of `v` among upper-inclusive `edges`: the number of edges strictly below v. */
export function binOf(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Decile edges (nearest rank, duplicates removed) and bin counts of the finite values. */
export function numericProfile(values: ArrayLike<number>): NumericProfile {
  const byValue = smallWholeCounts(values);
  if (byValue) return countedProfile(byValue, values.length);
  // a typed array sorts numbers natively (a comparator sort of a million boxed numbers
  // took seconds); equal values are interchangeable, so the edges and counts are the same
  const all = new Float64Array(values.length);
  let nFinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) all[nFinite++] = v;
  }
  const missing = values.length - nFinite;
  const finite = all.subarray(0, nFinite).sort();
  const edges: number[] = [];
  if (finite.length > 0)
    for (const q of REFERENCE_QUANTILES) {
      const e = finite[Math.floor(q * (finite.length - 1))];
      if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
    }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of finite) counts[binOf(edges, v)]++;
  return { edges, counts, missing };
}

/**
 * counts[v] = rows holding v when every finite value is a whole number 0..255 (flags,
 * counts, ages: most numeric inputs), else null (NaN and infinities are missing, as above).
 */
function smallWholeCounts(values: ArrayLike<number>): Float64Array | null {
  const counts = new Float64Array(256);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= 0 && v <= 255 && Math.floor(v) === v) counts[v]++;
    else if (Number.isFinite(v)) return null;
  }
  return counts;
}

/** numericProfile's edges and counts from the value counts of whole numbers 0..255: the same, without a sort. */
function countedProfile(byValue: Float64Array, n: number): NumericProfile {
  let nFinite = 0;
  for (let v = 0; v < 256; v++) nFinite += byValue[v];
  // the value at sorted rank r: the first v whose cumulative count exceeds r
  const atRank = (r: number) => {
    let acc = 0;
    for (let v = 0; v < 256; v++) {
      acc += byValue[v];
      if (acc > r) return v;
    }
    return 255;
  };
  const edges: number[] = [];
  if (nFinite > 0)
    for (const q of REFERENCE_QUANTILES) {
      const e = atRank(Math.floor(q * (nFinite - 1)));
      if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
    }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let v = 0; v < 256; v++) if (byValue[v] > 0) counts[binOf(edges, v)] += byValue[v];
  return { edges, counts, missing: n - nFinite };
}

function categoricalProfile(values: readonly (string | null)[]): CategoricalProfile {
  const counts: Record<string, number> = {};
  let missing = 0;
  for (const v of values) {
    if (v === null || v === '') missing++;
    else counts[v] = (counts[v] ?? 0) + 1;
  }
  return { counts, missing };
}

/** Numbers of a categorical column when every present value is one (year), else null. */
function numericValues(values: readonly (string | null)[]): Float64Array | null {
  const out = new Float64Array(values.length);
  let any = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === '') {
      out[i] = NaN;
      continue;
    }
    const x = Number(v);
    if (!Number.isFinite(x)) return null;
    out[i] = x;
    any = true;
  }
  return any ? out : null;
}

/**
 * Profile the training rows of a model (`frame`, validated listings) and the model's
 * predictions on them (`predictions`, price scale, one per row).
 */
export function buildReferenceProfile(frame: Frame, predictions: ArrayLike<number>): ReferenceProfile {
  if (predictions.length !== frame.nRows)
    throw new AppError(
      'MODEL_INVALID',
      `reference profile: ${predictions.length} predictions for ${frame.nRows} training rows`,
    );
  const numeric: Record<string, NumericProfile> = {};
  const categorical: Record<string, CategoricalProfile> = {};
  const numericViews: Record<string, NumericProfile> = {};
  for (const [k, col] of Object.entries(frame.numeric)) numeric[k] = numericProfile(col);
  for (const [k, col] of Object.entries(frame.categorical)) {
    categorical[k] = categoricalProfile(col);
    const asNumbers = numericValues(col);
    if (asNumbers) numericViews[k] = numericProfile(asNumbers);
  }
  return {
    kind: REFERENCE_KIND,
    formatVersion: REFERENCE_FORMAT_VERSION,
    rows: frame.nRows,
    numeric,
    categorical,
    numericViews,
    prediction: numericProfile(predictions),
  };
}

function isNumericProfile(x: unknown): x is NumericProfile {
  const p = x as NumericProfile;
  return (
    !!p &&
    Array.isArray(p.edges) &&
    Array.isArray(p.counts) &&
    p.counts.length === p.edges.length + 1 &&
    p.edges.every((e) => typeof e === 'number' && Number.isFinite(e)) &&
    p.counts.every((c) => Number.isInteger(c) && c >= 0) &&
    Number.isInteger(p.missing)
  );
}

/**
 * Check a saved profile (from bundle.json). Absent -> null; a damaged one is FORMAT_UNKNOWN
 * naming the part, an unknown version FORMAT_VERSION.
 */
export function parseReferenceProfile(saved: unknown, where: string): ReferenceProfile | null {
  if (saved === undefined || saved === null) return null;
  const s = saved as ReferenceProfile;
  const bad = (part: string) =>
    new AppError(
      'FORMAT_UNKNOWN',
      `${where}: reference.${part} is damaged; retrain the model to rebuild its training reference profile`,
    );
  if (typeof s !== 'object' || s.kind !== REFERENCE_KIND) throw bad('kind');
  if (s.formatVersion !== REFERENCE_FORMAT_VERSION)
    throw new AppError(
      'FORMAT_VERSION',
      `${where}: reference profile formatVersion ${String(s.formatVersion)}; this carprice reads ${REFERENCE_FORMAT_VERSION}. Upgrade carprice or retrain`,
    );
  if (!Number.isInteger(s.rows) || s.rows < 0) throw bad('rows');
  for (const group of ['numeric', 'numericViews'] as const) {
    if (!s[group] || typeof s[group] !== 'object') throw bad(group);
    for (const [k, p] of Object.entries(s[group])) if (!isNumericProfile(p)) throw bad(`${group}.${k}`);
  }
  if (!s.categorical || typeof s.categorical !== 'object') throw bad('categorical');
  for (const [k, p] of Object.entries(s.categorical))
    if (
      !p ||
      typeof p.counts !== 'object' ||
      !Number.isInteger(p.missing) ||
      !Object.values(p.counts).every((c) => Number.isInteger(c) && c > 0)
    )
      throw bad(`categorical.${k}`);
  if (!isNumericProfile(s.prediction)) throw bad('prediction');
  return s;
}
