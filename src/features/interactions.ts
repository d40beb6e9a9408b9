/**
 * Numeric-by-category interactions for linear models: for a pair "car_age:make", one
 * column per frequent make holding car_age where the listing is that make and 0
 * elsewhere, so each brand gets its own depreciation slope. Levels seen in fewer than
 * `minCount` training rows share the global slope (no column).
 */
import type { Frame } from '../data/frame.js';
import {
  categoricalColumn,
  categoryCounts,
  checkSaved,
  FittedStep,
  numericColumn,
  withColumns,
  type SavedTransformer,
} from './transformer.js';

export interface InteractionPair {
  numeric: string;
  categorical: string;
}

/** Parse "car_age:make" pairs. */
export function parseInteraction(spec: string): InteractionPair {
  const [numeric, categorical] = spec.split(':');
  return { numeric, categorical };
}

/** State: per pair, the levels frequent enough to get their own column. */
export class Interactions extends FittedStep<string[][]> {
  readonly kind = 'interactions';

  constructor(
    readonly pairs: readonly InteractionPair[],
    readonly minCount = 20,
  ) {
    super();
  }

  protected learn(frame: Frame): string[][] {
    return this.pairs.map((p) =>
      [...categoryCounts(frame, p.categorical)]
        .filter(([, n]) => n >= this.minCount)
        .map(([k]) => k)
        .sort(),
    );
  }

  transform(frame: Frame): Frame {
    const levels = this.state;
    const numeric: Record<string, Float64Array> = {};
    this.pairs.forEach((p, k) => {
      const x = numericColumn(frame, p.numeric);
      const cat = categoricalColumn(frame, p.categorical);
      for (const level of levels[k]) {
        const out = new Float64Array(frame.nRows);
        for (let i = 0; i < out.length; i++) if (cat[i] === level) out[i] = x[i];
        numeric[`${p.numeric}*${p.categorical}=${level}`] = out;
      }
    });
    return withColumns(frame, { numeric });
  }

  protected saved(levels: string[][]): Record<string, unknown> {
    return { pairs: this.pairs, minCount: this.minCount, levels };
  }

  static fromJSON(s: SavedTransformer): Interactions {
    checkSaved(s, 'interactions', [1]);
    return new Interactions(s.pairs as InteractionPair[], s.minCount as number).restored(s.levels as string[][]);
  }
}
