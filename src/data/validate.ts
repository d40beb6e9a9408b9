/**
 * Validation of a raw listings table against the listing schema. Every bad cell is
 * reported with its row number, column and value; rows holding one are dropped, and the
 * report says how many and why. When too many rows are bad (more than
 * `maxInvalidFraction`), or a required column is missing, or nothing is left, validation
 * fails with a coded error instead of training on garbage.
 */
import { AppError } from '../core/errors.js';
import type { Frame } from './frame.js';
import type { ListingSchema } from './listing-schema.js';
import type { Cell, RawTable } from './table.js';
import { rangeProblem, type PlausibleRanges } from './plausible-ranges.js';

export interface BadCell {
  row: number;
  column: string;
  value: Cell;
  reason: string;
}

export interface ValidationReport {
  source: string;
  rowsRead: number;
  duplicatesDropped: number;
  invalidRowsDropped: number;
  rowsKept: number;
  badCells: BadCell[];
  /** Optional columns that the file does not have (skipped). */
  missingOptional: string[];
}

export interface ValidatedListings {
  frame: Frame;
  /** Target values (absent when the file has no target column and `requireTarget` is false). */
  y: Float64Array | undefined;
  /** Source row numbers of the kept rows. */
  rowNumbers: number[];
  report: ValidationReport;
  /** The schema actually used (optional columns the file lacks removed). */
  schema: ListingSchema;
}

export interface ValidateOptions {
  /** Fail when more than this share of rows is invalid (default 0.05). */
  maxInvalidFraction?: number;
  /** Drop exact duplicate rows (all columns; default true). */
  dropDuplicates?: boolean;
  /** Whether the target column must be present (false for prediction input). */
  requireTarget?: boolean;
  /** Plausible ranges (params.yaml `ranges`); a value outside is a bad cell. */
  ranges?: PlausibleRanges;
}

function closest(name: string, columns: string[]): string | undefined {
  const lower = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return columns.find((c) => c.toLowerCase().replace(/[^a-z0-9]/g, '') === lower);
}

function toNumber(v: Cell): number {
  if (v === null) return NaN;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = v.trim().replace(/,/g, '');
  return s === '' ? NaN : Number(s);
}

/** Where a table came from, for messages (the workbook's sheets when it has several). */
export interface TableOrigin {
  source: string;
  sheet?: string;
  sheets?: readonly string[];
}

/** A hint naming the other sheets of a workbook and the params key that picks one. */
export function otherSheetsHint(t: TableOrigin): string {
  const others = (t.sheets ?? []).filter((s) => s !== t.sheet);
  if (others.length === 0) return '';
  return `. The workbook's sheets are: ${(t.sheets ?? []).join(', ')}; if the listings are on another sheet, set data_source.sheet (e.g. --set data_source.sheet=${JSON.stringify(others[0])})`;
}

/** Rows checked cell by cell: values of every row, and which rows are bad and why. */
export interface CheckedRows {
  n: number;
  numeric: Record<string, Float64Array>;
  categorical: Record<string, (string | null)[]>;
  y: Float64Array | undefined;
  /** 1 for a row holding a bad cell. */
  rowBad: Uint8Array;
  /** Every bad cell, in row order. */
  bad: BadCell[];
}

/**
 * The cell rules of a listings table with a given header, applied to any batch of its rows:
 * used whole by `validateListings` and chunk by chunk by streaming prediction and
 * evaluation. Constructing it checks the header (required columns present).
 */
export class ListingValidator {
  /** The schema actually used (optional columns the file lacks removed). */
  readonly used: ListingSchema;
  readonly missingOptional: string[];
  private readonly colIndex = new Map<string, number>();
  private readonly requireTarget: boolean;
  private readonly ranges: PlausibleRanges;

  constructor(
    columns: readonly string[],
    readonly schema: ListingSchema,
    origin: TableOrigin,
    opts: Pick<ValidateOptions, 'requireTarget' | 'ranges'> = {},
  ) {
    this.requireTarget = opts.requireTarget ?? true;
    this.ranges = opts.ranges ?? {};
    columns.forEach((c, i) => {
      if (!this.colIndex.has(c)) this.colIndex.set(c, i);
    });
    const required = [...(this.requireTarget ? [schema.target] : []), ...schema.numeric, ...schema.categorical];
    const missing = required.filter((c) => !this.colIndex.has(c));
    if (missing.length) {
      const hints = missing.map((c) => {
        const near = closest(c, [...columns]);
        return near ? `${c} (the file has "${near}": rename it)` : c;
      });
      throw new AppError(
        'DATA_INVALID',
        `${origin.source}${origin.sheet ? ` sheet "${origin.sheet}"` : ''} is missing required column(s): ${hints.join(', ')}. Columns found: ${columns.join(', ') || '(none)'}${otherSheetsHint(origin)}`,
        { details: { missing } },
      );
    }
    const optionalPresent = schema.optionalNumeric.filter((c) => this.colIndex.has(c));
    this.missingOptional = schema.optionalNumeric.filter((c) => !this.colIndex.has(c));
    this.used = { ...schema, optionalNumeric: optionalPresent };
  }

  /** Check every cell of `rows` (source row numbers `rowNumbers`). */
  check(rows: readonly (readonly Cell[])[], rowNumbers: readonly number[]): CheckedRows {
    const { used, colIndex, ranges } = this;
    const numericCols = [...used.numeric, ...used.optionalNumeric];
    const n = rows.length;
    const bad: BadCell[] = [];
    const rowBad = new Uint8Array(n);
    const numeric: Record<string, Float64Array> = {};
    for (const c of numericCols) {
      const j = colIndex.get(c)!;
      const out = new Float64Array(n);
      const min = used.minimum[c] ?? -Infinity;
      for (let i = 0; i < n; i++) {
        const raw = rows[i][j];
        const x = toNumber(raw);
        let why: string | undefined;
        if (raw !== null && !Number.isFinite(x)) why = 'not a number';
        else if (x < min) why = `below ${min}`;
        else why = rangeProblem(c, x, ranges);
        if (why) {
          bad.push({ row: rowNumbers[i], column: c, value: raw, reason: why });
          rowBad[i] = 1;
        }
        out[i] = x;
      }
      numeric[c] = out;
    }
    let y: Float64Array | undefined;
    const ti = colIndex.get(used.target);
    if (ti !== undefined) {
      y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const raw = rows[i][ti];
        const x = toNumber(raw);
        let why: string | undefined;
        if (raw === null) why = this.requireTarget ? 'missing price' : undefined;
        else if (!Number.isFinite(x)) why = 'not a number';
        else if (x <= 0) why = 'price must be positive';
        else if (this.requireTarget) why = rangeProblem(used.target, x, ranges);
        if (why) {
          bad.push({ row: rowNumbers[i], column: used.target, value: raw, reason: why });
          rowBad[i] = 1;
        }
        y[i] = x;
      }
    }
    const categorical: Record<string, (string | null)[]> = {};
    for (const c of used.categorical) {
      const j = colIndex.get(c)!;
      // A missing category is not a reason to drop a row: the feature pipeline imputes it.
      const out = new Array<string | null>(n);
      const ranged = ranges[c] !== undefined;
      for (let i = 0; i < n; i++) {
        const raw = rows[i][j];
        const s = raw === null ? null : String(raw).trim();
        out[i] = s === '' ? null : s;
        if (ranged && out[i] !== null) {
          const x = Number(out[i]);
          const why = Number.isFinite(x) ? rangeProblem(c, x, ranges) : undefined;
          if (why) {
            bad.push({ row: rowNumbers[i], column: c, value: raw, reason: why });
            rowBad[i] = 1;
          }
        }
      }
      categorical[c] = out;
    }
    return { n, numeric, categorical, y, rowBad, bad };
  }
}

/** The frame (and target) of the rows of `c` at `keep`. */
export function keepRows(c: CheckedRows, keep: readonly number[]): { frame: Frame; y: Float64Array | undefined } {
  const numeric: Record<string, Float64Array> = {};
  for (const [k, col] of Object.entries(c.numeric)) numeric[k] = Float64Array.from(keep, (i) => col[i]);
  const categorical: Record<string, (string | null)[]> = {};
  for (const [k, col] of Object.entries(c.categorical)) categorical[k] = keep.map((i) => col[i]);
  const y = c.y;
  return { frame: { nRows: keep.length, numeric, categorical }, y: y ? Float64Array.from(keep, (i) => y[i]) : undefined };
}

/** Validate a raw table into a Frame + target vector, with a report of what was dropped. */
export function validateListings(table: RawTable, schema: ListingSchema, opts: ValidateOptions = {}): ValidatedListings {
  const maxInvalid = opts.maxInvalidFraction ?? 0.05;
  const validator = new ListingValidator(table.columns, schema, table, opts);
  if (table.rows.length === 0) throw new AppError('DATA_EMPTY', `${table.source} has a header but no listings${otherSheetsHint(table)}`);

  // 1. exact duplicates over every column of the file (as the seed's drop_duplicates)
  let rows = table.rows;
  let rowNumbers = table.rowNumbers;
  let duplicatesDropped = 0;
  if (opts.dropDuplicates ?? true) {
    const seen = new Set<string>();
    const keepRows_: Cell[][] = [];
    const keepNums: number[] = [];
    rows.forEach((r, i) => {
      const key = JSON.stringify(r);
      if (seen.has(key)) duplicatesDropped++;
      else {
        seen.add(key);
        keepRows_.push(r);
        keepNums.push(rowNumbers[i]);
      }
    });
    rows = keepRows_;
    rowNumbers = keepNums;
  }

  // 2. cell checks
  const checked = validator.check(rows, rowNumbers);
  const { n, rowBad, bad } = checked;
  const invalid = rowBad.reduce((a, b) => a + b, 0);
  const report: ValidationReport = {
    source: table.source,
    rowsRead: table.rows.length,
    duplicatesDropped,
    invalidRowsDropped: invalid,
    rowsKept: n - invalid,
    badCells: bad,
    missingOptional: validator.missingOptional,
  };
  const listBad = (limit: number) =>
    bad
      .slice(0, limit)
      .map((b) => `  row ${b.row}, ${b.column}: ${JSON.stringify(b.value)} (${b.reason})`)
      .join('\n') + (bad.length > limit ? `\n  ... and ${bad.length - limit} more` : '');
  if (n > 0 && invalid / n > maxInvalid)
    throw new AppError(
      'DATA_INVALID',
      `${table.source}: ${invalid} of ${n} rows (${((100 * invalid) / n).toFixed(1)}%) have invalid cells, more than the ${(100 * maxInvalid).toFixed(1)}% allowed; fix them or raise data_ingestion.max_invalid_fraction:\n${listBad(20)}`,
      { details: { badCells: bad.slice(0, 1000) } },
    );
  if (n - invalid === 0) throw new AppError('DATA_EMPTY', `${table.source}: no valid listings left after validation:\n${listBad(20)}`);

  // 3. keep valid rows
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (!rowBad[i]) keep.push(i);
  const kept = keepRows(checked, keep);
  return {
    frame: kept.frame,
    y: kept.y,
    rowNumbers: keep.map((i) => rowNumbers[i]),
    report,
    schema: validator.used,
  };
}

/** One-paragraph summary of a validation report for the terminal. */
export function describeReport(r: ValidationReport): string {
  const lines = [
    `${r.source}: ${r.rowsRead} rows read, ${r.duplicatesDropped} exact duplicates dropped, ${r.invalidRowsDropped} invalid rows dropped, ${r.rowsKept} kept`,
  ];
  for (const b of r.badCells.slice(0, 10)) lines.push(`  dropped row ${b.row}: ${b.column} = ${JSON.stringify(b.value)} (${b.reason})`);
  if (r.badCells.length > 10) lines.push(`  ... and ${r.badCells.length - 10} more bad cells`);
  if (r.missingOptional.length) lines.push(`  optional columns absent (skipped): ${r.missingOptional.join(', ')}`);
  return lines.join('\n');
}
