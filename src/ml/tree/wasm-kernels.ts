/**
 * The tree grower's hot loops in WebAssembly, written at run time for the shape of one
 * fit's sparse layout (histogram-kernels.ts SparseLayout with its fixed-width cell table):
 * the table's width, its cell type, the histogram stride and the gradient type are
 * constants of the code, and each loop is one template specialised by small emitters
 * (which row source, which side test, how many pattern sums) instead of a hand-written
 * copy per variant.
 *
 * What they buy over the JavaScript kernels: a (gradient, hessian) pair is one 128-bit
 * value, added to a histogram cell in one load-add-store (f64x2), with no bounds checks.
 * Each lane adds the same float64 values in the same row order as the JavaScript kernels,
 * so histograms, partitions and predictions are bit for bit theirs.
 *
 * Memory (one WebAssembly.Memory per grower, sized once, never grown, so the typed views
 * handed out stay valid): the rows and their scratch, the gradients, the boosting
 * predictions, the cell table, each pattern group's row patterns, cells and sums, the
 * split side tables and a pool of histograms.
 */
import { Bytes, F64T, I32, V128, instantiate, newMemory, wasmModule, type WasmFunction } from './wasm-bytes.js';

/** What the code and the memory are made for. */
export interface KernelShape {
  nRows: number;
  /**
   * Cells per row of the fixed-width table, and their type; width 0: the cells are a CSR
   * list (row i's histogram slots at slot[rowPtr[i] .. rowPtr[i + 1]), `csrCells` of them).
   */
  width: number;
  cells16: boolean;
  csrCells: number;
  /** Histogram stride: 2 [g, h] or 3 [g, h, count]. */
  stride: 2 | 3;
  /** Gradients as float32 pairs (boosting) or float64 pairs (CART). */
  gh32: boolean;
  /** Doubles per histogram. */
  histDoubles: number;
  /** Histogram slots a cell can name (the go-left table's length). */
  slots: number;
  /** Pattern groups: patterns and cells. */
  groups: readonly { nPatterns: number; nCells: number }[];
  /** Histograms kept in the module's memory. */
  nHist: number;
}

/** A pattern group's arrays in the module's memory. */
export interface GroupViews {
  pat: Int32Array;
  ptr: Uint32Array;
  slot: Int32Array;
  /** Per pattern [g, h] (stride 2) or [g, h, count, -] (stride 3). */
  sums: Float64Array;
  /** Per pattern: 1 when its rows go left at the split being applied. */
  side: Uint8Array;
}

// opcodes
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const VOID = 0x40;
const GET = 0x20;
const SET = 0x21;
const TEE = 0x22;
const I32_LOAD = 0x28;
const F64_LOAD = 0x2b;
const I32_LOAD8_U = 0x2d;
const I32_LOAD16_U = 0x2f;
const I32_STORE = 0x36;
const F64_STORE = 0x39;
const I32_CONST = 0x41;
const I32_GE_U = 0x4f;
const F64_NE = 0x62;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_MUL = 0x6c;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;
const F64_ADD = 0xa0;
const F64_SUB = 0xa1;
const F64_MUL = 0xa2;
const F32_DEMOTE_F64 = 0xb6;
const F32_STORE = 0x38;
const F32_CONST = 0x43;
const SELECT = 0x1b;
const DROP = 0x1a;
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const V128_LOAD64_ZERO = 0x5d;
const F64X2_PROMOTE_LOW = 0x5f;
const V128_ANY_TRUE = 0x53;
const V128_CONST = 0x0c;
const MISC = 0xfc;
const MEMORY_COPY = 0x0a;
const F64X2_ADD = 0xf0;
const F64X2_SUB = 0xf1;

/** A function body under construction: locals are declared up front by type. */
class Fn {
  readonly b = new Bytes();
  private readonly code = new Bytes();
  private readonly localTypes: number[] = [];

  constructor(
    readonly name: string,
    readonly params: readonly number[],
    readonly results: readonly number[] = [],
  ) {}

  /** A new local of type `t` (its index). */
  local(t: number): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length - 1;
  }

  op(...bs: number[]): this {
    this.code.byte(...bs);
    return this;
  }

  get(i: number): this {
    return this.op(GET, i);
  }

  set(i: number): this {
    return this.op(SET, i);
  }

  i32(c: number): this {
    this.code.byte(I32_CONST);
    this.code.s32(c);
    return this;
  }

  f64(c: number): this {
    this.code.f64const(c);
    return this;
  }

  /** A memory access: opcode, alignment (log2), constant offset. */
  mem(opcode: number, align: number, offset = 0): this {
    this.code.byte(opcode);
    this.code.u32(align);
    this.code.u32(offset);
    return this;
  }

  /** A SIMD instruction (with its memory argument for loads and stores). */
  simd(opcode: number, align?: number, offset = 0): this {
    this.code.byte(SIMD);
    this.code.u32(opcode);
    if (align !== undefined) {
      this.code.u32(align);
      this.code.u32(offset);
    }
    return this;
  }

  /** v128.const 0 */
  zero128(): this {
    this.code.byte(SIMD);
    this.code.u32(V128_CONST);
    for (let k = 0; k < 16; k++) this.code.byte(0);
    return this;
  }

  /** x = x + the i32 on the stack. */
  addTo(x: number): this {
    return this.get(x).op(I32_ADD).set(x);
  }

  /** block { loop { br_if (p >= end) out; body; br loop } } */
  loop(p: number, end: number, body: () => void): this {
    this.op(BLOCK, VOID, LOOP, VOID);
    this.get(p).get(end).op(I32_GE_U, BR_IF, 1);
    body();
    this.op(BR, 0, END, END);
    return this;
  }

  done(): WasmFunction {
    const b = this.b;
    // locals, grouped by runs of one type
    const runs: [number, number][] = [];
    for (const t of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    b.u32(runs.length);
    for (const [n, t] of runs) {
      b.u32(n);
      b.byte(t);
    }
    b.append(this.code);
    b.byte(END);
    return { name: this.name, params: this.params, results: this.results, body: b };
  }
}

/** Byte offsets of the memory's regions. */
interface Regions {
  rows: number;
  scratch: number;
  gh: number;
  pred: number;
  y: number;
  cells: number;
  rowPtr: number;
  slot: number;
  goSlot: number;
  totals: number;
  groups: { pat: number; ptr: number; slot: number; sums: number; side: number }[];
  hists: number;
  histBytes: number;
  end: number;
}

function regions(s: KernelShape): Regions {
  let at = 0;
  const take = (bytes: number) => {
    const o = at;
    at = Math.ceil((at + bytes) / 64) * 64;
    return o;
  };
  const n = s.nRows;
  const r = {
    rows: take(4 * n),
    scratch: take(4 * n),
    gh: take(2 * n * (s.gh32 ? 4 : 8)),
    pred: take(8 * n),
    y: take(8 * n),
    cells: take(n * s.width * (s.cells16 ? 2 : 4)),
    rowPtr: take(s.width ? 0 : 4 * (n + 1)),
    slot: take(s.width ? 0 : 4 * s.csrCells),
    goSlot: take(s.slots),
    totals: take(16),
    groups: s.groups.map((g) => ({
      pat: take(4 * n),
      ptr: take(4 * (g.nPatterns + 1)),
      slot: take(4 * g.nCells),
      sums: take(g.nPatterns * (s.stride === 2 ? 16 : 32)),
      side: take(g.nPatterns),
    })),
    hists: 0,
    // a whole number of 16-byte pairs (the subtraction works a pair at a time)
    histBytes: Math.ceil((s.histDoubles * 8) / 16) * 16,
    end: 0,
  };
  r.hists = take(0);
  r.end = r.hists + s.nHist * r.histBytes;
  return r;
}

type Hist = (hist: number, start: number, end: number, ...groupArgs: number[]) => void;

/**
 * The generated kernels and their memory for one fit. Pointers passed to the kernels are
 * byte offsets in the memory (a view's byteOffset).
 */
export class GrowKernels {
  readonly rows: Uint32Array;
  readonly gh: Float32Array | Float64Array;
  readonly pred: Float64Array;
  /** Boosting's targets, for `squaredGradients` (the caller copies them in). */
  readonly y: Float64Array;
  readonly cells: Uint16Array | Int32Array;
  /** The CSR cells (width 0). */
  readonly rowPtr: Uint32Array;
  readonly slot: Int32Array;
  readonly goSlot: Uint8Array;
  readonly totals: Float64Array;
  readonly groups: GroupViews[];
  /** Histograms in the module's memory (the grower's pool takes them first). */
  readonly hists: Float64Array[];
  private readonly r: Regions;
  private readonly buffer: ArrayBuffer;
  /** hist[k]: the histogram kernel with k pattern groups' sums fused. */
  private readonly hist: Hist[];
  private readonly direct: (hist: number, start: number, end: number, pat: number, ptr: number, slot: number) => void;
  private readonly spread: (hist: number, sums: number, nPatterns: number, ptr: number, slot: number) => void;
  private readonly partWide: (start: number, end: number, q: number) => number;
  private readonly partPattern: (start: number, end: number, pat: number, side: number) => number;
  private readonly leavesWide: (start: number, end: number, q: number, vL: number, vR: number) => number;
  private readonly leavesPattern: (
    start: number,
    end: number,
    pat: number,
    side: number,
    vL: number,
    vR: number,
  ) => number;
  private readonly segment: (start: number, end: number, v: number) => void;
  private readonly sub: (a: number, b: number, bytes: number) => void;
  private readonly grad: (n: number) => number;
  private readonly iota: (n: number) => void;

  constructor(readonly shape: KernelShape) {
    const r = (this.r = regions(shape));
    const memory = newMemory(r.end);
    const ex = instantiate(wasmModule(kernelFunctions(shape, r)), memory) as Record<string, never>;
    const buf = (this.buffer = memory.buffer);
    const n = shape.nRows;
    this.rows = new Uint32Array(buf, r.rows, n);
    this.gh = shape.gh32 ? new Float32Array(buf, r.gh, 2 * n) : new Float64Array(buf, r.gh, 2 * n);
    this.pred = new Float64Array(buf, r.pred, n);
    this.y = new Float64Array(buf, r.y, n);
    const nc = n * shape.width;
    this.cells = shape.cells16 ? new Uint16Array(buf, r.cells, nc) : new Int32Array(buf, r.cells, nc);
    this.rowPtr = new Uint32Array(buf, r.rowPtr, shape.width ? 0 : n + 1);
    this.slot = new Int32Array(buf, r.slot, shape.width ? 0 : shape.csrCells);
    this.goSlot = new Uint8Array(buf, r.goSlot, shape.slots);
    this.totals = new Float64Array(buf, r.totals, 2);
    this.groups = shape.groups.map((g, j) => {
      const o = r.groups[j];
      return {
        pat: new Int32Array(buf, o.pat, n),
        ptr: new Uint32Array(buf, o.ptr, g.nPatterns + 1),
        slot: new Int32Array(buf, o.slot, g.nCells),
        sums: new Float64Array(buf, o.sums, g.nPatterns * (shape.stride === 2 ? 2 : 4)),
        side: new Uint8Array(buf, o.side, g.nPatterns),
      };
    });
    this.hists = Array.from(
      { length: shape.nHist },
      (_, k) => new Float64Array(buf, r.hists + k * r.histBytes, shape.histDoubles),
    );
    this.hist = shape.groups.map((_, k) => ex[`h${k}`]).concat([ex[`h${shape.groups.length}`]]);
    this.direct = ex.direct;
    this.spread = ex.spread;
    // (absent for CSR cells: no column to split by)
    this.partWide = ex.partWide;
    this.partPattern = ex.partPattern;
    this.leavesWide = ex.leavesWide;
    this.leavesPattern = ex.leavesPattern;
    this.segment = ex.segment;
    this.sub = ex.sub;
    this.grad = ex.grad;
    this.iota = ex.iota;
  }

  /** Whether `a` lives in this module's memory (kernels take only such arrays). */
  holds(a: ArrayBufferView): boolean {
    return a.buffer === this.buffer;
  }

  /**
   * The histogram of rows[start .. end) (zeroed here): the cell table's cells, the sums of
   * the groups in `fused` (zeroed here; in the same pass) and totals = [sum g, sum h].
   */
  histogram(hist: Float64Array, start: number, end: number, fused: readonly number[]): void {
    hist.fill(0);
    const args: number[] = [];
    for (const j of fused) {
      const g = this.groups[j];
      g.sums.fill(0);
      args.push(g.pat.byteOffset, g.sums.byteOffset);
    }
    this.hist[fused.length](hist.byteOffset, start, end, ...args);
  }

  /** Group j's cells of rows[start .. end), row by row. */
  groupCells(hist: Float64Array, j: number, start: number, end: number): void {
    const g = this.groups[j];
    this.direct(hist.byteOffset, start, end, g.pat.byteOffset, g.ptr.byteOffset, g.slot.byteOffset);
  }

  /** Group j's sums (from `histogram`) spread over its patterns' cells. */
  spreadSums(hist: Float64Array, j: number): void {
    const g = this.groups[j];
    this.spread(hist.byteOffset, g.sums.byteOffset, g.side.length, g.ptr.byteOffset, g.slot.byteOffset);
  }

  /** Stable partition of rows[start .. end) by goSlot[the row's cell in column q]; returns where the right part begins. */
  partitionWide(start: number, end: number, q: number): number {
    return this.partWide(start, end, q);
  }

  /** The same by group j's side table. */
  partitionPattern(start: number, end: number, j: number): number {
    const g = this.groups[j];
    return this.partPattern(start, end, g.pat.byteOffset, g.side.byteOffset);
  }

  /** pred[row] += vL (left) or vR for rows[start .. end) by column q; returns how many went left. */
  addLeavesWide(start: number, end: number, q: number, vL: number, vR: number): number {
    return this.leavesWide(start, end, q, vL, vR);
  }

  addLeavesPattern(start: number, end: number, j: number, vL: number, vR: number): number {
    const g = this.groups[j];
    return this.leavesPattern(start, end, g.pat.byteOffset, g.side.byteOffset, vL, vR);
  }

  addSegment(start: number, end: number, v: number): void {
    this.segment(start, end, v);
  }

  /**
   * Squared error's gradients of the first n rows: gh = [pred - y, 1] per row, and the sum
   * of (pred - y)^2 in row order: the numbers of loss.ts's squaredGradientsRmse loop, bit
   * for bit, without its float32 stores and bounds checks in JavaScript.
   */
  squaredGradients(n: number): number {
    return this.grad(n);
  }

  /** rows[i] = i for i < n (every row, in order: a new tree's row set without sampling). */
  identityRows(n: number): void {
    this.iota(n);
  }

  /** a -= b (two histograms of this memory). */
  subtract(a: Float64Array, b: Float64Array): void {
    this.sub(a.byteOffset, b.byteOffset, this.r.histBytes);
  }
}

/** The module's functions for a shape. */
function kernelFunctions(s: KernelShape, r: Regions): WasmFunction[] {
  const S = s.stride;
  const W = s.width;
  const cellBytes = s.cells16 ? 2 : 4;
  const sumsBytes = S === 2 ? 16 : 32;

  /** rows + index * 4 into local p. */
  const rowPtr = (f: Fn, index: number, p: number) => f.i32(r.rows).get(index).i32(2).op(I32_SHL, I32_ADD).set(p);
  /** v = the (g, h) of the row in local `row`, as f64x2. */
  const loadGh = (f: Fn, row: number, v: number) => {
    f.get(row)
      .i32(s.gh32 ? 3 : 4)
      .op(I32_SHL);
    if (s.gh32) f.simd(V128_LOAD64_ZERO, 3, r.gh).simd(F64X2_PROMOTE_LOW);
    else f.simd(V128_LOAD, 3, r.gh);
    f.set(v);
  };
  /** [x] += v (f64x2); stride 3 also [x + 16] += count (a local f64, or 1). */
  const addCell = (f: Fn, x: number, v: number, count?: number) => {
    f.get(x).get(x).simd(V128_LOAD, 3).get(v).simd(F64X2_ADD).simd(V128_STORE, 3);
    if (S === 3) {
      f.get(x).get(x).mem(F64_LOAD, 3, 16);
      if (count === undefined) f.f64(1);
      else f.get(count);
      f.op(F64_ADD).mem(F64_STORE, 3, 16);
    }
  };
  /** x = hist + (the slot on the stack) * 8S */
  const cellAddress = (f: Fn, hist: number, x: number) => {
    if (S === 2) f.i32(4).op(I32_SHL);
    else f.i32(24).op(I32_MUL);
    f.get(hist).op(I32_ADD).set(x);
  };
  /** Push the cell of the row in local `row` at column q (a constant, or a local when qLocal). */
  const cellOf = (f: Fn, row: number, q: number, qLocal: boolean) => {
    f.get(row)
      .i32(W * cellBytes)
      .op(I32_MUL);
    if (qLocal) f.get(q).i32(cellBytes).op(I32_MUL, I32_ADD);
    f.mem(s.cells16 ? I32_LOAD16_U : I32_LOAD, s.cells16 ? 1 : 2, r.cells + (qLocal ? 0 : q * cellBytes));
  };

  /**
   * A loop over rows[start .. end) (start and end: parameters 0 and 1 unless given), the
   * row index in a local for `body`; `kp` (the first row's address until `run`) is the
   * row pointer. Code emitted between the call and `run()` comes before the loop.
   */
  const eachRow = (f: Fn, body: (row: number) => void, start = 0, end = 1) => {
    const kp = f.local(I32);
    const ke = f.local(I32);
    const row = f.local(I32);
    rowPtr(f, start, kp);
    rowPtr(f, end, ke);
    return {
      kp,
      run: () =>
        f.loop(kp, ke, () => {
          f.get(kp).mem(I32_LOAD, 2).set(row);
          body(row);
          f.get(kp).i32(4).op(I32_ADD).set(kp);
        }),
    };
  };

  /** e = slot + ptr[p] * 4, e1 = slot + ptr[p + 1] * 4, where local pp = ptr + p * 4. */
  const cellRange = (f: Fn, pp: number, slot: number, e: number, e1: number) => {
    f.get(pp).mem(I32_LOAD, 2).i32(2).op(I32_SHL).get(slot).op(I32_ADD).set(e);
    f.get(pp).mem(I32_LOAD, 2, 4).i32(2).op(I32_SHL).get(slot).op(I32_ADD).set(e1);
  };
  /** for each cell e .. e1: [hist + slot * 8S] += v (and count) */
  const addCells = (f: Fn, hist: number, e: number, e1: number, x: number, v: number, count?: number) =>
    f.loop(e, e1, () => {
      f.get(e).mem(I32_LOAD, 2);
      cellAddress(f, hist, x);
      addCell(f, x, v, count);
      f.get(e).i32(4).op(I32_ADD).set(e);
    });

  const fns: WasmFunction[] = [];

  // h{k}(hist, start, end, pat_1, sums_1, ..., pat_k, sums_k): the cell table's cells of the
  // rows, the first k groups' pattern sums in the same pass, totals [G, H]
  for (let k = 0; k <= s.groups.length; k++) {
    const f = new Fn(`h${k}`, [I32, I32, I32, ...Array<number>(2 * k).fill(I32)]);
    const hist = 0;
    const [x, e, e1] = [f.local(I32), f.local(I32), f.local(I32)];
    const v = f.local(V128);
    const tot = f.local(V128);
    f.zero128().set(tot);
    eachRow(
      f,
      (row) => {
        loadGh(f, row, v);
        f.get(tot).get(v).simd(F64X2_ADD).set(tot);
        for (let j = 0; j < k; j++) {
          f.get(row)
            .i32(2)
            .op(I32_SHL)
            .get(3 + 2 * j)
            .op(I32_ADD)
            .mem(I32_LOAD, 2);
          f.i32(S === 2 ? 4 : 5)
            .op(I32_SHL)
            .get(4 + 2 * j)
            .op(I32_ADD)
            .set(x);
          addCell(f, x, v);
        }
        for (let q = 0; q < W; q++) {
          cellOf(f, row, q, false);
          cellAddress(f, hist, x);
          addCell(f, x, v);
        }
        if (W === 0) {
          // the row's CSR cells: slot + rowPtr[row] * 4 .. slot + rowPtr[row + 1] * 4
          f.get(row).i32(2).op(I32_SHL).op(TEE, e).mem(I32_LOAD, 2, r.rowPtr).i32(2).op(I32_SHL);
          f.i32(r.slot)
            .op(I32_ADD)
            .get(e)
            .mem(I32_LOAD, 2, r.rowPtr + 4)
            .i32(2)
            .op(I32_SHL);
          f.i32(r.slot).op(I32_ADD).set(e1).set(e);
          addCells(f, hist, e, e1, x, v);
        }
      },
      1,
      2,
    ).run();
    f.i32(r.totals).get(tot).simd(V128_STORE, 3);
    fns.push(f.done());
  }

  // direct(hist, start, end, pat, ptr, slot): each row adds its pattern's cells
  {
    const f = new Fn('direct', [I32, I32, I32, I32, I32, I32]);
    const [hist, pat, ptr, slot] = [0, 3, 4, 5];
    const [pp, e, e1, x] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
    const v = f.local(V128);
    eachRow(
      f,
      (row) => {
        loadGh(f, row, v);
        f.get(row).i32(2).op(I32_SHL).get(pat).op(I32_ADD).mem(I32_LOAD, 2);
        f.i32(2).op(I32_SHL).get(ptr).op(I32_ADD).set(pp);
        cellRange(f, pp, slot, e, e1);
        addCells(f, hist, e, e1, x, v);
      },
      1,
      2,
    ).run();
    fns.push(f.done());
  }

  // spread(hist, sums, nPatterns, ptr, slot): each pattern with rows adds its sums to its cells
  {
    const f = new Fn('spread', [I32, I32, I32, I32, I32]);
    const [hist, sums, nPatterns, ptr, slot] = [0, 1, 2, 3, 4];
    const [p, pe, pp, e, e1, x] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
    const v = f.local(V128);
    const c = f.local(F64T);
    f.get(sums).set(p);
    f.get(nPatterns).i32(sumsBytes).op(I32_MUL).get(sums).op(I32_ADD).set(pe);
    f.get(ptr).set(pp);
    f.loop(p, pe, () => {
      f.get(p).simd(V128_LOAD, 3).op(TEE, v);
      if (S === 2) f.simd(V128_ANY_TRUE);
      else f.op(DROP).get(p).mem(F64_LOAD, 3, 16).op(TEE, c).f64(0).op(F64_NE); // count != 0
      f.op(IF, VOID);
      cellRange(f, pp, slot, e, e1);
      addCells(f, hist, e, e1, x, v, S === 3 ? c : undefined);
      f.op(END);
      f.get(p).i32(sumsBytes).op(I32_ADD).set(p);
      f.get(pp).i32(4).op(I32_ADD).set(pp);
    });
    fns.push(f.done());
  }

  // the side of a row at a split (pushed as 0/1): by the cell of column q (parameter 2) in
  // the goSlot table, or by its pattern (parameters 2 and 3: pat, side) in a side table
  type Side = { params: number[]; push: (f: Fn, row: number) => void };
  const wide: Side = {
    params: [I32],
    push: (f, row) => {
      cellOf(f, row, 2, true);
      f.mem(I32_LOAD8_U, 0, r.goSlot);
    },
  };
  const pattern: Side = {
    params: [I32, I32],
    push: (f, row) => {
      f.get(row).i32(2).op(I32_SHL).get(2).op(I32_ADD).mem(I32_LOAD, 2).get(3).op(I32_ADD).mem(I32_LOAD8_U, 0);
    },
  };

  for (const [name, side] of W > 0
    ? ([
        ['Wide', wide],
        ['Pattern', pattern],
      ] as const)
    : ([['Pattern', pattern]] as const)) {
    // part(start, end, side args) -> where the right part begins: stable, branchless, rows
    // going left compacted in place, the others through the scratch and copied back
    {
      const f = new Fn(`part${name}`, [I32, I32, ...side.params], [I32]);
      const [lp, rp, left] = [f.local(I32), f.local(I32), f.local(I32)];
      const loop = eachRow(f, (row) => {
        side.push(f, row);
        f.i32(2).op(I32_SHL).set(left); // 4 when left
        f.get(lp).get(row).mem(I32_STORE, 2);
        f.get(rp).get(row).mem(I32_STORE, 2);
        f.get(lp).get(left).op(I32_ADD).set(lp);
        f.get(rp).i32(4).op(I32_ADD).get(left).op(I32_SUB).set(rp);
      });
      f.get(loop.kp).set(lp);
      f.i32(r.scratch).set(rp);
      loop.run();
      f.get(lp).i32(r.scratch).get(rp).i32(r.scratch).op(I32_SUB, MISC, MEMORY_COPY, 0, 0);
      f.get(lp).i32(r.rows).op(I32_SUB).i32(2).op(I32_SHR_U);
      fns.push(f.done());
    }
    // leaves(start, end, side args, vL, vR) -> rows gone left: pred[row] += left ? vL : vR
    {
      const np = 2 + side.params.length;
      const f = new Fn(`leaves${name}`, [I32, I32, ...side.params, F64T, F64T], [I32]);
      const [vL, vR] = [np, np + 1];
      const [left, nl, a] = [f.local(I32), f.local(I32), f.local(I32)];
      eachRow(f, (row) => {
        side.push(f, row);
        f.set(left);
        f.get(row).i32(3).op(I32_SHL).i32(r.pred).op(I32_ADD).set(a);
        f.get(a).get(a).mem(F64_LOAD, 3).get(vL).get(vR).get(left).op(SELECT, F64_ADD).mem(F64_STORE, 3);
        f.get(nl).get(left).op(I32_ADD).set(nl);
      }).run();
      f.get(nl);
      fns.push(f.done());
    }
  }

  // segment(start, end, v): pred[row] += v
  {
    const f = new Fn('segment', [I32, I32, F64T]);
    const a = f.local(I32);
    eachRow(f, (row) => {
      f.get(row).i32(3).op(I32_SHL).i32(r.pred).op(I32_ADD).set(a);
      f.get(a).get(a).mem(F64_LOAD, 3).get(2).op(F64_ADD).mem(F64_STORE, 3);
    }).run();
    fns.push(f.done());
  }

  // grad(n) -> sum of r^2: r = pred[i] - y[i]; gh[2i] = r, gh[2i + 1] = 1 (float32 or float64)
  {
    const f = new Fn('grad', [I32], [F64T]);
    const n = 0;
    const [i, p, y, g] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
    const [x, sum] = [f.local(F64T), f.local(F64T)];
    f.i32(r.pred).set(p).i32(r.y).set(y).i32(r.gh).set(g);
    f.loop(i, n, () => {
      f.get(p).mem(F64_LOAD, 3).get(y).mem(F64_LOAD, 3).op(F64_SUB).set(x);
      if (s.gh32) {
        f.get(g).get(x).op(F32_DEMOTE_F64).mem(F32_STORE, 2);
        f.get(g).op(F32_CONST, 0x00, 0x00, 0x80, 0x3f).mem(F32_STORE, 2, 4);
      } else {
        f.get(g).get(x).mem(F64_STORE, 3);
        f.get(g).f64(1).mem(F64_STORE, 3, 8);
      }
      f.get(sum).get(x).get(x).op(F64_MUL).op(F64_ADD).set(sum);
      f.get(i).i32(1).op(I32_ADD).set(i);
      f.get(p).i32(8).op(I32_ADD).set(p);
      f.get(y).i32(8).op(I32_ADD).set(y);
      f.get(g)
        .i32(s.gh32 ? 8 : 16)
        .op(I32_ADD)
        .set(g);
    });
    f.get(sum);
    fns.push(f.done());
  }

  // iota(n): rows[i] = i
  {
    const f = new Fn('iota', [I32]);
    const n = 0;
    const i = f.local(I32);
    f.loop(i, n, () => {
      f.get(i).i32(2).op(I32_SHL).get(i).mem(I32_STORE, 2, r.rows);
      f.get(i).i32(1).op(I32_ADD).set(i);
    });
    fns.push(f.done());
  }

  // sub(a, b, bytes): a -= b, a pair of doubles at a time
  {
    const f = new Fn('sub', [I32, I32, I32]);
    const [a, b, bytes] = [0, 1, 2];
    const e = f.local(I32);
    f.get(a).get(bytes).op(I32_ADD).set(e);
    f.loop(a, e, () => {
      f.get(a).get(a).simd(V128_LOAD, 3).get(b).simd(V128_LOAD, 3).simd(F64X2_SUB).simd(V128_STORE, 3);
      f.get(a).i32(16).op(I32_ADD).set(a);
      f.get(b).i32(16).op(I32_ADD).set(b);
    });
    fns.push(f.done());
  }
  return fns;
}
