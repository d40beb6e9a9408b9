/**
 * A model bundle compiled for batch prediction of validated listing columns (what
 * `carprice predict --data` and `evaluate --data` score a chunk of rows at a time): no
 * frames, no dense design matrices of the linear members, no per-row objects.
 *
 * Each row goes through every member's compiled one-row pipeline (RowPipeline: only the
 * slots a listing sets are touched), then
 * - a linear member adds its coefficients over the row's non-zero features (a sparse dot,
 *   the ~40 features a listing sets instead of all ~1,000 columns);
 * - a tree member scatters the row into the chunk's row-major matrix, and the whole chunk
 *   walks the ensemble at once (`TreeEnsemble.sumInto`, which compiles the trees to
 *   WebAssembly once a file is large enough);
 * - any other estimator predicts the row on its own.
 * The arithmetic is the batch path's, in its order, so the prices are bit for bit those of
 * `bundle.predictFrame` on the same rows (tested on every listing of the real dataset).
 */
import { CompiledMember } from './compiled-member.js';
import { recordLayout, type RecordLayout } from './record-validation.js';
import { makeMatrix } from '../ml/matrix.js';
import type { ModelBundle } from './model-bundle.js';

export class BatchScorer {
  readonly layout: RecordLayout;
  private readonly members: CompiledMember[];
  private readonly weights: Float64Array;
  private readonly logTarget: boolean;
  private readonly offset: number;
  private readonly num: Float64Array;
  private readonly cat: (string | null)[];
  /** Per tree member: its chunk matrix buffer (grown to the largest chunk seen). */
  private readonly buffers: (Float64Array | null)[];

  constructor(bundle: ModelBundle) {
    this.layout = recordLayout(bundle.inputSchema);
    this.members = bundle.members.map((m) => new CompiledMember(m, this.layout));
    this.weights = Float64Array.from(bundle.members, (m) => m.weight);
    this.logTarget = bundle.targetTransform === 'log1p';
    this.offset = bundle.outputOffset;
    this.num = new Float64Array(this.layout.numeric.length);
    this.cat = new Array<string | null>(this.layout.categorical.length).fill(null);
    this.buffers = this.members.map(() => null);
    // the trees are compiled here (~0.1 s for the default blend), once per scorer
    for (const m of this.members) if (m.model.kind === 'trees') m.model.trees.compile();
  }

  /**
   * Prices (original scale, not rounded) of rows [0, n): `numeric[k]` is the column of
   * layout.numeric[k] (undefined: absent from the file, every value missing), `categorical[k]`
   * that of layout.categorical[k]. Rows with skip[i] != 0 are not scored (their price is
   * NaN). With `unknown`, each column's count of values never seen in training is added to
   * it, as `predictFrame` counts them in its TransformStats (once per member step).
   * `more.unknownByRow[i]` gets the names of row i's unseen values (once per member step, as
   * `Predictor.predictOne` collects them); `more.raw` returns the output in target space
   * (before the inverse transform: what the calibration's intervals start from).
   */
  score(
    n: number,
    numeric: readonly (ArrayLike<number> | undefined)[],
    categorical: readonly (readonly (string | null)[])[],
    skip?: Uint8Array,
    unknown?: Record<string, number>,
    more: { raw?: boolean; unknownByRow?: string[][] } = {},
  ): Float64Array {
    const z = new Float64Array(n);
    const { num, cat } = this;
    const byRow = more.unknownByRow;
    const names: string[] | null = unknown || byRow ? [] : null;
    let row = 0;
    const tally = () => {
      if (!names || names.length === 0) return;
      if (unknown) for (const c of names) unknown[c] = (unknown[c] ?? 0) + 1;
      if (byRow) for (const c of names) byRow[row].push(c);
      names.length = 0;
    };
    for (let m = 0; m < this.members.length; m++) {
      const cm = this.members[m];
      const w = this.weights[m];
      const model = cm.model;
      if (model.kind === 'trees') {
        const p = cm.rows.columns.length;
        let X = this.buffers[m];
        if (!X || X.length < n * p) X = this.buffers[m] = new Float64Array(n * p);
        else X.fill(0, 0, n * p);
        for (let i = 0; i < n; i++) {
          if (skip && skip[i]) continue;
          this.load(i, numeric, categorical, num, cat);
          cm.rows.run(num, cat, names);
          row = i;
          tally();
          const { x, indices } = cm.rows;
          const base = i * p;
          for (let k = 0; k < cm.rows.n; k++) X[base + indices[k]] = x[indices[k]];
        }
        const out = new Float64Array(n);
        model.trees.sumIntoCompiled(makeMatrix(n, p, X.subarray(0, n * p), cm.rows.columns), out, model.init);
        for (let i = 0; i < n; i++) z[i] += w * (model.divisor === 1 ? out[i] : out[i] / model.divisor);
      } else {
        for (let i = 0; i < n; i++) {
          if (skip && skip[i]) continue;
          this.load(i, numeric, categorical, num, cat);
          cm.rows.run(num, cat, names);
          row = i;
          tally();
          z[i] += w * cm.evaluate();
        }
      }
    }
    // the output offset after the weighted sum, as bundle.predictFrame adds it
    const b = this.offset;
    if (b !== 0) for (let i = 0; i < n; i++) z[i] += b;
    for (let i = 0; i < n; i++) z[i] = skip && skip[i] ? NaN : this.logTarget && !more.raw ? Math.expm1(z[i]) : z[i];
    return z;
  }

  private load(
    i: number,
    numeric: readonly (ArrayLike<number> | undefined)[],
    categorical: readonly (readonly (string | null)[])[],
    num: Float64Array,
    cat: (string | null)[],
  ): void {
    for (let k = 0; k < num.length; k++) {
      const c = numeric[k];
      num[k] = c ? c[i] : NaN;
    }
    for (let k = 0; k < cat.length; k++) cat[k] = categorical[k][i];
  }
}
