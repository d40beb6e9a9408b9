/**
 * A fitted feature pipeline compiled for one row at a time: no frames, no per-row column
 * tables. Every column the pipeline ever names gets a numeric or categorical slot, every
 * saved step becomes a closure reading and writing slots, and the output is a sparse row:
 * the ascending positions of the non-zero features (`indices[0..n)`) over a dense buffer `x`
 * that is zero everywhere else (NaN, a missing value for trees, counts as non-zero).
 *
 * Each step repeats its batch `transform` arithmetic exactly (same operations, same order),
 * so the features, and the model outputs computed from them, are bit for bit the batch
 * path's (tested on every test listing of the real dataset). Indicator steps (one-hot,
 * word tokens) only touch the slots of the values present: of the ~1,000 columns of the
 * linear pipeline a listing sets about 40.
 *
 * Worked example (linear family, one listing `make: "Honda", year: "2018", odometer: 40000`):
 * derived car_age = 2025 - 2018 = 7 -> imputers (nothing missing) -> one-hot hits the slot of
 * `make=Honda` (1) -> scaler rewrites car_age, odometer, ... in place -> output: the scaled
 * numeric positions plus the position of `make=Honda`, sorted.
 */
import { AppError } from '../core/errors.js';
import type { FeaturePipeline } from './feature-pipeline.js';
import type { SavedTransformer } from './transformer.js';
import { tokenize } from './token-features.js';
import type { InteractionPair } from './interactions.js';
import { stepColumn } from './step-features.js';

/** Per-row work of one step; `unknown` collects columns holding a category unseen at fit time. */
type RowStep = (unknown: string[] | null) => void;

/** The input fields in the order the caller fills them. */
export interface RowInputLayout {
  numeric: readonly string[];
  categorical: readonly string[];
}

/** Distinct values remembered per memo (token hits, make|model pairs); beyond, the memo starts over. */
const MEMO_MAX = 100_000;

/** One-hot and token columns are 0/1 and are not standardised (the pipeline's own rule). */
function isIndicator(name: string): boolean {
  return name.includes('=') && !name.includes('*');
}

export class RowPipeline {
  /** Output column names, in matrix order. */
  readonly columns: readonly string[];
  /** The dense feature row: after `run`, zero except at `indices[0..n)`. */
  readonly x: Float64Array;
  /** Ascending positions of the non-zero features of the last row. */
  readonly indices: Int32Array;
  /** Number of valid entries in `indices`. */
  n = 0;

  private readonly numSlot = new Map<string, number>();
  private readonly catSlot = new Map<string, number>();
  private ns: Float64Array = new Float64Array(0);
  private readonly cs: (string | null)[] = [];
  private readonly steps: RowStep[] = [];
  /** Indicator slots set to 1 by the last row (reset when the row is gathered). */
  private hitSlots = new Int32Array(16);
  private nHits = 0;
  /** Output positions filled from a slot on every row, ascending, and their slots. */
  private denseOut = new Int32Array(0);
  private denseSlot = new Int32Array(0);
  /** Slot -> output position (-1: not an output), for indicator hits. */
  private slotOut = new Int32Array(0);
  private readonly hitOut: number[] = [];
  private readonly nInputNum: number;
  private readonly nInputCat: number;

  private constructor(pipeline: FeaturePipeline, input: RowInputLayout) {
    const saved = pipeline.toJSON();
    this.columns = saved.outputColumns;
    this.x = new Float64Array(this.columns.length);
    this.indices = new Int32Array(this.columns.length);
    for (const c of input.numeric) this.num(c);
    for (const c of input.categorical) this.cat(c);
    this.nInputNum = input.numeric.length;
    this.nInputCat = input.categorical.length;
    const indicatorSlots = new Set<number>();
    for (const s of saved.steps) this.steps.push(this.compileStep(s, indicatorSlots));
    const ns = new Float64Array(this.numSlot.size).fill(NaN);
    for (const s of indicatorSlots) ns[s] = 0;
    this.ns = ns;
    this.slotOut = new Int32Array(this.numSlot.size).fill(-1);
    const dense: number[] = [];
    const denseSlot: number[] = [];
    this.columns.forEach((name, j) => {
      const s = this.numSlot.get(name);
      if (s === undefined)
        throw new AppError(
          'MODEL_INVALID',
          `feature ${name} is not computed by any step of the saved pipeline; the model is damaged, retrain it`,
        );
      if (indicatorSlots.has(s)) this.slotOut[s] = j;
      else {
        dense.push(j);
        denseSlot.push(s);
      }
    });
    this.denseOut = Int32Array.from(dense);
    this.denseSlot = Int32Array.from(denseSlot);
  }

  /** Compile a fitted pipeline for rows whose inputs come in `input` order. */
  static compile(pipeline: FeaturePipeline, input: RowInputLayout): RowPipeline {
    return new RowPipeline(pipeline, input);
  }

  /**
   * Compute the features of one row: `num` and `cat` hold the input fields in layout order
   * (NaN / null = missing). Fills `x`, `indices` and `n`; names of columns with unseen
   * categories are pushed to `unknown` when given.
   */
  run(num: ArrayLike<number>, cat: readonly (string | null)[], unknown: string[] | null = null): void {
    const { x, indices, ns, cs } = this;
    for (let k = 0; k < this.n; k++) x[indices[k]] = 0;
    for (let k = 0; k < this.nInputNum; k++) ns[k] = num[k];
    for (let k = 0; k < this.nInputCat; k++) cs[k] = cat[k];
    this.nHits = 0;
    for (let k = 0; k < this.steps.length; k++) this.steps[k](unknown);
    // indicator hits: output positions, then reset their slots for the next row
    const hits = this.hitOut;
    hits.length = 0;
    for (let k = 0; k < this.nHits; k++) {
      const s = this.hitSlots[k];
      ns[s] = 0;
      const j = this.slotOut[s];
      if (j >= 0) {
        // insertion keeps the few hits sorted
        let p = hits.length;
        hits.push(j);
        while (p > 0 && hits[p - 1] > j) {
          hits[p] = hits[p - 1];
          p--;
        }
        hits[p] = j;
      }
    }
    // merge the always-computed positions with the hits, keeping non-zero values only
    const { denseOut, denseSlot } = this;
    let n = 0;
    let h = 0;
    for (let k = 0; k < denseOut.length; k++) {
      const j = denseOut[k];
      while (h < hits.length && hits[h] < j) {
        x[hits[h]] = 1;
        indices[n++] = hits[h++];
      }
      const v = ns[denseSlot[k]];
      if (v !== 0) {
        x[j] = v;
        indices[n++] = j;
      }
    }
    while (h < hits.length) {
      x[hits[h]] = 1;
      indices[n++] = hits[h++];
    }
    this.n = n;
  }

  private num(name: string): number {
    let s = this.numSlot.get(name);
    if (s === undefined) this.numSlot.set(name, (s = this.numSlot.size));
    return s;
  }

  private cat(name: string): number {
    let s = this.catSlot.get(name);
    if (s === undefined) {
      this.catSlot.set(name, (s = this.catSlot.size));
      this.cs.push(null);
    }
    return s;
  }

  /** A categorical slot that must already exist (the batch step would fail without it). */
  private catIn(name: string, kind: string): number {
    const s = this.catSlot.get(name);
    if (s === undefined)
      throw new AppError(
        'MODEL_INVALID',
        `saved ${kind} step reads categorical column ${name}, which no input or earlier step provides; retrain the model`,
      );
    return s;
  }

  private hit(slot: number): void {
    if (this.ns[slot] === 1) return;
    this.ns[slot] = 1;
    if (this.nHits === this.hitSlots.length) {
      const grown = new Int32Array(this.hitSlots.length * 2);
      grown.set(this.hitSlots);
      this.hitSlots = grown;
    }
    this.hitSlots[this.nHits++] = slot;
  }

  private compileStep(s: SavedTransformer, indicatorSlots: Set<number>): RowStep {
    switch (s.kind) {
      case 'derived-features':
        return this.derived(s.active as string[], s.referenceYear as number);
      case 'numeric-imputer': {
        const cols = s.columns as string[];
        const fill = s.fill as Record<string, number>;
        const slots = Int32Array.from(cols, (c) => this.num(c));
        const values = Float64Array.from(cols, (c) => fill[c]);
        return () => {
          const ns = this.ns;
          for (let k = 0; k < slots.length; k++) if (Number.isNaN(ns[slots[k]])) ns[slots[k]] = values[k];
        };
      }
      case 'categorical-imputer': {
        const cols = s.columns as string[];
        const fill = s.fill as Record<string, string>;
        const slots = cols.map((c) => this.cat(c));
        const values = cols.map((c) => fill[c]);
        return () => {
          const cs = this.cs;
          for (let k = 0; k < slots.length; k++) if (cs[slots[k]] === null) cs[slots[k]] = values[k];
        };
      }
      case 'token-features': {
        const cols = s.columns as string[];
        const vocab = s.vocab as Record<string, string[]>;
        const per = cols.map((c) => {
          const slots = vocab[c].map((t) => this.num(`${c}~tok=${t}`));
          for (const sl of slots) indicatorSlots.add(sl);
          return {
            src: this.catIn(c, s.kind),
            index: new Map(vocab[c].map((t, k) => [t, slots[k]])),
            // value -> the slots of its known tokens, in token order (a value is tokenized once)
            memo: new Map<string, Int32Array>(),
          };
        });
        return () => {
          for (const p of per) {
            const v = this.cs[p.src];
            if (v === null) continue;
            let hits = p.memo.get(v);
            if (hits === undefined) {
              const found: number[] = [];
              for (const t of tokenize(v)) {
                const sl = p.index.get(t);
                if (sl !== undefined) found.push(sl);
              }
              hits = Int32Array.from(found);
              if (p.memo.size >= MEMO_MAX) p.memo.clear();
              p.memo.set(v, hits);
            }
            for (let k = 0; k < hits.length; k++) this.hit(hits[k]);
          }
        };
      }
      case 'interactions': {
        const pairs = s.pairs as InteractionPair[];
        const levels = s.levels as string[][];
        const per = pairs.map((p, k) => {
          const src = this.num(p.numeric);
          const cat = this.catIn(p.categorical, s.kind);
          return {
            src,
            cat,
            levels: levels[k],
            slots: Int32Array.from(levels[k], (l) => this.num(`${p.numeric}*${p.categorical}=${l}`)),
          };
        });
        return () => {
          const ns = this.ns;
          for (const p of per) {
            const v = this.cs[p.cat];
            const xv = ns[p.src];
            for (let k = 0; k < p.slots.length; k++) ns[p.slots[k]] = v === p.levels[k] ? xv : 0;
          }
        };
      }
      case 'step-features': {
        const cols = s.columns as string[];
        const thresholds = s.thresholds as number[][];
        const per = cols.map((c, k) => ({
          src: this.num(c),
          thresholds: thresholds[k],
          slots: Int32Array.from(thresholds[k], (t) => this.num(stepColumn(c, t))),
        }));
        return () => {
          const ns = this.ns;
          for (const p of per) {
            const xv = ns[p.src];
            for (let k = 0; k < p.slots.length; k++) ns[p.slots[k]] = xv >= p.thresholds[k] ? 1 : 0;
          }
        };
      }
      case 'target-encoder': {
        const cols = s.columns as string[];
        const enc = s.encodings as Record<
          string,
          { global: number; values: Record<string, number>; parentValues?: Record<string, number> }
        >;
        const parents = (s.parents as Record<string, string> | undefined) ?? {};
        const per = cols.map((c) => {
          const parent = Object.hasOwn(parents, c) ? parents[c] : undefined;
          return {
            name: c,
            src: this.catIn(c, s.kind),
            // hierarchical (target-encoder.ts): values keyed `${parent}|${value}`
            parent: parent === undefined ? -1 : this.catIn(parent, s.kind),
            parentValues: new Map(Object.entries(enc[c].parentValues ?? {})),
            out: this.num(`${c}~te`),
            global: enc[c].global,
            values: new Map(Object.entries(enc[c].values)),
          };
        });
        return (unknown) => {
          for (const p of per) {
            const v = this.cs[p.src];
            if (p.parent < 0) {
              const e = v === null ? undefined : p.values.get(v);
              if (e === undefined && v !== null && unknown) unknown.push(p.name);
              this.ns[p.out] = e ?? p.global;
              continue;
            }
            const pv = this.cs[p.parent];
            const e = v === null || pv === null ? undefined : p.values.get(`${pv}|${v}`);
            if (e === undefined && v !== null && unknown) unknown.push(p.name);
            this.ns[p.out] = e ?? (pv === null ? undefined : p.parentValues.get(pv)) ?? p.global;
          }
        };
      }
      case 'one-hot-encoder': {
        const cols = s.columns as string[];
        const cats = s.categories as Record<string, string[]>;
        const first = s.dropFirst ? 1 : 0;
        const per = cols.map((c) => {
          const slots = cats[c].map((v, k) => (k < first ? -1 : this.num(`${c}=${v}`)));
          for (const sl of slots) if (sl >= 0) indicatorSlots.add(sl);
          return { name: c, src: this.catIn(c, s.kind), index: new Map(cats[c].map((v, k) => [v, slots[k]])) };
        });
        return (unknown) => {
          for (const p of per) {
            const v = this.cs[p.src];
            if (v === null) continue;
            const sl = p.index.get(v);
            if (sl === undefined) {
              if (unknown) unknown.push(p.name);
            } else if (sl >= 0) this.hit(sl);
          }
        };
      }
      case 'ordinal-encoder': {
        const cols = s.columns as string[];
        const cats = s.categories as Record<string, string[]>;
        const per = cols.map((c) => ({
          name: c,
          src: this.catIn(c, s.kind),
          out: this.num(`${c}#code`),
          index: new Map(cats[c].map((v, k) => [v, k])),
        }));
        return (unknown) => {
          for (const p of per) {
            const v = this.cs[p.src];
            const k = v === null ? undefined : p.index.get(v);
            if (k === undefined && v !== null && unknown) unknown.push(p.name);
            this.ns[p.out] = k === undefined ? NaN : k;
          }
        };
      }
      case 'standard-scaler': {
        const cols = s.columns as string[];
        const stats = s.stats as Record<string, { mean: number; std: number }>;
        if (cols.some(isIndicator))
          throw new AppError(
            'MODEL_INVALID',
            'saved standard-scaler scales an indicator column; the model is damaged, retrain it',
          );
        const slots = Int32Array.from(cols, (c) => this.num(c));
        const mean = Float64Array.from(cols, (c) => stats[c].mean);
        const std = Float64Array.from(cols, (c) => stats[c].std);
        return () => {
          const ns = this.ns;
          for (let k = 0; k < slots.length; k++) ns[slots[k]] = (ns[slots[k]] - mean[k]) / std[k];
        };
      }
      default:
        throw new AppError(
          'FORMAT_UNKNOWN',
          `feature step "${s.kind}" has no one-row form; was the model saved by a newer carprice?`,
        );
    }
  }

  private derived(active: readonly string[], referenceYear: number): RowStep {
    const has = (n: string) => active.includes(n);
    const year = has('car_age') || has('km_per_year') ? this.catIn('year', 'derived-features') : -1;
    const odo = has('log_odometer') || has('km_per_year') ? this.num('odometer') : -1;
    const make = has('make_model') ? this.catIn('make', 'derived-features') : -1;
    const model = has('make_model') ? this.catIn('model', 'derived-features') : -1;
    const ops = active.map((name) => ({ name, slot: name === 'make_model' ? this.cat(name) : this.num(name) }));
    // make -> model -> `${make}|${model}`: one string per pair, so the lookups of later steps
    // hit a string whose hash is already computed
    const pairs = new Map<string, Map<string, string>>();
    let nPairs = 0;
    const pair = (m: string, md: string): string => {
      let inner = pairs.get(m);
      if (inner === undefined) pairs.set(m, (inner = new Map<string, string>()));
      let s = inner.get(md);
      if (s === undefined) {
        s = `${m}|${md}`;
        if (++nPairs > MEMO_MAX) {
          pairs.clear();
          nPairs = 0;
        } else inner.set(md, s);
      }
      return s;
    };
    return () => {
      const { ns, cs } = this;
      let age = NaN;
      if (year >= 0) {
        const yv = cs[year];
        const y = yv === null ? NaN : Number(yv);
        age = Number.isFinite(y) ? referenceYear - y : NaN;
      }
      for (const op of ops) {
        if (op.name === 'car_age') ns[op.slot] = age;
        else if (op.name === 'log_odometer') ns[op.slot] = Math.log1p(ns[odo]);
        else if (op.name === 'km_per_year') ns[op.slot] = ns[odo] / Math.max(1, age + 0.5);
        else {
          const m = cs[make];
          const md = cs[model];
          cs[op.slot] = m === null || md === null ? null : pair(m, md);
        }
      }
    };
  }
}
