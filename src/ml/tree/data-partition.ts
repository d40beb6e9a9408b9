/**
 * Row partitioning for the tree grower (LightGBM's data_partition): the rows of a node are
 * a contiguous segment of one row array, and a split moves them in place (stable, so row
 * order stays ascending and memory reads stay sequential). Also the per-row prediction
 * updates boosting applies while growing. Each function's body is one hot loop on
 * purpose: V8 then optimises it early and never re-enters stale OSR code.
 */

/**
 * pred[row] += vL or vR for rows[start .. end) by the split's bin table (go[bin] = 1: left);
 * returns how many rows went left (the left leaf's cover).
 */
export function addSplitLeaves(
  pred: Float64Array,
  rows: Uint32Array,
  start: number,
  end: number,
  col: Uint8Array,
  base: number,
  go: Uint8Array,
  vL: number,
  vR: number,
): number {
  let left = 0;
  for (let k = start; k < end; k++) {
    const row = rows[k];
    const l = go[col[base + row]];
    pred[row] += l === 1 ? vL : vR;
    left += l;
  }
  return left;
}

export function addSegment(pred: Float64Array, rows: Uint32Array, start: number, end: number, v: number): void {
  for (let q = start; q < end; q++) pred[rows[q]] += v;
}

/**
 * Stable partition of rows[start .. end): rows whose bin goes left are compacted in place
 * from `start` (returned: where the right part begins), the others are written to
 * scratch[0 ..) for the caller to copy back. Branchless, as the side is data-dependent and
 * unpredictable: write both and advance one. The loop is the whole function on purpose:
 * V8 (Node 20) compiles a hot loop on stack replacement before the code after it has type
 * feedback, and the cached OSR code then deoptimised on every call (17,000 deopts and 40%
 * of a 300-tree fit when the copy-back loop followed here).
 */
export function partitionRows(
  rows: Uint32Array,
  scratch: Uint32Array,
  col: Uint8Array,
  base: number,
  go: Uint8Array,
  start: number,
  end: number,
): number {
  let l = start;
  let r = 0;
  for (let k = start; k < end; k++) {
    const row = rows[k];
    const left = go[col[base + row]];
    rows[l] = row;
    scratch[r] = row;
    l += left;
    r += 1 - left;
  }
  return l;
}

/**
 * addSplitLeaves on a sparse 0/1 feature: rows listed in `ones` (ascending, as the node's
 * rows are) take vOne, the others vZero; returns how many went left. `q` = the first entry
 * of `ones` not below rows[start] (the merge starts there).
 */
export function addSplitLeavesSparse(
  pred: Float64Array,
  rows: Uint32Array,
  start: number,
  end: number,
  ones: Uint32Array,
  q: number,
  leftOne: number,
  leftZero: number,
  vOne: number,
  vZero: number,
): number {
  let left = 0;
  const nOnes = ones.length;
  for (let k = start; k < end; k++) {
    const row = rows[k];
    while (q < nOnes && ones[q] < row) q++;
    const isOne = q < nOnes && ones[q] === row;
    pred[row] += isOne ? vOne : vZero;
    left += isOne ? leftOne : leftZero;
  }
  return left;
}

/**
 * partitionRows on a sparse 0/1 feature (rows listed in `ones` go left when leftOne is 1,
 * the others when leftZero is 1), merging the node's ascending rows with `ones` from q.
 */
export function partitionRowsSparse(
  rows: Uint32Array,
  scratch: Uint32Array,
  ones: Uint32Array,
  q: number,
  leftOne: number,
  leftZero: number,
  start: number,
  end: number,
): number {
  let l = start;
  let r = 0;
  const nOnes = ones.length;
  for (let k = start; k < end; k++) {
    const row = rows[k];
    while (q < nOnes && ones[q] < row) q++;
    const left = q < nOnes && ones[q] === row ? leftOne : leftZero;
    rows[l] = row;
    scratch[r] = row;
    l += left;
    r += 1 - left;
  }
  return l;
}
