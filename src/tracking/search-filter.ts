/**
 * MLflow's search filter and order_by grammar (search_utils.py; spec §4), parsed into
 * typed comparisons that a backend compiles to a query. The grammar:
 *
 *   filter     := comparison ( AND comparison )*
 *   comparison := identifier op value
 *   identifier := [type '.'] key          key bare or quoted with `backticks` / "double quotes"
 *   op         := = | != | > | >= | < | <= | LIKE | ILIKE | IN | NOT IN
 *   value      := 'string' | "string" | number | ( 'a', 'b', ... )
 *
 * Example: `metrics.rmse < 1 and params.model = 'ridge'` gives two comparisons,
 * {type: metric, key: rmse, op: <, value: 1} and {type: param, key: model, op: =, value: 'ridge'}.
 * No OR, no parentheses grouping. Each entity (runs, experiments, registered models, model
 * versions) then checks which identifiers and operators it allows; violations are 400s.
 */
import { AppError } from '../core/errors.js';

export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';
export type KeyType = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

export interface Comparison {
  type: KeyType;
  key: string;
  op: Comparator;
  value: string | number | string[];
}

export interface OrderClause {
  type: KeyType;
  key: string;
  ascending: boolean;
}

const PREFIXES: Record<string, KeyType> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

function bad(message: string): AppError {
  return new AppError('INVALID_PARAMETER_VALUE', message);
}

/** A cursor over the filter text. */
class Scanner {
  pos = 0;
  constructor(readonly text: string) {}
  skipWs(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }
  done(): boolean {
    this.skipWs();
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  quoted(): string {
    const q = this.text[this.pos];
    const end = this.text.indexOf(q, this.pos + 1);
    if (end < 0) throw bad(`Invalid filter string '${this.text}': unterminated quote ${q} at position ${this.pos}.`);
    const s = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return s;
  }
  match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m || m.index !== this.pos) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
}

function parseIdentifier(s: Scanner, context: string): { type: KeyType; key: string } {
  s.skipWs();
  const c = s.peek();
  if (c === '`' || c === '"') return { type: 'attribute', key: s.quoted() };
  const word = s.match(/[A-Za-z_][\w]*/y);
  if (!word) throw bad(`Invalid ${context} '${s.text}': expected an identifier at position ${s.pos}.`);
  if (s.peek() === '.') {
    const type = PREFIXES[word.toLowerCase()] ?? PREFIXES[word];
    if (!type)
      throw bad(
        `Invalid entity type '${word}' in ${context} '${s.text}'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset'].`,
      );
    s.pos++;
    const q = s.peek();
    if (q === '`' || q === '"') return { type, key: s.quoted() };
    const key = s.match(/[\w.\-/:]+/y);
    if (!key) throw bad(`Invalid ${context} '${s.text}': expected a key after '${word}.'.`);
    return { type, key };
  }
  return { type: 'attribute', key: word };
}

function parseOp(s: Scanner): Comparator {
  s.skipWs();
  const sym = s.match(/!=|>=|<=|==|=|>|</y);
  if (sym) return (sym === '==' ? '=' : sym) as Comparator;
  const word = s.match(/not\s+in\b|ilike\b|like\b|in\b/iy);
  if (word) return word.toUpperCase().replace(/\s+/, ' ') as Comparator;
  throw bad(
    `Invalid comparator at position ${s.pos} in filter string '${s.text}'. Expected one of =, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN.`,
  );
}

function parseValue(s: Scanner): string | number | string[] {
  s.skipWs();
  const c = s.peek();
  if (c === "'" || c === '"') return s.quoted();
  if (c === '(') {
    s.pos++;
    const items: string[] = [];
    for (;;) {
      s.skipWs();
      const q = s.peek();
      if (q !== "'" && q !== '"')
        throw bad(`While parsing a list in the query, expected string values in parentheses, in filter '${s.text}'.`);
      items.push(s.quoted());
      s.skipWs();
      if (s.peek() === ',') {
        s.pos++;
        continue;
      }
      if (s.peek() === ')') {
        s.pos++;
        break;
      }
      throw bad(`Invalid list in filter string '${s.text}' at position ${s.pos}.`);
    }
    return items;
  }
  const num = s.match(/[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(?![\w.])/y);
  if (num !== undefined) return Number(num);
  throw bad(
    `Parameter value is either not quoted or unidentified quote types used for string value at position ${s.pos} in filter '${s.text}'. Use single or double quotes.`,
  );
}

/**
 * Bounds on one filter, so a hostile filter is a 400 and not a query the database refuses
 * (SQLite's expression depth limit is 1000) or a very long scan.
 */
export const MAX_FILTER_CLAUSES = 100;
export const MAX_FILTER_LIST_VALUES = 10_000;

/** Parse a filter into comparisons (an empty or blank filter gives none). */
export function parseFilter(filter: string | undefined): Comparison[] {
  if (filter === undefined || filter.trim() === '') return [];
  const s = new Scanner(filter);
  const out: Comparison[] = [];
  let listValues = 0;
  for (;;) {
    const id = parseIdentifier(s, 'filter string');
    const op = parseOp(s);
    const value = parseValue(s);
    out.push({ ...id, op, value });
    if (out.length > MAX_FILTER_CLAUSES)
      throw bad(
        `Invalid filter: more than ${MAX_FILTER_CLAUSES} comparisons joined by AND; narrow the search or split it into several requests.`,
      );
    if (Array.isArray(value) && (listValues += value.length) > MAX_FILTER_LIST_VALUES)
      throw bad(
        `Invalid filter: more than ${MAX_FILTER_LIST_VALUES} values in IN lists; split the search into several requests.`,
      );
    if (s.done()) break;
    if (!s.match(/and\b/iy))
      throw bad(
        `Invalid clause(s) in filter string: '${filter}'. Only AND is supported between comparisons (no OR, no grouping).`,
      );
  }
  return out;
}

/** Parse one order_by clause: `<identifier> [ASC|DESC]`. */
export function parseOrderBy(clause: string): OrderClause {
  const s = new Scanner(clause);
  const id = parseIdentifier(s, 'order_by clause');
  let ascending = true;
  if (!s.done()) {
    const dir = s.match(/asc\b|desc\b/iy);
    if (!dir || !s.done())
      throw bad(`Invalid order_by clause '${clause}'. Expected '<identifier> [ASC|DESC]', e.g. 'metrics.rmse DESC'.`);
    ascending = dir.toUpperCase() === 'ASC';
  }
  return { ...id, ascending };
}

/** What an entity allows for one identifier. */
export interface KeyRule {
  ops: readonly Comparator[];
  kind: 'string' | 'number';
  /** Column-level name the key maps to (aliases resolved). */
  canonical?: string;
}

export const STRING_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
export const NUMBER_OPS: readonly Comparator[] = ['=', '!=', '>', '>=', '<', '<='];

/** Check one comparison against a rule: operator allowed and value of the right kind. */
export function checkComparison(c: Comparison, rule: KeyRule, label: string): Comparison {
  if (!rule.ops.includes(c.op))
    throw bad(
      `Invalid comparator '${c.op}' for ${label} '${c.key}'. Only ${rule.ops.map((o) => `'${o}'`).join(', ')} are supported.`,
    );
  if (c.op === 'IN' || c.op === 'NOT IN') {
    if (!Array.isArray(c.value)) throw bad(`Expected a list of quoted strings after ${c.op} for ${label} '${c.key}'.`);
  } else if (rule.kind === 'number' && typeof c.value !== 'number') {
    throw bad(`Expected numeric value type for ${label} '${c.key}', got ${JSON.stringify(c.value)}.`);
  } else if (rule.kind === 'string' && typeof c.value !== 'string') {
    throw bad(
      `Parameter value is either not quoted or unidentified quote types used for string value ${JSON.stringify(c.value)} of ${label} '${c.key}'. Use single quotes.`,
    );
  }
  return { ...c, key: rule.canonical ?? c.key };
}

/**
 * A filter clause that selects entities whose string attribute `key` equals `value`, in a
 * form both carprice and MLflow servers parse. MLflow's grammar has no escape inside
 * quotes ('O''Brien' is read literally with both quotes), so a value holding a single
 * quote is written in double quotes, and one holding both kinds becomes a LIKE pattern
 * with `_` for each quote character; `exact` is then false and the caller must keep only
 * the entities whose value really equals `value`. Example:
 *   equalsClause('name', "O'Brien")  -> { clause: `name = "O'Brien"`, exact: true }
 *   equalsClause('name', `a'b"c`)    -> { clause: `name LIKE 'a_b_c'`, exact: false }
 */
export function equalsClause(key: string, value: string): { clause: string; exact: boolean } {
  if (!value.includes("'")) return { clause: `${key} = '${value}'`, exact: true };
  if (!value.includes('"')) return { clause: `${key} = "${value}"`, exact: true };
  return { clause: `${key} LIKE '${value.replace(/['"]/g, '_')}'`, exact: false };
}
