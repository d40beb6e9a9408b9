/**
 * Tables as DVC prints them (tabulate "plain" format, no number parsing): each column as
 * wide as `max(len(header) + 2, longest cell)`, cells left-aligned, columns separated by
 * two spaces, lines right-stripped. `--md` gives GitHub-style pipes.
 */

/** Render rows under headers like `dvc params diff` / `dvc metrics show`. */
export function plainTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length + 2, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (c ?? '').padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** GitHub markdown table (tabulate's "github" format as DVC's tests expect). */
export function markdownTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, c) => Math.max(h.length + 2, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ') + ' |';
  const sep = '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|';
  return [line(headers), sep, ...rows.map(line)].join('\n') + '\n\n';
}
