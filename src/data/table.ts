/**
 * RawTable: what a reader returns before validation. Cells keep the type the file gave
 * them (xlsx numbers stay numbers, CSV cells are strings); `rowNumbers[i]` is the 1-based
 * line or sheet row of row i, so validation can point at the exact place in the file.
 */
export type Cell = string | number | boolean | null;

export interface RawTable {
  /** Where the table came from (path or URL), for messages. */
  source: string;
  /** Sheet name for spreadsheets. */
  sheet?: string;
  /** Every sheet of the workbook, for messages when the listings may be on another one. */
  sheets?: string[];
  columns: string[];
  rows: Cell[][];
  /** 1-based row/line number in the source for each row (header is row 1). */
  rowNumbers: number[];
}
