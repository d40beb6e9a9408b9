/**
 * Grows one regression tree on binned data from per-row gradients and hessians: the
 * engine shared by CART (`tree`), random forests (`forest`) and boosting (`gbdt`).
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
 *   features.
 * - Hot loops (histogram, partition, prediction update) are small module functions whose
 *   body is one loop: V8 then optimises them early and never re-enters stale OSR code.
 */
import type { Rng } from '../../core/rng.js';
import type { BinnedMatrix } from './binning.js';
import { SplitFinder, SplitInfo, type SplitParams } from './split-finder.js';
import type { TreeEnsembleBuilder } from './tree-ensemble.js';

/**
 * Interleaved per-row gradient and hessian: gh[2i] = g_i, gh[2i+1] = h_i. Boosting uses
 * float32 (as XGBoost and LightGBM do: half the memory traffic when building histograms,
 * which still sum in float64); CART uses float64 so leaf means are exact.
 */
export type Gradients = Float32Array | Float64Array;

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
  /** 2 * offsets, padded so the unrolled histogram loop reads in bounds. */
  private readonly offs2: Int32Array;
  /**
   * Row-major histogram slot of every cell, offsets[f] + bin (uint16), built on first use by
   * the all-features stride-2 kernel (boosting without column sampling): it saves the
   * per-cell offset load and add of the hottest loop, for 2 bytes per cell.
   */
  private slots: Uint16Array | null = null;
  /** Sparse layout (see the module comment), or null for dense histograms. */
  private readonly sparse: SparseLayout | null;
  /** Per-feature gain and split counts, accumulated over every tree grown. */
  readonly gainImportance: Float64Array;
  readonly splitImportance: Float64Array;
  /** Per split node of the current fit: which bins go left (for binned traversal). */
  private readonly goLeftTables = new Map<number, Uint8Array>();

  constructor(
    private readonly binned: BinnedMatrix,
    private readonly p: GrowParams,
    /** 2: histogram [g, h] with h doubling as the row count; 3: [g, h, count]. */
    private readonly stride: 2 | 3,
    private readonly keepTables = false,
    /** 'auto': sparse histograms when at most a quarter of the cells leave their feature's most frequent bin. */
    histogram: 'auto' | 'dense' | 'sparse' = 'auto',
  ) {
    this.finder = new SplitFinder(binned, p, stride);
    this.histSize = binned.offsets[binned.nFeatures] * stride;
    this.nodeFeatures = new Int32Array(binned.nFeatures);
    this.offs2 = new Int32Array(binned.nFeatures + 4);
    for (let f = 0; f < binned.nFeatures; f++) this.offs2[f] = binned.offsets[f] * 2;
    this.gainImportance = new Float64Array(binned.nFeatures);
    this.splitImportance = new Float64Array(binned.nFeatures);
    this.sparse = histogram === 'dense' ? null : sparseLayout(binned, histogram === 'sparse' ? 1 : 0.25);
  }

  /**
   * Grow one tree into `out` from rows[0 .. nRows) (partitioned in place), gradients
   * gh[2i] and hessians gh[2i + 1], using the given features (first nTreeFeatures entries).
   *
   * With `addTo` (boosting's training predictions), every row's leaf value is added to
   * addTo[row] here, and splits at the depth limit are not partitioned: their rows get
   * their leaf value straight from the split's bin table (one pass instead of partition +
   * update). The two leaves of such a split then have empty row segments in the result.
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
  ): GrownTree {
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
    const root: NodeState = { id: out.addLeaf(0), depth: 0, start: 0, end: nRows, G, H, C, hist: rootHist, split: null };
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
        out.setCategoricalSplit(node.id, f, cb.length, (c) => (cb[c] >= 0 ? go[cb[c]] === 1 : sp.defaultLeft), sp.defaultLeft);
      } else {
        out.setNumericSplit(node.id, f, (this.binned.upper[f] as Float64Array)[sp.bin - 1], sp.defaultLeft);
      }
      if (this.keepTables) this.goLeftTables.set(node.id, go.slice(0, nb));
      this.gainImportance[f] += sp.gain;
      this.splitImportance[f] += 1;
      const depth = node.depth + 1;
      // both children are leaves by depth: credit their rows now instead of partitioning
      const terminal = addTo !== undefined && p.maxDepth > 0 && depth >= p.maxDepth;
      let mid: number;
      if (terminal) {
        const vL = this.leafOutput(sp.GL, sp.HL);
        const vR = this.leafOutput(node.G - sp.GL, node.H - sp.HL);
        addSplitLeaves(addTo, rows, node.start, node.end, this.binned.columns, f * this.binned.nRows, go, vL, vR);
        mid = node.start;
      } else mid = this.partition(rows, node.start, node.end, f, go);
      const lId = out.addLeaf(0);
      const rId = out.addLeaf(0);
      out.setChildren(node.id, lId, rId);
      out.value[node.id] = this.leafOutput(node.G, node.H);
      const L: NodeState = { id: lId, depth, start: node.start, end: mid, G: sp.GL, H: sp.HL, C: sp.CL, hist: null, split: null };
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
    if (addTo) for (let k = 0; k < leafNode.length; k++) addSegment(addTo, rows, leafStart[k], leafEnd[k], leafValue[k]);
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
   */
  binnedLeafValue(tree: TreeEnsembleBuilder, root: number, i: number): number {
    const bins = this.binned.bins;
    const base = i * this.binned.nFeatures;
    let n = root;
    let f: number;
    while ((f = tree.feature[n]) >= 0) {
      const t = this.goLeftTables.get(n) as Uint8Array;
      n = t[bins[base + f]] ? tree.left[n] : tree.right[n];
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
    hist.fill(0);
    const { bins, nFeatures, offsets } = this.binned;
    if (this.sparse) {
      const sp = this.sparse;
      if (this.stride === 2) buildHist2Sparse(hist, sp.rowPtr, sp.slot, gh, rows, start, end, sp.totals);
      else buildHist3Sparse(hist, sp.rowPtr, sp.slot, gh, rows, start, end, sp.totals);
      fillDefaultBins(hist, this.stride, offsets, sp.defaultSlot, feats, nf, sp.totals[0], sp.totals[1], end - start);
      return;
    }
    if (this.stride === 2) {
      if (nf === nFeatures) {
        if (offsets[nFeatures] <= 65536) buildHist2Slots(hist, this.slotTable(), nFeatures, gh, rows, start, end);
        else buildHist2All(hist, bins, nFeatures, this.offs2, gh, rows, start, end);
      }
      else buildHist2Some(hist, bins, nFeatures, offsets, feats, nf, gh, rows, start, end);
    } else buildHist3(hist, bins, nFeatures, offsets, feats, nf, gh, rows, start, end);
  }

  private slotTable(): Uint16Array {
    if (this.slots) return this.slots;
    const { bins, offsets, nFeatures, nRows } = this.binned;
    const slots = new Uint16Array(nRows * nFeatures);
    fillSlots(slots, bins, offsets, nFeatures, nRows);
    this.slots = slots;
    return slots;
  }

  private partition(rows: Uint32Array, start: number, end: number, f: number, go: Uint8Array): number {
    const l = partitionRows(rows, this.scratch, this.binned.columns, f * this.binned.nRows, go, start, end);
    const r = end - l;
    if (r > 0) rows.set(this.scratch.subarray(0, r), l);
    return l;
  }
}

/** pred[row] += vL or vR for rows[start .. end) by the split's bin table (go[bin] = 1: left). */
function addSplitLeaves(
  pred: Float64Array,
  rows: Uint32Array,
  start: number,
  end: number,
  col: Uint8Array,
  base: number,
  go: Uint8Array,
  vL: number,
  vR: number,
): void {
  for (let k = start; k < end; k++) {
    const row = rows[k];
    pred[row] += go[col[base + row]] === 1 ? vL : vR;
  }
}

function addSegment(pred: Float64Array, rows: Uint32Array, start: number, end: number, v: number): void {
  for (let q = start; q < end; q++) pred[rows[q]] += v;
}

/**
 * Stable partition of rows[start .. end): rows whose bin goes left are compacted in place
 * from `start` (returned: where the right part begins), the others are written to
 * scratch[0 ..) for the caller to copy back. Branchless, as the side is data-dependent and
 * unpredictable: write both and advance one. The loop is the whole function on purpose:
 * V8 (Node 20) compiles a hot loop on stack replacement before the code after it has type
 * feedback, and the cached OSR code then deoptimised on every call (17,000 deopts and 40%
 * of a 300-tree fit when the copy-back loop followed here).
 */
function partitionRows(
  rows: Uint32Array,
  scratch: Uint32Array,
  col: Uint8Array,
  base: number,
  go: Uint8Array,
  start: number,
  end: number,
): number {
  let l = start;
  let r = 0;
  for (let k = start; k < end; k++) {
    const row = rows[k];
    const left = go[col[base + row]];
    rows[l] = row;
    scratch[r] = row;
    l += left;
    r += 1 - left;
  }
  return l;
}

/**
 * Non-default cells of a binned matrix, row by row: rowPtr[i] .. rowPtr[i + 1] index the
 * histogram slots (offsets[f] + bin) of row i's cells outside their feature's most
 * frequent bin, whose slot is defaultSlot[f]; totals is scratch for a node's [sum g, sum h].
 */
interface SparseLayout {
  rowPtr: Uint32Array;
  slot: Int32Array;
  defaultSlot: Int32Array;
  totals: Float64Array;
}

/**
 * The sparse layout of a binned matrix, or null when more than `maxFraction` of its cells
 * leave their feature's most frequent bin (dense histograms are then cheaper).
 */
function sparseLayout(
  binned: BinnedMatrix,
  maxFraction: number,
): SparseLayout | null {
  const { nRows, nFeatures: nF, columns, bins, offsets, nBins } = binned;
  const defaultBin = new Uint8Array(nF);
  const counts = new Int32Array(256);
  let nnz = 0;
  for (let f = 0; f < nF; f++) {
    counts.fill(0, 0, nBins[f]);
    const base = f * nRows;
    for (let i = 0; i < nRows; i++) counts[columns[base + i]]++;
    let best = 0;
    for (let b = 1; b < nBins[f]; b++) if (counts[b] > counts[best]) best = b;
    defaultBin[f] = best;
    nnz += nRows - counts[best];
  }
  if (nnz > maxFraction * nRows * nF) return null;
  const rowPtr = new Uint32Array(nRows + 1);
  const slot = new Int32Array(nnz);
  let e = 0;
  for (let i = 0; i < nRows; i++) {
    const base = i * nF;
    for (let f = 0; f < nF; f++) {
      const b = bins[base + f];
      if (b !== defaultBin[f]) slot[e++] = offsets[f] + b;
    }
    rowPtr[i + 1] = e;
  }
  const defaultSlot = new Int32Array(nF);
  for (let f = 0; f < nF; f++) defaultSlot[f] = offsets[f] + defaultBin[f];
  return { rowPtr, slot, defaultSlot, totals: new Float64Array(2) };
}

/** Stride-2 histogram from the non-default cells of rows[start .. end); totals = [sum g, sum h]. */
function buildHist2Sparse(
  hist: Float64Array,
  rowPtr: Uint32Array,
  slot: Int32Array,
  gh: Gradients,
  rows: Uint32Array,
  start: number,
  end: number,
  totals: Float64Array,
): void {
  let G = 0;
  let H = 0;
  for (let k = start; k < end; k++) {
    const r = rows[k];
    const g = gh[2 * r];
    const h = gh[2 * r + 1];
    G += g;
    H += h;
    const e1 = rowPtr[r + 1];
    for (let e = rowPtr[r]; e < e1; e++) {
      const x = slot[e] << 1;
      hist[x] += g;
      hist[x + 1] += h;
    }
  }
  totals[0] = G;
  totals[1] = H;
}

/** Stride-3 ([g, h, count]) histogram from the non-default cells of rows[start .. end). */
function buildHist3Sparse(
  hist: Float64Array,
  rowPtr: Uint32Array,
  slot: Int32Array,
  gh: Gradients,
  rows: Uint32Array,
  start: number,
  end: number,
  totals: Float64Array,
): void {
  let G = 0;
  let H = 0;
  for (let k = start; k < end; k++) {
    const r = rows[k];
    const g = gh[2 * r];
    const h = gh[2 * r + 1];
    G += g;
    H += h;
    const e1 = rowPtr[r + 1];
    for (let e = rowPtr[r]; e < e1; e++) {
      const x = slot[e] * 3;
      hist[x] += g;
      hist[x + 1] += h;
      hist[x + 2] += 1;
    }
  }
  totals[0] = G;
  totals[1] = H;
}

/** Each listed feature's most frequent bin = node totals minus the feature's other bins. */
function fillDefaultBins(
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

function fillSlots(slots: Uint16Array, bins: Uint8Array, offsets: Int32Array, nF: number, nRows: number): void {
  for (let i = 0; i < nRows; i++) {
    const b = i * nF;
    for (let f = 0; f < nF; f++) slots[b + f] = offsets[f] + bins[b + f];
  }
}

/**
 * Histogram of all features, stride 2, unrolled by four features, from precomputed slots
 * (slots[i * nF + f] = offsets[f] + bin). Rows are visited in ascending order, so every
 * histogram cell sums the same values in the same order as buildHist2All.
 */
function buildHist2Slots(
  hist: Float64Array,
  slots: Uint16Array,
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
 * Histogram of all features, stride 2, unrolled by four features; offs2[f] is feature f's
 * first slot (2 * its first bin). Rows of a node are visited in ascending order.
 */
function buildHist2All(
  hist: Float64Array,
  bins: Uint8Array,
  nF: number,
  offs2: Int32Array,
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
      const x0 = offs2[f] + (bins[b + f] << 1);
      const x1 = offs2[f + 1] + (bins[b + f + 1] << 1);
      const x2 = offs2[f + 2] + (bins[b + f + 2] << 1);
      const x3 = offs2[f + 3] + (bins[b + f + 3] << 1);
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
      const x = offs2[f] + (bins[b + f] << 1);
      hist[x] += g;
      hist[x + 1] += h;
    }
  }
}

function buildHist2Some(
  hist: Float64Array,
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
      const idx = (offsets[f] + bins[base + f]) << 1;
      hist[idx] += g;
      hist[idx + 1] += h;
    }
  }
}

function buildHist3(
  hist: Float64Array,
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
      const idx = (offsets[f] + bins[base + f]) * 3;
      hist[idx] += g;
      hist[idx + 1] += h;
      hist[idx + 2] += 1;
    }
  }
}
