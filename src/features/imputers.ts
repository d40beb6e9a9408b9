/**
 * Imputers: fill missing numeric values (NaN) with the training mean or median, and
 * missing categories (null) with the most frequent training category or a constant
 * "(missing)" level. Columns that were entirely missing at fit time get 0 / "(missing)".
 */
import type { Frame } from '../data/frame.js';
import {
  categoryCounts,
  checkSaved,
  FittedStep,
  numericColumn,
  withColumns,
  type SavedTransformer,
} from './transformer.js';

export const MISSING_CATEGORY = '(missing)';

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** State: the value that fills each column. */
export class NumericImputer extends FittedStep<Record<string, number>> {
  readonly kind = 'numeric-imputer';

  constructor(
    readonly columns: readonly string[],
    readonly strategy: 'mean' | 'median' = 'median',
  ) {
    super();
  }

  protected learn(frame: Frame): Record<string, number> {
    const fill: Record<string, number> = {};
    for (const c of this.columns) {
      const present: number[] = [];
      for (const x of numericColumn(frame, c)) if (!Number.isNaN(x)) present.push(x);
      fill[c] =
        present.length === 0
          ? 0
          : this.strategy === 'mean'
            ? present.reduce((a, b) => a + b, 0) / present.length
            : median(present);
    }
    return fill;
  }

  transform(frame: Frame): Frame {
    const fill = this.state;
    const numeric: Record<string, Float64Array> = {};
    for (const c of this.columns) {
      const col = frame.numeric[c] ?? new Float64Array(frame.nRows).fill(NaN);
      const out = new Float64Array(col.length);
      const f = fill[c];
      for (let i = 0; i < col.length; i++) out[i] = Number.isNaN(col[i]) ? f : col[i];
      numeric[c] = out;
    }
    return withColumns(frame, { numeric });
  }

  /** The values used to fill each column. */
  fillValues(): Readonly<Record<string, number>> {
    return this.state;
  }

  protected saved(fill: Record<string, number>): Record<string, unknown> {
    return { columns: [...this.columns], strategy: this.strategy, fill };
  }

  static fromJSON(s: SavedTransformer): NumericImputer {
    checkSaved(s, 'numeric-imputer', [1]);
    return new NumericImputer(s.columns as string[], s.strategy as 'mean' | 'median').restored(
      s.fill as Record<string, number>,
    );
  }
}

/** State: the category that fills each column. */
export class CategoricalImputer extends FittedStep<Record<string, string>> {
  readonly kind = 'categorical-imputer';

  constructor(
    readonly columns: readonly string[],
    readonly strategy: 'most_frequent' | 'constant' = 'most_frequent',
  ) {
    super();
  }

  protected learn(frame: Frame): Record<string, string> {
    const fill: Record<string, string> = {};
    for (const c of this.columns) {
      if (this.strategy === 'constant') {
        fill[c] = MISSING_CATEGORY;
        continue;
      }
      const counts = categoryCounts(frame, c);
      // most frequent; ties broken by the smaller string so the result is deterministic
      let best: string | undefined;
      let bestN = -1;
      for (const [k, n] of counts)
        if (n > bestN || (n === bestN && best !== undefined && k < best)) [best, bestN] = [k, n];
      fill[c] = best ?? MISSING_CATEGORY;
    }
    return fill;
  }

  transform(frame: Frame): Frame {
    const fill = this.state;
    const categorical: Record<string, (string | null)[]> = {};
    for (const c of this.columns) {
      const col = frame.categorical[c] ?? new Array<string | null>(frame.nRows).fill(null);
      const f = fill[c];
      categorical[c] = col.map((x) => (x === null ? f : x));
    }
    return withColumns(frame, { categorical });
  }

  protected saved(fill: Record<string, string>): Record<string, unknown> {
    return { columns: [...this.columns], strategy: this.strategy, fill };
  }

  static fromJSON(s: SavedTransformer): CategoricalImputer {
    checkSaved(s, 'categorical-imputer', [1]);
    return new CategoricalImputer(s.columns as string[], s.strategy as 'most_frequent' | 'constant').restored(
      s.fill as Record<string, string>,
    );
  }
}
