/** Human-readable formatting of regression metrics for the terminal. */
import type { RegressionMetrics } from '../../ml/metrics.js';

export function formatMetrics(m: RegressionMetrics): string {
  return [
    `  R²        ${m.r2.toFixed(4)}`,
    `  RMSE      ${m.rmse.toFixed(0)}`,
    `  MAE       ${m.mae.toFixed(0)}`,
    `  MAPE      ${(100 * m.mape).toFixed(2)}%`,
    `  MedAPE    ${(100 * m.medape).toFixed(2)}%`,
    `  within10  ${(100 * m.within10).toFixed(1)}%`,
    `  rows      ${m.n}`,
  ].join('\n');
}

/** The JSON shape `--json` prints. */
export function metricsJson(m: RegressionMetrics): Record<string, number> {
  return { r2: m.r2, rmse: m.rmse, mae: m.mae, mape: m.mape, medape: m.medape, within10: m.within10, n: m.n };
}
