/**
 * The text of a value that should be a scalar but is typed `unknown` (a YAML node, a wire
 * field, a spreadsheet cell): what String() gives for scalars and for objects with their own
 * toString (dates, PyFloat), list items joined by commas as String() does, and JSON for
 * plain objects, so a message never shows "[object Object]".
 */
export function scalarText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(v);
    case 'symbol':
      return v.toString();
    case 'function':
      return '[function]';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.map((x) => (x === null || x === undefined ? '' : scalarText(x))).join(',');
  const o = v as { toString(): string };
  if (o.toString !== Object.prototype.toString) return o.toString();
  try {
    return JSON.stringify(v);
  } catch {
    return '[object]';
  }
}

/** Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/**
 * The candidate closest to `name` for a "did you mean" hint: a prefix either way counts as
 * distance 1; otherwise the edit distance, within 1 for names of up to 3 letters, 2 up to 6, else 3.
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: { n: string; d: number } | undefined;
  for (const n of candidates) {
    const dist = n.startsWith(name) || name.startsWith(n) ? Math.min(1, editDistance(name, n)) : editDistance(name, n);
    const limit = n.length <= 3 ? 1 : n.length <= 6 ? 2 : 3;
    if (dist <= limit && (!best || dist < best.d)) best = { n, d: dist };
  }
  return best?.n;
}
