/**
 * `exp tune --apply`: write the winning hyper-parameters into params.yaml under
 * model_trainer.params.<algo> by editing the text in place: an existing value is replaced
 * where it stands, a missing key is added to its mapping (flow `{...}` or block), so every
 * other byte of the file (comments, key order, line breaks, flow style) stays as it was.
 * The result is validated as params before it atomically replaces the file. Returns what
 * changed; the CLI then asks the pipeline which stages rerun.
 *
 * Example: `gbdt: {n_estimators: 1200, learning_rate: 0.05}` with n_estimators=300 and
 * max_depth=6 becomes `gbdt: {n_estimators: 300, learning_rate: 0.05, max_depth: 6}`.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, parseDocument, type Document } from 'yaml';
import { AppError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { parseParams } from '../../config/params.js';

export interface ParamChange {
  key: string;
  from: unknown;
  to: number | string;
}

type Scalar = number | string;

function yamlScalar(v: Scalar): string {
  return typeof v === 'number'
    ? String(v)
    : /^[A-Za-z_][\w.:-]*$/.test(v) && !/^(true|false|null|yes|no|on|off)$/i.test(v)
      ? v
      : JSON.stringify(v);
}

function parse(text: string, path: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length)
    throw new AppError(
      'CONFIG_INVALID',
      `${path}: invalid YAML (${doc.errors[0].message.split('\n')[0]}); fix it before --apply`,
    );
  if (doc.contents !== null && !isMap(doc.contents))
    throw new AppError('CONFIG_INVALID', `${path} must be a mapping of sections`);
  return doc;
}

/** A nested flow mapping holding `value` under `keys` ({a: {b: 1}}), or the scalar itself. */
function flowText(keys: readonly string[], value: Scalar): string {
  return keys.reduceRight<string>((inner, k) => `{${k}: ${inner}}`, yamlScalar(value));
}

/** Set one key path in the text; returns the new text. */
function setInText(text: string, path: string, keys: readonly string[], value: Scalar): string {
  const doc = parse(text, path);
  const node = doc.getIn(keys, true);
  if (node !== undefined) {
    if (!isScalar(node) || !node.range)
      throw new AppError('CONFIG_INVALID', `${path}: ${keys.join('.')} is not a single value; set it by hand`);
    return text.slice(0, node.range[0]) + yamlScalar(value) + text.slice(node.range[1]);
  }
  // the deepest mapping that exists, and what is missing below it
  let depth = keys.length - 1;
  let parent: unknown = doc.getIn(keys.slice(0, depth), true);
  while (parent === undefined && depth > 0) parent = doc.getIn(keys.slice(0, --depth), true);
  if (depth === 0) parent = doc.contents;
  const missing = keys.slice(depth);
  const entryValue = missing.length > 1 ? flowText(missing.slice(1), value) : yamlScalar(value);
  if (!isMap(parent) || !parent.range) {
    if (parent === null || parent === undefined)
      return `${text}${text.endsWith('\n') || !text ? '' : '\n'}${missing[0]}: ${entryValue}\n`;
    throw new AppError(
      'CONFIG_INVALID',
      `${path}: ${keys.slice(0, depth).join('.')} is not a mapping, so ${keys.join('.')} cannot be set`,
    );
  }
  const map = parent;
  if (map.flow) {
    const close = text.lastIndexOf('}', map.range![1]);
    const empty = map.items.length === 0;
    return `${text.slice(0, close).replace(/\s*$/, '')}${empty ? '' : ', '}${missing[0]}: ${entryValue}${text.slice(close)}`;
  }
  // block mapping: a new line after the last entry, indented like the first key
  const first = map.items[0]?.key as { range?: [number, number, number] } | undefined;
  const last = map.items.at(-1)?.value as { range?: [number, number, number] } | undefined;
  if (!first?.range || !last?.range)
    throw new AppError('CONFIG_INVALID', `${path}: cannot place ${keys.join('.')}; set it by hand`);
  const lineStart = text.lastIndexOf('\n', first.range[0] - 1) + 1;
  const indent = text.slice(lineStart, first.range[0]);
  const endOfLast = text.indexOf('\n', last.range[1]);
  const at = endOfLast < 0 ? text.length : endOfLast;
  return `${text.slice(0, at)}\n${indent}${missing[0]}: ${entryValue}${text.slice(at)}`;
}

export function applyParams(path: string, algo: string, values: Readonly<Record<string, Scalar>>): ParamChange[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppError(
      'FILE_NOT_FOUND',
      `cannot read ${path} (${(e as Error).message}); --apply needs the project's params.yaml`,
      { cause: e },
    );
  }
  const changes: ParamChange[] = [];
  for (const [k, v] of Object.entries(values)) {
    const keys = ['model_trainer', 'params', algo, k];
    const from = parse(text, path).getIn(keys);
    if (from === v) continue;
    text = setInText(text, path, keys, v);
    changes.push({ key: keys.join('.'), from: from ?? null, to: v });
  }
  if (!changes.length) return changes;
  // the edited file must still be valid params before it replaces the old one
  parseParams(parse(text, path).toJS(), path);
  writeFileAtomic(path, text);
  return changes;
}

/** What `exp tune --apply` did with params.yaml. */
export interface TunedOutcome {
  /** True when the winner was written; false when params.yaml's settings were kept. */
  written: boolean;
  changes: ParamChange[];
  /** One line for the terminal saying what happened and why. */
  message: string;
}

interface Scored {
  params: Readonly<Record<string, Scalar>>;
  metrics: Readonly<Record<string, number>>;
  source?: string;
}

/**
 * `exp tune --apply`: write the best candidate into params.yaml only when it beats the
 * settings params.yaml already has on the validation metric (scored on the same rows with
 * all their rounds). When the current settings are at least as good as every candidate,
 * the file is left byte for byte as it was and the message says so, with both scores.
 */
export function applyTuned(
  path: string,
  r: { algo: string; metric: string; best: Scored; current: Scored },
): TunedOutcome {
  const higher = r.metric === 'r2' || r.metric === 'within10';
  const b = r.best.metrics[r.metric];
  const c = r.current.metrics[r.metric];
  const show = (x: number) =>
    r.metric === 'r2'
      ? x.toFixed(4)
      : ['mape', 'medape', 'within10'].includes(r.metric)
        ? `${(100 * x).toFixed(2)}%`
        : x.toFixed(0);
  const wins = Number.isFinite(b) && (!Number.isFinite(c) || (higher ? b > c : b < c));
  if (!wins)
    return {
      written: false,
      changes: [],
      message: `--apply: params.yaml's ${r.algo} settings (validation ${r.metric} ${show(c)}) are at least as good as every candidate (best ${show(b)}${r.best.source ? `, ${r.best.source}` : ''}): kept, ${path} not changed`,
    };
  const changes = applyParams(path, r.algo, r.best.params);
  return {
    written: true,
    changes,
    message: `--apply: the best candidate (validation ${r.metric} ${show(b)}) beats params.yaml's ${r.algo} settings (${show(c)}): wrote ${changes.map((x) => `${x.key}=${x.to}`).join(', ') || 'nothing (already set)'} to ${path}`,
  };
}
