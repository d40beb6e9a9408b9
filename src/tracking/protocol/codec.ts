/**
 * Entities <-> MLflow wire JSON (spec §1.3, §2.8). Encoding follows `message_to_json`:
 * snake_case keys, unset fields and empty lists omitted, int64 as JSON numbers, doubles
 * NaN/+-Infinity as the strings "NaN"/"Infinity"/"-Infinity". Decoding is tolerant the
 * other way: missing lists become [], int64 strings become numbers.
 */
import type {
  Dataset,
  DatasetInput,
  Experiment,
  FileInfo,
  LoggedModel,
  LoggedModelStatus,
  Metric,
  ModelVersion,
  RegisteredModel,
  Run,
  RunInfo,
  Stage,
  Tag,
} from '../entities.js';

export type Json = Record<string, unknown>;

/** A double as protobuf JSON. */
export function encodeDouble(x: number): number | string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

/**
 * A double on its way out of the server: serialised by `toWireJson` as Python's repr, so
 * the bytes match MLflow's (json.dumps of a float): 1 -> `1.0`, 1e16 -> `1e+16`,
 * 0.00001 -> `1e-05`. JSON.stringify still sees a plain number (toJSON).
 */
export class WireDouble {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

/** Python's repr() of a finite float, e.g. 1 -> '1.0', 1e16 -> '1e+16', 1.5e-7 -> '1.5e-07'. */
export function pythonFloatRepr(x: number): string {
  if (Object.is(x, -0)) return '-0.0';
  const neg = x < 0;
  const [mant, expText] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  const decpt = exp + 1; // position of the decimal point relative to the digits
  let out: string;
  if (decpt <= -4 || decpt > 16) {
    out = `${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (decpt <= 0) out = `0.${'0'.repeat(-decpt)}${digits}`;
  else if (decpt >= digits.length) out = `${digits}${'0'.repeat(decpt - digits.length)}.0`;
  else out = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  return neg ? '-' + out : out;
}

/**
 * A metric value for a server response: NaN as the protobuf string "NaN", finite values as
 * WireDouble, and +-Infinity as +-1.7976931348623157e+308, the largest double: MLflow's SQL
 * store keeps an infinite metric as +-sys.float_info.max and answers it so (recorded from
 * MLflow 3.5 and 2.22), so clients see the same value from carprice as from MLflow.
 */
function wireDouble(x: number): WireDouble | string {
  if (x === Infinity) return new WireDouble(Number.MAX_VALUE);
  if (x === -Infinity) return new WireDouble(-Number.MAX_VALUE);
  const e = encodeDouble(x);
  return typeof e === 'string' ? e : new WireDouble(e);
}

/**
 * JSON text of a response message, as JSON.stringify but with WireDouble values written
 * as Python floats (`"value": 1.0`). Undefined object members are skipped.
 */
export function toWireJson(v: unknown): string {
  if (v instanceof WireDouble)
    return Number.isFinite(v.value) ? pythonFloatRepr(v.value) : JSON.stringify(encodeDouble(v.value));
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(v))
        return `[${v.map((x) => (x === undefined || typeof x === 'function' ? 'null' : toWireJson(x))).join(',')}]`;
      const parts: string[] = [];
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x === undefined || typeof x === 'function') continue;
        parts.push(`${JSON.stringify(k)}:${toWireJson(x)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return 'null';
  }
}

/** A protobuf JSON double back to a number. */
export function decodeDouble(x: unknown): number {
  if (typeof x === 'number') return x;
  if (x === 'NaN') return NaN;
  if (x === 'Infinity') return Infinity;
  if (x === '-Infinity') return -Infinity;
  return Number(x);
}

function num(x: unknown): number {
  return typeof x === 'number' ? x : Number(x ?? 0);
}
function str(x: unknown): string {
  return x === undefined || x === null ? '' : String(x);
}
function list(x: unknown): Json[] {
  return Array.isArray(x) ? (x as Json[]) : [];
}
function optStr(x: unknown): string | undefined {
  return x === undefined || x === null ? undefined : String(x);
}

/** Drop undefined values and empty arrays, as message_to_json does. */
function compact(o: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

export function encodeTags(tags: Tag[]): Json[] {
  return tags.map((t) => ({ key: t.key, value: t.value }));
}
export function decodeTags(x: unknown): Tag[] {
  return list(x).map((t) => ({ key: str(t.key), value: str(t.value) }));
}

export function encodeMetric(m: Metric): Json {
  const out: Json = { key: m.key, value: wireDouble(m.value), timestamp: m.timestamp, step: m.step };
  if (m.modelId !== undefined) out.model_id = m.modelId;
  if (m.datasetName !== undefined) out.dataset_name = m.datasetName;
  if (m.datasetDigest !== undefined) out.dataset_digest = m.datasetDigest;
  if (m.runId !== undefined) out.run_id = m.runId;
  return out;
}
/** A metric value from a server: +-1.7976931348623157e+308 is how MLflow's SQL store answers +-inf. */
function decodeMetricValue(x: unknown): number {
  const v = decodeDouble(x);
  return v === Number.MAX_VALUE ? Infinity : v === -Number.MAX_VALUE ? -Infinity : v;
}
export function decodeMetric(x: Json): Metric {
  const m: Metric = {
    key: str(x.key),
    value: decodeMetricValue(x.value),
    timestamp: num(x.timestamp),
    step: num(x.step),
  };
  if (typeof x.model_id === 'string' && x.model_id !== '') m.modelId = x.model_id;
  if (typeof x.dataset_name === 'string' && x.dataset_name !== '') m.datasetName = x.dataset_name;
  if (typeof x.dataset_digest === 'string' && x.dataset_digest !== '') m.datasetDigest = x.dataset_digest;
  if (typeof x.run_id === 'string' && x.run_id !== '') m.runId = x.run_id;
  return m;
}

export function encodeExperiment(e: Experiment): Json {
  return compact({
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.creationTime,
    tags: encodeTags(e.tags),
  });
}
export function decodeExperiment(x: Json): Experiment {
  return {
    experimentId: str(x.experiment_id),
    name: str(x.name),
    artifactLocation: str(x.artifact_location),
    lifecycleStage: x.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
    creationTime: num(x.creation_time),
    lastUpdateTime: num(x.last_update_time),
    tags: decodeTags(x.tags),
  };
}

export function encodeRunInfo(i: RunInfo): Json {
  return compact({
    run_id: i.runId,
    run_uuid: i.runId,
    run_name: i.runName,
    experiment_id: i.experimentId,
    user_id: i.userId,
    status: i.status,
    start_time: i.startTime,
    end_time: i.endTime,
    artifact_uri: i.artifactUri,
    lifecycle_stage: i.lifecycleStage,
  });
}
export function decodeRunInfo(x: Json): RunInfo {
  const info: RunInfo = {
    runId: str(x.run_id ?? x.run_uuid),
    runName: str(x.run_name),
    experimentId: str(x.experiment_id),
    userId: str(x.user_id),
    status: (str(x.status) || 'RUNNING') as RunInfo['status'],
    startTime: num(x.start_time),
    artifactUri: str(x.artifact_uri),
    lifecycleStage: x.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
  };
  if (x.end_time !== undefined && x.end_time !== null) info.endTime = num(x.end_time);
  return info;
}

function encodeDataset(d: Dataset): Json {
  return compact({
    name: d.name,
    digest: d.digest,
    source_type: d.sourceType,
    source: d.source,
    schema: d.schema,
    profile: d.profile,
  });
}
function decodeDataset(x: Json): Dataset {
  const d: Dataset = {
    name: str(x.name),
    digest: str(x.digest),
    sourceType: str(x.source_type),
    source: str(x.source),
  };
  if (x.schema !== undefined) d.schema = str(x.schema);
  if (x.profile !== undefined) d.profile = str(x.profile);
  return d;
}

export function encodeRun(r: Run): Json {
  const data = compact({
    metrics: r.data.metrics.map(encodeMetric),
    params: encodeTags(r.data.params),
    tags: encodeTags(r.data.tags),
  });
  const inputs = compact({
    dataset_inputs: r.inputs.datasetInputs.map((d) =>
      compact({ tags: encodeTags(d.tags), dataset: encodeDataset(d.dataset) }),
    ),
  });
  const out: Json = { info: encodeRunInfo(r.info), data, inputs };
  if (r.outputs?.modelOutputs.length)
    out.outputs = { model_outputs: r.outputs.modelOutputs.map((m) => ({ model_id: m.modelId, step: m.step })) };
  return out;
}

/**
 * A run as runs/get answers it: MLflow's get_run always attaches a RunOutputs, so a run
 * without logged-model outputs carries `"outputs": {}` there (MLflow 3.5 and 2.22), while
 * runs/search and runs/create leave `outputs` out.
 */
export function encodeFetchedRun(r: Run): Json {
  const out = encodeRun(r);
  if (out.outputs === undefined) out.outputs = {};
  return out;
}
export function decodeRun(x: Json): Run {
  const data = (x.data ?? {}) as Json;
  const inputs = (x.inputs ?? {}) as Json;
  const run: Run = {
    info: decodeRunInfo((x.info ?? {}) as Json),
    data: {
      metrics: list(data.metrics).map(decodeMetric),
      params: decodeTags(data.params),
      tags: decodeTags(data.tags),
    },
    inputs: {
      datasetInputs: list(inputs.dataset_inputs).map((d): DatasetInput => ({
        tags: decodeTags(d.tags),
        dataset: decodeDataset((d.dataset ?? {}) as Json),
      })),
    },
  };
  const outputs = list(((x.outputs ?? {}) as Json).model_outputs);
  if (outputs.length)
    run.outputs = { modelOutputs: outputs.map((m) => ({ modelId: str(m.model_id), step: num(m.step) })) };
  return run;
}

export function encodeFileInfo(f: FileInfo): Json {
  return compact({ path: f.path, is_dir: f.isDir, file_size: f.isDir ? undefined : f.fileSize });
}
export function decodeFileInfo(x: Json): FileInfo {
  const f: FileInfo = { path: str(x.path), isDir: Boolean(x.is_dir) };
  if (x.file_size !== undefined && x.file_size !== null) f.fileSize = num(x.file_size);
  return f;
}

/**
 * A model version as the single-version endpoints answer it (get, update, get by alias,
 * create, transition-stage): with its aliases.
 */
export function encodeModelVersion(v: ModelVersion): Json {
  return compact({
    name: v.name,
    version: v.version,
    creation_timestamp: v.creationTimestamp,
    last_updated_timestamp: v.lastUpdatedTimestamp,
    user_id: v.userId,
    current_stage: v.currentStage,
    description: v.description,
    source: v.source,
    run_id: v.runId,
    status: v.status,
    status_message: v.statusMessage,
    tags: encodeTags(v.tags),
    run_link: v.runLink,
    aliases: v.aliases,
    // No model_id: MLflow 3.5's ModelVersion.to_proto never writes it (a TODO upstream).
  });
}
/**
 * A model version inside a list: model-versions/search, get-latest-versions and a
 * registered model's latest_versions. MLflow builds these from the bare SQL rows and leaves
 * `aliases` out (recorded from MLflow 3.5 and 2.22); a client finds them on the registered
 * model (`aliases: [{alias, version}]`) or through get/get-by-alias.
 */
export function encodeListedModelVersion(v: ModelVersion): Json {
  const out = encodeModelVersion(v);
  delete out.aliases;
  return out;
}
export function decodeModelVersion(x: Json): ModelVersion {
  const v: ModelVersion = {
    name: str(x.name),
    version: str(x.version),
    creationTimestamp: num(x.creation_timestamp),
    lastUpdatedTimestamp: num(x.last_updated_timestamp),
    currentStage: (str(x.current_stage) || 'None') as Stage,
    source: str(x.source),
    status: (str(x.status) || 'READY') as ModelVersion['status'],
    tags: decodeTags(x.tags),
    aliases: Array.isArray(x.aliases) ? x.aliases.map(String) : [],
  };
  const userId = optStr(x.user_id);
  if (userId !== undefined) v.userId = userId;
  const description = optStr(x.description);
  if (description !== undefined) v.description = description;
  const runId = optStr(x.run_id);
  if (runId !== undefined && runId !== '') v.runId = runId;
  const runLink = optStr(x.run_link);
  if (runLink !== undefined && runLink !== '') v.runLink = runLink;
  const sm = optStr(x.status_message);
  if (sm !== undefined) v.statusMessage = sm;
  const modelId = optStr(x.model_id);
  if (modelId !== undefined && modelId !== '') v.modelId = modelId;
  return v;
}

export function encodeRegisteredModel(m: RegisteredModel): Json {
  return compact({
    name: m.name,
    creation_timestamp: m.creationTimestamp,
    last_updated_timestamp: m.lastUpdatedTimestamp,
    user_id: m.userId,
    description: m.description,
    latest_versions: m.latestVersions.map(encodeListedModelVersion),
    tags: encodeTags(m.tags),
    aliases: m.aliases.map((a) => ({ alias: a.alias, version: a.version })),
  });
}
export function decodeRegisteredModel(x: Json): RegisteredModel {
  const m: RegisteredModel = {
    name: str(x.name),
    creationTimestamp: num(x.creation_timestamp),
    lastUpdatedTimestamp: num(x.last_updated_timestamp),
    latestVersions: list(x.latest_versions).map(decodeModelVersion),
    tags: decodeTags(x.tags),
    aliases: list(x.aliases).map((a) => ({ alias: str(a.alias), version: str(a.version) })),
  };
  const userId = optStr(x.user_id);
  if (userId !== undefined) m.userId = userId;
  const description = optStr(x.description);
  if (description !== undefined) m.description = description;
  return m;
}

/** A LoggedModel as service.proto's LoggedModel message: {info: {...}, data: {params}}. */
export function encodeLoggedModel(m: LoggedModel): Json {
  return {
    info: compact({
      model_id: m.modelId,
      experiment_id: m.experimentId,
      name: m.name,
      creation_timestamp_ms: m.creationTimestampMs,
      last_updated_timestamp_ms: m.lastUpdatedTimestampMs,
      artifact_uri: m.artifactLocation,
      status: m.status,
      // MLflow answers an unset model_type as "" (the column's default), not absent.
      model_type: m.modelType ?? '',
      source_run_id: m.sourceRunId,
      status_message: m.statusMessage,
      tags: encodeTags(m.tags),
    }),
    data: compact({ params: encodeTags(m.params), metrics: m.metrics.map(encodeMetric) }),
  };
}
export function decodeLoggedModel(x: Json): LoggedModel {
  const info = (x.info ?? {}) as Json;
  const data = (x.data ?? {}) as Json;
  const m: LoggedModel = {
    modelId: str(info.model_id),
    experimentId: str(info.experiment_id),
    name: str(info.name),
    artifactLocation: str(info.artifact_uri),
    creationTimestampMs: num(info.creation_timestamp_ms),
    lastUpdatedTimestampMs: num(info.last_updated_timestamp_ms),
    status: (str(info.status) || 'LOGGED_MODEL_STATUS_UNSPECIFIED') as LoggedModelStatus,
    tags: decodeTags(info.tags),
    params: decodeTags(data.params),
    metrics: list(data.metrics).map(decodeMetric),
  };
  const modelType = optStr(info.model_type);
  if (modelType !== undefined && modelType !== '') m.modelType = modelType;
  const sourceRunId = optStr(info.source_run_id);
  if (sourceRunId !== undefined && sourceRunId !== '') m.sourceRunId = sourceRunId;
  const sm = optStr(info.status_message);
  if (sm !== undefined && sm !== '') m.statusMessage = sm;
  return m;
}
