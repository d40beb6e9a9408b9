/**
 * A tree ensemble compiled to WebAssembly for batch prediction (`TreeEnsemble.sumIntoCompiled`).
 *
 * Each tree becomes one nested `if (result f64) ... else ... end` expression over
 * constants (split column, threshold, leaf value), the same branches the trees' walk takes;
 * a run of trees (about COMPILE_PART_NODES nodes) is one function that loops over a block of
 * rows and adds, for each row, its trees' leaf values to the row's running sum in tree
 * order, so the sums are bit for bit those of the walk (`TreeEnsemble.sumInto`).
 *
 * Why WebAssembly and not generated JavaScript (what this replaced): V8 compiles the module
 * in ~0.1 s for the 1,200 trees of the default blend (baseline code at once, optimised code
 * on background threads), where generated JavaScript took ~2 s of CPU per process or
 * worker before its first optimised row; the steady speed is the same or better (measured
 * on the 1.8M-row file: 7.7 against 8.0 µs per row for those trees, copies included).
 * Walking the node arrays row by row or a block of rows level by level (as XGBoost does)
 * measured 3.6x slower in JavaScript, and evaluating every node of a tree without branches
 * (`select`) 3.7x slower: a depth-4 tree has ~12 splits and the walk reads 4.
 *
 * Memory (one WebAssembly.Memory per compiled ensemble, grown on demand):
 *   [0, catBytes)                   the categorical bitset words (catBits)
 *   [outBase, outBase + 8 * block)  the running sums of the block's rows
 *   [rowBase, ...)                  the block's rows, row-major float64
 * Only numbers from the typed node arrays go into the code, so a model file cannot inject
 * anything; categorical codes are bounds-checked before they index the bitset words.
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

type Part = (i0: number, i1: number, stride: number, out: number) => void;

/**
 * A compiled ensemble: `sum` adds the trees' leaf values to running sums, in tree order.
 *
 * Compiled `compact`, it reads rows of only the features the trees split on (`used`, in
 * column order) and takes a column-built matrix (`sumColumns`): predicting the training
 * rows of a model over 788 features (800 word indicators) copies the ~200 it splits on,
 * not the whole row.
 */
export class WasmTrees {
  private readonly parts: Part[];
  private readonly memory: WasmMemory;
  private readonly outBase: number;
  private readonly rowBase: number;
  private view: Float64Array;
  /** Compact modules: the features read, ascending (row slot k holds feature used[k]). */
  private readonly used: Int32Array | null;

  constructor(t: TreeArrays, compact = false) {
    const catBytes = t.catBits.length * 4;
    this.outBase = Math.ceil(catBytes / 64) * 64;
    this.rowBase = this.outBase + 8 * WASM_BLOCK_ROWS;
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
    const { bytes, parts } = moduleBytes(t, this.rowBase, slotOf);
    this.memory = newMemory(this.rowBase + 1);
    const exports = instantiate(bytes, this.memory);
    this.parts = Array.from({ length: parts }, (_, k) => exports[`p${k}`] as Part);
    new Uint32Array(this.memory.buffer, 0, t.catBits.length).set(t.catBits);
    this.view = new Float64Array(this.memory.buffer);
  }

  /**
   * out[i] += the leaf values, in tree order, of rows i in [i0, i1) of the row-major
   * `data` (nCols per row); at most WASM_BLOCK_ROWS rows per call.
   */
  sum(data: Float64Array, nCols: number, out: Float64Array, i0: number, i1: number): void {
    if (this.used) throw new Error('WasmTrees.sum: a compact module reads columns (sumColumns)');
    const m = i1 - i0;
    const v = this.room(m * nCols);
    v.set(data.subarray(i0 * nCols, i1 * nCols), this.rowBase / 8);
    this.run(out, i0, i1, nCols);
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
    const v = this.room((i1 - i0) * k);
    const base = this.rowBase / 8;
    // zeros first (one contiguous fill), then the ones of the sparse columns
    v.fill(0, base, base + (i1 - i0) * k);
    for (let s = 0; s < k; s++) {
      const c = columns[used[s]];
      if (isSparseBinary(c)) {
        const ones = c.ones;
        for (let q = lowerBound(ones, i0); q < ones.length && ones[q] < i1; q++) v[base + (ones[q] - i0) * k + s] = 1;
      } else copyStrided(c, i0, i1, v, base + s, k);
    }
    this.run(out, i0, i1, k);
  }

  /** The module's memory as float64, grown to hold `cells` row values. */
  private room(cells: number): Float64Array {
    const need = this.rowBase + cells * 8;
    if (need > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / 65536));
      this.view = new Float64Array(this.memory.buffer);
    }
    return this.view;
  }

  /** Run every part over the rows in memory (nCols per row), their sums from and back to out[i0 .. i1). */
  private run(out: Float64Array, i0: number, i1: number, nCols: number): void {
    const v = this.view;
    const m = i1 - i0;
    v.set(out.subarray(i0, i1), this.outBase / 8);
    for (let p = 0; p < this.parts.length; p++) this.parts[p](0, m, nCols * 8, this.outBase);
    out.set(v.subarray(this.outBase / 8, this.outBase / 8 + m), i0);
  }
}

function copyStrided(
  c: Float64Array | Uint8Array,
  i0: number,
  i1: number,
  v: Float64Array,
  at: number,
  stride: number,
) {
  for (let i = i0; i < i1; i++, at += stride) v[at] = c[i];
}
