/**
 * Target (mean) encoding with smoothing, for high-cardinality columns (model, variant).
 *
 * A category c seen n_c times with mean target m_c is encoded as
 *   enc(c) = (n_c * m_c + s * m) / (n_c + s)
 * where m is the global mean and s the smoothing strength: rare categories shrink
 * towards the global mean. Worked example: m = 10, s = 2, category "a" with targets
 * [20, 22] -> (2 * 21 + 2 * 10) / 4 = 15.5. Unseen categories get m.
 *
 * On the training rows, `fitTransform` uses out-of-fold encodings (K seeded folds: each
 * row is encoded with statistics from the other folds) so that a row's own price never
 * leaks into its feature; `transform` on new rows uses statistics from all training rows.
 */
import { Rng } from '../core/rng.js';
import { AppError } from '../core/errors.js';
import type { Frame } from '../data/frame.js';
import {
  categoricalColumn,
  checkSaved,
  FittedStep,
  withColumns,
  type SavedTransformer,
  type TransformStats,
} from './transformer.js';

interface Encoding {
  global: number;
  values: Record<string, number>;
}

function encode(col: (string | null)[], y: Float64Array, rows: ArrayLike<number>, smoothing: number): Encoding {
  const sum = new Map<string, number>();
  const cnt = new Map<string, number>();
  let total = 0;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k];
    total += y[i];
    const x = col[i];
    if (x === null) continue;
    sum.set(x, (sum.get(x) ?? 0) + y[i]);
    cnt.set(x, (cnt.get(x) ?? 0) + 1);
  }
  const global = rows.length ? total / rows.length : 0;
  const values: Record<string, number> = {};
  for (const key of [...cnt.keys()].sort()) {
    const n = cnt.get(key)!;
    values[key] = (sum.get(key)! + smoothing * global) / (n + smoothing);
  }
  return { global, values };
}

/**
 * Integer codes of a column's categories (-1: missing), so the out-of-fold statistics are
 * array sums instead of string-keyed map updates for every row and fold. "__proto__" is
 * coded -1 too: `encode` keeps its statistics in a plain object, where it never sticks.
 */
function categoryCodes(col: (string | null)[]): { codes: Int32Array; nCodes: number } {
  const index = new Map<string, number>();
  const codes = new Int32Array(col.length);
  for (let i = 0; i < col.length; i++) {
    const x = col[i];
    if (x === null || x === '__proto__') {
      codes[i] = -1;
      continue;
    }
    let k = index.get(x);
    if (k === undefined) index.set(x, (k = index.size));
    codes[i] = k;
  }
  return { codes, nCodes: index.size };
}

/**
 * Out-of-fold encodings: each row encoded with the statistics of the other folds, exactly
 * as `encode` over those rows computes them (the same sums in the same row order).
 */
function outOfFold(
  codes: Int32Array,
  nCodes: number,
  fold: Uint8Array,
  k: number,
  y: Float64Array,
  smoothing: number,
): Float64Array {
  const n = codes.length;
  const out = new Float64Array(n);
  const sum = new Float64Array(nCodes);
  const cnt = new Float64Array(nCodes);
  const value = new Float64Array(nCodes);
  for (let f = 0; f < k; f++) {
    sum.fill(0);
    cnt.fill(0);
    let total = 0;
    let rows = 0;
    for (let i = 0; i < n; i++) {
      if (fold[i] === f) continue;
      total += y[i];
      rows++;
      const c = codes[i];
      if (c >= 0) {
        sum[c] += y[i];
        cnt[c]++;
      }
    }
    const global = rows ? total / rows : 0;
    for (let c = 0; c < nCodes; c++)
      value[c] = cnt[c] > 0 ? (sum[c] + smoothing * global) / (cnt[c] + smoothing) : global;
    for (let i = 0; i < n; i++) {
      if (fold[i] !== f) continue;
      const c = codes[i];
      out[i] = c >= 0 ? value[c] : global;
    }
  }
  return out;
}

/** State: each column's encoding learned from all training rows. */
export class TargetEncoder extends FittedStep<Record<string, Encoding>> {
  readonly kind = 'target-encoder';

  constructor(
    readonly columns: readonly string[],
    readonly smoothing = 10,
    readonly folds = 5,
    readonly seed = 42,
  ) {
    super();
  }

  private need(y: Float64Array | undefined, frame: Frame): Float64Array {
    if (!y || y.length !== frame.nRows)
      throw new AppError('MODEL_INVALID', 'target encoding needs the training target, one value per row');
    return y;
  }

  protected learn(frame: Frame, y?: Float64Array): Record<string, Encoding> {
    const yy = this.need(y, frame);
    const all = Uint32Array.from({ length: frame.nRows }, (_, i) => i);
    const encodings: Record<string, Encoding> = {};
    for (const c of this.columns) encodings[c] = encode(categoricalColumn(frame, c), yy, all, this.smoothing);
    return encodings;
  }

  /** Out-of-fold encodings on the training rows (see the file's comment), having fitted on all of them. */
  override fitTransform(frame: Frame, y?: Float64Array): Frame {
    const yy = this.need(y, frame);
    this.fit(frame, yy);
    const n = frame.nRows;
    const k = Math.min(this.folds, n);
    if (k < 2) return this.transform(frame);
    const perm = new Rng(this.seed).permutation(n);
    const fold = new Uint8Array(n);
    for (let p = 0; p < n; p++) fold[perm[p]] = p % k;
    const numeric: Record<string, Float64Array> = {};
    for (const c of this.columns) {
      const { codes, nCodes } = categoryCodes(categoricalColumn(frame, c));
      numeric[`${c}~te`] = outOfFold(codes, nCodes, fold, k, yy, this.smoothing);
    }
    return withColumns(frame, { numeric, drop: this.columns });
  }

  transform(frame: Frame, stats?: TransformStats): Frame {
    const encodings = this.state;
    const numeric: Record<string, Float64Array> = {};
    for (const c of this.columns) {
      const { global, values } = encodings[c];
      const col = categoricalColumn(frame, c);
      const out = new Float64Array(frame.nRows);
      let unknown = 0;
      for (let i = 0; i < col.length; i++) {
        const x = col[i];
        const e = x === null || !Object.hasOwn(values, x) ? undefined : values[x];
        if (e === undefined && x !== null) unknown++; // missing is not an unseen category
        out[i] = e ?? global;
      }
      if (stats && unknown) stats.unknownCategories[c] = (stats.unknownCategories[c] ?? 0) + unknown;
      numeric[`${c}~te`] = out;
    }
    return withColumns(frame, { numeric, drop: this.columns });
  }

  protected saved(encodings: Record<string, Encoding>): Record<string, unknown> {
    return { columns: [...this.columns], smoothing: this.smoothing, folds: this.folds, seed: this.seed, encodings };
  }

  static fromJSON(s: SavedTransformer): TargetEncoder {
    checkSaved(s, 'target-encoder', [1]);
    return new TargetEncoder(
      s.columns as string[],
      s.smoothing as number,
      s.folds as number,
      s.seed as number,
    ).restored(s.encodings as Record<string, Encoding>);
  }
}
