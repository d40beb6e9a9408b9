/**
 * Scoring one chunk of a listings file for `carprice predict --data`: the rows are checked
 * (ListingValidator), the valid ones priced by the bundle's BatchScorer, and every row gets
 * one output line, in order: its price, or an error naming what is wrong with it. The same
 * code runs on the calling thread and in the prediction workers (predict-worker.ts), so
 * the output is the same byte for byte whatever the number of threads.
 */
import type { ModelBundle } from '../bundle/model-bundle.js';
import { BatchScorer } from '../bundle/batch-scorer.js';
import { priceProblem, type PlausibleRanges } from '../data/plausible-ranges.js';
import type { ListingSchema } from '../data/listing-schema.js';
import type { Cell } from '../data/table.js';
import { ListingValidator, type BadCell, type CheckedRows, type TableOrigin } from '../data/validate.js';
import type { CsvColumnChunk } from '../data/csv-columns.js';

export interface Prediction {
  /** Absent for a file row that could not be priced (see `error`). */
  predicted_price?: number;
  /** Source row number when predicting a file. */
  row?: number;
  /** Why a file row has no price. */
  error?: string;
}

export type PredictFormat = 'csv' | 'jsonl';

/** What one chunk gave: its output (UTF-8) and counts, and its first few failed rows. */
export interface ChunkResult {
  bytes: Uint8Array;
  rows: number;
  priced: number;
  failed: number;
  /** `row N: why` for the first failed rows of the chunk (at most EXAMPLES). */
  examples: string[];
}

/** Failed rows quoted in the report. */
export const EXAMPLES = 5;

export const round2 = (p: number) => Math.round(p * 100) / 100;

const EMPTY = new Uint8Array(0);

/**
 * Output bytes of a chunk. `price(p)` writes exactly `String(round2(p))` for a positive
 * price: the cents c = Math.round(100 p) as digits with the decimal point put in and
 * trailing zeros dropped (below 2^45 cents, the shortest decimal that reads back as c / 100
 * is that one, which is what String gives); larger prices go through String.
 */
export class ByteOutput {
  private buf = Buffer.allocUnsafe(1 << 16);
  private len = 0;

  reset(expected: number): void {
    this.len = 0;
    if (this.buf.length < expected) this.buf = Buffer.allocUnsafe(expected);
  }

  private room(k: number): void {
    if (this.len + k <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + k));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.len++] = c;
  }

  /** A short ASCII string. */
  ascii(s: string): void {
    this.room(s.length);
    for (let k = 0; k < s.length; k++) this.buf[this.len++] = s.charCodeAt(k);
  }

  /** Any text, as UTF-8. */
  text(s: string): void {
    this.room(Buffer.byteLength(s));
    this.len += this.buf.write(s, this.len);
  }

  /** A non-negative integer below 2^53. */
  uint(x: number): void {
    this.room(16);
    if (x < 10) {
      this.buf[this.len++] = 0x30 + x;
      return;
    }
    let digits = 1;
    for (let t = x; t >= 10; t = Math.floor(t / 10)) digits++;
    const end = this.len + digits;
    let at = end;
    for (let t = x; at > this.len; t = Math.floor(t / 10)) this.buf[--at] = 0x30 + (t % 10);
    this.len = end;
  }

  /** `String(round2(p))` for a finite p > 0. */
  price(p: number): void {
    const c = Math.round(p * 100);
    if (!(c < 2 ** 45)) {
      this.ascii(String(c / 100));
      return;
    }
    const whole = Math.floor(c / 100);
    const cents = c - whole * 100;
    this.uint(whole);
    if (cents === 0) return;
    this.room(3);
    this.buf[this.len++] = 0x2e;
    this.buf[this.len++] = 0x30 + Math.floor(cents / 10);
    if (cents % 10 !== 0) this.buf[this.len++] = 0x30 + (cents % 10);
  }

  /** The bytes written since reset, as a copy the caller (or another thread) owns. */
  take(): Uint8Array {
    const b = new Uint8Array(this.len);
    b.set(this.buf.subarray(0, this.len));
    return b;
  }
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatRow(p: Prediction, format: PredictFormat): string {
  if (format === 'jsonl') return JSON.stringify(p) + '\n';
  return `${p.row},${p.predicted_price ?? ''},${p.error ? csvField(p.error) : ''}\n`;
}

/** Describe a row's bad cells: `odometer: "abc" (not a number); year: "2100" (outside ...)`. */
function describeCells(cells: readonly BadCell[]): string {
  return cells.map((b) => `${b.column}: ${JSON.stringify(b.value)} (${b.reason})`).join('; ');
}

export class ChunkScorer {
  readonly validator: ListingValidator;
  private readonly scorer: BatchScorer;
  private readonly out = new ByteOutput();

  constructor(
    bundle: ModelBundle,
    columns: readonly string[],
    schema: ListingSchema,
    origin: TableOrigin,
    ranges: PlausibleRanges,
    private readonly format: PredictFormat,
    /** Whether to build the output text (false when only onRow wants the rows). */
    private readonly withText = true,
  ) {
    this.validator = new ListingValidator(columns, schema, origin, { requireTarget: false, ranges });
    this.scorer = new BatchScorer(bundle);
  }

  /** Check and price rows given as cells (xlsx, remote files). */
  score(
    rows: readonly (readonly Cell[])[],
    rowNumbers: readonly number[],
    onRow?: (p: Prediction) => void,
  ): ChunkResult {
    return this.scoreChecked(this.validator.check(rows, rowNumbers), rowNumbers, onRow);
  }

  /** Check and price a columnar CSV chunk (no per-row objects). */
  scoreColumns(chunk: CsvColumnChunk, onRow?: (p: Prediction) => void): ChunkResult {
    return this.scoreChecked(this.validator.checkColumns(chunk), chunk.rowNumbers, onRow);
  }

  private scoreChecked(
    checked: CheckedRows,
    rowNumbers: ArrayLike<number>,
    onRow?: (p: Prediction) => void,
  ): ChunkResult {
    const cellsOf = new Map<number, BadCell[]>();
    for (const b of checked.bad) cellsOf.set(b.row, [...(cellsOf.get(b.row) ?? []), b]);
    const { numeric, categorical } = this.scorer.layout;
    const prices = this.scorer.score(
      checked.n,
      numeric.map((c) => checked.numeric[c]),
      categorical.map((c) => checked.categorical[c]),
      checked.rowBad,
    );
    const r: ChunkResult = { bytes: EMPTY, rows: checked.n, priced: 0, failed: 0, examples: [] };
    const fast = !onRow;
    const jsonl = this.format === 'jsonl';
    const out = this.out;
    out.reset(checked.n * 24);
    for (let i = 0; i < checked.n; i++) {
      const row = rowNumbers[i];
      if (fast && !checked.rowBad[i]) {
        // the common case, written as bytes without a Prediction object
        const price = prices[i];
        if (price > 0 && price < Infinity) {
          r.priced++;
          if (this.withText) {
            if (jsonl) {
              out.ascii('{"row":');
              out.uint(row);
              out.ascii(',"predicted_price":');
              out.price(price);
              out.ascii('}\n');
            } else {
              out.uint(row);
              out.byte(0x2c);
              out.price(price);
              out.ascii(',\n');
            }
          }
          continue;
        }
      }
      let p: Prediction;
      if (checked.rowBad[i]) p = { row, error: describeCells(cellsOf.get(row) ?? []) };
      else {
        const price = prices[i];
        const why = priceProblem(price);
        p = why ? { row, error: why } : { row, predicted_price: round2(price) };
      }
      if (p.error) {
        r.failed++;
        if (r.examples.length < EXAMPLES) r.examples.push(`row ${row}: ${p.error}`);
      } else r.priced++;
      onRow?.(p);
      if (this.withText) out.text(formatRow(p, this.format));
    }
    if (this.withText) r.bytes = out.take();
    return r;
  }
}
