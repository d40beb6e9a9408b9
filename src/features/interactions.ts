/**
 * Numeric-by-category interactions for linear models: for a pair "car_age:make", one
 * column per frequent make holding car_age where the listing is that make and 0
 * elsewhere, so each brand gets its own depreciation slope. Levels seen in fewer than
 * `minCount` training rows share the global slope (no column).
 */
import type { Frame } from '../data/frame.js';
import {
  assertFitted,
  categoricalColumn,
  categoryCounts,
  checkSaved,
  numericColumn,
  withColumns,
  type SavedTransformer,
  type Transformer,
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

export class Interactions implements Transformer {
  readonly kind = 'interactions';
  private levels: string[][] | undefined;

  constructor(
    readonly pairs: readonly InteractionPair[],
    readonly minCount = 20,
  ) {}

  fit(frame: Frame): this {
    this.levels = this.pairs.map((p) =>
      [...categoryCounts(frame, p.categorical)]
        .filter(([, n]) => n >= this.minCount)
        .map(([k]) => k)
        .sort(),
    );
    return this;
  }

  fitTransform(frame: Frame): Frame {
    return this.fit(frame).transform(frame);
  }

  transform(frame: Frame): Frame {
    assertFitted(this.levels !== undefined, this.kind);
    const numeric: Record<string, Float64Array> = {};
    this.pairs.forEach((p, k) => {
      const x = numericColumn(frame, p.numeric);
      const cat = categoricalColumn(frame, p.categorical);
      for (const level of this.levels![k]) {
        const out = new Float64Array(frame.nRows);
        for (let i = 0; i < out.length; i++) if (cat[i] === level) out[i] = x[i];
        numeric[`${p.numeric}*${p.categorical}=${level}`] = out;
      }
    });
    return withColumns(frame, { numeric });
  }

  toJSON(): SavedTransformer {
    assertFitted(this.levels !== undefined, this.kind);
    return { kind: this.kind, formatVersion: 1, pairs: this.pairs, minCount: this.minCount, levels: this.levels };
  }

  static fromJSON(s: SavedTransformer): Interactions {
    checkSaved(s, 'interactions', [1]);
    const t = new Interactions(s.pairs as InteractionPair[], s.minCount as number);
    t.levels = s.levels as string[][];
    return t;
  }
}
