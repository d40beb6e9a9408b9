/**
 * `params diff`, `metrics show` and `metrics diff`: values of params/metrics files in the
 * workspace against a git revision (HEAD by default, read with `git show`, read-only),
 * printed as DVC's plain tables. Values use Python's `str()` (`True`, `[1, 2]`); metrics
 * floats are rounded to 5 decimals like DVC's `--precision` default.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { AppError } from '../core/errors.js';
import { DEFAULT_PARAMS_FILE, flattenParams, getParam } from './params.js';
import { findDatePath, floatRepr, isMap, pyEqual, pyStr, PyFloat, type PyMap, type PyValue } from './py-value.js';
import { Repo, repoPath } from './repo.js';
import { displayFrom } from './stage-state.js';
import { loadYaml } from './yaml-load.js';
import { pyJsonDumps, pyJsonString } from './py-json.js';

/** One compared value. `undefined` = absent on that side. */
export interface DiffRow {
  path: string;
  key: string;
  old: PyValue | undefined;
  new: PyValue | undefined;
}

/** Options of the comparisons. */
export interface CompareOptions {
  cwd: string;
  /** Git revision to compare with (default HEAD). */
  rev?: string;
  /** Include unchanged values. */
  all?: boolean;
}

function gitShow(root: string, rev: string, rel: string): string | undefined {
  try {
    return execFileSync('git', ['show', `${rev}:${rel}`], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 << 20,
    });
  } catch {
    return undefined;
  }
}

function parse(text: string | undefined, shown: string): PyMap | undefined {
  if (text === undefined) return undefined;
  const v = loadYaml(text, shown).value;
  return isMap(v) ? v : v === null ? {} : undefined;
}

/** DVC's text for a revision whose params cannot be loaded (a date in params.yaml). */
function dateFailure(file: string, data: PyMap | undefined): string | undefined {
  const found = data && findDatePath(data, '');
  return found ? `Unsupported value of type '${found.date.typeName}' in '${file}:${found.path}'` : undefined;
}

/**
 * Which params files/keys `params diff` covers: stage params, top-level params,
 * params.yaml. A workspace whose params.yaml holds a date fails to load in DVC; then the
 * targets still come from dvc.yaml (read past the date) and `failed` says why.
 */
function paramsTargets(repo: Repo): { files: Map<string, Set<string> | null>; failed?: string } {
  let index;
  let failed: string | undefined;
  try {
    index = repo.loadIndex();
  } catch (e) {
    if (!(e instanceof AppError) || !e.message.startsWith('Unsupported value of type')) throw e;
    failed = e.message.slice(0, e.message.indexOf("':") + 1);
    index = repo.loadIndex({ allowDates: true });
  }
  const files = new Map<string, Set<string> | null>();
  const whole = (f: string) => files.set(f, null);
  for (const s of index.stages) {
    if (!s.def) continue;
    for (const p of s.def.params) {
      const rel = repoPath(s.def.wdir, p.file);
      if (p.keys === null) whole(rel);
      else if (files.get(rel) !== null) files.set(rel, new Set([...(files.get(rel) ?? []), ...p.keys]));
    }
  }
  for (const f of index.pipeline?.params ?? []) whole(f);
  if (existsSync(repo.abs(DEFAULT_PARAMS_FILE))) whole(DEFAULT_PARAMS_FILE);
  return { files, failed };
}

function pick(data: PyMap | undefined, keys: Set<string> | null): Map<string, PyValue> {
  if (!data) return new Map();
  if (keys === null) return flattenParams(data);
  const sub: PyMap = {};
  for (const k of keys) {
    const g = getParam(data, k);
    if (g.found) sub[k] = g.value;
  }
  const out = new Map<string, PyValue>();
  for (const [k, v] of Object.entries(sub)) {
    if (isMap(v) && Object.keys(v).length) for (const [fk, fv] of flattenParams(v, k)) out.set(fk, fv);
    else out.set(k, v);
  }
  return out;
}

function diffMaps(path: string, oldM: Map<string, PyValue>, newM: Map<string, PyValue>, all: boolean): DiffRow[] {
  const keys = [...new Set([...oldM.keys(), ...newM.keys()])].sort();
  const rows: DiffRow[] = [];
  for (const k of keys) {
    const o = oldM.get(k);
    const n = newM.get(k);
    const same = oldM.has(k) && newM.has(k) && pyEqual(o!, n!);
    if (same && !all) continue;
    rows.push({ path, key: k, old: oldM.has(k) ? o : undefined, new: newM.has(k) ? n : undefined });
  }
  return rows;
}

/** Params that differ between `rev` (HEAD) and the workspace. */
export function paramsDiff(opts: CompareOptions): DiffRow[] {
  return paramsDiffReport(opts).rows;
}

/**
 * `params diff` with the revisions that failed to load, as DVC reports them: a revision
 * whose params.yaml holds a date has no params (DVC cannot load it), so its side of every
 * row is empty; `failed` lists them in DVC's order (the workspace first).
 */
export function paramsDiffReport(opts: CompareOptions): {
  rows: DiffRow[];
  failed: Array<{ rev: string; message: string }>;
} {
  const repo = Repo.find(opts.cwd);
  const rev = opts.rev ?? 'HEAD';
  const display = displayFrom(repo.rel(opts.cwd));
  const targets = paramsTargets(repo);
  const failed: Array<{ rev: string; message: string }> = [];
  if (targets.failed) failed.push({ rev: 'workspace', message: targets.failed });
  const revFailure = dateFailure(
    DEFAULT_PARAMS_FILE,
    parse(gitShow(repo.root, rev, DEFAULT_PARAMS_FILE), DEFAULT_PARAMS_FILE),
  );
  if (revFailure) failed.push({ rev, message: revFailure });
  const rows: DiffRow[] = [];
  for (const [file, keys] of [...targets.files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    let cur: string | undefined;
    try {
      cur = readFileSync(repo.abs(file), 'utf8');
    } catch {
      cur = undefined;
    }
    rows.push(
      ...diffMaps(
        display(file),
        revFailure ? new Map<string, PyValue>() : pick(parse(gitShow(repo.root, rev, file), file), keys),
        targets.failed ? new Map<string, PyValue>() : pick(parse(cur, file), keys),
        !!opts.all,
      ),
    );
  }
  return { rows, failed };
}

/** Metrics files: stage `metrics` outputs and top-level `metrics`. */
function metricsFiles(repo: Repo): string[] {
  const index = repo.loadIndex();
  const files: string[] = [];
  for (const s of index.stages) for (const o of s.outs) if (o.kind === 'metrics') files.push(o.path);
  for (const f of index.pipeline?.metrics ?? []) files.push(f);
  return [...new Set(files)].sort();
}

/** Python round(x, 5) then str(). */
export function metricStr(v: PyValue | undefined): string {
  if (v === undefined) return '-';
  if (v instanceof PyFloat) return Number.isFinite(v.value) ? floatRepr(Number(v.value.toFixed(5))) : pyStr(v);
  return pyStr(v);
}

/** Current metrics per file, flattened. */
export function metricsShow(opts: { cwd: string }): Array<{ path: string; values: Map<string, PyValue>; data: PyMap }> {
  const repo = Repo.find(opts.cwd);
  const display = displayFrom(repo.rel(opts.cwd));
  const out: Array<{ path: string; values: Map<string, PyValue>; data: PyMap }> = [];
  for (const f of metricsFiles(repo)) {
    let text: string;
    try {
      text = readFileSync(repo.abs(f), 'utf8');
    } catch {
      continue;
    }
    const data = parse(text, f);
    if (!data) throw new AppError('DATA_INVALID', `metrics file ${f} must hold a mapping (YAML or JSON)`);
    out.push({ path: display(f), values: flattenParams(data), data });
  }
  return out;
}

/** Metrics that differ between `rev` (HEAD) and the workspace. */
export function metricsDiff(opts: CompareOptions): DiffRow[] {
  const repo = Repo.find(opts.cwd);
  const rev = opts.rev ?? 'HEAD';
  const display = displayFrom(repo.rel(opts.cwd));
  const rows: DiffRow[] = [];
  for (const f of metricsFiles(repo)) {
    let cur: string | undefined;
    try {
      cur = readFileSync(repo.abs(f), 'utf8');
    } catch {
      cur = undefined;
    }
    const o = parse(gitShow(repo.root, rev, f), f);
    const n = parse(cur, f);
    rows.push(
      ...diffMaps(
        display(f),
        o ? flattenParams(o) : new Map<string, PyValue>(),
        n ? flattenParams(n) : new Map<string, PyValue>(),
        !!opts.all,
      ),
    );
  }
  return rows;
}

/** Change column of metrics diff: new - old for numbers, else '-'. */
export function metricChange(r: DiffRow): string {
  const num = (v: PyValue | undefined) => (typeof v === 'number' ? v : v instanceof PyFloat ? v.value : undefined);
  const a = num(r.old);
  const b = num(r.new);
  if (a === undefined || b === undefined) return '-';
  const isFloat = r.old instanceof PyFloat || r.new instanceof PyFloat;
  const d = b - a;
  return isFloat ? metricStr(new PyFloat(d)) : String(d);
}

/** A value as DVC's `format_dict` leaves it for JSON: lists as `str(list)`, absent as None. */
function jsonCell(v: PyValue | undefined): PyValue {
  if (v === undefined) return null;
  if (Array.isArray(v)) return pyStr(v);
  return v;
}

function pyNumber(v: PyValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof PyFloat) return v.value;
  return undefined;
}

/**
 * `params diff --json` / `metrics diff --json` exactly as DVC prints them (dvc/utils/diff.py
 * through ui.write_json): `{"<path>": {"<key>": {"old": v, "new": v, "diff": new - old}}}`
 * with numbers as numbers, `null` for an absent side, lists as their Python `str()`, and
 * `diff` only when both sides are numbers (Python bools count as numbers).
 */
export function diffJson(rows: readonly DiffRow[]): string {
  const out: PyMap = {};
  for (const r of rows) {
    const entry: PyMap = { old: jsonCell(r.old), new: jsonCell(r.new) };
    const a = pyNumber(r.old);
    const b = pyNumber(r.new);
    if (a !== undefined && b !== undefined)
      entry.diff = r.old instanceof PyFloat || r.new instanceof PyFloat ? new PyFloat(b - a) : b - a;
    ((out[r.path] ??= {}) as PyMap)[r.key] = entry;
  }
  return pyJsonDumps(out, (d) => pyJsonString(d.text), false);
}

/** DVC's `_extract_metrics`: numbers, strings and (non-empty) dicts of them; the rest is dropped. */
function extractMetrics(v: PyValue): PyValue | undefined {
  if (
    typeof v === 'number' ||
    typeof v === 'boolean' ||
    typeof v === 'bigint' ||
    typeof v === 'string' ||
    v instanceof PyFloat
  )
    return v;
  if (!isMap(v)) return undefined;
  const out: PyMap = {};
  for (const [k, x] of Object.entries(v)) {
    const m = extractMetrics(x);
    if (m !== undefined && !(isMap(m) && Object.keys(m).length === 0)) out[k] = m;
  }
  return out;
}

/**
 * `metrics show --json` as DVC 3.64 prints it: `{"": {"data": {"<path>": {"data": {...}}}}}`
 * (with no revisions asked, DVC's brancher names the workspace "": recorded from real DVC).
 */
export function metricsShowJson(files: ReadonlyArray<{ path: string; data: PyMap }>): string {
  const data: PyMap = {};
  for (const f of files) data[f.path] = { data: extractMetrics(f.data) ?? {} };
  return pyJsonDumps({ '': { data } }, (d) => pyJsonString(d.text), false);
}
