/**
 * Streaming CSV reading: a local file read in chunks of rows, with the same rules as
 * `parseCsv` (RFC 4180 quoting, BOM, CRLF or LF, blank lines skipped, every record as wide
 * as the header, line numbers for messages), in memory bounded by the chunk size and the
 * longest record, whatever the size of the file. Batch prediction and evaluation use it so
 * a 200 MB file is scored in a few tens of MB.
 */
import { createReadStream } from 'node:fs';
import { AppError } from '../core/errors.js';
import type { Cell } from './table.js';

/** Rows of a CSV file, a chunk at a time; `columns` is the header (the same in every chunk). */
export interface CsvChunk {
  columns: string[];
  rows: Cell[][];
  /** 1-based line of each row's start. */
  rowNumbers: number[];
}

export interface CsvStreamOptions {
  /** Rows per chunk (default 2,000). */
  chunkRows?: number;
  /** Longest accepted record in characters (default 1 MiB): an unclosed quote cannot swallow the file. */
  maxRecordChars?: number;
  signal?: AbortSignal;
  /** Bytes per read (default 64 KiB; tests use tiny reads to split records anywhere). */
  readBytes?: number;
}

/** Incremental RFC 4180 record parser fed text pieces in order. */
class RecordParser {
  private field = '';
  private record: string[] = [];
  private inQuotes = false;
  private fieldStarted = false;
  private afterCR = false;
  private line = 1;
  private recordLine = 1;
  private recordChars = 0;
  private first = true;
  readonly out: { cells: string[]; line: number }[] = [];

  constructor(
    private readonly source: string,
    private readonly maxRecordChars: number,
    firstLine = 1,
    stripBom = true,
  ) {
    this.line = this.recordLine = firstLine;
    this.first = stripBom;
  }

  push(text: string): void {
    if (this.first) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text[i];
      if (this.afterCR) {
        this.afterCR = false;
        if (c === '\n') continue;
      }
      if (this.inQuotes) {
        if (c === '"') {
          if (i + 1 < n) {
            if (text[i + 1] === '"') {
              this.field += '"';
              i++;
            } else this.inQuotes = false;
          } else {
            // the quote may be the first of a "" pair split across pieces: decide on the next char
            this.pendingQuote = true;
            this.inQuotes = false;
          }
        } else {
          if (c === '\n') this.line++;
          this.field += c;
        }
        this.grow();
        continue;
      }
      if (this.pendingQuote) {
        this.pendingQuote = false;
        if (c === '"') {
          this.field += '"';
          this.inQuotes = true;
          continue;
        }
      }
      if (c === '"') {
        if (this.field.length > 0 && !this.fieldStarted)
          throw new AppError('DATA_INVALID', `${this.source}:${this.line}: a quote inside an unquoted field; quote the whole field and double inner quotes ("")`);
        this.inQuotes = true;
        this.fieldStarted = true;
      } else if (c === ',') {
        this.record.push(this.field);
        this.field = '';
        this.fieldStarted = false;
      } else if (c === '\n' || c === '\r') {
        if (c === '\r') this.afterCR = true;
        this.endRecord();
        this.line++;
        this.recordLine = this.line;
      } else {
        this.field += c;
        this.grow();
      }
    }
  }

  private pendingQuote = false;

  private grow(): void {
    if (++this.recordChars > this.maxRecordChars)
      throw new AppError(
        'DATA_INVALID',
        `${this.source}:${this.recordLine}: a record longer than ${this.maxRecordChars} characters (an unclosed quote?); check the quoting from that line on`,
      );
  }

  private endRecord(): void {
    this.record.push(this.field);
    if (!(this.record.length === 1 && this.record[0] === '' && !this.fieldStarted)) this.out.push({ cells: this.record, line: this.recordLine });
    this.record = [];
    this.field = '';
    this.fieldStarted = false;
    this.recordChars = 0;
  }

  end(): void {
    this.pendingQuote = false;
    if (this.inQuotes) throw new AppError('DATA_INVALID', `${this.source}:${this.recordLine}: a quoted field is never closed; add the closing quote (")`);
    if (this.field.length > 0 || this.fieldStarted || this.record.length > 0) this.endRecord();
  }
}

/**
 * The records of a piece of CSV text that holds whole records only (a slice of a file cut
 * after a line break outside quotes), as non-empty cells (`''` -> null) checked against the
 * header's width, with the line each starts on. `firstLine` is the file line the text starts
 * at; `bom` strips a leading byte-order mark (the file's first piece). The errors are
 * readCsvChunks's, with the same line numbers.
 */
export function parseCsvRecords(
  text: string,
  o: { source: string; firstLine: number; width?: number; maxRecordChars?: number; bom?: boolean },
): { rows: Cell[][]; rowNumbers: number[] } {
  const parser = new RecordParser(o.source, o.maxRecordChars ?? 1 << 20, o.firstLine, o.bom ?? false);
  parser.push(text);
  parser.end();
  const rows: Cell[][] = [];
  const rowNumbers: number[] = [];
  for (const { cells, line } of parser.out) {
    if (o.width !== undefined && cells.length !== o.width)
      throw new AppError('DATA_INVALID', `${o.source}:${line}: ${cells.length} fields, but the header has ${o.width}; check for an unquoted comma or a missing field`, {
        details: { line },
      });
    rows.push(cells.map((x) => (x === '' ? null : x)));
    rowNumbers.push(line);
  }
  return { rows, rowNumbers };
}

/**
 * Read a local CSV file chunk by chunk. The first chunk may hold no rows (a header-only
 * file gives exactly one, empty, chunk); an empty file is DATA_EMPTY, a missing one
 * FILE_NOT_FOUND, a record wider or narrower than the header DATA_INVALID with its line.
 */
export async function* readCsvChunks(path: string, o: CsvStreamOptions = {}): AsyncGenerator<CsvChunk> {
  const chunkRows = o.chunkRows ?? 2000;
  const parser = new RecordParser(path, o.maxRecordChars ?? 1 << 20);
  let columns: string[] | undefined;
  let rows: Cell[][] = [];
  let rowNumbers: number[] = [];
  let yielded = false;
  let chars = 0;
  const take = (): void => {
    for (const { cells, line } of parser.out) {
      if (!columns) {
        columns = cells.map((h) => h.trim());
        continue;
      }
      if (cells.length !== columns.length)
        throw new AppError('DATA_INVALID', `${path}:${line}: ${cells.length} fields, but the header has ${columns.length}; check for an unquoted comma or a missing field`, {
          details: { line },
        });
      rows.push(cells.map((x) => (x === '' ? null : x)));
      rowNumbers.push(line);
    }
    parser.out.length = 0;
  };
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: o.readBytes ?? 1 << 16, signal: o.signal });
  try {
    for await (const piece of stream as AsyncIterable<string>) {
      chars += piece.length;
      parser.push(piece);
      take();
      while (columns && rows.length >= chunkRows) {
        const chunk = { columns, rows: rows.slice(0, chunkRows), rowNumbers: rowNumbers.slice(0, chunkRows) };
        rows = rows.slice(chunkRows);
        rowNumbers = rowNumbers.slice(chunkRows);
        yielded = true;
        yield chunk;
      }
    }
  } catch (e) {
    if (e instanceof AppError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('FILE_NOT_FOUND', `data file ${path} does not exist; check the path`, { cause: e });
    if (code === 'EISDIR') throw new AppError('USAGE', `${path} is a directory; give the path of a .csv or .xlsx file`, { cause: e });
    if (code === 'ABORT_ERR' || (e as Error).name === 'AbortError') throw new AppError('INTERRUPTED', `reading ${path} was interrupted`, { cause: e });
    throw new AppError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    stream.destroy();
  }
  parser.end();
  take();
  if (!columns) throw new AppError('DATA_EMPTY', chars === 0 ? `${path} is empty (0 bytes); expected listings` : `${path} is empty; expected a header line and at least one listing`);
  if (rows.length > 0 || !yielded) yield { columns, rows, rowNumbers };
}
