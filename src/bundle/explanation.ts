/**
 * Per-feature explanations of one price: contributions that add up to the model's output,
 * from each member of the bundle (compiled-member.ts) and combined with the blend weights:
 * - linear models: coefficient x feature value (the base is the intercept);
 * - tree ensembles: exact path-dependent TreeSHAP with the node covers recorded at training
 *   (ml/tree/tree-shap.ts; the base is the expected output over the training rows);
 * - a blend: the weighted sum of its members' contributions and bases.
 * Contributions are in the model's target space (log1p of the price by default), where
 * base + sum = the model output exactly (up to float rounding); each also gets its
 * proportional share of the price difference (price - base price), in currency.
 * Matrix columns are grouped by the listing field they come from: `make=Honda` and
 * `make#code` -> make, `variant~tok=VXI` -> variant, `model~te` -> model; derived features
 * keep their names (car_age, km_per_year, make_model); interactions are `car_age*make`.
 */
import { AppError } from '../core/errors.js';
import { TreeExplainer } from '../ml/tree/tree-shap.js';
import type { CompiledMember } from './compiled-member.js';

/** One listing field's (or derived feature's) part of a price. */
export interface Contribution {
  feature: string;
  /** In the model's target space (adds up with the base to `value`). */
  value: number;
  /** Its proportional share of price - base price, in currency. */
  price: number;
}

/** The listing field a matrix column comes from. */
export function featureOf(column: string): string {
  if (column.includes('*')) return column.slice(0, column.indexOf('=') >= 0 ? column.indexOf('=') : column.length);
  const cut = column.search(/[=~#]/);
  return cut < 0 ? column : column.slice(0, cut);
}

/** Read a member's saved tree covers (absent = undefined); each must be a count >= 0. */
export function parseTreeCover(x: unknown): Float64Array | undefined {
  if (x === undefined || x === null) return undefined;
  if (!Array.isArray(x) || !x.every((c) => typeof c === 'number' && Number.isFinite(c) && c >= 0))
    throw new AppError('FORMAT_UNKNOWN', 'treeCover is not a list of counts >= 0');
  return Float64Array.from(x as number[]);
}

/** Explains a compiled member's output for the row its RowPipeline last computed. */
export class MemberExplainer {
  private readonly features: string[];
  private readonly trees: TreeExplainer | null;
  private readonly phi: Float64Array;

  constructor(private readonly cm: CompiledMember) {
    this.features = cm.rows.columns.map(featureOf);
    this.phi = new Float64Array(cm.rows.columns.length);
    const m = cm.model;
    if (m.kind === 'trees') {
      const cover = cm.member.treeCover;
      if (!cover)
        throw new AppError(
          'MODEL_INVALID',
          `the ${cm.member.algo} member was saved without the node covers explanations need (bundles before format 2); retrain the model to explain its prices`,
        );
      this.trees = new TreeExplainer(m.trees, cover);
    } else this.trees = null;
  }

  /** True when this member can be explained (tree members need covers). */
  static supports(cm: CompiledMember): boolean {
    return cm.model.kind !== 'trees' || cm.member.treeCover !== undefined;
  }

  /** Add weight x this member's contributions into `into`; returns weight x its base. */
  explain(weight: number, into: Map<string, number>): number {
    const { x, indices, n } = this.cm.rows;
    const m = this.cm.model;
    const add = (j: number, v: number) => {
      if (v !== 0) into.set(this.features[j], (into.get(this.features[j]) ?? 0) + weight * v);
    };
    if (m.kind === 'linear') {
      for (let k = 0; k < n; k++) add(indices[k], x[indices[k]] * m.coef[indices[k]]);
      return weight * m.intercept;
    }
    if (m.kind === 'trees' && this.trees) {
      const phi = this.phi;
      phi.fill(0);
      this.trees.shapInto(x, phi);
      for (let j = 0; j < phi.length; j++) if (phi[j] !== 0) add(j, phi[j] / m.divisor);
      return (weight * (m.init + this.trees.expectedValue)) / m.divisor;
    }
    // an estimator without an explanation: its whole output is the base
    return weight * this.cm.evaluate();
  }
}

/** Contributions in target space -> sorted list with their currency shares. */
export function contributionList(
  into: Map<string, number>,
  base: number,
  value: number,
  inv: (z: number) => number,
): { base: { value: number; price: number }; contributions: Contribution[] } {
  const basePrice = inv(base);
  const span = value - base;
  const priceSpan = inv(value) - basePrice;
  const contributions = [...into]
    .map(([feature, v]) => ({ feature, value: v, price: span !== 0 ? (v / span) * priceSpan : 0 }))
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || (a.feature < b.feature ? -1 : 1));
  return { base: { value: base, price: basePrice }, contributions };
}
