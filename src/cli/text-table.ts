/** Aligned plain-text tables for the tracking CLI listings (experiments, runs, models). */

/** Cells wider than this (except in the last column) are cut with '...' so columns stay readable; --json has the full text. */
export const MAX_CELL_WIDTH = 60;

function fit(cell: string, last: boolean): string {
  return !last && cell.length > MAX_CELL_WIDTH ? cell.slice(0, MAX_CELL_WIDTH - 3) + '...' : cell;
}

/** Render `rows` under `headers`, columns padded to their widest cell, two spaces apart. */
export function textTable(headers: string[], rows: string[][]): string {
  const n = headers.length;
  const body = rows.map((r) => headers.map((_, i) => fit(r[i] ?? '', i === n - 1)));
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}

/** A millisecond timestamp as 'YYYY-MM-DD HH:MM:SS' UTC, or '-' when absent. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return '-';
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
