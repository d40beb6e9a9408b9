/**
 * Standard scaler: (x - mean) / std per numeric column, with the population std as
 * scikit-learn's StandardScaler. Constant columns get std 1 (so they map to 0, never NaN).
 */
import type { Frame } from '../data/frame.js';
import { checkSaved, FittedStep, numericColumn, withColumns, type SavedTransformer } from './transformer.js';

type Stats = Record<string, { mean: number; std: number }>;

/** State: each column's mean and standard deviation. */
export class StandardScaler extends FittedStep<Stats> {
  readonly kind = 'standard-scaler';

  constructor(readonly columns: readonly string[]) {
    super();
  }

  protected learn(frame: Frame): Stats {
    const stats: Stats = {};
    for (const c of this.columns) {
      const col = numericColumn(frame, c);
      let mean = 0;
      for (let i = 0; i < col.length; i++) mean += (col[i] - mean) / (i + 1);
      let ss = 0;
      for (let i = 0; i < col.length; i++) ss += (col[i] - mean) ** 2;
      const std = Math.sqrt(ss / Math.max(1, col.length));
      stats[c] = { mean, std: std > 1e-12 * Math.max(1, Math.abs(mean)) ? std : 1 };
    }
    return stats;
  }

  transform(frame: Frame): Frame {
    const stats = this.state;
    const numeric: Record<string, Float64Array> = {};
    for (const c of this.columns) {
      const col = numericColumn(frame, c);
      const { mean, std } = stats[c];
      const out = new Float64Array(col.length);
      for (let i = 0; i < col.length; i++) out[i] = (col[i] - mean) / std;
      numeric[c] = out;
    }
    return withColumns(frame, { numeric });
  }

  protected saved(stats: Stats): Record<string, unknown> {
    return { columns: [...this.columns], stats };
  }

  static fromJSON(s: SavedTransformer): StandardScaler {
    checkSaved(s, 'standard-scaler', [1]);
    return new StandardScaler(s.columns as string[]).restored(s.stats as Stats);
  }
}
