/**
 * `${...}` interpolation in dvc.yaml, with DVC's rules (dvc/parsing/interpolate.py):
 * - a string that is exactly `${x}` takes x's native value (number, bool, dict...);
 * - otherwise every `${x}` is replaced by `to_str(x)`: bools as `true`/`false`, floats as
 *   Python `str()`, and (only inside `cmd`) a dict as CLI flags
 *   (`{lr: 0.1, name: a b, v: true, l: [1, 2]}` -> `--lr 0.1 --name 'a b' --v --l 1 2`);
 * - `\${` escapes a literal `${`;
 * - the expression is `name(.attr|[index])*`, `a[0]` meaning `a.0`.
 */
import { AppError } from '../core/errors.js';
import { isMap, pyStr, type PyMap, type PyValue } from './py-value.js';

const KEYCRE = /(?<!\\)\$\{(.*?)\}/g;

/** Where an interpolation happens, for error messages. */
export interface Where {
  file: string;
  line?: number;
  key: string;
}

function fail(where: Where, msg: string): never {
  throw new AppError('PIPELINE_INVALID', `${where.file}${where.line ? `:${where.line}` : ''}: ${where.key}: ${msg}`, {
    details: { file: where.file, line: where.line, key: where.key },
  });
}

/** Look up a dotted/indexed expression in the context. */
export function lookup(ctx: PyMap, expr: string, where: Where): PyValue {
  const norm = expr.trim().replace(/\[\s*([^\]]*?)\s*\]/g, '.$1');
  if (!/^[^.\s]+(\.[^.\s]+)*$/.test(norm)) fail(where, `invalid interpolation expression \${${expr}}`);
  let cur: PyValue = ctx;
  for (const part of norm.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part) && Number(part) < cur.length) cur = cur[Number(part)];
    else if (isMap(cur) && Object.prototype.hasOwnProperty.call(cur, part)) cur = cur[part];
    else
      fail(
        where,
        `could not find '${norm}' (no '${part}') in the interpolation context; define it in params.yaml or in vars`,
      );
  }
  return cur;
}

/** Python's shlex.quote. */
export function shlexQuote(s: string): string {
  if (s === '') return "''";
  if (!/[^\w@%+=:,./-]/.test(s)) return s;
  return "'" + s.replace(/'/g, `'"'"'`) + "'";
}

function flatten(m: PyMap, prefix = '', out: Array<[string, PyValue]> = []): Array<[string, PyValue]> {
  for (const [k, v] of Object.entries(m)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isMap(v)) flatten(v, key, out);
    else out.push([key, v]);
  }
  return out;
}

/** DVC's to_str for an interpolated value inside a larger string. */
export function toStr(v: PyValue, allowDict: boolean, where: Where, expr: string): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (isMap(v)) {
    if (!allowDict) fail(where, `cannot interpolate a dict (\${${expr}}) into a string outside 'cmd'`);
    let result = '';
    for (const [k, x] of flatten(v)) {
      if (typeof x === 'boolean') {
        if (x) result += `--${k} `;
      } else if (typeof x === 'string') result += `--${k} ${shlexQuote(x)} `;
      else if (Array.isArray(x)) {
        x.forEach((item, n) => {
          if (Array.isArray(item) || isMap(item))
            fail(where, `cannot interpolate nested lists/dicts of \${${expr}}.${k} into cmd`);
          const s = typeof item === 'string' ? shlexQuote(item) : pyStr(item);
          result += n > 0 ? `${s} ` : `--${k} ${s} `;
        });
      } else result += `--${k} ${pyStr(x)} `;
    }
    return result.trimEnd();
  }
  if (Array.isArray(v))
    fail(
      where,
      `cannot interpolate a list (\${${expr}}) into a string; only numbers, strings and booleans (and dicts in cmd)`,
    );
  return pyStr(v);
}

/** Interpolate one string. */
export function interpolateString(s: string, ctx: PyMap, where: Where, allowDict: boolean): PyValue {
  const matches = [...s.matchAll(KEYCRE)];
  if (matches.length === 0) return s.replace(/\\\$\{/g, '${');
  if (matches.length === 1 && matches[0][0] === s) return lookup(ctx, matches[0][1], where);
  let out = '';
  let last = 0;
  for (const m of matches) {
    out += s.slice(last, m.index);
    out += toStr(lookup(ctx, m[1], where), allowDict, where, m[1]);
    last = m.index + m[0].length;
  }
  out += s.slice(last);
  return out.replace(/\\\$\{/g, '${');
}

/**
 * Interpolate every string inside a value, mapping keys included (DVC's `recurse` does
 * both, so `- ${out_dir}/info.json: {cache: false}` works).
 */
export function interpolate(v: PyValue, ctx: PyMap, where: Where, allowDict = false): PyValue {
  if (typeof v === 'string') return interpolateString(v, ctx, where, allowDict);
  if (Array.isArray(v)) return v.map((x) => interpolate(x, ctx, where, allowDict));
  if (isMap(v)) {
    const out: PyMap = {};
    for (const [k, x] of Object.entries(v)) {
      const kw = { ...where, key: `${where.key}.${k}` };
      const rk = interpolateString(k, ctx, kw, false);
      out[typeof rk === 'string' ? rk : pyStr(rk)] = interpolate(x, ctx, kw, allowDict);
    }
    return out;
  }
  return v;
}

/** True when a value contains `${` anywhere (used to reject interpolation inside vars). */
export function hasInterpolation(v: PyValue): boolean {
  if (typeof v === 'string') return [...v.matchAll(KEYCRE)].length > 0;
  if (Array.isArray(v)) return v.some(hasInterpolation);
  if (isMap(v)) return Object.values(v).some(hasInterpolation);
  return false;
}
