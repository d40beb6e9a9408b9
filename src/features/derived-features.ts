/**
 * Derived features computed from the listing itself (stateless apart from the reference
 * year, so they are identical at training and prediction time):
 * - car_age = reference_year - year (year is a category in the data; non-numeric -> NaN)
 * - log_odometer = ln(1 + odometer)
 * - km_per_year = odometer / max(1, car_age + 0.5)  (usage intensity)
 * - make_model = "make|model", a categorical key (model names repeat across makes)
 * A derived feature whose source column is absent is skipped (and recorded as such).
 */
import type { Frame } from '../data/frame.js';
import { checkSaved, FittedStep, numericColumn, withColumns, type SavedTransformer } from './transformer.js';

export type DerivedName = 'car_age' | 'log_odometer' | 'make_model' | 'km_per_year';

const SOURCES: Record<DerivedName, { numeric: string[]; categorical: string[] }> = {
  car_age: { numeric: [], categorical: ['year'] },
  log_odometer: { numeric: ['odometer'], categorical: [] },
  km_per_year: { numeric: ['odometer'], categorical: ['year'] },
  make_model: { numeric: [], categorical: ['make', 'model'] },
};

/** State: the derived features whose sources were present at fit time. */
export class DerivedFeatures extends FittedStep<DerivedName[]> {
  readonly kind = 'derived-features';

  /**
   * @param drop source columns removed once the derived ones are computed (e.g. `year`,
   *   whose one-hot levels let a model price a 2010 car above a 2011 one, while car_age
   *   carries the same information in order).
   */
  constructor(
    readonly names: readonly DerivedName[],
    readonly referenceYear: number,
    readonly drop: readonly string[] = [],
  ) {
    super();
  }

  protected learn(frame: Frame): DerivedName[] {
    return this.names.filter((n) => {
      const s = SOURCES[n];
      return s.numeric.every((c) => c in frame.numeric) && s.categorical.every((c) => c in frame.categorical);
    });
  }

  /** Derived features actually produced (sources present at fit time). */
  produced(): { numeric: string[]; categorical: string[] } {
    const active = this.state;
    return {
      numeric: active.filter((n) => n !== 'make_model'),
      categorical: active.filter((n) => n === 'make_model'),
    };
  }

  transform(frame: Frame): Frame {
    const active = this.state;
    const n = frame.nRows;
    const numeric: Record<string, Float64Array> = {};
    const categorical: Record<string, (string | null)[]> = {};
    const age = (): Float64Array => {
      const year = frame.categorical.year;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const y = year[i] === null ? NaN : Number(year[i]);
        out[i] = Number.isFinite(y) ? this.referenceYear - y : NaN;
      }
      return out;
    };
    for (const name of active) {
      if (name === 'car_age') numeric.car_age = age();
      else if (name === 'log_odometer')
        numeric.log_odometer = numericColumn(frame, 'odometer').map((x) => Math.log1p(x));
      else if (name === 'km_per_year') {
        const a = numeric.car_age ?? age();
        const odo = numericColumn(frame, 'odometer');
        numeric.km_per_year = odo.map((x, i) => x / Math.max(1, a[i] + 0.5));
      } else {
        const make = frame.categorical.make;
        const model = frame.categorical.model;
        // one string per distinct pair, not per row (millions of rows share a few thousand pairs)
        const pairs = new Map<string, Map<string, string>>();
        categorical.make_model = make.map((m, i) => {
          const mo = model[i];
          if (m === null || mo === null) return null;
          let byModel = pairs.get(m);
          if (!byModel) pairs.set(m, (byModel = new Map<string, string>()));
          let s = byModel.get(mo);
          if (s === undefined) byModel.set(mo, (s = `${m}|${mo}`));
          return s;
        });
      }
    }
    return withColumns(frame, { numeric, categorical, drop: this.drop });
  }

  protected saved(active: DerivedName[]): Record<string, unknown> {
    // `drop` only when set, so bundles without it keep their bytes
    return {
      names: [...this.names],
      referenceYear: this.referenceYear,
      active,
      ...(this.drop.length ? { drop: [...this.drop] } : {}),
    };
  }

  static fromJSON(s: SavedTransformer): DerivedFeatures {
    checkSaved(s, 'derived-features', [1]);
    const drop = (s.drop as string[] | undefined) ?? [];
    return new DerivedFeatures(s.names as DerivedName[], s.referenceYear as number, drop).restored(
      s.active as DerivedName[],
    );
  }
}
