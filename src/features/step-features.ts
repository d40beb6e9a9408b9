/**
 * Step (thermometer) features for linear models: for a numeric column such as car_age,
 * one 0/1 column per threshold t, `car_age~ge=t` = 1 where car_age >= t. A linear model on
 * them fits a free-form curve (a price step per year of age) in place of one slope, while
 * its penalty shrinks each step towards 0, i.e. towards a flat curve and not towards a
 * reversal: unlike one-hot year levels, a rare year cannot be priced above a newer one just
 * because the penalty pulled its level to the mean. Thresholds are the distinct training
 * values above the smallest with at least `minCount` rows on both sides (at most 64,
 * spread by quantile when there are more).
 */
import type { Frame } from '../data/frame.js';
import { checkSaved, FittedStep, numericColumn, withColumns, type SavedTransformer } from './transformer.js';

const MAX_STEPS = 64;

/** The name of the step column of `column` at threshold `t`. */
export function stepColumn(column: string, t: number): string {
  return `${column}~ge=${t}`;
}

/** State: per column, its thresholds. */
export class StepFeatures extends FittedStep<number[][]> {
  readonly kind = 'step-features';

  constructor(
    readonly columns: readonly string[],
    readonly minCount = 20,
  ) {
    super();
  }

  protected learn(frame: Frame): number[][] {
    return this.columns.map((c) => {
      const xs = Array.from(numericColumn(frame, c))
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      const n = xs.length;
      const out: number[] = [];
      for (let i = 1; i < n; i++) {
        if (xs[i] === xs[i - 1]) continue;
        // rows below xs[i]: i; rows at or above: n - i
        if (i >= this.minCount && n - i >= this.minCount) out.push(xs[i]);
      }
      if (out.length <= MAX_STEPS) return out;
      return Array.from({ length: MAX_STEPS }, (_, k) => out[Math.floor((k * out.length) / MAX_STEPS)]);
    });
  }

  transform(frame: Frame): Frame {
    const thresholds = this.state;
    const numeric: Record<string, Float64Array> = {};
    this.columns.forEach((c, k) => {
      const x = numericColumn(frame, c);
      for (const t of thresholds[k]) {
        const out = new Float64Array(frame.nRows);
        for (let i = 0; i < out.length; i++) out[i] = x[i] >= t ? 1 : 0;
        numeric[stepColumn(c, t)] = out;
      }
    });
    return withColumns(frame, { numeric });
  }

  protected saved(thresholds: number[][]): Record<string, unknown> {
    return { columns: [...this.columns], minCount: this.minCount, thresholds };
  }

  static fromJSON(s: SavedTransformer): StepFeatures {
    checkSaved(s, 'step-features', [1]);
    return new StepFeatures(s.columns as string[], s.minCount as number).restored(s.thresholds as number[][]);
  }
}
