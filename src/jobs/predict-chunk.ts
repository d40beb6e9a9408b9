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
import { ListingValidator, type BadCell, type TableOrigin } from '../data/validate.js';

export interface Prediction {
  /** Absent for a file row that could not be priced (see `error`). */
  predicted_price?: number;
  /** Source row number when predicting a file. */
  row?: number;
  /** Why a file row has no price. */
  error?: string;
}

export type PredictFormat = 'csv' | 'jsonl';

/** What one chunk gave: its output text and counts, and its first few failed rows. */
export interface ChunkResult {
  text: string;
  rows: number;
  priced: number;
  failed: number;
  /** `row N: why` for the first failed rows of the chunk (at most EXAMPLES). */
  examples: string[];
}

/** Failed rows quoted in the report. */
export const EXAMPLES = 5;

export const round2 = (p: number) => Math.round(p * 100) / 100;

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

  score(
    rows: readonly (readonly Cell[])[],
    rowNumbers: readonly number[],
    onRow?: (p: Prediction) => void,
  ): ChunkResult {
    const checked = this.validator.check(rows, rowNumbers);
    const cellsOf = new Map<number, BadCell[]>();
    for (const b of checked.bad) cellsOf.set(b.row, [...(cellsOf.get(b.row) ?? []), b]);
    const { numeric, categorical } = this.scorer.layout;
    const prices = this.scorer.score(
      checked.n,
      numeric.map((c) => checked.numeric[c]),
      categorical.map((c) => checked.categorical[c]),
      checked.rowBad,
    );
    const r: ChunkResult = { text: '', rows: checked.n, priced: 0, failed: 0, examples: [] };
    const csv = this.format === 'csv' && !onRow;
    let text = '';
    for (let i = 0; i < checked.n; i++) {
      const row = rowNumbers[i];
      if (csv && !checked.rowBad[i]) {
        // the common case, without a Prediction object
        const price = prices[i];
        if (priceProblem(price) === undefined) {
          r.priced++;
          if (this.withText) text += `${row},${round2(price)},\n`;
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
      if (this.withText) text += formatRow(p, this.format);
    }
    r.text = text;
    return r;
  }
}
