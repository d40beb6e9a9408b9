/**
 * Streaming .xlsx reading: the rows of one worksheet a chunk at a time, in memory bounded by
 * the chunk and the workbook's shared strings, whatever the number of rows.
 *
 * An .xlsx is a zip archive whose index (the central directory) sits at its end, and whose
 * parts come in an order each writer picks: Excel stores the shared strings after the
 * sheets, exceljs the workbook (sheet names) last. Read in stored order, a sheet would have
 * to wait (spooled somewhere) until the parts it needs have gone by. So the archive is read
 * through its central directory (yauzl): the small parts first (workbook relationships,
 * workbook, styles for dates, shared strings), then only the chosen sheet's XML, inflated
 * and parsed as it is read. A downloaded workbook is written to a temporary file as it
 * arrives and read the same way (data/read.ts).
 *
 * The parts are parsed by exceljs's streaming reader (ExcelJS.stream.xlsx.WorkbookReader and
 * its WorksheetReader), so the values are exceljs's: shared and inline strings, rich text
 * (its plain text), formulas (their cached result), booleans, errors (missing) and numbers
 * formatted as dates (an ISO date, honouring the 1904 date system). Its own zip pass is not
 * used: it reads parts in stored order, with the ordering faults above (exceljs issues
 * #3064, #683). Every part is fed to its XML parser as text decoded across chunk boundaries
 * (exceljs decodes each inflated chunk on its own, which breaks a multi-byte character cut
 * by a chunk, exceljs issues #2084 and #2316).
 *
 * The values are the whole-workbook reader's (xlsx.ts parseXlsx): the same header rule (row
 * 1, trailing blank names dropped), the same rows (blank rows skipped, sheet row numbers),
 * the same cell mapping (`cellValue`). Two corners differ, both rare in listings files: a
 * formula with a boolean result gives 1/0 (exceljs's streaming reader drops the type), and
 * an inline string made of several formatted runs keeps its last run only.
 */
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import ExcelJS from 'exceljs';
import yauzl from 'yauzl';
import { AppError } from '../core/errors.js';
import { scalarText } from '../core/text.js';
import type { Cell } from './table.js';
import { otherSheetsHint } from './validate.js';

/** A sheet row's first `n` cells as values (`cellValue`), or null when every one is empty. */
export function rowCells(row: { getCell(c: number): { value: unknown } }, n: number): Cell[] | null {
  const cells = new Array<Cell>(n);
  let any = false;
  for (let c = 0; c < n; c++) {
    const v = cellValue(row.getCell(c + 1).value);
    cells[c] = v;
    if (v !== null) any = true;
  }
  return any ? cells : null;
}

/** A cell value as exceljs gives it -> a Cell: formulas' cached results, rich text's plain text, dates as ISO dates. */
export function cellValue(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isNaN(v) ? null : v; // NaN: a formula's error result, streamed
  if (typeof v === 'string' || typeof v === 'boolean') return v === '' ? null : v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.richText)) return cellValue((o.richText as { text: string }[]).map((t) => t.text).join(''));
    // a formula never calculated has no cached result: no value
    if ('result' in o || 'formula' in o || 'sharedFormula' in o) return cellValue(o.result);
    if ('text' in o) return cellValue(o.text);
    if ('error' in o) return null;
  }
  return scalarText(v);
}

/** Rows of a worksheet, a chunk at a time; `columns` is the header (the same in every chunk). */
export interface XlsxChunk {
  columns: string[];
  rows: Cell[][];
  /** The sheet row number (1-based, the header is row 1) of each row. */
  rowNumbers: number[];
  /** The sheet read, and every worksheet of the workbook in tab order (for messages). */
  sheet: string;
  sheets: string[];
  /** The share of the sheet's XML read so far (0..1), for an ETA. */
  fraction: number;
}

export interface XlsxStreamOptions {
  /** The worksheet to read (default: the first in tab order). */
  sheet?: string;
  /** Rows per chunk (default 2,000). */
  chunkRows?: number;
  signal?: AbortSignal;
  /** The name used in messages (default: the path; a URL when the file is its download). */
  source?: string;
}

/** The parts of exceljs's streaming WorkbookReader this reader drives (exceljs 4.4's own methods). */
interface WorkbookParts {
  workbookRels?: { Id: string; Type: string; Target: string }[];
  model?: { sheets?: { name: string; id: number; rId: string }[] };
  _parseRels(entry: Readable): Promise<void>;
  _parseWorkbook(entry: Readable): Promise<void>;
  _parseStyles(entry: Readable): Promise<void>;
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>;
  _parseWorksheet(iterator: AsyncIterable<string>, sheetNo: string): Generator<{ eventType: string; value: SheetRows }>;
}

interface SheetRow {
  number: number;
  cellCount: number;
  getCell(c: number): { value: unknown };
}
type SheetRows = AsyncIterable<SheetRow>;

function unreadable(source: string, why: string, cause?: unknown): AppError {
  return new AppError('FILE_UNREADABLE', `${source} is not a readable .xlsx workbook (${why}); save it again as Excel .xlsx or export CSV`, { cause });
}

/** An open archive: its entries by name (a leading '/' dropped) and the zip to read them from. */
class Archive {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    readonly entries: Map<string, yauzl.Entry>,
    private readonly source: string,
  ) {}

  static async open(path: string, source: string): Promise<Archive> {
    let zip: yauzl.ZipFile;
    try {
      zip = await new Promise<yauzl.ZipFile>((res, rej) =>
        yauzl.open(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (e, z) => (e ? rej(e) : res(z))),
      );
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new AppError('FILE_NOT_FOUND', `data file ${source} does not exist; check the path`, { cause: e });
      if (code === 'EISDIR') throw new AppError('USAGE', `${source} is a directory; give the path of a .csv or .xlsx file`, { cause: e });
      throw unreadable(source, `${(e as Error).message}: not a zip archive, or cut short`, e);
    }
    const entries = new Map<string, yauzl.Entry>();
    try {
      await new Promise<void>((res, rej) => {
        zip.on('entry', (entry: yauzl.Entry) => {
          entries.set(entry.fileName.replace(/^\/+/, ''), entry);
          zip.readEntry();
        });
        zip.once('end', res);
        zip.once('error', rej);
        zip.readEntry();
      });
    } catch (e) {
      zip.close();
      throw unreadable(source, (e as Error).message, e);
    }
    return new Archive(zip, entries, source);
  }

  /** The raw (inflated) bytes of a part as a stream. */
  async raw(name: string): Promise<Readable> {
    const entry = this.entries.get(name);
    if (!entry) throw unreadable(this.source, `it has no ${name}`);
    try {
      return await new Promise<Readable>((res, rej) => this.zip.openReadStream(entry, (e, s) => (e ? rej(e) : res(s))));
    } catch (e) {
      throw unreadable(this.source, `its part ${name} cannot be read: ${(e as Error).message}`, e);
    }
  }

  /** A part as a stream of text, decoded across chunk boundaries. */
  async text(name: string): Promise<Readable> {
    const s = await this.raw(name);
    s.setEncoding('utf8');
    return s;
  }

  close(): void {
    this.zip.close();
  }
}

/** Where a sheet's reading stands: bytes read, and the last characters (to see that its XML ends). */
interface SheetProgress {
  bytes: number;
  tail: string;
}

/** The text of a raw stream, decoded across chunk boundaries, counting the bytes read. */
async function* decoded(raw: Readable, at: SheetProgress, signal: AbortSignal | undefined): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const buf of raw as AsyncIterable<Buffer>) {
    if (signal?.aborted) return;
    at.bytes += buf.length;
    const s = decoder.write(buf);
    at.tail = (at.tail + s).slice(-64);
    if (s) yield s;
  }
  const last = decoder.end();
  at.tail = (at.tail + last).slice(-64);
  if (last) yield last;
}

/** The part a relationship target names, as exceljs resolves it (relative to xl/, or /xl/...). */
function partOf(target: string): string {
  return `xl/${target.replace(/^(\s|\/xl\/)+/, '')}`;
}

/**
 * Read a worksheet of a local .xlsx file chunk by chunk. The first chunk may hold no rows (a
 * header-only sheet gives exactly one, empty, chunk). Errors: FILE_NOT_FOUND, DATA_EMPTY for
 * a 0-byte file or a sheet without a header row, DATA_INVALID for a sheet the workbook does
 * not have (naming the ones it has), FILE_UNREADABLE for anything that is not an intact
 * workbook (not a zip, cut short, a damaged part, malformed XML), INTERRUPTED on `signal`.
 */
export async function* readXlsxChunks(path: string, o: XlsxStreamOptions = {}): AsyncGenerator<XlsxChunk> {
  const source = o.source ?? path;
  const chunkRows = o.chunkRows ?? 2000;
  try {
    if ((await stat(path)).size === 0) throw new AppError('DATA_EMPTY', `${source} is empty (0 bytes); expected listings`);
  } catch (e) {
    if (e instanceof AppError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AppError('FILE_NOT_FOUND', `data file ${source} does not exist; check the path (for the project dataset run \`carprice pull\` first)`, { cause: e });
    throw new AppError('FILE_UNREADABLE', `cannot read ${source}: ${(e as Error).message}`, { cause: e });
  }
  const archive = await Archive.open(path, source);
  let sheetStream: Readable | undefined;
  let part = '';
  try {
    const book = new ExcelJS.stream.xlsx.WorkbookReader(path, {
      worksheets: 'emit',
      sharedStrings: 'cache',
      styles: 'cache',
      hyperlinks: 'ignore',
      entries: 'ignore',
    }) as unknown as WorkbookParts;
    // the parts a sheet needs, before the sheet (whatever order they are stored in)
    if (!archive.entries.has('xl/workbook.xml')) throw unreadable(source, 'it has no xl/workbook.xml');
    part = 'xl/_rels/workbook.xml.rels';
    if (archive.entries.has(part)) await book._parseRels(await archive.text(part));
    part = 'xl/workbook.xml';
    await book._parseWorkbook(await archive.text(part));
    part = 'xl/styles.xml';
    if (archive.entries.has(part)) await book._parseStyles(await archive.text(part));
    part = 'xl/sharedStrings.xml';
    if (archive.entries.has(part)) {
      const strings = book._parseSharedStrings(await archive.text(part));
      while (!(await strings.next()).done);
    }

    // the worksheets in tab order, as the whole-workbook reader lists them (chart sheets aside)
    const rels = new Map((book.workbookRels ?? []).map((r) => [r.Id, r]));
    const sheets: { name: string; part: string }[] = [];
    for (const s of book.model?.sheets ?? []) {
      const rel = rels.get(s.rId);
      if (!rel) continue;
      const p = partOf(rel.Target);
      if (/^xl\/worksheets\/sheet\d+\.xml$/.test(p) && archive.entries.has(p)) sheets.push({ name: s.name, part: p });
    }
    const names = sheets.map((s) => s.name);
    const chosen = o.sheet === undefined ? sheets[0] : sheets.find((s) => s.name === o.sheet);
    if (!chosen)
      throw new AppError(
        'DATA_INVALID',
        o.sheet === undefined ? `${source} has no worksheet` : `${source} has no sheet "${o.sheet}"; its sheets are: ${names.join(', ')}`,
      );

    part = chosen.part;
    const sheetNo = /sheet(\d+)\.xml$/.exec(part)![1];
    sheetStream = await archive.raw(part);
    const total = archive.entries.get(part)!.uncompressedSize;
    const counter: SheetProgress = { bytes: 0, tail: '' };
    let rowsOfSheet: SheetRows | undefined;
    for (const ev of book._parseWorksheet(decoded(sheetStream, counter, o.signal), sheetNo)) rowsOfSheet = ev.value;
    if (!rowsOfSheet) throw unreadable(source, `its sheet "${chosen.name}" cannot be read`);

    let columns: string[] | undefined;
    let rows: Cell[][] = [];
    let rowNumbers: number[] = [];
    let yielded = false;
    const chunk = (): XlsxChunk => {
      const c = { columns: columns!, rows, rowNumbers, sheet: chosen.name, sheets: names, fraction: total > 0 ? Math.min(1, counter.bytes / total) : 1 };
      rows = [];
      rowNumbers = [];
      yielded = true;
      return c;
    };
    const noHeader = () =>
      new AppError(
        'DATA_EMPTY',
        `${source} sheet "${chosen.name}" is empty; expected a header row and listings${otherSheetsHint({ source, sheet: chosen.name, sheets: names })}`,
      );
    for await (const row of rowsOfSheet) {
      if (o.signal?.aborted) break;
      if (!columns) {
        // the header is row 1, as the whole-workbook reader takes it (a sheet starting lower has none)
        columns = [];
        if (row.number === 1) for (let c = 1; c <= row.cellCount; c++) columns.push(String(cellValue(row.getCell(c).value) ?? '').trim());
        while (columns.length && columns[columns.length - 1] === '') columns.pop();
        if (columns.length === 0) throw noHeader();
        if (row.number === 1) continue;
      }
      const cells = rowCells(row, columns.length);
      if (!cells) continue;
      rows.push(cells);
      rowNumbers.push(row.number);
      if (rows.length >= chunkRows) yield chunk();
    }
    if (o.signal?.aborted) throw new AppError('INTERRUPTED', `reading ${source} was interrupted`);
    // the XML parser takes a document that stops part way for a shorter one
    if (!/<\/(?:[\w.-]+:)?worksheet>\s*$/.test(counter.tail)) throw unreadable(source, `its part ${part} is damaged: it stops part way`);
    if (!columns) throw noHeader();
    if (rows.length > 0 || !yielded) yield chunk();
  } catch (e) {
    if (e instanceof AppError) throw e;
    if ((e as Error).name === 'AbortError') throw new AppError('INTERRUPTED', `reading ${source} was interrupted`, { cause: e });
    throw unreadable(source, `its part ${part} is damaged: ${(e as Error).message}`, e);
  } finally {
    sheetStream?.destroy();
    archive.close();
  }
}
