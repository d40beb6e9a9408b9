/** Aligned plain-text tables for the tracking CLI listings (experiments, runs, models). */

/** Render `rows` under `headers`, columns padded to their widest cell, two spaces apart. */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** A millisecond timestamp as 'YYYY-MM-DD HH:MM:SS' UTC, or '-' when absent. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return '-';
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
