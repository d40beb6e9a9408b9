/**
 * Test helpers for monitoring: a fixture bundle with its training reference profile, request
 * windows with and without a synthetic shift (older cars, more diesel, a make never seen in
 * training), and log records for them priced by the bundle itself.
 */
import { parseParams } from '../../src/config/params.js';
import { trainBundle } from '../../src/bundle/train-bundle.js';
import type { ModelBundle } from '../../src/bundle/model-bundle.js';
import { buildReferenceProfile } from '../../src/bundle/reference-profile.js';
import type { PredictionRecord } from '../../src/monitoring/prediction-record.js';
import { openLogDatabase, recordInserter, upsertFeedback, type FeedbackEntry } from '../../src/monitoring/log-store.js';
import { Rng } from '../../src/core/rng.js';
import { asInput, fixtureFrame, generateListings } from '../fixtures/listings.js';

const params = parseParams({});

/** A ridge bundle fitted on `n` fixture listings, with the reference profile training stores. */
export function referenceBundle(o: { n?: number; seed?: number; algo?: string } = {}): ModelBundle {
  const { frame, y, schema } = fixtureFrame({ n: o.n ?? 800, seed: o.seed ?? 5 });
  const bundle = trainBundle(frame, y, schema, {
    algo: o.algo ?? 'ridge',
    algoParams: { ...params.model_trainer.params, ridge: { alpha: 0.01 }, gbdt: { n_estimators: 30, max_depth: 3 } },
    features: params.features,
    seed: 42,
    intervalLevel: 0.9,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'fixture', rows: frame.nRows, source: 'fixture' },
      params: {},
      carpriceVersion: 'test',
    },
  });
  bundle.reference = buildReferenceProfile(frame, bundle.predictFrame(frame));
  return bundle;
}

/** Fresh requests from the training distribution (another seed). */
export function unshiftedListings(n: number, seed = 11): Record<string, unknown>[] {
  return generateListings({ n, seed }).map(asInput);
}

/**
 * Requests after a market change: 70% of the cars are 2012-2014 models (training spread
 * 2012-2024 evenly), 60% are diesel (training: the diesel variants only, ~35%), and 20% are
 * a make never seen in training (Kia Seltos).
 */
export function shiftedListings(n: number, seed = 13): Record<string, unknown>[] {
  const rng = new Rng(seed);
  return generateListings({ n, seed }).map((l) => {
    const x = asInput(l);
    if (rng.next() < 0.7) x.year = 2012 + rng.int(3);
    if (rng.next() < 0.6) x.fuelType = 'Diesel';
    if (rng.next() < 0.2) {
      x.make = 'Kia';
      x.model = 'SELTOS';
      x.variant = 'HTX 1.5 DIESEL';
    }
    return x;
  });
}

/** Champion log records for `listings`, priced by `bundle`, from `ts`, `stepMs` apart (default 1). */
export function recordsOf(
  bundle: ModelBundle,
  listings: Record<string, unknown>[],
  ts: number,
  stepMs = 1,
): PredictionRecord[] {
  const p = bundle.compilePredictor({ now: new Date('2026-06-01T00:00:00Z') });
  return listings.map((l, i) => {
    const r = p.predictOne(l);
    if (!r.ok) throw new Error(`fixture listing ${i} failed: ${JSON.stringify(r.errors)}`);
    return {
      ts: ts + i * stepMs,
      requestId: `req-${ts}-${i}`,
      row: 0,
      listingId: `L${i}`,
      route: '/predict',
      role: 'champion',
      modelName: 'model',
      modelVersion: null,
      price: r.price,
      lower: r.interval?.lower ?? null,
      upper: r.interval?.upper ?? null,
      level: r.interval?.level ?? null,
      latencyMs: 0.5,
      inputs: l,
      unseen: r.unknownCategories,
      error: null,
    };
  });
}

export interface LogContents {
  /** Unshifted champion rows, ending `oldAgeMs` before `now` (default 10 days). */
  unshifted: number;
  /** Shifted champion rows, ending `recentAgeMs` before `now` (default 2 days). */
  shifted: number;
  now: number;
  oldAgeMs?: number;
  recentAgeMs?: number;
  /** Price the shifted rows with this challenger too (role challenger, same request ids). */
  challenger?: ModelBundle;
  /** Sold prices for this many of the shifted rows (the champion's price times 0.85..1.15). */
  feedback?: number;
  /** Rows inserted per transaction (default 5,000). */
  batch?: number;
  /** Time between two rows (default 1 ms: a window's rows within seconds; bench/ui spreads them over days). */
  spacingMs?: number;
}

/**
 * A real prediction log (the SQLite file `carprice serve` writes, through the same store
 * code) at `path`, priced by `bundle`: a normal past and a shifted recent window, optionally
 * shadow rows and realized prices. Returns the rows written.
 */
export function writePredictionLog(path: string, bundle: ModelBundle, o: LogContents): number {
  const db = openLogDatabase(path);
  try {
    const insert = recordInserter(db);
    const batch = o.batch ?? 5000;
    let written = 0;
    const put = (records: PredictionRecord[]) => {
      for (let i = 0; i < records.length; i += batch) insert(records.slice(i, i + batch));
      written += records.length;
    };
    const chunk = 10_000;
    const step = o.spacingMs ?? 1;
    for (let start = 0; start < o.unshifted; start += chunk) {
      const n = Math.min(chunk, o.unshifted - start);
      put(
        recordsOf(
          bundle,
          unshiftedListings(n, 11 + start),
          o.now - (o.oldAgeMs ?? 10 * 86_400_000) - (o.unshifted - start) * step,
          step,
        ),
      );
    }
    const feedback: FeedbackEntry[] = [];
    for (let start = 0; start < o.shifted; start += chunk) {
      const n = Math.min(chunk, o.shifted - start);
      const listings = shiftedListings(n, 13 + start);
      const ts = o.now - (o.recentAgeMs ?? 2 * 86_400_000) - (o.shifted - start) * step;
      const champion = recordsOf(bundle, listings, ts, step);
      put(champion);
      if (o.challenger)
        put(recordsOf(o.challenger, listings, ts, step).map((r) => ({ ...r, role: 'challenger' as const })));
      for (const r of champion)
        if (feedback.length < (o.feedback ?? 0))
          feedback.push({
            requestId: r.requestId,
            row: 0,
            listingId: null,
            soldPrice: Math.round(r.price! * (0.85 + (0.3 * ((feedback.length * 7919) % 101)) / 100)),
            soldAt: r.ts + 86_400_000,
          });
    }
    if (feedback.length) upsertFeedback(db, feedback, o.now);
    return written;
  } finally {
    db.close();
  }
}
