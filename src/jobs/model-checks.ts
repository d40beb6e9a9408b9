/**
 * Behavioural tests of a price model on real listings, the checks a buyer would make by
 * hand: with everything else held, more kilometres must not raise the price, a newer
 * year must not lower it, repainting the car must barely move it, and every listing,
 * including makes, models and variants the model never saw, gets a positive, finite
 * price. Each check takes a seeded sample of test listings, builds the edited copies as
 * one frame (rows repeated, one column rewritten) and predicts them in a single call.
 *
 * Worked example (odometer, tolerance 1%): a listing priced 500,000 / 498,000 / 503,500 at
 * 10k / 25k / 50k km rises 1.1% between 25k and 50k km: a violation. The check passes
 * while the share of sampled listings with a violation stays <= max_violation_rate.
 */
import { Rng } from '../core/rng.js';
import { takeFrameRows, type Frame } from '../data/frame.js';

/** Anything that prices a frame of listings (a ModelBundle). */
export interface FramePredictor {
  predictFrame(frame: Frame): Float64Array;
}

export interface BehaviourSettings {
  /** Listings sampled per check. */
  sample: number;
  /** Odometer values (km) every sampled listing is priced at. */
  odometerGrid: readonly number[];
  /** Relative move against the expected direction tolerated between neighbours (0.01 = 1%). */
  monotonicTolerance: number;
  /** Largest relative spread of a listing's price across colours. */
  colorMaxChange: number;
  /** Share of sampled listings allowed to violate a check. */
  maxViolationRate: number;
  seed: number;
}

/** The outcome of one behavioural check. */
export interface CheckResult {
  name: string;
  passed: boolean;
  /** One line for people: what was checked and what was found. */
  detail: string;
  listings: number;
  violations: number;
  /** The worst relative move seen (check-specific sign convention: larger is worse). */
  worst: number;
  /** Up to three worst listings with their prices along the edit. */
  examples: Array<{
    listing: Record<string, string | number | null>;
    values: Array<string | number>;
    prices: number[];
  }>;
}

const describeRow = (f: Frame, i: number): Record<string, string | number | null> => ({
  make: f.categorical.make?.[i] ?? null,
  model: f.categorical.model?.[i] ?? null,
  variant: f.categorical.variant?.[i] ?? null,
  year: f.categorical.year?.[i] ?? null,
  odometer: f.numeric.odometer?.[i] ?? null,
  color: f.categorical.color?.[i] ?? null,
});

/** A seeded sample of row indices (all rows when the frame is smaller). */
export function sampleRows(n: number, size: number, seed: number): number[] {
  const perm = new Rng(seed).permutation(n);
  return Array.from(perm.subarray(0, Math.min(size, n))).sort((a, b) => a - b);
}

/**
 * Price every sampled row at every value of an edit: row r, value k lands at r * values + k.
 * `set` writes value k into the edited copy at position `at`.
 */
function priceEdits(
  model: FramePredictor,
  frame: Frame,
  rows: readonly number[],
  count: number,
  set: (edited: Frame, at: number, row: number, k: number) => void,
): Float64Array {
  const idx = new Uint32Array(rows.length * count);
  rows.forEach((r, j) => idx.fill(r, j * count, (j + 1) * count));
  const edited = takeFrameRows(frame, idx);
  rows.forEach((r, j) => {
    for (let k = 0; k < count; k++) set(edited, j * count + k, r, k);
  });
  return model.predictFrame(edited);
}

function summarise(
  name: string,
  rows: readonly number[],
  frame: Frame,
  per: Array<{ worst: number; values: Array<string | number>; prices: number[] }>,
  limit: number,
  s: BehaviourSettings,
  what: string,
): CheckResult {
  const bad = per.map((p, j) => ({ ...p, j })).filter((p) => p.worst > limit);
  const worst = per.reduce((m, p) => Math.max(m, p.worst), 0);
  const rate = rows.length ? bad.length / rows.length : 0;
  const passed = rate <= s.maxViolationRate;
  const examples = bad
    .sort((a, b) => b.worst - a.worst)
    .slice(0, 3)
    .map((p) => ({
      listing: describeRow(frame, rows[p.j]),
      values: p.values,
      prices: p.prices.map((x) => Math.round(x)),
    }));
  return {
    name,
    passed,
    detail: `${what}: ${bad.length} of ${rows.length} listings (${(100 * rate).toFixed(1)}%, allowed ${(100 * s.maxViolationRate).toFixed(1)}%) beyond ${(100 * limit).toFixed(1)}%; worst ${(100 * worst).toFixed(2)}%`,
    listings: rows.length,
    violations: bad.length,
    worst,
    examples,
  };
}

/** Price must not rise by more than the tolerance from one odometer grid point to the next. */
export function odometerMonotonicity(model: FramePredictor, frame: Frame, s: BehaviourSettings): CheckResult {
  const grid = [...s.odometerGrid].sort((a, b) => a - b);
  const rows = sampleRows(frame.nRows, s.sample, s.seed);
  const pred = priceEdits(model, frame, rows, grid.length, (f, at, _r, k) => (f.numeric.odometer[at] = grid[k]));
  const per = rows.map((_, j) => {
    const prices = Array.from(pred.subarray(j * grid.length, (j + 1) * grid.length));
    let worst = 0;
    for (let k = 1; k < prices.length; k++) worst = Math.max(worst, prices[k] / prices[k - 1] - 1);
    return { worst, values: grid, prices };
  });
  return summarise('odometer_monotonic', rows, frame, per, s.monotonicTolerance, s, 'price rising with more km');
}

/** Price must not fall by more than the tolerance from one model year to the next newer one. */
export function yearMonotonicity(model: FramePredictor, frame: Frame, s: BehaviourSettings): CheckResult {
  const years = [
    ...new Set((frame.categorical.year ?? []).filter((y): y is string => y !== null && Number.isFinite(Number(y)))),
  ].sort((a, b) => Number(a) - Number(b));
  const rows = sampleRows(frame.nRows, s.sample, s.seed + 1);
  if (years.length < 2 || !frame.categorical.year)
    return {
      name: 'year_monotonic',
      passed: true,
      detail: 'skipped: fewer than two model years in the data',
      listings: 0,
      violations: 0,
      worst: 0,
      examples: [],
    };
  // each listing is priced at its own year and up to three years either side (years seen in the data)
  const span = 3;
  const windows = rows.map((r) => {
    const at = Math.max(0, years.indexOf(String(frame.categorical.year[r])));
    return years.slice(Math.max(0, at - span), Math.min(years.length, at + span + 1));
  });
  const width = Math.max(...windows.map((w) => w.length));
  const pred = priceEdits(model, frame, rows, width, (f, at, _r, k) => {
    const w = windows[Math.floor(at / width)];
    f.categorical.year[at] = w[Math.min(k, w.length - 1)];
  });
  const per = rows.map((_, j) => {
    const w = windows[j];
    const prices = Array.from(pred.subarray(j * width, j * width + w.length));
    let worst = 0;
    for (let k = 1; k < prices.length; k++) worst = Math.max(worst, 1 - prices[k] / prices[k - 1]);
    return { worst, values: w, prices };
  });
  return summarise('year_monotonic', rows, frame, per, s.monotonicTolerance, s, 'price falling for a newer year');
}

/** Repainting a car (any of the most common colours) must move its price by at most the bound. */
export function colorInvariance(model: FramePredictor, frame: Frame, s: BehaviourSettings): CheckResult {
  const col = frame.categorical.color;
  if (!col)
    return {
      name: 'color_invariance',
      passed: true,
      detail: 'skipped: no color column',
      listings: 0,
      violations: 0,
      worst: 0,
      examples: [],
    };
  const counts = new Map<string, number>();
  for (const c of col) if (c !== null) counts.set(c, (counts.get(c) ?? 0) + 1);
  const colors = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 8)
    .map(([c]) => c);
  const rows = sampleRows(frame.nRows, s.sample, s.seed + 2);
  const pred = priceEdits(model, frame, rows, colors.length, (f, at, _r, k) => (f.categorical.color[at] = colors[k]));
  const per = rows.map((_, j) => {
    const prices = Array.from(pred.subarray(j * colors.length, (j + 1) * colors.length));
    const worst = Math.max(...prices) / Math.min(...prices) - 1;
    return { worst, values: colors, prices };
  });
  return summarise(
    'color_invariance',
    rows,
    frame,
    per,
    s.colorMaxChange,
    s,
    `price spread across ${colors.length} colours`,
  );
}

const isGoodPrice = (x: number) => Number.isFinite(x) && x > 0;

/** Every prediction positive and finite (the test listings as they are). */
export function positiveFinite(pred: Float64Array, frame: Frame): CheckResult {
  const bad: number[] = [];
  pred.forEach((x, i) => (isGoodPrice(x) ? undefined : bad.push(i)));
  return {
    name: 'positive_finite',
    passed: bad.length === 0,
    detail: `${bad.length} of ${pred.length} test listings priced at zero, below zero or not a number`,
    listings: pred.length,
    violations: bad.length,
    worst: bad.length ? 1 : 0,
    examples: bad.slice(0, 3).map((i) => ({ listing: describeRow(frame, i), values: [], prices: [pred[i]] })),
  };
}

/** Listings whose make, model, variant (each, then all three) the model never saw still get a positive, finite price. */
export function unseenCategories(model: FramePredictor, frame: Frame, s: BehaviourSettings): CheckResult {
  const edits: Array<Partial<Record<'make' | 'model' | 'variant', string>>> = [
    { make: 'UNSEEN-MAKE' },
    { model: 'UNSEEN MODEL' },
    { variant: 'UNSEEN VARIANT 9.9' },
    { make: 'UNSEEN-MAKE', model: 'UNSEEN MODEL', variant: 'UNSEEN VARIANT 9.9' },
  ];
  const rows = sampleRows(frame.nRows, s.sample, s.seed + 3);
  const pred = priceEdits(model, frame, rows, edits.length, (f, at, _r, k) => {
    for (const [c, v] of Object.entries(edits[k])) if (f.categorical[c]) f.categorical[c][at] = v;
  });
  const per = rows.map((_, j) => {
    const prices = Array.from(pred.subarray(j * edits.length, (j + 1) * edits.length));
    return { worst: prices.every(isGoodPrice) ? 0 : 1, values: edits.map((e) => Object.keys(e).join('+')), prices };
  });
  const r = summarise(
    'unseen_categories',
    rows,
    frame,
    per,
    0,
    { ...s, maxViolationRate: 0 },
    'unseen make/model/variant priced at zero, below zero or not a number',
  );
  return { ...r, passed: r.violations === 0 };
}

/** All behavioural checks on a frame of test listings. `pred` is the model's price of each listing as it is. */
export function behaviourChecks(
  model: FramePredictor,
  frame: Frame,
  pred: Float64Array,
  s: BehaviourSettings,
): CheckResult[] {
  return [
    positiveFinite(pred, frame),
    unseenCategories(model, frame, s),
    odometerMonotonicity(model, frame, s),
    yearMonotonicity(model, frame, s),
    colorInvariance(model, frame, s),
  ];
}
