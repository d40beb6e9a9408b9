/**
 * One-hot encoding: each categorical column becomes one 0/1 numeric column per category
 * seen at fit time (sorted, so the layout is deterministic), named `col=value`. With
 * `dropFirst` the first category is the reference level and gets no column. A category
 * never seen at fit time maps to all zeros and is counted in TransformStats; it never
 * crashes a prediction.
 */
import type { Frame } from '../data/frame.js';
import {
  assertFitted,
  categoricalColumn,
  checkSaved,
  IndicatorLookup,
  categoryLevels,
  withColumns,
  type SavedTransformer,
  type TransformStats,
  type Transformer,
} from './transformer.js';

export class OneHotEncoder implements Transformer {
  readonly kind = 'one-hot-encoder';
  private categories: Record<string, string[]> | undefined;
  /** Per column: value -> position and the output column names. */
  private readonly lookup = new IndicatorLookup((c, v) => `${c}=${v}`);

  constructor(
    readonly columns: readonly string[],
    readonly dropFirst = false,
  ) {}

  fit(frame: Frame): this {
    this.categories = categoryLevels(frame, this.columns);
    this.lookup.clear();
    return this;
  }

  fitTransform(frame: Frame): Frame {
    return this.fit(frame).transform(frame);
  }

  /** Names of the output columns, in order. */
  outputColumns(): string[] {
    assertFitted(this.categories !== undefined, this.kind);
    return this.columns.flatMap((c) => this.categories![c].slice(this.dropFirst ? 1 : 0).map((v) => `${c}=${v}`));
  }

  transform(frame: Frame, stats?: TransformStats): Frame {
    assertFitted(this.categories !== undefined, this.kind);
    const names: string[] = [];
    const columns: Float64Array[] = [];
    for (const c of this.columns) {
      const cats = this.categories![c];
      const first = this.dropFirst ? 1 : 0;
      const { index, names: colNames } = this.lookup.get(c, this.categories![c]);
      const outs = cats.map(() => new Float64Array(frame.nRows));
      const col = categoricalColumn(frame, c);
      let unknown = 0;
      for (let i = 0; i < col.length; i++) {
        const x = col[i];
        if (x === null) continue; // missing: all zeros, but not an unseen category
        const k = index.get(x);
        if (k === undefined) unknown++;
        else outs[k][i] = 1;
      }
      if (stats && unknown) stats.unknownCategories[c] = (stats.unknownCategories[c] ?? 0) + unknown;
      for (let k = first; k < cats.length; k++) {
        names.push(colNames[k]);
        columns.push(outs[k]);
      }
    }
    return withColumns(frame, { numericList: { names, columns }, drop: this.columns });
  }

  toJSON(): SavedTransformer {
    assertFitted(this.categories !== undefined, this.kind);
    return {
      kind: this.kind,
      formatVersion: 1,
      columns: [...this.columns],
      dropFirst: this.dropFirst,
      categories: this.categories,
    };
  }

  static fromJSON(s: SavedTransformer): OneHotEncoder {
    checkSaved(s, 'one-hot-encoder', [1]);
    const t = new OneHotEncoder(s.columns as string[], Boolean(s.dropFirst));
    t.categories = s.categories as Record<string, string[]>;
    return t;
  }
}
