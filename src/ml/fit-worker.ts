/**
 * Worker-thread side of `fitEstimators` (parallel-fit.ts): receives fit jobs, fits each
 * with exactly the code the main thread would run, and answers with the estimator's
 * saved JSON (the round trip is bit-identical) or the error's code and message.
 */
import { parentPort } from 'node:worker_threads';
import { fitJob, type FitJobMessage, type FitReply } from './parallel-fit.js';
import { CrossProductsCache } from './linalg/gram.js';
import { fromParts } from './matrix.js';

const port = parentPort;
if (port) {
  port.on('message', (m: FitJobMessage) => {
    const X = fromParts(m.X);
    const cache = m.fits.length > 1 ? new CrossProductsCache() : undefined;
    for (const f of m.fits) {
      let reply: FitReply;
      try {
        const t0 = performance.now();
        const job = {
          algo: f.algo,
          params: f.params,
          X,
          y: m.y,
          ...(m.sampleWeight ? { sampleWeight: m.sampleWeight } : {}),
        };
        const est = fitJob(job, undefined, cache);
        const covers = est.trainingCovers;
        reply = {
          id: f.id,
          saved: est.toJSON(),
          seconds: (performance.now() - t0) / 1000,
          ...(covers ? { covers } : {}),
        };
      } catch (e) {
        const err = e as { code?: unknown; message?: unknown };
        reply = {
          id: f.id,
          error: {
            code: typeof err.code === 'string' ? err.code : 'INTERNAL_ERROR',
            message: String(err.message ?? e),
          },
        };
      }
      port.postMessage(reply);
    }
  });
}
