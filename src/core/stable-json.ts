/**
 * JSON with sorted object keys, so the same value always gives the same bytes
 * (saved bundles, lock files, hashes). Typed arrays are written as plain arrays.
 * Non-finite numbers are not valid JSON; they are written as null. Objects with a
 * `toJSON` method (Date, models) are written through it, as JSON.stringify does.
 */
export function stableStringify(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  // honour toJSON (Date, saved models) as JSON.stringify does, then sort what it returns
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return sortKeys((v as { toJSON(): unknown }).toJSON());
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v instanceof Map) return sortKeys(Object.fromEntries(v));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined) out[k] = sortKeys(x);
  }
  return out;
}
