/**
 * `carprice monitor shadow`: how the shadow challenger compares with the champion on the
 * requests both priced (pairs of log rows under one request id and row).
 *
 * Agreement: the challenger's price relative to the champion's (median and 90th percentile
 * of the absolute relative difference, share within 5% and 10%, mean signed difference).
 * Accuracy, on the pairs whose car has a realized price (`carprice monitor feedback`): each
 * model's MAPE and interval coverage, and a paired bootstrap interval of the difference in
 * absolute percentage error (challenger minus champion, same cars in every resample): an
 * interval wholly below 0 means the challenger is more accurate, wholly above 0 less.
 */
import type { Params } from '../config/params.js';
import { iteratePriceRows, openLogDatabase, type LogDatabase, type PriceRow } from '../monitoring/log-store.js';
import { splitWindow } from '../monitoring/hourly.js';
import { accuracyOf, type AccuracyStats } from './monitor-feedback.js';
import { pairedBootstrap, type DifferenceInterval } from './paired-bootstrap.js';

export interface ShadowAgreement {
  medianAbsRelDiff: number;
  p90AbsRelDiff: number;
  within5: number;
  within10: number;
  /** mean of (challenger - champion) / champion. */
  meanRelDiff: number;
}

export interface ShadowAccuracy {
  n: number;
  champion: AccuracyStats;
  challenger: AccuracyStats;
  /** mean(challenger APE - champion APE) with its bootstrap interval; null below 10 pairs. */
  difference: DifferenceInterval | null;
  verdict: 'challenger_better' | 'champion_better' | 'no_significant_difference' | 'too_few_sales';
}

export interface ShadowReport {
  kind: 'carprice-shadow-report';
  formatVersion: 1;
  window: { since: string | null; until: string | null };
  champion: string[];
  challenger: string[];
  /** Requests rows both models priced. */
  pairs: number;
  /** Champion rows with no challenger row (not sampled for the shadow, dropped or still queued). */
  championOnly: number;
  /** Challenger rows with an error instead of a price. */
  challengerFailures: number;
  agreement: ShadowAgreement | null;
  accuracy: ShadowAccuracy | null;
}

function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface MonitorShadowOptions {
  logPath: string;
  since?: number;
  until?: number;
  params: Params;
  /** Read every row of the window, not the hourly aggregates (what the tests compare with). */
  rowsOnly?: boolean;
}

const nameOf = (r: { modelName: string; modelVersion: string | null }) => `${r.modelName} v${r.modelVersion ?? '-'}`;

/** The champion and challenger rows of the window's pairs, in the order of their champion's first row. */
interface WindowPairs {
  /** Champion row (first of its request row) of each pair both priced, and (challenger - champion) / champion. */
  ids: number[];
  rel: number[];
  failures: number;
  championOnly: number;
  championNames: Set<string>;
  challengerNames: Set<string>;
}

/**
 * The window's pairs: its whole hours from the hourly aggregates, the rest (partial hours at
 * its ends, hours the aggregates cannot sum) row by row: the last row of each request row
 * and role, at the place of its first champion row, as one pass over every row gives.
 */
function windowPairs(db: LogDatabase, o: MonitorShadowOptions): WindowPairs {
  const split = o.rowsOnly ? { hours: [], rest: null } : splitWindow(db, o.since, o.until, { shadow: true });
  const out: WindowPairs = {
    ids: [],
    rel: [],
    failures: 0,
    championOnly: 0,
    championNames: new Set(),
    challengerNames: new Set(),
  };
  for (const h of split.hours) {
    const p = h.pairs;
    for (let i = 0; i < p.ids.length; i++) {
      out.ids.push(p.ids[i]);
      out.rel.push(p.rel[i]);
    }
    out.failures += p.failed;
    out.championOnly += h.champion - p.ids.length - p.failed;
    for (const n of p.championNames) out.championNames.add(n);
    for (const n of p.challengerNames) out.challengerNames.add(n);
  }
  if (split.rest || o.rowsOnly) {
    const champ = new Map<string, { first: number; r: PriceRow }>();
    const chall = new Map<string, PriceRow>();
    // the rest's ranges lie inside the window: the ts index reads just them
    const q = split.rest ? { where: split.rest } : { since: o.since, until: o.until };
    for (const r of iteratePriceRows(db, q)) {
      const k = `${r.requestId}#${r.row}`;
      if (r.role !== 'champion') chall.set(k, r);
      else {
        const e = champ.get(k);
        if (e) e.r = r;
        else champ.set(k, { first: r.id, r });
      }
    }
    for (const { r } of champ.values()) out.championNames.add(nameOf(r));
    for (const r of chall.values()) out.challengerNames.add(nameOf(r));
    for (const [k, { first, r: c }] of champ) {
      const s = chall.get(k);
      if (!s) out.championOnly++;
      else if (s.price === null || c.price === null) out.failures++;
      else {
        out.ids.push(first);
        out.rel.push((s.price - c.price) / c.price);
      }
    }
  }
  return out;
}

interface PairRow {
  id: number;
  ts: number;
  role: string;
  listing_id: string | null;
  price: number | null;
  lower: number | null;
  upper: number | null;
}

interface SoldPair {
  first: number;
  c: PairRow;
  s: PairRow;
  y: number;
}

/**
 * The window's pairs whose car has a realized price, in pair order: found from the sales
 * (by request id and row, else every request row of the listing id) through the log's
 * indexes, so 10,000 sales cost milliseconds whatever the window's length. A pair is the
 * last champion and last challenger row of a request row in the window, both priced.
 */
function soldPairs(db: LogDatabase, o: MonitorShadowOptions): SoldPair[] {
  const inWindow = (ts: number) => (o.since === undefined || ts >= o.since) && (o.until === undefined || ts < o.until);
  const sold = new Map<string, SoldPair>();
  const requested = new Set<string>();
  // the last champion and challenger rows of a request row in the window (rows in id order)
  const pairOf = (rows: readonly PairRow[]): Omit<SoldPair, 'y'> | null => {
    let first = -1;
    let c: PairRow | null = null;
    let s: PairRow | null = null;
    for (const r of rows) {
      if (!inWindow(r.ts)) continue;
      if (r.role !== 'champion') s = r;
      else {
        if (first < 0) first = r.id;
        c = r;
      }
    }
    return c && s && c.price !== null && s.price !== null ? { first, c, s } : null;
  };
  // sales by request id and row: one join through the (request_id, row) index
  const joined = db
    .prepare(
      `SELECT f.request_id AS request_id, f.row AS key_row, f.sold_price AS y, p.id AS id, p.ts AS ts, p.role AS role,
              p.listing_id AS listing_id, p.price AS price, p.lower AS lower, p.upper AS upper
       FROM feedback f JOIN predictions p ON p.request_id = f.request_id AND p.row = f.row
       WHERE f.request_id IS NOT NULL ORDER BY f.key, p.id`,
    )
    .all() as (PairRow & { request_id: string; key_row: number; y: number })[];
  for (let i = 0; i < joined.length;) {
    const k = `${joined[i].request_id}#${joined[i].key_row}`;
    let j = i;
    while (
      j < joined.length &&
      joined[j].request_id === joined[i].request_id &&
      joined[j].key_row === joined[i].key_row
    )
      j++;
    requested.add(k);
    const p = pairOf(joined.slice(i, j));
    if (p) sold.set(k, { ...p, y: joined[i].y });
    i = j;
  }
  // a sale by listing id prices every request row of that listing that has no sale of its own
  const byListing = db
    .prepare('SELECT listing_id, sold_price FROM feedback WHERE request_id IS NULL AND listing_id IS NOT NULL')
    .raw()
    .all() as [string, number][];
  if (byListing.length) {
    const keyRows = db.prepare(
      'SELECT id, ts, role, listing_id, price, lower, upper FROM predictions WHERE request_id = ? AND row = ? ORDER BY id',
    );
    const listingKeys = db
      .prepare("SELECT DISTINCT request_id, row FROM predictions WHERE listing_id = ? AND role = 'champion'")
      .raw();
    for (const [listingId, y] of byListing)
      for (const [requestId, row] of listingKeys.all(listingId) as [string, number][]) {
        const k = `${requestId}#${row}`;
        if (requested.has(k) || sold.has(k)) continue;
        const p = pairOf(keyRows.all(requestId, row) as PairRow[]);
        if (p && p.c.listing_id === listingId) sold.set(k, { ...p, y });
      }
  }
  return [...sold.values()].sort((a, b) => a.first - b.first);
}

/** The verdict of a paired bootstrap interval of challenger APE - champion APE (null: too few sales). */
export function shadowVerdict(d: DifferenceInterval | null): ShadowAccuracy['verdict'] {
  if (!d) return 'too_few_sales';
  if (d.upper < 0) return 'challenger_better';
  return d.lower > 0 ? 'champion_better' : 'no_significant_difference';
}

/** Agreement and (with feedback) accuracy of the shadow challenger against the champion. */
export function monitorShadow(o: MonitorShadowOptions): ShadowReport {
  const db = openLogDatabase(o.logPath, { readonly: true });
  try {
    // one snapshot of the aggregates, the rows and the sales
    return db.transaction(() => shadowReport(db, o))();
  } finally {
    db.close();
  }
}

function shadowReport(db: LogDatabase, o: MonitorShadowOptions): ShadowReport {
  const w = windowPairs(db, o);
  // pairs in the order of their champion's first row, as one pass over the rows meets them
  let rel = w.rel;
  if (w.ids.some((id, i) => i > 0 && id < w.ids[i - 1])) {
    const order = Array.from(w.ids.keys()).sort((a, b) => w.ids[a] - w.ids[b]);
    rel = order.map((i) => w.rel[i]);
  }
  const abs = Float64Array.from(rel, Math.abs);
  // a native numeric sort, unless a zero champion price made a NaN (then the comparator's order)
  if (abs.some(Number.isNaN)) abs.set(Array.from(abs).sort((a, b) => a - b));
  else abs.sort();
  const agreement: ShadowAgreement | null = rel.length
    ? {
        medianAbsRelDiff: quantile(abs, 0.5),
        p90AbsRelDiff: quantile(abs, 0.9),
        within5: abs.filter((x) => x <= 0.05).length / abs.length,
        within10: abs.filter((x) => x <= 0.1).length / abs.length,
        meanRelDiff: rel.reduce((a, b) => a + b, 0) / rel.length,
      }
    : null;
  const sold = soldPairs(db, o);
  let accuracy: ShadowAccuracy | null = null;
  if (sold.length) {
    const ape = (p: number, y: number) => Math.abs(p - y) / y;
    const m = o.params.model_test;
    const difference =
      sold.length >= 10
        ? pairedBootstrap(
            sold.map((x) => ape(x.s.price!, x.y)),
            sold.map((x) => ape(x.c.price!, x.y)),
            { resamples: m.bootstrap_resamples, confidence: m.confidence, seed: o.params.base.random_state },
          )
        : null;
    accuracy = {
      n: sold.length,
      champion: accuracyOf(sold.map((x) => ({ price: x.c.price!, sold: x.y, lower: x.c.lower, upper: x.c.upper }))),
      challenger: accuracyOf(sold.map((x) => ({ price: x.s.price!, sold: x.y, lower: x.s.lower, upper: x.s.upper }))),
      difference,
      verdict: shadowVerdict(difference),
    };
  }
  return {
    kind: 'carprice-shadow-report',
    formatVersion: 1,
    window: {
      since: o.since !== undefined ? new Date(o.since).toISOString() : null,
      until: o.until !== undefined ? new Date(o.until).toISOString() : null,
    },
    champion: [...w.championNames].sort(),
    challenger: [...w.challengerNames].sort(),
    pairs: rel.length,
    championOnly: w.championOnly,
    challengerFailures: w.failures,
    agreement,
    accuracy,
  };
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : `${(x * 100).toFixed(1)}%`;
const pp = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pp`;

/** The report as text. */
export function formatShadowReport(r: ShadowReport): string {
  const out: string[] = [];
  out.push(
    `champion ${r.champion.join(', ') || '-'} vs shadow challenger ${r.challenger.join(', ') || '-'}`,
    `${r.pairs} request row(s) priced by both; ${r.challengerFailures} challenger failure(s); ${r.championOnly} champion row(s) without a challenger price`,
  );
  if (!r.pairs && !r.challenger.length)
    out.push('no challenger rows in the window: start the server with --shadow models:/NAME@challenger');
  const a = r.agreement;
  if (a)
    out.push(
      '',
      'agreement (challenger price relative to the champion):',
      `  median |difference| ${pct(a.medianAbsRelDiff)}, 90th percentile ${pct(a.p90AbsRelDiff)}`,
      `  within 5%: ${pct(a.within5)}, within 10%: ${pct(a.within10)}, mean difference ${pp(a.meanRelDiff)}`,
    );
  const acc = r.accuracy;
  if (!acc)
    out.push(
      '',
      'accuracy: no realized prices for these requests yet (import them with `carprice monitor feedback FILE`)',
    );
  else {
    out.push(
      '',
      `accuracy on ${acc.n} sold car(s):`,
      `  champion   MAPE ${pct(acc.champion.mape)}, interval coverage ${pct(acc.champion.coverage)}`,
      `  challenger MAPE ${pct(acc.challenger.mape)}, interval coverage ${pct(acc.challenger.coverage)}`,
    );
    const d = acc.difference;
    if (d)
      out.push(
        `  APE difference (challenger - champion) ${pp(d.mean)}, ${Math.round(d.confidence * 100)}% interval [${pp(d.lower)}, ${pp(d.upper)}] (${d.resamples} paired resamples)`,
      );
    out.push(
      `  verdict: ${
        {
          challenger_better: 'the challenger is more accurate',
          champion_better: 'the champion is more accurate',
          no_significant_difference: 'no significant difference',
          too_few_sales: 'too few sold cars for an interval (at least 10)',
        }[acc.verdict]
      }`,
    );
  }
  return out.join('\n') + '\n';
}
