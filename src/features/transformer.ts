/**
 * The transformer contract shared by every feature step: fit on a Frame (and the target
 * when the step needs it), transform a Frame into a Frame, save as typed JSON tagged
 * {kind, formatVersion}. `fitTransform` may differ from fit-then-transform (target encoding
 * uses out-of-fold values on the training rows to avoid leaking each row's own price).
 */
import { AppError } from '../core/errors.js';
import type { Frame, NumericColumn } from '../data/frame.js';
import { denseValues, type MatrixColumn } from '../ml/matrix.js';

export interface SavedTransformer {
  kind: string;
  formatVersion: number;
  [key: string]: unknown;
}

/** Counters collected while transforming (e.g. unseen categories), for monitoring. */
export interface TransformStats {
  /** Per column: how many values were categories never seen at fit time. */
  unknownCategories: Record<string, number>;
}

export function newStats(): TransformStats {
  return { unknownCategories: {} };
}

export interface Transformer {
  readonly kind: string;
  fit(frame: Frame, y?: Float64Array): this;
  fitTransform(frame: Frame, y?: Float64Array): Frame;
  transform(frame: Frame, stats?: TransformStats): Frame;
  toJSON(): SavedTransformer;
}

/** Fail clearly when a transformer is used before fit. */
export function assertFitted(fitted: boolean, kind: string): void {
  if (!fitted) throw new AppError('MODEL_INVALID', `${kind} used before fit; fit the feature pipeline first`);
}

/**
 * The half every fitted feature step shares: the state it learns (undefined until `fit`
 * or a load), fit-then-transform, the "used before fit" error, and the saved form
 * `{kind, formatVersion: 1, ...saved(state)}`. A step says what it learns (`learn`), how
 * it transforms with it and which fields it saves; its static `fromJSON` checks the kind
 * and version (`checkSaved`), constructs the step from the saved settings and hands it
 * the saved state (`restored`).
 */
export abstract class FittedStep<State> implements Transformer {
  abstract readonly kind: string;
  private learned: State | undefined;

  /** What the step learns from the training rows (and the target, for target encoding). */
  protected abstract learn(frame: Frame, y?: Float64Array): State;
  abstract transform(frame: Frame, stats?: TransformStats): Frame;
  /** The saved fields after kind and formatVersion: the settings, then the state. */
  protected abstract saved(state: State): Record<string, unknown>;

  fit(frame: Frame, y?: Float64Array): this {
    this.learned = this.learn(frame, y);
    return this;
  }

  fitTransform(frame: Frame, y?: Float64Array): Frame {
    return this.fit(frame, y).transform(frame);
  }

  /** The learned state; a coded error before fit. */
  protected get state(): State {
    assertFitted(this.learned !== undefined, this.kind);
    return this.learned as State;
  }

  toJSON(): SavedTransformer {
    return { kind: this.kind, formatVersion: 1, ...this.saved(this.state) };
  }

  /** This step holding a saved state (its fromJSON's last step). */
  protected restored(state: State): this {
    this.learned = state;
    return this;
  }
}

/** Fail clearly when a saved transformer has the wrong version. */
export function checkSaved(saved: SavedTransformer, kind: string, versions: readonly number[]): void {
  if (saved.kind !== kind)
    throw new AppError('FORMAT_UNKNOWN', `expected a saved ${kind}, got "${String(saved.kind)}"`);
  if (!versions.includes(saved.formatVersion))
    throw new AppError(
      'FORMAT_VERSION',
      `saved ${kind} has formatVersion ${String(saved.formatVersion)}; this carprice reads ${versions.join(', ')}`,
    );
}

/** Frames a feature pipeline owns while it runs its steps (see `ownedFrame`). */
const owned = new WeakSet<Frame>();

/**
 * A shallow copy of `frame` that `withColumns` may then change in place: the feature
 * pipeline takes one at the start of a run, so its steps do not copy the column tables
 * (the linear pipeline carries ~1,000 one-hot and word columns; copying those tables at
 * every step was most of the time of a one-listing prediction). The input is untouched.
 */
export function ownedFrame(frame: Frame): Frame {
  const f = copyTables(frame);
  owned.add(f);
  return f;
}

/** A frame with copies of the column tables (the columns themselves are shared). */
function copyTables(frame: Frame): Frame {
  return {
    nRows: frame.nRows,
    numeric: Object.assign({}, frame.numeric),
    categorical: Object.assign({}, frame.categorical),
  };
}

/** New numeric columns as parallel lists (wide steps: no intermediate name -> column object). */
export interface ColumnList {
  names: readonly string[];
  columns: readonly NumericColumn[];
}

/**
 * A frame with some columns replaced/added and others removed. Kept columns stay in their
 * order, new ones follow (`numeric` then `numericList`). The input frame is not changed
 * unless it is an `ownedFrame`, which is changed in place and returned. Columns are set one
 * by one: Object.assign from a table of ~1,000 names took ~6x longer than the loop.
 */
export function withColumns(
  frame: Frame,
  changes: {
    numeric?: Record<string, Float64Array>;
    numericList?: ColumnList;
    categorical?: Record<string, (string | null)[]>;
    drop?: readonly string[];
  },
): Frame {
  const out = owned.has(frame) ? frame : copyTables(frame);
  // the tables are read-only to the frame's users; only this function changes them
  const numeric = out.numeric as Record<string, NumericColumn>;
  const categorical = out.categorical as Record<string, (string | null)[]>;
  for (const k of changes.drop ?? []) {
    delete numeric[k];
    delete categorical[k];
  }
  if (changes.numeric) for (const k of Object.keys(changes.numeric)) numeric[k] = changes.numeric[k];
  if (changes.numericList) {
    const { names, columns } = changes.numericList;
    for (let j = 0; j < names.length; j++) numeric[names[j]] = columns[j];
  }
  if (changes.categorical) for (const k of Object.keys(changes.categorical)) categorical[k] = changes.categorical[k];
  return out;
}

/**
 * For indicator steps (one-hot, word tokens): per input column, each known value's position
 * and the name of its output column, built on first use and kept until `clear()` (a refit).
 */
export class IndicatorLookup {
  private readonly cache = new Map<string, { index: Map<string, number>; names: string[] }>();

  constructor(private readonly nameOf: (column: string, value: string) => string) {}

  get(column: string, values: readonly string[]): { index: Map<string, number>; names: string[] } {
    let l = this.cache.get(column);
    if (!l) {
      l = { index: new Map(values.map((v, k) => [v, k])), names: values.map((v) => this.nameOf(column, v)) };
      this.cache.set(column, l);
    }
    return l;
  }

  clear(): void {
    this.cache.clear();
  }
}

/** The column, or a coded error naming it and what the frame has. */
export function numericColumn(frame: Frame, name: string): Float64Array {
  const c = frame.numeric[name];
  if (!c)
    throw new AppError(
      'INPUT_INVALID',
      `numeric column ${name} is missing (have: ${Object.keys(frame.numeric).join(', ')})`,
    );
  // a 0/1 indicator column is kept as bytes (or sparse, word columns); a step that computes
  // with it gets float64 values
  if (c instanceof Float64Array) return c;
  return Float64Array.from(denseValues(c as MatrixColumn));
}

export function categoricalColumn(frame: Frame, name: string): (string | null)[] {
  const c = frame.categorical[name];
  if (!c)
    throw new AppError(
      'INPUT_INVALID',
      `categorical column ${name} is missing (have: ${Object.keys(frame.categorical).join(', ')})`,
    );
  return c;
}

/** How often each non-missing category occurs in the column, in order of first appearance. */
export function categoryCounts(frame: Frame, column: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const x of categoricalColumn(frame, column)) if (x !== null) counts.set(x, (counts.get(x) ?? 0) + 1);
  return counts;
}

/** The sorted distinct non-missing categories of each column (a deterministic layout). */
export function categoryLevels(frame: Frame, columns: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of columns) {
    const set = new Set<string>();
    for (const x of categoricalColumn(frame, c)) if (x !== null) set.add(x);
    out[c] = [...set].sort();
  }
  return out;
}
