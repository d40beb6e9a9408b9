/**
 * Histograms for the tree grower (LightGBM's feature_histogram / dense and sparse bins):
 * sums of gradients and hessians per (feature, bin) slot over the rows of a node.
 * - Sparse: the layout built here (each row's cells outside its feature's most frequent
 *   bin, as a fixed-width table or a CSR list, row patterns for few-bin features), summed by
 *   the WebAssembly kernels (wasm-kernels.ts, through grower-kernels.ts); each feature's
 *   most frequent bin is filled in afterwards as node total minus its other bins.
 * - Dense: the JavaScript kernels here over row-major bins (all features, a sampled
 *   subset, stride 3 with counts, precomputed uint16 slots). Each kernel's body is one hot
 *   loop, so V8 optimises it early.
 */
import type { BinnedMatrix, SparseBins } from './binning.js';
import { patternGroup, type PatternGroup } from './histogram-patterns.js';

/**
 * Interleaved per-row gradient and hessian: gh[2i] = g_i, gh[2i+1] = h_i. Boosting uses
 * float32 (as XGBoost and LightGBM do: half the memory traffic when building histograms,
 * which still sum in float64); CART uses float64 so leaf means are exact.
 */
export type Gradients = Float32Array | Float64Array;

/**
 * Non-default cells of a binned matrix, row by row: rowPtr[i] .. rowPtr[i + 1] index the
 * histogram slots (offsets[f] + bin) of row i's cells outside their feature's most
 * frequent bin, whose slot is defaultSlot[f]; totals is scratch for a node's [sum g, sum h].
 * A feature whose bins are those of an earlier one, row for row (log_odometer and
 * odometer; two words that always come together, such as RANGE and ROVER), has no cells:
 * dupOf[f] names the earlier feature, whose histogram it copies (-1 for the others).
 */
export interface SparseLayout {
  rowPtr: Uint32Array;
  slot: Int32Array;
  defaultSlot: Int32Array;
  dupOf: Int32Array;
  /** Features whose cells are held as row patterns (histogram-patterns.ts); rowPtr/slot hold the others'. */
  groups: PatternGroup[];
  /** Per feature: the index of its group in `groups`, -1 when its cells are in rowPtr/slot. */
  groupOf: Int32Array;
  /**
   * When the features outside groups are few and mostly off their default bin (price, year,
   * mileage, target encodings): their cells as a fixed-width row-major table instead of
   * rowPtr/slot (which are then empty), `width` slots per row, a row's default cell of the
   * q-th such feature pointing at a scratch slot, `wideScratch(offsets[nFeatures], q, row)`
   * (summed, never read). Every row then adds the same number of cells: no per-row loop
   * length to mispredict.
   */
  wide: { cells: Uint16Array | Int32Array; width: number; features: Int32Array } | null;
  totals: Float64Array;
}

/**
 * Scratch slots per feature of the fixed-width table, taken in turn by consecutive rows:
 * rows in a feature's most frequent bin (often most rows) would otherwise all add to one
 * slot, each add waiting for the previous one's store.
 */
export const WIDE_SCRATCH_WAYS = 4;

/** The scratch slot of row i's default cell of the table's q-th feature (first scratch slot s0). */
export function wideScratch(s0: number, q: number, i: number): number {
  return s0 + q * WIDE_SCRATCH_WAYS + (i & (WIDE_SCRATCH_WAYS - 1));
}

/** Most features held in the fixed-width table of a sparse layout. */
const WIDE_MAX_FEATURES = 16;
/** The table is used when at least this share of its cells are off their default bin. */
const WIDE_MIN_FILL = 0.5;

/**
 * The sparse layout of a binned matrix, or null when more than `maxFraction` of its cells
 * leave their feature's most frequent bin (dense histograms are then cheaper).
 */
export function sparseLayout(binned: BinnedMatrix, maxFraction: number): SparseLayout | null {
  const { nRows, nFeatures: nF, columns, offsets, nBins, colBase, sparse } = binned;
  const defaultBin = new Uint8Array(nF);
  const counts = new Int32Array(256);
  const offDefault = new Float64Array(nF);
  let nnz = 0;
  for (let f = 0; f < nF; f++) {
    counts.fill(0, 0, nBins[f]);
    const sp = sparse[f];
    if (sp) {
      counts[sp.one] += sp.ones.length;
      counts[sp.zero] += nRows - sp.ones.length;
    } else countColumn(columns, colBase[f], nRows, counts);
    let best = 0;
    for (let b = 1; b < nBins[f]; b++) if (counts[b] > counts[best]) best = b;
    defaultBin[f] = best;
    offDefault[f] = nRows - counts[best];
    nnz += nRows - counts[best];
  }
  if (nnz > maxFraction * nRows * nF) return null;
  const dupOf = duplicateFeatures(binned);
  const defaultSlot = new Int32Array(nF);
  for (let f = 0; f < nF; f++) defaultSlot[f] = offsets[f] + defaultBin[f];
  // few-bin features (0/1 words, equipment flags) become row patterns when rows repeat them
  const groupOf = new Int32Array(nF).fill(-1);
  const groups: PatternGroup[] = [];
  for (const member of [(f: number) => sparse[f] !== null, (f: number) => sparse[f] === null && nBins[f] <= 4]) {
    const feats: number[] = [];
    for (let f = 0; f < nF; f++) if (dupOf[f] < 0 && groupOf[f] < 0 && member(f)) feats.push(f);
    if (feats.length < 2) continue;
    const g = patternGroup(rowCells(binned, feats, defaultBin), nRows);
    if (!g) continue;
    for (const f of feats) groupOf[f] = groups.length;
    groups.push(g);
  }
  const rest: number[] = [];
  let restCells = 0;
  for (let f = 0; f < nF; f++)
    if (dupOf[f] < 0 && groupOf[f] < 0) {
      rest.push(f);
      restCells += offDefault[f];
    }
  const totals = new Float64Array(2);
  if (rest.length > 0 && rest.length <= WIDE_MAX_FEATURES && restCells >= WIDE_MIN_FILL * rest.length * nRows) {
    const wide = { cells: wideCells(binned, rest, defaultBin), width: rest.length, features: Int32Array.from(rest) };
    const empty = { rowPtr: new Uint32Array(nRows + 1), slot: new Int32Array(0) };
    return { ...empty, defaultSlot, dupOf, groups, groupOf, wide, totals };
  }
  const { rowPtr, slot } = rowCells(binned, rest, defaultBin);
  return { rowPtr, slot, defaultSlot, dupOf, groups, groupOf, wide: null, totals };
}

/** The fixed-width table of the listed features' cells (see SparseLayout.wide), a feature at a time. */
function wideCells(binned: BinnedMatrix, feats: readonly number[], defaultBin: Uint8Array): Uint16Array | Int32Array {
  const { nRows, nFeatures, columns, offsets, colBase, sparse } = binned;
  const W = feats.length;
  const scratch = offsets[nFeatures];
  const cells = scratch + WIDE_SCRATCH_WAYS * W <= 65536 ? new Uint16Array(nRows * W) : new Int32Array(nRows * W);
  feats.forEach((f, q) => {
    const def = defaultBin[f];
    const sp = sparse[f];
    if (!sp) fillWide(cells, W, q, columns, colBase[f], nRows, def, offsets[f], scratch);
    else {
      // every row in its zero bin, then the rows holding one
      const cell = (b: number, i: number) => (b === def ? wideScratch(scratch, q, i) : offsets[f] + b);
      for (let i = 0; i < nRows; i++) cells[i * W + q] = cell(sp.zero, i);
      for (let k = 0; k < sp.ones.length; k++) cells[sp.ones[k] * W + q] = cell(sp.one, sp.ones[k]);
    }
  });
  return cells;
}

function fillWide(
  cells: Uint16Array | Int32Array,
  W: number,
  q: number,
  columns: Uint8Array,
  base: number,
  nRows: number,
  def: number,
  offset: number,
  scratch: number,
): void {
  for (let i = 0; i < nRows; i++) {
    const b = columns[base + i];
    cells[i * W + q] = b === def ? wideScratch(scratch, q, i) : offset + b;
  }
}

/**
 * The non-default cells of the listed features, row by row (CSR: row i's histogram slots
 * are slot[rowPtr[i] .. rowPtr[i + 1]), in feature order), built from the column-major bins
 * a feature at a time.
 */
function rowCells(
  binned: BinnedMatrix,
  feats: readonly number[],
  defaultBin: Uint8Array,
): { rowPtr: Uint32Array; slot: Int32Array } {
  const { nRows, columns, offsets, colBase, sparse } = binned;
  const rowPtr = new Uint32Array(nRows + 1);
  for (const f of feats) {
    const sp = sparse[f];
    if (!sp) countRowCells(columns, colBase[f], nRows, defaultBin[f], rowPtr);
    else if (sp.one !== sp.zero) {
      if (sp.zero === defaultBin[f]) countListed(sp.ones, rowPtr);
      else countUnlisted(sp.ones, nRows, rowPtr);
    }
  }
  for (let i = 0; i < nRows; i++) rowPtr[i + 1] += rowPtr[i];
  const slot = new Int32Array(rowPtr[nRows]);
  const next = rowPtr.slice(0, nRows);
  for (const f of feats) {
    const sp = sparse[f];
    if (!sp) fillRowCells(columns, colBase[f], nRows, defaultBin[f], offsets[f], next, slot);
    else if (sp.one !== sp.zero) {
      if (sp.zero === defaultBin[f]) fillListed(sp.ones, offsets[f] + sp.one, next, slot);
      else fillUnlisted(sp.ones, nRows, offsets[f] + sp.zero, next, slot);
    }
  }
  return { rowPtr, slot };
}

/**
 * Per feature, the first earlier feature with the same bins in every row (-1 when none):
 * dense columns byte for byte, sparse 0/1 ones by their bins and rows.
 */
export function duplicateFeatures(binned: BinnedMatrix): Int32Array {
  const { nFeatures: nF, nRows, nBins, columns, colBase, sparse } = binned;
  const dupOf = new Int32Array(nF).fill(-1);
  const byKey = new Map<string, number[]>();
  for (let f = 0; f < nF; f++) {
    const sp = sparse[f];
    // a cheap key narrows the candidates; equal keys are then compared in full
    const key = sp
      ? `s${nBins[f]}:${sp.one}:${sp.zero}:${sp.ones.length}:${sp.ones[0]}:${sp.ones[sp.ones.length - 1]}`
      : `d${nBins[f]}:${columnSample(columns, colBase[f], nRows)}`;
    const same = byKey.get(key);
    if (!same) {
      byKey.set(key, [f]);
      continue;
    }
    const g = same.find((e) =>
      sp ? sameRows(sp.ones, (sparse[e] as SparseBins).ones) : sameBytes(columns, colBase[e], colBase[f], nRows),
    );
    if (g === undefined) same.push(f);
    else dupOf[f] = g;
  }
  return dupOf;
}

/** A few bins of a column, spread over its rows, as text (a key for duplicate search). */
function columnSample(columns: Uint8Array, base: number, nRows: number): string {
  let key = '';
  for (let k = 0; k < 16; k++) key += `${columns[base + Math.floor((k * nRows) / 16)]},`;
  return key;
}

function sameBytes(columns: Uint8Array, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (columns[a + i] !== columns[b + i]) return false;
  return true;
}

function sameRows(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * Each listed duplicate feature's bins = its original's (call before fillDefaultBins: the
 * original's most frequent bin is still 0 then, as the duplicate's must be).
 */
export function copyDuplicates(
  hist: Float64Array,
  S: number,
  offsets: Int32Array,
  dupOf: Int32Array,
  feats: Int32Array,
  nf: number,
): void {
  for (let q = 0; q < nf; q++) {
    const f = feats[q];
    const o = dupOf[f];
    if (o < 0) continue;
    hist.copyWithin(offsets[f] * S, offsets[o] * S, offsets[o + 1] * S);
  }
}

function countColumn(columns: Uint8Array, base: number, nRows: number, counts: Int32Array): void {
  for (let i = 0; i < nRows; i++) counts[columns[base + i]]++;
}

/** rowPtr[i + 1] += 1 for each row i whose bin is not the default. */
function countRowCells(columns: Uint8Array, base: number, nRows: number, def: number, rowPtr: Uint32Array): void {
  for (let i = 0; i < nRows; i++) if (columns[base + i] !== def) rowPtr[i + 1]++;
}

/** rowPtr[i + 1] += 1 for each listed row i (a sparse feature's rows outside its default bin). */
function countListed(ones: Uint32Array, rowPtr: Uint32Array): void {
  for (let k = 0; k < ones.length; k++) rowPtr[ones[k] + 1]++;
}

/** rowPtr[i + 1] += 1 for each row i not listed (a sparse feature whose default bin is its ones'). */
function countUnlisted(ones: Uint32Array, nRows: number, rowPtr: Uint32Array): void {
  let q = 0;
  for (let i = 0; i < nRows; i++) {
    if (q < ones.length && ones[q] === i) q++;
    else rowPtr[i + 1]++;
  }
}

function fillListed(ones: Uint32Array, s: number, next: Uint32Array, slot: Int32Array): void {
  for (let k = 0; k < ones.length; k++) slot[next[ones[k]]++] = s;
}

function fillUnlisted(ones: Uint32Array, nRows: number, s: number, next: Uint32Array, slot: Int32Array): void {
  let q = 0;
  for (let i = 0; i < nRows; i++) {
    if (q < ones.length && ones[q] === i) q++;
    else slot[next[i]++] = s;
  }
}

function fillRowCells(
  columns: Uint8Array,
  base: number,
  nRows: number,
  def: number,
  offset: number,
  next: Uint32Array,
  slot: Int32Array,
): void {
  for (let i = 0; i < nRows; i++) {
    const b = columns[base + i];
    if (b !== def) slot[next[i]++] = offset + b;
  }
}

/** Each listed feature's most frequent bin = node totals minus the feature's other bins. */
export function fillDefaultBins(
  hist: Float64Array,
  S: number,
  offsets: Int32Array,
  defaultSlot: Int32Array,
  feats: Int32Array,
  nf: number,
  G: number,
  H: number,
  C: number,
): void {
  for (let q = 0; q < nf; q++) {
    const f = feats[q];
    let g = 0;
    let h = 0;
    let c = 0;
    for (let b = offsets[f] * S, e = offsets[f + 1] * S; b < e; b += S) {
      g += hist[b];
      h += hist[b + 1];
      if (S === 3) c += hist[b + 2];
    }
    const d = defaultSlot[f] * S;
    // the default cell was 0 before: the sums above are over the other bins
    hist[d] = G - g;
    hist[d + 1] = H - h;
    if (S === 3) hist[d + 2] = C - c;
  }
}

export function fillSlots(
  slots: Uint16Array | Uint32Array,
  bins: Uint8Array,
  offsets: Int32Array,
  nF: number,
  nRows: number,
): void {
  for (let i = 0; i < nRows; i++) {
    const b = i * nF;
    for (let f = 0; f < nF; f++) slots[b + f] = offsets[f] + bins[b + f];
  }
}

/**
 * Histogram of all features, stride 2, unrolled by four features, from precomputed slots
 * (slots[i * nF + f] = offsets[f] + bin). Rows are visited in ascending order, so every
 * histogram cell sums the same values in the same order as buildHistSome.
 */
export function buildHist2Slots(
  hist: Float64Array,
  slots: Uint16Array | Uint32Array,
  nF: number,
  gh: Gradients,
  rows: Uint32Array,
  start: number,
  end: number,
): void {
  const nF4 = nF & ~3;
  for (let k = start; k < end; k++) {
    const r = rows[k];
    const g = gh[2 * r];
    const h = gh[2 * r + 1];
    const b = r * nF;
    let f = 0;
    for (; f < nF4; f += 4) {
      const x0 = slots[b + f] << 1;
      const x1 = slots[b + f + 1] << 1;
      const x2 = slots[b + f + 2] << 1;
      const x3 = slots[b + f + 3] << 1;
      hist[x0] += g;
      hist[x0 + 1] += h;
      hist[x1] += g;
      hist[x1 + 1] += h;
      hist[x2] += g;
      hist[x2 + 1] += h;
      hist[x3] += g;
      hist[x3 + 1] += h;
    }
    for (; f < nF; f++) {
      const x = slots[b + f] << 1;
      hist[x] += g;
      hist[x + 1] += h;
    }
  }
}

/**
 * Histogram of the listed features (a column sample, or any with stride 3), stride S:
 * 2 [g, h] or 3 [g, h, count]. Rows of a node are visited in ascending order.
 */
export function buildHistSome(
  hist: Float64Array,
  S: 2 | 3,
  bins: Uint8Array,
  nF: number,
  offsets: Int32Array,
  feats: Int32Array,
  nf: number,
  gh: Gradients,
  rows: Uint32Array,
  start: number,
  end: number,
): void {
  for (let k = start; k < end; k++) {
    const r = rows[k];
    const g = gh[2 * r];
    const h = gh[2 * r + 1];
    const base = r * nF;
    for (let q = 0; q < nf; q++) {
      const f = feats[q];
      const idx = (offsets[f] + bins[base + f]) * S;
      hist[idx] += g;
      hist[idx + 1] += h;
      if (S === 3) hist[idx + 2] += 1;
    }
  }
}
