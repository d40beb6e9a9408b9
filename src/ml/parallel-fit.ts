/**
 * Fit several independent estimators, on worker threads when more than one core is
 * available. Each fit is single-threaded and seeded, and the fitted model comes back as its
 * saved JSON (loading it gives bit-identical predictions), so the models are the same
 * whatever the number of threads: only the wall time changes. With `threads <= 1` or a
 * single job everything runs inline on the calling thread.
 */
import { Worker } from 'node:worker_threads';
import { AppError, isErrorCode } from '../core/errors.js';
import { createEstimator } from './algorithms.js';
import type { Regressor, SavedEstimator } from './estimator.js';
import { loadEstimator } from './format/registry.js';
import { matrixParts, type Matrix, type MatrixParts } from './matrix.js';

/** One estimator to fit. */
export interface FitJob {
  algo: string;
  params: Readonly<Record<string, unknown>>;
  X: Matrix;
  y: Float64Array;
  sampleWeight?: Float64Array;
}

/** Message to a worker. */
export interface FitJobMessage extends Omit<FitJob, 'X'> {
  id: number;
  /** The matrix as plain parts (a column matrix travels as its columns). */
  X: MatrixParts;
}

/** A worker's answer (`seconds`: the fit's own time on the worker). */
export type FitReply =
  { id: number; saved: SavedEstimator; seconds?: number } | { id: number; error: { code: string; message: string } };

export interface FitOptions {
  /** Worker threads to use at most (1 = inline). */
  threads: number;
  signal?: AbortSignal;
  /** Called as each job's model arrives (job index, model, seconds the fit itself took). */
  onFitted?: (index: number, model: Regressor, seconds: number) => void;
}

/** Fit one job on the calling thread. */
export function fitJob(job: FitJob, signal?: AbortSignal): Regressor {
  if (signal?.aborted) throw new AppError('INTERRUPTED', 'training interrupted');
  const est = createEstimator(job.algo, { ...job.params });
  est.fit(job.X, job.y, { signal, ...(job.sampleWeight ? { sampleWeight: job.sampleWeight } : {}) });
  return est;
}

/**
 * Fit every job and return the estimators in job order. Jobs are handed to the workers in
 * the order given (put the longest first); a failing job fails the whole call with its
 * own error code, and an abort terminates the workers and throws INTERRUPTED.
 */
export async function fitEstimators(jobs: readonly FitJob[], o: FitOptions): Promise<Regressor[]> {
  const nWorkers = Math.min(Math.max(1, Math.floor(o.threads)), jobs.length);
  if (nWorkers <= 1)
    return jobs.map((j, i) => {
      const t0 = performance.now();
      const m = fitJob(j, o.signal);
      o.onFitted?.(i, m, (performance.now() - t0) / 1000);
      return m;
    });
  if (o.signal?.aborted) throw new AppError('INTERRUPTED', 'training interrupted');
  const results = new Array<Regressor | undefined>(jobs.length);
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let failed = false;
      const fail = (e: Error) => {
        if (failed) return;
        failed = true;
        reject(e);
      };
      const onAbort = () => fail(new AppError('INTERRUPTED', 'training interrupted'));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const give = (w: Worker) => {
        if (next >= jobs.length) return;
        const id = next++;
        const { algo, params, X, y, sampleWeight } = jobs[id];
        const msg: FitJobMessage = {
          id,
          algo,
          params,
          X: matrixParts(X),
          y,
          ...(sampleWeight ? { sampleWeight } : {}),
        };
        w.postMessage(msg);
      };
      for (let k = 0; k < nWorkers; k++) {
        const w = new Worker(new URL('./fit-worker.js', import.meta.url));
        workers.push(w);
        w.on('message', (r: FitReply) => {
          if (failed) return;
          if ('error' in r) {
            const code = isErrorCode(r.error.code) ? r.error.code : 'INTERNAL_ERROR';
            fail(new AppError(code, r.error.message));
            return;
          }
          try {
            results[r.id] = loadEstimator(r.saved);
            o.onFitted?.(r.id, results[r.id]!, r.seconds ?? NaN);
          } catch (e) {
            fail(e as Error);
            return;
          }
          if (++done === jobs.length) {
            o.signal?.removeEventListener('abort', onAbort);
            resolve();
          } else give(w);
        });
        w.on('error', (e) =>
          fail(new AppError('INTERNAL_ERROR', `a training worker failed: ${e.message}`, { cause: e })),
        );
        w.on('exit', (code) => {
          if (done < jobs.length)
            fail(
              new AppError(
                'INTERNAL_ERROR',
                `a training worker stopped (exit code ${code}) before its model was fitted`,
              ),
            );
        });
        give(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results as Regressor[];
}
