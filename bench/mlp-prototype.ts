/**
 * A prototype for bench/member-screen, not an algorithm of carprice: it did not lower the
 * blend's 5-fold CV MAPE beyond noise (README, "Other model families"). To rerun that CV
 * with bench/quality-grid, add it as algorithm `mlp` (family 'linear') to
 * src/ml/algorithm-catalog.ts, src/ml/algorithms.ts and src/ml/format/registry.ts, and pass
 * 'label|model_trainer.params.blend.members=ridge,gbdt,mlp|model_trainer.params.mlp.hidden=16|...'.
 *
 * Multi-layer perceptron regressor (kind 'mlp'): one or two ReLU hidden layers, squared
 * error on the standardised target, Adam on mini-batches, early stopping on a seeded
 * held-out share of the training rows (the weights of the best epoch are kept), and
 * `n_models` such networks (each its own seed and held-out rows) averaged.
 *
 * Inputs are centred on a base value per column (the more frequent value of a column with
 * at most two values, else the mean) and divided by a scale (the gap between the two
 * values, else the standard deviation), so a one-hot or word-indicator column is 0 for most
 * rows and 1 otherwise: the first layer's weights of such a column act as the category's
 * embedding, and each row touches only its non-zero inputs (a few dozen of the linear
 * family's ~1,000 columns), in the forward pass, the backward pass and the (lazy) Adam
 * update of the first layer. Seeded (random_state): the same data and seed give the same
 * network bit for bit.
 */
import { AppError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { resolveParams, type ParamSpec, type ResolvedParams } from '../src/core/schema.js';
import type { FitOptions, Regressor, SavedEstimator } from '../src/ml/estimator.js';
import type { Matrix } from '../src/ml/matrix.js';
import { checkColumns, checkFiniteMatrix, checkFitInput } from '../src/ml/linear/fit-input.js';
import { checkAborted, checkSavedColumns } from '../src/ml/tree/fit-checks.js';

/** Hyper-parameters of the MLP. */
export interface MlpParams {
  /** Units of the first hidden layer. Default 32. */
  hidden?: number;
  /** Units of a second hidden layer; 0 = none. Default 0. */
  hidden2?: number;
  /** Adam step size. Default 0.003. */
  learning_rate?: number;
  /** Rows per mini-batch. Default 128. */
  batch_size?: number;
  /** Most passes over the rows. Default 200. */
  max_epochs?: number;
  /** Stop after this many epochs without a better held-out loss. Default 12. */
  patience?: number;
  /** Share of the rows held out for early stopping. Default 0.1. */
  validation_fraction?: number;
  /** L2 penalty on the weights (not the biases), added to the gradient. Default 0.0001. */
  l2?: number;
  /** Networks averaged (each its own seed and held-out rows). Default 3. */
  n_models?: number;
  /** Also a linear term from the inputs straight to the output (wide and deep). Default true. */
  skip?: boolean;
  /**
   * 'all': every column; 'plain': without the linear family's step (`~ge=`) and
   * interaction (`*`) columns, which the hidden layer can learn itself. Default 'all'.
   */
  inputs?: 'all' | 'plain';
  /** Seed (alias seed). Default 42. */
  random_state?: number;
}

const SPECS: Record<string, ParamSpec> = {
  hidden: { type: 'int', default: 32, min: 1, max: 4096 },
  hidden2: { type: 'int', default: 0, min: 0, max: 4096 },
  learning_rate: { type: 'number', default: 0.003, min: 0, exclusiveMin: true, max: 1 },
  batch_size: { type: 'int', default: 128, min: 1, max: 1000000 },
  max_epochs: { type: 'int', default: 200, min: 1, max: 100000 },
  patience: { type: 'int', default: 12, min: 1, max: 100000 },
  validation_fraction: { type: 'number', default: 0.1, min: 0, exclusiveMin: true, max: 0.5 },
  l2: { type: 'number', default: 0.0001, min: 0, max: 100 },
  n_models: { type: 'int', default: 3, min: 1, max: 100 },
  skip: { type: 'bool', default: true },
  inputs: { type: 'enum', default: 'all', values: ['all', 'plain'] },
  loss: { type: 'enum', default: 'squared', values: ['squared', 'relative'] },
  random_state: { type: 'int', default: 42, min: 0, max: 2147483647 },
};

/** One network's weights. w1 is column-major by input (w1[j * h1 + u]), w2 row-major by output unit. */
interface Net {
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: Float64Array;
  w3: Float64Array;
  b3: number;
  /** The linear term's weight per input (all zero without `skip`). */
  wl: Float64Array;
}

interface Fitted {
  columnNames: string[];
  base: Float64Array;
  scale: Float64Array;
  yMean: number;
  yStd: number;
  nets: Net[];
  /** Epochs each network trained (best epoch + patience, or max_epochs). Saved. */
  epochs: number[];
}

/** Rows as the non-zero centred, scaled inputs (CSR). */
interface SparseRows {
  ptr: Uint32Array;
  col: Uint32Array;
  val: Float64Array;
}

const ADAM_B1 = 0.9;
const ADAM_B2 = 0.999;
const ADAM_EPS = 1e-8;

/** Multi-layer perceptron regressor (kind 'mlp'). */
export class MlpRegressor implements Regressor {
  readonly kind = 'mlp';
  private readonly p: ResolvedParams;
  private fitted: Fitted | null = null;

  /** Throws AppError('USAGE') for unknown params or bad values. */
  constructor(params: MlpParams | Record<string, unknown> = {}) {
    this.p = resolveParams('MlpRegressor', SPECS, params as Record<string, unknown>, { seed: 'random_state' });
  }

  params(): Record<string, number | string | boolean> {
    return { ...this.p };
  }

  get fitInfo(): Record<string, number | string | boolean> | undefined {
    if (!this.fitted) return undefined;
    return { epochs: this.fitted.epochs.join(',') };
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    checkFitInput('mlp', X, y, options.sampleWeight);
    const n = X.nRows;
    if (n < 10) throw new AppError('MODEL_INVALID', `mlp fit: ${n} rows; an MLP needs at least 10 training rows`);
    const p = this.p;
    const { base, scale } = columnCentres(X, usedColumns(X.columnNames, p.inputs as string));
    const rows = sparseRows(X, base, scale);
    let yMean = 0;
    for (let i = 0; i < n; i++) yMean += y[i];
    yMean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (y[i] - yMean) ** 2;
    const yStd = Math.sqrt(v / n) || 1;
    const t = Float64Array.from(y, (yi) => (yi - yMean) / yStd);
    const sw = options.sampleWeight;
    let wMean = 1;
    if (sw) {
      wMean = 0;
      for (let i = 0; i < n; i++) wMean += sw[i];
      wMean /= n;
    }
    const weight = sw ? Float64Array.from(sw, (w) => w / wMean) : null;
    const nets: Net[] = [];
    const epochs: number[] = [];
    const seedRng = new Rng(p.random_state as number);
    for (let m = 0; m < (p.n_models as number); m++) {
      const r = trainNet(rows, X.nCols, t, yStd, weight, p, seedRng.fork(), options.signal);
      nets.push(r.net);
      epochs.push(r.epochs);
    }
    this.fitted = { columnNames: [...X.columnNames], base, scale, yMean, yStd, nets, epochs };
    return this;
  }

  predict(X: Matrix): Float64Array {
    const f = this.fitted;
    if (!f) throw new AppError('MODEL_INVALID', 'MlpRegressor.predict called before fit; fit or load the model first');
    checkColumns('mlp', f.columnNames, X);
    checkFiniteMatrix('mlp', X, 'predict');
    const rows = sparseRows(X, f.base, f.scale);
    const out = new Float64Array(X.nRows);
    const scratch = new Scratch(f.nets[0]);
    for (const net of f.nets) {
      for (let i = 0; i < X.nRows; i++) out[i] += forward(net, rows, i, scratch);
    }
    const k = f.nets.length;
    for (let i = 0; i < out.length; i++) out[i] = f.yMean + (f.yStd * out[i]) / k;
    return out;
  }

  toJSON(): SavedEstimator {
    const f = this.fitted;
    if (!f) throw new AppError('MODEL_INVALID', 'MlpRegressor.toJSON called before fit; nothing to save');
    return {
      kind: 'mlp',
      formatVersion: 1,
      params: this.params(),
      columnNames: f.columnNames,
      base: Array.from(f.base),
      scale: Array.from(f.scale),
      yMean: f.yMean,
      yStd: f.yStd,
      epochs: f.epochs,
      nets: f.nets.map((net) => ({
        w1: Array.from(net.w1),
        b1: Array.from(net.b1),
        w2: Array.from(net.w2),
        b2: Array.from(net.b2),
        w3: Array.from(net.w3),
        b3: net.b3,
        wl: Array.from(net.wl),
      })),
    };
  }

  /** Rebuild from `toJSON()` output; a damaged file is a MODEL_INVALID error naming the field. */
  static fromJSON(s: SavedEstimator): MlpRegressor {
    const columnNames = checkSavedColumns('mlp', s.columnNames);
    const m = new MlpRegressor((s.params as Record<string, unknown> | undefined) ?? {});
    const p = columnNames.length;
    const h1 = m.p.hidden as number;
    const h2 = m.p.hidden2 as number;
    const last = h2 > 0 ? h2 : h1;
    const arr = (v: unknown, len: number, field: string): Float64Array => {
      if (!Array.isArray(v) || v.length !== len || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
        throw new AppError(
          'MODEL_INVALID',
          `saved "mlp" model: ${field} must be ${len} finite numbers; retrain or restore the model file`,
        );
      return Float64Array.from(v as number[]);
    };
    const num = (v: unknown, field: string): number => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new AppError('MODEL_INVALID', `saved "mlp" model: ${field} must be a finite number; retrain the model`);
      return v;
    };
    if (!Array.isArray(s.nets) || s.nets.length === 0)
      throw new AppError('MODEL_INVALID', 'saved "mlp" model has no nets; retrain or restore the model file');
    const nets = (s.nets as Record<string, unknown>[]).map((n, k) => ({
      w1: arr(n.w1, p * h1, `nets[${k}].w1`),
      b1: arr(n.b1, h1, `nets[${k}].b1`),
      w2: arr(n.w2, h2 * h1, `nets[${k}].w2`),
      b2: arr(n.b2, h2, `nets[${k}].b2`),
      w3: arr(n.w3, last, `nets[${k}].w3`),
      b3: num(n.b3, `nets[${k}].b3`),
      wl: arr(n.wl, p, `nets[${k}].wl`),
    }));
    m.fitted = {
      columnNames,
      base: arr(s.base, p, 'base'),
      scale: arr(s.scale, p, 'scale'),
      yMean: num(s.yMean, 'yMean'),
      yStd: num(s.yStd, 'yStd'),
      nets,
      epochs: Array.isArray(s.epochs) ? (s.epochs as number[]) : [],
    };
    return m;
  }
}

/** Columns the network reads (by `inputs`). */
function usedColumns(names: readonly string[], inputs: string): boolean[] {
  return names.map((c) => inputs === 'all' || !(c.includes('~ge=') || c.includes('*')));
}

/**
 * Per column: the base value inputs are centred on and the scale they are divided by; an
 * unused column gets scale 0 (sparseRows skips it).
 */
function columnCentres(X: Matrix, used: readonly boolean[]): { base: Float64Array; scale: Float64Array } {
  const { data, nRows: n, nCols: p } = X;
  const base = new Float64Array(p);
  const scale = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    if (!used[j]) continue;
    const a = data[j];
    let b = a;
    let nA = 0;
    let nB = 0;
    let two = true;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = data[i * p + j];
      sum += x;
      if (x === a) nA++;
      else if (nB === 0 || x === b) {
        b = x;
        nB++;
      } else two = false;
    }
    if (two) {
      base[j] = nB > nA ? b : a;
      scale[j] = nB === 0 ? 1 : Math.abs(b - a);
    } else {
      const mean = sum / n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (data[i * p + j] - mean) ** 2;
      base[j] = mean;
      scale[j] = Math.sqrt(v / n) || 1;
    }
  }
  return { base, scale };
}

function sparseRows(X: Matrix, base: Float64Array, scale: Float64Array): SparseRows {
  const { data, nRows: n, nCols: p } = X;
  const ptr = new Uint32Array(n + 1);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const o = i * p;
    for (let j = 0; j < p; j++) if (scale[j] !== 0 && data[o + j] !== base[j]) nnz++;
    ptr[i + 1] = nnz;
  }
  const col = new Uint32Array(nnz);
  const val = new Float64Array(nnz);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const o = i * p;
    for (let j = 0; j < p; j++) {
      const x = data[o + j];
      if (scale[j] !== 0 && x !== base[j]) {
        col[k] = j;
        val[k++] = (x - base[j]) / scale[j];
      }
    }
  }
  return { ptr, col, val };
}

/** Activations of one row (reused). */
class Scratch {
  readonly a1: Float64Array;
  readonly a2: Float64Array;
  readonly g1: Float64Array;
  readonly g2: Float64Array;
  constructor(net: Net) {
    this.a1 = new Float64Array(net.b1.length);
    this.a2 = new Float64Array(net.b2.length);
    this.g1 = new Float64Array(net.b1.length);
    this.g2 = new Float64Array(net.b2.length);
  }
}

/** The network's output for row i (standardised target); leaves the ReLU outputs in scratch. */
function forward(net: Net, rows: SparseRows, i: number, s: Scratch): number {
  const h1 = net.b1.length;
  const h2 = net.b2.length;
  const { a1, a2 } = s;
  a1.set(net.b1);
  const w1 = net.w1;
  const wl = net.wl;
  let out = net.b3;
  for (let k = rows.ptr[i]; k < rows.ptr[i + 1]; k++) {
    const j = rows.col[k];
    const o = j * h1;
    const x = rows.val[k];
    out += wl[j] * x;
    for (let u = 0; u < h1; u++) a1[u] += w1[o + u] * x;
  }
  for (let u = 0; u < h1; u++) if (a1[u] < 0) a1[u] = 0;
  if (h2 > 0) {
    const w2 = net.w2;
    for (let v = 0; v < h2; v++) {
      let acc = net.b2[v];
      const o = v * h1;
      for (let u = 0; u < h1; u++) acc += w2[o + u] * a1[u];
      a2[v] = acc > 0 ? acc : 0;
      out += net.w3[v] * a2[v];
    }
  } else for (let u = 0; u < h1; u++) out += net.w3[u] * a1[u];
  return out;
}

function newNet(p: number, h1: number, h2: number, rng: Rng): Net {
  const he = (fanIn: number, len: number) => {
    const sd = Math.sqrt(2 / fanIn);
    return Float64Array.from({ length: len }, () => sd * rng.normal());
  };
  // the first layer's fan-in is the number of non-zero inputs of a row, not p: scaled for ~30
  return {
    w1: he(30, p * h1),
    b1: new Float64Array(h1),
    w2: he(h1, h2 * h1),
    b2: new Float64Array(h2),
    w3: he(h2 > 0 ? h2 : h1, h2 > 0 ? h2 : h1).map((x) => x / 2),
    b3: 0,
    wl: new Float64Array(p),
  };
}

/** Adam state of one parameter array. */
interface Moments {
  m: Float64Array;
  v: Float64Array;
}
const moments = (len: number): Moments => ({ m: new Float64Array(len), v: new Float64Array(len) });

function trainNet(
  rows: SparseRows,
  p: number,
  t: Float64Array,
  yStd: number,
  weight: Float64Array | null,
  params: ResolvedParams,
  rng: Rng,
  signal: AbortSignal | undefined,
): { net: Net; epochs: number } {
  const n = t.length;
  const h1 = params.hidden as number;
  const h2 = params.hidden2 as number;
  const lr = params.learning_rate as number;
  const bs = params.batch_size as number;
  const l2 = params.l2 as number;
  // 'relative': |exp(d) - 1| with d the log-price error (the absolute percentage error of
  // the price when the target is log1p(price), near enough for prices of thousands)
  const relative = params.loss === 'relative';
  const lossGrad = (out: number, ti: number) => {
    if (!relative) return out - ti;
    const e = Math.exp(yStd * (out - ti));
    return e >= 1 ? yStd * e : -yStd * e;
  };
  const lossOf = (out: number, ti: number) => (relative ? Math.abs(Math.exp(yStd * (out - ti)) - 1) : (out - ti) ** 2);
  const perm = rng.permutation(n);
  const nVal = Math.max(1, Math.floor(n * (params.validation_fraction as number)));
  const val = perm.slice(0, nVal);
  const fit = perm.slice(nVal);
  const net = newNet(p, h1, h2, rng);
  let best: Net = cloneNet(net);
  let bestLoss = Infinity;
  let bestEpoch = 0;
  const last = h2 > 0 ? h2 : h1;
  const mw1 = moments(p * h1);
  const skip = params.skip as boolean;
  const mwl = moments(p);
  const gwl = new Float64Array(p);
  const mb1 = moments(h1);
  const mw2 = moments(h2 * h1);
  const mb2 = moments(h2);
  const mw3 = moments(last);
  const mb3 = moments(1);
  const gw1 = new Float64Array(p * h1);
  const touched = new Uint8Array(p);
  const touchedList = new Uint32Array(p);
  const gb1 = new Float64Array(h1);
  const gw2 = new Float64Array(h2 * h1);
  const gb2 = new Float64Array(h2);
  const gw3 = new Float64Array(last);
  const s = new Scratch(net);
  // Adam's step counter per first-layer input column (lazy updates: only columns a batch touches)
  const colStep = new Uint32Array(p);
  let step = 0;
  const maxEpochs = params.max_epochs as number;
  const patience = params.patience as number;
  let epoch = 0;
  for (; epoch < maxEpochs; epoch++) {
    checkAborted('mlp', signal);
    rng.shuffle(fit);
    for (let start = 0; start < fit.length; start += bs) {
      const end = Math.min(fit.length, start + bs);
      const scale = 1 / (end - start);
      gb1.fill(0);
      gw2.fill(0);
      gb2.fill(0);
      gw3.fill(0);
      let gb3 = 0;
      let nTouched = 0;
      for (let b = start; b < end; b++) {
        const i = fit[b];
        const out = forward(net, rows, i, s);
        const g = (weight ? weight[i] : 1) * lossGrad(out, t[i]) * scale;
        gb3 += g;
        const { a1, a2, g1, g2 } = s;
        if (h2 > 0) {
          for (let v = 0; v < h2; v++) {
            gw3[v] += g * a2[v];
            g2[v] = a2[v] > 0 ? g * net.w3[v] : 0;
          }
          g1.fill(0);
          for (let v = 0; v < h2; v++) {
            const gv = g2[v];
            if (gv === 0) continue;
            gb2[v] += gv;
            const o = v * h1;
            for (let u = 0; u < h1; u++) {
              gw2[o + u] += gv * a1[u];
              g1[u] += gv * net.w2[o + u];
            }
          }
          for (let u = 0; u < h1; u++) if (a1[u] <= 0) g1[u] = 0;
        } else
          for (let u = 0; u < h1; u++) {
            gw3[u] += g * a1[u];
            g1[u] = a1[u] > 0 ? g * net.w3[u] : 0;
          }
        for (let u = 0; u < h1; u++) gb1[u] += g1[u];
        for (let k = rows.ptr[i]; k < rows.ptr[i + 1]; k++) {
          const j = rows.col[k];
          const x = rows.val[k];
          const o = j * h1;
          if (!touched[j]) {
            touched[j] = 1;
            touchedList[nTouched++] = j;
            gw1.fill(0, o, o + h1);
            gwl[j] = 0;
          }
          gwl[j] += g * x;
          for (let u = 0; u < h1; u++) gw1[o + u] += g1[u] * x;
        }
      }
      step++;
      // lazy Adam on the first layer: the columns this batch touched, each with its own step count
      for (let q = 0; q < nTouched; q++) {
        const j = touchedList[q];
        touched[j] = 0;
        const c = ++colStep[j];
        const o = j * h1;
        adam(net.w1, gw1, mw1, o, o + h1, lr, c, l2);
        if (skip) adam(net.wl, gwl, mwl, j, j + 1, lr, c, l2);
      }
      adam(net.b1, gb1, mb1, 0, h1, lr, step, 0);
      if (h2 > 0) {
        adam(net.w2, gw2, mw2, 0, h2 * h1, lr, step, l2);
        adam(net.b2, gb2, mb2, 0, h2, lr, step, 0);
      }
      adam(net.w3, gw3, mw3, 0, last, lr, step, l2);
      const b3 = Float64Array.of(net.b3);
      adam(b3, Float64Array.of(gb3), mb3, 0, 1, lr, step, 0);
      net.b3 = b3[0];
    }
    let loss = 0;
    let wsum = 0;
    for (let q = 0; q < val.length; q++) {
      const i = val[q];
      const w = weight ? weight[i] : 1;
      loss += w * lossOf(forward(net, rows, i, s), t[i]);
      wsum += w;
    }
    loss /= wsum;
    if (loss < bestLoss) {
      bestLoss = loss;
      bestEpoch = epoch;
      best = cloneNet(net);
    } else if (epoch - bestEpoch >= patience) {
      epoch++;
      break;
    }
  }
  return { net: best, epochs: epoch };
}

function adam(
  w: Float64Array,
  g: Float64Array,
  mo: Moments,
  from: number,
  to: number,
  lr: number,
  step: number,
  l2: number,
): void {
  const { m, v } = mo;
  const c1 = 1 / (1 - ADAM_B1 ** step);
  const c2 = 1 / (1 - ADAM_B2 ** step);
  for (let k = from; k < to; k++) {
    const gk = g[k] + l2 * w[k];
    m[k] = ADAM_B1 * m[k] + (1 - ADAM_B1) * gk;
    v[k] = ADAM_B2 * v[k] + (1 - ADAM_B2) * gk * gk;
    w[k] -= (lr * (m[k] * c1)) / (Math.sqrt(v[k] * c2) + ADAM_EPS);
  }
}

function cloneNet(n: Net): Net {
  return {
    w1: n.w1.slice(),
    b1: n.b1.slice(),
    w2: n.w2.slice(),
    b2: n.b2.slice(),
    w3: n.w3.slice(),
    b3: n.b3,
    wl: n.wl.slice(),
  };
}
