/**
 * One bundle member (feature pipeline + estimator) compiled for one row: the pipeline as a
 * RowPipeline and the estimator as a direct evaluation over its sparse output, with the
 * batch estimator's arithmetic in the batch order, so the output is bit for bit
 * `estimator.predict(pipeline.transform(frame))`:
 * - linear models: intercept + sum of x_j * w_j over the non-zero features in ascending j
 *   (the batch loop adds the same products in the same order; the zeros it also adds leave
 *   a sum unchanged);
 * - tree ensembles: init + the leaf value of each tree in tree order (boosting's base
 *   score; a forest divides the sum by its tree count, as its batch predict does);
 * - any other estimator: its own predict on a one-row matrix.
 */
import { AppError } from '../core/errors.js';
import { RowPipeline, type RowInputLayout } from '../features/row-pipeline.js';
import { makeMatrix } from '../ml/matrix.js';
import { LinearModel } from '../ml/linear/index.js';
import { GradientBoostingRegressor } from '../ml/gbt/index.js';
import { RandomForestRegressor } from '../ml/forest/index.js';
import { DecisionTreeRegressor, type TreeEnsemble } from '../ml/tree/index.js';
import { RowWalker } from '../ml/tree/row-walker.js';
import type { Regressor } from '../ml/estimator.js';
import type { BundleMember } from './model-bundle.js';

/** What a compiled member evaluates: a linear model, a tree ensemble, or anything else. */
export type MemberModel =
  | { kind: 'linear'; coef: Float64Array; intercept: number }
  | { kind: 'trees'; trees: TreeEnsemble; walker: RowWalker | null; init: number; divisor: number }
  | { kind: 'other' };

export class CompiledMember {
  readonly rows: RowPipeline;
  readonly model: MemberModel;

  constructor(
    readonly member: BundleMember,
    input: RowInputLayout,
  ) {
    this.rows = RowPipeline.compile(member.features, input);
    this.model = modelOf(member.estimator);
    if (this.model.kind === 'linear' && this.model.coef.length !== this.rows.columns.length)
      throw new AppError(
        'MODEL_INVALID',
        `${member.algo} has ${this.model.coef.length} coefficients for ${this.rows.columns.length} features; the model is damaged, retrain it`,
      );
  }

  /** The member's output (target space) for the row last computed by `rows.run`. */
  evaluate(): number {
    const { x, indices, n } = this.rows;
    const m = this.model;
    if (m.kind === 'linear') {
      const w = m.coef;
      let acc = m.intercept;
      for (let k = 0; k < n; k++) {
        const j = indices[k];
        acc += x[j] * w[j];
      }
      // a non-finite feature: the batch predict refuses it with its own error
      return Number.isFinite(acc) ? acc : this.viaBatch();
    }
    if (m.kind === 'trees') {
      let acc: number;
      if (m.walker) acc = m.walker.sum(x, m.init);
      else {
        const t = m.trees;
        acc = m.init;
        for (let k = 0; k < t.nTrees; k++) acc += t.leafValue(k, x, 0);
      }
      return m.divisor === 1 ? acc : acc / m.divisor;
    }
    return this.viaBatch();
  }

  private viaBatch(): number {
    const cols = this.rows.columns;
    const meta = this.member.features.categoricalMeta();
    return this.member.estimator.predict(makeMatrix(1, cols.length, Float64Array.from(this.rows.x), cols, meta))[0];
  }
}

/** Trees deeper than this walk one at a time (lockstep walks pay every tree the deepest path). */
const LOCKSTEP_MAX_DEPTH = 8;

function treesModel(trees: TreeEnsemble, init: number, divisor: number): MemberModel {
  const walker = new RowWalker(trees);
  return { kind: 'trees', trees, walker: walker.maxDepth <= LOCKSTEP_MAX_DEPTH ? walker : null, init, divisor };
}

function modelOf(e: Regressor): MemberModel {
  if (e instanceof LinearModel) return { kind: 'linear', coef: e.coef, intercept: e.intercept };
  if (e instanceof GradientBoostingRegressor && e.trees) return treesModel(e.trees, e.baseScore, 1);
  if (e instanceof RandomForestRegressor && e.trees) return treesModel(e.trees, 0, e.trees.nTrees);
  if (e instanceof DecisionTreeRegressor && e.trees) return treesModel(e.trees, 0, 1);
  return { kind: 'other' };
}
