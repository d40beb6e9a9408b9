/** Small display helpers. */
export function fmtNum(v: number | string | undefined | null): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return Math.abs(v) >= 1e6 ? v.toExponential(3) : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return String(Math.round(v * 1e4) / 1e4);
}

export function fmtPrice(v: number): string {
  return '₹' + Math.round(v).toLocaleString('en-IN');
}

export function fmtTime(ms: number | null | undefined): string {
  if (!ms) return '';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fmtDuration(start: number, end: number | null): string {
  if (!end) return '';
  const s = Math.round((end - start) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function fmtBytes(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Axis labels: 1.5M, 250k, 0.12. */
export function fmtAxis(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return fmtNum(v);
}
