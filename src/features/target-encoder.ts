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
 *
 * Hierarchical encoding (a column with a parent, e.g. variant within model): the child is
 * counted per (parent, child) pair and shrunk towards its parent's encoding instead of the
 * global mean, and a pair never seen gets the parent's encoding:
 *   enc(p) = (n_p m_p + s m) / (n_p + s),   enc(p, c) = (n_pc m_pc + s enc(p)) / (n_pc + s).
 * A rare or unseen variant then starts from its model's price, not from the average car's;
 * a variant name shared by two models ("VXI") gets one value per model. Worked example:
 * m = 10, s = 2, model "a" with targets [20, 22] -> enc(a) = 15.5; variant "x" of "a"
 * with target [20] -> (20 + 2 * 15.5) / 3 = 17; an unseen variant of "a" -> 15.5.
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
  /** By category, or by `${parent}|${category}` with a parent column. */
  values: Record<string, number>;
  /** The parent column's own encodings (hierarchical encoding only). */
  parentValues?: Record<string, number>;
}

/** The key of a (parent, child) pair; null when either is missing. */
function pairKey(parent: string | null, child: string | null): string | null {
  return parent === null || child === null ? null : `${parent}|${child}`;
}

function pairColumn(parent: (string | null)[], child: (string | null)[]): (string | null)[] {
  return child.map((c, i) => pairKey(parent[i], c));
}

/** Hierarchical encoding of `child` under `parent` on `rows` (see the module comment). */
function encodeNested(
  parent: (string | null)[],
  child: (string | null)[],
  y: Float64Array,
  rows: ArrayLike<number>,
  smoothing: number,
): Encoding {
  const top = encode(parent, y, rows, smoothing);
  const pairs = pairColumn(parent, child);
  const sum = new Map<string, number>();
  const cnt = new Map<string, number>();
  const parentOf = new Map<string, string>();
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k];
    const key = pairs[i];
    if (key === null) continue;
    sum.set(key, (sum.get(key) ?? 0) + y[i]);
    cnt.set(key, (cnt.get(key) ?? 0) + 1);
    parentOf.set(key, parent[i] as string);
  }
  const values: Record<string, number> = {};
  for (const key of [...cnt.keys()].sort()) {
    const n = cnt.get(key)!;
    values[key] = (sum.get(key)! + smoothing * top.values[parentOf.get(key)!]) / (n + smoothing);
  }
  return { global: top.global, values, parentValues: top.values };
}

/** A row's hierarchical encoding: its pair's, else its parent's, else the global mean. */
function lookupNested(e: Encoding, parent: string | null, child: string | null): number | undefined {
  const key = pairKey(parent, child);
  if (key !== null && Object.hasOwn(e.values, key)) return e.values[key];
  return undefined;
}

function parentFallback(e: Encoding, parent: string | null): number {
  return parent !== null && e.parentValues && Object.hasOwn(e.parentValues, parent) ? e.parentValues[parent] : e.global;
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
  parent?: { codes: Int32Array; nCodes: number },
): Float64Array {
  const n = codes.length;
  const out = new Float64Array(n);
  const sum = new Float64Array(nCodes);
  const cnt = new Float64Array(nCodes);
  const value = new Float64Array(nCodes);
  // hierarchical: the parent's statistics over the same rows, and each pair's parent
  const pSum = parent ? new Float64Array(parent.nCodes) : null;
  const pCnt = parent ? new Float64Array(parent.nCodes) : null;
  const pValue = parent ? new Float64Array(parent.nCodes) : null;
  const parentOfCode = parent ? new Int32Array(nCodes).fill(-1) : null;
  if (parent && parentOfCode) for (let i = 0; i < n; i++) if (codes[i] >= 0) parentOfCode[codes[i]] = parent.codes[i];
  for (let f = 0; f < k; f++) {
    sum.fill(0);
    cnt.fill(0);
    pSum?.fill(0);
    pCnt?.fill(0);
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
      if (parent && pSum && pCnt) {
        const pc = parent.codes[i];
        if (pc >= 0) {
          pSum[pc] += y[i];
          pCnt[pc]++;
        }
      }
    }
    const global = rows ? total / rows : 0;
    if (pValue && pSum && pCnt)
      for (let c = 0; c < pValue.length; c++)
        pValue[c] = pCnt[c] > 0 ? (pSum[c] + smoothing * global) / (pCnt[c] + smoothing) : global;
    // what a category falls back to: its parent's encoding, else the global mean
    const prior = (c: number) => (pValue && parentOfCode && parentOfCode[c] >= 0 ? pValue[parentOfCode[c]] : global);
    for (let c = 0; c < nCodes; c++)
      value[c] = cnt[c] > 0 ? (sum[c] + smoothing * prior(c)) / (cnt[c] + smoothing) : prior(c);
    for (let i = 0; i < n; i++) {
      if (fold[i] !== f) continue;
      const c = codes[i];
      if (c >= 0) out[i] = value[c];
      else if (pValue && parent && parent.codes[i] >= 0) out[i] = pValue[parent.codes[i]];
      else out[i] = global;
    }
  }
  return out;
}

/** State: each column's encoding learned from all training rows. */
export class TargetEncoder extends FittedStep<Record<string, Encoding>> {
  readonly kind = 'target-encoder';

  /**
   * @param parents column -> parent column for hierarchical encoding (e.g. variant -> model;
   *   the parent stays in the frame); other columns are encoded on their own.
   */
  constructor(
    readonly columns: readonly string[],
    readonly smoothing = 10,
    readonly folds = 5,
    readonly seed = 42,
    readonly parents: Readonly<Record<string, string>> = {},
  ) {
    super();
  }

  private parentOf(c: string): string | undefined {
    return Object.hasOwn(this.parents, c) ? this.parents[c] : undefined;
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
    for (const c of this.columns) {
      const pc = this.parentOf(c);
      encodings[c] = pc
        ? encodeNested(categoricalColumn(frame, pc), categoricalColumn(frame, c), yy, all, this.smoothing)
        : encode(categoricalColumn(frame, c), yy, all, this.smoothing);
    }
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
      const pc = this.parentOf(c);
      const col = categoricalColumn(frame, c);
      if (!pc) {
        const { codes, nCodes } = categoryCodes(col);
        numeric[`${c}~te`] = outOfFold(codes, nCodes, fold, k, yy, this.smoothing);
        continue;
      }
      const parentCol = categoricalColumn(frame, pc);
      const { codes, nCodes } = categoryCodes(pairColumn(parentCol, col));
      numeric[`${c}~te`] = outOfFold(codes, nCodes, fold, k, yy, this.smoothing, categoryCodes(parentCol));
    }
    return withColumns(frame, { numeric, drop: this.columns });
  }

  transform(frame: Frame, stats?: TransformStats): Frame {
    const encodings = this.state;
    const numeric: Record<string, Float64Array> = {};
    for (const c of this.columns) {
      const e = encodings[c];
      const { global, values } = e;
      const col = categoricalColumn(frame, c);
      const out = new Float64Array(frame.nRows);
      let unknown = 0;
      const pc = this.parentOf(c);
      if (pc) {
        const parentCol = categoricalColumn(frame, pc);
        for (let i = 0; i < col.length; i++) {
          const v = lookupNested(e, parentCol[i], col[i]);
          if (v === undefined && col[i] !== null) unknown++; // unseen in this parent
          out[i] = v ?? parentFallback(e, parentCol[i]);
        }
      } else
        for (let i = 0; i < col.length; i++) {
          const x = col[i];
          const v = x === null || !Object.hasOwn(values, x) ? undefined : values[x];
          if (v === undefined && x !== null) unknown++; // missing is not an unseen category
          out[i] = v ?? global;
        }
      if (stats && unknown) stats.unknownCategories[c] = (stats.unknownCategories[c] ?? 0) + unknown;
      numeric[`${c}~te`] = out;
    }
    return withColumns(frame, { numeric, drop: this.columns });
  }

  protected saved(encodings: Record<string, Encoding>): Record<string, unknown> {
    // `parents` only when set, so bundles without it keep their bytes
    return {
      columns: [...this.columns],
      smoothing: this.smoothing,
      folds: this.folds,
      seed: this.seed,
      ...(Object.keys(this.parents).length ? { parents: { ...this.parents } } : {}),
      encodings,
    };
  }

  static fromJSON(s: SavedTransformer): TargetEncoder {
    checkSaved(s, 'target-encoder', [1]);
    return new TargetEncoder(
      s.columns as string[],
      s.smoothing as number,
      s.folds as number,
      s.seed as number,
      (s.parents as Record<string, string> | undefined) ?? {},
    ).restored(s.encodings as Record<string, Encoding>);
  }
}
