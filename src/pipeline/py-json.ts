/**
 * Python's `json.dumps` defaults (`ensure_ascii=True`, separators `", "` / `": "`), which
 * DVC uses for `.dir` manifests: every character outside 0x20-0x7E becomes `\uXXXX` with
 * lowercase hex (astral characters as surrogate pairs, DEL too), and `\" \\ \n \r \t \b \f`
 * use their short escapes. Example: `pyJsonString("é")` -> `"\u00e9"`.
 */
import { codePointCompare, floatRepr, isMap, PyDate, PyFloat, type PyMap, type PyValue } from './py-value.js';

/** A JSON string literal exactly as Python's json.dumps writes it. */
export function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** One `.dir` manifest entry. */
export interface ManifestEntry {
  md5: string;
  relpath: string;
}

/**
 * The `.dir` manifest bytes for entries already sorted by relpath (code point order):
 * `[{"md5": "...", "relpath": "..."}, ...]`, no trailing newline.
 */
export function manifestJson(entries: ReadonlyArray<ManifestEntry>): string {
  const parts = entries.map((e) => `{"md5": ${pyJsonString(e.md5)}, "relpath": ${pyJsonString(e.relpath)}}`);
  return '[' + parts.join(', ') + ']';
}

/**
 * Python `json.dumps(value, sort_keys=True)` with its defaults (what DVC hashes for the
 * run-cache): ints as digits, floats as `repr()` (`NaN`, `Infinity`), `true`/`false`/`null`,
 * keys sorted by code point (or, with `sortKeys` false, in insertion order, as
 * DVC's `ui.write_json` prints). A date cannot be serialised (Python raises TypeError):
 * `onDate` decides what happens (throw, or the text to write).
 */
export function pyJsonDumps(v: PyValue, onDate: (d: PyDate) => never | string, sortKeys = true): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyJsonFloat(v);
  if (v instanceof PyFloat) return pyJsonFloat(v.value);
  if (v instanceof PyDate) return onDate(v);
  if (typeof v === 'string') return pyJsonString(v);
  if (Array.isArray(v)) return '[' + v.map((x) => pyJsonDumps(x, onDate, sortKeys)).join(', ') + ']';
  const keys = sortKeys ? Object.keys(v).sort(codePointCompare) : Object.keys(v);
  return '{' + keys.map((k) => `${pyJsonString(k)}: ${pyJsonDumps(v[k], onDate, sortKeys)}`).join(', ') + '}';
}

function pyJsonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return floatRepr(x);
}

/** DVC's `dict_filter`: drop every key in `exclude`, at any depth. */
export function dictFilter(v: PyValue, exclude: ReadonlySet<string>): PyValue {
  if (Array.isArray(v)) return v.map((x) => dictFilter(x, exclude));
  if (!isMap(v)) return v;
  const out: PyMap = {};
  for (const [k, x] of Object.entries(v)) if (!exclude.has(k)) out[k] = dictFilter(x, exclude);
  return out;
}
