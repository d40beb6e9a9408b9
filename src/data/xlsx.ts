/**
 * The whole-workbook .xlsx reader (exceljs's Workbook.xlsx.load: every cell of every sheet
 * as objects, ~100x the file's size in memory), and the writer tests build fixtures with.
 * carprice reads workbooks with the streaming reader (xlsx-stream.ts); this one is kept as
 * the reference it is tested against (identical values, cell for cell, on the real dataset)
 * and the anchor bench/xlsx measures it against. Both map cells through the same `cellValue`.
 */
import ExcelJS from 'exceljs';
import { AppError } from '../core/errors.js';
import type { Cell, RawTable } from './table.js';
import { otherSheetsHint } from './validate.js';
import { cellValue, rowCells } from './xlsx-stream.js';

/** Parse an xlsx workbook (bytes) into a RawTable, from `sheet` or the first sheet. */
export async function parseXlsx(bytes: Uint8Array, source: string, sheet?: string): Promise<RawTable> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as ArrayBuffer);
  } catch (e) {
    throw new AppError('FILE_UNREADABLE', `${source} is not a readable .xlsx workbook (${(e as Error).message}); save it again as Excel .xlsx or export CSV`, { cause: e });
  }
  const names = wb.worksheets.map((w) => w.name);
  const ws = sheet === undefined ? wb.worksheets[0] : wb.getWorksheet(sheet);
  if (!ws)
    throw new AppError(
      'DATA_INVALID',
      sheet === undefined ? `${source} has no worksheet` : `${source} has no sheet "${sheet}"; its sheets are: ${names.join(', ')}`,
    );
  const header = ws.getRow(1);
  const columns: string[] = [];
  const width = ws.columnCount;
  for (let c = 1; c <= width; c++) {
    const v = cellValue(header.getCell(c).value);
    columns.push(v === null ? '' : String(v).trim());
  }
  while (columns.length && columns[columns.length - 1] === '') columns.pop();
  if (columns.length === 0)
    throw new AppError('DATA_EMPTY', `${source} sheet "${ws.name}" is empty; expected a header row and listings${otherSheetsHint({ source, sheet: ws.name, sheets: names })}`);
  const rows: Cell[][] = [];
  const rowNumbers: number[] = [];
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    if (rowNumber === 1) return;
    const cells = rowCells(row, columns.length);
    if (cells) {
      rows.push(cells);
      rowNumbers.push(rowNumber);
    }
  });
  return { source, sheet: ws.name, sheets: names, columns, rows, rowNumbers };
}

/** Write rows as an .xlsx workbook (used to build test fixtures by code). */
export async function formatXlsx(columns: readonly string[], rows: readonly (readonly Cell[])[], sheet = 'Sheet1'): Promise<Uint8Array> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(sheet);
  ws.addRow([...columns]);
  for (const r of rows) ws.addRow([...r]);
  const buf = await wb.xlsx.writeBuffer();
  return new Uint8Array(buf);
}
