/**
 * Row patterns for sparse histograms: the non-default cells a row has among a group of
 * few-bin features (its words, its equipment flags) taken together as one pattern, shared
 * by every row with the same cells. A listing's words are a function of its model and
 * variant, and equipment comes in a few common sets, so a file of a million listings has a
 * few thousand patterns where it has millions of such cells.
 *
 * A node's histogram then takes one of two paths per group, whichever touches fewer cells
 * (`byPattern`; the kernels are in wasm-kernels.ts):
 * - direct: each row adds its pattern's cells, as if they were its own: every histogram
 *   cell sums the same rows in the same order as without patterns;
 * - by pattern (large nodes): each row adds its gradient to its pattern's sums (one cell
 *   per row), then each pattern present spreads its sums over its cells. The sums are the
 *   same but added in another order, so they can differ from the direct path's in the
 *   last bits.
 * A group is kept only when its rows repeat its patterns enough (at most one pattern per
 * MIN_ROWS_PER_PATTERN rows).
 */

/** The row patterns of one group of features. */
export interface PatternGroup {
  /** Per row: its pattern. */
  readonly pat: Int32Array;
  readonly nPatterns: number;
  /** Pattern p's cells (histogram slots, offsets[f] + bin): slot[ptr[p] .. ptr[p + 1]). */
  readonly ptr: Uint32Array;
  readonly slot: Int32Array;
  /** Average cells per row (what the direct path adds per row). */
  readonly cellsPerRow: number;
}

/** A group pays only when its rows repeat its patterns: at least this many rows per pattern. */
const MIN_ROWS_PER_PATTERN = 8;

/**
 * The patterns of the rows' cells (CSR: row i's slots are slot[rowPtr[i] .. rowPtr[i + 1]),
 * in feature order), or null when there are too many (or no cells at all).
 */
export function patternGroup(cells: { rowPtr: Uint32Array; slot: Int32Array }, nRows: number): PatternGroup | null {
  const { rowPtr, slot } = cells;
  const maxPatterns = Math.floor(nRows / MIN_ROWS_PER_PATTERN);
  if (maxPatterns < 2 || rowPtr[nRows] === 0) return null;
  const pat = new Int32Array(nRows);
  const found = findPatterns(rowPtr, slot, nRows, pat, maxPatterns);
  if (!found) return null;
  const nPatterns = found.length;
  const ptr = new Uint32Array(nPatterns + 1);
  for (let p = 0; p < nPatterns; p++) ptr[p + 1] = ptr[p] + (rowPtr[found[p] + 1] - rowPtr[found[p]]);
  const pslot = new Int32Array(ptr[nPatterns]);
  for (let p = 0; p < nPatterns; p++) pslot.set(slot.subarray(rowPtr[found[p]], rowPtr[found[p] + 1]), ptr[p]);
  return {
    pat,
    nPatterns,
    ptr,
    slot: pslot,
    cellsPerRow: rowPtr[nRows] / nRows,
  };
}

/**
 * pat[i] = the pattern of row i, numbered in order of first appearance; returns the first
 * row of each pattern, or null past maxPatterns. Rows are told apart by their cells
 * exactly (the hash only finds candidates).
 */
function findPatterns(
  rowPtr: Uint32Array,
  slot: Int32Array,
  nRows: number,
  pat: Int32Array,
  maxPatterns: number,
): number[] | null {
  let table = new Int32Array(1 << 10).fill(-1);
  const first: number[] = [];
  const hashes: number[] = [];
  for (let i = 0; i < nRows; i++) {
    const s = rowPtr[i];
    const e = rowPtr[i + 1];
    let h = 0x811c9dc5 ^ (e - s);
    for (let k = s; k < e; k++) h = Math.imul(h ^ slot[k], 0x01000193);
    h ^= h >>> 15;
    let mask = table.length - 1;
    let at = h & mask;
    let id = -1;
    for (;;) {
      const q = table[at];
      if (q < 0) break;
      if (hashes[q] === h && sameCells(slot, rowPtr[first[q]], rowPtr[first[q] + 1], s, e)) {
        id = q;
        break;
      }
      at = (at + 1) & mask;
    }
    if (id < 0) {
      id = first.length;
      if (id >= maxPatterns) return null;
      first.push(i);
      hashes.push(h);
      table[at] = id;
      if (2 * first.length > table.length) {
        table = new Int32Array(table.length * 2).fill(-1);
        mask = table.length - 1;
        for (let q = 0; q < first.length; q++) {
          let a = hashes[q] & mask;
          while (table[a] >= 0) a = (a + 1) & mask;
          table[a] = q;
        }
      }
    }
    pat[i] = id;
  }
  return first;
}

function sameCells(slot: Int32Array, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let k = 0; a + k < aEnd; k++) if (slot[a + k] !== slot[b + k]) return false;
  return true;
}

/** Whether a node of `rows` rows builds this group's cells by pattern (fewer cells touched). */
export function byPattern(g: PatternGroup, rows: number): boolean {
  return rows * g.cellsPerRow > rows + g.nPatterns + g.slot.length;
}

/**
 * Where each pattern's rows go at a split on a feature of the group: out[p] = go[the bin the
 * feature has in pattern p] (its cell among slots lo .. hi, else its most frequent bin,
 * slot def). Partitioning then looks rows up by pattern instead of merging them with the
 * feature's row list.
 */
export function patternSides(
  g: PatternGroup,
  lo: number,
  hi: number,
  def: number,
  go: Uint8Array,
  out: Uint8Array,
): void {
  const { ptr, slot } = g;
  for (let p = 0; p < g.nPatterns; p++) {
    let b = def - lo;
    for (let e = ptr[p]; e < ptr[p + 1]; e++) if (slot[e] >= lo && slot[e] < hi) b = slot[e] - lo;
    out[p] = go[b];
  }
}
