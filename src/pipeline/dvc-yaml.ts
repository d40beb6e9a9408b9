/**
 * Reads `dvc.yaml` into resolved stage definitions, as DVC 3 does: `vars` and `${}`
 * interpolation (params.yaml next to dvc.yaml loaded first), `foreach`/`do` and `matrix`
 * expansion into `group@key` stages, the `params` forms (keys of params.yaml, keys of
 * another file, a whole file), and `outs`/`metrics`/`plots` with their flags.
 * Every schema problem is reported at once, each with file, line and key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { AppError } from '../core/errors.js';
import { hasInterpolation, interpolate, interpolateString, toStr, type Where } from './interpolate.js';
import { DEFAULT_PARAMS_FILE, readParamsFile } from './params.js';
import { cloneValue, contextDateMessage, findDatePath, isMap, type PyMap, type PyValue } from './py-value.js';
import { loadYaml, type LoadedYaml } from './yaml-load.js';
import { scalarText } from '../core/text.js';

/** One output (out, metric or plot) of a stage. */
export interface OutDef {
  /** Path as written (after interpolation), relative to the stage wdir. */
  path: string;
  cache: boolean;
  persist: boolean;
  push: boolean;
  remote?: string;
  kind: 'outs' | 'metrics' | 'plots';
}

/** The params a stage depends on, per file. `keys: null` tracks the whole file. */
export interface ParamsDef {
  /** File path relative to the stage wdir, as written. */
  file: string;
  keys: string[] | null;
}

/** A resolved pipeline stage. */
export interface StageDef {
  /** Addressing name: `train`, `build@us`, `train@0.1-32`. */
  name: string;
  /** foreach/matrix group name when generated. */
  group?: string;
  /** The dvc.yaml file (repo-relative posix). */
  file: string;
  cmd: string | string[];
  /** Working directory, repo-relative posix (`.` for the root). */
  wdir: string;
  deps: string[];
  params: ParamsDef[];
  outs: OutDef[];
  frozen: boolean;
  alwaysChanged: boolean;
  desc?: string;
  /** Line of the stage in dvc.yaml. */
  line?: number;
}

/** A loaded dvc.yaml. */
export interface Pipeline {
  file: string;
  stages: StageDef[];
  /** Top-level `params` files (shown by params diff; not dependencies). */
  params: string[];
  /** Top-level `metrics` files. */
  metrics: string[];
  /** The interpolation context after top-level vars (for params diff of tracked vars). */
  context: PyMap;
}

const TOP_KEYS = new Set(['stages', 'vars', 'params', 'metrics', 'plots', 'artifacts', 'datasets']);
const STAGE_KEYS = new Set([
  'cmd',
  'wdir',
  'deps',
  'params',
  'outs',
  'metrics',
  'plots',
  'frozen',
  'always_changed',
  'desc',
  'meta',
  'vars',
]);
const OUT_FLAGS = new Set(['cache', 'persist', 'remote', 'push', 'checkpoint', 'desc', 'type', 'labels', 'meta']);
const PLOT_FLAGS = new Set(['template', 'x', 'y', 'x_label', 'y_label', 'title', 'header']);
const NAME_RE = /^[^\s!"#$%&'()*+,./:;<=>?@[\\\]^`{|}~]+$/;

interface Issue {
  line?: number;
  key: string;
  message: string;
}

class Problems {
  readonly list: Issue[] = [];
  constructor(
    readonly file: string,
    readonly doc: LoadedYaml,
  ) {}
  add(path: Array<string | number>, message: string): void {
    this.list.push({ line: this.doc.lineOf(path), key: keyPath(path), message });
  }
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const lines = this.list.map((i) => `  ${this.file}${i.line ? `:${i.line}` : ''}: ${i.key}: ${i.message}`);
    throw new AppError(
      'PIPELINE_INVALID',
      `${this.file} is invalid (${this.list.length} problem${this.list.length > 1 ? 's' : ''}):\n${lines.join('\n')}`,
      {
        details: { file: this.file, issues: this.list },
      },
    );
  }
}

function keyPath(path: Array<string | number>): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s || '(top level)';
}

function describe(v: PyValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isMap(v)) return 'a mapping';
  return `${typeof v === 'string' ? 'the string' : 'the value'} ${JSON.stringify(scalarText(v))}`;
}

/** Options of reading dvc.yaml. */
export interface PipelineReadOptions {
  /**
   * Accept dates in params.yaml and vars files. DVC refuses them (its interpolation
   * context holds no dates); only `params diff` reads past them, to say which revision failed.
   */
  allowDates?: boolean;
}

let readOptions: PipelineReadOptions = {};

/** Merge `src` into the context, refusing to redefine keys (DVC's MergeError) and dates (as DVC). */
function mergeContext(ctx: PyMap, src: PyMap, from: string, where: Where, owners: Map<string, string>): void {
  const date = readOptions.allowDates ? undefined : findDatePath(src, '');
  if (date) throw new AppError('PIPELINE_INVALID', contextDateMessage(from, date));
  for (const [k, v] of Object.entries(src)) {
    if (Object.prototype.hasOwnProperty.call(ctx, k) && owners.get(k) !== from) {
      throw new AppError(
        'PIPELINE_INVALID',
        `${where.file}${where.line ? `:${where.line}` : ''}: ${where.key}: cannot redefine '${k}' from '${from}' as it already exists in '${owners.get(k) ?? 'context'}'`,
      );
    }
    ctx[k] = cloneValue(v);
    owners.set(k, from);
  }
}

/** Load `vars` entries into the context. `baseDir` is the dvc.yaml directory (absolute). */
function loadVars(
  vars: PyValue,
  ctx: PyMap,
  owners: Map<string, string>,
  baseDir: string,
  where: Where,
  loaded: Set<string>,
): void {
  if (!Array.isArray(vars))
    throw new AppError(
      'PIPELINE_INVALID',
      `${where.file}${where.line ? `:${where.line}` : ''}: ${where.key}: vars must be a list`,
    );
  if (hasInterpolation(vars))
    throw new AppError(
      'PIPELINE_INVALID',
      `${where.file}${where.line ? `:${where.line}` : ''}: ${where.key}: interpolation is not allowed in vars`,
    );
  vars.forEach((item, i) => {
    const w = { ...where, key: `${where.key}[${i}]` };
    if (isMap(item)) return mergeContext(ctx, item, `${w.key} (inline)`, w, owners);
    if (typeof item !== 'string')
      throw new AppError(
        'PIPELINE_INVALID',
        `${w.file}: ${w.key}: expected a file name or a mapping, got ${describe(item)}`,
      );
    const [file, keyList] = item.split(':', 2) as [string, string | undefined];
    const abs = join(baseDir, file);
    if (keyList === undefined && loaded.has(abs)) return;
    const data = readParamsFile(abs, file);
    if (data === undefined)
      throw new AppError(
        'PIPELINE_INVALID',
        `${w.file}${w.line ? `:${w.line}` : ''}: ${w.key}: vars file '${file}' does not exist`,
      );
    let picked: PyMap = data;
    if (keyList !== undefined) {
      picked = {};
      for (const k of keyList
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        if (!(k in data))
          throw new AppError('PIPELINE_INVALID', `${w.file}: ${w.key}: key '${k}' not found in '${file}'`);
        picked[k] = data[k];
      }
    } else loaded.add(abs);
    mergeContext(ctx, picked, file, w, owners);
  });
}

/** Parse the out/metrics/plots list of a stage. */
function parseOuts(v: PyValue, kind: OutDef['kind'], base: Array<string | number>, pr: Problems): OutDef[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) {
    pr.add(base, `expected a list of paths, got ${describe(v)}`);
    return [];
  }
  const out: OutDef[] = [];
  v.forEach((item, i) => {
    const at = [...base, i];
    if (typeof item === 'string') {
      out.push({ path: item, cache: true, persist: false, push: true, kind });
      return;
    }
    if (!isMap(item) || Object.keys(item).length !== 1) {
      pr.add(at, `expected a path or {path: {flags}}, got ${describe(item)}`);
      return;
    }
    const [path, flags] = Object.entries(item)[0];
    const def: OutDef = { path, cache: true, persist: false, push: true, kind };
    if (flags !== null) {
      if (!isMap(flags)) {
        pr.add(at, `flags of '${path}' must be a mapping, got ${describe(flags)}`);
        return;
      }
      for (const [f, fv] of Object.entries(flags)) {
        const fat = [...at, path, f];
        if (!OUT_FLAGS.has(f) && !(kind === 'plots' && PLOT_FLAGS.has(f)))
          pr.add(
            fat,
            `unknown flag '${f}'; allowed: ${[...OUT_FLAGS].join(', ')}${kind === 'plots' ? ', ' + [...PLOT_FLAGS].join(', ') : ''}`,
          );
        else if (f === 'cache' || f === 'persist' || f === 'push') {
          if (typeof fv !== 'boolean') pr.add(fat, `expected true or false, got ${describe(fv)}`);
          else def[f] = fv;
        } else if (f === 'remote') {
          if (typeof fv !== 'string') pr.add(fat, `expected a remote name, got ${describe(fv)}`);
          else def.remote = fv;
        }
      }
    }
    out.push(def);
  });
  return out;
}

/** DVC's _merge_params: str items are keys of params.yaml, {file: keys|null} others. */
function parseParams(v: PyValue, base: Array<string | number>, pr: Problems): ParamsDef[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) {
    pr.add(base, `expected a list of param keys or {file: [keys]}, got ${describe(v)}`);
    return [];
  }
  const files = new Map<string, string[] | null>();
  const add = (file: string, keys: string[] | null) => {
    const prev = files.get(file);
    if (prev === null) return; // wholly tracked wins
    if (keys === null) files.set(file, null);
    else files.set(file, [...(prev ?? []), ...keys.filter((k) => !(prev ?? []).includes(k))]);
  };
  v.forEach((item, i) => {
    const at = [...base, i];
    if (typeof item === 'string') return add(DEFAULT_PARAMS_FILE, [item]);
    if (!isMap(item)) return pr.add(at, `expected a key or {file: [keys]}, got ${describe(item)}`);
    for (const [file, keys] of Object.entries(item)) {
      if (keys === null || (Array.isArray(keys) && keys.length === 0)) add(file, null);
      else if (Array.isArray(keys) && keys.every((k) => typeof k === 'string')) add(file, keys);
      else
        pr.add([...at, file], `expected a list of keys (or nothing, to track the whole file), got ${describe(keys)}`);
    }
  });
  return [...files].map(([file, keys]) => ({ file, keys }));
}

function strList(v: PyValue, at: Array<string | number>, pr: Problems, what: string): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) {
    pr.add(at, `expected a list of ${what}, got ${describe(v)}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((x, i) =>
    typeof x === 'string'
      ? out.push(x)
      : pr.add([...at, i], `expected a ${what.replace(/s$/, '')}, got ${describe(x)}`),
  );
  return out;
}

/** Python-style key of a foreach item (see DVC normalized_iterable). */
function foreachKeys(v: PyValue, where: Where): Array<[string, PyValue, PyValue | undefined]> {
  if (isMap(v)) return Object.entries(v).map(([k, x]) => [k, x, k]);
  if (Array.isArray(v)) {
    const complex = v.some((x) => Array.isArray(x) || isMap(x));
    return v.map((x, i) => [complex ? String(i) : toStr(x, false, where, 'item'), x, undefined]);
  }
  throw new AppError(
    'PIPELINE_INVALID',
    `${where.file}${where.line ? `:${where.line}` : ''}: ${where.key}: foreach needs a list or a mapping, got ${describe(v)}`,
  );
}

/** Read and resolve `dvc.yaml` (or another pipeline file) of a repo; undefined when absent. */
export function loadPipeline(root: string, relFile = 'dvc.yaml', opts: PipelineReadOptions = {}): Pipeline | undefined {
  const abs = join(root, relFile);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AppError('FILE_UNREADABLE', `cannot read ${relFile}: ${(e as Error).message}`, { cause: e });
  }
  return parsePipeline(text, root, relFile, opts);
}

/** Resolve pipeline text (exported for tests). `relFile` is repo-relative posix. */
export function parsePipeline(text: string, root: string, relFile: string, opts: PipelineReadOptions = {}): Pipeline {
  const saved = readOptions;
  readOptions = opts;
  try {
    return parsePipelineWith(text, root, relFile);
  } finally {
    readOptions = saved;
  }
}

function parsePipelineWith(text: string, root: string, relFile: string): Pipeline {
  const doc = loadYaml(text, relFile);
  const pr = new Problems(relFile, doc);
  const top = doc.value === null ? {} : doc.value;
  if (!isMap(top)) {
    pr.add([], `expected a mapping with 'stages', got ${describe(top)}`);
    pr.throwIfAny();
  }
  const data = top as PyMap;
  for (const k of Object.keys(data))
    if (!TOP_KEYS.has(k)) pr.add([k], `unknown top-level key '${k}'; allowed: ${[...TOP_KEYS].join(', ')}`);
  const dir = posix.dirname(relFile);
  const baseDir = join(root, dir);
  const ctx: PyMap = {};
  const owners = new Map<string, string>();
  const loaded = new Set<string>();
  const defaultParams = join(baseDir, DEFAULT_PARAMS_FILE);
  if (existsSync(defaultParams)) {
    const p = readParamsFile(defaultParams, posix.join(dir, DEFAULT_PARAMS_FILE));
    if (p) mergeContext(ctx, p, DEFAULT_PARAMS_FILE, { file: relFile, key: 'params.yaml' }, owners);
    loaded.add(defaultParams);
  }
  if (data.vars !== undefined)
    loadVars(data.vars, ctx, owners, baseDir, { file: relFile, line: doc.lineOf(['vars']), key: 'vars' }, loaded);

  const stages: StageDef[] = [];
  const stagesNode = data.stages ?? {};
  if (!isMap(stagesNode))
    pr.add(['stages'], `expected a mapping of stage names to definitions, got ${describe(stagesNode)}`);
  else {
    for (const [name, def] of Object.entries(stagesNode)) {
      const at: Array<string | number> = ['stages', name];
      const line = doc.lineOf(at);
      if (!NAME_RE.test(name)) {
        pr.add(at, `invalid stage name '${name}': use letters, digits, '-' and '_'`);
        continue;
      }
      if (!isMap(def)) {
        pr.add(at, `expected a stage definition (a mapping with 'cmd'), got ${describe(def)}`);
        continue;
      }
      const where: Where = { file: relFile, line, key: keyPath(at) };
      if ('foreach' in def || 'matrix' in def) {
        const isForeach = 'foreach' in def;
        for (const k of Object.keys(def))
          if (!(isForeach ? ['foreach', 'do'] : ['matrix', ...STAGE_KEYS]).includes(k))
            pr.add(
              [...at, k],
              `unexpected key '${k}' in a ${isForeach ? 'foreach' : 'matrix'} stage${isForeach ? " (put the stage definition under 'do')" : ''}`,
            );
        if ('item' in ctx || 'key' in ctx)
          throw new AppError(
            'PIPELINE_INVALID',
            `${relFile}:${line}: ${where.key}: 'item' and 'key' are reserved for foreach/matrix; rename them in params.yaml/vars`,
          );
        let items: Array<[string, PyMap]>;
        if (isForeach) {
          if (!isMap(def.do)) {
            pr.add([...at, 'do'], `foreach needs a 'do' mapping holding the stage definition`);
            continue;
          }
          let fe = def.foreach;
          if (typeof fe === 'string') fe = interpolateString(fe, ctx, { ...where, key: `${where.key}.foreach` }, false);
          items = foreachKeys(fe, { ...where, key: `${where.key}.foreach` }).map(([k, item, key]) => {
            const extra: PyMap = { item: cloneValue(item) };
            if (key !== undefined) extra.key = key;
            return [k, extra];
          });
        } else {
          const mx = def.matrix;
          if (!isMap(mx)) {
            pr.add([...at, 'matrix'], `matrix must be a mapping of names to lists, got ${describe(mx)}`);
            continue;
          }
          let combos: Array<{ frag: string[]; item: PyMap }> = [{ frag: [], item: {} }];
          for (const [mk, mvRaw] of Object.entries(mx)) {
            const mv =
              typeof mvRaw === 'string'
                ? interpolateString(mvRaw, ctx, { ...where, key: `${where.key}.matrix.${mk}` }, false)
                : mvRaw;
            if (!Array.isArray(mv)) {
              pr.add([...at, 'matrix', mk], `expected a list, got ${describe(mv)}`);
              combos = [];
              break;
            }
            const next: typeof combos = [];
            for (const c of combos)
              mv.forEach((x, i) => {
                const frag = Array.isArray(x) || isMap(x) ? `${mk}${i}` : toStr(x, false, where, mk);
                next.push({ frag: [...c.frag, frag], item: { ...c.item, [mk]: cloneValue(x) } });
              });
            combos = next;
          }
          items = combos.map((c) => {
            const key = c.frag.join('-');
            return [key, { item: c.item, key }];
          });
        }
        const body = isForeach
          ? (def.do as PyMap)
          : Object.fromEntries<PyValue>(Object.entries(def).filter(([k]) => k !== 'matrix'));
        const bodyPath = isForeach ? [...at, 'do'] : at;
        for (const [key, extra] of items) {
          const local: PyMap = { ...ctx, ...extra };
          const st = resolveStage(
            `${name}@${key}`,
            body,
            local,
            owners,
            baseDir,
            relFile,
            dir,
            bodyPath,
            line,
            pr,
            loaded,
          );
          if (st) stages.push({ ...st, group: name });
        }
      } else {
        const st = resolveStage(name, def, { ...ctx }, owners, baseDir, relFile, dir, at, line, pr, loaded);
        if (st) stages.push(st);
      }
    }
  }
  const params =
    data.params === undefined
      ? []
      : strList(interpolate(data.params, ctx, { file: relFile, key: 'params' }), ['params'], pr, 'params files');
  let metrics: string[] = [];
  if (data.metrics !== undefined)
    metrics = strList(
      interpolate(data.metrics, ctx, { file: relFile, key: 'metrics' }),
      ['metrics'],
      pr,
      'metrics files',
    );
  pr.throwIfAny();
  return { file: relFile, stages, params, metrics, context: ctx };
}

function resolveStage(
  name: string,
  rawDef: PyMap,
  ctx: PyMap,
  owners: Map<string, string>,
  baseDir: string,
  relFile: string,
  dir: string,
  at: Array<string | number>,
  line: number | undefined,
  pr: Problems,
  loaded: Set<string>,
): StageDef | undefined {
  const before = pr.list.length;
  for (const k of Object.keys(rawDef))
    if (!STAGE_KEYS.has(k)) pr.add([...at, k], `unknown key '${k}'; allowed: ${[...STAGE_KEYS].join(', ')}`);
  if (rawDef.vars !== undefined)
    loadVars(
      rawDef.vars,
      ctx,
      new Map(owners),
      baseDir,
      { file: relFile, line: pr.doc.lineOf([...at, 'vars']), key: keyPath([...at, 'vars']) },
      new Set(loaded),
    );
  const w = (k: string): Where => ({
    file: relFile,
    line: pr.doc.lineOf([...at, k]) ?? line,
    key: keyPath([...at, k]),
  });
  const get = (k: string, allowDict = false): PyValue =>
    rawDef[k] === undefined ? undefined! : interpolate(rawDef[k], ctx, w(k), allowDict);
  const cmd = get('cmd', true);
  let cmdOut: string | string[] = '';
  if (cmd === undefined || cmd === null) pr.add(at, `stage '${name}' needs a 'cmd'`);
  else if (typeof cmd === 'string') cmdOut = cmd;
  else if (Array.isArray(cmd) && cmd.every((c) => typeof c === 'string')) cmdOut = cmd;
  else pr.add([...at, 'cmd'], `expected a command string or a list of command strings, got ${describe(cmd)}`);
  const wdirV = get('wdir');
  let wdir = dir;
  if (wdirV !== undefined && wdirV !== null) {
    if (typeof wdirV !== 'string') pr.add([...at, 'wdir'], `expected a directory path, got ${describe(wdirV)}`);
    else wdir = posix.normalize(posix.join(dir, wdirV));
  }
  const bool = (k: string): boolean => {
    const v = get(k);
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') {
      pr.add([...at, k], `expected true or false, got ${describe(v)}`);
      return false;
    }
    return v;
  };
  const desc = get('desc');
  const outs = [
    ...parseOuts(get('outs'), 'outs', [...at, 'outs'], pr),
    ...parseOuts(get('metrics'), 'metrics', [...at, 'metrics'], pr),
    ...parseOuts(get('plots'), 'plots', [...at, 'plots'], pr),
  ];
  const st: StageDef = {
    name,
    file: relFile,
    cmd: cmdOut,
    wdir,
    deps: strList(get('deps'), [...at, 'deps'], pr, 'paths'),
    params: parseParams(get('params'), [...at, 'params'], pr),
    outs,
    frozen: bool('frozen'),
    alwaysChanged: bool('always_changed'),
    line,
  };
  if (typeof desc === 'string') st.desc = desc;
  return pr.list.length === before ? st : undefined;
}
