/**
 * The tree grower's WebAssembly path (wasm-kernels.ts) for a sparse layout with a
 * fixed-width cell table: the layout's large arrays move into the module's memory (the
 * layout then holds views of them, so the JavaScript kernels, still used for what the
 * module does not cover, read the same bytes and nothing is held twice), and each node
 * operation is dispatched to the module when it can take it:
 * - histograms: the table's cells, the pattern groups (summed by pattern in the same pass,
 *   or cell by cell for small nodes, as the JavaScript path chooses), totals;
 * - partitions and boosting's leaf credits: by the split feature's column of the table
 *   (a go-left table over cells) or by its pattern group (a side per pattern); a feature
 *   that duplicates another is split by the other's cells, which are the same.
 * The results are bit for bit those of the JavaScript kernels (same sums in the same order).
 */
import type { BinnedMatrix } from './binning.js';
import { byPattern, patternSides, type PatternGroup } from './histogram-patterns.js';
import type { Gradients, SparseLayout } from './histogram-kernels.js';
import { GrowKernels } from './wasm-kernels.js';

export class LayoutKernels {
  /** Per feature: its column in the cell table, or -1. */
  private readonly wideCol: Int32Array;
  /** Per feature: its pattern group, or -1 (the layout's groupOf). */
  private readonly groupOf: Int32Array;
  private readonly fused: number[] = [];
  /** The arrays of the current grow call were copied in (and are copied back out). */
  private copied = { rows: false, addTo: false };

  private constructor(
    readonly k: GrowKernels,
    private readonly binned: BinnedMatrix,
    private readonly layout: SparseLayout,
    private readonly groups: readonly PatternGroup[],
  ) {
    const wide = layout.wide as NonNullable<SparseLayout['wide']>;
    this.wideCol = new Int32Array(binned.nFeatures).fill(-1);
    wide.features.forEach((f, q) => (this.wideCol[f] = q));
    this.groupOf = layout.groupOf;
  }

  /**
   * The module for a layout with a cell table (null without one, or without WebAssembly):
   * moves the table and the groups' patterns and cells into its memory.
   */
  static create(
    binned: BinnedMatrix,
    layout: SparseLayout,
    stride: 2 | 3,
    gh32: boolean,
    histDoubles: number,
    nHist: number,
  ): LayoutKernels | null {
    const wide = layout.wide;
    if (!wide) return null;
    let k: GrowKernels;
    try {
      k = new GrowKernels({
        nRows: binned.nRows,
        width: wide.width,
        cells16: wide.cells instanceof Uint16Array,
        stride,
        gh32,
        histDoubles,
        slots: binned.offsets[binned.nFeatures] + wide.width,
        groups: layout.groups.map((g) => ({ nPatterns: g.nPatterns, nCells: g.slot.length })),
        nHist,
      });
    } catch {
      return null; // no SIMD, or no memory for it: the JavaScript kernels serve
    }
    k.cells.set(wide.cells);
    wide.cells = k.cells;
    layout.groups = layout.groups.map((g, j) => {
      const v = k.groups[j];
      v.pat.set(g.pat);
      v.ptr.set(g.ptr);
      v.slot.set(g.slot);
      return { ...g, pat: v.pat, ptr: v.ptr, slot: v.slot };
    });
    return new LayoutKernels(k, binned, layout, layout.groups);
  }

  /**
   * Start a grow call: the rows, gradients and predictions the kernels work on are the
   * module's; arrays that are not are copied in (and rows and predictions back by `leave`).
   * False when the gradients are of the other float type (the JavaScript path then serves).
   */
  enter(rows: Uint32Array, nRows: number, gh: Gradients, addTo: Float64Array | undefined): boolean {
    const k = this.k;
    if (gh instanceof Float32Array !== k.shape.gh32) return false;
    if (gh !== k.gh) k.gh.set(gh.subarray(0, k.gh.length));
    this.copied = { rows: rows !== k.rows, addTo: addTo !== undefined && addTo !== k.pred };
    if (this.copied.rows) k.rows.set(rows.subarray(0, nRows));
    if (addTo && this.copied.addTo) k.pred.set(addTo.subarray(0, k.pred.length));
    return true;
  }

  leave(rows: Uint32Array, nRows: number, addTo: Float64Array | undefined): void {
    const k = this.k;
    if (this.copied.rows) rows.set(k.rows.subarray(0, nRows));
    if (addTo && this.copied.addTo) addTo.set(k.pred.subarray(0, addTo.length));
  }

  /** The cells and groups of rows[start .. end) into `hist` (false when it is not the module's). */
  histogram(hist: Float64Array, start: number, end: number): boolean {
    const k = this.k;
    if (!k.holds(hist)) return false;
    const fused = this.fused;
    fused.length = 0;
    this.groups.forEach((g, j) => byPattern(g, end - start) && fused.push(j));
    k.histogram(hist, start, end, fused);
    for (let j = 0; j < this.groups.length; j++)
      if (fused.includes(j)) k.spreadSums(hist, j);
      else k.groupCells(hist, j, start, end);
    this.layout.totals[0] = k.totals[0];
    this.layout.totals[1] = k.totals[1];
    return true;
  }

  /**
   * Partition rows[start .. end) by feature f's go-left table (go[bin] = 1: left): where
   * the right part begins, or -1 when f is neither in the table nor in a group.
   */
  partition(f: number, go: Uint8Array, start: number, end: number): number {
    const k = this.k;
    const at = this.prepare(f, go);
    if (at === null) return -1;
    return at.group ? k.partitionPattern(start, end, at.index) : k.partitionWide(start, end, at.index);
  }

  /** pred[row] += vL or vR by the split (see partition): rows gone left, or -1. */
  addLeaves(f: number, go: Uint8Array, start: number, end: number, vL: number, vR: number): number {
    const k = this.k;
    const at = this.prepare(f, go);
    if (at === null) return -1;
    return at.group ? k.addLeavesPattern(start, end, at.index, vL, vR) : k.addLeavesWide(start, end, at.index, vL, vR);
  }

  /** a -= b (false when either is not the module's). */
  subtract(a: Float64Array, b: Float64Array): boolean {
    if (!this.k.holds(a) || !this.k.holds(b)) return false;
    this.k.subtract(a, b);
    return true;
  }

  /** Fill the side table the split on f reads: its group's per pattern, or the table's go-left by cell. */
  private prepare(f: number, go: Uint8Array): { group: boolean; index: number } | null {
    const { offsets, nBins, nFeatures } = this.binned;
    const o = this.layout.dupOf[f];
    if (o >= 0) f = o; // same bins in every row
    const j = this.groupOf[f];
    if (j >= 0) {
      const def = this.layout.defaultSlot[f];
      patternSides(this.groups[j], offsets[f], offsets[f + 1], def, go, this.k.groups[j].side);
      return { group: true, index: j };
    }
    const q = this.wideCol[f];
    if (q < 0) return null;
    const table = this.k.goSlot;
    for (let b = 0; b < nBins[f]; b++) table[offsets[f] + b] = go[b];
    // the feature's most frequent bin points at its scratch slot
    table[offsets[nFeatures] + q] = go[this.layout.defaultSlot[f] - offsets[f]];
    return { group: false, index: q };
  }
}
