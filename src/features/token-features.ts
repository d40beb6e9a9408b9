/**
 * Token features: bag-of-words indicators of the words inside free-text categorical
 * columns such as variant ("SHARP 2.0 DIESEL" -> SHARP, 2.0, DIESEL). A variant never
 * seen in training still shares tokens (engine size, fuel, trim words such as "AMG" or
 * "4MATIC") with seen ones, so the model can price it. Tokens seen in fewer than
 * `minCount` training rows are ignored; the vocabulary is sorted for a stable layout.
 * Source columns are kept (other encoders still use them).
 */
import type { Frame, NumericColumn } from '../data/frame.js';
import { sparseBinary } from '../ml/matrix.js';
import {
  categoricalColumn,
  checkSaved,
  FittedStep,
  IndicatorLookup,
  withColumns,
  type SavedTransformer,
} from './transformer.js';

/** Split a text value into upper-case tokens (letters/digits/dots kept together). */
export function tokenize(text: string): string[] {
  return [
    ...new Set(
      text
        .toUpperCase()
        .split(/[^A-Z0-9.+]+/)
        .filter((t) => t.length > 0 && t !== '.'),
    ),
  ];
}

/** State: each column's vocabulary, sorted. */
export class TokenFeatures extends FittedStep<Record<string, string[]>> {
  readonly kind = 'token-features';
  /** Per column: value -> position and the output column names. */
  private readonly lookup = new IndicatorLookup((c, v) => `${c}~tok=${v}`);

  constructor(
    readonly columns: readonly string[],
    readonly minCount = 5,
  ) {
    super();
  }

  protected learn(frame: Frame): Record<string, string[]> {
    this.lookup.clear();
    const vocab: Record<string, string[]> = {};
    for (const c of this.columns) {
      // words counted per distinct value, times its rows (millions of rows, a few thousand values)
      const rowsOf = new Map<string, number>();
      for (const x of categoricalColumn(frame, c)) if (x !== null) rowsOf.set(x, (rowsOf.get(x) ?? 0) + 1);
      const counts = new Map<string, number>();
      for (const [x, n] of rowsOf) for (const t of tokenize(x)) counts.set(t, (counts.get(t) ?? 0) + n);
      vocab[c] = [...counts]
        .filter(([, n]) => n >= this.minCount)
        .map(([t]) => t)
        .sort();
    }
    return vocab;
  }

  /**
   * The word columns, each a sparse 0/1 column (ml/matrix SparseBinaryColumn: the rows
   * holding the word). They travel in the pipeline's frame typed as numeric columns, as
   * the pipeline's later steps never read word columns; its `toMatrix` hands them to the
   * matrix as they are (trees bin them without expanding) or expands them (linear models).
   * Read one outside the pipeline with ml/matrix `denseValues`.
   */
  transform(frame: Frame): Frame {
    const vocab = this.state;
    const n = frame.nRows;
    const names: string[] = [];
    const columns: NumericColumn[] = [];
    for (const c of this.columns) {
      const words = vocab[c];
      const { index, names: colNames } = this.lookup.get(c, words);
      const col = categoricalColumn(frame, c);
      // the known words of each distinct value, tokenized once; per row its value's list
      const listOf = new Map<string, number>();
      const lists: number[][] = [];
      const rowList = new Int32Array(n);
      const counts = new Uint32Array(words.length);
      for (let i = 0; i < n; i++) {
        const x = col[i];
        if (x === null) {
          rowList[i] = -1;
          continue;
        }
        let id = listOf.get(x);
        if (id === undefined) {
          const ks: number[] = [];
          for (const t of tokenize(x)) {
            const k = index.get(t);
            if (k !== undefined) ks.push(k);
          }
          listOf.set(x, (id = lists.length));
          lists.push(ks);
        }
        rowList[i] = id;
        const ks = lists[id];
        for (let q = 0; q < ks.length; q++) counts[ks[q]]++;
      }
      const ones = words.map((_, k) => new Uint32Array(counts[k]));
      counts.fill(0);
      for (let i = 0; i < n; i++) {
        if (rowList[i] < 0) continue;
        const ks = lists[rowList[i]];
        for (let q = 0; q < ks.length; q++) ones[ks[q]][counts[ks[q]]++] = i;
      }
      for (let k = 0; k < colNames.length; k++) {
        names.push(colNames[k]);
        columns.push(sparseBinary(n, ones[k]) as unknown as NumericColumn);
      }
    }
    return withColumns(frame, { numericList: { names, columns } });
  }

  protected saved(vocab: Record<string, string[]>): Record<string, unknown> {
    return { columns: [...this.columns], minCount: this.minCount, vocab };
  }

  static fromJSON(s: SavedTransformer): TokenFeatures {
    checkSaved(s, 'token-features', [1]);
    return new TokenFeatures(s.columns as string[], s.minCount as number).restored(s.vocab as Record<string, string[]>);
  }
}
