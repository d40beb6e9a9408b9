/**
 * How many features a split tries, from scikit-learn's / XGBoost's max_features forms.
 * (Hyper-parameter checking itself is core/schema.ts `resolveParams`, shared by every
 * estimator.)
 */
/** Features tried per split for a max_features value ('sqrt', 'log2', fraction or count). */
export function featuresPerSplit(maxFeatures: number | string, nFeatures: number): number {
  let k: number;
  if (maxFeatures === 'sqrt') k = Math.floor(Math.sqrt(nFeatures));
  else if (maxFeatures === 'log2') k = Math.floor(Math.log2(nFeatures));
  else if (typeof maxFeatures === 'number' && maxFeatures <= 1) k = Math.floor(maxFeatures * nFeatures);
  else k = Math.floor(Number(maxFeatures));
  return Math.max(1, Math.min(nFeatures, k));
}
