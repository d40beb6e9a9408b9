/**
 * A tree ensemble compiled to WebAssembly for batch prediction (`TreeEnsemble.sumIntoCompiled`),
 * two ways; both add each row's leaf values to its running sum in tree order, so the sums
 * are bit for bit those of the walk (`TreeEnsemble.sumInto`).
 *
 * Level walk (trees up to LEVEL_MAX_DEPTH deep: boosting's): one small function over
 * tables in memory. Every tree is stored complete to the ensemble's depth (a leaf above the
 * last level becomes always-left splits over copies of its value), so a row takes exactly
 * `depth` steps, each without a branch: right = x > t (or x missing and missing goes
 * right), next node 2k + 1 + right. LEVEL_ROWS rows walk the trees together, their steps
 * interleaved, so one row's loads overlap another's instead of every row waiting on
 * mispredicted branches; a row's values for one feature sit next to those of the other
 * rows of its group (one cache line for 8 rows). Its code does not depend on the trees, so
 * it compiles in a millisecond; on the 177k-row training's 300 depth-6 trees it priced
 * 50,000 rows in ~0.2 s of CPU where the branches took ~0.4 s, most of it compiling.
 *
 * Nested branches (deeper trees: forests grown without a depth limit, where a complete
 * tree would be mostly padding): each tree becomes one nested `if (result f64) ... else
 * ... end` expression over constants (split column, threshold, leaf value); a run of trees
 * (about PART_NODES nodes) is one function that loops over a block of rows.
 *
 * Why WebAssembly and not generated JavaScript (what this replaced): generated JavaScript
 * took ~2 s of CPU per process or worker before its first optimised row; walking the node
 * arrays row by row or level by level measured 3.6x slower in JavaScript, and evaluating
 * every node of a tree without branches (`select`) 3.7x slower than the branches.
 *
 * Memory (one WebAssembly.Memory per compiled ensemble, grown on demand):
 *   [0, catBytes)                   the categorical bitset words (catBits)
 *   [.., outBase)                   the level walk's tree tables
 *   [outBase, outBase + 8 * block)  the running sums of the block's rows
 *   [rowBase, ...)                  the block's rows, float64: row-major for the branches,
 *                                   groups of LEVEL_ROWS rows for the level walk
 * Only numbers from the typed node arrays go into the code or the tables, so a model file
 * cannot inject anything; categorical codes are bounds-checked before they index the
 * bitset words.
 */

import { isSparseBinary, lowerBound, type MatrixColumn } from '../matrix.js';
import {
  Bytes,
  F64T,
  I32,
  instantiate,
  newMemory,
  wasmModule,
  type WasmFunction,
  type WasmMemory,
} from './wasm-bytes.js';

/** Nodes per generated function (the JavaScript version's measured sweet spot, also best here). */
const PART_NODES = 600;

/** Rows per call into the module. */
export const WASM_BLOCK_ROWS = 512;

/** The node arrays `compileWasmTrees` reads (TreeEnsemble's public fields). */
export interface TreeArrays {
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
  readonly flags: Uint8Array;
  readonly catStart: Int32Array;
  readonly catLen: Int32Array;
  readonly catBits: Uint32Array;
}

const FLAG_DEFAULT_LEFT = 1;
const FLAG_CATEGORICAL = 2;

// opcodes
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const F64_LOAD = 0x2b;
const F64_STORE = 0x39;
const I32_LOAD = 0x28;
const I32_CONST = 0x41;
const I32_EQZ = 0x45;
const I32_GE_S = 0x4e;
const F64_EQ = 0x61;
const F64_LT = 0x63;
const F64_GT = 0x64;
const F64_LE = 0x65;
const F64_GE = 0x66;
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_AND = 0x71;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;
const F64_ADD = 0xa0;
const F64_CONVERT_I32_S = 0xb7;
const SELECT = 0x1b;
const I32_SUB = 0x6b;
const I32_OR = 0x72;
const F64_NE = 0x62;

// the parts' signature (i0, i1, stride in bytes, out pointer) and their locals
const P_I = 0;
const P_END = 1;
const P_STRIDE = 2;
const P_OUT = 3;
const L_BASE = 4; // i32: byte offset of the row
const L_SUM = 5; // f64: the row's running sum
const L_CODE = 6; // i32: a categorical code
const L_VALUE = 7; // f64: the value of a categorical split's column
const L_OK = 8; // i32: the code is an integer in [0, nCodes)

/**
 * One part of the ensemble as a function body: trees [from, to). Feature f is read at
 * f64 slot `slotOf[f]` of a row (f itself without a map).
 */
function partBody(t: TreeArrays, from: number, to: number, rowBase: number, slotOf: Int32Array | null): Bytes {
  const { feature, threshold, left, right, value, flags, catStart, catLen } = t;
  const b = new Bytes();
  // locals, in index order: base i32, sum f64, code i32, value f64, ok i32
  b.u32(5);
  for (const ty of [I32, F64T, I32, F64T, I32]) {
    b.u32(1);
    b.byte(ty);
  }
  const load = (f: number) => {
    b.byte(LOCAL_GET, L_BASE, F64_LOAD, 3);
    b.u32((slotOf ? slotOf[f] : f) * 8);
  };
  // the value of the subtree at node n: `goLeft; if (f64) left else right end`
  const expr = (n: number): void => {
    const f = feature[n];
    if (f < 0) {
      b.f64const(value[n]);
      return;
    }
    const defaultLeft = (flags[n] & FLAG_DEFAULT_LEFT) !== 0;
    if ((flags[n] & FLAG_CATEGORICAL) === 0) {
      load(f);
      b.f64const(threshold[n]);
      // x <= t goes left; so does a missing x when the default is left: !(x > t)
      if (defaultLeft) b.byte(F64_GT, I32_EQZ);
      else b.byte(F64_LE);
    } else {
      // v = x; code = trunc_sat(v); ok = v >= 0 & v < nCodes & code == v
      load(f);
      b.byte(LOCAL_SET, L_VALUE);
      b.byte(LOCAL_GET, L_VALUE, 0xfc, 0x02, LOCAL_SET, L_CODE); // i32.trunc_sat_f64_s
      b.byte(LOCAL_GET, L_VALUE);
      b.f64const(0);
      b.byte(F64_GE, LOCAL_GET, L_VALUE);
      b.f64const(catLen[n]);
      b.byte(F64_LT, I32_AND);
      b.byte(LOCAL_GET, L_CODE, F64_CONVERT_I32_S, LOCAL_GET, L_VALUE, F64_EQ, I32_AND, LOCAL_SET, L_OK);
      // code = ok ? code : 0 (never an address outside the node's words)
      b.byte(LOCAL_GET, L_CODE, I32_CONST, 0, LOCAL_GET, L_OK, SELECT, LOCAL_SET, L_CODE);
      // bit = (word[catStart + (code >>> 5)] >>> code) & 1
      b.byte(LOCAL_GET, L_CODE, I32_CONST, 5, I32_SHR_U, I32_CONST, 2, I32_SHL, I32_LOAD, 2);
      b.u32(catStart[n] * 4);
      b.byte(LOCAL_GET, L_CODE, I32_SHR_U, I32_CONST, 1, I32_AND);
      // goLeft = ok ? bit : defaultLeft
      b.byte(I32_CONST, defaultLeft ? 1 : 0, LOCAL_GET, L_OK, SELECT);
    }
    b.byte(0x04, F64T); // if (result f64)
    expr(left[n]);
    b.byte(0x05); // else
    expr(right[n]);
    b.byte(0x0b); // end
  };
  // block { loop { if i >= end break; base = rowBase + i * stride; sum = out[i]; trees; out[i] = sum; i++ } }
  b.byte(0x02, 0x40, 0x03, 0x40);
  b.byte(LOCAL_GET, P_I, LOCAL_GET, P_END, I32_GE_S, 0x0d, 1);
  b.byte(LOCAL_GET, P_I, LOCAL_GET, P_STRIDE, I32_MUL, I32_CONST);
  b.s32(rowBase);
  b.byte(I32_ADD, LOCAL_SET, L_BASE);
  b.byte(LOCAL_GET, P_OUT, LOCAL_GET, P_I, I32_CONST, 3, I32_SHL, I32_ADD, F64_LOAD, 3, 0, LOCAL_SET, L_SUM);
  for (let k = from; k < to; k++) {
    b.byte(LOCAL_GET, L_SUM);
    expr(t.roots[k]);
    b.byte(F64_ADD, LOCAL_SET, L_SUM);
  }
  b.byte(LOCAL_GET, P_OUT, LOCAL_GET, P_I, I32_CONST, 3, I32_SHL, I32_ADD, LOCAL_GET, L_SUM, F64_STORE, 3, 0);
  b.byte(LOCAL_GET, P_I, I32_CONST, 1, I32_ADD, LOCAL_SET, P_I);
  b.byte(0x0c, 0, 0x0b, 0x0b, 0x0b); // br 0; end loop; end block; end function
  return b;
}

/** The ensemble's module bytes: parts exported as p0, p1, ..., memory imported as e.m. */
function moduleBytes(t: TreeArrays, rowBase: number, slotOf: Int32Array | null): { bytes: Uint8Array; parts: number } {
  const bodies: Bytes[] = [];
  const nTrees = t.roots.length;
  let from = 0;
  while (from < nTrees) {
    let to = from;
    let nodes = 0;
    while (to < nTrees) {
      const size = (to + 1 < nTrees ? t.roots[to + 1] : t.feature.length) - t.roots[to];
      if (nodes > 0 && nodes + size > PART_NODES) break;
      nodes += size;
      to++;
    }
    bodies.push(partBody(t, from, to, rowBase, slotOf));
    from = to;
  }
  const fns: WasmFunction[] = bodies.map((body, k) => ({
    name: `p${k}`,
    params: [I32, I32, I32, I32],
    results: [],
    body,
  }));
  return { bytes: wasmModule(fns), parts: bodies.length };
}

/**
 * Deepest ensemble walked level by level (`levelModule`); deeper trees (forests grown
 * without a depth limit) keep the nested branches, whose size follows the real nodes.
 */
export const LEVEL_MAX_DEPTH = 8;

/** Rows a level walk carries through the trees together (their steps interleave). */
const LEVEL_ROWS = 8;

/** Bytes of a node record in a level walk: f64 threshold (or code count), i32 word, i32 bitset address. */
const NODE_BYTES = 16;
const WORD_NAN_RIGHT = 1;
const WORD_CATEGORICAL = 2;

/** The deepest leaf of any tree (a single-leaf tree has depth 0). */
export function maxTreeDepth(t: TreeArrays): number {
  const { roots, feature, left, right } = t;
  let deepest = 0;
  const stack: number[] = [];
  for (let k = 0; k < roots.length; k++) {
    stack.push(roots[k], 0);
    while (stack.length) {
      const d = stack.pop() as number;
      const n = stack.pop() as number;
      if (feature[n] < 0) {
        if (d > deepest) deepest = d;
      } else stack.push(left[n], d + 1, right[n], d + 1);
    }
  }
  return deepest;
}

/**
 * The trees as complete binary trees of depth `depth`, one after another, each as its
 * 2^depth - 1 node records in heap order (children of k at 2k + 1, 2k + 2) followed by its
 * 2^depth leaf values. A leaf above the last level becomes splits that send every value
 * left (threshold +Infinity, missing left) over copies of its value.
 */
function levelTables(t: TreeArrays, depth: number, slotOf: Int32Array | null): ArrayBuffer {
  const { roots, feature, threshold, left, right, value, flags, catStart, catLen } = t;
  const inner = 2 ** depth - 1;
  const treeBytes = inner * NODE_BYTES + (inner + 1) * 8;
  const buf = new ArrayBuffer(roots.length * treeBytes);
  const f64 = new Float64Array(buf);
  const i32 = new Int32Array(buf);
  for (let k = 0; k < roots.length; k++) {
    const base = k * treeBytes;
    const place = (n: number, h: number, level: number): void => {
      if (level === depth) {
        f64[(base + inner * NODE_BYTES + (h - inner) * 8) / 8] = value[n];
        return;
      }
      const at = base + h * NODE_BYTES;
      const f = feature[n];
      if (f < 0) {
        // a leaf above the last level: always left, down to copies of its value
        f64[at / 8] = Infinity;
        place(n, 2 * h + 1, level + 1);
        place(n, 2 * h + 2, level + 1);
        return;
      }
      const slot = slotOf ? slotOf[f] : f;
      const categorical = (flags[n] & FLAG_CATEGORICAL) !== 0;
      i32[at / 4 + 2] =
        (slot * 8 * LEVEL_ROWS) |
        ((flags[n] & FLAG_DEFAULT_LEFT) === 0 ? WORD_NAN_RIGHT : 0) |
        (categorical ? WORD_CATEGORICAL : 0);
      if (categorical) {
        f64[at / 8] = catLen[n];
        i32[at / 4 + 3] = catStart[n] * 4;
      } else f64[at / 8] = threshold[n];
      place(left[n], 2 * h + 1, level + 1);
      place(right[n], 2 * h + 2, level + 1);
    };
    place(roots[k], 0, 0);
  }
  return buf;
}

/**
 * The level walk: `walk(from, to, m, stride, missing)` adds, for each of the m rows at rowBase
 * (stride bytes apart, m a multiple of LEVEL_ROWS), the leaf values of the trees whose
 * tables lie at bytes [from, to) to the row's running sum at outBase, in tree order.
 *
 * Each tree step is branch-free: right = x > t, or (`missing`: rows may hold NaN) x missing
 * and the node's missing values go right; the next node is 2k + 1 + right. LEVEL_ROWS rows
 * walk each tree together, their steps interleaved, so the loads of one row's path overlap
 * another's instead of each row waiting on mispredicted branches. Categorical splits (when
 * the ensemble has any) take a branch on the node's kind, which is predictable: most nodes
 * are numeric.
 */
function levelBody(depth: number, categorical: boolean, outBase: number, rowBase: number): Bytes {
  const R = LEVEL_ROWS;
  const inner = 2 ** depth - 1;
  const treeBytes = inner * NODE_BYTES + (inner + 1) * 8;
  // params
  const FROM = 0;
  const TO = 1;
  const M = 2;
  const STRIDE = 3;
  const MISSING = 4;
  // locals: i32 g, tp, a, w, code, ok, k[R], p; f64 x, s[R]
  let next = 5;
  const G = next++;
  const TP = next++;
  const A = next++;
  const W = next++;
  const CODE = next++;
  const OK = next++;
  const K = Array.from({ length: R }, () => next++);
  const P = next++;
  const X = next++;
  const S = Array.from({ length: R }, () => next++);
  const b = new Bytes();
  b.u32(2);
  b.u32(7 + R);
  b.byte(I32);
  b.u32(1 + R);
  b.byte(F64T);
  const get = (l: number) => b.byte(LOCAL_GET, l);
  const set = (l: number) => b.byte(LOCAL_SET, l);
  const i32c = (c: number) => {
    b.byte(I32_CONST);
    b.s32(c);
  };
  const mem = (op: number, align: number, offset: number) => {
    b.byte(op);
    b.u32(align);
    b.u32(offset);
  };
  // one copy of the walk for rows that may hold missing values, one for rows that do not
  // (one function, so both are optimised together)
  const walk = (missing: boolean) => {
    // g = 0; p = rowBase (the group's rows)
    i32c(0);
    set(G);
    i32c(rowBase);
    set(P);
    b.byte(0x02, 0x40, 0x03, 0x40); // block loop (groups of rows)
    get(G);
    get(M);
    b.byte(I32_GE_S, 0x0d, 1);
    for (let r = 0; r < R; r++) {
      // s[r] = out[g + r]
      get(G);
      i32c(3);
      b.byte(I32_SHL);
      mem(F64_LOAD, 3, outBase + 8 * r);
      set(S[r]);
    }
    get(FROM);
    set(TP);
    b.byte(0x02, 0x40, 0x03, 0x40); // block loop (trees)
    get(TP);
    get(TO);
    b.byte(I32_GE_S, 0x0d, 1);
    for (let level = 0; level < depth; level++) {
      for (let r = 0; r < R; r++) {
        // a = tp + 16k (the root at level 0); w = its word; x = the row's value
        get(TP);
        if (level > 0) {
          get(K[r]);
          i32c(4);
          b.byte(I32_SHL, I32_ADD);
        }
        set(A);
        get(A);
        mem(I32_LOAD, 2, 8);
        set(W);
        get(P);
        get(W);
        i32c(-8);
        b.byte(I32_AND, I32_ADD);
        mem(F64_LOAD, 3, 8 * r);
        set(X);
        // k = 2k + 1 + right
        if (level > 0) {
          get(K[r]);
          i32c(1);
          b.byte(I32_SHL);
          i32c(1);
          b.byte(I32_ADD);
        } else i32c(1);
        if (categorical) {
          get(W);
          i32c(WORD_CATEGORICAL);
          b.byte(I32_AND);
          b.byte(0x04, I32); // if (result i32)
          // code = trunc_sat(x); ok = x >= 0 & x < nCodes & code == x
          get(X);
          b.byte(0xfc, 0x02);
          set(CODE);
          get(X);
          b.f64const(0);
          b.byte(F64_GE);
          get(X);
          get(A);
          mem(F64_LOAD, 3, 0);
          b.byte(F64_LT, I32_AND);
          get(CODE);
          b.byte(F64_CONVERT_I32_S);
          get(X);
          b.byte(F64_EQ, I32_AND);
          set(OK);
          // code = ok ? code : 0
          get(CODE);
          i32c(0);
          get(OK);
          b.byte(SELECT);
          set(CODE);
          // right = ok ? 1 - bit : missing right
          i32c(1);
          get(A);
          mem(I32_LOAD, 2, 12);
          get(CODE);
          i32c(5);
          b.byte(I32_SHR_U);
          i32c(2);
          b.byte(I32_SHL, I32_ADD);
          mem(I32_LOAD, 2, 0);
          get(CODE);
          b.byte(I32_SHR_U);
          i32c(1);
          b.byte(I32_AND, I32_SUB);
          get(W);
          i32c(WORD_NAN_RIGHT);
          b.byte(I32_AND);
          get(OK);
          b.byte(SELECT);
          b.byte(0x05); // else
        }
        // right = x > t (| x missing & missing goes right)
        get(X);
        get(A);
        mem(F64_LOAD, 3, 0);
        b.byte(F64_GT);
        if (missing) {
          get(X);
          get(X);
          b.byte(F64_NE);
          get(W);
          b.byte(I32_AND, I32_OR);
        }
        if (categorical) b.byte(0x0b); // end if
        b.byte(I32_ADD);
        set(K[r]);
      }
    }
    for (let r = 0; r < R; r++) {
      // s[r] += leaf value (the leaves follow the inner nodes: leaf k - inner at tp + 8k + 8 inner)
      get(S[r]);
      get(TP);
      if (depth > 0) {
        get(K[r]);
        i32c(3);
        b.byte(I32_SHL, I32_ADD);
      }
      mem(F64_LOAD, 3, inner * 8);
      b.byte(F64_ADD);
      set(S[r]);
    }
    get(TP);
    i32c(treeBytes);
    b.byte(I32_ADD);
    set(TP);
    b.byte(0x0c, 0, 0x0b, 0x0b); // br (trees); end loop; end block
    for (let r = 0; r < R; r++) {
      get(G);
      i32c(3);
      b.byte(I32_SHL);
      get(S[r]);
      mem(F64_STORE, 3, outBase + 8 * r);
    }
    // p += R * stride
    get(P);
    get(STRIDE);
    i32c(R);
    b.byte(I32_MUL, I32_ADD);
    set(P);
    get(G);
    i32c(R);
    b.byte(I32_ADD);
    set(G);
    b.byte(0x0c, 0, 0x0b, 0x0b); // br (rows); end loop; end block
  };
  get(MISSING);
  b.byte(0x04, 0x40); // if
  walk(true);
  b.byte(0x05); // else
  walk(false);
  b.byte(0x0b, 0x0b); // end if; end function
  return b;
}

/** The level walk's module: `walk(from, to, m, stride, missing)`. */
function levelModule(depth: number, categorical: boolean, outBase: number, rowBase: number): Uint8Array {
  return wasmModule([
    {
      name: 'walk',
      params: [I32, I32, I32, I32, I32],
      results: [],
      body: levelBody(depth, categorical, outBase, rowBase),
    },
  ]);
}

type Part = (i0: number, i1: number, stride: number, out: number) => void;
type LevelWalk = (from: number, to: number, m: number, stride: number, missing: number) => void;

/**
 * A compiled ensemble: `sum` adds the trees' leaf values to running sums, in tree order.
 *
 * Compiled `compact`, it reads rows of only the features the trees split on (`used`, in
 * column order) and takes a column-built matrix (`sumColumns`): predicting the training
 * rows of a model over 788 features (800 word indicators) copies the ~200 it splits on,
 * not the whole row.
 */
export class WasmTrees {
  /** The nested-branch parts (trees deeper than LEVEL_MAX_DEPTH), or empty. */
  private readonly parts: Part[] = [];
  /** The level walk and the bytes [from, to) of its tables, or null. */
  private readonly levels: { walk: LevelWalk; from: number; to: number } | null = null;
  private readonly memory: WasmMemory;
  private readonly outBase: number;
  private readonly rowBase: number;
  private view: Float64Array;
  /** Compact modules: the features read, ascending (row slot k holds feature used[k]). */
  private readonly used: Int32Array | null;

  /**
   * `engine`: 'auto' walks ensembles of trees up to LEVEL_MAX_DEPTH deep level by level and
   * deeper ones by nested branches; the others force one way (tests compare them).
   */
  constructor(t: TreeArrays, compact = false, engine: 'auto' | 'levels' | 'branches' = 'auto') {
    const catBytes = t.catBits.length * 4;
    let slotOf: Int32Array | null = null;
    this.used = null;
    if (compact) {
      let nF = 0;
      for (let n = 0; n < t.feature.length; n++) if (t.feature[n] >= nF) nF = t.feature[n] + 1;
      slotOf = new Int32Array(nF).fill(-1);
      for (let n = 0; n < t.feature.length; n++) if (t.feature[n] >= 0) slotOf[t.feature[n]] = 0;
      const used: number[] = [];
      for (let f = 0; f < nF; f++) if (slotOf[f] === 0) slotOf[f] = used.push(f) - 1;
      this.used = Int32Array.from(used);
    }
    const depth = engine === 'branches' ? Infinity : maxTreeDepth(t);
    const align = (x: number) => Math.ceil(x / 64) * 64;
    let bytes: Uint8Array;
    let tables: ArrayBuffer | null = null;
    let nParts = 0;
    if (depth <= LEVEL_MAX_DEPTH || engine === 'levels') {
      tables = levelTables(t, depth, slotOf);
      const treeBase = align(catBytes);
      this.outBase = align(treeBase + tables.byteLength);
      this.rowBase = this.outBase + 8 * (WASM_BLOCK_ROWS + LEVEL_ROWS);
      const hasCategorical = t.flags.some((f, n) => (f & FLAG_CATEGORICAL) !== 0 && t.feature[n] >= 0);
      bytes = levelModule(depth, hasCategorical, this.outBase, this.rowBase);
    } else {
      this.outBase = align(catBytes);
      this.rowBase = this.outBase + 8 * WASM_BLOCK_ROWS;
      ({ bytes, parts: nParts } = moduleBytes(t, this.rowBase, slotOf));
    }
    this.memory = newMemory(this.rowBase + 1);
    const exports = instantiate(bytes, this.memory);
    new Uint32Array(this.memory.buffer, 0, t.catBits.length).set(t.catBits);
    if (tables) {
      const from = align(catBytes);
      new Uint8Array(this.memory.buffer, from, tables.byteLength).set(new Uint8Array(tables));
      this.levels = {
        walk: exports.walk as LevelWalk,
        from,
        to: from + tables.byteLength,
      };
    } else this.parts = Array.from({ length: nParts }, (_, k) => exports[`p${k}`] as Part);
    this.view = new Float64Array(this.memory.buffer);
  }

  /** How these trees are walked: 'levels' (the level walk) or 'branches' (nested branches). */
  get engine(): 'levels' | 'branches' {
    return this.levels ? 'levels' : 'branches';
  }

  /**
   * out[i] += the leaf values, in tree order, of rows i in [i0, i1) of the row-major
   * `data` (nCols per row); at most WASM_BLOCK_ROWS rows per call.
   */
  sum(data: Float64Array, nCols: number, out: Float64Array, i0: number, i1: number): void {
    if (this.used) throw new Error('WasmTrees.sum: a compact module reads columns (sumColumns)');
    const m = i1 - i0;
    const v = this.room(m * nCols, nCols);
    const rows = data.subarray(i0 * nCols, i1 * nCols);
    if (!this.levels) {
      v.set(rows, this.rowBase / 8);
      return this.run(out, i0, i1, nCols, false);
    }
    // the level walk's layout: groups of LEVEL_ROWS rows, each column's values of a group side by side
    let missing = false;
    const R = LEVEL_ROWS;
    for (let i = 0; i < m; i++) {
      let at = this.rowBase / 8 + (i - (i % R)) * nCols + (i % R);
      for (let j = i * nCols, e = j + nCols; j < e; j++, at += R) {
        const x = rows[j];
        if (x !== x) missing = true;
        v[at] = x;
      }
    }
    this.run(out, i0, i1, nCols, missing);
  }

  /**
   * out[i] += the leaf values, in tree order, of rows i in [i0, i1) of a column-built
   * matrix (compact modules only): the used columns are copied into the module's rows
   * (sparse 0/1 columns as 0 and 1), the same numbers `sum` would read from the row-major
   * matrix, so the sums are the same bit for bit.
   */
  sumColumns(columns: readonly MatrixColumn[], out: Float64Array, i0: number, i1: number): void {
    const used = this.used;
    if (!used) throw new Error('WasmTrees.sumColumns needs a compact module');
    const k = used.length;
    const v = this.room((i1 - i0) * k, k);
    const base = this.rowBase / 8;
    // zeros first (one contiguous fill, whole groups of rows for the level walk), then the
    // ones of the sparse columns
    const R = this.levels ? LEVEL_ROWS : 1;
    v.fill(0, base, base + Math.ceil((i1 - i0) / R) * R * k);
    let missing = false;
    // row i, slot s at base + i * k + s; in the level walk's layout (groups of R rows, each
    // slot's values of a group side by side) at base + (i - i % R) * k + s * R + i % R
    for (let s = 0; s < k; s++) {
      const c = columns[used[s]];
      if (isSparseBinary(c)) {
        const ones = c.ones;
        for (let q = lowerBound(ones, i0); q < ones.length && ones[q] < i1; q++) {
          const i = ones[q] - i0;
          v[base + (i - (i % R)) * k + s * R + (i % R)] = 1;
        }
      } else if (R === 1) {
        if (copyStrided(c, i0, i1, v, base + s, k)) missing = true;
      } else if (copyGroups(c, i0, i1, v, base + s * R, k * R)) missing = true;
    }
    this.run(out, i0, i1, k, missing);
  }

  /** The module's memory as float64, grown to hold `cells` row values (and a level walk's padding rows). */
  private room(cells: number, nCols: number): Float64Array {
    const need = this.rowBase + (cells + LEVEL_ROWS * nCols) * 8;
    if (need > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / 65536));
      this.view = new Float64Array(this.memory.buffer);
    }
    return this.view;
  }

  /** Run every part over the rows in memory (nCols per row), their sums from and back to out[i0 .. i1). */
  private run(out: Float64Array, i0: number, i1: number, nCols: number, missing: boolean): void {
    const v = this.view;
    const m = i1 - i0;
    v.set(out.subarray(i0, i1), this.outBase / 8);
    const lv = this.levels;
    // a level walk takes whole groups of rows: the last group's extra rows (whatever values
    // their memory holds) are summed into slots past m, which are not read back
    if (lv) lv.walk(lv.from, lv.to, Math.ceil(m / LEVEL_ROWS) * LEVEL_ROWS, nCols * 8, missing ? 1 : 0);
    else for (let p = 0; p < this.parts.length; p++) this.parts[p](0, m, nCols * 8, this.outBase);
    out.set(v.subarray(this.outBase / 8, this.outBase / 8 + m), i0);
  }
}

/** Copy c[i0 .. i1) to v[at], v[at + stride], ...: whether any value was NaN. */
function copyStrided(
  c: Float64Array | Uint8Array,
  i0: number,
  i1: number,
  v: Float64Array,
  at: number,
  stride: number,
): boolean {
  let nan = false;
  for (let i = i0; i < i1; i++, at += stride) {
    const x = c[i];
    if (x !== x) nan = true;
    v[at] = x;
  }
  return nan;
}

/**
 * Copy c[i0 .. i1) in groups of LEVEL_ROWS values, `stride` apart from v[at] (the level
 * walk's layout): whether any value was NaN. Each group is a copyStrided with stride 1; an
 * A/B on the 7,391 listings' 461-column tree matrix (sumColumns, level walk, alternated in
 * one process, 20 pairs) measured no cost against the loop written out: B/A 0.998 and 0.990
 * with 10 trees (where the copy dominates), 1.006 with the default 1,200 depth-4 trees.
 */
function copyGroups(
  c: Float64Array | Uint8Array,
  i0: number,
  i1: number,
  v: Float64Array,
  at: number,
  stride: number,
): boolean {
  let nan = false;
  for (let i = i0; i < i1; i += LEVEL_ROWS, at += stride)
    if (copyStrided(c, i, Math.min(i1, i + LEVEL_ROWS), v, at, 1)) nan = true;
  return nan;
}
