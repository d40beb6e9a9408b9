/**
 * Grows one regression tree on binned data from per-row gradients and hessians: the
 * engine shared by CART (`tree`), random forests (`forest`) and boosting (`gbdt`). Split
 * as LightGBM splits its learner: this file is the serial tree learner (node queue,
 * growth order, histogram subtraction, leaf values); the dense histogram kernels are in
 * histogram-kernels.ts, row partitioning in data-partition.ts, and the sparse layout's
 * kernels (histograms, partitions, boosting's credits) in WebAssembly (grower-kernels.ts).
 *
 * - Rows of a node are a contiguous segment of `rows`; a split partitions the segment in
 *   place (stable, so row order stays ascending and memory reads stay sequential).
 * - Histogram subtraction: only the child with fewer rows gets its histogram built from
 *   rows; the sibling's is parent minus that, computed in the parent's buffer. Children
 *   that cannot split (depth limit, too few rows/hessian) get no histogram at all.
 * - Growth order: depth-wise (breadth first when a leaf cap applies, depth first
 *   otherwise, which gives the same tree with O(depth) live histograms) or loss-guided
 *   (always split the leaf with the largest gain, LightGBM's leaf-wise growth).
 * - Leaf value = -G / (H + lambda) * leafScale + leafShift.
 * - Boosting passes its training predictions in: each row's leaf value is added during
 *   growth, and a split whose children are leaves by depth is not partitioned at all (its
 *   rows are credited straight from the split's bin table).
 * - Sparse histograms: when most cells of the binned matrix sit in their feature's most
 *   frequent bin (word-indicator columns are 0 for ~95% of listings), a histogram is built
 *   from each row's other cells only (a CSR list of histogram slots) and every feature's
 *   most frequent bin is filled in as node total minus the feature's other bins, as
 *   LightGBM does for sparse features: the cost follows the non-default cells, not rows x
 *   features. When rows repeat the cells of their few-bin features (words, equipment
 *   flags), those cells are held once per pattern (histogram-patterns.ts): large nodes sum
 *   gradients per pattern, and splits on a word partition rows by pattern. A feature with
 *   the same bins as an earlier one in every row copies its histogram. Its loops run as
 *   WebAssembly written for the layout (wasm-kernels.ts): a (gradient, hessian) pair is
 *   one 128-bit add, with no bounds checks; the sums are those of plain loops, bit for bit.
 * - JavaScript hot loops (dense histograms, partitions outside the sparse kernels) are
 *   small module functions whose body is one loop: V8 then optimises them early and never
 *   re-enters stale OSR code.
 */
import type { Rng } from '../../core/rng.js';
import { binAt, type BinnedMatrix } from './binning.js';
import {
  addSegment,
  addSplitLeaves,
  addSplitLeavesSparse,
  partitionRows,
  partitionRowsSparse,
} from './data-partition.js';
import { lowerBound } from '../matrix.js';
import {
  buildHist2Slots,
  buildHistSome,
  copyDuplicates,
  fillDefaultBins,
  fillSlots,
  sparseLayout,
  WIDE_SCRATCH_WAYS,
  type Gradients,
  type SparseLayout,
} from './histogram-kernels.js';
import { LayoutKernels } from './grower-kernels.js';
import type { GrowKernels } from './wasm-kernels.js';
import { SplitFinder, SplitInfo, type SplitParams } from './split-finder.js';
import type { TreeEnsembleBuilder } from './tree-ensemble.js';

export type { Gradients } from './histogram-kernels.js';

/** Everything that shapes one tree. */
export interface GrowParams extends SplitParams {
  /** 0 = unlimited. */
  maxDepth: number;
  /** 0 = unlimited. */
  maxLeaves: number;
  lossguide: boolean;
  /** Nodes with fewer rows (count) are not split. */
  minSamplesSplit: number;
  /** Features tried per node, sampled from the tree's features (>= number of tree features = all). */
  featuresPerNode: number;
  leafScale: number;
  leafShift: number;
}

/** Where the leaves of a grown tree are: rows[leafStart[k] .. leafEnd[k]) reached leaf leafNode[k]. */
export interface GrownTree {
  nLeaves: number;
  leafNode: Int32Array;
  leafStart: Int32Array;
  leafEnd: Int32Array;
  leafValue: Float64Array;
}

interface NodeState {
  id: number;
  depth: number;
  start: number;
  end: number;
  G: number;
  H: number;
  C: number;
  hist: Float64Array | null;
  split: SplitInfo | null;
}

/** Reusable tree grower (buffers are kept between trees of one fit). */
export class TreeGrower {
  private readonly finder: SplitFinder;
  private readonly histPool: Float64Array[] = [];
  private readonly splitPool: SplitInfo[] = [];
  private readonly histSize: number;
  private readonly goLeft = new Uint8Array(256);
  private readonly nodeFeatures: Int32Array;
  private scratch = new Uint32Array(0);
  /**
   * Row-major histogram slot of every cell, offsets[f] + bin (uint16; uint32 past 65,536
   * slots), built on first use by the all-features stride-2 kernel (dense boosting without
   * column sampling): it saves the per-cell offset load and add of the hottest loop.
   */
  private slots: Uint16Array | Uint32Array | null = null;
  private rowBins: Uint8Array | null = null;
  /** Sparse layout (see the module comment), or null for dense histograms. */
  private readonly sparse: SparseLayout | null;
  /** Per-feature gain and split counts, accumulated over every tree grown. */
  readonly gainImportance: Float64Array;
  readonly splitImportance: Float64Array;
  /** Per split node of the current fit: which bins go left (for binned traversal). */
  private readonly goLeftTables = new Map<number, Uint8Array>();
  /** The sparse histograms' WebAssembly kernels (grower-kernels.ts), null for dense histograms. */
  private readonly kernels: LayoutKernels | null = null;

  constructor(
    private readonly binned: BinnedMatrix,
    private readonly p: GrowParams,
    /** 2: histogram [g, h] with h doubling as the row count; 3: [g, h, count]. */
    private readonly stride: 2 | 3,
    private readonly keepTables = false,
    /** 'auto': sparse histograms when at most a quarter of the cells leave their feature's most frequent bin. */
    histogram: 'auto' | 'dense' | 'sparse' = 'auto',
    /** The gradients grow() will be given: float32 (boosting) or float64 (the default). */
    o: { float32Gradients?: boolean } = {},
  ) {
    this.finder = new SplitFinder(binned, p, stride);

    this.nodeFeatures = new Int32Array(binned.nFeatures);
    this.gainImportance = new Float64Array(binned.nFeatures);
    this.splitImportance = new Float64Array(binned.nFeatures);
    let sparse = histogram === 'dense' ? null : sparseLayout(binned, histogram === 'sparse' ? 1 : 0.25);
    // a fixed-width cell table adds scratch slots for the features it holds (SparseLayout.wide)
    this.histSize = (binned.offsets[binned.nFeatures] + WIDE_SCRATCH_WAYS * (sparse?.wide?.width ?? 0)) * stride;
    if (sparse) {
      // depth-first growth keeps O(depth) histograms live; the others up to a leaf each
      const live = !p.lossguide && p.maxLeaves === 0 && p.maxDepth > 0 ? p.maxDepth + 3 : 64;
      const k = LayoutKernels.create(binned, sparse, stride, o.float32Gradients === true, this.histSize, live);
      if (k) {
        this.kernels = k;
        this.histPool.push(...k.hists);
      } else {
        sparse = null; // no WebAssembly: dense histograms
        this.histSize = binned.offsets[binned.nFeatures] * stride;
      }
    }
    this.sparse = sparse;
  }

  /**
   * Rows, gradients and predictions in the WebAssembly kernels' memory, for a caller that
   * fills them itself (boosting): grow() then copies nothing. Null without the kernels.
   */
  workArrays(): { rows: Uint32Array; gh: Gradients; pred: Float64Array; kernels: GrowKernels } | null {
    const k = this.kernels?.k;
    return k ? { rows: k.rows, gh: k.gh, pred: k.pred, kernels: k } : null;
  }

  /**
   * Grow one tree into `out` from rows[0 .. nRows) (partitioned in place), gradients
   * gh[2i] and hessians gh[2i + 1], using the given features (first nTreeFeatures entries).
   *
   * With `addTo` (boosting's training predictions), every row's leaf value is added to
   * addTo[row] here, and splits at the depth limit are not partitioned: their rows get
   * their leaf value straight from the split's bin table (one pass instead of partition +
   * update). The two leaves of such a split then have empty row segments in the result.
   *
   * With `covers`, covers[node] is set to the number of rows (of rows[0 .. nRows)) that
   * reach each node of the tree (TreeSHAP's node covers, for free from the partitions).
   */
  grow(
    rows: Uint32Array,
    nRows: number,
    gh: Gradients,
    treeFeatures: Int32Array,
    nTreeFeatures: number,
    rng: Rng,
    out: TreeEnsembleBuilder,
    addTo?: Float64Array,
    covers?: number[],
  ): GrownTree {
    // sparse histograms: the kernels' own rows, gradients and predictions (copied in and out
    // when the caller's are not those)
    const callerRows = rows;
    const kernels = this.kernels;
    kernels?.enter(rows, nRows, gh, addTo);
    if (kernels) ({ rows, gh } = kernels.k);
    const pred = addTo && kernels ? kernels.k.pred : addTo;
    const p = this.p;
    if (this.scratch.length < nRows) this.scratch = new Uint32Array(rows.length);
    const leafNode: number[] = [];
    const leafStart: number[] = [];
    const leafEnd: number[] = [];
    const leafValue: number[] = [];
    const makeLeaf = (s: NodeState): void => {
      const v = this.leafOutput(s.G, s.H);
      out.value[s.id] = v;
      leafNode.push(s.id);
      leafStart.push(s.start);
      leafEnd.push(s.end);
      leafValue.push(v);
      if (s.hist) this.histPool.push(s.hist);
      if (s.split) this.splitPool.push(s.split);
      s.hist = null;
      s.split = null;
    };

    out.beginTree();
    const rootHist = this.takeHist();
    this.buildHist(rootHist, rows, 0, nRows, gh, treeFeatures, nTreeFeatures);
    let G = 0;
    let H = 0;
    let C = 0;
    {
      // totals from the first tree feature's bins
      const f = treeFeatures[0];
      const S = this.stride;
      const o = this.binned.offsets[f] * S;
      for (let b = 0; b < this.binned.nBins[f]; b++) {
        G += rootHist[o + b * S];
        H += rootHist[o + b * S + 1];
        C += rootHist[o + b * S + (S === 3 ? 2 : 1)];
      }
    }
    const root: NodeState = {
      id: out.addLeaf(0),
      depth: 0,
      start: 0,
      end: nRows,
      G,
      H,
      C,
      hist: rootHist,
      split: null,
    };
    if (covers) covers[root.id] = nRows;
    this.evaluate(root, treeFeatures, nTreeFeatures, rng);

    const bfs = !p.lossguide && p.maxLeaves > 0;
    const pending: NodeState[] = [root];
    let head = 0; // bfs queue head
    let nLeaves = 1;
    while (head < pending.length) {
      let node: NodeState;
      if (p.lossguide) {
        let bi = head;
        for (let i = head + 1; i < pending.length; i++) {
          const a = pending[i].split;
          const b = pending[bi].split;
          if ((a ? a.gain : -Infinity) > (b ? b.gain : -Infinity)) bi = i;
        }
        node = pending[bi];
        pending[bi] = pending[pending.length - 1];
        pending.pop();
      } else if (bfs) node = pending[head++];
      else node = pending.pop() as NodeState;
      if (!node.split || (p.maxLeaves > 0 && nLeaves >= p.maxLeaves)) {
        makeLeaf(node);
        continue;
      }
      const sp = node.split;
      // bins -> left/right table; empty bins and the missing bin without rows follow the default
      const go = this.goLeft;
      const f = sp.feature;
      const nb = this.binned.nBins[f];
      const S = this.stride;
      const cs = S === 3 ? 2 : 1;
      const hist = node.hist as Float64Array;
      const o = this.binned.offsets[f] * S;
      const dl = sp.defaultLeft ? 1 : 0;
      go.fill(dl);
      if (sp.categorical) {
        for (let b = 0; b < nb; b++) if (hist[o + b * S + cs] > 0) go[b] = sp.leftBins[b];
      } else {
        go.fill(1, 1, sp.bin + 1);
        go.fill(0, sp.bin + 1, nb);
      }
      // record the split with raw thresholds / code bitsets
      if (sp.categorical) {
        const cb = this.binned.codeBin[f] as Int32Array;
        out.setCategoricalSplit(
          node.id,
          f,
          cb.length,
          (c) => (cb[c] >= 0 ? go[cb[c]] === 1 : sp.defaultLeft),
          sp.defaultLeft,
        );
      } else {
        out.setNumericSplit(node.id, f, (this.binned.upper[f] as Float64Array)[sp.bin - 1], sp.defaultLeft);
      }
      if (this.keepTables) this.goLeftTables.set(node.id, go.slice(0, nb));
      this.gainImportance[f] += sp.gain;
      this.splitImportance[f] += 1;
      const depth = node.depth + 1;
      // both children are leaves by depth: credit their rows now instead of partitioning
      const terminal = pred !== undefined && p.maxDepth > 0 && depth >= p.maxDepth;
      let mid: number;
      let nLeft: number;
      if (terminal) {
        const vL = this.leafOutput(sp.GL, sp.HL);
        const vR = this.leafOutput(node.G - sp.GL, node.H - sp.HL);
        const sb = this.binned.sparse[f];
        const byKernel = kernels ? kernels.addLeaves(f, go, node.start, node.end, vL, vR) : -1;
        nLeft =
          byKernel >= 0
            ? byKernel
            : sb
              ? addSplitLeavesSparse(
                  pred,
                  rows,
                  node.start,
                  node.end,
                  sb.ones,
                  lowerBound(sb.ones, rows[node.start]),
                  go[sb.one],
                  go[sb.zero],
                  go[sb.one] ? vL : vR,
                  go[sb.zero] ? vL : vR,
                )
              : addSplitLeaves(
                  pred,
                  rows,
                  node.start,
                  node.end,
                  this.binned.columns,
                  this.binned.colBase[f],
                  go,
                  vL,
                  vR,
                );
        mid = node.start;
      } else {
        mid = this.partition(rows, node.start, node.end, f, go);
        nLeft = mid - node.start;
      }
      const lId = out.addLeaf(0);
      const rId = out.addLeaf(0);
      if (covers) {
        covers[lId] = nLeft;
        covers[rId] = node.end - node.start - nLeft;
      }
      out.setChildren(node.id, lId, rId);
      out.value[node.id] = this.leafOutput(node.G, node.H);
      const L: NodeState = {
        id: lId,
        depth,
        start: node.start,
        end: mid,
        G: sp.GL,
        H: sp.HL,
        C: sp.CL,
        hist: null,
        split: null,
      };
      const R: NodeState = {
        id: rId,
        depth,
        start: mid,
        end: node.end,
        G: node.G - sp.GL,
        H: node.H - sp.HL,
        C: node.C - sp.CL,
        hist: null,
        split: null,
      };
      if (terminal) R.end = node.start; // empty segment, like L's
      this.splitPool.push(sp);
      node.split = null;
      nLeaves++;
      const canL = this.canSplit(L);
      const canR = this.canSplit(R);
      if (canL || canR) {
        const lSmall = mid - node.start <= node.end - mid;
        const small = lSmall ? L : R;
        const large = lSmall ? R : L;
        const h = this.takeHist();
        this.buildHist(h, rows, small.start, small.end, gh, treeFeatures, nTreeFeatures);
        small.hist = h;
        if (lSmall ? canR : canL) {
          // parent buffer becomes the large child's histogram
          this.subtract(hist, h);
          large.hist = hist;
        } else this.histPool.push(hist);
      } else this.histPool.push(hist);
      node.hist = null;
      if (L.hist) this.evaluate(L, treeFeatures, nTreeFeatures, rng);
      if (R.hist) this.evaluate(R, treeFeatures, nTreeFeatures, rng);
      // depth-first growth pops from the end: push right first so the left subtree comes first
      for (const child of bfs || p.lossguide ? [L, R] : [R, L]) {
        if (child.split) pending.push(child);
        else makeLeaf(child);
      }
      if (bfs) {
        // compact the consumed queue prefix now and then
        if (head > 1024) {
          pending.splice(0, head);
          head = 0;
        }
      }
    }
    if (pred)
      for (let k = 0; k < leafNode.length; k++)
        if (kernels) kernels.k.addSegment(leafStart[k], leafEnd[k], leafValue[k]);
        else addSegment(pred, rows, leafStart[k], leafEnd[k], leafValue[k]);
    kernels?.leave(callerRows, nRows, addTo);
    return {
      nLeaves: leafNode.length,
      leafNode: Int32Array.from(leafNode),
      leafStart: Int32Array.from(leafStart),
      leafEnd: Int32Array.from(leafEnd),
      leafValue: Float64Array.from(leafValue),
    };
  }

  /**
   * Leaf value reached by binned row `i` in the tree rooted at node `root` (needs
   * keepTables; used for rows outside the tree's sample: boosting with subsample, OOB).
   * With `covers`, every node on the row's path counts it.
   */
  binnedLeafValue(tree: TreeEnsembleBuilder, root: number, i: number, covers?: number[]): number {
    // column-major bins: the row-major copy is not built for sparse or sampled fits
    const { columns, colBase } = this.binned;
    let n = root;
    let f: number;
    if (covers) covers[n]++;
    while ((f = tree.feature[n]) >= 0) {
      const t = this.goLeftTables.get(n) as Uint8Array;
      const b = colBase[f] >= 0 ? columns[colBase[f] + i] : binAt(this.binned, f, i);
      n = t[b] ? tree.left[n] : tree.right[n];
      if (covers) covers[n]++;
    }
    return tree.value[n];
  }

  /** Forget stored bin tables (call after each tree once they are no longer needed). */
  clearTables(): void {
    this.goLeftTables.clear();
  }

  private leafOutput(G: number, H: number): number {
    const w = -G / (H + this.p.lambda);
    return w * this.p.leafScale + this.p.leafShift;
  }

  private canSplit(s: NodeState): boolean {
    const p = this.p;
    return (
      (p.maxDepth === 0 || s.depth < p.maxDepth) &&
      s.C >= p.minSamplesSplit &&
      s.C >= 2 * p.minSamplesLeaf &&
      s.H >= 2 * p.minChildWeight &&
      s.end - s.start >= 2
    );
  }

  private evaluate(s: NodeState, treeFeatures: Int32Array, nTreeFeatures: number, rng: Rng): void {
    if (!this.canSplit(s)) return;
    let feats = treeFeatures;
    let nf = nTreeFeatures;
    const k = this.p.featuresPerNode;
    if (k < nTreeFeatures) {
      // partial Fisher-Yates: the first k entries are a uniform sample
      const nfeat = this.nodeFeatures;
      for (let i = 0; i < nTreeFeatures; i++) nfeat[i] = treeFeatures[i];
      for (let i = 0; i < k; i++) {
        const j = i + rng.int(nTreeFeatures - i);
        const t = nfeat[i];
        nfeat[i] = nfeat[j];
        nfeat[j] = t;
      }
      feats = nfeat;
      nf = k;
    }
    const sp = this.splitPool.pop() ?? new SplitInfo();
    this.finder.find(s.hist as Float64Array, feats, nf, s.G, s.H, s.C, sp);
    if (sp.found) s.split = sp;
    else this.splitPool.push(sp);
  }

  /** a -= b over every histogram slot (features' bins are contiguous: one flat loop). */
  private subtract(a: Float64Array, b: Float64Array): void {
    if (this.kernels?.subtract(a, b)) return;
    const e = this.histSize;
    for (let i = 0; i < e; i++) a[i] -= b[i];
  }

  private takeHist(): Float64Array {
    return this.histPool.pop() ?? new Float64Array(this.histSize);
  }

  private buildHist(
    hist: Float64Array,
    rows: Uint32Array,
    start: number,
    end: number,
    gh: Gradients,
    feats: Int32Array,
    nf: number,
  ): void {
    const { nFeatures, offsets } = this.binned;
    const sp = this.sparse;
    if (sp) {
      (this.kernels as LayoutKernels).histogram(hist, start, end);
      copyDuplicates(hist, this.stride, offsets, sp.dupOf, feats, nf);
      fillDefaultBins(hist, this.stride, offsets, sp.defaultSlot, feats, nf, sp.totals[0], sp.totals[1], end - start);
      return;
    }
    hist.fill(0);
    // row-major bins, made on first use (dense histograms only)
    const bins = (this.rowBins ??= this.binned.bins);
    if (this.stride === 2) {
      if (nf === nFeatures) {
        buildHist2Slots(hist, this.slotTable(), nFeatures, gh, rows, start, end);
      } else buildHistSome(hist, 2, bins, nFeatures, offsets, feats, nf, gh, rows, start, end);
    } else buildHistSome(hist, 3, bins, nFeatures, offsets, feats, nf, gh, rows, start, end);
  }

  private slotTable(): Uint16Array | Uint32Array {
    if (this.slots) return this.slots;
    const { bins, offsets, nFeatures, nRows } = this.binned;
    const n = nRows * nFeatures;
    const slots = offsets[nFeatures] <= 65536 ? new Uint16Array(n) : new Uint32Array(n);
    fillSlots(slots, bins, offsets, nFeatures, nRows);
    this.slots = slots;
    return slots;
  }

  private partition(rows: Uint32Array, start: number, end: number, f: number, go: Uint8Array): number {
    const byKernel = this.kernels ? this.kernels.partition(f, go, start, end) : -1;
    if (byKernel >= 0) return byKernel;
    const sb = this.binned.sparse[f];
    const l = sb
      ? partitionRowsSparse(
          rows,
          this.scratch,
          sb.ones,
          lowerBound(sb.ones, rows[start]),
          go[sb.one],
          go[sb.zero],
          start,
          end,
        )
      : partitionRows(rows, this.scratch, this.binned.columns, this.binned.colBase[f], go, start, end);
    const r = end - l;
    if (r > 0) rows.set(this.scratch.subarray(0, r), l);
    return l;
  }
}
