/**
 * The drift report: how the listings the API was asked to price in a window differ from
 * the listings the model was trained on (the bundle's reference profile), and how its
 * predictions moved.
 *
 * Per input feature:
 * - numeric inputs (and categorical ones whose values are numbers, such as year): PSI
 *   (psi.ts) over the training decile bins, on the values present; the missing rate is
 *   reported beside it (API clients often leave the optional equipment flags out, which
 *   the model imputes: that is a warning, not an alert);
 * - categorical inputs: PSI of the category shares, with values under 1% of training
 *   pooled as "(other)", values never seen in training as "(unseen)" and missing values as
 *   "(missing)"; the largest share changes; and the unseen-category rate against the rate
 *   the training data leads to expect. That expectation is the Good-Turing estimate (the
 *   share of training rows whose value occurs exactly once): a variant column with a long
 *   tail meets new variants all the time, a make column almost never. The excess over it
 *   is what the thresholds judge.
 * Predictions: PSI of the window's prices over the training predictions' deciles.
 *
 * Thresholds judge the PSI less its sampling noise, (k - 1) (1/n + 1/N) for k buckets, n
 * window rows and N training rows (what PSI averages when nothing shifted): a window of 200
 * requests over a 30-bucket category would otherwise read 0.15 from chance alone. The raw
 * PSI and the noise are both reported.
 *
 * `compareWithReference` is pure (records in, report out); `driftReport` reads the window
 * from the log. The report is data (for the CLI table, --json, /metrics and the dashboard).
 */
import type { ReferenceProfile, NumericProfile, CategoricalProfile } from '../bundle/reference-profile.js';
import { binOf } from '../bundle/reference-profile.js';
import { countRecords, iterateDriftRows, type LogDatabase } from './log-store.js';
import { HourBuilder, splitWindow, tokenValue, type HourCounts, type TokenCount } from './hourly.js';
import type { PredictionRecord } from './prediction-record.js';
import { psi } from './psi.js';
import {
  DRIFT_REPORT_KIND,
  type DriftReport,
  type DriftThresholds,
  type FeatureDrift,
  type Level,
  type PredictionDrift,
  type ShareShift,
} from './drift-types.js';

export * from './drift-types.js';

/** params.yaml `monitoring.drift` as thresholds. */
export function thresholdsFromParams(d: {
  min_rows: number;
  psi_warn: number;
  psi_alert: number;
  category_psi_warn: number;
  category_psi_alert: number;
  unseen_excess_warn: number;
  unseen_excess_alert: number;
}): DriftThresholds {
  return {
    minRows: d.min_rows,
    psiWarn: d.psi_warn,
    psiAlert: d.psi_alert,
    categoryPsiWarn: d.category_psi_warn,
    categoryPsiAlert: d.category_psi_alert,
    unseenExcessWarn: d.unseen_excess_warn,
    unseenExcessAlert: d.unseen_excess_alert,
  };
}

const OTHER = '(other)';
const UNSEEN = '(unseen)';
const MISSING = '(missing)';
/** Categories below this training share are pooled as "(other)". */
const MIN_CATEGORY_SHARE = 0.01;
const MAX_CATEGORY_BUCKETS = 30;

function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

function categoryOf(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() || null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return null;
}

const LEVELS: Level[] = ['ok', 'warn', 'alert'];
const worse = (a: Level, b: Level): Level => (LEVELS.indexOf(a) >= LEVELS.indexOf(b) ? a : b);

/** Level of a score against warn/alert thresholds, after subtracting its sampling noise. */
function judge(
  value: number | null,
  warn: number,
  alert: number,
  label: string,
  noise = 0,
): { level: Level; reason?: string } {
  if (value === null) return { level: 'ok' };
  const v = value - noise;
  const shown = noise > 0 ? `${label} ${value.toFixed(3)} (noise ${noise.toFixed(3)})` : `${label} ${value.toFixed(3)}`;
  if (v > alert) return { level: 'alert', reason: `${shown} > ${alert}` };
  if (v > warn) return { level: 'warn', reason: `${shown} > ${warn}` };
  return { level: 'ok' };
}

/** PSI expected from sampling alone: (k - 1) (1/n + 1/N). */
export function psiNoise(k: number, n: number, nRef: number): number {
  return n > 0 && nRef > 0 && k > 1 ? (k - 1) * (1 / n + 1 / nRef) : 0;
}

/** Bin counts of window values over a numeric reference's bins (present values only). */
class NumericCounts {
  readonly counts: number[];
  present = 0;
  constructor(readonly ref: NumericProfile) {
    this.counts = new Array<number>(ref.counts.length).fill(0);
  }
  add(v: number): void {
    if (Number.isFinite(v)) {
      this.counts[binOf(this.ref.edges, v)]++;
      this.present++;
    }
  }
  /** `n` values `v` at once. */
  addN(v: number, n: number): void {
    if (Number.isFinite(v)) {
      this.counts[binOf(this.ref.edges, v)] += n;
      this.present += n;
    }
  }
  /** PSI over the reference bins, and its sampling noise. */
  result(): { psi: number; present: number; noise: number } {
    const nRef = this.ref.counts.reduce((a, b) => a + b, 0);
    return {
      psi: this.present > 0 ? psi(this.ref.counts, this.counts) : 0,
      present: this.present,
      noise: psiNoise(this.ref.counts.length, this.present, nRef),
    };
  }
}

/**
 * Distinct values never seen in training that a window tracks by name (for the largest
 * unseen value shown in the report); beyond it they still count as unseen, unnamed. Values
 * seen in training are bounded by the reference, so a window's memory is bounded whatever
 * its length.
 */
const MAX_UNSEEN_TRACKED = 10_000;

/** Value counts of a categorical input over a window. */
class CategoryCounts {
  /** Count per value, in order of first appearance (values seen in training, and up to MAX_UNSEEN_TRACKED others). */
  readonly values = new Map<string, number>();
  unseenTracked = 0;
  /** Unseen values beyond MAX_UNSEEN_TRACKED distinct ones. */
  unseenUntracked = 0;
  missing = 0;
  constructor(readonly ref: CategoricalProfile) {}
  add(v: string | null): void {
    if (v === null) this.missing++;
    else this.addN(v, 1);
  }
  /** `n` rows of the present value `v` at once. */
  addN(v: string, n: number): void {
    const c = this.values.get(v);
    if (c !== undefined) this.values.set(v, c + n);
    else if (Object.hasOwn(this.ref.counts, v) || this.unseenTracked < MAX_UNSEEN_TRACKED) {
      if (!Object.hasOwn(this.ref.counts, v)) this.unseenTracked++;
      this.values.set(v, n);
    } else this.unseenUntracked += n;
  }
}

interface CategoryDrift {
  categoryPsi: number;
  noise: number;
  unseenRate: number;
  expectedUnseenRate: number;
  topShifts: ShareShift[];
}

function categoricalDrift(ref: CategoricalProfile, w: CategoryCounts, n: number): CategoryDrift {
  const entries = Object.entries(ref.counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const present = entries.reduce((s, [, c]) => s + c, 0);
  const refTotal = present + ref.missing;
  const kept = entries
    .filter(([, c]) => c / Math.max(1, refTotal) >= MIN_CATEGORY_SHARE)
    .slice(0, MAX_CATEGORY_BUCKETS);
  const bucketOf = new Map<string, number>(kept.map(([v], i) => [v, i]));
  const iOther = kept.length;
  const iUnseen = kept.length + 1;
  const iMissing = kept.length + 2;
  const singletons = entries.filter(([, c]) => c === 1).length;
  const expectedUnseenRate = present > 0 ? singletons / present : 0;
  const refCounts = new Array<number>(kept.length + 3).fill(0);
  kept.forEach(([, c], i) => (refCounts[i] = c));
  refCounts[iOther] = present - kept.reduce((s, [, c]) => s + c, 0);
  // Good-Turing: in the reference, unseen values are as frequent as singletons were
  refCounts[iUnseen] = singletons;
  refCounts[iMissing] = ref.missing;
  const winCounts = new Array<number>(refCounts.length).fill(0);
  winCounts[iMissing] = w.missing;
  let unseen = w.unseenUntracked;
  winCounts[iUnseen] = w.unseenUntracked;
  const winPresent = n - w.missing;
  const unseenValues: [string, number][] = [];
  for (const [v, c] of w.values) {
    const b = bucketOf.get(v);
    if (b !== undefined) winCounts[b] += c;
    else if (Object.hasOwn(ref.counts, v)) winCounts[iOther] += c;
    else {
      winCounts[iUnseen] += c;
      unseen += c;
      unseenValues.push([v, c]);
    }
  }
  // with no missing value on either side the (missing) bucket is dropped (it would only add smoothing noise)
  const use = (i: number) => i !== iMissing || refCounts[iMissing] > 0 || winCounts[iMissing] > 0;
  const idx = refCounts.map((_, i) => i).filter(use);
  const categoryPsi = psi(
    idx.map((i) => refCounts[i]),
    idx.map((i) => winCounts[i]),
  );
  const rt = refCounts.reduce((a, b) => a + b, 0) || 1;
  const wt = n || 1;
  const names = [...kept.map(([v]) => v), OTHER, UNSEEN, MISSING];
  const shifts: ShareShift[] = idx.map((i) => ({
    value: names[i],
    reference: refCounts[i] / rt,
    window: winCounts[i] / wt,
  }));
  // name the largest unseen value rather than the bucket, when one dominates (the first seen on a tie)
  const topUnseen = unseenValues.sort((a, b) => b[1] - a[1])[0];
  if (topUnseen && topUnseen[1] / wt >= 0.01)
    shifts.push({ value: `${topUnseen[0]} (unseen)`, reference: 0, window: topUnseen[1] / wt });
  const topShifts = shifts
    .filter((s) => s.value !== UNSEEN || !topUnseen)
    .sort((a, b) => Math.abs(b.window - b.reference) - Math.abs(a.window - a.reference))
    .slice(0, 3);
  return {
    categoryPsi,
    noise: psiNoise(idx.length, n, refTotal),
    unseenRate: winPresent > 0 ? unseen / winPresent : 0,
    expectedUnseenRate,
    topShifts,
  };
}

export interface CompareOptions {
  reference: ReferenceProfile;
  thresholds: DriftThresholds;
  /** Only rows of this model version count for the prediction distribution (undefined = all). */
  modelVersion?: string | null;
}

/** What the drift of a window needs of one logged champion row. */
export interface DriftRow {
  inputs: Record<string, unknown>;
  price: number | null;
  modelVersion: string | null;
}

/**
 * A window's drift, accumulated one logged row at a time: per-feature bin counts and
 * category counts, never the rows, so memory is bounded by the reference (and the unseen
 * values tracked), not by the window's length. `result()` gives the same report as the
 * rows all at once.
 */
export class DriftAccumulator {
  /** Champion rows added. */
  rows = 0;
  private readonly numeric: [string, NumericCounts][];
  private readonly categorical: [string, CategoryCounts, NumericCounts | null][];
  private readonly prediction: NumericCounts;

  constructor(private readonly o: CompareOptions) {
    const ref = o.reference;
    this.numeric = Object.entries(ref.numeric).map(([f, p]) => [f, new NumericCounts(p)]);
    this.categorical = Object.entries(ref.categorical).map(([f, p]) => [
      f,
      new CategoryCounts(p),
      ref.numericViews[f] ? new NumericCounts(ref.numericViews[f]) : null,
    ]);
    this.prediction = new NumericCounts(ref.prediction);
  }

  add(r: DriftRow): void {
    this.rows++;
    const inputs = r.inputs;
    for (const [f, c] of this.numeric) c.add(numberOf(inputs[f]));
    for (const [f, c, view] of this.categorical) {
      const v = categoryOf(inputs[f]);
      c.add(v);
      view?.add(v === null ? NaN : Number(v));
    }
    if (r.price !== null && (this.o.modelVersion === undefined || r.modelVersion === this.o.modelVersion))
      this.prediction.add(r.price);
  }

  /**
   * Add the champion rows summed in per-hour counts (hourly.ts): the same result as adding
   * those rows one at a time in id order (categories are added in order of their first
   * row, as rows would add them). Call it once, on an accumulator no row was added to.
   */
  addHours(hours: readonly HourCounts[]): void {
    let n = 0;
    const byField = new Map<string, TokenCount[][]>();
    for (const h of hours) {
      n += h.champion;
      for (const [f, t] of h.drift.inputs) {
        let l = byField.get(f);
        if (!l) byField.set(f, (l = []));
        l.push(t);
      }
    }
    this.rows += n;
    for (const [f, c] of this.numeric)
      for (const t of byField.get(f) ?? []) for (const [token, k] of t) c.addN(numberOf(tokenValue(token)), k);
    for (const [f, c, view] of this.categorical) {
      const seen = new Map<string, [number, number]>();
      let present = 0;
      for (const t of byField.get(f) ?? [])
        for (const [token, k, first] of t) {
          const v = categoryOf(tokenValue(token));
          if (v === null) continue;
          present += k;
          const e = seen.get(v);
          if (!e) seen.set(v, [k, first]);
          else {
            e[0] += k;
            if (first < e[1]) e[1] = first;
          }
        }
      c.missing += n - present;
      for (const [v, [k]] of [...seen].sort((a, b) => a[1][1] - b[1][1])) {
        c.addN(v, k);
        view?.addN(Number(v), k);
      }
    }
    for (const h of hours)
      for (const [version, prices] of h.drift.prices)
        if (this.o.modelVersion === undefined || version === this.o.modelVersion)
          for (const p of prices) this.prediction.add(p);
  }

  result(): { features: FeatureDrift[]; prediction: PredictionDrift | null } {
    const ref = this.o.reference;
    const t = this.o.thresholds;
    const n = this.rows;
    const features: FeatureDrift[] = [];
    const missingRate = (refMissing: number, windowMissing: number) => ({
      reference: ref.rows > 0 ? refMissing / ref.rows : 0,
      window: n ? windowMissing / n : 0,
    });
    const missingCheck = (m: { reference: number; window: number }): { level: Level; reason?: string } =>
      Math.abs(m.window - m.reference) > 0.25
        ? {
            level: 'warn',
            reason: `missing in ${(m.window * 100).toFixed(0)}% of requests vs ${(m.reference * 100).toFixed(0)}% in training (imputed)`,
          }
        : { level: 'ok' };
    for (const [feature, counts] of this.numeric) {
      const d = counts.result();
      const m = missingRate(counts.ref.missing, n - d.present);
      const checks = [judge(d.present > 0 ? d.psi : null, t.psiWarn, t.psiAlert, 'psi', d.noise), missingCheck(m)];
      features.push({
        feature,
        kind: 'numeric',
        psi: d.present > 0 ? d.psi : null,
        categoryPsi: null,
        psiNoise: d.present > 0 ? d.noise : null,
        categoryPsiNoise: null,
        unseenRate: null,
        expectedUnseenRate: null,
        unseenExcess: null,
        topShifts: [],
        missingRate: m,
        status: checks.reduce<Level>((a, c) => worse(a, c.level), 'ok'),
        reasons: checks.flatMap((c) => (c.reason ? [c.reason] : [])),
      });
    }
    for (const [feature, counts, view] of this.categorical) {
      const c = categoricalDrift(counts.ref, counts, n);
      const nd = view ? view.result() : null;
      const excess = Math.max(0, c.unseenRate - c.expectedUnseenRate);
      const m = missingRate(counts.ref.missing, counts.missing);
      const checks = [
        judge(nd && nd.present > 0 ? nd.psi : null, t.psiWarn, t.psiAlert, 'psi', nd?.noise ?? 0),
        judge(n > 0 ? c.categoryPsi : null, t.categoryPsiWarn, t.categoryPsiAlert, 'category psi', c.noise),
        judge(n > 0 ? excess : null, t.unseenExcessWarn, t.unseenExcessAlert, 'unseen-category excess'),
        missingCheck(m),
      ];
      features.push({
        feature,
        kind: 'categorical',
        psi: nd && nd.present > 0 ? nd.psi : null,
        categoryPsi: n > 0 ? c.categoryPsi : null,
        psiNoise: nd && nd.present > 0 ? nd.noise : null,
        categoryPsiNoise: n > 0 ? c.noise : null,
        unseenRate: n > 0 ? c.unseenRate : null,
        expectedUnseenRate: c.expectedUnseenRate,
        unseenExcess: n > 0 ? excess : null,
        topShifts: n > 0 ? c.topShifts : [],
        missingRate: m,
        status: checks.reduce<Level>((a, x) => worse(a, x.level), 'ok'),
        reasons: checks.flatMap((x) => (x.reason ? [x.reason] : [])),
      });
    }
    let prediction: PredictionDrift | null = null;
    const pc = this.prediction;
    if (pc.present > 0) {
      const p = ref.prediction;
      const value = psi(p.counts, pc.counts);
      const rt = p.counts.reduce((a, b) => a + b, 0) || 1;
      const noise = psiNoise(p.counts.length, pc.present, rt);
      const j = judge(value, t.psiWarn, t.psiAlert, 'prediction psi', noise);
      prediction = {
        psi: value,
        psiNoise: noise,
        rows: pc.present,
        edges: p.edges,
        referenceShares: p.counts.map((c) => c / rt),
        windowShares: pc.counts.map((c) => c / pc.present),
        status: j.level,
        reasons: j.reason ? [j.reason] : [],
      };
    }
    return { features, prediction };
  }
}

/** Feature and prediction drift of champion `records` against `reference` (no verdict on size). */
export function compareWithReference(
  records: Iterable<PredictionRecord>,
  o: CompareOptions,
): { features: FeatureDrift[]; prediction: PredictionDrift | null } {
  const acc = new DriftAccumulator(o);
  for (const r of records) if (r.role === 'champion') acc.add(r);
  return acc.result();
}

export interface DriftInputs {
  db: LogDatabase;
  /** The served model's training reference; null when the bundle has none (see referenceNote). */
  reference: ReferenceProfile | null;
  /** Where the reference came from ('bundle', 'recomputed from FILE') or why there is none. */
  referenceOrigin: string;
  referenceNote?: string | null;
  model: { name: string; version: string | null };
  /** Window start and end (Unix ms); until defaults to now. */
  since: number;
  until?: number;
  thresholds: DriftThresholds;
  now: number;
  /** Newest rows of the window read at most (default 200,000; null = every row, memory stays bounded either way). */
  maxRows?: number | null;
  /** Read every row of the window, not the hourly aggregates (the row-by-row report the tests compare with). */
  rowsOnly?: boolean;
}

/**
 * Add the window's champion rows from the hourly aggregates: its whole clean hours as
 * counts, the rest (partial hours at its ends, dirty hours) row by row. False (nothing
 * added) when the window has no whole hour or more rows than `limit` (the newest `limit`
 * rows are then read one by one).
 */
function addFromHours(acc: DriftAccumulator, i: DriftInputs, until: number, limit: number | undefined): boolean {
  const split = splitWindow(i.db, i.since, until, { drift: true });
  if (split.hours.length === 0) return false;
  const rest = new HourBuilder();
  if (split.rest)
    // the rest's ranges lie inside the window: the ts index reads just them
    for (const r of iterateDriftRows(i.db, { role: 'champion', where: split.rest }))
      rest.addRow(r.id, { ...r, role: 'champion' });
  const hours = [...split.hours, rest.counts()];
  if (limit !== undefined && hours.reduce((s, h) => s + h.champion, 0) > limit) return false;
  acc.addHours(hours);
  return true;
}

/** The drift report for a window of the prediction log. */
export function driftReport(i: DriftInputs): DriftReport {
  const until = i.until ?? i.now;
  // the rows are streamed into counts, never held: memory does not grow with the window
  const acc = i.reference
    ? new DriftAccumulator({
        reference: i.reference,
        thresholds: i.thresholds,
        modelVersion: i.model.version ?? undefined,
      })
    : null;
  const window = { since: i.since, until, role: 'champion' as const };
  const limit = i.maxRows === null ? undefined : (i.maxRows ?? 200_000);
  if (acc)
    // one snapshot of the aggregates and the rows
    i.db.transaction(() => {
      if (i.rowsOnly || !addFromHours(acc, i, until, limit))
        for (const r of iterateDriftRows(i.db, { ...window, limit })) acc.add(r);
    })();
  const all = acc && (limit === undefined || acc.rows < limit) ? acc.rows : countRecords(i.db, window);
  const rows = limit === undefined ? all : Math.min(limit, all);
  const newestOnly = rows < all ? rows : null;
  const base = {
    kind: DRIFT_REPORT_KIND,
    formatVersion: 1 as const,
    generatedAt: new Date(i.now).toISOString(),
    model: i.model,
    window: { since: new Date(i.since).toISOString(), until: new Date(until).toISOString(), rows, newestOnly },
    reference: {
      available: i.reference !== null,
      rows: i.reference?.rows ?? null,
      origin: i.referenceOrigin,
      note: i.referenceNote ?? null,
    },
    thresholds: i.thresholds,
  };
  if (!i.reference)
    return {
      ...base,
      status: 'no_reference',
      summary: `no drift verdict: ${i.referenceNote ?? 'the model has no training reference profile'}`,
      features: [],
      prediction: null,
    };
  const { features, prediction } = acc!.result();
  const over = newestOnly
    ? `the newest ${rows} of ${all} logged predictions in the window`
    : `${rows} logged predictions`;
  if (rows < i.thresholds.minRows)
    return {
      ...base,
      status: 'insufficient',
      summary: `no drift verdict: ${rows} logged prediction(s) in the window, fewer than monitoring.drift.min_rows (${i.thresholds.minRows}); widen --since or wait for traffic`,
      features,
      prediction,
    };
  const levels = [...features.map((f) => f.status), ...(prediction ? [prediction.status] : [])];
  const status = levels.reduce<Level>((a, b) => worse(a, b), 'ok');
  const flagged = [...features.filter((f) => f.status === status && status !== 'ok').map((f) => f.feature)];
  if (prediction && prediction.status === status && status !== 'ok') flagged.push('(predictions)');
  return {
    ...base,
    status,
    summary:
      status === 'ok'
        ? `no drift past the thresholds over ${over}`
        : `${status}: ${flagged.join(', ')} drifted over ${over}`,
    features,
    prediction,
  };
}
