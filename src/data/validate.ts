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
import type { CsvColumnChunk } from './csv-columns.js';
import { RowHasher } from './row-hash.js';
import { RowDigestSet } from './row-digest-set.js';

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
    // a column the model reads named twice: which one holds the listing's value is a guess
    const used = new Set([...required, ...schema.optionalNumeric]);
    const twice = [...used].filter((c) => columns.indexOf(c) !== columns.lastIndexOf(c));
    if (twice.length)
      throw new AppError(
        'DATA_INVALID',
        `${origin.source}${origin.sheet ? ` sheet "${origin.sheet}"` : ''} names ${twice.map((c) => `${c} (columns ${columns.flatMap((x, i) => (x === c ? [i + 1] : [])).join(' and ')})`).join(', ')} more than once; keep one column of each name`,
        { details: { duplicated: twice } },
      );
    const missing = required.filter((c) => !this.colIndex.has(c));
    if (missing.length) {
      const hints = missing.map((c) => {
        const near = closest(c, [...columns]);
        return near ? `${c} (the file has "${near}": rename it)` : c;
      });
      throw new AppError(
        'DATA_INVALID',
        `${origin.source}${origin.sheet ? ` sheet "${origin.sheet}"` : ''} is missing required column(s): ${hints.join(', ')}; the header (first ${origin.sheet ? 'row' : 'line'}) must name ${missing.length === 1 ? 'it' : 'each'}. Columns found: ${columns.join(', ') || '(none)'}${separatorHint(columns)}${otherSheetsHint(origin)}`,
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

  /**
   * Check the rows of a columnar CSV chunk (csv-columns.ts) whose header is this
   * validator's: the same values, bad cells (same order, values and reasons) and row flags
   * as `check` on the chunk's rows, without building them. Categories are the parser's
   * interned strings; the range check of a categorical value runs once per distinct value.
   */
  checkColumns(chunk: CsvColumnChunk): CheckedRows {
    const { used, colIndex, ranges } = this;
    const n = chunk.n;
    const rowNumbers = chunk.rowNumbers;
    const bad: BadCell[] = [];
    const rowBad = new Uint8Array(n);
    const numeric: Record<string, Float64Array> = {};
    for (const c of [...used.numeric, ...used.optionalNumeric]) {
      const j = colIndex.get(c)!;
      const out = chunk.numbers(j);
      const min = used.minimum[c] ?? -Infinity;
      const r = ranges[c];
      // finite bounds: an infinite value is 'not a number', never inside
      const lo = Math.max(min, r ? r.min : -Number.MAX_VALUE, -Number.MAX_VALUE);
      const hi = Math.min(r ? r.max : Number.MAX_VALUE, Number.MAX_VALUE);
      // the common case, a number inside every bound, is skipped by a one-loop function
      for (let i = firstOutside(out, 0, n, lo, hi); i < n; i = firstOutside(out, i + 1, n, lo, hi)) {
        const x = out[i];
        let why: string | undefined;
        const raw = Number.isFinite(x) ? undefined : chunk.cell(i, j);
        if (raw !== undefined && raw !== null) why = 'not a number';
        else if (x < min) why = `below ${min}`;
        else why = rangeProblem(c, x, ranges);
        if (why) {
          bad.push({ row: rowNumbers[i], column: c, value: raw === undefined ? chunk.cell(i, j) : raw, reason: why });
          rowBad[i] = 1;
        }
      }
      numeric[c] = out;
    }
    let y: Float64Array | undefined;
    const ti = colIndex.get(used.target);
    if (ti !== undefined) {
      y = chunk.numbers(ti);
      // prices that are positive numbers inside the plausible range are skipped the same way
      const r = this.requireTarget ? ranges[used.target] : undefined;
      const lo = Math.max(r ? r.min : Number.MIN_VALUE, Number.MIN_VALUE);
      const hi = Math.min(r ? r.max : Number.MAX_VALUE, Number.MAX_VALUE);
      for (let i = firstOutside(y, 0, n, lo, hi); i < n; i = firstOutside(y, i + 1, n, lo, hi)) {
        const x = y[i];
        let why: string | undefined;
        const raw = Number.isFinite(x) ? undefined : chunk.cell(i, ti);
        if (raw === null) why = this.requireTarget ? 'missing price' : undefined;
        else if (raw !== undefined) why = 'not a number';
        else if (x <= 0) why = 'price must be positive';
        else if (this.requireTarget) why = rangeProblem(used.target, x, ranges);
        if (why) {
          bad.push({ row: rowNumbers[i], column: used.target, value: raw === undefined ? chunk.cell(i, ti) : raw, reason: why });
          rowBad[i] = 1;
        }
      }
    }
    const categorical: Record<string, (string | null)[]> = {};
    for (const c of used.categorical) {
      const j = colIndex.get(c)!;
      const codes = chunk.codes(j);
      const values = chunk.parser.dictionary(j);
      const out = decoded(codes, values, n);
      const ranged = ranges[c] !== undefined;
      // per code: the range problem of its value ('' when none)
      const verdict: (string | undefined)[] = [];
      for (let i = 0; ranged && i < n; i++) {
        const code = codes[i];
        if (code < 0) continue;
        let why = verdict[code];
        if (why === undefined) {
          const x = Number(values[code]);
          why = verdict[code] = (Number.isFinite(x) ? rangeProblem(c, x, ranges) : undefined) ?? '';
        }
        if (why) {
          bad.push({ row: rowNumbers[i], column: c, value: chunk.cell(i, j), reason: why });
          rowBad[i] = 1;
        }
      }
      categorical[c] = out;
    }
    return { n, numeric, categorical, y, rowBad, bad };
  }
}

/** Add each row's digest to `seen`: 1 for the rows already there (null when none is). */
function duplicates(seen: RowHashSet, hi: Uint32Array, lo: Uint32Array): Uint8Array | null {
  let dup: Uint8Array | null = null;
  for (let i = 0; i < hi.length; i++)
    if (!seen.addDigest(hi[i], lo[i])) {
      dup ??= new Uint8Array(hi.length);
      dup[i] = 1;
    }
  return dup;
}

/** The first index in [from, n) whose value is outside [lo, hi] (NaN included), or n. */
function firstOutside(v: Float64Array, from: number, n: number, lo: number, hi: number): number {
  for (let i = from; i < n; i++) {
    const x = v[i];
    if (!(x >= lo && x <= hi)) return i;
  }
  return n;
}

/** Dictionary codes as their values (-1: null). */
function decoded(codes: Int32Array, values: readonly string[], n: number): (string | null)[] {
  const out = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const code = codes[i];
    out[i] = code < 0 ? null : values[code];
  }
  return out;
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
  const acc = new ListingAccumulator(schema, opts);
  acc.add(table.columns, table.rows, table.rowNumbers, table);
  return acc.finish();
}

/**
 * Validation of a listings source a chunk of rows at a time, into columns: the same rules,
 * report and errors as `validateListings` on the whole table, in memory that holds only the
 * kept values (numbers as float64, each distinct category string once) and never the raw
 * rows. Exact duplicates are found by a 64-bit hash of each raw row (type and text of every
 * cell): two different rows share one with a probability of about n^2 / 2^65 (3e-8 for
 * 1.8 million rows).
 */
export class ListingAccumulator {
  private validator: ListingValidator | undefined;
  private origin: TableOrigin = { source: '' };
  private readonly seen: RowHashSet | null;
  private rowsRead = 0;
  private duplicatesDropped = 0;
  private checkedRows = 0;
  private invalid = 0;
  private readonly bad: BadCell[] = [];
  private readonly numericParts = new Map<string, Float64Array[]>();
  private readonly yParts: Float64Array[] = [];
  private readonly categorical = new Map<string, (string | null)[]>();
  private readonly interned = new Map<string, Map<string, string>>();
  private readonly rowNumbers: number[] = [];
  private kept = 0;

  constructor(
    readonly schema: ListingSchema,
    private readonly opts: ValidateOptions = {},
  ) {
    this.seen = (opts.dropDuplicates ?? true) ? new RowHashSet() : null;
  }

  /** Rows kept so far. */
  get rowsKept(): number {
    return this.kept;
  }

  /** Validate one chunk of rows (all chunks share the header `columns`). */
  add(columns: readonly string[], rows: readonly (readonly Cell[])[], rowNumbers: readonly number[], origin: TableOrigin): void {
    if (!this.validator) {
      this.origin = origin;
      this.validator = new ListingValidator(columns, this.schema, origin, this.opts);
    }
    this.rowsRead += rows.length;
    let chunk = rows;
    let nums = rowNumbers;
    if (this.seen) {
      const keepRows_: (readonly Cell[])[] = [];
      const keepNums: number[] = [];
      for (let i = 0; i < rows.length; i++) {
        if (this.seen.add(rows[i])) {
          keepRows_.push(rows[i]);
          keepNums.push(rowNumbers[i]);
        } else this.duplicatesDropped++;
      }
      chunk = keepRows_;
      nums = keepNums;
    }
    if (chunk.length === 0) return;
    this.keepChecked(this.validator.check(chunk, nums), nums, null, false);
  }

  /**
   * Validate one columnar CSV chunk (csv-columns.ts; all chunks of one file): the same
   * rows kept, bad cells, counts and errors as `add` on the chunk's rows, without building
   * them. Exact duplicates are found by the chunk's hash of each row's bytes.
   */
  addColumns(chunk: CsvColumnChunk, origin: TableOrigin): void {
    if (!this.validator) {
      this.origin = origin;
      this.validator = new ListingValidator(chunk.columns, this.schema, origin, this.opts);
    }
    const n = chunk.n;
    this.rowsRead += n;
    if (n === 0) return;
    let dup: Uint8Array | null = null;
    if (this.seen) {
      const { hi, lo } = chunk.rowHashes();
      dup = duplicates(this.seen, hi, lo);
      if (dup) for (let i = 0; i < n; i++) this.duplicatesDropped += dup[i];
    }
    // duplicates are checked with the rest (a column at a time) and then ignored, their bad
    // cells too, as if they had been dropped before validation like `add` drops them
    this.keepChecked(this.validator.checkColumns(chunk), chunk.rowNumbers, dup, true);
  }

  /**
   * Keep the good rows of checked rows (`skip[i]` = 1: a duplicate, ignored altogether);
   * categories given `interned` (csv-columns: one string per distinct value) need no pool.
   */
  private keepChecked(c: CheckedRows, nums: ArrayLike<number>, skip: Uint8Array | null, interned: boolean): void {
    let bad = c.bad;
    if (skip && bad.length) {
      const skipped = new Set<number>();
      for (let i = 0; i < c.n; i++) if (skip[i]) skipped.add(nums[i]);
      bad = bad.filter((b) => !skipped.has(b.row));
    }
    for (const b of bad) this.bad.push(b);
    const keep: number[] = [];
    for (let i = 0; i < c.n; i++) {
      if (skip && skip[i]) continue;
      this.checkedRows++;
      if (c.rowBad[i]) this.invalid++;
      else keep.push(i);
    }
    if (keep.length === 0) return;
    const all = keep.length === c.n;
    for (const [k, col] of Object.entries(c.numeric)) {
      let parts = this.numericParts.get(k);
      if (!parts) this.numericParts.set(k, (parts = []));
      parts.push(all ? col : Float64Array.from(keep, (i) => col[i]));
    }
    if (c.y) {
      const y = c.y;
      this.yParts.push(all ? y : Float64Array.from(keep, (i) => y[i]));
    }
    for (const [k, col] of Object.entries(c.categorical)) {
      let out = this.categorical.get(k);
      let pool = this.interned.get(k);
      if (!out || !pool) {
        this.categorical.set(k, (out = []));
        this.interned.set(k, (pool = new Map<string, string>()));
      }
      if (interned) for (const i of keep) out.push(col[i]);
      else
        for (const i of keep) {
          const v = col[i];
          if (v === null) out.push(null);
          else {
            let s = pool.get(v);
            if (s === undefined) pool.set(v, (s = v));
            out.push(s);
          }
        }
    }
    for (const i of keep) this.rowNumbers.push(nums[i]);
    this.kept += keep.length;
  }

  /** The validated listings, or the error validateListings would give for the whole source. */
  finish(): ValidatedListings {
    const validator = this.validator;
    const origin = this.origin;
    if (!validator || this.rowsRead === 0)
      throw new AppError('DATA_EMPTY', `${origin.source} has a header but no listings${otherSheetsHint(origin)}`);
    const maxInvalid = this.opts.maxInvalidFraction ?? 0.05;
    const n = this.checkedRows;
    const invalid = this.invalid;
    // chunk by chunk, check() lists a chunk's bad cells column by column: order them as one
    // check of the whole table would (by column, then row)
    const order = new Map<string, number>();
    [...validator.used.numeric, ...validator.used.optionalNumeric, validator.used.target, ...validator.used.categorical].forEach(
      (c, k) => order.has(c) || order.set(c, k),
    );
    const bad = this.bad
      .map((b, k) => ({ b, k }))
      .sort((p, q) => (order.get(p.b.column) ?? 0) - (order.get(q.b.column) ?? 0) || p.k - q.k)
      .map((p) => p.b);
    const report: ValidationReport = {
      source: origin.source,
      rowsRead: this.rowsRead,
      duplicatesDropped: this.duplicatesDropped,
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
        `${origin.source}: ${invalid} of ${n} rows (${((100 * invalid) / n).toFixed(1)}%) have invalid cells, more than the ${(100 * maxInvalid).toFixed(1)}% allowed; fix them or raise data_ingestion.max_invalid_fraction:\n${listBad(20)}`,
        { details: { badCells: bad.slice(0, 1000) } },
      );
    if (n - invalid === 0) throw new AppError('DATA_EMPTY', `${origin.source}: no valid listings left after validation:\n${listBad(20)}`);
    const numeric: Record<string, Float64Array> = {};
    const used = validator.used;
    for (const k of [...used.numeric, ...used.optionalNumeric]) numeric[k] = concat(this.numericParts.get(k) ?? [], this.kept);
    const categorical: Record<string, (string | null)[]> = {};
    for (const k of used.categorical) categorical[k] = this.categorical.get(k) ?? [];
    const y = this.yParts.length ? concat(this.yParts, this.kept) : undefined;
    return {
      frame: { nRows: this.kept, numeric, categorical },
      y,
      rowNumbers: this.rowNumbers,
      report,
      schema: used,
    };
  }
}

function concat(parts: readonly Float64Array[], n: number): Float64Array {
  const out = new Float64Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The rows seen so far, as 64-bit hashes of their cells (a RowDigestSet: ~20 bytes per
 * distinct row, where a set of the rows' JSON text took ~200).
 */
class RowHashSet {
  private readonly digests = new RowDigestSet();

  private readonly h = new RowHasher();

  /** Add the row's hash; false when it was already there (a duplicate). */
  add(row: readonly Cell[]): boolean {
    const h = this.h;
    h.begin();
    for (let j = 0; j < row.length; j++) {
      const v = row[j];
      // a tag for the type, then the text's char codes
      if (v === null || v === undefined) h.mix(1);
      else if (typeof v === 'string') {
        h.mix(2);
        h.chars(v);
      } else if (typeof v === 'number') {
        h.mix(3);
        h.chars(String(v));
      } else {
        h.mix(4);
        h.chars(v ? '1' : '0');
      }
      h.endCell();
    }
    return this.digests.add(h.hi(), h.lo());
  }

  /** Add a row's hash made elsewhere (CsvColumnChunk.rowHashes); false for a duplicate. */
  addDigest(hi: number, lo: number): boolean {
    return this.digests.add(hi, lo);
  }
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

/** A header read as one column that holds `;` or tabs: the file was saved with another separator. */
function separatorHint(columns: readonly string[]): string {
  if (columns.length !== 1) return '';
  const sep = columns[0].includes(';') ? 'semicolons' : columns[0].includes('\t') ? 'tabs' : undefined;
  return sep ? `. The header is one column holding ${sep}: save the file as CSV separated by commas` : '';
}
