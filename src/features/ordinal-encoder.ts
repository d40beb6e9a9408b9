/**
 * Ordinal encoding for tree models with native categorical splits: each category seen at
 * fit time gets a code 0..k-1 (sorted order); missing and unseen categories become NaN,
 * which tree learners send down their learned default branch. Output columns keep the
 * input names and are flagged categorical in the final matrix.
 */
import type { Frame } from '../data/frame.js';
import {
  categoricalColumn,
  categoryLevels,
  checkSaved,
  FittedStep,
  withColumns,
  type SavedTransformer,
  type TransformStats,
} from './transformer.js';

/** State: each column's categories seen at fit time, sorted (a category's code is its position). */
export class OrdinalEncoder extends FittedStep<Record<string, string[]>> {
  readonly kind = 'ordinal-encoder';

  constructor(readonly columns: readonly string[]) {
    super();
  }

  protected learn(frame: Frame): Record<string, string[]> {
    return categoryLevels(frame, this.columns);
  }

  /** Number of categories per encoded column. */
  cardinality(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.state).map(([k, v]) => [k, v.length]));
  }

  transform(frame: Frame, stats?: TransformStats): Frame {
    const categories = this.state;
    const numeric: Record<string, Float64Array> = {};
    for (const c of this.columns) {
      const index = new Map(categories[c].map((v, k) => [v, k]));
      const col = categoricalColumn(frame, c);
      const out = new Float64Array(frame.nRows);
      let unknown = 0;
      for (let i = 0; i < col.length; i++) {
        const x = col[i];
        const k = x === null ? undefined : index.get(x);
        if (k === undefined) {
          out[i] = NaN;
          if (x !== null) unknown++;
        } else out[i] = k;
      }
      if (stats && unknown) stats.unknownCategories[c] = (stats.unknownCategories[c] ?? 0) + unknown;
      numeric[`${c}#code`] = out;
    }
    return withColumns(frame, { numeric, drop: this.columns });
  }

  protected saved(categories: Record<string, string[]>): Record<string, unknown> {
    return { columns: [...this.columns], categories };
  }

  static fromJSON(s: SavedTransformer): OrdinalEncoder {
    checkSaved(s, 'ordinal-encoder', [1]);
    return new OrdinalEncoder(s.columns as string[]).restored(s.categories as Record<string, string[]>);
  }
}
