/**
 * One-hot encoding: each categorical column becomes one 0/1 numeric column per category
 * seen at fit time (sorted, so the layout is deterministic), named `col=value`. With
 * `dropFirst` the first category is the reference level and gets no column. A category
 * never seen at fit time maps to all zeros and is counted in TransformStats; it never
 * crashes a prediction.
 */
import type { Frame } from '../data/frame.js';
import {
  categoricalColumn,
  categoryLevels,
  checkSaved,
  FittedStep,
  IndicatorLookup,
  withColumns,
  type SavedTransformer,
  type TransformStats,
} from './transformer.js';

/** State: each column's categories seen at fit time, sorted. */
export class OneHotEncoder extends FittedStep<Record<string, string[]>> {
  readonly kind = 'one-hot-encoder';
  /** Per column: value -> position and the output column names. */
  private readonly lookup = new IndicatorLookup((c, v) => `${c}=${v}`);

  constructor(
    readonly columns: readonly string[],
    readonly dropFirst = false,
  ) {
    super();
  }

  protected learn(frame: Frame): Record<string, string[]> {
    this.lookup.clear();
    return categoryLevels(frame, this.columns);
  }

  /** Names of the output columns, in order. */
  outputColumns(): string[] {
    const categories = this.state;
    return this.columns.flatMap((c) => categories[c].slice(this.dropFirst ? 1 : 0).map((v) => `${c}=${v}`));
  }

  transform(frame: Frame, stats?: TransformStats): Frame {
    const categories = this.state;
    const names: string[] = [];
    const columns: Float64Array[] = [];
    for (const c of this.columns) {
      const cats = categories[c];
      const first = this.dropFirst ? 1 : 0;
      const { index, names: colNames } = this.lookup.get(c, cats);
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

  protected saved(categories: Record<string, string[]>): Record<string, unknown> {
    return { columns: [...this.columns], dropFirst: this.dropFirst, categories };
  }

  static fromJSON(s: SavedTransformer): OneHotEncoder {
    checkSaved(s, 'one-hot-encoder', [1]);
    return new OneHotEncoder(s.columns as string[], Boolean(s.dropFirst)).restored(
      s.categories as Record<string, string[]>,
    );
  }
}
