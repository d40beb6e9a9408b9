/**
 * Fit several independent estimators, on worker threads when more than one core is
 * available. Each fit is single-threaded and seeded, and the fitted model comes back as its
 * saved JSON (loading it gives bit-identical predictions), so the models are the same
 * whatever the number of threads: only the wall time changes. With `threads <= 1` or a
 * single job everything runs inline on the calling thread.
 *
 * Jobs marked `shareCrossProducts` that name the very same X, y and weights go to one
 * worker as one unit (the matrix crosses the thread boundary once) and their linear fits
 * form X^T W X once (linalg/gram.ts CrossProductsCache): OLS, ridge, lasso and elastic net
 * of one cross-validation fold cost one Gram matrix instead of four.
 */
import { Worker } from 'node:worker_threads';
import { AppError, isErrorCode } from '../core/errors.js';
import { createEstimator } from './algorithms.js';
import type { Regressor, SavedEstimator } from './estimator.js';
import { loadEstimator } from './format/registry.js';
import { CrossProductsCache } from './linalg/gram.js';
import { matrixParts, type Matrix, type MatrixParts } from './matrix.js';
import type { ProgressMeter } from '../core/progress.js';

/** One estimator to fit. */
export interface FitJob {
  algo: string;
  params: Readonly<Record<string, unknown>>;
  X: Matrix;
  y: Float64Array;
  sampleWeight?: Float64Array;
  /** Fit together with the other such jobs on the same X, y and weights (see the module comment). */
  shareCrossProducts?: boolean;
}

/** Message to a worker: one or more fits of one matrix. */
export interface FitJobMessage {
  fits: Array<{ id: number; algo: string; params: Readonly<Record<string, unknown>> }>;
  /** The matrix as plain parts (a column matrix travels as its columns). */
  X: MatrixParts;
  y: Float64Array;
  sampleWeight?: Float64Array;
}

/** A worker's answer per fit (`seconds`: the fit's own time on the worker; `covers`: Regressor.trainingCovers). */
export type FitReply =
  | { id: number; saved: SavedEstimator; seconds?: number; covers?: Float64Array }
  | { id: number; error: { code: string; message: string } };

export interface FitOptions {
  /** Worker threads to use at most (1 = inline). */
  threads: number;
  signal?: AbortSignal;
  /** Called as each job's model arrives (job index, model, seconds the fit itself took). */
  onFitted?: (index: number, model: Regressor, seconds: number) => void;
}

/**
 * The jobs as units of work, in the order of each unit's first job: a job alone, or every
 * `shareCrossProducts` job on the same X, y and weights.
 */
export function fitUnits(jobs: readonly FitJob[]): number[][] {
  const units: number[][] = [];
  const open: Array<{ job: FitJob; unit: number[] }> = [];
  jobs.forEach((j, i) => {
    if (j.shareCrossProducts) {
      const u = open.find((o) => o.job.X === j.X && o.job.y === j.y && o.job.sampleWeight === j.sampleWeight);
      if (u) {
        u.unit.push(i);
        return;
      }
      const unit = [i];
      open.push({ job: j, unit });
      units.push(unit);
    } else units.push([i]);
  });
  return units;
}

/** Fit one job on the calling thread. */
export function fitJob(
  job: Omit<FitJob, 'shareCrossProducts'>,
  signal?: AbortSignal,
  crossProducts?: CrossProductsCache,
  progress?: ProgressMeter,
): Regressor {
  if (signal?.aborted) throw new AppError('INTERRUPTED', 'training interrupted');
  const est = createEstimator(job.algo, { ...job.params });
  est.fit(job.X, job.y, {
    signal,
    ...(job.sampleWeight ? { sampleWeight: job.sampleWeight } : {}),
    ...(crossProducts ? { crossProducts } : {}),
    ...(progress ? { progress } : {}),
  });
  return est;
}

/**
 * Fit every job and return the estimators in job order. Jobs are handed to the workers in
 * the order given (put the longest first); a failing job fails the whole call with its
 * own error code, and an abort terminates the workers and throws INTERRUPTED.
 */
export async function fitEstimators(jobs: readonly FitJob[], o: FitOptions): Promise<Regressor[]> {
  const units = fitUnits(jobs);
  const nWorkers = Math.min(Math.max(1, Math.floor(o.threads)), units.length);
  if (nWorkers <= 1) {
    const out = new Array<Regressor>(jobs.length);
    for (const unit of units) {
      const cache = unit.length > 1 ? new CrossProductsCache() : undefined;
      for (const i of unit) {
        const t0 = performance.now();
        out[i] = fitJob(jobs[i], o.signal, cache);
        o.onFitted?.(i, out[i], (performance.now() - t0) / 1000);
      }
    }
    return out;
  }
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
      // per worker: fits of its current unit still to arrive
      const pending = new Map<Worker, number>();
      const give = (w: Worker) => {
        if (next >= units.length) return;
        const unit = units[next++];
        const { X, y, sampleWeight } = jobs[unit[0]];
        const msg: FitJobMessage = {
          fits: unit.map((id) => ({ id, algo: jobs[id].algo, params: jobs[id].params })),
          X: matrixParts(X),
          y,
          ...(sampleWeight ? { sampleWeight } : {}),
        };
        pending.set(w, unit.length);
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
            const model = loadEstimator(r.saved);
            if (r.covers) model.setTrainingCovers?.(r.covers);
            results[r.id] = model;
            o.onFitted?.(r.id, results[r.id]!, r.seconds ?? NaN);
          } catch (e) {
            fail(e as Error);
            return;
          }
          const left = (pending.get(w) ?? 1) - 1;
          pending.set(w, left);
          if (++done === jobs.length) {
            o.signal?.removeEventListener('abort', onAbort);
            resolve();
          } else if (left === 0) give(w);
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
