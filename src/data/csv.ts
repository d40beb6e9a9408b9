/**
 * CSV reading and writing (RFC 4180): quoted fields, commas, quotes ("") and newlines inside
 * quotes, a UTF-8 BOM, CRLF or LF line ends. Blank lines are skipped. Writing quotes only
 * the fields that need it, uses LF, and writes numbers with full precision (round trip).
 */
import { AppError } from '../core/errors.js';
import type { Cell, RawTable } from './table.js';

/** Parse CSV text into a RawTable. The first record is the header. */
export function parseCsv(text: string, source: string): RawTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: { cells: string[]; line: number }[] = [];
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  let fieldStarted = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (field.length > 0 && !fieldStarted)
        throw new AppError('DATA_INVALID', `${source}:${line}: a quote inside an unquoted field; quote the whole field and double inner quotes ("")`);
      inQuotes = true;
      fieldStarted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      if (!(record.length === 1 && record[0] === '' && !fieldStarted)) records.push({ cells: record, line: recordLine });
      record = [];
      field = '';
      fieldStarted = false;
      line++;
      recordLine = line;
    } else {
      field += c;
    }
  }
  if (inQuotes) throw new AppError('DATA_INVALID', `${source}:${recordLine}: a quoted field is never closed; add the closing quote (")`);
  if (field.length > 0 || fieldStarted || record.length > 0) {
    record.push(field);
    records.push({ cells: record, line: recordLine });
  }
  if (records.length === 0) throw new AppError('DATA_EMPTY', `${source} is empty; expected a header line and at least one listing`);
  const columns = records[0].cells.map((h) => h.trim());
  const rows: Cell[][] = [];
  const rowNumbers: number[] = [];
  for (let r = 1; r < records.length; r++) {
    const { cells, line: ln } = records[r];
    if (cells.length !== columns.length)
      throw new AppError(
        'DATA_INVALID',
        `${source}:${ln}: ${cells.length} fields, but the header has ${columns.length}; check for an unquoted comma or a missing field`,
        { details: { line: ln } },
      );
    rows.push(cells.map((x) => (x === '' ? null : x)));
    rowNumbers.push(ln);
  }
  return { source, columns, rows, rowNumbers };
}

function formatCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Serialise a header and rows as CSV text (LF line ends, trailing newline). */
export function formatCsv(columns: readonly string[], rows: Iterable<readonly Cell[]>): string {
  const parts: string[] = [columns.map(formatCell).join(',')];
  for (const r of rows) parts.push(r.map(formatCell).join(','));
  return parts.join('\n') + '\n';
}
