/**
 * Tree-ensemble prediction for one row, four trees at a time. Walking one tree is a chain
 * of dependent loads (node -> feature value -> comparison -> next node), so a single row
 * through ~1,000 small trees is latency-bound; walking four trees in lockstep lets the
 * processor overlap four chains. Leaves point to themselves (feature 0, threshold +Infinity,
 * never default-right), so every walk takes exactly `maxDepth` steps without a leaf test,
 * and a step is `next = left + goesRight`:
 *
 *   numeric split:     goesRight = (x > t) + (x is NaN ? defaultRight : 0)
 *   categorical split: goesRight = 1 - bit(code) for an integer code in [0, nCodes), else defaultRight
 *
 * The walk is a closure over the arrays (V8 keeps them at hand; reading them through `this`
 * at every step, or comparing precomputed threshold ranks instead of values, measured about
 * twice as slow), compiled afresh for each ensemble (walkerFor: one shared closure code for
 * two models measured twice as slow for both).
 * which are exactly TreeEnsemble's rules (x <= t or missing-and-default-left goes left).
 * Leaf values are added in tree order, so `sum(x, init)` is bit for bit the value that
 * `TreeEnsemble.sumInto` gives the same row.
 */
import { FLAG_CATEGORICAL, FLAG_DEFAULT_LEFT, type TreeEnsemble } from './tree-ensemble.js';

export class RowWalker {
  /** Longest root-to-leaf path (splits) of any tree. */
  readonly maxDepth: number;
  /** init + the leaf value of every tree for the row x (dense), added in tree order. */
  readonly sum: (x: Float64Array, init: number) => number;

  constructor(t: TreeEnsemble) {
    const n = t.nNodes;
    // relabel breadth-first so that the children of a split sit side by side (right = left + 1)
    const order = new Int32Array(n).fill(-1);
    let next = 0;
    const queue: number[] = [];
    for (const r of t.roots) {
      queue.length = 0;
      queue.push(r);
      order[r] = next++;
      for (let h = 0; h < queue.length; h++) {
        const k = queue[h];
        if (t.feature[k] < 0) continue;
        order[t.left[k]] = next++;
        order[t.right[k]] = next++;
        queue.push(t.left[k], t.right[k]);
      }
    }
    const L = new Int32Array(next);
    const F = new Int32Array(next);
    const T = new Float64Array(next);
    const V = new Float64Array(next);
    const DR = new Uint8Array(next);
    const C = new Uint8Array(next);
    const CS = new Int32Array(next);
    const CL = new Int32Array(next);
    for (let k = 0; k < n; k++) {
      const o = order[k];
      if (o < 0) continue;
      if (t.feature[k] < 0) {
        L[o] = o;
        T[o] = Infinity;
        V[o] = t.value[k];
      } else {
        L[o] = order[t.left[k]];
        F[o] = t.feature[k];
        T[o] = t.threshold[k];
        DR[o] = t.flags[k] & FLAG_DEFAULT_LEFT ? 0 : 1;
        C[o] = t.flags[k] & FLAG_CATEGORICAL ? 1 : 0;
        CS[o] = t.catStart[k];
        CL[o] = t.catLen[k];
      }
    }
    const roots = Int32Array.from(t.roots, (r) => order[r]);
    const bits = t.catBits;
    const depth = (k: number): number => (t.feature[k] < 0 ? 0 : 1 + Math.max(depth(t.left[k]), depth(t.right[k])));
    let deepest = 0;
    for (const r of t.roots) deepest = Math.max(deepest, depth(r));
    const maxDepth = deepest;
    this.maxDepth = maxDepth;

    this.sum = walkerFor(roots, maxDepth, V, F, T, L, C, CL, CS, DR, bits);
  }
}

type Walk = (x: Float64Array, init: number) => number;
/** `makeWalk`'s own signature (its copies compiled from its source have the same). */
type MakeWalk = typeof makeWalk;

/** Walkers made so far: each copy of `makeWalk` names its number (a distinct script for V8). */
let walkers = 0;

/**
 * The walk over one ensemble's arrays from a copy of `makeWalk` of its own (its source
 * compiled again, with a comment naming the copy), so every RowWalker's walk is a distinct
 * script. V8 optimises a closure created once per script with the arrays it closes over as
 * constants (function context specialisation); the closures one shared `makeWalk` made for
 * two ensembles (a second model in the process: a shadow challenger, a reloaded version)
 * lost that for both, and the walk took twice the time (measured 17 -> 32-42 µs per
 * listing for the default blend). Where code generation from strings is disabled, the
 * shared `makeWalk` serves (the same sums, bit for bit).
 */
function walkerFor(...arrays: Parameters<MakeWalk>): Walk {
  let make: MakeWalk = makeWalk;
  try {
    // The source of makeWalk below (this module's own code, no model data), compiled again.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const copy = new Function(`return (${makeWalk.toString()}) // walker ${++walkers}`) as () => MakeWalk;
    make = copy();
  } catch {
    // --disallow-code-generation-from-strings: the shared closure
  }
  return make(...arrays);
}

/**
 * The lockstep walk (self-contained: its source is compiled again per ensemble). The
 * numeric step has no branch: booleans combined with | and & (a conditional there compiles
 * to branches the processor mispredicts about half the time; measured 22 -> 13 µs for the
 * 1,200 trees of the default blend).
 */
function makeWalk(
  roots: Int32Array,
  maxDepth: number,
  V: Float64Array,
  F: Int32Array,
  T: Float64Array,
  L: Int32Array,
  C: Uint8Array,
  CL: Int32Array,
  CS: Int32Array,
  DR: Uint8Array,
  bits: Uint32Array,
): Walk {
  const step = (k: number, x: Float64Array): number => {
    const v = x[F[k]];
    if (C[k] === 0) return L[k] + (((v > T[k]) as unknown as number) | (((v !== v) as unknown as number) & DR[k]));
    if (v >= 0 && v < CL[k] && (v | 0) === v) return L[k] + (((bits[CS[k] + (v >>> 5)] >>> (v & 31)) & 1) ^ 1);
    return L[k] + DR[k];
  };
  return (x: Float64Array, init: number): number => {
    const nt = roots.length;
    let acc = init;
    let k = 0;
    for (; k + 4 <= nt; k += 4) {
      let n0 = roots[k];
      let n1 = roots[k + 1];
      let n2 = roots[k + 2];
      let n3 = roots[k + 3];
      for (let d = 0; d < maxDepth; d++) {
        n0 = step(n0, x);
        n1 = step(n1, x);
        n2 = step(n2, x);
        n3 = step(n3, x);
      }
      acc += V[n0];
      acc += V[n1];
      acc += V[n2];
      acc += V[n3];
    }
    for (; k < nt; k++) {
      let m = roots[k];
      for (let d = 0; d < maxDepth; d++) m = step(m, x);
      acc += V[m];
    }
    return acc;
  };
}
