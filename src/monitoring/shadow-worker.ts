/**
 * The shadow challenger's thread: holds the challenger bundle, prices the requests the
 * serving thread appends to the shared ring (shadow-ring.ts), looked at every `pollMs`, and
 * writes the challenger's log rows straight to the prediction log's writer thread through a
 * MessagePort of their own. Per request, the serving thread only copies the JSON it
 * received into the ring: no message, no clone, no wake-up of this thread; the rows never
 * come back through the thread that answers requests. A slow or failing challenger costs
 * this thread, never the serving one; and the thread lowers its own scheduling priority at
 * start (workerData.policy and nice, Linux: SCHED_IDLE and nice 19 by default), so it only
 * gets CPU that serving does not want.
 *
 * workerData: the ring, the poll interval and the priority to take. Messages in: `model` (a saved bundle and who
 * it is), `log` (the port to the writer and how many rows may wait there; null when the
 * writer is down). Out: `model-ready` / `model-failed`, and after each batch taken from the
 * ring a small `scored` (counts only: listings taken, priced, failed, rows handed to the
 * writer, rows dropped and why).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ModelBundle } from '../bundle/model-bundle.js';
import type { Predictor, RowPrediction } from '../bundle/predictor.js';
import { listingIdOf, type ListingInput, type PredictionRecord } from './prediction-record.js';
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
}

/** The challenger thread's scheduling as the thread read it back after setting it. */
export type ShadowPriority = ThreadPriority;

export type ShadowRequest =
  | { type: 'model'; bundle: unknown; info: ShadowModelInfo }
  | { type: 'log'; port: MessagePort | null; epoch: number; capacity: number };

/** Rows the thread could not hand to the writer: too many already waiting there, or no writer. */
export interface ShadowLogDrops {
  queue_full: number;
  writer_down: number;
}

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
      /** Rows posted to the writer, and which writer (the epoch its port came with). */
      logged: number;
      epoch: number;
      dropped: ShadowLogDrops;
      ms: number;
    };

/** What the writer thread answers on the shadow's port for each batch it was sent. */
export type SideReply = { type: 'written'; n: number } | { type: 'write-failed'; n: number };

const port = parentPort!;
let predictor: Predictor | undefined;
let info: ShadowModelInfo | null = null;
let log: MessagePort | null = null;
let epoch = -1;
let capacity = 0;
/** Rows posted to the writer and not yet answered. */
let waiting = 0;

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

function attach(p: MessagePort | null, e: number, cap: number): void {
  log?.close();
  log = p;
  epoch = e;
  capacity = cap;
  waiting = 0;
  p?.on('message', (m: SideReply) => {
    waiting = Math.max(0, waiting - m.n);
  });
  // the writer thread stopped: its rows are counted as writer_down until a new port comes
  p?.on('close', () => {
    if (log === p) log = null;
  });
}

const data = workerData as ShadowWorkerData;
const ring = new ShadowRingReader(data.ring);

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
  const dropped: ShadowLogDrops = { queue_full: 0, writer_down: 0 };
  let logged = 0;
  if (!log) dropped.writer_down = rows.length;
  else {
    const room = Math.max(0, capacity - waiting);
    logged = Math.min(room, rows.length);
    dropped.queue_full = rows.length - logged;
    if (logged > 0) {
      waiting += logged;
      log.postMessage({ type: 'write', records: logged === rows.length ? rows : rows.slice(0, logged) });
    }
  }
  port.postMessage({
    type: 'scored',
    listings: n,
    ok: Math.max(0, n - failed),
    failed,
    logged,
    epoch,
    dropped,
    ms: performance.now() - t0,
  } satisfies ShadowReply);
}

setInterval(poll, data.pollMs);

port.on('message', (m: ShadowRequest) => {
  if (m.type === 'model') {
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
    return;
  }
  if (m.type === 'log') attach(m.port, m.epoch, m.capacity);
});
