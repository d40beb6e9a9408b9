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

/** Validate a raw table into a Frame + target vector, with a report of what was dropped. */
export function validateListings(table: RawTable, schema: ListingSchema, opts: ValidateOptions = {}): ValidatedListings {
  const requireTarget = opts.requireTarget ?? true;
  const maxInvalid = opts.maxInvalidFraction ?? 0.05;
  const colIndex = new Map<string, number>();
  table.columns.forEach((c, i) => {
    if (!colIndex.has(c)) colIndex.set(c, i);
  });
  const required = [...(requireTarget ? [schema.target] : []), ...schema.numeric, ...schema.categorical];
  const missing = required.filter((c) => !colIndex.has(c));
  if (missing.length) {
    const hints = missing.map((c) => {
      const near = closest(c, table.columns);
      return near ? `${c} (the file has "${near}": rename it)` : c;
    });
    throw new AppError(
      'DATA_INVALID',
      `${table.source}${table.sheet ? ` sheet "${table.sheet}"` : ''} is missing required column(s): ${hints.join(', ')}. Columns found: ${table.columns.join(', ') || '(none)'}`,
      { details: { missing } },
    );
  }
  if (table.rows.length === 0) throw new AppError('DATA_EMPTY', `${table.source} has a header but no listings`);
  const optionalPresent = schema.optionalNumeric.filter((c) => colIndex.has(c));
  const missingOptional = schema.optionalNumeric.filter((c) => !colIndex.has(c));
  const used: ListingSchema = { ...schema, optionalNumeric: optionalPresent };

  // 1. exact duplicates over every column of the file (as the seed's drop_duplicates)
  let rows = table.rows;
  let rowNumbers = table.rowNumbers;
  let duplicatesDropped = 0;
  if (opts.dropDuplicates ?? true) {
    const seen = new Set<string>();
    const keepRows: Cell[][] = [];
    const keepNums: number[] = [];
    rows.forEach((r, i) => {
      const key = JSON.stringify(r);
      if (seen.has(key)) duplicatesDropped++;
      else {
        seen.add(key);
        keepRows.push(r);
        keepNums.push(rowNumbers[i]);
      }
    });
    rows = keepRows;
    rowNumbers = keepNums;
  }

  // 2. cell checks
  const numericCols = [...used.numeric, ...optionalPresent];
  const n = rows.length;
  const bad: BadCell[] = [];
  const rowBad = new Uint8Array(n);
  const numVals: Record<string, Float64Array> = {};
  for (const c of numericCols) {
    const j = colIndex.get(c)!;
    const out = new Float64Array(n);
    const min = used.minimum[c] ?? -Infinity;
    for (let i = 0; i < n; i++) {
      const raw = rows[i][j];
      const x = toNumber(raw);
      if (raw !== null && !Number.isFinite(x)) {
        bad.push({ row: rowNumbers[i], column: c, value: raw, reason: 'not a number' });
        rowBad[i] = 1;
      } else if (x < min) {
        bad.push({ row: rowNumbers[i], column: c, value: raw, reason: `below ${min}` });
        rowBad[i] = 1;
      }
      out[i] = x;
    }
    numVals[c] = out;
  }
  let y: Float64Array | undefined;
  const ti = colIndex.get(schema.target);
  if (ti !== undefined) {
    y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const raw = rows[i][ti];
      const x = toNumber(raw);
      if (raw === null) {
        if (requireTarget) {
          bad.push({ row: rowNumbers[i], column: schema.target, value: raw, reason: 'missing price' });
          rowBad[i] = 1;
        }
      } else if (!Number.isFinite(x)) {
        bad.push({ row: rowNumbers[i], column: schema.target, value: raw, reason: 'not a number' });
        rowBad[i] = 1;
      } else if (x <= 0) {
        bad.push({ row: rowNumbers[i], column: schema.target, value: raw, reason: 'price must be positive' });
        rowBad[i] = 1;
      }
      y[i] = x;
    }
  }
  const catVals: Record<string, (string | null)[]> = {};
  for (const c of used.categorical) {
    const j = colIndex.get(c)!;
    // A missing category is not a reason to drop a row: the feature pipeline imputes it.
    const out = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      const raw = rows[i][j];
      const s = raw === null ? null : String(raw).trim();
      out[i] = s === '' ? null : s;
    }
    catVals[c] = out;
  }

  const invalid = rowBad.reduce((a, b) => a + b, 0);
  const report: ValidationReport = {
    source: table.source,
    rowsRead: table.rows.length,
    duplicatesDropped,
    invalidRowsDropped: invalid,
    rowsKept: n - invalid,
    badCells: bad,
    missingOptional,
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
  const numeric: Record<string, Float64Array> = {};
  for (const c of numericCols) numeric[c] = Float64Array.from(keep, (i) => numVals[c][i]);
  const categorical: Record<string, (string | null)[]> = {};
  for (const c of used.categorical) categorical[c] = keep.map((i) => catVals[c][i]);
  return {
    frame: { nRows: keep.length, numeric, categorical },
    y: y ? Float64Array.from(keep, (i) => y![i]) : undefined,
    rowNumbers: keep.map((i) => rowNumbers[i]),
    report,
    schema: used,
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
