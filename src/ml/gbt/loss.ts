/**
 * Boosting objectives: per-row gradient and hessian of the loss at the current
 * prediction, the starting prediction (base_score) and the evaluation metric used for
 * early stopping.
 *
 * - 'reg:squarederror' (XGBoost's): l = (p - y)^2 / 2, g = p - y, h = 1; metric RMSE;
 *   base_score = weighted mean of y.
 * - 'reg:pseudohubererror' (XGBoost's): l = d^2 (sqrt(1 + (r/d)^2) - 1), r = p - y,
 *   d = huber_slope; g = r / sqrt(1 + (r/d)^2), h = 1 / (1 + (r/d)^2)^1.5; metric: mean
 *   pseudo-Huber loss; base_score = weighted median of y.
 * - 'huber' (LightGBM's): l = r^2/2 if |r| <= d else d(|r| - d/2); g = clip(r, -d, d),
 *   h = 1; metric: mean Huber loss; base_score = weighted median of y.
 */

export const OBJECTIVES = ['reg:squarederror', 'reg:pseudohubererror', 'huber'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** A boosting loss. */
export interface Loss {
  /** True when every hessian is the row weight (lets histograms use h as the row count). */
  readonly unitHessian: boolean;
  /** Squared error (g = p - y, h = 1): boosting may compute its gradients in the grower's kernels. */
  readonly squaredError?: boolean;
  /** Name of the metric `metric` returns (lower is better). */
  readonly metricName: string;
  /** gh[2i] = g_i * w_i, gh[2i+1] = h_i * w_i for every row (float32 in boosting). */
  gradients(y: Float64Array, pred: Float64Array, w: Float64Array | null, gh: Float32Array | Float64Array): void;
  /**
   * `gradients` and `metric` of the same predictions in one pass over the rows (the same
   * numbers as the two calls); absent for losses that have no such loop.
   */
  gradientsMetric?(
    y: Float64Array,
    pred: Float64Array,
    w: Float64Array | null,
    gh: Float32Array | Float64Array,
  ): number;
  /** Evaluation metric over all rows (weighted). */
  metric(y: Float64Array, pred: Float64Array, w: Float64Array | null): number;
  /** Constant prediction to start from. */
  baseScore(y: Float64Array, w: Float64Array | null): number;
}

function weightedMean(y: Float64Array, w: Float64Array | null): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const wi = w ? w[i] : 1;
    s += wi * y[i];
    sw += wi;
  }
  return sw > 0 ? s / sw : 0;
}

function weightedMedian(y: Float64Array, w: Float64Array | null): number {
  const idx = Array.from(y.keys()).sort((a, b) => y[a] - y[b] || a - b);
  let total = 0;
  for (let i = 0; i < y.length; i++) total += w ? w[i] : 1;
  let acc = 0;
  for (const i of idx) {
    acc += w ? w[i] : 1;
    if (acc >= total / 2) return y[i];
  }
  return y[idx[idx.length - 1]] ?? 0;
}

// The per-row loops are module-level functions, not closures made per fit: V8 keeps type
// feedback per closure, so a fresh closure each fit was deoptimised and recompiled in every
// fit (background compile time that showed as ~20% extra CPU over wall time).

function squaredGradients(
  y: Float64Array,
  pred: Float64Array,
  w: Float64Array | null,
  gh: Float32Array | Float64Array,
): void {
  if (w)
    for (let i = 0; i < y.length; i++) {
      gh[2 * i] = (pred[i] - y[i]) * w[i];
      gh[2 * i + 1] = w[i];
    }
  else
    for (let i = 0; i < y.length; i++) {
      gh[2 * i] = pred[i] - y[i];
      gh[2 * i + 1] = 1;
    }
}

function rmse(y: Float64Array, pred: Float64Array, w: Float64Array | null): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const r = pred[i] - y[i];
    const wi = w ? w[i] : 1;
    s += wi * r * r;
    sw += wi;
  }
  return Math.sqrt(s / sw);
}

/** squaredGradients and rmse in one pass: each row's residual, weight and sums as in those two. */
function squaredGradientsRmse(
  y: Float64Array,
  pred: Float64Array,
  w: Float64Array | null,
  gh: Float32Array | Float64Array,
): number {
  let s = 0;
  let sw = 0;
  if (w)
    for (let i = 0; i < y.length; i++) {
      const r = pred[i] - y[i];
      const wi = w[i];
      gh[2 * i] = r * wi;
      gh[2 * i + 1] = wi;
      s += wi * r * r;
      sw += wi;
    }
  else
    for (let i = 0; i < y.length; i++) {
      const r = pred[i] - y[i];
      gh[2 * i] = r;
      gh[2 * i + 1] = 1;
      s += 1 * r * r;
      sw += 1;
    }
  return Math.sqrt(s / sw);
}

function pseudoHuberGradients(
  y: Float64Array,
  pred: Float64Array,
  w: Float64Array | null,
  gh: Float32Array | Float64Array,
  delta: number,
): void {
  for (let i = 0; i < y.length; i++) {
    const r = pred[i] - y[i];
    const z = r / delta;
    const s = 1 + z * z;
    const sq = Math.sqrt(s);
    const wi = w ? w[i] : 1;
    gh[2 * i] = (r / sq) * wi;
    gh[2 * i + 1] = wi / (s * sq);
  }
}

function pseudoHuberMetric(y: Float64Array, pred: Float64Array, w: Float64Array | null, delta: number): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const z = (pred[i] - y[i]) / delta;
    const wi = w ? w[i] : 1;
    s += wi * delta * delta * (Math.sqrt(1 + z * z) - 1);
    sw += wi;
  }
  return s / sw;
}

function huberGradients(
  y: Float64Array,
  pred: Float64Array,
  w: Float64Array | null,
  gh: Float32Array | Float64Array,
  delta: number,
): void {
  for (let i = 0; i < y.length; i++) {
    const r = pred[i] - y[i];
    const wi = w ? w[i] : 1;
    gh[2 * i] = (r > delta ? delta : r < -delta ? -delta : r) * wi;
    gh[2 * i + 1] = wi;
  }
}

function huberMetric(y: Float64Array, pred: Float64Array, w: Float64Array | null, delta: number): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < y.length; i++) {
    const a = Math.abs(pred[i] - y[i]);
    const wi = w ? w[i] : 1;
    s += wi * (a <= delta ? 0.5 * a * a : delta * (a - 0.5 * delta));
    sw += wi;
  }
  return s / sw;
}

/** A Huber-type loss: its gradients and metric with `delta` bound, the weighted median as base score. */
function withDelta(
  metricName: string,
  unitHessian: boolean,
  gradients: typeof huberGradients,
  metric: typeof huberMetric,
  delta: number,
): Loss {
  return {
    unitHessian,
    metricName,
    gradients: (y, pred, w, gh) => gradients(y, pred, w, gh, delta),
    metric: (y, pred, w) => metric(y, pred, w, delta),
    baseScore: weightedMedian,
  };
}

/** The loss for an objective name (huber_slope = delta for the Huber variants). */
export function makeLoss(objective: Objective, delta: number): Loss {
  switch (objective) {
    case 'reg:squarederror':
      return {
        unitHessian: true,
        squaredError: true,
        metricName: 'rmse',
        gradients: squaredGradients,
        gradientsMetric: squaredGradientsRmse,
        metric: rmse,
        baseScore: weightedMean,
      };
    case 'reg:pseudohubererror':
      return withDelta('mphe', false, pseudoHuberGradients, pseudoHuberMetric, delta);
    case 'huber':
      return withDelta('huber', true, huberGradients, huberMetric, delta);
  }
}
