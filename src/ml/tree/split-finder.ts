/**
 * Best-split search on one node's gradient histogram (XGBoost's hist algorithm).
 *
 * A histogram holds, per feature and bin, the sums of gradients g, hessians h and row
 * counts c of the node's rows (`stride` 3: [g, h, c]; stride 2: [g, h] where h is the
 * count, used when every hessian is a row weight such as 1). A split scores
 *
 *   gain = GL^2/(HL+lambda) + GR^2/(HR+lambda) - G^2/(H+lambda)
 *
 * (XGBoost's loss_chg, compared against gamma). For squared error with g = -(y - mean),
 * h = 1 and lambda = 0 the gain is exactly the drop in the sum of squared errors (CART).
 *
 * Numeric features scan bin prefixes left to right; missing values (bin 0) are tried on
 * both sides and the better side becomes the split's default direction. Categorical
 * features sort the node's categories by g/(h + cat_smooth) and scan prefixes of that order
 * from both ends (LightGBM's gradient-sorted partition; for squared error it finds the
 * best binary partition). Example: categories A, B, C with mean residuals 5, -3, 1 sort
 * as B, C, A; the prefixes tried are {B}, {B, C} (and from the other end {A}, {A, C}).
 */
import type { BinnedMatrix } from './binning.js';

/** Constraints and regularisation for split search. */
export interface SplitParams {
  lambda: number;
  gamma: number;
  minChildWeight: number;
  minSamplesLeaf: number;
  catSmooth: number;
  catL2: number;
  maxCatThreshold: number;
  minDataPerGroup: number;
}

/** The best split found for a node (mutable, reused). */
export class SplitInfo {
  gain = -Infinity;
  feature = -1;
  /** Numeric: left = value bins 1..bin. */
  bin = 0;
  defaultLeft = false;
  categorical = false;
  /** Categorical: leftBins[b] = 1 when bin b goes left. */
  readonly leftBins = new Uint8Array(256);
  GL = 0;
  HL = 0;
  CL = 0;

  reset(): void {
    this.gain = -Infinity;
    this.feature = -1;
  }

  get found(): boolean {
    return this.feature >= 0;
  }
}

/** Reusable buffers for categorical scans. */
export class SplitFinder {
  private readonly order = new Int32Array(256);
  private readonly keys = new Float64Array(256);

  constructor(
    private readonly binned: BinnedMatrix,
    private readonly p: SplitParams,
    private readonly stride: 2 | 3,
  ) {}

  /**
   * Search `features` (first `nFeatures` entries) of the node whose histogram is `hist` and
   * totals are G, H, C; writes the best split with gain > gamma into `best` (reset first).
   * With stride 2 (hessian = count) C must equal H, as the grower's node totals do.
   */
  find(
    hist: Float64Array,
    features: Int32Array,
    nFeatures: number,
    G: number,
    H: number,
    C: number,
    best: SplitInfo,
  ): void {
    best.reset();
    for (let q = 0; q < nFeatures; q++) {
      const f = features[q];
      if (this.binned.isCategorical[f]) this.categorical(hist, f, G, H, C, best);
      else this.numeric(hist, f, G, H, C, best);
    }
    if (!(best.gain > this.p.gamma) || !(best.gain > 0)) best.reset();
  }

  private numeric(hist: Float64Array, f: number, G: number, H: number, C: number, best: SplitInfo): void {
    const S = this.stride;
    const cs = S === 3 ? 2 : 1;
    const { lambda, minChildWeight, minSamplesLeaf } = this.p;
    const o = this.binned.offsets[f] * S;
    const nb = this.binned.nBins[f];
    const gm = hist[o];
    const hm = hist[o + 1];
    const cm = hist[o + cs];
    const parent = (G * G) / (H + lambda);
    let GL = 0;
    let HL = 0;
    let CL = 0;
    if (cm === 0 && S === 2) {
      this.numericDense2(hist, f, o, nb, G, H, parent, best);
      return;
    }
    if (cm === 0) {
      // no missing values in this node: one candidate per cut, NaN later follows the heavier side
      let bestGain = best.gain;
      let bestBin = -1;
      let bGL = 0;
      let bHL = 0;
      let bCL = 0;
      for (let b = 1; b < nb - 1; b++) {
        const k = o + b * S;
        const c = hist[k + cs];
        if (c === 0) continue;
        GL += hist[k];
        HL += hist[k + 1];
        CL += c;
        if (CL >= C) break;
        const HR = H - HL;
        if (CL < minSamplesLeaf || C - CL < minSamplesLeaf || HL < minChildWeight || HR < minChildWeight) continue;
        const GR = G - GL;
        const gain = (GL * GL) / (HL + lambda) + (GR * GR) / (HR + lambda) - parent;
        if (gain > bestGain) {
          bestGain = gain;
          bestBin = b;
          bGL = GL;
          bHL = HL;
          bCL = CL;
        }
      }
      if (bestBin > 0) {
        best.gain = bestGain;
        best.feature = f;
        best.categorical = false;
        best.bin = bestBin;
        best.defaultLeft = bHL >= H - bHL;
        best.GL = bGL;
        best.HL = bHL;
        best.CL = bCL;
      }
      return;
    }
    for (let b = 1; b < nb - 1; b++) {
      const k = o + b * S;
      const c = hist[k + cs];
      if (c === 0) continue;
      GL += hist[k];
      HL += hist[k + 1];
      CL += c;
      if (CL + cm >= C) break; // nothing with a value to the right
      // missing values to the right
      let GR = G - GL;
      let HR = H - HL;
      let CR = C - CL;
      if (CL >= minSamplesLeaf && CR >= minSamplesLeaf && HL >= minChildWeight && HR >= minChildWeight) {
        const gain = (GL * GL) / (HL + lambda) + (GR * GR) / (HR + lambda) - parent;
        if (gain > best.gain) {
          best.gain = gain;
          best.feature = f;
          best.categorical = false;
          best.bin = b;
          best.defaultLeft = cm === 0 ? HL >= HR : false;
          best.GL = GL;
          best.HL = HL;
          best.CL = CL;
        }
      }
      if (cm === 0) continue;
      // missing values to the left
      const GL2 = GL + gm;
      const HL2 = HL + hm;
      const CL2 = CL + cm;
      GR = G - GL2;
      HR = H - HL2;
      CR = C - CL2;
      if (CL2 >= minSamplesLeaf && CR >= minSamplesLeaf && HL2 >= minChildWeight && HR >= minChildWeight) {
        const gain = (GL2 * GL2) / (HL2 + lambda) + (GR * GR) / (HR + lambda) - parent;
        if (gain > best.gain) {
          best.gain = gain;
          best.feature = f;
          best.categorical = false;
          best.bin = b;
          best.defaultLeft = true;
          best.GL = GL2;
          best.HL = HL2;
          best.CL = CL2;
        }
      }
    }
  }

  // Not merged into numeric()'s loop on purpose: the split scan on cars24 was 1.16x slower that way (A/B, 30 pairs).
  /**
   * The no-missing-values scan for stride 2, where the hessian is the count: CL and HL are
   * the same sums of the same slots, and C equals H (both summed from the same slots at the
   * root, then split by the same CL = HL), so the count bookkeeping drops out and the
   * result is identical to the general loop.
   */
  private numericDense2(
    hist: Float64Array,
    f: number,
    o: number,
    nb: number,
    G: number,
    H: number,
    parent: number,
    best: SplitInfo,
  ): void {
    const { lambda, minChildWeight, minSamplesLeaf } = this.p;
    let GL = 0;
    let HL = 0;
    let bestGain = best.gain;
    let bestBin = -1;
    let bGL = 0;
    let bHL = 0;
    for (let b = 1; b < nb - 1; b++) {
      const k = o + 2 * b;
      const h = hist[k + 1];
      if (h === 0) continue;
      GL += hist[k];
      HL += h;
      if (HL >= H) break;
      const HR = H - HL;
      if (HL < minSamplesLeaf || HR < minSamplesLeaf || HL < minChildWeight || HR < minChildWeight) continue;
      const GR = G - GL;
      const gain = (GL * GL) / (HL + lambda) + (GR * GR) / (HR + lambda) - parent;
      if (gain > bestGain) {
        bestGain = gain;
        bestBin = b;
        bGL = GL;
        bHL = HL;
      }
    }
    if (bestBin > 0) {
      best.gain = bestGain;
      best.feature = f;
      best.categorical = false;
      best.bin = bestBin;
      best.defaultLeft = bHL >= H - bHL;
      best.GL = bGL;
      best.HL = bHL;
      best.CL = bHL;
    }
  }

  private categorical(hist: Float64Array, f: number, G: number, H: number, C: number, best: SplitInfo): void {
    const S = this.stride;
    const cs = S === 3 ? 2 : 1;
    const { minChildWeight, minSamplesLeaf, catSmooth, maxCatThreshold, minDataPerGroup } = this.p;
    const lambda = this.p.lambda + this.p.catL2;
    const o = this.binned.offsets[f] * S;
    const nb = this.binned.nBins[f];
    const order = this.order;
    const keys = this.keys;
    let m = 0;
    for (let b = 0; b < nb; b++) {
      const k = o + b * S;
      const c = hist[k + cs];
      if (c > 0 && c >= minDataPerGroup) {
        order[m++] = b;
        keys[b] = hist[k] / (hist[k + 1] + catSmooth);
      }
    }
    if (m < 2) return;
    sortByKey(order, m, keys);
    const parent = (G * G) / (H + lambda);
    const limit = Math.min(maxCatThreshold, m - 1);
    let bestDir = 0;
    let bestLen = 0;
    let bestGain = best.gain;
    let bGL = 0;
    let bHL = 0;
    let bCL = 0;
    for (let dir = 0; dir < 2; dir++) {
      let GL = 0;
      let HL = 0;
      let CL = 0;
      for (let len = 1; len <= limit; len++) {
        const b = this.order[dir === 0 ? len - 1 : m - len];
        const k = o + b * S;
        GL += hist[k];
        HL += hist[k + 1];
        CL += hist[k + cs];
        const GR = G - GL;
        const HR = H - HL;
        const CR = C - CL;
        if (CL < minSamplesLeaf || CR < minSamplesLeaf || HL < minChildWeight || HR < minChildWeight) continue;
        const gain = (GL * GL) / (HL + lambda) + (GR * GR) / (HR + lambda) - parent;
        if (gain > bestGain) {
          bestGain = gain;
          bestDir = dir;
          bestLen = len;
          bGL = GL;
          bHL = HL;
          bCL = CL;
        }
      }
    }
    if (bestLen === 0) return;
    best.gain = bestGain;
    best.feature = f;
    best.categorical = true;
    best.GL = bGL;
    best.HL = bHL;
    best.CL = bCL;
    const lb = best.leftBins;
    lb.fill(0);
    for (let len = 1; len <= bestLen; len++) lb[this.order[bestDir === 0 ? len - 1 : m - len]] = 1;
    // missing values follow their bin when the node has some, else the heavier side
    const missingCount = hist[o + cs];
    best.defaultLeft = missingCount > 0 ? lb[0] === 1 : bHL >= H - bHL;
  }
}

/**
 * Sort order[0..m) ascending by keys[order[i]], ties by the index itself (so the result
 * is deterministic). Quicksort with insertion sort for short runs; no closures, no
 * allocation, as this runs for every categorical feature of every node.
 */
export function sortByKey(order: Int32Array, m: number, keys: Float64Array): void {
  if (m < 2) return;
  const stack = sortStack;
  let sp = 0;
  stack[sp++] = 0;
  stack[sp++] = m - 1;
  while (sp > 0) {
    const hi = stack[--sp];
    const lo = stack[--sp];
    if (hi - lo <= 12) {
      for (let a = lo + 1; a <= hi; a++) {
        const v = order[a];
        const kv = keys[v];
        let b = a - 1;
        while (b >= lo && (kv < keys[order[b]] || (kv === keys[order[b]] && v < order[b]))) {
          order[b + 1] = order[b];
          b--;
        }
        order[b + 1] = v;
      }
      continue;
    }
    // median of three as pivot, then Hoare partition
    const mid = (lo + hi) >>> 1;
    if (less(keys, order[mid], order[lo])) swap(order, mid, lo);
    if (less(keys, order[hi], order[lo])) swap(order, hi, lo);
    if (less(keys, order[hi], order[mid])) swap(order, hi, mid);
    const pivot = order[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (less(keys, order[i], pivot)) i++;
      while (less(keys, pivot, order[j])) j--;
      if (i <= j) {
        swap(order, i, j);
        i++;
        j--;
      }
    }
    if (lo < j) {
      stack[sp++] = lo;
      stack[sp++] = j;
    }
    if (i < hi) {
      stack[sp++] = i;
      stack[sp++] = hi;
    }
  }
}

/** Explicit stack for sortByKey (m <= 256 keeps it far below this size). */
const sortStack = new Int32Array(1024);

function less(keys: Float64Array, a: number, b: number): boolean {
  return keys[a] < keys[b] || (keys[a] === keys[b] && a < b);
}

function swap(a: Int32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
