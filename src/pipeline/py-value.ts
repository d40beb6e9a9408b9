/**
 * Values as DVC (Python) sees them after loading YAML with ruamel's YAML 1.2 safe loader.
 *
 * JavaScript has one number type; Python has int and float, and DVC writes them back
 * differently (`1` vs `1.0`). So a float is kept as a `PyFloat` box, ints are plain
 * numbers (or bigint beyond 2^53), and a YAML date stays a `PyDate` (written unquoted).
 * This module also gives Python's `str()`, `repr(float)` and `==` for these values,
 * which the lock writer, `params diff` and interpolation need.
 */

/** A Python float (kept apart from ints so `1.0` round-trips as `1.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
}

/** A YAML 1.2 timestamp that the safe loader turns into a date/datetime; kept as its text. */
export class PyDate {
  constructor(readonly text: string) {}

  /** Python's type name for it: `date` for a day, `datetime` when it has a time. */
  get typeName(): 'date' | 'datetime' {
    return /^\d{4}-\d\d-\d\d$/.test(this.text) ? 'date' : 'datetime';
  }
}

/** The first date inside a value, with its dotted path (`a.b.1`, as DVC names it). */
export function findDatePath(v: PyValue, path: string): { path: string; date: PyDate } | undefined {
  if (v instanceof PyDate) return { path, date: v };
  const entries: Array<[string, PyValue]> = Array.isArray(v)
    ? v.map((x, i) => [String(i), x])
    : isMap(v)
      ? Object.entries(v)
      : [];
  for (const [k, x] of entries) {
    const found = findDatePath(x, path ? `${path}.${k}` : k);
    if (found) return found;
  }
  return undefined;
}

/**
 * DVC's refusal of a date in a file it reads for `${}` interpolation (params.yaml beside
 * dvc.yaml, `vars` files), with the fix. `file` is the file as DVC names it.
 */
export function contextDateMessage(file: string, found: { path: string; date: PyDate }): string {
  return `Unsupported value of type '${found.date.typeName}' in '${file}:${found.path}': DVC cannot read dates in the files it interpolates \${} from (params.yaml, vars files); quote it ('${found.date.text}') to keep it as text`;
}

/** Any value a params/lock/dvc.yaml file can hold. */
export type PyValue = null | boolean | number | bigint | string | PyFloat | PyDate | PyValue[] | PyMap;

/** A mapping with insertion-ordered string keys. */
export interface PyMap {
  [key: string]: PyValue;
}

/** True for a plain mapping (not a list, box or null). */
export function isMap(v: unknown): v is PyMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat) && !(v instanceof PyDate);
}

/** Numeric value of an int/float/bool for comparisons, or undefined. */
function numeric(v: PyValue): number | bigint | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof PyFloat) return v.value;
  return undefined;
}

/**
 * Python `==`: 1 == 1.0 == True, lists element-wise, dicts by key set and values.
 * Inside a list or dict Python compares items with an identity shortcut, and every NaN
 * the YAML loader makes is the same object, so a NaN nested in a dict or list equals a
 * NaN (while a NaN compared directly does not): `{'a': nan} == {'a': nan}` is True.
 */
export function pyEqual(a: PyValue, b: PyValue, nested = false): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined || nb !== undefined) {
    if (na === undefined || nb === undefined) return false;
    if (nested && a instanceof PyFloat && b instanceof PyFloat && Number.isNaN(a.value) && Number.isNaN(b.value))
      return true;

    return na == nb;
  }
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a instanceof PyDate || b instanceof PyDate)
    return a instanceof PyDate && b instanceof PyDate && a.text === b.text;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => pyEqual(x, b[i], true));
  }
  const ma = a as PyMap;
  const mb = b as PyMap;
  const ka = Object.keys(ma);
  if (ka.length !== Object.keys(mb).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(mb, k) && pyEqual(ma[k], mb[k], true));
}

/**
 * Python `repr(float)` (shortest round-trip digits; fixed notation for decimal exponents
 * -4..15 with `.0` on whole values, else `1e-05` / `1.5e+16`), lower-cased like ruamel.
 * Examples: 0.1 -> "0.1", 1 -> "1.0", 1e-5 -> "1e-05", 1e16 -> "1e+16".
 */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expStr] = Math.abs(x).toExponential().split('e');
  const exp = Number(expStr);
  const digits = mant.replace('.', '');
  if (exp >= -4 && exp < 16) {
    let s: string;
    if (exp < 0) s = '0.' + '0'.repeat(-exp - 1) + digits;
    else if (digits.length <= exp + 1) s = digits + '0'.repeat(exp + 1 - digits.length) + '.0';
    else s = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
    return sign + s;
  }
  const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  const e = Math.abs(exp) < 10 ? '0' + Math.abs(exp) : String(Math.abs(exp));
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
}

/** Python `repr()` of a string (single quotes unless it contains one and no double quote). */
function strRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return q + out + q;
}

/** Python `repr()` of a value (used inside containers by `str()`). */
export function pyRepr(v: PyValue): string {
  if (typeof v === 'string') return strRepr(v);
  if (v instanceof PyDate) return `datetime.date(${v.text.split('-').map(Number).join(', ')})`;
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (isMap(v))
    return (
      '{' +
      Object.entries(v)
        .map(([k, x]) => `${strRepr(k)}: ${pyRepr(x)}`)
        .join(', ') +
      '}'
    );
  return pyStr(v);
}

/** Python `str()` of a value: `True`, `None`, `0.1`, `[1, 2]`, `{'a': 1}`. */
export function pyStr(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatRepr(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (v instanceof PyDate) return v.text;
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

/** Deep copy of a value (boxes are immutable and shared). */
export function cloneValue<T extends PyValue>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (isMap(v)) {
    const out: PyMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneValue(x);
    return out as T;
  }
  return v;
}

/** Compare strings by Unicode code point, like Python's `sorted()` on str. */
export function codePointCompare(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      // Surrogates (astral characters) sort after every BMP character in code point order.
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa !== sb) return sa ? 1 : -1;
      return ca - cb;
    }
  }
  return a.length - b.length;
}
