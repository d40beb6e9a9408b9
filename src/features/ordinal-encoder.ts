/**
 * Ordinal encoding for tree models with native categorical splits: each category seen at
 * fit time gets a code 0..k-1 (sorted order); missing and unseen categories become NaN,
 * which tree learners send down their learned default branch. Output columns keep the
 * input names and are flagged categorical in the final matrix.
 */
import type { Frame } from '../data/frame.js';
import {
  assertFitted,
  categoricalColumn,
  checkSaved,
  categoryLevels,
  withColumns,
  type SavedTransformer,
  type TransformStats,
  type Transformer,
} from './transformer.js';

export class OrdinalEncoder implements Transformer {
  readonly kind = 'ordinal-encoder';
  private categories: Record<string, string[]> | undefined;

  constructor(readonly columns: readonly string[]) {}

  fit(frame: Frame): this {
    this.categories = categoryLevels(frame, this.columns);
    return this;
  }

  fitTransform(frame: Frame): Frame {
    return this.fit(frame).transform(frame);
  }

  /** Number of categories per encoded column. */
  cardinality(): Record<string, number> {
    assertFitted(this.categories !== undefined, this.kind);
    return Object.fromEntries(Object.entries(this.categories!).map(([k, v]) => [k, v.length]));
  }

  transform(frame: Frame, stats?: TransformStats): Frame {
    assertFitted(this.categories !== undefined, this.kind);
    const numeric: Record<string, Float64Array> = {};
    for (const c of this.columns) {
      const index = new Map(this.categories![c].map((v, k) => [v, k]));
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

  toJSON(): SavedTransformer {
    assertFitted(this.categories !== undefined, this.kind);
    return { kind: this.kind, formatVersion: 1, columns: [...this.columns], categories: this.categories };
  }

  static fromJSON(s: SavedTransformer): OrdinalEncoder {
    checkSaved(s, 'ordinal-encoder', [1]);
    const t = new OrdinalEncoder(s.columns as string[]);
    t.categories = s.categories as Record<string, string[]>;
    return t;
  }
}
