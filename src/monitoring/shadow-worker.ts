/**
 * The shadow challenger's thread: holds the challenger bundle, prices the requests the
 * serving thread forwards, and writes the challenger's log rows straight to the prediction
 * log's writer thread through a MessagePort of their own, so a request's listings cross a
 * thread boundary once on the way here and the rows never come back through the thread that
 * answers requests. A slow or failing challenger costs this thread, never the serving one.
 *
 * Messages in: `model` (a saved bundle and who it is), `log` (the port to the writer and how
 * many rows may wait there; null when the writer is down), `score` (requests: id, route,
 * time, listings). Out: `model-ready` / `model-failed`, and per `score` batch a small
 * `scored` (counts only: priced, failed, rows handed to the writer, rows dropped and why).
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { ModelBundle } from '../bundle/model-bundle.js';
import type { Predictor } from '../bundle/predictor.js';
import { listingIdOf, type ListingInput, type PredictionRecord } from './prediction-record.js';

export interface ShadowModelInfo {
  name: string;
  version: string | null;
}

/** One priced request, as the serving thread forwards it. */
export interface ShadowItem {
  requestId: string;
  route: string;
  /** When the champion priced it (ms since the epoch): the log rows' timestamp. */
  ts: number;
  listings: readonly ListingInput[];
}

export type ShadowRequest =
  | { type: 'model'; bundle: unknown; info: ShadowModelInfo }
  | { type: 'log'; port: MessagePort | null; epoch: number; capacity: number }
  | { type: 'score'; id: number; items: ShadowItem[] };

/** Rows the thread could not hand to the writer: too many already waiting there, or no writer. */
export interface ShadowLogDrops {
  queue_full: number;
  writer_down: number;
}

export type ShadowReply =
  | { type: 'model-ready'; info: ShadowModelInfo }
  | { type: 'model-failed'; info: ShadowModelInfo; message: string }
  | {
      type: 'scored';
      id: number;
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

function record(item: ShadowItem, i: number, latencyMs: number, model: ShadowModelInfo | null): PredictionRecord {
  const l = item.listings[i];
  const base = {
    ts: item.ts,
    requestId: item.requestId,
    row: i,
    listingId: listingIdOf(l),
    route: item.route,
    role: 'challenger' as const,
    modelName: model?.name ?? 'challenger',
    modelVersion: model?.version ?? null,
    latencyMs,
    inputs: l,
  };
  const failed = (error: string): PredictionRecord => ({
    ...base,
    price: null,
    lower: null,
    upper: null,
    level: null,
    unseen: [],
    error,
  });
  if (!predictor) return failed('no challenger model loaded');
  try {
    const r = predictor.predictOne(l);
    if (!r.ok) return failed(r.errors.map((x) => `${x.field}: ${x.message}`).join('; '));
    return {
      ...base,
      price: round2(r.price),
      lower: r.interval ? round2(r.interval.lower) : null,
      upper: r.interval ? round2(r.interval.upper) : null,
      level: r.interval?.level ?? null,
      unseen: r.unknownCategories,
      error: null,
    };
  } catch (e) {
    return failed((e as Error).message);
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

port.on('message', (m: ShadowRequest) => {
  if (m.type === 'model') {
    try {
      predictor = ModelBundle.fromJSON(
        m.bundle,
        `challenger ${m.info.name} v${m.info.version ?? '-'}`,
      ).compilePredictor();
      info = m.info;
      port.postMessage({ type: 'model-ready', info: m.info } satisfies ShadowReply);
    } catch (e) {
      port.postMessage({ type: 'model-failed', info: m.info, message: (e as Error).message } satisfies ShadowReply);
    }
    return;
  }
  if (m.type === 'log') {
    attach(m.port, m.epoch, m.capacity);
    return;
  }
  const t0 = performance.now();
  let n = 0;
  for (const it of m.items) n += it.listings.length;
  const rows: PredictionRecord[] = [];
  let failed = 0;
  for (const it of m.items)
    for (let i = 0; i < it.listings.length; i++) {
      const t = performance.now();
      const r = record(it, i, 0, info);
      r.latencyMs = performance.now() - t;
      if (r.error !== null) failed++;
      rows.push(r);
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
    id: m.id,
    ok: n - failed,
    failed,
    logged,
    epoch,
    dropped,
    ms: performance.now() - t0,
  } satisfies ShadowReply);
});
