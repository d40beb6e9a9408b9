/**
 * Worker-thread side of `fitEstimators` (parallel-fit.ts): receives fit jobs, fits each
 * with exactly the code the main thread would run, and answers with the estimator's
 * saved JSON (the round trip is bit-identical) or the error's code and message.
 */
import { parentPort } from 'node:worker_threads';
import { fitJob, type FitJobMessage, type FitReply } from './parallel-fit.js';
import { fromParts } from './matrix.js';

const port = parentPort;
if (port) {
  port.on('message', (m: FitJobMessage) => {
    let reply: FitReply;
    try {
      const t0 = performance.now();
      const saved = fitJob({ ...m, X: fromParts(m.X) }).toJSON();
      reply = { id: m.id, saved, seconds: (performance.now() - t0) / 1000 };
    } catch (e) {
      const err = e as { code?: unknown; message?: unknown };
      reply = {
        id: m.id,
        error: { code: typeof err.code === 'string' ? err.code : 'INTERNAL_ERROR', message: String(err.message ?? e) },
      };
    }
    port.postMessage(reply);
  });
}
