/**
 * The tree grower's sparse histograms (histogram-kernels.ts SparseLayout) on the
 * WebAssembly kernels of wasm-kernels.ts: the layout's large arrays move into the module's
 * memory (the layout then holds views of them: nothing is held twice), and each node
 * operation runs there:
 * - histograms: every row's cells (fixed-width table or CSR list) and its pattern groups,
 *   summed by pattern in the same pass and then spread over the patterns' cells (large
 *   nodes) or added cell by cell (small ones, whichever touches fewer cells), and totals;
 * - partitions and boosting's leaf credits by a feature of the cell table (a go-left table
 *   over cells) or of a pattern group (a side per pattern); a feature that duplicates
 *   another is split by the other's cells, which are the same. Other features (CSR
 *   layouts) are partitioned by the grower's JavaScript loops, on the module's row array.
 */
import type { BinnedMatrix } from './binning.js';
import { byPattern, patternSides, type PatternGroup } from './histogram-patterns.js';
import { WIDE_SCRATCH_WAYS, wideScratch, type Gradients, type SparseLayout } from './histogram-kernels.js';
import { GrowKernels } from './wasm-kernels.js';

export class LayoutKernels {
  /** Per feature: its column in the cell table, or -1. */
  private readonly wideCol: Int32Array;
  /** Per feature: its pattern group, or -1 (the layout's groupOf). */
  private readonly groupOf: Int32Array;
  private readonly fused: number[] = [];
  /** The arrays of the current grow call were copied in (and are copied back out). */
  private copied = { rows: false, addTo: false };
  /** Where a histogram outside the module's memory is built (then copied out). */
  private readonly scratchHist: Float64Array;

  private constructor(
    readonly k: GrowKernels,
    private readonly binned: BinnedMatrix,
    private readonly layout: SparseLayout,
    private readonly groups: readonly PatternGroup[],
  ) {
    this.wideCol = new Int32Array(binned.nFeatures).fill(-1);
    layout.wide?.features.forEach((f, q) => (this.wideCol[f] = q));
    this.groupOf = layout.groupOf;
    this.scratchHist = k.hists[k.hists.length - 1];
  }

  /**
   * The module for a sparse layout (null without WebAssembly SIMD): moves the cells and
   * the groups' patterns and cells into its memory. `nHist` histograms live there (one
   * more is kept as scratch).
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
    let k: GrowKernels;
    try {
      k = new GrowKernels({
        nRows: binned.nRows,
        width: wide?.width ?? 0,
        cells16: wide?.cells instanceof Uint16Array,
        csrCells: wide ? 0 : layout.slot.length,
        stride,
        gh32,
        histDoubles,
        slots: binned.offsets[binned.nFeatures] + WIDE_SCRATCH_WAYS * (wide?.width ?? 0),
        groups: layout.groups.map((g) => ({ nPatterns: g.nPatterns, nCells: g.slot.length })),
        nHist: nHist + 1,
      });
    } catch {
      return null; // no WebAssembly SIMD here: the grower takes dense histograms
    }
    if (wide) {
      k.cells.set(wide.cells);
      wide.cells = k.cells;
    } else {
      k.rowPtr.set(layout.rowPtr);
      k.slot.set(layout.slot);
      layout.rowPtr = k.rowPtr;
      layout.slot = k.slot;
    }
    layout.groups = layout.groups.map((g, j) => {
      const v = k.groups[j];
      v.pat.set(g.pat);
      v.ptr.set(g.ptr);
      v.slot.set(g.slot);
      return { ...g, pat: v.pat, ptr: v.ptr, slot: v.slot };
    });
    return new LayoutKernels(k, binned, layout, layout.groups);
  }

  /** The module's histograms for the grower's pool (not the scratch). */
  get hists(): Float64Array[] {
    return this.k.hists.slice(0, -1);
  }

  /**
   * Start a grow call: the rows, gradients and predictions the kernels work on are the
   * module's; arrays that are not are copied in (and rows and predictions back by `leave`).
   */
  enter(rows: Uint32Array, nRows: number, gh: Gradients, addTo: Float64Array | undefined): void {
    const k = this.k;
    if (gh instanceof Float32Array !== k.shape.gh32)
      throw new Error(`TreeGrower: gradients must be ${k.shape.gh32 ? 'float32' : 'float64'}, as it was made for`);
    if (gh !== k.gh) k.gh.set(gh.subarray(0, k.gh.length));
    this.copied = { rows: rows !== k.rows, addTo: addTo !== undefined && addTo !== k.pred };
    if (this.copied.rows) k.rows.set(rows.subarray(0, nRows));
    if (addTo && this.copied.addTo) k.pred.set(addTo.subarray(0, k.pred.length));
  }

  leave(rows: Uint32Array, nRows: number, addTo: Float64Array | undefined): void {
    const k = this.k;
    if (this.copied.rows) rows.set(k.rows.subarray(0, nRows));
    if (addTo && this.copied.addTo) addTo.set(k.pred.subarray(0, addTo.length));
  }

  /** The cells and groups of rows[start .. end) into `hist` (zeroed first); totals into the layout's. */
  histogram(hist: Float64Array, start: number, end: number): void {
    const k = this.k;
    if (!k.holds(hist)) {
      // a histogram beyond the module's: built in the scratch one
      this.histogram(this.scratchHist, start, end);
      hist.set(this.scratchHist);
      return;
    }
    const fused = this.fused;
    fused.length = 0;
    this.groups.forEach((g, j) => byPattern(g, end - start) && fused.push(j));
    k.histogram(hist, start, end, fused);
    for (let j = 0; j < this.groups.length; j++)
      if (fused.includes(j)) k.spreadSums(hist, j);
      else k.groupCells(hist, j, start, end);
    this.layout.totals[0] = k.totals[0];
    this.layout.totals[1] = k.totals[1];
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
    if (q < 0) return null; // a CSR layout's feature
    const table = this.k.goSlot;
    for (let b = 0; b < nBins[f]; b++) table[offsets[f] + b] = go[b];
    // the feature's most frequent bin points at its scratch slots
    for (let i = 0; i < WIDE_SCRATCH_WAYS; i++)
      table[wideScratch(offsets[nFeatures], q, i)] = go[this.layout.defaultSlot[f] - offsets[f]];
    return { group: false, index: q };
  }
}
