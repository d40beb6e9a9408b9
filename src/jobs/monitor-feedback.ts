/**
 * `carprice monitor feedback FILE`: realized prices (what the cars sold for) joined to the
 * logged predictions, giving the accuracy the model really has in production: realized
 * MAPE and interval coverage, overall, over time (by the prediction's day, week or month),
 * by slice (make, fuelType, bodyType, transmissionType, sold-price band) and by model
 * version.
 *
 * The file (csv or xlsx) has a sold price column (`sold_price`, `sale_price`,
 * `realized_price` or `price`) and a key: `request_id` (the x-request-id a response carried,
 * with `row` for a batch request's listing) or `listing_id` (the id the listing was sent
 * with); optionally `sold_at`. The entries are stored in the log's feedback table (a later
 * import of the same key replaces it), so the report covers every import so far, and
 * `carprice monitor shadow` can judge the challenger on them.
 */
import { existsSync } from 'node:fs';
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import { readTable } from '../data/read.js';
import type { RawTable } from '../data/table.js';
import {
  championLookup,
  openLogDatabase,
  readFeedback,
  upsertFeedback,
  type FeedbackEntry,
  type LogDatabase,
} from '../monitoring/log-store.js';
import type { PredictionRecord } from '../monitoring/prediction-record.js';
import { SLICE_COLUMNS, priceBand } from './error-slices.js';

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

const PRICE_COLUMNS = ['sold_price', 'sale_price', 'realized_price', 'price'];
const REQUEST_COLUMNS = ['request_id', 'x-request-id'];
const LISTING_COLUMNS = ['listing_id', 'id'];
const DATE_COLUMNS = ['sold_at', 'sold_date', 'sale_date', 'date'];

function findColumn(t: RawTable, names: readonly string[]): number {
  for (const n of names) {
    const i = t.columns.findIndex((c) => norm(c) === norm(n));
    if (i >= 0) return i;
  }
  return -1;
}

function text(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && v.trim()) return v.trim();
  return null;
}

/** Excel serial day numbers (xlsx dates) and ISO strings -> Unix ms. */
function dateOf(v: unknown): number | null | 'bad' {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e11 ? v : Math.round((v - 25569) * 86_400_000);
  if (typeof v === 'string') {
    const t = Date.parse(v.trim());
    return Number.isFinite(t) ? t : 'bad';
  }
  return 'bad';
}

/** The feedback entries of a table, and the rows that could not be read (line: reason). */
export function parseFeedback(t: RawTable): { entries: FeedbackEntry[]; problems: string[] } {
  const price = findColumn(t, PRICE_COLUMNS);
  const req = findColumn(t, REQUEST_COLUMNS);
  const lst = findColumn(t, LISTING_COLUMNS);
  const row = findColumn(t, ['row']);
  const date = findColumn(t, DATE_COLUMNS);
  if (price < 0)
    throw new AppError(
      'DATA_INVALID',
      `${t.source} has no sold price column (one of ${PRICE_COLUMNS.join(', ')}); its columns: ${t.columns.join(', ') || '(none)'}`,
    );
  if (req < 0 && lst < 0)
    throw new AppError(
      'DATA_INVALID',
      `${t.source} has no key column: add request_id (the x-request-id of the prediction response) or listing_id (the listing's own id); its columns: ${t.columns.join(', ')}`,
    );
  const entries: FeedbackEntry[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  t.rows.forEach((cells, i) => {
    const line = t.rowNumbers[i] ?? i + 2;
    const requestId = req >= 0 ? text(cells[req]) : null;
    const listingId = lst >= 0 ? text(cells[lst]) : null;
    const rawPrice = cells[price];
    const p =
      typeof rawPrice === 'number' ? rawPrice : typeof rawPrice === 'string' ? Number(rawPrice.replace(/,/g, '')) : NaN;
    const r = row >= 0 && cells[row] !== null && cells[row] !== '' ? Number(cells[row]) : 0;
    const d = date >= 0 ? dateOf(cells[date]) : null;
    if (!requestId && !listingId) problems.push(`line ${line}: needs a request_id or a listing_id`);
    else if (!(Number.isFinite(p) && p > 0))
      problems.push(
        `line ${line}: ${t.columns[price]} must be a positive number, got ${JSON.stringify(rawPrice ?? null)}`,
      );
    else if (!(Number.isInteger(r) && r >= 0))
      problems.push(`line ${line}: row must be a whole number >= 0, got ${JSON.stringify(cells[row])}`);
    else if (d === 'bad')
      problems.push(`line ${line}: ${t.columns[date]} is not a date: ${JSON.stringify(cells[date])}`);
    else {
      const key = requestId ? `request_id ${requestId} row ${r}` : `listing_id ${listingId}`;
      const first = seen.get(key);
      if (first !== undefined)
        problems.push(`line ${line}: the same ${key} as line ${first}; one sale per prediction, this line skipped`);
      else {
        seen.set(key, line);
        entries.push({ requestId, row: requestId ? r : 0, listingId, soldPrice: p, soldAt: d });
      }
    }
  });
  return { entries, problems };
}

/** The champion prediction a feedback entry is about (by request id and row, else the listing's latest). */
export function championFor(db: LogDatabase, f: FeedbackEntry): PredictionRecord | undefined {
  return championLookup(db)(f);
}

export interface AccuracyStats {
  n: number;
  mape: number;
  medape: number;
  mae: number;
  /** Share of sold prices inside the logged interval (null when no prediction had one). */
  coverage: number | null;
}

export interface AccuracyGroup extends AccuracyStats {
  key: string;
}

/** Realized accuracy of the logged predictions over every stored sale. */
export interface RealizedAccuracy {
  /** Every stored feedback entry matched to a logged prediction. */
  overall: AccuracyStats;
  intervalLevel: number | null;
  feedbackEntries: number;
  unmatched: number;
  period: 'day' | 'week' | 'month';
  byPeriod: AccuracyGroup[];
  bySlice: (AccuracyGroup & { column: string; flagged: boolean })[];
  byModel: AccuracyGroup[];
}

export interface RealizedAccuracyReport extends RealizedAccuracy {
  kind: 'carprice-realized-accuracy';
  formatVersion: 1;
  file: { path: string; rows: number; imported: number; skipped: string[]; unmatchedInFile: number };
}

interface Pair {
  record: PredictionRecord;
  sold: number;
}

export function accuracyOf(
  pairs: readonly { price: number; sold: number; lower: number | null; upper: number | null }[],
): AccuracyStats {
  const n = pairs.length;
  if (n === 0) return { n: 0, mape: NaN, medape: NaN, mae: NaN, coverage: null };
  // sold prices are > 0, so no APE is NaN: the native numeric sort orders them as a comparator would
  const ape = Float64Array.from(pairs, (p) => Math.abs(p.price - p.sold) / p.sold).sort();
  const withInterval = pairs.filter((p) => p.lower !== null && p.upper !== null);
  return {
    n,
    mape: ape.reduce((a, b) => a + b, 0) / n,
    medape: n % 2 ? ape[n >> 1] : (ape[n / 2 - 1] + ape[n / 2]) / 2,
    mae: pairs.reduce((a, p) => a + Math.abs(p.price - p.sold), 0) / n,
    coverage: withInterval.length
      ? withInterval.filter((p) => p.lower! <= p.sold && p.sold <= p.upper!).length / withInterval.length
      : null,
  };
}

function periodKey(ts: number, period: 'day' | 'week' | 'month'): string {
  const d = new Date(ts);
  if (period === 'month') return d.toISOString().slice(0, 7);
  if (period === 'day') return d.toISOString().slice(0, 10);
  // the Monday the week starts on
  const dow = (d.getUTCDay() + 6) % 7;
  return `week of ${new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - dow)).toISOString().slice(0, 10)}`;
}

function groupBy(pairs: readonly Pair[], key: (p: Pair) => string): AccuracyGroup[] {
  const m = new Map<string, Pair[]>();
  for (const p of pairs) {
    const k = key(p);
    let l = m.get(k);
    if (!l) m.set(k, (l = []));
    l.push(p);
  }
  return [...m.entries()].map(([k, l]) => ({
    key: k,
    ...accuracyOf(
      l.map((p) => ({ price: p.record.price!, sold: p.sold, lower: p.record.lower, upper: p.record.upper })),
    ),
  }));
}

export interface MonitorFeedbackOptions {
  logPath: string;
  file: string;
  env?: Env;
  now: number;
  period?: 'day' | 'week' | 'month';
  /** Slices with fewer matched sales are not reported (default 10). */
  minSliceCount?: number;
  /** A slice's MAPE above this multiple of the overall is flagged (default 1.5). */
  flagRatio?: number;
  signal?: AbortSignal;
}

/**
 * Refuse a file whose sold prices are in another unit than the predictions (lakhs, or
 * thousands, instead of rupees): with at least 5 matched sales, a median sold/predicted
 * ratio below 1/10 or above 10 is no market, it is a unit.
 */
function checkUnits(matched: readonly { f: FeedbackEntry; record?: PredictionRecord }[], file: string): void {
  const ratios = matched
    .filter((m) => m.record && m.record.price !== null && m.record.price > 0)
    .map((m) => m.f.soldPrice / m.record!.price!)
    .sort((a, b) => a - b);
  if (ratios.length < 5) return;
  const median = ratios[ratios.length >> 1];
  if (median < 0.1 || median > 10)
    throw new AppError(
      'DATA_INVALID',
      `${file}: the sold prices are a median ${median < 1 ? `${Math.round(1 / median)}x below` : `${Math.round(median)}x above`} the logged predictions (e.g. ${matched.find((m) => m.record)!.f.soldPrice} sold vs ${Math.round(matched.find((m) => m.record)!.record!.price!)} predicted); give the sold price in rupees, as the model prices (not lakhs or thousands). Nothing was imported`,
    );
}

/** Import realized prices and report the realized accuracy of the logged predictions. */
export async function monitorFeedback(o: MonitorFeedbackOptions): Promise<RealizedAccuracyReport> {
  const table = await readTable(o.file, { env: o.env, signal: o.signal });
  const { entries, problems } = parseFeedback(table);
  if (entries.length === 0)
    throw new AppError(
      'DATA_INVALID',
      `${o.file}: no usable feedback row${problems.length ? `: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}` : ' (the file is empty)'}`,
    );
  // sales join predictions already logged: a log that is not there is a wrong path (--log, or
  // another directory), not a log to start, where the sales would be stored out of sight
  if (!existsSync(o.logPath))
    throw new AppError(
      'FILE_NOT_FOUND',
      `no prediction log at ${o.logPath}, so no prediction to join the sales to; \`carprice serve\` writes it (monitoring.log_path in params.yaml, or --log FILE). Nothing was imported`,
    );
  const db = openLogDatabase(o.logPath);
  try {
    const find = championLookup(db);
    const matched = entries.map((f) => ({ f, record: find(f) }));
    const unmatchedInFile = matched.filter((m) => !m.record).length;
    checkUnits(matched, o.file);
    upsertFeedback(db, entries, o.now);
    const accuracy = realizedAccuracy(db, o);
    return {
      kind: 'carprice-realized-accuracy',
      formatVersion: 1,
      file: { path: o.file, rows: table.rows.length, imported: entries.length, skipped: problems, unmatchedInFile },
      ...accuracy,
    };
  } finally {
    db.close();
  }
}

/** The realized accuracy over every sale stored in the log (null-free: n = 0 when none matched). */
export function realizedAccuracy(
  db: LogDatabase,
  o: { period?: 'day' | 'week' | 'month'; minSliceCount?: number; flagRatio?: number } = {},
): RealizedAccuracy {
  const stored = readFeedback(db);
  const pairs: Pair[] = [];
  const find = championLookup(db);
  for (const f of stored) {
    const record = find(f);
    if (record && record.price !== null) pairs.push({ record, sold: f.soldPrice });
  }
  const period = o.period ?? 'week';
  const minCount = o.minSliceCount ?? 10;
  const flagRatio = o.flagRatio ?? 1.5;
  const overall = accuracyOf(
    pairs.map((p) => ({ price: p.record.price!, sold: p.sold, lower: p.record.lower, upper: p.record.upper })),
  );
  const bySlice: RealizedAccuracy['bySlice'] = [];
  const sliceKeys: [string, (p: Pair) => string][] = [
    ...SLICE_COLUMNS.map((c): [string, (p: Pair) => string] => [c, (p) => text(p.record.inputs[c]) ?? '(missing)']),
    ['price band', (p) => priceBand(p.sold)],
  ];
  for (const [column, key] of sliceKeys)
    for (const g of groupBy(pairs, key)
      .filter((x) => x.n >= minCount)
      .sort((a, b) => b.mape - a.mape))
      bySlice.push({ ...g, column, flagged: g.mape > flagRatio * overall.mape });
  const level = pairs.find((p) => p.record.level !== null)?.record.level ?? null;
  return {
    overall,
    intervalLevel: level,
    feedbackEntries: stored.length,
    unmatched: stored.length - pairs.length,
    period,
    byPeriod: groupBy(pairs, (p) => periodKey(p.record.ts, period)).sort((a, b) => (a.key < b.key ? -1 : 1)),
    bySlice,
    byModel: groupBy(pairs, (p) => `${p.record.modelName} v${p.record.modelVersion ?? '-'}`).sort((a, b) =>
      a.key < b.key ? -1 : 1,
    ),
  };
}

const pct = (x: number | null) => (x === null || Number.isNaN(x) ? '-' : `${(x * 100).toFixed(1)}%`);

/** The report as text (what the command prints). */
export function formatFeedbackReport(r: RealizedAccuracyReport): string {
  const out: string[] = [];
  out.push(
    `imported ${r.file.imported} of ${r.file.rows} row(s) from ${r.file.path}${r.file.unmatchedInFile ? ` (${r.file.unmatchedInFile} match no logged prediction)` : ''}`,
  );
  for (const p of r.file.skipped.slice(0, 5)) out.push(`  skipped ${p}`);
  if (r.file.skipped.length > 5) out.push(`  ... and ${r.file.skipped.length - 5} more skipped`);
  const o = r.overall;
  out.push(
    '',
    `realized accuracy over ${o.n} sold listing(s) with a logged prediction (${r.feedbackEntries} feedback entries stored, ${r.unmatched} unmatched):`,
    `  MAPE ${pct(o.mape)}, median APE ${pct(o.medape)}, MAE ${Number.isNaN(o.mae) ? '-' : Math.round(o.mae).toLocaleString('en-US')}, interval coverage ${pct(o.coverage)}${r.intervalLevel !== null ? ` (nominal ${pct(r.intervalLevel)})` : ''}`,
  );
  const table = (title: string, rows: { label: string; g: AccuracyStats; flag?: boolean }[]) => {
    if (!rows.length) return;
    const w = Math.max(...rows.map((x) => x.label.length), title.length);
    out.push('', `${title.padEnd(w)}  ${'n'.padStart(5)}  ${'MAPE'.padStart(7)}  ${'coverage'.padStart(8)}`);
    for (const x of rows)
      out.push(
        `${x.label.padEnd(w)}  ${String(x.g.n).padStart(5)}  ${pct(x.g.mape).padStart(7)}  ${pct(x.g.coverage).padStart(8)}${x.flag ? '  flagged' : ''}`,
      );
  };
  table(
    `by ${r.period}`,
    r.byPeriod.map((g) => ({ label: g.key, g })),
  );
  table(
    'by model',
    r.byModel.map((g) => ({ label: g.key, g })),
  );
  table(
    'by slice',
    r.bySlice.map((g) => ({ label: `${g.column} = ${g.key}`, g, flag: g.flagged })),
  );
  return out.join('\n') + '\n';
}
