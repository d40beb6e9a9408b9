/**
 * MLflow's semantic validation rules (mlflow/utils/validation.py): key names, value
 * lengths, log-batch limits, experiment names, aliases, version numbers. Every check
 * throws AppError('INVALID_PARAMETER_VALUE') with MLflow's wording, so a store built on
 * these answers exactly like the reference server. Spec: mlflow-rest-api.md §3, §5.3.
 */
import { fileURLToPath } from 'node:url';
import { AppError } from '../core/errors.js';
import type { Metric, Param, Tag } from './entities.js';

export const MAX_ENTITY_KEY_LENGTH = 250;
export const MAX_PARAM_VAL_LENGTH = 6000;
export const MAX_TAG_VAL_LENGTH = 8000;
export const MAX_EXPERIMENT_NAME_LENGTH = 500;
export const MAX_EXPERIMENT_TAG_VAL_LENGTH = 5000;
export const MAX_REGISTRY_TAG_VAL_LENGTH = 5000;
export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_PARAMS_TAGS_PER_BATCH = 100;
export const MAX_ENTITIES_PER_BATCH = 1000;
export const MAX_ALIAS_LENGTH = 255;
export const MAX_ARTIFACT_LOCATION_LENGTH = 2048;
export const SEARCH_MAX_RESULTS_THRESHOLD = 50000;
export const SEARCH_REGISTERED_MODEL_MAX_RESULTS = 1000;
export const SEARCH_MODEL_VERSION_MAX_RESULTS = 200000;

function invalid(message: string): AppError {
  return new AppError('INVALID_PARAMETER_VALUE', message);
}

const KEY_CHARS = /^[\p{L}\p{N}_/.\- :]*$/u;

/** True when posixpath.normpath(name) would differ from name or escape upwards. */
function pathNotUnique(name: string): boolean {
  if (name.startsWith('..') || name.startsWith('/')) return true;
  return name.split('/').some((seg) => seg === '' || seg === '.' || seg === '..');
}

/** Validate a metric, param or tag key (`what` names the parameter in the message). */
export function validateKey(key: string, what = 'key'): void {
  if (!KEY_CHARS.test(key))
    throw invalid(
      `Invalid value "${key}" for parameter '${what}' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  if (pathNotUnique(key))
    throw invalid(
      `Invalid value "${key}" for parameter '${what}' supplied: Names cannot be a path that is not unique, empty, or start with '/' or '..' (e.g. 'a//b', './a', 'a/').`,
    );
  if (key.length > MAX_ENTITY_KEY_LENGTH)
    throw invalid(`'${what}' exceeds the maximum length of ${MAX_ENTITY_KEY_LENGTH} characters (got ${key.length}).`);
}

/** Validate a value's length; throws when too long. */
export function validateLength(value: string, max: number, what: string): void {
  if (value.length > max)
    throw invalid(`'${what}' exceeds the maximum length of ${max} characters (got ${value.length}).`);
}

/** Params and run tags longer than the limit are truncated, as MLflow does by default. */
export function truncate(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}

export function validateMetric(m: Metric): void {
  validateKey(m.key);
  if (typeof m.value !== 'number')
    throw invalid(
      `Got invalid value ${String(m.value)} for metric '${m.key}' (timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`,
    );
  if (!Number.isInteger(m.timestamp) || m.timestamp < 0)
    throw invalid(
      `Got invalid timestamp ${m.timestamp} for metric '${m.key}' (value=${m.value}). Timestamp must be a nonnegative long (64-bit integer)`,
    );
  if (!Number.isInteger(m.step))
    throw invalid(
      `Got invalid step ${m.step} for metric '${m.key}' (value=${m.value}). Step must be a valid long (64-bit integer).`,
    );
}

export function validateParam(p: Param): void {
  validateKey(p.key);
}

export function validateTag(t: Tag): void {
  validateKey(t.key);
}

/** Log-batch limits and duplicate param keys (validation.py `_validate_batch_log_limits`). */
export function validateBatch(metrics: Metric[], params: Param[], tags: Tag[]): void {
  const problems: string[] = [];
  if (metrics.length > MAX_METRICS_PER_BATCH)
    problems.push(
      `A batch logging request can contain at most ${MAX_METRICS_PER_BATCH} metrics. Got ${metrics.length} metrics.`,
    );
  if (params.length > MAX_PARAMS_TAGS_PER_BATCH)
    problems.push(
      `A batch logging request can contain at most ${MAX_PARAMS_TAGS_PER_BATCH} params. Got ${params.length} params.`,
    );
  if (tags.length > MAX_PARAMS_TAGS_PER_BATCH)
    problems.push(
      `A batch logging request can contain at most ${MAX_PARAMS_TAGS_PER_BATCH} tags. Got ${tags.length} tags.`,
    );
  const total = metrics.length + params.length + tags.length;
  if (total > MAX_ENTITIES_PER_BATCH)
    problems.push(
      `A batch logging request can contain at most ${MAX_ENTITIES_PER_BATCH} metrics, params and tags in total. Got ${total}.`,
    );
  if (problems.length) throw invalid(`${problems.join(' ')} Please split up the request into multiple requests.`);
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const p of params) (seen.has(p.key) ? dups : seen).add(p.key);
  if (dups.size)
    throw invalid(
      `Duplicate parameter keys have been submitted: [${[...dups].map((k) => `'${k}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`,
    );
  for (const m of metrics) validateMetric(m);
  for (const p of params) validateParam(p);
  for (const t of tags) validateTag(t);
}

export function validateExperimentName(name: string): void {
  if (name === '') throw invalid("Invalid experiment name: ''. Experiment name must be a non-empty string.");
  if (name.length > MAX_EXPERIMENT_NAME_LENGTH)
    throw invalid(
      `Experiment name exceeds the maximum length of ${MAX_EXPERIMENT_NAME_LENGTH} characters (got ${name.length}).`,
    );
}

export function validateArtifactLocation(loc: string): void {
  if (loc.startsWith('runs:')) throw invalid(`Artifact location cannot be a runs:/ URI. Given: '${loc}'`);
  if (loc.includes('#') || /\?/.test(loc))
    throw invalid(`Artifact location must not contain a fragment or query parameters. Given: '${loc}'`);
  if (loc.length > MAX_ARTIFACT_LOCATION_LENGTH)
    throw invalid(`'artifact_location' exceeds the maximum length of ${MAX_ARTIFACT_LOCATION_LENGTH} characters.`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(loc))
    throw invalid(`Artifact location must not contain control characters. Given: ${JSON.stringify(loc)}`);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(loc)?.[1].toLowerCase(); // one letter = a Windows drive
  if (!scheme) return;
  let url: URL;
  let path: string;
  try {
    url = new URL(loc);
    // The path as written (URL parsing would quietly drop '..' segments).
    path = decodeURIComponent(loc.slice(scheme.length + 1));
  } catch {
    throw invalid(`Artifact location '${loc}' is not a valid URI (check the host and any %-escapes).`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(path))
    throw invalid(`Artifact location '${loc}' decodes to a path with control characters.`);
  if (scheme === 'file') {
    try {
      fileURLToPath(url);
    } catch (e) {
      throw invalid(`Artifact location '${loc}' is not a usable file URI: ${(e as Error).message}.`);
    }
  }
  if (scheme === 's3' && !url.host)
    throw invalid(`Artifact location '${loc}' names no bucket; use s3://bucket/prefix.`);
  if ((scheme === 'mlflow-artifacts' || scheme === 'file') && path.split('/').includes('..'))
    throw invalid(`Artifact location '${loc}' must not contain '..' segments.`);
}

/** Aliases: `^[\w-]*$`, at most 255 characters, not `latest`, not `v<digits>`. */
export function validateAlias(alias: string): void {
  if (!/^[\p{L}\p{N}_-]*$/u.test(alias) || alias.length > MAX_ALIAS_LENGTH || alias === '')
    throw invalid(
      `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_) and dashes (-), and be at most ${MAX_ALIAS_LENGTH} characters.`,
    );
  if (alias.toLowerCase() === 'latest') throw invalid(`'${alias}' alias name (case insensitive) is reserved.`);
  if (/^[vV]\d+$/.test(alias)) throw invalid(`Version alias name '${alias}' is reserved.`);
}

/** Model versions must parse as integers; returns the number. */
export function parseVersion(version: string): number {
  if (!/^-?\d+$/.test(version.trim())) throw invalid(`Parameter 'version' must be an integer, got '${version}'.`);
  return Number(version.trim());
}

export function validateRegisteredModelName(name: string): void {
  if (name === '') throw invalid('Registered model name cannot be empty.');
}

/** A max_results value within [1, max]. */
export function validateMaxResults(n: number, max: number, what = 'max_results'): void {
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw invalid(`Invalid value ${n} for parameter '${what}' supplied. It must be a positive integer at most ${max}.`);
}

/**
 * Model version sources (handlers.py): local paths must be inside the run's artifact
 * directory (checked by the caller); non-local URIs must not contain `..` segments or NUL
 * after repeated URL-decoding.
 */
export function validateNonLocalSource(source: string): void {
  let decoded = source;
  for (let i = 0; i < 10; i++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      break;
    }
    if (next === decoded) break;
    decoded = next;
  }
  const pathPart = decoded.replace(/^[a-z][a-z0-9+.-]*:\/*/i, '/');
  if (decoded.includes('\0') || pathPart.split('/').some((s) => s === '..'))
    throw invalid(
      `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without plain '..' segments.`,
    );
}
