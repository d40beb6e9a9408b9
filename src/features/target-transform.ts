/**
 * Target transforms: train on log1p(price) and predict with expm1 (the seed's suggested V2
 * fix for an RMSE of ~200,000 INR on prices spanning 50,000 to 25,000,000), or identity.
 */
import { AppError } from '../core/errors.js';

export type TargetTransformName = 'log1p' | 'identity';

export function forwardTarget(name: TargetTransformName, y: Float64Array): Float64Array {
  if (name === 'identity') return y;
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    if (!(y[i] > -1))
      throw new AppError('DATA_INVALID', `log1p target transform needs prices > -1, got ${y[i]} at row ${i}`);
    out[i] = Math.log1p(y[i]);
  }
  return out;
}

export function inverseTarget(name: TargetTransformName, z: Float64Array): Float64Array {
  if (name === 'identity') return z;
  const out = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) out[i] = Math.expm1(z[i]);
  return out;
}
