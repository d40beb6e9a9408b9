/**
 * Flattened storage and prediction for a list of regression trees (one tree for CART,
 * many for forests and boosting). Every node of every tree lives in parallel typed arrays,
 * so prediction is one tight loop over numbers with no per-node objects:
 *
 *   feature[n]   split column, or -1 for a leaf
 *   threshold[n] numeric splits: x <= threshold goes left (raw feature value, not a bin)
 *   left/right   child node indices (absolute, into the same arrays)
 *   value[n]     leaf output (already scaled by the learning rate for boosting)
 *   flags[n]     bit 0: missing (NaN) goes left; bit 1: categorical split
 *   catStart/catLen  categorical splits: bitset words in `catBits` (bit c set = code c
 *                goes left); codes outside [0, catLen) or non-integer go the default way
 *
 * Trees are built with `TreeEnsembleBuilder` during fit and frozen into a `TreeEnsemble`.
 */
import { AppError } from '../../core/errors.js';
import { isSparseBinary, type Matrix, type MatrixColumn } from '../matrix.js';
import { WasmTrees, WASM_BLOCK_ROWS } from './wasm-trees.js';

export const FLAG_DEFAULT_LEFT = 1;
export const FLAG_CATEGORICAL = 2;

/** Rows walked together, tree by tree, by `sumInto`. */
const BLOCK_ROWS = 64;

/** JSON form of a TreeEnsemble (all plain number arrays). */
export interface SavedTrees {
  roots: number[];
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
  flags: number[];
  catStart: number[];
  catLen: number[];
  catBits: number[];
}

/** Immutable flattened trees with raw-value prediction. */
export class TreeEnsemble {
  /**
   * Prediction layout, derived from the arrays above: 16 bytes per node in one buffer, seen
   * as int32 [feature << 2 | flags (-1 for a leaf), left child, -, -] and as float64 [-,
   * threshold of a split or value of a leaf] (a categorical split keeps its bitset start and
   * length in the last two int32 slots instead). Each tree is laid out breadth-first with the
   * two children of a node side by side (right = left + 1), so a step reads one cache line,
   * the top levels of a tree share two, and the next node is `left + (x <= t ? 0 : 1)`.
   */
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly proots: Int32Array;
  private readonly hasCategorical: boolean;
  /** The trees compiled to WebAssembly (wasm-trees.ts), made on the first large batch. */
  private compiled: WasmTrees | undefined;
  /** The same, compact: reading the split features of a column-built matrix (`sumColumnsCompiled`). */
  private compiledColumns: WasmTrees | undefined;
  /** (row, tree) pairs walked by sumInto so far. */
  private cellsWalked = 0;

  constructor(
    readonly roots: Int32Array,
    readonly feature: Int32Array,
    readonly threshold: Float64Array,
    readonly left: Int32Array,
    readonly right: Int32Array,
    readonly value: Float64Array,
    readonly flags: Uint8Array,
    readonly catStart: Int32Array,
    readonly catLen: Int32Array,
    readonly catBits: Uint32Array,
  ) {
    const n = feature.length;
    const buf = new ArrayBuffer(16 * n);
    const i32 = (this.i32 = new Int32Array(buf));
    const f64 = (this.f64 = new Float64Array(buf));
    this.proots = new Int32Array(roots.length);
    this.hasCategorical = flags.some((fl, i) => feature[i] >= 0 && (fl & FLAG_CATEGORICAL) !== 0);
    const at = new Int32Array(n).fill(-1); // old node index -> packed index
    const queue = new Int32Array(n);
    let next = 0;
    const corrupt = (): never => {
      throw new AppError(
        'MODEL_INVALID',
        'tree ensemble is corrupt: a node is reachable from more than one parent; retrain or restore the model file',
      );
    };
    for (let t = 0; t < roots.length; t++) {
      if (next >= n || at[roots[t]] !== -1) corrupt();
      let head = 0;
      let tail = 0;
      queue[tail++] = roots[t];
      at[roots[t]] = this.proots[t] = next++;
      while (head < tail) {
        const o = queue[head++];
        const k = at[o];
        if (feature[o] < 0) {
          i32[4 * k] = -1;
          f64[2 * k + 1] = value[o];
          continue;
        }
        if (next + 2 > n || tail + 2 > n || left[o] === right[o] || at[left[o]] !== -1 || at[right[o]] !== -1)
          corrupt();
        at[left[o]] = next;
        at[right[o]] = next + 1;
        queue[tail++] = left[o];
        queue[tail++] = right[o];
        i32[4 * k] = (feature[o] << 2) | (flags[o] & 3);
        i32[4 * k + 1] = next;
        if (flags[o] & FLAG_CATEGORICAL) {
          i32[4 * k + 2] = catStart[o];
          i32[4 * k + 3] = catLen[o];
        } else f64[2 * k + 1] = threshold[o];
        next += 2;
      }
    }
  }

  get nTrees(): number {
    return this.roots.length;
  }

  get nNodes(): number {
    return this.feature.length;
  }

  /** Leaf value of tree `t` for the row starting at data[base]. */
  leafValue(t: number, data: Float64Array, base: number): number {
    return walk(this.i32, this.f64, this.catBits, this.proots[t], data, base);
  }

  /**
   * out[i] = init + sum over trees [from, to) of the leaf values for row i (summed in tree
   * order, so the result is bit-identical however often it is recomputed). A row without
   * missing values skips the missing-value tests (for numbers, `x <= t` then decides alone
   * whichever way missing values would go), and in an ensemble without categorical splits
   * it takes the one-comparison walk.
   */
  sumInto(X: Matrix, out: Float64Array, init: number, from = 0, to = this.roots.length): Float64Array {
    if (X.columns) {
      // a large batch of a column-built matrix (the training rows' predictions): compiled
      if (
        from === 0 &&
        to === this.roots.length &&
        to > 0 &&
        (this.compiledColumns || X.nRows * to >= COMPILE_COLUMNS_CELLS)
      )
        return this.sumColumnsCompiled(X, out, init);
      return byRowBlocks(X, out, (B, o) => this.sumInto(B, o, init, from, to));
    }
    const { data, nCols, nRows } = X;
    if (from === 0 && to === this.roots.length) {
      // like a JIT: once this ensemble has walked enough (row, tree) pairs, compile it
      this.cellsWalked += nRows * this.roots.length;
      if (this.compiled || this.cellsWalked >= COMPILE_AFTER_CELLS) return this.sumIntoCompiled(X, out, init);
    }
    const { i32, f64, catBits, proots } = this;
    // the way each row walks: 0 numeric splits only, 1 no missing values, 2 the full walk
    const kind = new Uint8Array(nRows);
    for (let i = 0; i < nRows; i++) kind[i] = hasMissing(data, i * nCols, nCols) ? 2 : this.hasCategorical ? 1 : 0;
    // blocks of rows walk tree by tree (a tree stays in cache for the whole block); each
    // row still adds its trees' values in tree order, so sums are bit-identical to row by row
    for (let b = 0; b < nRows; b += BLOCK_ROWS) {
      const e = Math.min(nRows, b + BLOCK_ROWS);
      for (let i = b; i < e; i++) out[i] = init;
      for (let t = from; t < to; t++) {
        const root = proots[t];
        for (let i = b; i < e; i++) {
          const k = kind[i];
          const base = i * nCols;
          out[i] +=
            k === 0
              ? walkNumeric(i32, f64, root, data, base)
              : k === 1
                ? walkComplete(i32, f64, catBits, root, data, base)
                : walk(i32, f64, catBits, root, data, base);
        }
      }
    }
    return out;
  }

  /**
   * The same sums as `sumInto` over all trees, bit for bit, by the trees compiled to
   * WebAssembly (wasm-trees.ts): ~4x faster per row than the walk; compiling the 1,200
   * trees of the default blend takes ~0.1 s, so `sumInto` switches to it after
   * COMPILE_AFTER_CELLS (row, tree) pairs and batch prediction uses it from the start.
   */
  sumIntoCompiled(X: Matrix, out: Float64Array, init: number): Float64Array {
    if (X.columns) return this.sumColumnsCompiled(X, out, init);
    const { data, nCols, nRows } = X;
    for (let i = 0; i < nRows; i++) out[i] = init;
    if (this.roots.length === 0) return out;
    const w = (this.compiled ??= new WasmTrees(this));
    for (let b = 0; b < nRows; b += WASM_BLOCK_ROWS) w.sum(data, nCols, out, b, Math.min(nRows, b + WASM_BLOCK_ROWS));
    return out;
  }

  /**
   * `sumIntoCompiled` of a column-built matrix: the trees compiled to read only the
   * features they split on, copied from the columns a block of rows at a time (no row-major
   * copy of every column, as `byRowBlocks` makes). The same sums, bit for bit.
   */
  private sumColumnsCompiled(X: Matrix, out: Float64Array, init: number): Float64Array {
    const { nRows } = X;
    const columns = X.columns as readonly MatrixColumn[];
    for (let i = 0; i < nRows; i++) out[i] = init;
    if (this.roots.length === 0) return out;
    const w = (this.compiledColumns ??= new WasmTrees(this, true));
    for (let b = 0; b < nRows; b += WASM_BLOCK_ROWS)
      w.sumColumns(columns, out, b, Math.min(nRows, b + WASM_BLOCK_ROWS));
    return out;
  }

  /**
   * Compile the trees for `sumIntoCompiled` now (else its first call does, by the level walk
   * where the trees are shallow enough). A caller that compiles ahead is about to price many
   * rows (batch prediction, evaluation, the API), so the default here is the nested branches:
   * they take longer to compile (~0.1 s for the default blend's 1,200 depth-4 trees) but price
   * each row faster than the level walk: 1.8 million rows took 31.2 s of CPU against 33.2 s
   * (those 1,200 trees) and 15.2 s against 19.0 s (300 depth-6 trees). The level walk, which
   * compiles in a millisecond, wins on the tens of thousands of rows a training prices once.
   */
  compile(engine: 'auto' | 'levels' | 'branches' = 'branches'): void {
    if (this.roots.length) this.compiled ??= new WasmTrees(this, false, engine);
  }

  /** How `sumIntoCompiled` walks the trees, once compiled ('levels' or 'branches'), else null. */
  get compiledEngine(): 'levels' | 'branches' | null {
    return this.compiled?.engine ?? null;
  }

  /** Per-feature count of split nodes (for importance of forests). */
  splitCounts(nFeatures: number): Float64Array {
    const out = new Float64Array(nFeatures);
    for (let n = 0; n < this.feature.length; n++) if (this.feature[n] >= 0) out[this.feature[n]]++;
    return out;
  }

  /** The first `k` trees only (early stopping keeps the best iteration). */
  truncate(k: number): TreeEnsemble {
    if (k >= this.roots.length) return this;
    // trees are stored in order, so the nodes of the first k trees are a prefix
    const nNodes = k === 0 ? 0 : this.roots[k];
    const nCat = nNodes === 0 ? 0 : catPrefix(this, nNodes);
    return new TreeEnsemble(
      this.roots.slice(0, k),
      this.feature.slice(0, nNodes),
      this.threshold.slice(0, nNodes),
      this.left.slice(0, nNodes),
      this.right.slice(0, nNodes),
      this.value.slice(0, nNodes),
      this.flags.slice(0, nNodes),
      this.catStart.slice(0, nNodes),
      this.catLen.slice(0, nNodes),
      this.catBits.slice(0, nCat),
    );
  }

  toJSON(): SavedTrees {
    return {
      roots: Array.from(this.roots),
      feature: Array.from(this.feature),
      threshold: Array.from(this.threshold),
      left: Array.from(this.left),
      right: Array.from(this.right),
      value: Array.from(this.value),
      flags: Array.from(this.flags),
      catStart: Array.from(this.catStart),
      catLen: Array.from(this.catLen),
      catBits: Array.from(this.catBits),
    };
  }

  /** Rebuild from JSON, checking that every index points inside the arrays. */
  static fromJSON(s: SavedTrees, nFeatures: number, kind: string): TreeEnsemble {
    const bad = (what: string): never => {
      throw new AppError(
        'MODEL_INVALID',
        `saved "${kind}" model is corrupt: ${what}; retrain or restore the model file`,
      );
    };
    const keys: (keyof SavedTrees)[] = [
      'roots',
      'feature',
      'threshold',
      'left',
      'right',
      'value',
      'flags',
      'catStart',
      'catLen',
      'catBits',
    ];
    for (const k of keys)
      if (!Array.isArray(s?.[k]) || !s[k].every((x) => typeof x === 'number')) bad(`trees.${k} is not a number array`);
    const n = s.feature.length;
    for (const k of ['threshold', 'left', 'right', 'value', 'flags', 'catStart', 'catLen'] as const)
      if (s[k].length !== n) bad(`trees.${k} has ${s[k].length} entries, expected ${n}`);
    for (const r of s.roots) if (!(r >= 0 && r < n)) bad(`tree root ${r} out of range`);
    for (let i = 0; i < n; i++) {
      const f = s.feature[i];
      if (f >= nFeatures) bad(`node ${i} splits on feature ${f} of ${nFeatures}`);
      if (f >= 0) {
        if (!(s.left[i] > i && s.left[i] < n && s.right[i] > i && s.right[i] < n))
          bad(`node ${i} has children out of range`);
        if (s.flags[i] & FLAG_CATEGORICAL && s.catStart[i] + Math.ceil(s.catLen[i] / 32) > s.catBits.length)
          bad(`node ${i} has a category bitset out of range`);
      }
    }
    return new TreeEnsemble(
      Int32Array.from(s.roots),
      Int32Array.from(s.feature),
      Float64Array.from(s.threshold),
      Int32Array.from(s.left),
      Int32Array.from(s.right),
      Float64Array.from(s.value),
      Uint8Array.from(s.flags),
      Int32Array.from(s.catStart),
      Int32Array.from(s.catLen),
      Uint32Array.from(s.catBits),
    );
  }
}

/** Rows of a column-built matrix copied row-major at a time by `byRowBlocks`. */
const COLUMN_BLOCK_ROWS = 1024;

/**
 * Run `f` over a column-built matrix a block of rows at a time, each block copied into a
 * small row-major buffer: prediction over millions of training rows never builds the
 * matrix's whole row-major float64 copy (nRows x nCols x 8 bytes: gigabytes).
 */
function byRowBlocks(X: Matrix, out: Float64Array, f: (block: Matrix, out: Float64Array) => void): Float64Array {
  const cols = X.columns!;
  const p = X.nCols;
  const buf = new Float64Array(Math.min(X.nRows, COLUMN_BLOCK_ROWS) * p);
  // sparse 0/1 columns: where each one's next row holding 1 is (blocks go in row order)
  const next = new Int32Array(p);
  for (let b = 0; b < X.nRows; b += COLUMN_BLOCK_ROWS) {
    const e = Math.min(X.nRows, b + COLUMN_BLOCK_ROWS);
    for (let j = 0; j < p; j++) {
      const c = cols[j];
      if (isSparseBinary(c)) {
        for (let i = b, k = j; i < e; i++, k += p) buf[k] = 0;
        const ones = c.ones;
        let q = next[j];
        for (; q < ones.length && ones[q] < e; q++) buf[(ones[q] - b) * p + j] = 1;
        next[j] = q;
      } else for (let i = b, k = j; i < e; i++, k += p) buf[k] = c[i];
    }
    const n = e - b;
    f({ nRows: n, nCols: p, data: buf.subarray(0, n * p), columnNames: X.columnNames }, out.subarray(b, e));
  }
  return out;
}

/** (row, tree) pairs walked before `sumInto` compiles the trees: 50,000 rows of 1,200 trees. */
const COMPILE_AFTER_CELLS = 60_000_000;

/**
 * (row, tree) pairs of one column-built batch from which `sumInto` compiles the trees: the
 * walk (with the row-major block copy) costs ~0.1 µs per pair, compiling 300 depth-6 trees
 * (28,000 nodes) ~0.08 s, and the compiled walk a fraction of the walk's time per pair.
 */
const COMPILE_COLUMNS_CELLS = 2_000_000;

/** True if data[base .. base + n) holds a NaN. */
function hasMissing(data: Float64Array, base: number, n: number): boolean {
  for (let j = base; j < base + n; j++) if (data[j] !== data[j]) return true;
  return false;
}

/** Root-to-leaf walk for a row without missing values through numeric splits only. */
function walkNumeric(i32: Int32Array, f64: Float64Array, root: number, data: Float64Array, base: number): number {
  let n = root;
  for (;;) {
    const fm = i32[n << 2];
    if (fm < 0) return f64[(n << 1) + 1];
    n = i32[(n << 2) + 1] + (data[base + (fm >> 2)] <= f64[(n << 1) + 1] ? 0 : 1);
  }
}

// Not merged into `walk` on purpose: predictFirst on the 7,391 listings was 1.18x slower that way (A/B, 16 pairs).
/** Root-to-leaf walk for a row without missing values, through numeric and categorical splits. */
function walkComplete(
  i32: Int32Array,
  f64: Float64Array,
  catBits: Uint32Array,
  root: number,
  data: Float64Array,
  base: number,
): number {
  let n = root;
  for (;;) {
    const o = n << 2;
    const fm = i32[o];
    if (fm < 0) return f64[(n << 1) + 1];
    const x = data[base + (fm >> 2)];
    if ((fm & FLAG_CATEGORICAL) === 0) n = i32[o + 1] + (x <= f64[(n << 1) + 1] ? 0 : 1);
    else if (x >= 0 && x < i32[o + 3] && (x | 0) === x)
      n = i32[o + 1] + (((catBits[i32[o + 2] + (x >>> 5)] >>> (x & 31)) & 1) ^ 1);
    else n = i32[o + 1] + ((fm & FLAG_DEFAULT_LEFT) ^ 1);
  }
}

/** Root-to-leaf walk handling missing values (learned default direction) and categorical splits. */
function walk(
  i32: Int32Array,
  f64: Float64Array,
  catBits: Uint32Array,
  root: number,
  data: Float64Array,
  base: number,
): number {
  let n = root;
  for (;;) {
    const o = n << 2;
    const fm = i32[o];
    if (fm < 0) return f64[(n << 1) + 1];
    const x = data[base + (fm >> 2)];
    let goLeft: boolean;
    if ((fm & FLAG_CATEGORICAL) === 0) goLeft = x <= f64[(n << 1) + 1] || (x !== x && (fm & FLAG_DEFAULT_LEFT) !== 0);
    else if (x >= 0 && x < i32[o + 3] && (x | 0) === x)
      goLeft = ((catBits[i32[o + 2] + (x >>> 5)] >>> (x & 31)) & 1) === 1;
    else goLeft = (fm & FLAG_DEFAULT_LEFT) !== 0;
    n = i32[o + 1] + (goLeft ? 0 : 1);
  }
}

function catPrefix(e: TreeEnsemble, nNodes: number): number {
  let end = 0;
  for (let i = 0; i < nNodes; i++)
    if (e.flags[i] & FLAG_CATEGORICAL) end = Math.max(end, e.catStart[i] + Math.ceil(e.catLen[i] / 32));
  return end;
}

/** Growable node storage used while training; `freeze()` gives the TreeEnsemble. */
export class TreeEnsembleBuilder {
  private cap = 1024;
  private n = 0;
  feature = new Int32Array(this.cap);
  threshold = new Float64Array(this.cap);
  left = new Int32Array(this.cap);
  right = new Int32Array(this.cap);
  value = new Float64Array(this.cap);
  flags = new Uint8Array(this.cap);
  catStart = new Int32Array(this.cap);
  catLen = new Int32Array(this.cap);
  private catBits: number[] = [];
  private roots: number[] = [];

  get nNodes(): number {
    return this.n;
  }

  get nTrees(): number {
    return this.roots.length;
  }

  /** Start a new tree; its first added node is the root. */
  beginTree(): void {
    this.roots.push(this.n);
  }

  /** Add a leaf, returning its index. */
  addLeaf(value: number): number {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.feature[i] = -1;
    this.threshold[i] = 0;
    this.left[i] = -1;
    this.right[i] = -1;
    this.value[i] = value;
    this.flags[i] = 0;
    this.catStart[i] = -1;
    this.catLen[i] = 0;
    return i;
  }

  /** Turn leaf `i` into a numeric split (children are set later with `setChildren`). */
  setNumericSplit(i: number, feature: number, threshold: number, defaultLeft: boolean): void {
    this.feature[i] = feature;
    this.threshold[i] = threshold;
    this.flags[i] = defaultLeft ? FLAG_DEFAULT_LEFT : 0;
  }

  /** Turn leaf `i` into a categorical split; `goesLeft(code)` for codes 0..nCodes-1. */
  setCategoricalSplit(
    i: number,
    feature: number,
    nCodes: number,
    goesLeft: (code: number) => boolean,
    defaultLeft: boolean,
  ): void {
    this.feature[i] = feature;
    this.flags[i] = (defaultLeft ? FLAG_DEFAULT_LEFT : 0) | FLAG_CATEGORICAL;
    this.catStart[i] = this.catBits.length;
    this.catLen[i] = nCodes;
    const words = Math.ceil(nCodes / 32);
    for (let w = 0; w < words; w++) {
      let bits = 0;
      for (let b = 0; b < 32; b++) {
        const c = w * 32 + b;
        if (c < nCodes && goesLeft(c)) bits |= 1 << b;
      }
      this.catBits.push(bits >>> 0);
    }
  }

  /** Root node of tree t. */
  root(t: number): number {
    return this.roots[t];
  }

  /** Leaf value reached from node `root` by the raw row at data[base] (same rules as TreeEnsemble). */
  rawLeafValue(root: number, data: Float64Array, base: number): number {
    const { feature, threshold, left, right, value, flags, catStart, catLen, catBits } = this;
    let n = root;
    let f: number;
    while ((f = feature[n]) >= 0) {
      const x = data[base + f];
      const fl = flags[n];
      if (x !== x) n = fl & FLAG_DEFAULT_LEFT ? left[n] : right[n];
      else if (fl & FLAG_CATEGORICAL) {
        if (x >= 0 && x < catLen[n] && (x | 0) === x)
          n = (catBits[catStart[n] + (x >>> 5)] >>> (x & 31)) & 1 ? left[n] : right[n];
        else n = fl & FLAG_DEFAULT_LEFT ? left[n] : right[n];
      } else n = x <= threshold[n] ? left[n] : right[n];
    }
    return value[n];
  }

  setChildren(i: number, left: number, right: number): void {
    this.left[i] = left;
    this.right[i] = right;
  }

  freeze(): TreeEnsemble {
    const n = this.n;
    return new TreeEnsemble(
      Int32Array.from(this.roots),
      this.feature.slice(0, n),
      this.threshold.slice(0, n),
      this.left.slice(0, n),
      this.right.slice(0, n),
      this.value.slice(0, n),
      this.flags.slice(0, n),
      this.catStart.slice(0, n),
      this.catLen.slice(0, n),
      Uint32Array.from(this.catBits),
    );
  }

  private grow(): void {
    this.cap *= 2;
    const g = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(this.cap);
      b.set(a);
      return b;
    };
    this.feature = g(this.feature, Int32Array);
    this.threshold = g(this.threshold, Float64Array);
    this.left = g(this.left, Int32Array);
    this.right = g(this.right, Int32Array);
    this.value = g(this.value, Float64Array);
    this.flags = g(this.flags, Uint8Array);
    this.catStart = g(this.catStart, Int32Array);
    this.catLen = g(this.catLen, Int32Array);
  }
}
