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
