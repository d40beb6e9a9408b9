/**
 * Feature binning shared by every tree learner (CART, random forest, gradient boosting).
 *
 * Each column is mapped once to small integer bins stored as one Uint8Array, so histogram
 * building reads one byte per (row, feature) instead of a float:
 *
 * - bin 0 is always the missing bin (NaN), so every split can learn where missing values go;
 * - numeric columns get up to `maxBin - 1` value bins cut at quantiles of the distinct
 *   values. Value bin b (1-based) holds x with upper[b-2] < x <= upper[b-1]; the cut
 *   points are midpoints between neighbouring distinct values. Example: values
 *   [1, 1, 2, 5] with room for 3 value bins give cuts [1.5, 3.5] and bins 1, 1, 2, 3.
 * - categorical columns (category codes 0..k-1) get one bin per code seen in training; when
 *   more codes are present than value bins, the most frequent codes keep their own bin and
 *   the rarest share the last one.
 *
 * Layout: the bins are kept twice, one byte per cell each: row-major
 * (`bins[i * nFeatures + j]`) for histogram building, which visits a node's rows and all
 * features of each row (one cache line per row), and column-major (`columns[j * nRows + i]`)
 * for partitioning, which reads one feature of a node's rows (a dense byte column instead
 * of one cache line per row). Measured on 300,000 rows, the column copy makes
 * partitioning about a third faster; it costs nRows x nFeatures bytes.
 */
import { AppError } from '../../core/errors.js';
import type { Matrix } from '../matrix.js';

/** The binned training matrix plus what is needed to turn bin splits into raw thresholds. */
export interface BinnedMatrix {
  readonly nRows: number;
  readonly nFeatures: number;
  /** Row-major bin indices: bins[i * nFeatures + j]; 0 = missing (histogram building). */
  readonly bins: Uint8Array;
  /** The same bins column-major: columns[j * nRows + i] (partitioning a node on one feature). */
  readonly columns: Uint8Array;
  /** Per feature: number of bins including the missing bin. */
  readonly nBins: Int32Array;
  /** Per feature: offset of its first bin in a histogram; offsets[nFeatures] = total bins. */
  readonly offsets: Int32Array;
  /** Per feature: 1 when the column is split as categories. */
  readonly isCategorical: Uint8Array;
  /** Numeric features: cut points, upper[b - 1] is the largest raw value in value bin b. */
  readonly upper: readonly (Float64Array | null)[];
  /** Categorical features: bin of each code 0..k-1 (-1 = code never seen in training). */
  readonly codeBin: readonly (Int32Array | null)[];
}

/** Options for `binMatrix`. */
export interface BinningOptions {
  /** Total bins per feature including the missing bin (2..256, default 256). */
  maxBin?: number;
  /**
   * Categorical columns with more categories than this are binned as numbers (their codes
   * in order) instead of split natively (default: no limit). High-cardinality columns split
   * natively overfit; as ordered codes they still group neighbouring codes.
   */
  maxCatNative?: number;
}

/** Largest value bin count that leaves room for the missing bin in a uint8. */
const MAX_BIN = 256;

/**
 * Bin every column of `X`. Categorical columns must hold integer codes in
 * [0, nCategories); anything else is a MODEL_INVALID error naming the column and row.
 */
export function binMatrix(X: Matrix, options: BinningOptions = {}): BinnedMatrix {
  const maxBin = options.maxBin ?? MAX_BIN;
  if (!Number.isInteger(maxBin) || maxBin < 2 || maxBin > MAX_BIN)
    throw new AppError('USAGE', `max_bin must be an integer between 2 and 256, got ${maxBin}`);
  const { nRows, nCols, data } = X;
  const bins = new Uint8Array(nRows * nCols);
  const columns = new Uint8Array(nRows * nCols);
  const nBins = new Int32Array(nCols);
  const offsets = new Int32Array(nCols + 1);
  const isCategorical = new Uint8Array(nCols);
  const upper: (Float64Array | null)[] = [];
  const codeBin: (Int32Array | null)[] = [];
  const column = new Float64Array(nRows);
  // the per-cell loops live in small one-loop functions: a fit bins once, so this code runs
  // mostly before the JIT has settled, and small loops get optimised on stack replacement
  // at once (about 3x faster on the first call than one large function holding them all)
  for (let j = 0; j < nCols; j++) {
    readColumn(data, nRows, nCols, j, column);
    const k = X.nCategories?.[j] ?? maxCode(column) + 1;
    if (X.categorical?.[j] && k <= (options.maxCatNative ?? Infinity)) {
      isCategorical[j] = 1;
      const map = categoricalBins(column, X.nCategories?.[j], maxBin - 1, X.columnNames[j]);
      codeBin.push(map.codeBin);
      upper.push(null);
      nBins[j] = map.nValueBins + 1;
      writeCategoricalBins(map.codeBin, column, bins, columns, nRows, nCols, j);
    } else {
      const cuts = numericCuts(column, maxBin - 1);
      upper.push(cuts);
      codeBin.push(null);
      nBins[j] = cuts.length + 2;
      writeNumericBins(cuts, column, bins, columns, nRows, nCols, j);
    }
    offsets[j + 1] = offsets[j] + nBins[j];
  }
  return { nRows, nFeatures: nCols, bins, columns, nBins, offsets, isCategorical, upper, codeBin };
}

function readColumn(data: Float64Array, nRows: number, nCols: number, j: number, column: Float64Array): void {
  for (let i = 0; i < nRows; i++) column[i] = data[i * nCols + j];
}

/** Bins of numeric column j into both layouts (row-major `bins`, column-major `columns`). */
function writeNumericBins(
  cuts: Float64Array,
  column: Float64Array,
  bins: Uint8Array,
  columns: Uint8Array,
  nRows: number,
  nCols: number,
  j: number,
): void {
  const base = j * nRows;
  for (let i = 0; i < nRows; i++) {
    const b = numericBin(cuts, column[i]);
    bins[i * nCols + j] = b;
    columns[base + i] = b;
  }
}

/** Bins of categorical column j (codes mapped by codeBin, NaN -> 0) into both layouts. */
function writeCategoricalBins(
  cb: Int32Array,
  column: Float64Array,
  bins: Uint8Array,
  columns: Uint8Array,
  nRows: number,
  nCols: number,
  j: number,
): void {
  const base = j * nRows;
  for (let i = 0; i < nRows; i++) {
    const x = column[i];
    const b = x !== x ? 0 : cb[x];
    bins[i * nCols + j] = b;
    columns[base + i] = b;
  }
}

function maxCode(column: Float64Array): number {
  let m = -1;
  for (let i = 0; i < column.length; i++) if (column[i] > m) m = column[i];
  return m;
}

/** Bin of raw value x given the cut points (0 for NaN). */
export function numericBin(cuts: Float64Array, x: number): number {
  if (x !== x) return 0;
  let lo = 0;
  let hi = cuts.length;
  // first index with x <= cuts[idx]; cuts.length when above all cuts
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= cuts[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo + 1;
}

/**
 * Cut points for a numeric column: at most `maxValueBins - 1` cuts between distinct values,
 * chosen so bins hold about equal counts (a heavy value keeps a bin to itself).
 */
export function numericCuts(column: Float64Array, maxValueBins: number): Float64Array {
  let m = 0;
  // cut points come from at most CUT_SAMPLE values taken at a fixed stride (deterministic;
  // LightGBM samples 200,000 rows for bin construction the same way)
  const stride = Math.max(1, Math.floor(column.length / CUT_SAMPLE));
  const sorted = new Float64Array(Math.ceil(column.length / stride));
  for (let i = 0; i < column.length; i += stride) {
    const x = column[i];
    if (x === x) sorted[m++] = x === 0 ? 0 : x; // -0 -> 0
  }
  const vals = sorted.subarray(0, m).sort();
  // distinct values and their counts, in place at the front of typed arrays
  const distinct = new Float64Array(m);
  const counts = new Int32Array(m);
  let nd = 0;
  for (let i = 0; i < m; i++) {
    if (i === 0 || vals[i] !== vals[i - 1]) {
      distinct[nd] = vals[i];
      counts[nd++] = 1;
    } else counts[nd - 1]++;
  }
  const cuts: number[] = [];
  if (nd <= maxValueBins) {
    for (let k = 0; k + 1 < nd; k++) cuts.push(midpoint(distinct[k], distinct[k + 1]));
  } else {
    let remaining = m;
    let binsLeft = maxValueBins;
    let inBin = 0;
    for (let k = 0; k + 1 < nd && binsLeft > 1; k++) {
      inBin += counts[k];
      const distinctLeft = nd - k - 1;
      if (inBin >= remaining / binsLeft || distinctLeft < binsLeft) {
        cuts.push(midpoint(distinct[k], distinct[k + 1]));
        remaining -= inBin;
        inBin = 0;
        binsLeft--;
      }
    }
  }
  return Float64Array.from(cuts);
}

/** Most values looked at to place the cut points of one column. */
const CUT_SAMPLE = 200_000;

/** A cut strictly between a < b that keeps a on the left: a < cut is not required, a <= cut < b is. */
function midpoint(a: number, b: number): number {
  const m = a / 2 + b / 2;
  return m >= a && m < b ? m : a;
}

function categoricalBins(
  column: Float64Array,
  declared: number | undefined,
  maxValueBins: number,
  name: string,
): { codeBin: Int32Array; nValueBins: number } {
  let k = declared ?? 0;
  for (let i = 0; i < column.length; i++) {
    const x = column[i];
    if (x !== x) continue;
    if (!Number.isInteger(x) || x < 0 || (declared !== undefined && x >= declared))
      throw new AppError(
        'MODEL_INVALID',
        `column "${name}" is categorical${declared !== undefined ? ` with ${declared} categories` : ''} but row ${i} holds ${x}; expected an integer code in [0, ${declared ?? 'k'}) or NaN for missing`,
      );
    if (declared === undefined && x + 1 > k) k = x + 1;
  }
  const counts = new Float64Array(k);
  for (let i = 0; i < column.length; i++) {
    const x = column[i];
    if (x === x) counts[x]++;
  }
  const present: number[] = [];
  for (let c = 0; c < k; c++) if (counts[c] > 0) present.push(c);
  const codeBin = new Int32Array(k).fill(-1);
  if (present.length <= maxValueBins) {
    present.forEach((c, r) => (codeBin[c] = r + 1));
    return { codeBin, nValueBins: present.length };
  }
  // most frequent codes keep their own bin (ties: smaller code first); the rest share the last
  const byFreq = present.slice().sort((a, b) => counts[b] - counts[a] || a - b);
  const own = byFreq.slice(0, maxValueBins - 1).sort((a, b) => a - b);
  own.forEach((c, r) => (codeBin[c] = r + 1));
  for (const c of byFreq.slice(maxValueBins - 1)) codeBin[c] = maxValueBins;
  return { codeBin, nValueBins: maxValueBins };
}
