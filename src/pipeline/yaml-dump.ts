/**
 * Writes YAML byte-for-byte like DVC's dumper (ruamel.yaml round-trip `YAML()` with
 * `default_flow_style=False`, width 80, indent 2, sequences not indented inside mappings).
 * Used for dvc.lock and .dvc files.
 *
 * Scalar style follows ruamel's `choose_scalar_style`: plain when the text is safe and
 * would not be re-read as another type by the YAML 1.2 resolver, else single-quoted,
 * else double-quoted (text with `'` or a line break, or special characters).
 *
 * Folding at width 80 follows ruamel >= 0.18.13 (what `pip install dvc` gives since June
 * 2025; checked byte for byte against ruamel 0.19.1): plain scalars break at a single space
 * when the column is >= 80, and before a word when `col + len(word) > 80` (the space before
 * it stays as trailing whitespace); single-quoted scalars keep the classic rule (break at a
 * single space once past column 80); double-quoted scalars break at a space without a `\`
 * when the line break reads back as that space, else with `\` + escaped space. Where ruamel
 * would write something that reads back changed (a break after a run of spaces, dvc#10970,
 * or its backslash-less break after an escape), carprice writes the lossless form instead.
 * `dumpYaml(doc, {rule: 'classic'})` emulates ruamel <= 0.17.21 (used by the tests).
 *
 * Example: `{schema: '2.0', stages: {a: {cmd: 'echo 1', outs: [{path: o, hash: md5}]}}}` ->
 * ```
 * schema: '2.0'
 * stages:
 *   a:
 *     cmd: echo 1
 *     outs:
 *     - path: o
 *       hash: md5
 * ```
 */
import { floatRepr, isMap, PyDate, PyFloat, type PyValue } from './py-value.js';
import { loadYaml, resolvePlain } from './yaml-load.js';

const WIDTH = 80;

/** Which ruamel line-folding rule to emulate (see the module comment). */
export type FoldRule = 'new' | 'classic';
let foldRule: FoldRule = 'new';

/** True when ruamel would write `s` as a plain (unquoted) scalar. */
export function isPlainSafe(s: string): boolean {
  if (s === '') return false;
  if (resolvePlain(s) !== s) return false; // would be re-read as bool/int/float/null/date
  if (s === '<<' || s === '=') return false;
  if (s.startsWith('---') || s.startsWith('...')) return false;
  if (/^[#,[\]{}&*!|>'"%@`]/.test(s)) return false;
  if (/^[-?:](?: |$)/.test(s)) return false;
  if (s.startsWith(' ') || s.endsWith(' ')) return false;
  if (s.includes(': ') || s.endsWith(':') || s.includes(' #')) return false;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029) return false;
    if (c === 0xfeff) return false;
    if (!isPrintable(c)) return false;
  }
  return true;
}

function isPrintable(c: number): boolean {
  return c === 0x09
    ? false
    : c === 0x0a ||
        (c >= 0x20 && c <= 0x7e) ||
        c === 0x85 ||
        (c >= 0xa0 && c <= 0xd7ff) ||
        (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff) ||
        (c >= 0x10000 && c <= 0x10ffff);
}

function needsDouble(s: string): boolean {
  if (s.includes("'") || s.includes('\n')) return true;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c !== 0x20 && !isPrintable(c)) return true;
  }
  return false;
}

const ESCAPES: Record<string, string> = {
  '\0': '0',
  '\x07': 'a',
  '\b': 'b',
  '\t': 't',
  '\n': 'n',
  '\x0b': 'v',
  '\f': 'f',
  '\r': 'r',
  '\x1b': 'e',
  '"': '"',
  '\\': '\\',
  '\x85': 'N',
  '\xa0': '_',
  '\u2028': 'L',
  '\u2029': 'P',
};

function escapeChar(ch: string): string {
  const c = ch.codePointAt(0)!;
  if (ESCAPES[ch] !== undefined) return '\\' + ESCAPES[ch];
  if (c <= 0xff) return '\\x' + c.toString(16).toUpperCase().padStart(2, '0');
  if (c <= 0xffff) return '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
  return '\\U' + c.toString(16).toUpperCase().padStart(8, '0');
}

/**
 * ruamel >= 0.18.12: a fold at a single space between words needs no `\` (the line break
 * reads back as that space); anything else (runs of spaces, quotes nearby, a break after
 * an escape) keeps the `\` continuation.
 */
function needBackslash(chars: string[], start: number, end: number): boolean {
  let spacePos = chars.indexOf(' ', end);
  if (spacePos < 0) return true;
  const nl = chars.slice(end, spacePos).indexOf('\n');
  if (nl >= 0) spacePos = end + nl;
  const next = chars[spacePos + 1];
  if (next === undefined) return true;
  if (chars[spacePos] === '\n' && next !== ' ') return true;
  const between = chars.slice(end, spacePos);
  if (
    !between.includes('"') &&
    !between.includes("'") &&
    next !== ' ' &&
    next !== '\n' &&
    !(chars[end - 1] === ' ' && chars[end] === ' ') &&
    start !== end
  )
    return false;
  return true;
}

/**
 * A double-quoted scalar starting at column `col`, folded at width 80 like the YAML
 * emitter's write_double_quoted: a break may happen at a space or right after an escape,
 * written as `\` + newline + indent (and a leading space of the continuation escaped).
 */
function doubleQuoted(s: string, col = 0, indent = 0, split = false): string {
  const chars = Array.from(s);
  let out = '"';
  col += 1;
  let start = 0;
  for (let end = 0; end <= chars.length; end++) {
    const ch = end < chars.length ? chars[end] : undefined;
    const c = ch === undefined ? 0 : ch.codePointAt(0)!;
    if (
      ch === undefined ||
      '"\\\x85\u2028\u2029\uFEFF'.includes(ch) ||
      !((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000)
    ) {
      if (start < end) {
        const data = chars.slice(start, end).join('');
        out += data;
        col += end - start;
        start = end;
      }
      if (ch !== undefined) {
        const data = escapeChar(ch);
        out += data;
        col += data.length;
        start = end + 1;
      }
    }
    if (split && end > 0 && end < chars.length - 1 && (ch === ' ' || start >= end) && col + (end - start) > WIDTH) {
      const backslash = foldRule === 'classic' || needBackslash(chars, start, end);
      const data = chars.slice(start, end).join('') + (backslash ? '\\' : '');
      if (start < end) start = end;
      out += data + '\n' + ' '.repeat(indent);
      col = indent;
      if (chars[start] === ' ') {
        if (backslash) {
          out += '\\';
          col += 1;
        } else start += 1; // the line break itself reads back as this space
      }
    }
  }
  return out + '"';
}

/**
 * Write `text` as words separated by spaces starting at column `col`, folding at width 80
 * with continuation indent `indent`. `open`/`close` are quote characters (may be '').
 */
function folded(text: string, col: number, indent: number, open: string, close: string): string {
  let out = open;
  col += open.length;
  const pad = ' '.repeat(indent);
  // Tokens: runs of spaces and words.
  const tokens = text.match(/ +|[^ ]+/g) ?? [];
  let prevSpaces = open === '' ? 1 : 0; // the space after `key:` counts for plain scalars
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t[0] === ' ') {
      const isLast = i === tokens.length - 1;
      if (t.length === 1 && (foldRule === 'new' ? col >= WIDTH : col > WIDTH) && i > 0 && !isLast) {
        out += '\n' + pad;
        col = indent;
        prevSpaces = 0;
        continue;
      }
      out += t;
      col += t.length;
      prevSpaces = t.length;
      continue;
    }
    const word = i === tokens.length - 1 ? t + close : t;
    if (foldRule === 'new' && prevSpaces === 1 && col + t.length > WIDTH && col > indent) {
      out += '\n' + pad;
      col = indent;
    }
    out += word;
    col += word.length;
    prevSpaces = 0;
  }
  if (tokens.length === 0 || tokens[tokens.length - 1][0] === ' ') out += close;
  return out;
}

/** A string scalar written at column `col` whose continuation lines indent at `indent`. */
function stringScalar(s: string, col: number, indent: number): string {
  if (isPlainSafe(s)) return folded(s, col, indent, '', '');
  if (!needsDouble(s)) {
    const saved = foldRule;
    foldRule = 'classic'; // ruamel folds single-quoted scalars with the classic rule in every version
    try {
      return folded(s.replace(/'/g, "''"), col, indent, "'", "'");
    } finally {
      foldRule = saved;
    }
  }
  const text = doubleQuoted(s, col, indent, true);
  if (foldRule === 'new' && text.includes('\n')) {
    // ruamel >= 0.18.12 sometimes drops the `\` where it is needed (after an escape) and
    // the value would read back changed; write the lossless classic form then.
    const back = loadYaml(`k: ${text}\n`, 'check').value as { k?: unknown } | null;
    if (back?.k !== s) {
      const saved = foldRule;
      foldRule = 'classic';
      try {
        return doubleQuoted(s, col, indent, true);
      } finally {
        foldRule = saved;
      }
    }
  }
  return text;
}

/** One scalar (not a container) as text. */
function scalar(v: PyValue, col: number, indent: number): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatText(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PyFloat) return floatText(v.value);
  if (v instanceof PyDate) return v.text;
  return stringScalar(v as string, col, indent);
}

function floatText(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (x === Infinity) return '.inf';
  if (x === -Infinity) return '-.inf';
  return floatRepr(x);
}

function isEmptyContainer(v: PyValue): string | undefined {
  if (Array.isArray(v) && v.length === 0) return '[]';
  if (isMap(v) && Object.keys(v).length === 0) return '{}';
  return undefined;
}

function keyText(k: string): string {
  return isPlainSafe(k) ? k : needsDouble(k) ? doubleQuoted(k) : `'${k.replace(/'/g, "''")}'`;
}

/** Emit a mapping whose keys start at column `col`; the first key is written already at `col`. */
function emitMap(m: Record<string, PyValue>, col: number, lines: string[], firstPrefix: string | undefined): void {
  let first = true;
  for (const [k, v] of Object.entries(m)) {
    const prefix = first && firstPrefix !== undefined ? firstPrefix : ' '.repeat(col);
    first = false;
    const kt = keyText(k);
    const empty = isEmptyContainer(v);
    if (empty !== undefined) lines.push(`${prefix}${kt}: ${empty}`);
    else if (Array.isArray(v)) {
      lines.push(`${prefix}${kt}:`);
      emitSeq(v, col, lines);
    } else if (isMap(v)) {
      lines.push(`${prefix}${kt}:`);
      emitMap(v, col + 2, lines, undefined);
    } else if (v === null) lines.push(`${prefix}${kt}:`);
    else {
      const start = col + kt.length + 2;
      lines.push(`${prefix}${kt}: ${scalar(v, start, col + 2)}`);
    }
  }
}

/** Emit a sequence whose dashes sit at column `col`. */
function emitSeq(items: PyValue[], col: number, lines: string[]): void {
  const dash = ' '.repeat(col) + '- ';
  for (const item of items) {
    const empty = isEmptyContainer(item);
    if (empty !== undefined) lines.push(dash + empty);
    else if (isMap(item)) emitMap(item, col + 2, lines, dash);
    else if (Array.isArray(item)) {
      // `- - x`: nested sequence starts on the dash line.
      const sub: string[] = [];
      emitSeq(item, col + 2, sub);
      sub[0] = dash + sub[0].slice(col + 2);
      lines.push(...sub);
    } else if (item === null) lines.push(dash);
    else lines.push(dash + scalar(item, col + 2, col + 2));
  }
}

/**
 * Serialize a document (a mapping) exactly like DVC's YAML dumper; ends with "\n".
 * `rule: 'classic'` emulates ruamel <= 0.17.21 folding (used to cross-check the emitter).
 */
export function dumpYaml(doc: Record<string, PyValue>, opts: { rule?: FoldRule } = {}): string {
  const empty = isEmptyContainer(doc);
  if (empty !== undefined) return empty + '\n';
  const lines: string[] = [];
  const saved = foldRule;
  foldRule = opts.rule ?? 'new';
  try {
    emitMap(doc, 0, lines, undefined);
  } finally {
    foldRule = saved;
  }
  return lines.join('\n') + '\n';
}
