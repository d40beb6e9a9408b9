/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized
 * feature attribution for tree ensembles", Algorithm 2): the Shapley values of
 *
 *   v(S) = E[f(x) | x_S]  where features outside S follow the training data down the tree:
 *          at a split on a feature not in S, both children, weighted by their covers
 *          (the number of training rows that reached them);
 *
 * computed in O(leaves * depth^2) per tree by carrying, along the root-to-leaf path, the
 * proportion of feature subsets of each size that flow through (EXTEND / UNWIND below,
 * the shap library's tree_shap_recursive). They add up: expectedValue + sum(phi) = f(x).
 *
 * Worked example (one split on x0 <= 0.5, covers 30 left / 10 right, leaves 1 and 5):
 * E = 0.75 * 1 + 0.25 * 5 = 2; for x0 = 0.9 (goes right) phi0 = 5 - 2 = 3, so 2 + 3 = 5.
 *
 * Covers of nodes no training row reached are 0; at a split whose cover is 0 both children
 * get half (any split of weight gives valid Shapley values; the sum property holds).
 */
import { AppError } from '../../core/errors.js';
import { denseValues, type Matrix, type MatrixColumn } from '../matrix.js';
import { FLAG_CATEGORICAL, FLAG_DEFAULT_LEFT, type TreeEnsemble } from './tree-ensemble.js';

/** Whether row x goes left at split node k (TreeEnsemble's rules). */
export function goesLeft(t: TreeEnsemble, k: number, x: ArrayLike<number>, base = 0): boolean {
  return valueGoesLeft(t, k, x[base + t.feature[k]]);
}

/** Whether value v of node k's feature goes left at split node k. */
function valueGoesLeft(t: TreeEnsemble, k: number, v: number): boolean {
  const fl = t.flags[k];
  if ((fl & FLAG_CATEGORICAL) === 0) return v <= t.threshold[k] || (v !== v && (fl & FLAG_DEFAULT_LEFT) !== 0);
  if (v >= 0 && v < t.catLen[k] && (v | 0) === v)
    return ((t.catBits[t.catStart[k] + (v >>> 5)] >>> (v & 31)) & 1) === 1;
  return (fl & FLAG_DEFAULT_LEFT) !== 0;
}

/** Node covers: how many rows of X reach each node of every tree (a split's = its children's sum). */
export function nodeCovers(t: TreeEnsemble, X: Matrix): Float64Array {
  const cover = new Float64Array(t.nNodes);
  if (X.columns) return columnCovers(t, X.columns, X.nRows, cover);
  const { data, nCols, nRows } = X;
  for (let r = 0; r < t.nTrees; r++) {
    const root = t.roots[r];
    for (let i = 0; i < nRows; i++) {
      let k = root;
      cover[k]++;
      while (t.feature[k] >= 0) {
        k = goesLeft(t, k, data, i * nCols) ? t.left[k] : t.right[k];
        cover[k]++;
      }
    }
  }
  return cover;
}

/**
 * Covers from the columns: the rows of each node are a segment of one index array,
 * partitioned at every split on one column (sequential reads of that column), so a
 * million-row matrix is never walked row by row across hundreds of columns.
 */
function columnCovers(
  t: TreeEnsemble,
  given: readonly MatrixColumn[],
  nRows: number,
  cover: Float64Array,
): Float64Array {
  // sparse 0/1 columns expanded once each, when a split uses them
  const expanded = new Map<number, Float64Array | Uint8Array>();
  const columns = (f: number) => {
    let c = expanded.get(f);
    if (!c) expanded.set(f, (c = denseValues(given[f])));
    return c;
  };
  const rows = new Uint32Array(nRows);
  const scratch = new Uint32Array(nRows);
  const stack: number[] = [];
  for (let r = 0; r < t.nTrees; r++) {
    for (let i = 0; i < nRows; i++) rows[i] = i;
    stack.push(t.roots[r], 0, nRows);
    while (stack.length) {
      const end = stack.pop() as number;
      const start = stack.pop() as number;
      const k = stack.pop() as number;
      cover[k] += end - start;
      if (t.feature[k] < 0 || end === start) continue;
      const mid = partitionByNode(t, k, columns(t.feature[k]), rows, scratch, start, end);
      stack.push(t.left[k], start, mid, t.right[k], mid, end);
    }
  }
  return cover;
}

function partitionByNode(
  t: TreeEnsemble,
  k: number,
  col: Float64Array | Uint8Array,
  rows: Uint32Array,
  scratch: Uint32Array,
  start: number,
  end: number,
): number {
  let l = start;
  let n = 0;
  for (let q = start; q < end; q++) {
    const row = rows[q];
    if (valueGoesLeft(t, k, col[row])) rows[l++] = row;
    else scratch[n++] = row;
  }
  rows.set(scratch.subarray(0, n), l);
  return l;
}

/** One element of the path: feature, fractions of zero (cover) and one (follows x), weight. */
interface PathElement {
  feature: number;
  zero: number;
  one: number;
  weight: number;
}

/** SHAP values of a tree ensemble with the training covers of its nodes. */
export class TreeExplainer {
  /** Expected output (sum over trees) under the covers: the value with no feature known. */
  readonly expectedValue: number;
  private readonly maxDepth: number;

  constructor(
    private readonly t: TreeEnsemble,
    private readonly cover: Float64Array,
  ) {
    if (cover.length !== t.nNodes)
      throw new AppError(
        'MODEL_INVALID',
        `tree covers have ${cover.length} entries for ${t.nNodes} nodes; retrain the model`,
      );
    let e = 0;
    let depth = 0;
    for (let r = 0; r < t.nTrees; r++) {
      e += this.expected(t.roots[r]);
      depth = Math.max(depth, this.depth(t.roots[r]));
    }
    this.expectedValue = e;
    this.maxDepth = depth;
  }

  /** Share of node k's cover that goes to its child c (half each when k has no cover). */
  fraction(k: number, c: number): number {
    const w = this.cover[k];
    return w > 0 ? this.cover[c] / w : 0.5;
  }

  private expected(k: number): number {
    const t = this.t;
    if (t.feature[k] < 0) return t.value[k];
    return (
      this.fraction(k, t.left[k]) * this.expected(t.left[k]) + this.fraction(k, t.right[k]) * this.expected(t.right[k])
    );
  }

  private depth(k: number): number {
    const t = this.t;
    return t.feature[k] < 0 ? 0 : 1 + Math.max(this.depth(t.left[k]), this.depth(t.right[k]));
  }

  /** Add every tree's SHAP values for the row x (one value per feature) into phi. */
  shapInto(x: ArrayLike<number>, phi: Float64Array): void {
    const path: PathElement[] = Array.from({ length: ((this.maxDepth + 2) * (this.maxDepth + 3)) / 2 }, () => ({
      feature: -1,
      zero: 0,
      one: 0,
      weight: 0,
    }));
    for (let r = 0; r < this.t.nTrees; r++) this.recurse(this.t.roots[r], x, phi, path, 0, 0, 1, 1, -1);
  }

  /**
   * Node k with the parent's path at path[start .. start + depth); this node's path is
   * written after it (so siblings see the parent's path unchanged).
   */
  private recurse(
    k: number,
    x: ArrayLike<number>,
    phi: Float64Array,
    path: PathElement[],
    start: number,
    depth: number,
    zero: number,
    one: number,
    feature: number,
  ): void {
    const t = this.t;
    const at = start + depth; // this node's path starts here (one element longer than the parent's)
    for (let i = 0; i < depth; i++) copyElement(path[at + i], path[start + i]);
    extend(path, at, depth, zero, one, feature);
    if (t.feature[k] < 0) {
      const v = t.value[k];
      for (let i = 1; i <= depth; i++) {
        const el = path[at + i];
        phi[el.feature] += unwoundSum(path, at, depth, i) * (el.one - el.zero) * v;
      }
      return;
    }
    const left = goesLeft(t, k, x);
    const hot = left ? t.left[k] : t.right[k];
    const cold = left ? t.right[k] : t.left[k];
    const f = t.feature[k];
    let inZero = 1;
    let inOne = 1;
    let d = depth;
    // a feature split on again: undo its earlier element and redo it with this split
    let p = 0;
    while (p <= d && path[at + p].feature !== f) p++;
    if (p <= d) {
      inZero = path[at + p].zero;
      inOne = path[at + p].one;
      unwind(path, at, d, p);
      d--;
    }
    // a child reached by no subset (both fractions 0) adds nothing: skip it (its unwinding would divide by 0)
    const hotZero = this.fraction(k, hot) * inZero;
    if (hotZero !== 0 || inOne !== 0) this.recurse(hot, x, phi, path, at, d + 1, hotZero, inOne, f);
    const coldZero = this.fraction(k, cold) * inZero;
    if (coldZero !== 0) this.recurse(cold, x, phi, path, at, d + 1, coldZero, 0, f);
  }
}

function copyElement(to: PathElement, from: PathElement): void {
  to.feature = from.feature;
  to.zero = from.zero;
  to.one = from.one;
  to.weight = from.weight;
}

/** EXTEND: add (feature, zero, one) as element `depth` of the path at `at`, updating weights. */
function extend(path: PathElement[], at: number, depth: number, zero: number, one: number, feature: number): void {
  const el = path[at + depth];
  el.feature = feature;
  el.zero = zero;
  el.one = one;
  el.weight = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    path[at + i + 1].weight += (one * path[at + i].weight * (i + 1)) / (depth + 1);
    path[at + i].weight = (zero * path[at + i].weight * (depth - i)) / (depth + 1);
  }
}

/** UNWIND: remove element i from the path of length depth + 1 at `at`, restoring weights. */
function unwind(path: PathElement[], at: number, depth: number, i: number): void {
  const one = path[at + i].one;
  const zero = path[at + i].zero;
  let next = path[at + depth].weight;
  for (let j = depth - 1; j >= 0; j--) {
    const el = path[at + j];
    if (one !== 0) {
      const tmp = el.weight;
      el.weight = (next * (depth + 1)) / ((j + 1) * one);
      next = tmp - (el.weight * zero * (depth - j)) / (depth + 1);
    } else el.weight = (el.weight * (depth + 1)) / (zero * (depth - j));
  }
  for (let j = i; j < depth; j++) {
    const to = path[at + j];
    const from = path[at + j + 1];
    to.feature = from.feature;
    to.zero = from.zero;
    to.one = from.one;
  }
}

/** The total weight of the path with element i unwound (without changing the path). */
function unwoundSum(path: PathElement[], at: number, depth: number, i: number): number {
  const one = path[at + i].one;
  const zero = path[at + i].zero;
  let next = path[at + depth].weight;
  let total = 0;
  for (let j = depth - 1; j >= 0; j--) {
    if (one !== 0) {
      const tmp = (next * (depth + 1)) / ((j + 1) * one);
      total += tmp;
      next = path[at + j].weight - tmp * zero * ((depth - j) / (depth + 1));
    } else if (zero !== 0) total += path[at + j].weight / zero / ((depth - j) / (depth + 1));
  }
  return total;
}
