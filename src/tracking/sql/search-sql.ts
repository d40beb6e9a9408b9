/**
 * Compiles parsed search filters and order_by clauses (../search-filter.ts) into SQL
 * WHERE / ORDER BY fragments for runs, experiments, registered models and model versions,
 * in the SQL that SQLite and PostgreSQL both accept (the schema's "C" collation makes
 * PostgreSQL compare text byte-wise, as SQLite does).
 * Each entity's allowed identifiers follow spec §4.2-4.5. Metric/param/tag comparisons
 * become EXISTS sub-queries on the (run_uuid, key) primary keys, so a filter over 10,000
 * runs is a handful of index probes per run. Values are always bound, never spliced.
 * LIKE is case-sensitive (the connection sets case_sensitive_like); ILIKE lowers both sides.
 */
import { AppError } from '../../core/errors.js';
import {
  checkComparison,
  NUMBER_OPS,
  parseFilter,
  parseOrderBy,
  STRING_OPS,
  type Comparator,
  type Comparison,
  type KeyRule,
} from '../search-filter.js';
import type { Steps } from './steps.js';

/** A SQL fragment with its bound values. */
export interface Fragment {
  sql: string;
  params: unknown[];
}

function bad(message: string): AppError {
  return new AppError('INVALID_PARAMETER_VALUE', message);
}

/** `column op ?` for one comparison (handles LIKE/ILIKE and IN lists). */
function compare(column: string, op: Comparator, value: Comparison['value']): Fragment {
  if (op === 'IN' || op === 'NOT IN') {
    const list = value as string[];
    if (list.length === 0) return { sql: op === 'IN' ? '1=0' : '1=1', params: [] };
    return { sql: `${column} ${op} (${list.map(() => '?').join(', ')})`, params: list };
  }
  if (op === 'ILIKE') return { sql: `lower(${column}) LIKE lower(?)`, params: [value] };
  return { sql: `${column} ${op} ?`, params: [value] };
}

function and(parts: Fragment[]): Fragment {
  return { sql: parts.map((p) => `(${p.sql})`).join(' AND ') || '1=1', params: parts.flatMap((p) => p.params) };
}

// ---------------------------------------------------------------- runs

const RUN_ATTRS: Record<string, KeyRule & { column: string }> = {
  run_id: { ops: [...STRING_OPS, 'IN', 'NOT IN'], kind: 'string', column: 'r.run_uuid' },
  run_name: { ops: STRING_OPS, kind: 'string', column: 'r.name' },
  'run name': { ops: STRING_OPS, kind: 'string', column: 'r.name' },
  status: { ops: STRING_OPS, kind: 'string', column: 'r.status' },
  user_id: { ops: STRING_OPS, kind: 'string', column: 'r.user_id' },
  artifact_uri: { ops: STRING_OPS, kind: 'string', column: 'r.artifact_uri' },
  start_time: { ops: NUMBER_OPS, kind: 'number', column: 'r.start_time' },
  created: { ops: NUMBER_OPS, kind: 'number', column: 'r.start_time' },
  end_time: { ops: NUMBER_OPS, kind: 'number', column: 'r.end_time' },
};

function runAttr(key: string): (KeyRule & { column: string }) | undefined {
  const lower = key.toLowerCase();
  return RUN_ATTRS[key] ?? (lower === 'run name' || lower === 'created' ? RUN_ATTRS[lower] : undefined);
}

const DATASET_COLUMNS: Record<string, string> = { name: 'd.name', digest: 'd.digest', context: 'd.context' };

/** WHERE fragment for a run filter (table alias `r`). */
export function runFilterSql(filter: string | undefined): Fragment {
  const parts: Fragment[] = [];
  for (const raw of parseFilter(filter)) {
    switch (raw.type) {
      case 'metric': {
        const c = checkComparison(raw, { ops: NUMBER_OPS, kind: 'number' }, 'metric');
        const cmp = compare('m.value', c.op, c.value);
        parts.push({
          sql: `EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ? AND m.is_nan = 0 AND ${cmp.sql})`,
          params: [c.key, ...cmp.params],
        });
        break;
      }
      case 'param':
      case 'tag': {
        const table = raw.type === 'param' ? 'params' : 'tags';
        const c = checkComparison(raw, { ops: STRING_OPS, kind: 'string' }, raw.type);
        const cmp = compare('x.value', c.op, c.value);
        parts.push({
          sql: `EXISTS (SELECT 1 FROM ${table} x WHERE x.run_uuid = r.run_uuid AND x.key = ? AND ${cmp.sql})`,
          params: [c.key, ...cmp.params],
        });
        break;
      }
      case 'attribute': {
        const rule = runAttr(raw.key);
        if (!rule)
          throw bad(
            `Invalid attribute key '${raw.key}' specified. Valid keys are 'run_id', 'run_name', 'status', 'user_id', 'artifact_uri', 'start_time', 'end_time', 'created'.`,
          );
        const c = checkComparison(raw, rule, 'attribute');
        const value =
          rule.column === 'r.run_uuid' && Array.isArray(c.value)
            ? c.value.filter((s) => s === s.toLowerCase())
            : c.value;
        parts.push(compare(rule.column, c.op, value));
        break;
      }
      case 'dataset': {
        const column = DATASET_COLUMNS[raw.key];
        if (!column)
          throw bad(`Invalid dataset key '${raw.key}' specified. Valid keys are 'name', 'digest', 'context'.`);
        const c = checkComparison(raw, { ops: [...STRING_OPS, 'IN', 'NOT IN'], kind: 'string' }, 'dataset');
        const cmp = compare(column, c.op, c.value);
        parts.push({
          sql: `EXISTS (SELECT 1 FROM run_inputs d WHERE d.run_uuid = r.run_uuid AND ${cmp.sql})`,
          params: cmp.params,
        });
        break;
      }
    }
  }
  return and(parts);
}

/** The runs a search covers (alias r): its experiments, lifecycle stages and filter. */
export function runScopeSql(experimentIds: number[], stages: string[], filter: string | undefined): Fragment {
  const where = runFilterSql(filter);
  return {
    sql: `r.experiment_id IN (${experimentIds.map(() => '?').join(',')}) AND r.lifecycle_stage IN (${stages.map(() => '?').join(',')}) AND ${where.sql}`,
    params: [...experimentIds, ...stages, ...where.params],
  };
}

/** One ORDER BY clause of a run search as SQL: the joins it needs and its sort terms. */
interface RunOrderTerm {
  joins: Fragment[];
  terms: string[];
  /** Set when the clause sorts on a metric, param or tag: the table and key it sorts on. */
  keyed?: { table: string; key: string; metric: boolean; dir: string };
}

function runOrderTerm(clause: string, alias: string): RunOrderTerm & { column?: string } {
  const o = parseOrderBy(clause);
  const dir = o.ascending ? 'ASC' : 'DESC';
  if (o.type === 'attribute') {
    const rule = runAttr(o.key);
    if (!rule)
      throw bad(
        `Invalid order_by key '${o.key}' in '${clause}'. Valid attributes are start_time, end_time, run_name, status, run_id, user_id, artifact_uri, created.`,
      );
    return { joins: [], terms: [`(${rule.column} IS NULL) ASC`, `${rule.column} ${dir}`], column: rule.column };
  }
  if (o.type === 'dataset') throw bad(`Ordering by dataset fields is not supported: '${clause}'.`);
  const metric = o.type === 'metric';
  const table = metric ? 'latest_metrics' : o.type === 'param' ? 'params' : 'tags';
  const a = alias;
  return {
    joins: [{ sql: `LEFT JOIN ${table} ${a} ON ${a}.run_uuid = r.run_uuid AND ${a}.key = ?`, params: [o.key] }],
    terms: [`(${a}.run_uuid IS NULL) ASC`, ...(metric ? [`${a}.is_nan ASC`] : []), `${a}.value ${dir}`],
    keyed: { table, key: o.key, metric, dir },
  };
}

/**
 * One ordered slice of a run search: every run of a part sorts before every run of the
 * next, and within a part runs sort by `order` (which ends with MLflow's tiebreak,
 * start_time DESC then run_id ASC).
 */
export interface RunSearchPart {
  /** What follows FROM: the runs (alias r) and the tables the order needs. */
  from: Fragment;
  /** A condition the part adds to the search's own. */
  where: Fragment;
  order: string;
}

/**
 * MLflow's run order as parts. Ordering on a metric sorts the runs having it (NaN last
 * whatever the direction), then the runs lacking it, by the remaining clauses. Written as
 * one ORDER BY, every matching run is sorted before the first page is cut; so when the
 * first clause is a metric, param or tag the search is split into the parts that order
 * implies: (1) runs with the key (metrics: not NaN) ordered by its value, which the
 * (key, is_nan, value) index hands over already sorted, so a page is an index walk that
 * stops after offset + max matches; (2) metrics only: runs whose value is NaN; (3) runs
 * lacking the key. Later parts are read only when a page reaches past the earlier ones
 * (collectRunPage). Any other order is one part.
 *
 * `walk` lists the keyed table first with CROSS JOIN, which makes SQLite (whose planner
 * otherwise starts from runs and sorts every match) walk that index; PostgreSQL plans
 * the join order by cost either way. A search that pins its runs by id should not walk.
 */
export function runSearchParts(orderBy: string[] | undefined, walk = true): RunSearchPart[] {
  const clauses = (orderBy ?? []).map((clause, i) => ({ ...runOrderTerm(clause, `o${i}`), clause }));
  const seenStart = clauses.some((c) => c.column === 'r.start_time');
  const seenId = clauses.some((c) => c.column === 'r.run_uuid');
  const tiebreak = [...(seenStart ? [] : ['r.start_time DESC']), ...(seenId ? [] : ['r.run_uuid ASC'])];
  const fromOf = (cs: RunOrderTerm[], head = 'runs r'): Fragment => {
    const js = cs.flatMap((c) => c.joins);
    return { sql: [head, ...js.map((j) => j.sql)].join(' '), params: js.flatMap((j) => j.params) };
  };
  const orderOf = (cs: RunOrderTerm[], first: string[] = []) =>
    [...first, ...cs.flatMap((c) => c.terms), ...tiebreak].join(', ');
  const none: Fragment = { sql: '1=1', params: [] };
  const head = clauses[0]?.keyed;
  if (!head) return [{ from: fromOf(clauses), where: none, order: orderOf(clauses) }];
  const rest = clauses.slice(1);
  const { table, key, metric, dir } = head;
  /** The runs having the key (with is_nan = nan for metrics), o0 being the key's row. */
  const having = (nan: number | undefined, first: string[]): RunSearchPart => {
    const on = `o0.run_uuid = r.run_uuid AND o0.key = ?${nan === undefined ? '' : ` AND o0.is_nan = ${nan}`}`;
    const order = orderOf(rest, first);
    if (!walk) {
      const from = fromOf(rest, `runs r JOIN ${table} o0 ON ${on}`);
      return { from: { sql: from.sql, params: [key, ...from.params] }, where: none, order };
    }
    return { from: fromOf(rest, `${table} o0 CROSS JOIN runs r`), where: { sql: on, params: [key] }, order };
  };
  const parts = [having(metric ? 0 : undefined, [`o0.value ${dir}`])];
  if (metric) parts.push(having(1, []));
  parts.push({
    from: fromOf(rest),
    where: {
      sql: `NOT EXISTS (SELECT 1 FROM ${table} o0 WHERE o0.run_uuid = r.run_uuid AND o0.key = ?)`,
      params: [key],
    },
    order: orderOf(rest),
  });
  return parts;
}

/** Whether a run filter names its runs by id (run_id = or IN): then the filter, not the order, should drive. */
export function runFilterPinsIds(filter: string | undefined): boolean {
  return parseFilter(filter).some(
    (c) => c.type === 'attribute' && runAttr(c.key)?.column === 'r.run_uuid' && (c.op === '=' || c.op === 'IN'),
  );
}

/** A run search part as SQL over the runs matching `base`: its page and its size. */
export interface RunPartSql {
  /** `SELECT <id> AS rid, <position> AS pos ... LIMIT ? OFFSET ?`, limit and offset still to bind. */
  page: Fragment;
  /** `SELECT count(*) ...`: how many runs the part holds. */
  count: Fragment;
}

/**
 * The statements for each part of a run search. `base` is the search's own condition on
 * runs (alias r, from runScopeSql with the same `filter`); `idColumn` is what the page
 * selects as rid (the hydrating query joins on it).
 */
export function runPartsSql(
  orderBy: string[] | undefined,
  filter: string | undefined,
  base: Fragment,
  idColumn: string,
): RunPartSql[] {
  return runSearchParts(orderBy, !runFilterPinsIds(filter)).map((p) => {
    const from = `FROM ${p.from.sql} WHERE ${base.sql} AND ${p.where.sql}`;
    const params = [...p.from.params, ...base.params, ...p.where.params];
    return {
      page: {
        sql: `SELECT ${idColumn} AS rid, row_number() OVER (ORDER BY ${p.order}) AS pos ${from} ORDER BY ${p.order} LIMIT ? OFFSET ?`,
        params,
      },
      count: { sql: `SELECT count(*) AS n ${from}`, params },
    };
  });
}

/**
 * The runs at [offset, offset + max) of a search split into parts: reads each part in
 * turn for what the page still lacks, and stops as soon as the page is full, so the
 * later parts (and their counts) cost nothing on the pages that do not reach them.
 * `rows(part, limit, offset)` reads a part's slice; `count(part)` its size, asked only
 * when a page starts past the end of a part whose size the slice did not reveal.
 */
export function* collectRunPage<P, R>(
  parts: readonly P[],
  max: number,
  offset: number,
  rows: (part: P, limit: number, offset: number) => Steps<R[]>,
  count: (part: P) => Steps<number>,
): Steps<R[]> {
  const page: R[] = [];
  let skip = offset;
  for (const part of parts) {
    const need = max - page.length;
    if (need <= 0) break;
    const got = yield* rows(part, need, skip);
    page.push(...got);
    if (got.length === need) break;
    // The part ended inside this page: it held skip + got.length runs when it gave any,
    // otherwise at most skip, and then its size says how far into the next part to start.
    skip = got.length > 0 ? 0 : Math.max(0, skip - (skip > 0 ? yield* count(part) : 0));
  }
  return page;
}

/**
 * A `tags.<key>` (or `params.<key>`) comparison as an EXISTS probe of the key/value table
 * in `from` (alias x, already joined to its entity): one primary-key lookup per row.
 */
function keyValueExists(raw: Comparison, from: string): Fragment {
  const c = checkComparison(raw, { ops: STRING_OPS, kind: 'string' }, raw.type);
  const cmp = compare('x.value', c.op, c.value);
  return { sql: `EXISTS (SELECT 1 FROM ${from} AND x.key = ? AND ${cmp.sql})`, params: [c.key, ...cmp.params] };
}

type AttrRules = Record<string, KeyRule & { column: string }>;

/**
 * The WHERE fragment of an entity's filter comparisons (after `parts`): attribute keys by
 * their rule and column in `attrs`, key/value entity types (tags, params) as EXISTS probes of
 * the table `keyValues` names for them, anything else refused with `invalid`'s message.
 */
function entityFilterSql(
  comparisons: readonly Comparison[],
  o: { attrs: AttrRules; keyValues: Partial<Record<Comparison['type'], string>>; invalid: (c: Comparison) => string },
  parts: Fragment[] = [],
): Fragment {
  for (const raw of comparisons) {
    const table = o.keyValues[raw.type];
    if (table) parts.push(keyValueExists(raw, table));
    else if (raw.type === 'attribute' && Object.hasOwn(o.attrs, raw.key)) {
      const rule = o.attrs[raw.key];
      const c = checkComparison(raw, rule, 'attribute');
      parts.push(compare(rule.column, c.op, c.value));
    } else throw bad(o.invalid(raw));
  }
  return and(parts);
}

// ---------------------------------------------------------------- experiments

const EXP_ATTRS: AttrRules = {
  name: { ops: STRING_OPS, kind: 'string', column: 'e.name' },
  creation_time: { ops: NUMBER_OPS, kind: 'number', column: 'e.creation_time' },
  last_update_time: { ops: NUMBER_OPS, kind: 'number', column: 'e.last_update_time' },
};

/** WHERE fragment for an experiment filter (table alias `e`). */
export function experimentFilterSql(filter: string | undefined): Fragment {
  return entityFilterSql(parseFilter(filter), {
    attrs: EXP_ATTRS,
    keyValues: { tag: 'experiment_tags x WHERE x.experiment_id = e.experiment_id' },
    invalid: (raw) =>
      raw.type === 'attribute'
        ? `Invalid attribute key '${raw.key}' specified. Valid keys are 'name', 'creation_time', 'last_update_time'.`
        : `Invalid entity type '${raw.type}' in experiment filter. Valid types are 'attribute' and 'tag'.`,
  });
}

const EXP_ORDER: Record<string, string> = {
  name: 'e.name',
  experiment_id: 'e.experiment_id',
  creation_time: 'e.creation_time',
  last_update_time: 'e.last_update_time',
};

/** How an entity's order_by clauses (attributes only) become ORDER BY terms. */
interface AttributeOrder {
  /** order_by key -> SQL column. */
  columns: Record<string, string>;
  /** The clauses when none is given. */
  defaults: string[];
  /** Terms appended for a total order, each unless its column is already ordered on. */
  tiebreaks: [column: string, direction: 'ASC' | 'DESC'][];
  /** Each key at most once (the registry refuses repeats; experiments allow them). */
  once: boolean;
  /** The message for a clause naming no known attribute. */
  invalid: (clause: string) => string;
}

function attributeOrderSql(orderBy: string[] | undefined, rule: AttributeOrder): string {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const clause of orderBy && orderBy.length ? orderBy : rule.defaults) {
    const o = parseOrderBy(clause);
    const column = o.type === 'attribute' ? rule.columns[o.key] : undefined;
    if (!column) throw bad(rule.invalid(clause));
    if (rule.once && seen.has(column))
      throw bad(`'${o.key}' was specified more than once in order_by; list each field once.`);
    seen.add(column);
    terms.push(`${column} ${o.ascending ? 'ASC' : 'DESC'}`);
  }
  for (const [column, direction] of rule.tiebreaks) if (!seen.has(column)) terms.push(`${column} ${direction}`);
  return terms.join(', ');
}

/** ORDER BY for experiments; default creation_time DESC, tiebreak experiment_id ASC. */
export function experimentOrderSql(orderBy: string[] | undefined): string {
  return attributeOrderSql(orderBy, {
    columns: EXP_ORDER,
    defaults: ['creation_time DESC'],
    tiebreaks: [['e.experiment_id', 'ASC']],
    once: false,
    invalid: (clause) =>
      `Invalid order_by clause '${clause}'. Valid keys are name, experiment_id, creation_time, last_update_time.`,
  });
}

// ---------------------------------------------------------------- registered models

/** The tag that marks a registered model (and its versions) as an MLflow prompt. */
const IS_PROMPT_TAG = 'mlflow.prompt.is_prompt';

/**
 * MLflow 3.x keeps prompts in the registry, marked by the tag mlflow.prompt.is_prompt, and
 * its clients append `tags.mlflow.prompt.is_prompt != 'true'` to every model search.
 * Models lack that tag, and a missing tag never matches, so the SQL store treats the
 * clause specially (sqlalchemy_store `_is_querying_prompt`): a filter asking for prompts
 * (= 'true' or != 'false') keeps its prompt clauses; any other filter drops them and
 * excludes prompts. Returns the comparisons to apply and the exclusion, if any.
 */
function splitPromptFilter(
  filter: string | undefined,
  exclude: string,
): { comparisons: Comparison[]; extra: Fragment[] } {
  const all = parseFilter(filter);
  const prompt = all.filter((c) => c.type === 'tag' && c.key === IS_PROMPT_TAG);
  const querying = prompt.some(
    (c) =>
      typeof c.value === 'string' &&
      ((c.op === '=' && c.value.toLowerCase() === 'true') || (c.op === '!=' && c.value.toLowerCase() === 'false')),
  );
  if (querying) return { comparisons: all, extra: [] };
  return { comparisons: all.filter((c) => !prompt.includes(c)), extra: [{ sql: exclude, params: [IS_PROMPT_TAG] }] };
}

const RM_ATTRS: AttrRules = { name: { ops: STRING_OPS, kind: 'string', column: 'rm.name' } };

/** WHERE fragment for a registered-model filter (table alias `rm`); prompts excluded unless asked for. */
export function registeredModelFilterSql(filter: string | undefined): Fragment {
  const { comparisons, extra } = splitPromptFilter(
    filter,
    `NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.name = rm.name AND p.key = ? AND p.value = 'true')`,
  );
  return entityFilterSql(
    comparisons,
    {
      attrs: RM_ATTRS,
      keyValues: { tag: 'registered_model_tags x WHERE x.name = rm.name' },
      invalid: (raw) =>
        `Invalid filter key '${raw.type === 'attribute' ? raw.key : `${raw.type}.${raw.key}`}' for registered models. Only 'name' and 'tags.<key>' are supported.`,
    },
    extra,
  );
}

const RM_ORDER: Record<string, string> = {
  name: 'rm.name',
  timestamp: 'rm.last_updated_time',
  last_updated_timestamp: 'rm.last_updated_time',
};

/** ORDER BY for registered models; tiebreak name ASC. */
export function registeredModelOrderSql(orderBy: string[] | undefined): string {
  return attributeOrderSql(orderBy, {
    columns: RM_ORDER,
    defaults: [],
    tiebreaks: [['rm.name', 'ASC']],
    once: true,
    invalid: (clause) =>
      `Invalid order by key '${clause}' specified. Valid keys are 'name', 'timestamp', 'last_updated_timestamp'.`,
  });
}

// ---------------------------------------------------------------- model versions

const MV_ATTRS: AttrRules = {
  name: { ops: STRING_OPS, kind: 'string', column: 'mv.name' },
  run_id: { ops: [...STRING_OPS, 'IN', 'NOT IN'], kind: 'string', column: 'mv.run_id' },
  source_path: { ops: STRING_OPS, kind: 'string', column: 'mv.source' },
  version_number: { ops: NUMBER_OPS, kind: 'number', column: 'mv.version' },
};

/** WHERE fragment for a model-version filter (table alias `mv`); prompt versions excluded unless asked for. */
export function modelVersionFilterSql(filter: string | undefined): Fragment {
  const { comparisons, extra } = splitPromptFilter(
    filter,
    `NOT EXISTS (SELECT 1 FROM model_version_tags p WHERE p.name = mv.name AND p.key = ? AND p.value = 'true')`,
  );
  return entityFilterSql(
    comparisons,
    {
      attrs: MV_ATTRS,
      keyValues: { tag: 'model_version_tags x WHERE x.name = mv.name AND x.version = mv.version' },
      invalid: (raw) =>
        `Invalid filter key '${raw.key}' for model versions. Valid keys are 'name', 'run_id', 'source_path', 'version_number' and 'tags.<key>'.`,
    },
    extra,
  );
}

const MV_ORDER: Record<string, string> = {
  name: 'mv.name',
  version_number: 'mv.version',
  creation_timestamp: 'mv.creation_time',
  last_updated_timestamp: 'mv.last_updated_time',
};

/** ORDER BY for model versions; default last_updated DESC, name ASC, version DESC. */
export function modelVersionOrderSql(orderBy: string[] | undefined): string {
  return attributeOrderSql(orderBy, {
    columns: MV_ORDER,
    defaults: ['last_updated_timestamp DESC'],
    tiebreaks: [
      ['mv.name', 'ASC'],
      ['mv.version', 'DESC'],
    ],
    once: true,
    invalid: (clause) =>
      `Invalid order by key '${clause}' specified. Valid keys are name, version_number, creation_timestamp, last_updated_timestamp.`,
  });
}

// ---------------------------------------------------------------- logged models (3.x)

const LM_ATTRS: AttrRules = {
  name: { ops: STRING_OPS, kind: 'string', column: 'lm.name' },
  model_id: { ops: [...STRING_OPS, 'IN', 'NOT IN'], kind: 'string', column: 'lm.model_id' },
  model_type: { ops: STRING_OPS, kind: 'string', column: 'lm.model_type' },
  status: { ops: STRING_OPS, kind: 'string', column: 'lm.status' },
  source_run_id: { ops: [...STRING_OPS, 'IN', 'NOT IN'], kind: 'string', column: 'lm.source_run_id' },
  creation_timestamp: { ops: NUMBER_OPS, kind: 'number', column: 'lm.creation_time' },
  creation_time: { ops: NUMBER_OPS, kind: 'number', column: 'lm.creation_time' },
  last_updated_timestamp: { ops: NUMBER_OPS, kind: 'number', column: 'lm.last_updated_time' },
};

/** WHERE fragment for a logged-model filter (table alias `lm`): attributes, tags.<key>, params.<key>. */
export function loggedModelFilterSql(filter: string | undefined): Fragment {
  return entityFilterSql(parseFilter(filter), {
    attrs: LM_ATTRS,
    keyValues: {
      tag: 'logged_model_tags x WHERE x.model_id = lm.model_id',
      param: 'logged_model_params x WHERE x.model_id = lm.model_id',
    },
    invalid: (raw) =>
      `Invalid filter key '${raw.type === 'attribute' ? raw.key : `${raw.type}.${raw.key}`}' for logged models. Valid keys are name, model_id, model_type, status, source_run_id, creation_timestamp, last_updated_timestamp, tags.<key> and params.<key>; metrics filters are not supported by carprice.`,
  });
}

/** ORDER BY for logged models; default creation_timestamp DESC, tiebreak model_id ASC. */
export function loggedModelOrderSql(orderBy: { fieldName: string; ascending?: boolean }[] | undefined): string {
  const clauses = orderBy && orderBy.length ? orderBy : [{ fieldName: 'creation_timestamp', ascending: false }];
  const terms: string[] = [];
  let seenId = false;
  for (const o of clauses) {
    const rule = LM_ATTRS[o.fieldName];
    if (!rule)
      throw bad(
        `Invalid order_by field '${o.fieldName}' for logged models. Valid fields are name, model_id, model_type, status, source_run_id, creation_timestamp, last_updated_timestamp.`,
      );
    if (rule.column === 'lm.model_id') seenId = true;
    terms.push(`${rule.column} ${o.ascending === false ? 'DESC' : 'ASC'}`);
  }
  if (!seenId) terms.push('lm.model_id ASC');
  return terms.join(', ');
}
