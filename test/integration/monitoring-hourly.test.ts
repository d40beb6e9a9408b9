/**
 * The prediction log's per-hour aggregates (src/monitoring/hourly.ts) give the same reports
 * as reading every row: on a real log file with rows over ten hours, champion and shadow
 * rows written in separate batches, challenger failures, pairs that cross an hour, request
 * ids logged twice, rows logged late, sales by request and by listing id, windows that start
 * and end mid-hour, retention that cuts an hour, and a log written before the aggregates
 * (migrated when opened for writing). The row-by-row drift report is driftReport's own
 * (`rowsOnly`); the row-by-row shadow report is the implementation the aggregates replaced,
 * kept here as the oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseParams } from '../../src/config/params.js';
import { driftReport, thresholdsFromParams, type DriftReport } from '../../src/monitoring/drift-report.js';
import {
  iteratePriceRows,
  openLogDatabase,
  pruneLog,
  readFeedback,
  recordInserter,
  upsertFeedback,
  type FeedbackEntry,
  type LogDatabase,
  type PriceRow,
} from '../../src/monitoring/log-store.js';
import { HOUR_MS, splitWindow } from '../../src/monitoring/hourly.js';
import type { PredictionRecord } from '../../src/monitoring/prediction-record.js';
import { monitorShadow, shadowVerdict, type ShadowReport } from '../../src/jobs/monitor-shadow.js';
import { accuracyOf } from '../../src/jobs/monitor-feedback.js';
import { pairedBootstrap } from '../../src/jobs/paired-bootstrap.js';
import { recordsOf, referenceBundle, shiftedListings, unshiftedListings } from '../helpers/monitoring.js';

const params = parseParams({ model_test: { bootstrap_resamples: 200 } });
const thresholds = thresholdsFromParams(params.monitoring.drift);
const champion = referenceBundle();
const challenger = referenceBundle({ n: 500, seed: 9 });
/** 00:20 UTC: the log's first hour is partial. */
const T0 = Date.parse('2026-11-01T00:20:00Z');
const STEP = 12_000;
const N = 3000;

/** The log: 3,000 request rows 12 s apart (10 hours), most also priced by the challenger. */
function logRecords(): { batches: PredictionRecord[][]; feedback: FeedbackEntry[] } {
  const listings = [...unshiftedListings(N / 2, 21), ...shiftedListings(N / 2, 23)];
  const champ = recordsOf(champion, listings, T0, STEP).map((r, i) => ({
    ...r,
    requestId: `q${i}`,
    listingId: `L${i % 400}`,
    modelVersion: i % 3 === 0 ? '1' : '2',
  }));
  const chall = recordsOf(challenger, listings, T0, STEP).map((r, i) => ({
    ...r,
    requestId: `q${i}`,
    listingId: `L${i % 400}`,
    role: 'challenger' as const,
    modelName: 'challenger',
    modelVersion: '7',
    // a challenger answer 0.4 s after the champion's; one crosses into the next hour
    ts: r.ts + (i === 799 ? 13_000 : 400),
    ...(i % 11 === 5 ? { price: null, lower: null, upper: null, error: 'challenger failed' } : {}),
  }));
  const batches: PredictionRecord[][] = [];
  for (let i = 0; i < N; i += 250) {
    batches.push(champ.slice(i, i + 250));
    // the challenger's rows come a batch later, some never
    batches.push(chall.slice(i, i + 250).filter((_, k) => (i + k) % 7 !== 3));
  }
  // request ids logged twice (a client reusing x-request-id), and rows logged late
  batches.push([
    { ...champ[100], ts: champ[100].ts + 3 * HOUR_MS },
    { ...champ[2000], ts: champ[2000].ts + 60_000, price: champ[2000].price! * 1.1 },
    { ...champ[700], requestId: 'late-1', ts: T0 + 2 * HOUR_MS + 5000 },
    { ...chall[700], requestId: 'late-1', ts: T0 + 2 * HOUR_MS + 5500 },
  ]);
  const feedback: FeedbackEntry[] = [];
  for (let i = 0; i < N; i += 7)
    feedback.push({ requestId: `q${i}`, row: 0, listingId: null, soldPrice: 90_000 + i * 37, soldAt: null });
  for (let k = 0; k < 30; k++)
    feedback.push({ requestId: null, row: 0, listingId: `L${k * 13}`, soldPrice: 120_000 + k, soldAt: null });
  return { batches, feedback };
}

function writeLog(path: string): void {
  const { batches, feedback } = logRecords();
  const db = openLogDatabase(path);
  try {
    const insert = recordInserter(db);
    for (const b of batches) insert(b);
    upsertFeedback(db, feedback, T0 + 20 * HOUR_MS);
  } finally {
    db.close();
  }
}

/** The shadow report as computed before the hourly aggregates: one pass over every row of the window. */
function shadowRowByRow(db: LogDatabase, since?: number, until?: number): Omit<ShadowReport, 'kind' | 'formatVersion'> {
  const champ = new Map<string, PriceRow>();
  const chall = new Map<string, PriceRow>();
  for (const r of iteratePriceRows(db, { since, until }))
    (r.role === 'champion' ? champ : chall).set(`${r.requestId}#${r.row}`, r);
  const names = (m: Map<string, PriceRow>) =>
    [...new Set([...m.values()].map((r) => `${r.modelName} v${r.modelVersion ?? '-'}`))].sort();
  const pairs: [PriceRow, PriceRow][] = [];
  let failures = 0;
  for (const [k, c] of champ) {
    const s = chall.get(k);
    if (!s) continue;
    if (s.price === null || c.price === null) failures++;
    else pairs.push([c, s]);
  }
  const rel = pairs.map(([c, s]) => (s.price! - c.price!) / c.price!);
  const abs = rel.map(Math.abs).sort((a, b) => a - b);
  const q = (p: number) => {
    const pos = p * (abs.length - 1);
    return abs[Math.floor(pos)] + (abs[Math.ceil(pos)] - abs[Math.floor(pos)]) * (pos - Math.floor(pos));
  };
  const byRequest = new Map<string, number>();
  const byListing = new Map<string, number>();
  for (const f of readFeedback(db)) {
    if (f.requestId) byRequest.set(`${f.requestId}#${f.row}`, f.soldPrice);
    if (f.listingId && !f.requestId) byListing.set(f.listingId, f.soldPrice);
  }
  const sold: { c: PriceRow; s: PriceRow; y: number }[] = [];
  for (const [c, s] of pairs) {
    const y = byRequest.get(`${c.requestId}#${c.row}`) ?? (c.listingId ? byListing.get(c.listingId) : undefined);
    if (y !== undefined) sold.push({ c, s, y });
  }
  const ape = (p: number, y: number) => Math.abs(p - y) / y;
  const m = params.model_test;
  const difference =
    sold.length >= 10
      ? pairedBootstrap(
          sold.map((x) => ape(x.s.price!, x.y)),
          sold.map((x) => ape(x.c.price!, x.y)),
          { resamples: m.bootstrap_resamples, confidence: m.confidence, seed: params.base.random_state },
        )
      : null;
  return {
    window: {
      since: since !== undefined ? new Date(since).toISOString() : null,
      until: until !== undefined ? new Date(until).toISOString() : null,
    },
    champion: names(champ),
    challenger: names(chall),
    pairs: pairs.length,
    championOnly: [...champ.keys()].filter((k) => !chall.has(k)).length,
    challengerFailures: failures,
    agreement: pairs.length
      ? {
          medianAbsRelDiff: q(0.5),
          p90AbsRelDiff: q(0.9),
          within5: abs.filter((x) => x <= 0.05).length / abs.length,
          within10: abs.filter((x) => x <= 0.1).length / abs.length,
          meanRelDiff: rel.reduce((a, b) => a + b, 0) / rel.length,
        }
      : null,
    accuracy: sold.length
      ? {
          n: sold.length,
          champion: accuracyOf(sold.map((x) => ({ price: x.c.price!, sold: x.y, lower: x.c.lower, upper: x.c.upper }))),
          challenger: accuracyOf(
            sold.map((x) => ({ price: x.s.price!, sold: x.y, lower: x.s.lower, upper: x.s.upper })),
          ),
          difference,
          verdict: shadowVerdict(difference),
        }
      : null,
  };
}

const WINDOWS: [string, number | undefined, number | undefined][] = [
  ['mid-hour to mid-hour', T0 + 17 * 60_000 + 123, T0 + 7 * HOUR_MS + 3 * 60_000],
  ['on hour boundaries', T0 + 40 * 60_000, T0 + 6 * HOUR_MS + 40 * 60_000],
  ['the whole log', undefined, undefined],
  ['open end', T0 + 3 * HOUR_MS + 1, undefined],
  ['within one hour', T0 + 2 * HOUR_MS + 60_000, T0 + 2 * HOUR_MS + 30 * 60_000],
];

function drift(
  db: LogDatabase,
  since: number | undefined,
  until: number | undefined,
  version: string | null,
  rowsOnly: boolean,
): DriftReport {
  const now = T0 + 20 * HOUR_MS;
  return driftReport({
    db,
    reference: champion.reference,
    referenceOrigin: 'bundle',
    model: { name: 'model', version },
    since: since ?? 0,
    until: until ?? now,
    thresholds,
    now,
    maxRows: null,
    rowsOnly,
  });
}

/** Every window's drift and shadow reports, from the aggregates and row by row, are the same. */
function assertSameReports(path: string, label: string): void {
  const db = openLogDatabase(path, { readonly: true });
  try {
    let wholeHours = 0;
    let judged = 0;
    for (const [name, since, until] of WINDOWS) {
      wholeHours += splitWindow(db, since, until).hours.length;
      for (const version of [null, '2']) {
        const fast = drift(db, since, until, version, false);
        if (fast.window.rows > 0) judged++;
        assert.deepEqual(
          fast,
          drift(db, since, until, version, true),
          `${label}, ${name}, drift of version ${version}`,
        );
      }
      const { kind: _k, formatVersion: _f, ...fast } = monitorShadow({ logPath: path, since, until, params });
      assert.deepEqual(fast, shadowRowByRow(db, since, until), `${label}, ${name}: shadow`);
      if (fast.pairs > 0 && fast.accuracy !== null) judged++;
    }
    // most windows have rows, pairs and sales (retention empties the earliest)
    assert.ok(judged >= 10, `${label}: ${judged} reports with rows`);
    assert.ok(wholeHours >= 8, `${label}: the windows read ${wholeHours} whole hours from the aggregates`);
  } finally {
    db.close();
  }
}

test('hourly aggregates: drift and shadow reports equal the row-by-row reports, windows starting and ending mid-hour', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-hourly-'));
  try {
    const path = join(dir, 'log.db');
    writeLog(path);
    const db = openLogDatabase(path, { readonly: true });
    const dirty = db.prepare('SELECT COUNT(DISTINCT hour) AS n FROM hourly WHERE dirty = 1').get() as { n: number };
    const perHour = db.prepare('SELECT MAX(n) AS n FROM (SELECT COUNT(*) AS n FROM hourly GROUP BY hour)').get() as {
      n: number;
    };
    db.close();
    // pairs across hours and repeated request ids make some hours row-by-row ones, not all
    assert.ok(dirty.n >= 2 && dirty.n <= 5, `dirty hours: ${dirty.n}`);
    // the writer merged each past hour's segments into one (the newest may have several)
    assert.ok(perHour.n <= 3, `segments per hour: ${perHour.n}`);
    assertSameReports(path, 'as written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hourly aggregates: retention deletes whole hours with their rows and makes a partly deleted hour row-by-row', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-hourly-'));
  try {
    const path = join(dir, 'log.db');
    writeLog(path);
    const db = openLogDatabase(path);
    // retention cuts at 02:50 (mid-hour), then max_rows cuts by id
    const now = T0 + 2.5 * HOUR_MS + 30 * 86_400_000;
    assert.ok(pruneLog(db, { now, retentionDays: 30, maxRows: 1e9 }) > 0);
    const oldest = (db.prepare('SELECT MIN(hour) AS h FROM hourly').get() as { h: number }).h;
    assert.equal(oldest, Math.floor((T0 + 2.5 * HOUR_MS) / HOUR_MS), 'hours wholly deleted lose their aggregates');
    const cut = db.prepare('SELECT dirty FROM hourly WHERE hour = ?').all(oldest) as { dirty: number }[];
    assert.deepEqual(cut, [{ dirty: 1 }], 'the hour retention cut is read row by row');
    assert.ok(pruneLog(db, { now, retentionDays: 30, maxRows: 3000 }) > 0);
    db.close();
    assertSameReports(path, 'after retention');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hourly aggregates: a log written before them gets them built from its rows when opened for writing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-hourly-'));
  try {
    const path = join(dir, 'log.db');
    writeLog(path);
    const db = openLogDatabase(path);
    const byHour = (d: LogDatabase) =>
      d
        .prepare(
          'SELECT hour, MAX(dirty) AS dirty, SUM(champion) AS champion, SUM(challenger) AS challenger FROM hourly GROUP BY hour ORDER BY hour',
        )
        .all()
        .map((r) => {
          const h = r as { hour: number; dirty: number; champion: number; challenger: number };
          return h.dirty ? { hour: h.hour, dirty: 1 } : h;
        });
    const before = byHour(db);
    // what a version 1 log is: no hourly table
    db.exec('DROP TABLE hourly');
    db.pragma('user_version = 1');
    db.close();
    // read-only (a report while a version 1 server still writes): every row is read
    const ro = openLogDatabase(path, { readonly: true });
    assert.equal(splitWindow(ro, undefined, undefined).hours.length, 0);
    const rowsOnly = drift(ro, T0, T0 + 8 * HOUR_MS, null, true);
    assert.deepEqual(drift(ro, T0, T0 + 8 * HOUR_MS, null, false), rowsOnly);
    ro.close();
    // opened for writing: migrated to version 2, the aggregates rebuilt as the writer kept them
    const rw = openLogDatabase(path);
    assert.equal(rw.pragma('user_version', { simple: true }), 2);
    assert.deepEqual(byHour(rw), before);
    rw.close();
    assertSameReports(path, 'migrated');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
