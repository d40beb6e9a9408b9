/**
 * The row sets and row weights of a bundle's fits, made once per source object and key so
 * that bundles sharing a prepared matrix (cross-validation candidates, comparisons) share
 * those fits too: the subset cache, object identities for fit keys, keys of row sets, and
 * the linear members' age weights.
 */
import type { PreparedFeatures } from './train-bundle.js';

/**
 * The rows of a matrix or vector that a blend's validation fit uses, made once per source
 * object and seed: bundles sharing a prepared matrix then share those fits too.
 */
const subsets = new WeakMap<object, Map<string, unknown>>();
export function subset<T extends object>(source: object, key: string, make: () => T): T {
  let m = subsets.get(source);
  if (!m) subsets.set(source, (m = new Map<string, unknown>()));
  let v = m.get(key) as T | undefined;
  if (!v) m.set(key, (v = make()));
  return v;
}

/** Identity of an object as a number (for keys of identical fits). */
const ids = new WeakMap<object, number>();
let nextId = 1;
export function idOf(o: object | undefined): number {
  if (!o) return 0;
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
}

/** A key naming a set of rows (its size and two 32-bit hashes), for the fit caches. */
export function rowsKey(rows: Uint32Array): string {
  let a = 0x811c9dc5;
  let b = 0;
  for (const r of rows) {
    a = Math.imul(a ^ r, 0x01000193) >>> 0;
    b = (Math.imul(b, 31) + r) >>> 0;
  }
  return `${rows.length}:${a.toString(16)}:${b.toString(16)}`;
}

/** Column of the car's age that bias correction 'mape_age' moves the output with. */
export const AGE_COLUMN = 'car_age';

/** The linear family's car_age column: index and standard-scaler mean and std (0 and 1 unscaled). */
export function linearAgeColumn(prep: PreparedFeatures): { column: number; mean: number; std: number } | null {
  const f = prep.families.linear;
  const column = f ? f.X.columnNames.indexOf(AGE_COLUMN) : -1;
  if (!f || column < 0) return null;
  const scaler = f.pipeline.toJSON().steps.find((st) => st.kind === 'standard-scaler');
  const stats = (scaler?.stats as Record<string, { mean: number; std: number }> | undefined)?.[AGE_COLUMN];
  return { column, mean: stats?.mean ?? 0, std: stats?.std ?? 1 };
}

/**
 * Row weights of linear members with `age_weight` k > 0: 1 / (1 + k * car_age)^2 scaled to
 * mean 1, times the price weights (weighted least squares: an old car's price spreads
 * more, so it says less about the coefficients). The price weights alone when k is 0 or
 * the linear features have no car_age. Made once per matrix, weights and k, so bundles
 * sharing a prepared matrix share these fits too.
 */
export function linearRowWeights(prep: PreparedFeatures, k: number): Float64Array | undefined {
  const f = prep.families.linear;
  const c = linearAgeColumn(prep);
  if (!(k > 0) || !f || !c) return prep.weights;
  return subset(f.X, `age-weight:${k}:${idOf(prep.weights)}`, () => {
    const { data, nRows, nCols } = f.X;
    const w = new Float64Array(nRows);
    let sum = 0;
    for (let i = 0; i < nRows; i++) {
      const age = Math.max(0, c.mean + c.std * data[i * nCols + c.column]);
      w[i] = 1 / (1 + k * age) ** 2;
      sum += w[i];
    }
    for (let i = 0; i < nRows; i++) w[i] *= (nRows / sum) * (prep.weights ? prep.weights[i] : 1);
    return w;
  });
}
