/**
 * Parameter files (params.yaml and friends) read as DVC reads them: YAML and JSON through
 * the YAML 1.2 loader (JSON is YAML), keys addressed with dots (`train.lr`, `layers.0`),
 * the value being the whole subtree at that key. TOML and Python params files are not
 * supported and say so.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { AppError } from '../core/errors.js';
import { isMap, type PyMap, type PyValue } from './py-value.js';
import { loadYaml } from './yaml-load.js';

/** The default params file of a stage (relative to its wdir). */
export const DEFAULT_PARAMS_FILE = 'params.yaml';

/**
 * Parsed params files by path and exact text: every stage of a repro reads the same
 * params.yaml, and parsing it once instead of once per stage keeps a no-op repro fast.
 * Keyed on the text, so a file changed between stages is parsed again. Values are shared:
 * callers must not mutate them.
 */
const parsedCache = new Map<string, { text: string; value: PyMap }>();

/** Read a params file; undefined when it does not exist. `shown` names it in errors. */
export function readParamsFile(abs: string, shown: string): PyMap | undefined {
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw new AppError('FILE_UNREADABLE', `cannot read params file ${shown}: ${(e as Error).message}`, { cause: e });
  }
  const ext = extname(abs).toLowerCase();
  if (ext === '.toml' || ext === '.py')
    throw new AppError(
      'PIPELINE_INVALID',
      `${shown}: ${ext} params files are not supported by carprice; use YAML or JSON`,
    );
  const cached = parsedCache.get(abs);
  if (cached && cached.text === text) return cached.value;
  const value = loadYaml(text, shown).value;
  if (value === null) return {};
  if (!isMap(value))
    throw new AppError('PIPELINE_INVALID', `${shown}: a params file must hold a mapping at the top level`);
  parsedCache.set(abs, { text, value });
  return value;
}

/** Value at a dotted key path (`a.b.0`), or `{found: false}`. */
export function getParam(data: PyMap, key: string): { found: boolean; value: PyValue } {
  let cur: PyValue = data;
  for (const part of key.split('.')) {
    if (isMap(cur) && Object.prototype.hasOwnProperty.call(cur, part)) cur = cur[part];
    else if (Array.isArray(cur) && /^\d+$/.test(part) && Number(part) < cur.length) cur = cur[Number(part)];
    else return { found: false, value: null };
  }
  return { found: true, value: cur };
}

/** Flatten nested mappings to dotted keys (lists are leaves), as `params diff` shows them. */
export function flattenParams(m: PyMap, prefix = '', out: Map<string, PyValue> = new Map()): Map<string, PyValue> {
  for (const [k, v] of Object.entries(m)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isMap(v) && Object.keys(v).length > 0) flattenParams(v, key, out);
    else out.set(key, v);
  }
  return out;
}
