/**
 * The shadow challenger's thread: holds the challenger bundle and prices the listings the
 * serving thread forwards, so a slow or failing challenger costs this thread, never the
 * one that answers requests. Messages in: `model` (a saved bundle and who it is), `score`
 * (a request's listings). Out: `model-ready` / `model-failed`, `scored` (one result per
 * listing: a price and interval, or the error), all tagged with the batch id.
 */
import { parentPort } from 'node:worker_threads';
import { ModelBundle } from '../bundle/model-bundle.js';
import type { Predictor } from '../bundle/predictor.js';

export interface ShadowModelInfo {
  name: string;
  version: string | null;
}

export type ShadowRequest =
  | { type: 'model'; bundle: unknown; info: ShadowModelInfo }
  | { type: 'score'; id: number; listings: Record<string, unknown>[] };

export interface ShadowRow {
  price: number | null;
  lower: number | null;
  upper: number | null;
  level: number | null;
  unseen: string[];
  error: string | null;
}

export type ShadowReply =
  | { type: 'model-ready'; info: ShadowModelInfo }
  | { type: 'model-failed'; info: ShadowModelInfo; message: string }
  | { type: 'scored'; id: number; info: ShadowModelInfo | null; rows: ShadowRow[]; ms: number };

const port = parentPort!;
let predictor: Predictor | undefined;
let info: ShadowModelInfo | null = null;

const round2 = (x: number) => Math.round(x * 100) / 100;

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
  const t0 = performance.now();
  const rows: ShadowRow[] = m.listings.map((l) => {
    if (!predictor)
      return { price: null, lower: null, upper: null, level: null, unseen: [], error: 'no challenger model loaded' };
    try {
      const r = predictor.predictOne(l);
      if (!r.ok)
        return {
          price: null,
          lower: null,
          upper: null,
          level: null,
          unseen: [],
          error: r.errors.map((x) => `${x.field}: ${x.message}`).join('; '),
        };
      return {
        price: round2(r.price),
        lower: r.interval ? round2(r.interval.lower) : null,
        upper: r.interval ? round2(r.interval.upper) : null,
        level: r.interval?.level ?? null,
        unseen: r.unknownCategories,
        error: null,
      };
    } catch (e) {
      return { price: null, lower: null, upper: null, level: null, unseen: [], error: (e as Error).message };
    }
  });
  port.postMessage({ type: 'scored', id: m.id, info, rows, ms: performance.now() - t0 } satisfies ShadowReply);
});
