/**
 * params.yaml: the project's one configuration file, in the seed's structure (base,
 * data_ingestion, model_trainer, model_registration, evaluation) plus what carprice needs
 * (data_source, features, mlflow). Parsed once by a schema that reports every problem with
 * its key path and line, defaults filled in, frozen, then passed in. `--set key=value`
 * flags override keys before validation.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseDocument, parse as parseYamlValue, isMap, type Document } from 'yaml';
import { AppError } from '../core/errors.js';
import { parseWith, v, type Issue, type Validator } from '../core/schema.js';
import { scalarText } from '../core/text.js';
import { EQUIPMENT_FLAGS, SEED_CATEGORICAL, SEED_NUMERIC } from './seed-columns.js';

const modelParams = v.optional(
  v.record(
    v.optional(
      v.record((x, p, issues) => {
        if (typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean') return x;
        const list = Array.isArray(x)
          ? `; a list goes as one comma-separated string, e.g. '${x.map(scalarText).join(',')}'`
          : '';
        issues.push({ path: p, message: `expected a number, string or boolean, got ${JSON.stringify(x)}${list}` });
        return 0;
      }),
      {},
    ),
  ),
  {},
);

const DERIVED = ['car_age', 'log_odometer', 'make_model', 'km_per_year'] as const;

/**
 * Plausible ranges of listing values (inclusive), checked at every entry point (train,
 * evaluate, predict, the API): a value outside is a bad cell (training, evaluation, batch
 * files) or an invalid field (`--input`, HTTP). Equal to the `ranges` section of the
 * project's params.yaml (a test checks). A params.yaml entry replaces the default of its
 * column; `column: null` turns the check off.
 */
export const DEFAULT_RANGES: Readonly<Record<string, Readonly<{ min: number; max: number }>>> = {
  odometer: { min: 0, max: 2_000_000 },
  fitnessAge: { min: 0, max: 100 },
  featureCount: { min: 0, max: 1000 },
  year: { min: 1950, max: 2030 },
  ownership: { min: 0, max: 20 },
  listingPrice: { min: 10_000, max: 1_000_000_000 },
};

const rangeEntry = v.object({ min: v.number(), max: v.number() });

const rangesSchema: Validator<Record<string, { min: number; max: number }>> = (x, path, issues) => {
  const out: Record<string, { min: number; max: number }> = {};
  for (const [k, r] of Object.entries(DEFAULT_RANGES)) out[k] = { ...r };
  if (x === undefined || x === null) return out;
  if (typeof x !== 'object' || Array.isArray(x)) {
    issues.push({ path, message: `expected a mapping of column: {min, max}, got ${JSON.stringify(x)}` });
    return out;
  }
  for (const [k, raw] of Object.entries(x as Record<string, unknown>)) {
    const at = path ? `${path}.${k}` : k;
    if (raw === null) {
      delete out[k];
      continue;
    }
    const r = rangeEntry(raw, at, issues);
    if (Number.isFinite(r.min) && Number.isFinite(r.max) && r.min > r.max)
      issues.push({ path: at, message: `min ${r.min} is above max ${r.max}` });
    out[k] = r;
  }
  return out;
};

const paramsSchema = v.object({
  base: v.section({
    project: v.optional(v.string(), 'carprice'),
    target_col: v.optional(v.string({ nonEmpty: true }), 'listingPrice'),
    random_state: v.optional(v.number({ int: true, min: 0 }), 42),
  }),
  data_source: v.section({
    /** Path, http(s):// or s3:// URL of the raw listings (.xlsx or .csv). */
    raw_data: v.optional(v.string({ nonEmpty: true }), 'data/cars24_v3.xlsx'),
    sheet: v.maybe(v.string()),
  }),
  data_ingestion: v.section({
    test_size: v.optional(v.number({ min: 0, max: 1, exclusiveMin: true, exclusiveMax: true }), 0.2),
    // numpy's seed range: the split is numpy.random.RandomState(random_state)'s permutation
    random_state: v.optional(v.number({ int: true, min: 0, max: 4294967295 }), 42),
    numerical_cols: v.optional(v.array(v.string({ nonEmpty: true })), [...SEED_NUMERIC]),
    categorical_cols: v.optional(v.array(v.string({ nonEmpty: true })), [...SEED_CATEGORICAL]),
    optional_cols: v.optional(v.array(v.string({ nonEmpty: true })), [...EQUIPMENT_FLAGS]),
    max_invalid_fraction: v.optional(v.number({ min: 0, max: 1 }), 0.05),
    drop_duplicates: v.optional(v.boolean(), true),
    output_dir: v.optional(v.string({ nonEmpty: true }), 'artifacts/data_ingestion'),
  }),
  features: v.section({
    reference_year: v.optional(v.number({ int: true, min: 1900, max: 2200 }), 2025),
    log_target: v.optional(v.boolean(), true),
    derived: v.optional(
      v.array(v.oneOf(DERIVED)),
      DERIVED.filter((d) => d !== 'km_per_year'),
    ),
    /** Input columns only used to derive features, then dropped (e.g. year once car_age exists). */
    exclude: v.optional(v.array(v.string({ nonEmpty: true })), ['year', 'color']),
    numeric_imputer: v.optional(v.oneOf(['mean', 'median'] as const), 'median'),
    categorical_imputer: v.optional(v.oneOf(['most_frequent', 'constant'] as const), 'most_frequent'),
    onehot_drop_first: v.optional(v.boolean(), false),
    onehot_max_categories: v.optional(v.number({ int: true, min: 2 }), 300),
    target_encoding_smoothing: v.optional(v.number({ min: 0 }), 10),
    /** column: parent (variant: model): the column is encoded per parent and shrunk towards it. */
    target_encoding_parents: v.optional(v.record(v.string({ nonEmpty: true })), {}),
    target_encoding_folds: v.optional(v.number({ int: true, min: 2, max: 50 }), 5),
    scale: v.optional(v.boolean(), true),
    /** Words of these free-text columns become indicator features (unseen variants share words). */
    token_columns: v.optional(v.array(v.string({ nonEmpty: true })), ['variant', 'model']),
    token_min_count: v.optional(v.number({ int: true, min: 1 }), 5),
    /** numeric:categorical pairs giving each frequent level its own slope (linear models). */
    interactions: v.optional(v.array(v.string({ pattern: /^[^:]+:[^:]+$/ })), [
      'car_age:make',
      'car_age:bodyType',
      'car_age:fuelType',
      'car_age:transmissionType',
    ]),
    interaction_min_count: v.optional(v.number({ int: true, min: 1 }), 50),
    /**
     * Numeric columns (e.g. car_age) that linear models also see as steps: one 0/1 column
     * per value with at least step_min_count rows on either side, so price can follow a
     * curve in age instead of one slope. Empty = none.
     */
    steps: v.optional(v.array(v.string({ nonEmpty: true })), ['car_age', 'log_odometer']),
    step_min_count: v.optional(v.number({ int: true, min: 1 }), 200),
  }),
  data_transformation: v.section({
    output_dir: v.optional(v.string({ nonEmpty: true }), 'artifacts/data_transformation'),
  }),
  model_trainer: v.section({
    algo: v.optional(v.string({ nonEmpty: true }), 'ridge'),
    output_dir: v.optional(v.string({ nonEmpty: true }), 'artifacts/model_trainer'),
    /**
     * Row weight = (price / median price) ^ power. A model fitted on log(price) treats a
     * 10% error on a 50 lakh car like one on a 3 lakh car; power > 0 shifts effort towards
     * expensive cars, whose errors dominate RMSE and R² in rupees. 0 = unweighted.
     */
    price_weight_power: v.optional(v.number({ min: 0, max: 2 }), 0),
    /**
     * Linear members weigh each training row by 1 / (1 + age_weight x car_age)^2: an old
     * car's price spreads more, so it says less about the coefficients (weighted least
     * squares); 0 = unweighted.
     */
    age_weight: v.optional(v.number({ min: 0, max: 10 }), 0.05),
    /**
     * Coverage of the prediction intervals (split-conformal on the residuals of a held-out
     * 15% of the training rows, stored in the bundle); 0 = no intervals.
     */
    interval_level: v.optional(v.number({ min: 0, max: 1, exclusiveMax: true }), 0.9),
    /**
     * 'mape': shift the model output by the amount that minimises MAPE on the held-out 15%
     * of the training rows (for the log target: prices times a factor c near 0.98), saved in
     * the bundle; 'mape_age': the same with a shift that also moves with the car's age
     * (older cars' prices spread more, so their MAPE-optimal price sits lower), chosen on
     * the same rows and folded into the linear member's car_age coefficient; 'none': the
     * plain back-transform.
     */
    bias_correction: v.optional(v.oneOf(['mape', 'mape_age', 'none'] as const), 'mape_age'),
    /**
     * Where the held-out choices (blend weight, MAPE offset, interval calibration) are
     * made: 1 = on a seeded 15% of the training rows, the members fitted on the other 85%;
     * k >= 2 = cross-fitted on k folds (each training row held out once, k fits per member).
     */
    holdout_folds: v.optional(v.number({ min: 1, max: 20, int: true }), 1),
    /**
     * Residual trimming at z: a ridge cross-fitted on 5 folds of the training rows gives each
     * row an out-of-fold residual of log price; rows more than z x 1.4826 x MAD from the
     * residuals' median (z robust standard deviations: listings priced far from similar
     * cars) are left out of the members' fits, while the held-out rows that choose the
     * blend weight, the MAPE offset and the intervals keep them. 0 = off (tried at 2.5-8 on
     * the seed-42 training rows: CV MAPE 0.04-0.32 point worse; README, Experiments).
     */
    trim_residuals: v.optional(v.number({ min: 0, max: 100 }), 0),
    /** Hyper-parameters per algorithm name (validated by the estimator that uses them). */
    params: modelParams,
  }),
  mlflow: v.section({
    tracking_uri: v.maybe(v.string({ nonEmpty: true })),
    experiment_name: v.optional(v.string({ nonEmpty: true }), 'dvc-pipeline-runs'),
  }),
  model_registration: v.section({
    model_name: v.optional(v.string({ nonEmpty: true }), 'UsedCarPriceModel'),
    register_as: v.optional(v.oneOf(['Staging', 'Production', 'None'] as const), 'Staging'),
    output_dir: v.optional(v.string({ nonEmpty: true }), 'artifacts/register_model'),
  }),
  serving: v.section({
    /** Model served by `carprice serve` when --model is not given; default models:/<model_name>@champion. */
    model_uri: v.maybe(v.string({ nonEmpty: true })),
    host: v.optional(v.string({ nonEmpty: true }), '0.0.0.0'),
    port: v.optional(v.number({ int: true, min: 0, max: 65535 }), 8000),
    workers: v.optional(v.number({ int: true, min: 1, max: 256 }), 1),
    /** Seconds between checks for a new version behind the alias/stage (or a changed bundle); 0 = only on SIGHUP. */
    poll_interval_s: v.optional(v.number({ min: 0 }), 30),
    batch_limit: v.optional(v.number({ int: true, min: 1 }), 1000),
    body_limit_bytes: v.optional(v.number({ int: true, min: 1024 }), 1048576),
    /** Requests per minute per client address on the prediction routes; 0 = no limit. */
    rate_limit_per_minute: v.optional(v.number({ int: true, min: 0 }), 0),
    max_string_length: v.optional(v.number({ int: true, min: 1 }), 100),
    /** Seconds in-flight requests get to finish after SIGTERM. */
    shutdown_timeout_s: v.optional(v.number({ min: 0 }), 10),
    log_requests: v.optional(v.boolean(), true),
  }),
  /** Prediction log, drift thresholds and shadow scoring (src/monitoring). */
  monitoring: v.section({
    /** SQLite file of the prediction log (relative to the project); `carprice serve` writes it. */
    log_path: v.optional(v.string({ nonEmpty: true }), '.carprice/predictions.db'),
    /** Log the prediction log at all (`carprice serve`). */
    log_enabled: v.optional(v.boolean(), true),
    /** Share of requests logged (and shadow-scored), 0..1. */
    sample_rate: v.optional(v.number({ min: 0, max: 1 }), 1),
    /** Rows waiting to be written; beyond it new rows are dropped (and counted). */
    queue_size: v.optional(v.number({ int: true, min: 1 }), 10000),
    /** Rows older than this many days are deleted. */
    retention_days: v.optional(v.number({ min: 0, exclusiveMin: true }), 30),
    /** Most rows kept; the oldest go first. */
    max_rows: v.optional(v.number({ int: true, min: 1 }), 1000000),
    /** Seconds between the drift scores `carprice serve` publishes on /metrics; 0 = never. */
    drift_interval_s: v.optional(v.number({ min: 0 }), 300),
    /** Listings waiting for the shadow challenger; beyond it they are not shadow-scored (counted). */
    shadow_queue_size: v.optional(v.number({ int: true, min: 1 }), 1000),
    /** A shadow batch not scored within this many ms restarts the challenger's worker. */
    shadow_timeout_ms: v.optional(v.number({ int: true, min: 1 }), 5000),
    /**
     * Nice value of the shadow challenger's thread (Linux; 0 = the server's own priority):
     * at 19 it gets only CPU that serving does not want.
     */
    shadow_nice: v.optional(v.number({ int: true, min: 0, max: 19 }), 19),
    /**
     * Scheduling policy of the shadow challenger's thread (Linux): `idle` = SCHED_IDLE (a
     * serving thread that wakes takes the core from it at once; falls back to the nice value
     * where refused), `nice` = the nice value only.
     */
    shadow_policy: v.optional(v.oneOf(['idle', 'nice'] as const), 'idle'),
    /**
     * Where the shadow challenger runs: `process` = a child process started at that policy
     * and nice value, so all of its threads (V8's collector and compiler threads too) get
     * them and it shares no heap or memory map with the server (Linux; elsewhere `thread`);
     * `thread` = a worker thread of the server (only that thread is lowered).
     */
    shadow_isolation: v.optional(v.oneOf(['process', 'thread'] as const), 'process'),
    /**
     * Milliseconds between the shadow challenger's looks at the requests waiting for it: it
     * prices what came meanwhile as one batch. Larger batches cost it less per listing and
     * start it less often; at most shadow_queue_size listings wait (more are dropped, counted).
     */
    shadow_batch_ms: v.optional(v.number({ int: true, min: 1, max: 60_000 }), 250),
    /**
     * The shadow challenger's pause protocol (Linux): about every this many µs of its work it
     * looks at the serving thread (its state in /proc) and waits while that thread is on a
     * core or waiting for one, at most a quarter of shadow_timeout_ms (and 1 s) per batch, so
     * its work falls between requests. 0 = off (each batch at once, beside requests).
     */
    shadow_yield_us: v.optional(v.number({ int: true, min: 0, max: 1_000_000 }), 100),
    drift: v.section({
      /** Default window of `carprice monitor drift` (e.g. 7d, 24h). */
      window: v.optional(v.string({ nonEmpty: true }), '7d'),
      /** Fewer logged requests than this in the window: no verdict. */
      min_rows: v.optional(v.number({ int: true, min: 1 }), 200),
      /** Population stability index of a numeric input or of the predictions: warn / alert. */
      psi_warn: v.optional(v.number({ min: 0, exclusiveMin: true }), 0.1),
      psi_alert: v.optional(v.number({ min: 0, exclusiveMin: true }), 0.25),
      /** PSI of a categorical input's shares (values under 1% of training pooled): warn / alert. */
      category_psi_warn: v.optional(v.number({ min: 0, exclusiveMin: true }), 0.1),
      category_psi_alert: v.optional(v.number({ min: 0, exclusiveMin: true }), 0.25),
      /** Unseen-category rate above what the training data leads to expect: warn / alert. */
      unseen_excess_warn: v.optional(v.number({ min: 0, exclusiveMin: true, max: 1 }), 0.02),
      unseen_excess_alert: v.optional(v.number({ min: 0, exclusiveMin: true, max: 1 }), 0.05),
    }),
  }),
  ranges: rangesSchema,
  evaluation: v.section({
    min_r2: v.optional(v.number({ max: 1 }), 0.8),
    max_rmse: v.optional(v.number({ min: 0, exclusiveMin: true }), 300000),
    max_mape: v.optional(v.number({ min: 0, exclusiveMin: true }), 0.2),
    output_dir: v.optional(v.string({ nonEmpty: true }), 'artifacts/model_evaluation'),
  }),
  /** `carprice model test`: champion comparison, behavioural checks, slices (the gates are `evaluation`). */
  model_test: v.section({
    bootstrap_resamples: v.optional(v.number({ int: true, min: 100, max: 100000 }), 2000),
    confidence: v.optional(v.number({ min: 0.5, max: 1, exclusiveMax: true }), 0.95),
    behaviour_sample: v.optional(v.number({ int: true, min: 1 }), 300),
    odometer_grid: v.optional(
      v.array(v.number({ min: 0 }), { minLength: 2 }),
      [10000, 25000, 50000, 75000, 100000, 150000],
    ),
    monotonic_tolerance: v.optional(v.number({ min: 0, max: 1 }), 0.03),
    color_max_change: v.optional(v.number({ min: 0, exclusiveMin: true }), 0.05),
    max_violation_rate: v.optional(v.number({ min: 0, max: 1 }), 0.02),
    slice_min_count: v.optional(v.number({ int: true, min: 1 }), 20),
    slice_flag_ratio: v.optional(v.number({ min: 1 }), 1.5),
    output_dir: v.optional(v.string({ nonEmpty: true }), 'artifacts/model_test'),
  }),
});

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The validated, defaulted, frozen content of params.yaml. */
export type Params = DeepReadonly<ReturnType<typeof paramsSchema>>;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const x of Object.values(o)) deepFreeze(x);
    Object.freeze(o);
  }
  return o;
}

/**
 * Apply `key.path=value` overrides to a raw params object. Values are read as YAML
 * scalars/flow collections (`0.1`, `true`, `[a, b]`).
 */
export function applyOverrides(raw: Record<string, unknown>, sets: readonly string[]): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0)
      throw new AppError('USAGE', `--set expects key=value (e.g. --set data_ingestion.test_size=0.25), got "${s}"`);
    const path = s.slice(0, eq).trim().split('.');
    let value: unknown;
    try {
      value = parseYamlValue(s.slice(eq + 1));
    } catch {
      value = s.slice(eq + 1);
    }
    let node: Record<string, unknown> = out;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined || next === null) node[key] = {};
      else if (typeof next !== 'object' || Array.isArray(next))
        throw new AppError('USAGE', `--set ${s}: ${key} is not a mapping, so ${path.join('.')} cannot be set`);
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return out;
}

/** Validate a raw params object (already parsed YAML). */
export function parseParams(raw: unknown, where = 'params.yaml'): Params {
  return deepFreeze(parseWith(paramsSchema, raw ?? {}, where));
}

export interface LoadParamsOptions {
  /** Path of params.yaml; a missing file means all defaults. */
  path: string;
  /** `key=value` overrides from --set flags. */
  sets?: readonly string[];
  /** Fail when the file does not exist (default false: defaults are used). */
  mustExist?: boolean;
}

/** Read, override, validate and freeze params.yaml. Errors name the key path and line. */
export function loadParams(opts: LoadParamsOptions): Params {
  let text: string | undefined;
  try {
    text = readFileSync(opts.path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || opts.mustExist)
      throw new AppError(
        'CONFIG_INVALID',
        code === 'ENOENT'
          ? `params file ${opts.path} does not exist; check --params (or CARPRICE_PARAMS)`
          : `cannot read params file ${opts.path}: ${(e as Error).message}`,
        { cause: e },
      );
  }
  let raw: Record<string, unknown> = {};
  let doc: Document | undefined;
  if (text !== undefined) {
    doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length) {
      const e = doc.errors[0];
      throw new AppError(
        'CONFIG_INVALID',
        `${opts.path}:${e.linePos?.[0]?.line ?? '?'}: invalid YAML: ${e.message.split('\n')[0]}`,
      );
    }
    let js: unknown;
    try {
      // the yaml library refuses documents whose aliases would expand past maxAliasCount
      // ("billion laughs"): a config error, not a crash
      js = doc.toJS();
    } catch (e) {
      throw new AppError(
        'CONFIG_INVALID',
        `${opts.path}: cannot be read as YAML: ${(e as Error).message.split('\n')[0]}; write the values out instead of nesting aliases`,
        { cause: e },
      );
    }
    if (js !== null && js !== undefined && (typeof js !== 'object' || Array.isArray(js)))
      throw new AppError('CONFIG_INVALID', `${opts.path} must be a mapping of sections (base, data_ingestion, ...)`);
    raw = (js ?? {}) as Record<string, unknown>;
    if (doc && !isMap(doc.contents) && doc.contents !== null) raw = {};
  }
  const merged = applyOverrides(raw, opts.sets ?? []);
  try {
    return parseParams(merged, opts.path);
  } catch (e) {
    if (e instanceof AppError && Array.isArray(e.details?.issues)) {
      const issues = e.details.issues as Issue[];
      // a value that came from --set is blamed on the flag, not on a line of the file
      const setKeys = (opts.sets ?? []).map((s) => s.slice(0, s.indexOf('=')).trim());
      const fromSet = (p: string) => setKeys.some((k) => p === k || p.startsWith(k + '.') || p.startsWith(k + '['));
      const where = (i: Issue): string => {
        const key = i.path || '(root)';
        if (fromSet(i.path)) return `--set ${key}`;
        const ln = doc ? yamlLine(doc, text!, i.path) : undefined;
        return `${opts.path}${ln ? `:${ln}` : ''}: ${key}`;
      };
      if (issues.length === 1)
        throw new AppError('CONFIG_INVALID', `${where(issues[0])}: ${issues[0].message}`, { details: e.details });
      const lines = issues.map((i) => `  ${where(i)}: ${i.message}`);
      throw new AppError('CONFIG_INVALID', `${opts.path} has ${issues.length} problems:\n${lines.join('\n')}`, {
        details: e.details,
      });
    }
    throw e;
  }
}

/**
 * Write `key.path=value` overrides into the params file itself, keeping its comments and
 * layout (what `dvc exp run --set-param` does), so the pipeline's stages, which read the
 * file, see them and dvc.lock records them. Call after `loadParams` accepted the same sets.
 * Returns the keys whose value changed.
 */
export function writeParamOverrides(path: string, sets: readonly string[]): string[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new AppError('FILE_NOT_FOUND', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const doc = parseDocument(text);
  const before = (doc.toJS() ?? {}) as Record<string, unknown>;
  const after = applyOverrides(before, sets);
  const changed: string[] = [];
  for (const s of sets) {
    const key = s.slice(0, s.indexOf('=')).trim();
    const keys = key.split('.');
    const value = keys.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], after);
    const old = keys.reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      before,
    );
    if (JSON.stringify(old) === JSON.stringify(value)) continue;
    doc.setIn(keys, doc.createNode(value, { flow: typeof value === 'object' }));
    if (!changed.includes(key)) changed.push(key);
  }
  if (changed.length === 0) return changed;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, String(doc));
  renameSync(tmp, path);
  return changed;
}

/** 1-based line of a key path in a YAML document, if the key is in the file. */
function yamlLine(doc: Document, text: string, path: string): number | undefined {
  const keys: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    if (m[1]) keys.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(idx[1]));
  }
  while (keys.length) {
    const node = doc.getIn(keys, true) as { range?: [number, number, number] } | undefined;
    if (node && node.range) return text.slice(0, node.range[0]).split('\n').length;
    keys.pop();
  }
  return undefined;
}
