/**
 * Synthetic listings for scale tests: rows resampled (seeded) from real listings and
 * perturbed so that they are not exact copies: odometer x lognormal(0, 0.15), price x
 * lognormal(0, 0.08), fitnessAge +/- 1 within 1..15. Categories and equipment are kept
 * as sampled, so the joint structure of the real data survives.
 */
import { Rng } from '../core/rng.js';
import type { Frame } from './frame.js';
import type { Cell } from './table.js';

export interface SynthOptions {
  rows: number;
  seed: number;
  target: string;
}

/** Column names of synthetic rows (numeric, categorical, target). */
export function synthColumns(frame: Frame, target: string): string[] {
  return [...Object.keys(frame.numeric), ...Object.keys(frame.categorical), target];
}

/** Generate synthetic rows one at a time (constant memory for millions of rows). */
export function* synthRows(frame: Frame, y: Float64Array, o: SynthOptions): Generator<Cell[]> {
  const rng = new Rng(o.seed);
  const num = Object.keys(frame.numeric);
  const cat = Object.keys(frame.categorical);
  for (let k = 0; k < o.rows; k++) {
    const i = rng.int(frame.nRows);
    const row: Cell[] = [];
    for (const c of num) {
      let x = frame.numeric[c][i];
      if (Number.isNaN(x)) row.push(null);
      else {
        if (c === 'odometer') x = Math.round(x * Math.exp(0.15 * rng.normal()));
        else if (c === 'fitnessAge') x = Math.min(15, Math.max(1, x + rng.int(3) - 1));
        row.push(x);
      }
    }
    for (const c of cat) row.push(frame.categorical[c][i]);
    row.push(Math.round(y[i] * Math.exp(0.08 * rng.normal())));
    yield row;
  }
}
