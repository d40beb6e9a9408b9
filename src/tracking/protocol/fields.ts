/**
 * Request field types for the MLflow REST protocol and their parser. A field spec says
 * what a request field holds (string, int64, double, bool, enum, lists of tags/metrics...)
 * and whether it is required; `parseRequest` checks a JSON body or a query string against
 * an endpoint's fields and answers with MLflow's exact messages (handlers.py):
 *   Missing value for required parameter 'name'. See the API docs for more information about request parameters.
 *   Invalid value "abc" for parameter 'value' supplied. Hint: Value was of type 'str'. See the API docs ...
 * Doubles accept the protobuf JSON strings "NaN", "Infinity", "-Infinity"; int64 accepts
 * decimal strings; GET bools must be exactly "true" or "false".
 */
import { AppError } from '../../core/errors.js';
import type { Dataset, Metric, Tag } from '../entities.js';

export type FieldType =
  | 'string'
  | 'int64'
  | 'double'
  | 'bool'
  | 'stringList'
  | 'tagList'
  | 'metricList'
  | 'datasetInputList'
  | 'orderByList'
  | 'modelOutputList'
  | { enum: readonly string[] };

export interface FieldSpec<T extends FieldType = FieldType, R extends boolean = boolean> {
  type: T;
  required: R;
  /** A deprecated alternative name accepted when the main one is absent (run_uuid for run_id). */
  alias?: string;
}

/** A required field. */
export function req<const T extends FieldType>(type: T, alias?: string): FieldSpec<T, true> {
  return alias ? { type, required: true, alias } : { type, required: true };
}

/** An optional field. */
export function opt<const T extends FieldType>(type: T): FieldSpec<T, false> {
  return { type, required: false };
}

export interface DatasetInputRequest {
  dataset: Dataset;
  tags: Tag[];
}

/** SearchLoggedModels.OrderBy: `{field_name, ascending = true}` (dataset fields ignored). */
export interface OrderByRequest {
  fieldName: string;
  ascending: boolean;
}

/** ModelOutput of runs/outputs: `{model_id, step}`, both required. */
export interface ModelOutputRequest {
  modelId: string;
  step: number;
}

/** The TypeScript type a field type parses to. */
export type ValueOf<T> = T extends 'string'
  ? string
  : T extends 'int64' | 'double'
    ? number
    : T extends 'bool'
      ? boolean
      : T extends 'stringList'
        ? string[]
        : T extends 'tagList'
          ? Tag[]
          : T extends 'metricList'
            ? Metric[]
            : T extends 'datasetInputList'
              ? DatasetInputRequest[]
              : T extends 'orderByList'
                ? OrderByRequest[]
                : T extends 'modelOutputList'
                  ? ModelOutputRequest[]
                  : T extends { enum: readonly (infer E)[] }
                    ? E
                    : never;

export type Fields = Record<string, FieldSpec>;

/** The parsed request for a field map: required fields present, optional ones maybe undefined. */
export type Parsed<F extends Fields> = {
  [K in keyof F]: F[K] extends FieldSpec<infer T, infer R>
    ? R extends true
      ? ValueOf<T>
      : ValueOf<T> | undefined
    : never;
};

const DOCS = 'See the API docs for more information about request parameters.';

function pyType(v: unknown): string {
  if (v === null) return 'NoneType';
  if (Array.isArray(v)) return 'list';
  switch (typeof v) {
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'object':
      return 'dict';
    default:
      return typeof v;
  }
}

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s.length > 200 ? s.slice(0, 197) + '...' : s;
  } catch {
    return String(v);
  }
}

/** 400 for a value of the wrong type. */
export function invalidValue(param: string, v: unknown): AppError {
  return new AppError(
    'INVALID_PARAMETER_VALUE',
    `Invalid value ${show(v)} for parameter '${param}' supplied. Hint: Value was of type '${pyType(v)}'. ${DOCS}`,
  );
}

/** 400 for a missing required value. */
export function missingValue(param: string): AppError {
  return new AppError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${param}'. ${DOCS}`);
}

function isMissing(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

function parseString(v: unknown, path: string): string {
  if (typeof v === 'string') return v;
  throw invalidValue(path, v);
}

function parseInt64(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  throw invalidValue(path, v);
}

/** A protobuf JSON double: a number, a numeric string, or "NaN" / "Infinity" / "-Infinity". */
export function parseDouble(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity' || v === 'inf') return Infinity;
    if (v === '-Infinity' || v === '-inf') return -Infinity;
    if (v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  throw invalidValue(path, v);
}

function parseBool(v: unknown, path: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidValue(path, v);
}

function parseList(v: unknown, path: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw invalidValue(path, v);
}

function parseObject(v: unknown, path: string): Record<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  throw invalidValue(path, v);
}

function need(o: Record<string, unknown>, key: string, path: string): unknown {
  const v = o[key];
  if (isMissing(v)) throw missingValue(path ? `${path}.${key}` : key);
  return v;
}

function parseTag(x: unknown, path: string, valueRequired: boolean): Tag {
  const o = parseObject(x, path);
  const key = parseString(need(o, 'key', path), `${path}.key`);
  const raw = valueRequired ? need(o, 'value', path) : o.value;
  return { key, value: isMissing(raw) ? '' : parseString(raw, `${path}.value`) };
}

function parseMetric(x: unknown, path: string): Metric {
  const o = parseObject(x, path);
  const m: Metric = {
    key: parseString(need(o, 'key', path), `${path}.key`),
    value: parseDouble(need(o, 'value', path), `${path}.value`),
    timestamp: parseInt64(need(o, 'timestamp', path), `${path}.timestamp`),
    step: isMissing(o.step) ? 0 : parseInt64(o.step, `${path}.step`),
  };
  // MLflow 3.x: a point may evaluate a LoggedModel (on a dataset).
  if (!isMissing(o.model_id)) m.modelId = parseString(o.model_id, `${path}.model_id`);
  if (!isMissing(o.dataset_name)) m.datasetName = parseString(o.dataset_name, `${path}.dataset_name`);
  if (!isMissing(o.dataset_digest)) m.datasetDigest = parseString(o.dataset_digest, `${path}.dataset_digest`);
  return m;
}

function parseDatasetInput(x: unknown, path: string): DatasetInputRequest {
  const o = parseObject(x, path);
  const d = parseObject(need(o, 'dataset', path), `${path}.dataset`);
  const dp = `${path}.dataset`;
  const dataset: Dataset = {
    name: parseString(need(d, 'name', dp), `${dp}.name`),
    digest: parseString(need(d, 'digest', dp), `${dp}.digest`),
    sourceType: parseString(need(d, 'source_type', dp), `${dp}.source_type`),
    source: parseString(need(d, 'source', dp), `${dp}.source`),
  };
  if (!isMissing(d.schema)) dataset.schema = parseString(d.schema, `${dp}.schema`);
  if (!isMissing(d.profile)) dataset.profile = parseString(d.profile, `${dp}.profile`);
  const tags = isMissing(o.tags)
    ? []
    : parseList(o.tags, `${path}.tags`).map((t, i) => parseTag(t, `${path}.tags[${i}]`, true));
  return { dataset, tags };
}

function parseOrderBy(x: unknown, path: string): OrderByRequest {
  const o = parseObject(x, path);
  return {
    fieldName: parseString(need(o, 'field_name', path), `${path}.field_name`),
    ascending: o.ascending === undefined || o.ascending === null ? true : parseBool(o.ascending, `${path}.ascending`),
  };
}

function parseModelOutput(x: unknown, path: string): ModelOutputRequest {
  const o = parseObject(x, path);
  const step = o.step;
  if (step === undefined || step === null) throw missingValue(`${path}.step`);
  return {
    modelId: parseString(need(o, 'model_id', path), `${path}.model_id`),
    step: parseInt64(step, `${path}.step`),
  };
}

function parseField(type: FieldType, v: unknown, name: string): unknown {
  if (typeof type === 'object') {
    if (typeof v === 'string' && type.enum.includes(v)) return v;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < type.enum.length) return type.enum[v];
    throw invalidValue(name, v);
  }
  switch (type) {
    case 'string':
      return parseString(v, name);
    case 'int64':
      return parseInt64(v, name);
    case 'double':
      return parseDouble(v, name);
    case 'bool':
      return parseBool(v, name);
    case 'stringList':
      return (typeof v === 'string' ? [v] : parseList(v, name)).map((s, i) => parseString(s, `${name}[${i}]`));
    case 'tagList':
      return parseList(v, name).map((t, i) => parseTag(t, `${name}[${i}]`, false));
    case 'metricList':
      return parseList(v, name).map((m, i) => parseMetric(m, `${name}[${i}]`));
    case 'datasetInputList':
      return parseList(v, name).map((d, i) => parseDatasetInput(d, `${name}[${i}]`));
    case 'orderByList':
      return parseList(v, name).map((o, i) => parseOrderBy(o, `${name}[${i}]`));
    case 'modelOutputList':
      return parseList(v, name).map((o, i) => parseModelOutput(o, `${name}[${i}]`));
  }
}

/**
 * Check `input` (a parsed JSON body, or a query-string map when `query`) against `fields`.
 * Unknown fields are ignored, as protobuf ParseDict(ignore_unknown_fields=True) does. A
 * list where a JSON body's field takes one value is an invalid value, as in MLflow.
 */
export function parseRequest<F extends Fields>(
  fields: F,
  input: Record<string, unknown>,
  { query = false }: { query?: boolean } = {},
): Parsed<F> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(fields)) {
    let v = input[name];
    if (isMissing(v) && spec.alias) v = input[spec.alias];
    const isList = typeof spec.type === 'string' && spec.type.endsWith('List');
    // A repeated query key arrives as an array; for one-value fields take the first one, as
    // MLflow (Flask's request.args.get) does: ?experiment_id=1&experiment_id=0 is experiment 1.
    if (query && Array.isArray(v) && !isList) v = v[0];
    if (!query) {
      // MLflow stringifies every experiment_id (and experiment_ids item) before parsing, for
      // clients older than 0.9.1 that sent them as numbers: {"experiment_id": 1} is "1".
      if (name === 'experiment_id' && typeof v === 'number' && Number.isInteger(v)) v = String(v);
      if (name === 'experiment_ids' && Array.isArray(v))
        v = (v as unknown[]).map((x: unknown) => (typeof x === 'number' && Number.isInteger(x) ? String(x) : x));
      // In a JSON body a list field must be a list (MLflow: 400 naming it), but for
      // experiment_ids, which MLflow's stringifying turns into a list of one id.
      if (spec.type === 'stringList' && typeof v === 'string' && name !== 'experiment_ids' && v !== '')
        throw invalidValue(name, v);
    }
    if (isMissing(v) || (Array.isArray(v) && v.length === 0 && spec.required)) {
      if (spec.required) throw missingValue(name);
      continue;
    }
    out[name] = parseField(spec.type, v, name);
  }
  return out as Parsed<F>;
}
