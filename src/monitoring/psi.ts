/**
 * Population stability index (PSI) between a reference distribution and a window, over
 * the same buckets:
 *
 *   PSI = sum_i (w_i - r_i) * ln(w_i / r_i)
 *
 * where r_i and w_i are the reference and window shares of bucket i. Both are smoothed as
 * (count + 0.5) / (total + 0.5 k) so that an empty bucket gives a large but finite term.
 * Usual reading: < 0.1 stable, 0.1-0.25 a moderate shift, > 0.25 a significant one.
 *
 * Worked example: reference shares [0.5, 0.5], window [0.9, 0.1] (large totals, so the
 * smoothing is negligible): (0.9 - 0.5) ln(0.9 / 0.5) + (0.1 - 0.5) ln(0.1 / 0.5)
 * = 0.4 * 0.5878 + (-0.4) * (-1.6094) = 0.2351 + 0.6438 = 0.8789.
 *
 * Sampling noise: with n window rows and k buckets and no real shift, PSI is about
 * (k - 1) / n (a chi-square / n), e.g. 0.045 for 10 bins and 200 rows; the default alert
 * threshold (0.25) is far above it, which is why drift needs a minimum window.
 */

/** Shares of counts over k buckets with +0.5 smoothing. */
export function smoothedShares(counts: readonly number[]): number[] {
  const k = counts.length;
  let total = 0;
  for (const c of counts) total += c;
  return counts.map((c) => (c + 0.5) / (total + 0.5 * k));
}

/** PSI of two count vectors over the same buckets (0 when either is empty). */
export function psi(reference: readonly number[], window: readonly number[]): number {
  if (reference.length !== window.length) throw new Error('psi: bucket counts differ');
  const rt = reference.reduce((a, b) => a + b, 0);
  const wt = window.reduce((a, b) => a + b, 0);
  if (rt === 0 || wt === 0 || reference.length < 2) return 0;
  const r = smoothedShares(reference);
  const w = smoothedShares(window);
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (w[i] - r[i]) * Math.log(w[i] / r[i]);
  return s;
}
