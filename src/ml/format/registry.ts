/**
 * The loader registry for saved estimators: each kind registers a loader, and
 * `loadEstimator` dispatches on {kind, formatVersion}. Unknown kinds and versions are
 * coded errors, never silent misreads.
 */
import { AppError } from '../../core/errors.js';
import type { Regressor, SavedEstimator } from '../estimator.js';

export interface EstimatorLoader {
  /** Format versions this loader reads. */
  versions: readonly number[];
  load(saved: SavedEstimator): Regressor;
}

const loaders = new Map<string, EstimatorLoader>();

/** Register the loader for a kind (each estimator module calls this once). */
export function registerEstimator(kind: string, loader: EstimatorLoader): void {
  loaders.set(kind, loader);
}

/** Rebuild an estimator from its saved JSON. */
export function loadEstimator(saved: unknown): Regressor {
  if (saved === null || typeof saved !== 'object' || typeof (saved as SavedEstimator).kind !== 'string')
    throw new AppError('FORMAT_UNKNOWN', 'saved estimator has no "kind" field; the file is not a carprice model');
  const s = saved as SavedEstimator;
  const loader = loaders.get(s.kind);
  if (!loader)
    throw new AppError(
      'FORMAT_UNKNOWN',
      `unknown estimator kind "${s.kind}" (known: ${[...loaders.keys()].sort().join(', ')}); was it saved by a newer carprice?`,
    );
  if (!loader.versions.includes(s.formatVersion))
    throw new AppError(
      'FORMAT_VERSION',
      `estimator "${s.kind}" has formatVersion ${String(s.formatVersion)}, this carprice reads ${loader.versions.join(', ')}; upgrade carprice or retrain`,
    );
  return loader.load(s);
}

/** Kinds that have a registered loader. */
export function knownEstimatorKinds(): string[] {
  return [...loaders.keys()].sort();
}
