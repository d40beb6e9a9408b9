/**
 * The shadow challenger's thread: holds the challenger bundle, prices the requests the
 * serving thread appends to the shared ring (shadow-ring.ts), looked at every `pollMs`, and
 * stores the challenger's rows in the prediction log itself, through a SQLite connection of
 * its own (the log is in WAL mode and made for several writers: the hourly aggregates are
 * additive segments, log-store.ts). Per request, the serving thread only copies the JSON it
 * received into the ring: no message, no clone, no wake-up of this thread; the rows never
 * pass through the thread that answers requests, nor through the log's writer thread (which
 * runs at the server's priority). A slow or failing challenger costs this thread, never the
 * serving one; and the thread lowers its own scheduling priority at start
 * (workerData.policy and nice, Linux: SCHED_IDLE and nice 19 by default), so all the work
 * shadow scoring adds (parsing, pricing, storing) only gets CPU that serving does not want.
 * Its transactions are one batch of rows (tens of milliseconds at most); on a saturated
 * machine one may hold the log's lock while the thread waits for CPU, and the writer thread's
 * champion rows then wait in their bounded queue (dropped and counted past it), never a
 * response.
 *
 * workerData: the ring, the poll interval, the priority to take, the log's file. Messages
 * in: `model` (a saved bundle and who it is). Out: `model-ready` / `model-failed`, and after
 * each batch taken from the ring a small `scored` (counts only: listings taken, priced,
 * failed, rows stored, rows not stored).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ModelBundle } from '../bundle/model-bundle.js';
import type { Predictor, RowPrediction } from '../bundle/predictor.js';
import { listingIdOf, type ListingInput, type PredictionRecord } from './prediction-record.js';
import { openLogDatabase, recordInserter, type LogDatabase } from './log-store.js';
import { ShadowRingReader, type RingItem } from './shadow-ring.js';
import { lowerThisThread, type BackgroundPolicy, type ThreadPriority } from './thread-priority.js';

export interface ShadowModelInfo {
  name: string;
  version: string | null;
}

/** What the thread starts with. */
export interface ShadowWorkerData {
  /** The ring the serving thread appends requests to (shadow-ring.ts). */
  ring: SharedArrayBuffer;
  /** Milliseconds between looks at the ring. */
  pollMs: number;
  /**
   * The thread's nice value (0-19; 0 = leave it as it is). On Linux the nice value is per
   * thread, so only this thread gets it; elsewhere setpriority would renice the whole
   * server, so it is not set there.
   */
  nice: number;
  /** `idle`: also SCHED_IDLE (Linux; thread-priority.ts), falling back to the nice value; `nice`: the nice value only. */
  policy: BackgroundPolicy;
  /** The prediction log's SQLite file the rows go to (opened by the log's writer thread first). */
  logPath: string;
  /** Longest wait for the log's write lock (another writer holds it) before a batch's rows are given up. */
  busyTimeoutMs: number;
}

/** The challenger thread's scheduling as the thread read it back after setting it. */
export type ShadowPriority = ThreadPriority;

export type ShadowRequest = { type: 'model'; bundle: unknown; info: ShadowModelInfo };

export type ShadowReply =
  | { type: 'model-ready'; info: ShadowModelInfo; priority?: ShadowPriority }
  | { type: 'model-failed'; info: ShadowModelInfo; message: string }
  | {
      type: 'scored';
      /** Listings taken from the ring (as the serving thread counted them). */
      listings: number;
      /** Listings priced, and listings the challenger failed on (logged with the error). */
      ok: number;
      failed: number;
      /** Rows stored in the log, and rows that could not be (the log not writable; `error` says why). */
      logged: number;
      notLogged: number;
      error?: string;
      ms: number;
    };

const port = parentPort!;
let predictor: Predictor | undefined;
let info: ShadowModelInfo | null = null;

const round2 = (x: number) => Math.round(x * 100) / 100;

/** One challenger row: `r` its result (or the reason it has none), `latencyMs` the time it took. */
function record(
  item: RingItem,
  l: ListingInput,
  i: number,
  r: RowPrediction | string,
  latencyMs: number,
): PredictionRecord {
  const base = {
    ts: item.ts,
    requestId: item.requestId,
    row: i,
    listingId: listingIdOf(l),
    route: item.route,
    role: 'challenger' as const,
    modelName: info?.name ?? 'challenger',
    modelVersion: info?.version ?? null,
    latencyMs,
    inputs: l,
  };
  if (typeof r === 'string' || !r.ok)
    return {
      ...base,
      price: null,
      lower: null,
      upper: null,
      level: null,
      unseen: [],
      error: typeof r === 'string' ? r : r.errors.map((x) => `${x.field}: ${x.message}`).join('; '),
    };
  return {
    ...base,
    price: round2(r.price),
    lower: r.interval ? round2(r.interval.lower) : null,
    upper: r.interval ? round2(r.interval.upper) : null,
    level: r.interval?.level ?? null,
    unseen: r.unknownCategories,
    error: null,
  };
}

/** Price one listing (a result, or why there is none). */
function price(p: Predictor, l: ListingInput): RowPrediction | string {
  try {
    return p.predictOne(l);
  } catch (e) {
    return (e as Error).message;
  }
}

const data = workerData as ShadowWorkerData;
const ring = new ShadowRingReader(data.ring);

/** The log connection (opened at the first rows), or why it could not be, and when to try again. */
let log: { db: LogDatabase; insert: ReturnType<typeof recordInserter> } | undefined;
let logError: { message: string; retryAt: number } | undefined;

/** Store the rows (one transaction); null when stored, else why not. */
function store(rows: PredictionRecord[]): string | null {
  if (!log) {
    if (logError && performance.now() < logError.retryAt) return logError.message;
    try {
      const db = openLogDatabase(data.logPath, { busyTimeoutMs: data.busyTimeoutMs });
      log = { db, insert: recordInserter(db) };
      logError = undefined;
    } catch (e) {
      logError = { message: (e as Error).message, retryAt: performance.now() + 5000 };
      return logError.message;
    }
  }
  try {
    log.insert(rows);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Get out of the serving thread's way (thread-priority.ts): SCHED_IDLE, so a serving thread
 * that wakes takes the core at once, and nice 19, so the thread gets only the CPU that the
 * serving thread and the rest of the machine do not want; the challenger's work waits
 * instead of delaying responses.
 */
const priority = lowerThisThread({ policy: data.policy, nice: data.nice });

/** The listings of a request: the JSON array the serving thread wrote. */
function listingsOf(item: RingItem): ListingInput[] | string {
  try {
    const v: unknown = JSON.parse(item.json);
    if (Array.isArray(v) && v.every((l) => typeof l === 'object' && l !== null && !Array.isArray(l)))
      return v as ListingInput[];
    return "the request's listings are not an array of objects";
  } catch (e) {
    return `the request's listings are not JSON: ${(e as Error).message}`;
  }
}

/** Price what the ring holds, hand the rows to the writer, report the counts. */
function poll(): void {
  if (!predictor) return; // requests wait in the ring until a model is loaded
  const items = ring.take();
  if (items.length === 0) return;
  const t0 = performance.now();
  let n = 0;
  let failed = 0;
  const rows: PredictionRecord[] = [];
  for (const it of items) {
    n += it.listings;
    const listings = listingsOf(it);
    if (typeof listings === 'string') {
      failed += it.listings;
      continue;
    }
    for (let i = 0; i < listings.length; i++) {
      const t = performance.now();
      const r = price(predictor, listings[i]);
      const row = record(it, listings[i], i, r, performance.now() - t);
      if (row.error !== null) failed++;
      rows.push(row);
    }
  }
  const error = rows.length ? store(rows) : null;
  port.postMessage({
    type: 'scored',
    listings: n,
    ok: Math.max(0, n - failed),
    failed,
    logged: error === null ? rows.length : 0,
    notLogged: error === null ? 0 : rows.length,
    ...(error === null ? {} : { error }),
    ms: performance.now() - t0,
  } satisfies ShadowReply);
}

setInterval(poll, data.pollMs);

port.on('message', (m: ShadowRequest) => {
  try {
    predictor = ModelBundle.fromJSON(
      m.bundle,
      `challenger ${m.info.name} v${m.info.version ?? '-'}`,
    ).compilePredictor();
    info = m.info;
    port.postMessage({ type: 'model-ready', info: m.info, priority } satisfies ShadowReply);
  } catch (e) {
    port.postMessage({ type: 'model-failed', info: m.info, message: (e as Error).message } satisfies ShadowReply);
  }
});
