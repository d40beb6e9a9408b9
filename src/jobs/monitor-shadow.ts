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
import { iterateRecords, openLogDatabase, readFeedback } from '../monitoring/log-store.js';
import type { PredictionRecord } from '../monitoring/prediction-record.js';
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

function quantile(sorted: readonly number[], q: number): number {
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
}

/** Agreement and (with feedback) accuracy of the shadow challenger against the champion. */
export function monitorShadow(o: MonitorShadowOptions): ShadowReport {
  const db = openLogDatabase(o.logPath, { readonly: true });
  try {
    const champ = new Map<string, PredictionRecord>();
    const chall = new Map<string, PredictionRecord>();
    for (const r of iterateRecords(db, { since: o.since, until: o.until }, { inputs: false }))
      (r.role === 'champion' ? champ : chall).set(`${r.requestId}#${r.row}`, r);
    const names = (m: Map<string, PredictionRecord>) =>
      [...new Set([...m.values()].map((r) => `${r.modelName} v${r.modelVersion ?? '-'}`))].sort();
    const pairs: [PredictionRecord, PredictionRecord][] = [];
    let failures = 0;
    for (const [k, c] of champ) {
      const s = chall.get(k);
      if (!s) continue;
      if (s.price === null || c.price === null) failures++;
      else pairs.push([c, s]);
    }
    const rel = pairs.map(([c, s]) => (s.price! - c.price!) / c.price!);
    const abs = rel.map(Math.abs).sort((a, b) => a - b);
    const agreement: ShadowAgreement | null = pairs.length
      ? {
          medianAbsRelDiff: quantile(abs, 0.5),
          p90AbsRelDiff: quantile(abs, 0.9),
          within5: abs.filter((x) => x <= 0.05).length / abs.length,
          within10: abs.filter((x) => x <= 0.1).length / abs.length,
          meanRelDiff: rel.reduce((a, b) => a + b, 0) / rel.length,
        }
      : null;
    // realized prices by request row and by listing id
    const byRequest = new Map<string, number>();
    const byListing = new Map<string, number>();
    for (const f of readFeedback(db)) {
      if (f.requestId) byRequest.set(`${f.requestId}#${f.row}`, f.soldPrice);
      if (f.listingId && !f.requestId) byListing.set(f.listingId, f.soldPrice);
    }
    const sold: { c: PredictionRecord; s: PredictionRecord; y: number }[] = [];
    for (const [c, s] of pairs) {
      const y = byRequest.get(`${c.requestId}#${c.row}`) ?? (c.listingId ? byListing.get(c.listingId) : undefined);
      if (y !== undefined) sold.push({ c, s, y });
    }
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
        verdict: !difference
          ? 'too_few_sales'
          : difference.upper < 0
            ? 'challenger_better'
            : difference.lower > 0
              ? 'champion_better'
              : 'no_significant_difference',
      };
    }
    return {
      kind: 'carprice-shadow-report',
      formatVersion: 1,
      window: {
        since: o.since !== undefined ? new Date(o.since).toISOString() : null,
        until: o.until !== undefined ? new Date(o.until).toISOString() : null,
      },
      champion: names(champ),
      challenger: names(chall),
      pairs: pairs.length,
      championOnly: [...champ.keys()].filter((k) => !chall.has(k)).length,
      challengerFailures: failures,
      agreement,
      accuracy,
    };
  } finally {
    db.close();
  }
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
