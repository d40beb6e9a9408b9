/**
 * Residual trimming (params.yaml model_trainer.trim_residuals): a ridge cross-fitted on
 * TRIM_FOLDS folds of the training rows gives each row an out-of-fold residual of the target
 * (log price), and the rows far from the residuals' median in robust standard deviations
 * are left out of the members' fits (train-bundle.ts planFits); the held-out rows that choose
 * the blend weight, the MAPE offset and the intervals keep them. Tried on cars24 and left
 * off: the rows it drops are mostly rare models' only listings (README, Experiments).
 */
import { AppError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { takeValues } from '../data/frame.js';
import type { Regressor } from '../ml/estimator.js';
import { takeRows } from '../ml/matrix.js';
import { fitJob, type FitJob } from '../ml/parallel-fit.js';
import { linearRowWeights, subset } from './fit-rows.js';
import type { PreparedFeatures, TrainBundleOptions } from './train-bundle.js';

/** Folds of the cross-fitted ridge whose out-of-fold residuals residual trimming reads. */
export const TRIM_FOLDS = 5;

/** 1.4826 x MAD estimates the standard deviation of normally distributed values. */
const MAD_TO_SD = 1.4826;

function median(x: Float64Array): number {
  const s = Float64Array.from(x).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * The rows residual trimming keeps (sorted): those whose residual lies within z robust
 * standard deviations of the residuals' median, |r_i - median(r)| <= z * 1.4826 * MAD(r),
 * with MAD(r) = median |r_i - median(r)|. Every row when z <= 0, when the MAD is 0 or when
 * a residual is not finite. Worked example: r = 0, 0.1, -0.1, 0.2, -0.2, 1.5 has median
 * 0.05 and absolute deviations 0.05, 0.05, 0.15, 0.15, 0.25, 1.45, so MAD = 0.15; at z = 3
 * the bound is 3 * 1.4826 * 0.15 = 0.667 and rows 0-4 are kept (row 5 is not); at z = 1 it
 * is 0.222 and rows 0-3 are kept.
 */
export function keptByResidual(r: Float64Array, z: number): Uint32Array {
  const all = () => Uint32Array.from({ length: r.length }, (_, i) => i);
  if (!(z > 0) || r.length === 0 || !r.every((v) => Number.isFinite(v))) return all();
  const m = median(r);
  const dev = r.map((v) => Math.abs(v - m));
  const bound = z * MAD_TO_SD * median(dev);
  if (!(bound > 0)) return all();
  const kept: number[] = [];
  for (let i = 0; i < r.length; i++) if (dev[i] <= bound) kept.push(i);
  return Uint32Array.from(kept);
}

/** Residual trimming's ridge fits: one per fold, each predicting its fold's rows. */
export interface TrimPlan {
  z: number;
  jobs: FitJob[];
  folds: Uint32Array[];
}

/**
 * The cross-fitted ridge of residual trimming, or null when trimming is off (or there are
 * fewer than 2 x TRIM_FOLDS rows). The folds are cut from a seeded permutation of the
 * training rows (seed + 2: the hold-out uses seed + 1); each fit is the ridge with
 * params.yaml's hyper-parameters on the linear family's matrix and row weights.
 */
export function planTrim(prep: PreparedFeatures, o: TrainBundleOptions): TrimPlan | null {
  const z = o.trimResiduals ?? 0;
  const n = prep.z.length;
  if (!(z > 0) || n < 2 * TRIM_FOLDS) return null;
  const f = prep.families.linear;
  if (!f)
    throw new AppError(
      'MODEL_INVALID',
      'prepared features lack the linear family that residual trimming (model_trainer.trim_residuals) fits its ridge on; rerun data_transformation',
    );
  const w = linearRowWeights(prep, o.ageWeight ?? 0);
  const perm = new Rng(o.seed + 2).permutation(n);
  const folds: Uint32Array[] = [];
  const jobs: FitJob[] = [];
  for (let k = 0; k < TRIM_FOLDS; k++) {
    const a = Math.floor((k * n) / TRIM_FOLDS);
    const b = Math.floor(((k + 1) * n) / TRIM_FOLDS);
    const fit = new Uint32Array(n - (b - a));
    fit.set(perm.subarray(0, a));
    fit.set(perm.subarray(b), a);
    fit.sort();
    folds.push(perm.slice(a, b).sort());
    const key = `trim-fold:${o.seed}:${n}:${k}`;
    jobs.push({
      algo: 'ridge',
      params: o.algoParams.ridge ?? {},
      X: subset(f.X, key, () => takeRows(f.X, fit)),
      y: subset(prep.z, key, () => takeValues(prep.z, fit)),
      ...(w ? { sampleWeight: subset(w, key, () => takeValues(w, fit)) } : {}),
    });
  }
  return { z, jobs, folds };
}

/** What residual trimming found: each training row's out-of-fold residual and the rows kept. */
export interface ResidualTrim {
  /** Target-space residual of each training row, predicted by the ridge of the fold that did not see it. */
  residuals: Float64Array;
  /** The rows the members are fitted on (sorted); null when every row is kept. */
  kept: Uint32Array | null;
}

/** Residual trimming's outcome from its fitted ridges (in plan order): residuals, then {@link keptByResidual}. */
export function trimOutcome(prep: PreparedFeatures, trim: TrimPlan, ridges: readonly Regressor[]): ResidualTrim {
  const X = prep.families.linear!.X;
  const residuals = new Float64Array(prep.z.length);
  trim.folds.forEach((rows, k) => {
    const p = ridges[k].predict(takeRows(X, rows));
    rows.forEach((row, i) => (residuals[row] = prep.z[row] - p[i]));
  });
  const kept = keptByResidual(residuals, trim.z);
  // every row kept: no subset, so the bundle is the untrimmed one, bit for bit
  return { residuals, kept: kept.length === residuals.length ? null : kept };
}

/**
 * Residual trimming on the calling thread: the cross-fitted ridges' residuals and the rows
 * the members are fitted on, or null when trimming is off (`trimResiduals` 0 or absent, or
 * fewer than 2 x TRIM_FOLDS rows).
 */
export function residualTrim(prep: PreparedFeatures, o: TrainBundleOptions): ResidualTrim | null {
  const trim = planTrim(prep, o);
  return trim
    ? trimOutcome(
        prep,
        trim,
        trim.jobs.map((j) => fitJob(j, o.signal)),
      )
    : null;
}
