/**
 * Compiles parsed search filters and order_by clauses (../search-filter.ts) into SQLite
 * WHERE / ORDER BY fragments for runs, experiments, registered models and model versions.
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

/** ORDER BY for runs plus the LEFT JOINs it needs; ties break on start_time DESC, run_id. */
export function runOrderSql(orderBy: string[] | undefined): { joins: Fragment; order: string } {
  const joins: Fragment[] = [];
  const terms: string[] = [];
  let seenStart = false;
  let seenId = false;
  (orderBy ?? []).forEach((clause, i) => {
    const o = parseOrderBy(clause);
    const dir = o.ascending ? 'ASC' : 'DESC';
    if (o.type === 'attribute') {
      const rule = runAttr(o.key);
      if (!rule)
        throw bad(
          `Invalid order_by key '${o.key}' in '${clause}'. Valid attributes are start_time, end_time, run_name, status, run_id, user_id, artifact_uri, created.`,
        );
      if (rule.column === 'r.start_time') seenStart = true;
      if (rule.column === 'r.run_uuid') seenId = true;
      terms.push(`(${rule.column} IS NULL) ASC`, `${rule.column} ${dir}`);
      return;
    }
    if (o.type === 'dataset') throw bad(`Ordering by dataset fields is not supported: '${clause}'.`);
    const a = `o${i}`;
    const table = o.type === 'metric' ? 'latest_metrics' : o.type === 'param' ? 'params' : 'tags';
    joins.push({ sql: `LEFT JOIN ${table} ${a} ON ${a}.run_uuid = r.run_uuid AND ${a}.key = ?`, params: [o.key] });
    terms.push(`(${a}.run_uuid IS NULL) ASC`);
    if (o.type === 'metric') terms.push(`${a}.is_nan ASC`);
    terms.push(`${a}.value ${dir}`);
  });
  if (!seenStart) terms.push('r.start_time DESC');
  if (!seenId) terms.push('r.run_uuid ASC');
  return {
    joins: { sql: joins.map((j) => j.sql).join(' '), params: joins.flatMap((j) => j.params) },
    order: terms.join(', '),
  };
}

// ---------------------------------------------------------------- experiments

const EXP_ATTRS: Record<string, KeyRule & { column: string }> = {
  name: { ops: STRING_OPS, kind: 'string', column: 'e.name' },
  creation_time: { ops: NUMBER_OPS, kind: 'number', column: 'e.creation_time' },
  last_update_time: { ops: NUMBER_OPS, kind: 'number', column: 'e.last_update_time' },
};

/** WHERE fragment for an experiment filter (table alias `e`). */
export function experimentFilterSql(filter: string | undefined): Fragment {
  const parts: Fragment[] = [];
  for (const raw of parseFilter(filter)) {
    if (raw.type === 'tag') {
      const c = checkComparison(raw, { ops: STRING_OPS, kind: 'string' }, 'tag');
      const cmp = compare('t.value', c.op, c.value);
      parts.push({
        sql: `EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = ? AND ${cmp.sql})`,
        params: [c.key, ...cmp.params],
      });
    } else if (raw.type === 'attribute') {
      const rule = EXP_ATTRS[raw.key];
      if (!rule)
        throw bad(
          `Invalid attribute key '${raw.key}' specified. Valid keys are 'name', 'creation_time', 'last_update_time'.`,
        );
      const c = checkComparison(raw, rule, 'attribute');
      parts.push(compare(rule.column, c.op, c.value));
    } else {
      throw bad(`Invalid entity type '${raw.type}' in experiment filter. Valid types are 'attribute' and 'tag'.`);
    }
  }
  return and(parts);
}

const EXP_ORDER: Record<string, string> = {
  name: 'e.name',
  experiment_id: 'e.experiment_id',
  creation_time: 'e.creation_time',
  last_update_time: 'e.last_update_time',
};

/** ORDER BY for experiments; default creation_time DESC, tiebreak experiment_id ASC. */
export function experimentOrderSql(orderBy: string[] | undefined): string {
  const clauses = orderBy && orderBy.length ? orderBy : ['creation_time DESC'];
  const terms: string[] = [];
  let seenId = false;
  for (const clause of clauses) {
    const o = parseOrderBy(clause);
    const column = o.type === 'attribute' ? EXP_ORDER[o.key] : undefined;
    if (!column)
      throw bad(
        `Invalid order_by clause '${clause}'. Valid keys are name, experiment_id, creation_time, last_update_time.`,
      );
    if (column === 'e.experiment_id') seenId = true;
    terms.push(`${column} ${o.ascending ? 'ASC' : 'DESC'}`);
  }
  if (!seenId) terms.push('e.experiment_id ASC');
  return terms.join(', ');
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

/** WHERE fragment for a registered-model filter (table alias `rm`); prompts excluded unless asked for. */
export function registeredModelFilterSql(filter: string | undefined): Fragment {
  const { comparisons, extra } = splitPromptFilter(
    filter,
    `NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.name = rm.name AND p.key = ? AND p.value = 'true')`,
  );
  const parts: Fragment[] = [...extra];
  for (const raw of comparisons) {
    if (raw.type === 'tag') {
      const c = checkComparison(raw, { ops: STRING_OPS, kind: 'string' }, 'tag');
      const cmp = compare('t.value', c.op, c.value);
      parts.push({
        sql: `EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.name = rm.name AND t.key = ? AND ${cmp.sql})`,
        params: [c.key, ...cmp.params],
      });
    } else if (raw.type === 'attribute' && raw.key === 'name') {
      const c = checkComparison(raw, { ops: STRING_OPS, kind: 'string' }, 'attribute');
      parts.push(compare('rm.name', c.op, c.value));
    } else {
      throw bad(
        `Invalid filter key '${raw.type === 'attribute' ? raw.key : `${raw.type}.${raw.key}`}' for registered models. Only 'name' and 'tags.<key>' are supported.`,
      );
    }
  }
  return and(parts);
}

const RM_ORDER: Record<string, string> = {
  name: 'rm.name',
  timestamp: 'rm.last_updated_time',
  last_updated_timestamp: 'rm.last_updated_time',
};

/** ORDER BY for registered models; tiebreak name ASC. */
export function registeredModelOrderSql(orderBy: string[] | undefined): string {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const clause of orderBy ?? []) {
    const o = parseOrderBy(clause);
    const column = o.type === 'attribute' ? RM_ORDER[o.key] : undefined;
    if (!column)
      throw bad(
        `Invalid order by key '${clause}' specified. Valid keys are 'name', 'timestamp', 'last_updated_timestamp'.`,
      );
    if (seen.has(column)) throw bad(`'${o.key}' was specified more than once in order_by; list each field once.`);
    seen.add(column);
    terms.push(`${column} ${o.ascending ? 'ASC' : 'DESC'}`);
  }
  if (!seen.has('rm.name')) terms.push('rm.name ASC');
  return terms.join(', ');
}

// ---------------------------------------------------------------- model versions

const MV_ATTRS: Record<string, KeyRule & { column: string }> = {
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
  const parts: Fragment[] = [...extra];
  for (const raw of comparisons) {
    if (raw.type === 'tag') {
      const c = checkComparison(raw, { ops: STRING_OPS, kind: 'string' }, 'tag');
      const cmp = compare('t.value', c.op, c.value);
      parts.push({
        sql: `EXISTS (SELECT 1 FROM model_version_tags t WHERE t.name = mv.name AND t.version = mv.version AND t.key = ? AND ${cmp.sql})`,
        params: [c.key, ...cmp.params],
      });
    } else if (raw.type === 'attribute' && MV_ATTRS[raw.key]) {
      const rule = MV_ATTRS[raw.key];
      const c = checkComparison(raw, rule, 'attribute');
      parts.push(compare(rule.column, c.op, c.value));
    } else {
      throw bad(
        `Invalid filter key '${raw.key}' for model versions. Valid keys are 'name', 'run_id', 'source_path', 'version_number' and 'tags.<key>'.`,
      );
    }
  }
  return and(parts);
}

const MV_ORDER: Record<string, string> = {
  name: 'mv.name',
  version_number: 'mv.version',
  creation_timestamp: 'mv.creation_time',
  last_updated_timestamp: 'mv.last_updated_time',
};

/** ORDER BY for model versions; default last_updated DESC, name ASC, version DESC. */
export function modelVersionOrderSql(orderBy: string[] | undefined): string {
  const clauses = orderBy && orderBy.length ? orderBy : ['last_updated_timestamp DESC'];
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const clause of clauses) {
    const o = parseOrderBy(clause);
    const column = o.type === 'attribute' ? MV_ORDER[o.key] : undefined;
    if (!column)
      throw bad(
        `Invalid order by key '${clause}' specified. Valid keys are name, version_number, creation_timestamp, last_updated_timestamp.`,
      );
    if (seen.has(column)) throw bad(`'${o.key}' was specified more than once in order_by; list each field once.`);
    seen.add(column);
    terms.push(`${column} ${o.ascending ? 'ASC' : 'DESC'}`);
  }
  if (!seen.has('mv.name')) terms.push('mv.name ASC');
  if (!seen.has('mv.version')) terms.push('mv.version DESC');
  return terms.join(', ');
}

// ---------------------------------------------------------------- logged models (3.x)

const LM_ATTRS: Record<string, KeyRule & { column: string }> = {
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
  const parts: Fragment[] = [];
  for (const raw of parseFilter(filter)) {
    if (raw.type === 'tag' || raw.type === 'param') {
      const table = raw.type === 'tag' ? 'logged_model_tags' : 'logged_model_params';
      const c = checkComparison(raw, { ops: STRING_OPS, kind: 'string' }, raw.type);
      const cmp = compare('x.value', c.op, c.value);
      parts.push({
        sql: `EXISTS (SELECT 1 FROM ${table} x WHERE x.model_id = lm.model_id AND x.key = ? AND ${cmp.sql})`,
        params: [c.key, ...cmp.params],
      });
    } else if (raw.type === 'attribute' && LM_ATTRS[raw.key]) {
      const rule = LM_ATTRS[raw.key];
      const c = checkComparison(raw, rule, 'attribute');
      parts.push(compare(rule.column, c.op, c.value));
    } else {
      throw bad(
        `Invalid filter key '${raw.type === 'attribute' ? raw.key : `${raw.type}.${raw.key}`}' for logged models. Valid keys are name, model_id, model_type, status, source_run_id, creation_timestamp, last_updated_timestamp, tags.<key> and params.<key>; metrics filters are not supported by carprice.`,
      );
    }
  }
  return and(parts);
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
