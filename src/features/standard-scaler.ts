/**
 * Standard scaler: (x - mean) / std per numeric column, with the population std as
 * scikit-learn's StandardScaler. Constant columns get std 1 (so they map to 0, never NaN).
 */
import type { Frame } from '../data/frame.js';
import {
  assertFitted,
  checkSaved,
  numericColumn,
  withColumns,
  type SavedTransformer,
  type Transformer,
} from './transformer.js';

export class StandardScaler implements Transformer {
  readonly kind = 'standard-scaler';
  private stats: Record<string, { mean: number; std: number }> | undefined;

  constructor(readonly columns: readonly string[]) {}

  fit(frame: Frame): this {
    const stats: Record<string, { mean: number; std: number }> = {};
    for (const c of this.columns) {
      const col = numericColumn(frame, c);
      let mean = 0;
      for (let i = 0; i < col.length; i++) mean += (col[i] - mean) / (i + 1);
      let ss = 0;
      for (let i = 0; i < col.length; i++) ss += (col[i] - mean) ** 2;
      const std = Math.sqrt(ss / Math.max(1, col.length));
      stats[c] = { mean, std: std > 1e-12 * Math.max(1, Math.abs(mean)) ? std : 1 };
    }
    this.stats = stats;
    return this;
  }

  fitTransform(frame: Frame): Frame {
    return this.fit(frame).transform(frame);
  }

  transform(frame: Frame): Frame {
    assertFitted(this.stats !== undefined, this.kind);
    const numeric: Record<string, Float64Array> = {};
    for (const c of this.columns) {
      const col = numericColumn(frame, c);
      const { mean, std } = this.stats![c];
      const out = new Float64Array(col.length);
      for (let i = 0; i < col.length; i++) out[i] = (col[i] - mean) / std;
      numeric[c] = out;
    }
    return withColumns(frame, { numeric });
  }

  toJSON(): SavedTransformer {
    assertFitted(this.stats !== undefined, this.kind);
    return { kind: this.kind, formatVersion: 1, columns: [...this.columns], stats: this.stats };
  }

  static fromJSON(s: SavedTransformer): StandardScaler {
    checkSaved(s, 'standard-scaler', [1]);
    const t = new StandardScaler(s.columns as string[]);
    t.stats = s.stats as Record<string, { mean: number; std: number }>;
    return t;
  }
}
