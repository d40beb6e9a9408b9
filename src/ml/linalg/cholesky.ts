/**
 * Cholesky factorisation A = L L^T of a symmetric positive-definite matrix and the two
 * triangular solves that use it (the normal-equation solver behind Ridge).
 *
 * Matrices are p x p, row-major, full storage; only the lower triangle is read.
 */

/**
 * Factor `a` in place: on success its lower triangle holds L (the strict upper triangle
 * is left as it was) and the function returns true. Returns false, leaving `a` partly
 * overwritten, when a pivot is not clearly positive: `d_j <= max((p + 1) eps, 1e-13) * A_jj`,
 * i.e. row j's diagonal cancelled to rounding noise (column j is, to 13 digits, a
 * combination of the earlier ones), so the matrix is singular or too ill-conditioned to
 * trust (the caller regularises and retries on a fresh copy).
 *
 * Worked example: A = [[4, 2], [2, 3]] gives L = [[2, 0], [1, sqrt(2)]], since
 * L11 = sqrt(4) = 2, L21 = 2 / 2 = 1, L22 = sqrt(3 - 1^2) = sqrt(2).
 */
export function choleskyInPlace(a: Float64Array, p: number): boolean {
  const tol = Math.max((p + 1) * Number.EPSILON, 1e-13);
  for (let j = 0; j < p; j++) {
    const rj = j * p;
    const ajj = a[rj + j];
    let d = ajj;
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > tol * Math.abs(ajj))) return false; // also catches NaN
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      const ri = i * p;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s / ljj;
    }
  }
  return true;
}

/** Solve `L L^T x = b` given the factor from {@link choleskyInPlace}; `b` is overwritten with x and returned. */
export function choleskySolveInPlace(l: Float64Array, p: number, b: Float64Array): Float64Array {
  // forward: L z = b
  for (let i = 0; i < p; i++) {
    const ri = i * p;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
  // backward: L^T x = z
  for (let i = p - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < p; k++) s -= l[k * p + i] * b[k];
    b[i] = s / l[i * p + i];
  }
  return b;
}
