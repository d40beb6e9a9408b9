/**
 * The drift report as data: what `carprice monitor drift --json`, /metrics and the
 * dashboard read (drift-report.ts computes it). Plain types and one constant, nothing else
 * imported, so the dashboard's browser code shares these definitions (through
 * dashboard/wire.ts) instead of repeating them.
 */

export const DRIFT_REPORT_KIND = 'carprice-drift-report' as const;

export interface DriftThresholds {
  minRows: number;
  psiWarn: number;
  psiAlert: number;
  categoryPsiWarn: number;
  categoryPsiAlert: number;
  unseenExcessWarn: number;
  unseenExcessAlert: number;
}

export type Level = 'ok' | 'warn' | 'alert';
export type DriftStatus = Level | 'insufficient' | 'no_reference';

export interface ShareShift {
  value: string;
  reference: number;
  window: number;
}

export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  /** PSI over the training deciles (numeric inputs and numeric-valued categories). */
  psi: number | null;
  /** PSI of category shares (categorical inputs). */
  categoryPsi: number | null;
  /** PSI expected from sampling alone for `psi` and `categoryPsi` (subtracted before judging). */
  psiNoise: number | null;
  categoryPsiNoise: number | null;
  /** Share of the window's present values never seen in training. */
  unseenRate: number | null;
  /** Unseen rate the training data leads to expect (Good-Turing). */
  expectedUnseenRate: number | null;
  unseenExcess: number | null;
  /** Up to three categories whose share moved most. */
  topShifts: ShareShift[];
  missingRate: { reference: number; window: number };
  status: Level;
  /** Why the status is not ok, e.g. "psi 0.41 > 0.25". */
  reasons: string[];
}

export interface PredictionDrift {
  psi: number;
  psiNoise: number;
  rows: number;
  /** Training-prediction decile edges and the window's share in each bin. */
  edges: number[];
  referenceShares: number[];
  windowShares: number[];
  status: Level;
  reasons: string[];
}

export interface DriftReport {
  kind: typeof DRIFT_REPORT_KIND;
  formatVersion: 1;
  generatedAt: string;
  model: { name: string; version: string | null };
  /** rows: the rows judged; newestOnly: the cap when the window held more (only its newest rows were read), else null. */
  window: { since: string; until: string; rows: number; newestOnly: number | null };
  reference: { available: boolean; rows: number | null; origin: string; note: string | null };
  thresholds: DriftThresholds;
  /** Worst feature/prediction level, or why there is no verdict. */
  status: DriftStatus;
  summary: string;
  features: FeatureDrift[];
  prediction: PredictionDrift | null;
}
