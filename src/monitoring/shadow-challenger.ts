/**
 * The shadow challenger's work, whatever carries the requests to it (a thread reading the
 * shared ring, shadow-worker.ts, or a child process fed through a pipe, shadow-process.ts):
 * hold the challenger's predictor, price a batch of requests, and store the rows in the
 * prediction log through a SQLite connection of its own (the log is in WAL mode and made for
 * several writers: the hourly aggregates are additive segments, log-store.ts).
 *
 * A batch (every request taken at one look) is priced at once with `Predictor.predictBatch`
 * (the same results as `predictOne` per listing, at less CPU per listing: the trees walk the
 * batch's rows together); each row's `latencyMs` is then the batch's pricing time divided by
 * its rows. A batch the batch path refuses (a non-finite price: a damaged model) is priced
 * listing by listing, so only the bad listing carries the error.
 *
 * The pause protocol (serving-gate.ts; `monitoring.shadow_yield_us`): with a gate, the
 * challenger looks at the serving thread about every `sliceUs` of its work (between requests
 * parsed, between pieces of PRICE_PIECE listings priced, between pieces of rows stored) and waits while
 * that thread is busy, at most `maxPauseMs` per batch; each row's `latencyMs` is the batch's
 * working time (waits excluded) over its rows. With the protocol on, the rows are stored
 * STORE_PIECE at a time, one transaction each, and the waits fall between the transactions:
 * the challenger never holds the log's write lock while it waits, so the server's own log
 * writer is never kept from it by a pause.
 */
import { ModelBundle } from '../bundle/model-bundle.js';
import type { Predictor, RowPrediction } from '../bundle/predictor.js';
import { listingIdOf, type ListingInput, type PredictionRecord } from './prediction-record.js';
import { openLogDatabase, recordInserter, type LogDatabase } from './log-store.js';
import type { RingItem } from './shadow-ring.js';
import type { ServingGate } from './serving-gate.js';

/** The pause protocol: look at the serving thread every so often, wait while it is busy (serving-gate.ts). */
export interface ChallengerPacing {
  gate: ServingGate;
  /** Work between looks, µs (0: off, never waiting). */
  sliceUs: number;
  /** Longest wait per batch, ms. */
  maxPauseMs: number;
}

/** Listings priced at once between two looks at the serving thread (about 70 µs of trees). */
const PRICE_PIECE = 4;

/** Rows stored per transaction with the pause protocol on (about 100 µs of inserts; a look between two). */
const STORE_PIECE = 16;

export interface ShadowModelInfo {
  name: string;
  version: string | null;
}

/** What one batch came to (the `scored` reply, shadow-worker.ts). */
export interface BatchCounts {
  /** Listings taken (as the serving thread counted them). */
  listings: number;
  /** Listings priced, and listings the challenger failed on (logged with the error). */
  ok: number;
  failed: number;
  /** Rows stored in the log, and rows that could not be (the log not writable; `error` says why). */
  logged: number;
  notLogged: number;
  error?: string;
  /** The batch's time, ms, and of it the time spent waiting for the serving thread to be idle. */
  ms: number;
  pausedMs?: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The listings of a request, from the JSON text the serving thread wrote (the body as it came
 * in: one listing, a batch body `{"listings": [...]}`, or the array itself), or why there are none.
 */
function listingsOf(item: RingItem): ListingInput[] | string {
  try {
    // a body that starts with a byte-order mark (the serving side's parser skips it)
    const v: unknown = JSON.parse(item.json.charCodeAt(0) === 0xfeff ? item.json.slice(1) : item.json);
    const ls =
      item.shape === 'listing'
        ? [v]
        : item.shape === 'batch'
          ? typeof v === 'object' && v !== null
            ? (v as { listings?: unknown }).listings
            : undefined
          : v;
    if (Array.isArray(ls) && ls.every((l) => typeof l === 'object' && l !== null && !Array.isArray(l)))
      return ls as ListingInput[];
    return item.shape === 'listing'
      ? "the request's listing is not an object"
      : "the request's listings are not an array of objects";
  } catch (e) {
    return `the request's listings are not JSON: ${(e as Error).message}`;
  }
}

export class ShadowChallenger {
  private predictor: Predictor | undefined;
  private info: ShadowModelInfo | null = null;
  /** The log connection (opened at the first rows), or why it could not be, and when to try again. */
  private log: { db: LogDatabase; insert: ReturnType<typeof recordInserter> } | undefined;
  private logError: { message: string; retryAt: number } | undefined;
  // reused from batch to batch
  private readonly batch: ListingInput[] = [];
  /** Per listing of the batch: its request (index into the items) and its place in it. */
  private readonly owners: number[] = [];
  private readonly places: number[] = [];

  /**
   * @param logPath the prediction log's SQLite file (opened, so created and migrated, by the log's writer thread first)
   * @param busyTimeoutMs longest wait for the log's write lock before a batch's rows are given up
   */
  constructor(
    private readonly logPath: string,
    private readonly busyTimeoutMs: number,
    private readonly pacing?: ChallengerPacing,
  ) {}

  get ready(): boolean {
    return this.predictor !== undefined;
  }

  /** Load (or replace) the challenger; throws when the bundle cannot be read. */
  load(bundle: unknown, info: ShadowModelInfo): void {
    const p = ModelBundle.fromJSON(bundle, `challenger ${info.name} v${info.version ?? '-'}`).compilePredictor();
    // build the batch path (and compile the trees) now, not in the first batch
    p.predictBatch([{}]);
    this.predictor = p;
    this.info = info;
  }

  /** Price the requests, store their rows, say what it came to. */
  score(items: readonly RingItem[]): BatchCounts {
    const p = this.predictor;
    if (!p) throw new Error('no challenger loaded');
    const t0 = performance.now();
    const pacing = this.pacing && this.pacing.sliceUs > 0 && this.pacing.gate.on ? this.pacing : undefined;
    let paused = 0;
    let lastLook = t0;
    /** Between two pieces of work: wait while the serving thread is busy, if a slice has passed. */
    const tick = pacing
      ? () => {
          const now = performance.now();
          if ((now - lastLook) * 1000 < pacing.sliceUs) return;
          if (paused < pacing.maxPauseMs) paused += pacing.gate.waitIdle(pacing.maxPauseMs - paused);
          lastLook = performance.now();
        }
      : undefined;
    tick?.();
    let n = 0;
    let failed = 0;
    const { batch: listings, owners, places } = this;
    for (let k = 0; k < items.length; k++) {
      const it = items[k];
      n += it.listings;
      const ls = listingsOf(it);
      tick?.();
      if (typeof ls === 'string') {
        failed += it.listings; // not a JSON array of listings: no rows
        continue;
      }
      for (let j = 0; j < ls.length; j++) {
        listings.push(ls[j]);
        owners.push(k);
        places.push(j);
      }
    }
    const results = this.price(p, listings, tick);
    const perRow = listings.length ? (performance.now() - t0 - paused) / listings.length : 0;
    const rows: PredictionRecord[] = new Array<PredictionRecord>(listings.length);
    for (let i = 0; i < listings.length; i++) {
      const r = this.record(items[owners[i]], listings[i], places[i], results[i], perRow);
      if (r.error !== null) failed++;
      rows[i] = r;
    }
    listings.length = owners.length = places.length = 0;
    const { logged, error } = rows.length ? this.store(rows, tick) : { logged: 0, error: null };
    return {
      listings: n,
      ok: Math.max(0, n - failed),
      failed,
      logged,
      notLogged: rows.length - logged,
      ...(error === null ? {} : { error }),
      ms: performance.now() - t0,
      pausedMs: paused,
    };
  }

  /** Every listing's result (or why there is none): the batch path, else one at a time. */
  private price(p: Predictor, listings: readonly ListingInput[], tick?: () => void): (RowPrediction | string)[] {
    try {
      if (!tick) return p.predictBatch(listings);
      // in pieces, a look at the serving thread between them (the same prices: rows are independent)
      const out: RowPrediction[] = [];
      for (let i = 0; i < listings.length; i += PRICE_PIECE) {
        for (const r of p.predictBatch(listings.slice(i, i + PRICE_PIECE))) out.push(r);
        tick();
      }
      return out;
    } catch {
      return listings.map((l) => {
        try {
          return p.predictOne(l);
        } catch (e) {
          return (e as Error).message;
        }
      });
    }
  }

  /** One challenger row: `r` its result (or the reason it has none). */
  private record(
    item: RingItem,
    l: ListingInput,
    i: number,
    r: RowPrediction | string,
    latencyMs: number,
  ): PredictionRecord {
    const ok = typeof r !== 'string' && r.ok;
    return {
      ts: item.ts,
      requestId: item.requestId,
      row: i,
      listingId: listingIdOf(l),
      route: item.route,
      role: 'challenger',
      modelName: this.info?.name ?? 'challenger',
      modelVersion: this.info?.version ?? null,
      latencyMs,
      inputs: l,
      price: ok ? round2(r.price) : null,
      lower: ok && r.interval ? round2(r.interval.lower) : null,
      upper: ok && r.interval ? round2(r.interval.upper) : null,
      level: ok ? (r.interval?.level ?? null) : null,
      unseen: ok ? r.unknownCategories : [],
      error: ok
        ? null
        : typeof r === 'string'
          ? r
          : (r as { errors: { field: string; message: string }[] }).errors
              .map((x) => `${x.field}: ${x.message}`)
              .join('; '),
    };
  }

  /**
   * Store the rows: in one transaction, or with `between` (the pause protocol) STORE_PIECE
   * rows per transaction with `between` called between them, outside any transaction. How
   * many were stored, and why the rest were not (null: all stored).
   */
  private store(rows: PredictionRecord[], between?: () => void): { logged: number; error: string | null } {
    if (!this.log) {
      if (this.logError && performance.now() < this.logError.retryAt)
        return { logged: 0, error: this.logError.message };
      try {
        const db = openLogDatabase(this.logPath, { busyTimeoutMs: this.busyTimeoutMs });
        this.log = { db, insert: recordInserter(db) };
        this.logError = undefined;
      } catch (e) {
        this.logError = { message: (e as Error).message, retryAt: performance.now() + 5000 };
        return { logged: 0, error: this.logError.message };
      }
    }
    const piece = between ? STORE_PIECE : rows.length;
    let logged = 0;
    for (let i = 0; i < rows.length; i += piece) {
      if (i > 0) between?.();
      const part = piece === rows.length ? rows : rows.slice(i, i + piece);
      try {
        this.log.insert(part);
      } catch (e) {
        return { logged, error: (e as Error).message };
      }
      logged += part.length;
    }
    return { logged, error: null };
  }
}
