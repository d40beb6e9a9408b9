/**
 * Small dense linear algebra on Float64Arrays (no per-row objects): products, Gram
 * matrices, Cholesky, pivoted Householder QR. Used by ml/linear and by features/.
 */
export { dot, matVec, matTVec, toColumnMajor } from './mat-vec.js';
export { gram, crossProduct, centeredCrossProducts, CrossProductsCache, type CenteredCrossProducts } from './gram.js';
export { choleskyInPlace, choleskySolveInPlace } from './cholesky.js';
export {
  householderQr,
  applyQt,
  qrSolve,
  leastSquares,
  type QrDecomposition,
  type QrOptions,
} from './householder-qr.js';
