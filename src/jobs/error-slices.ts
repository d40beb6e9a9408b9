/**
 * Errors by slice of the test listings (make, fuelType, bodyType, transmissionType and
 * price band): a model can look fine overall while pricing every electric car or every
 * luxury car badly. Slices with at least `minCount` listings whose MAPE exceeds
 * `flagRatio` times the overall MAPE are flagged (reported, not failing: a slice can be
 * hard for every model).
 */
import type { Frame } from '../data/frame.js';

export const SLICE_COLUMNS = ['make', 'fuelType', 'bodyType', 'transmissionType'] as const;

/** Price bands in INR (lower bound inclusive). */
export const PRICE_BANDS: ReadonlyArray<{ label: string; from: number }> = [
  { label: '< 3 lakh', from: -Infinity },
  { label: '3-5 lakh', from: 300_000 },
  { label: '5-8 lakh', from: 500_000 },
  { label: '8-12 lakh', from: 800_000 },
  { label: '12-20 lakh', from: 1_200_000 },
  { label: '>= 20 lakh', from: 2_000_000 },
];

export interface SliceStats {
  column: string;
  value: string;
  n: number;
  mae: number;
  mape: number;
  flagged: boolean;
}

export interface SliceReport {
  overall: { n: number; mae: number; mape: number };
  minCount: number;
  flagRatio: number;
  /** Slices with at least minCount listings, worst MAPE first within each column. */
  slices: SliceStats[];
  flagged: SliceStats[];
  /** Listings in slices smaller than minCount (not scored separately). */
  smallSliceListings: number;
}

export function priceBand(price: number): string {
  let label = PRICE_BANDS[0].label;
  for (const b of PRICE_BANDS) if (price >= b.from) label = b.label;
  return label;
}

function stats(idx: readonly number[], y: Float64Array, pred: Float64Array): { n: number; mae: number; mape: number } {
  let ae = 0;
  let ape = 0;
  for (const i of idx) {
    const e = Math.abs(pred[i] - y[i]);
    ae += e;
    ape += y[i] !== 0 ? e / Math.abs(y[i]) : 0;
  }
  return { n: idx.length, mae: ae / idx.length, mape: ape / idx.length };
}

export function errorSlices(
  frame: Frame,
  y: Float64Array,
  pred: Float64Array,
  o: { minCount: number; flagRatio: number },
): SliceReport {
  const all = Array.from({ length: y.length }, (_, i) => i);
  const overall = stats(all, y, pred);
  const groups: Array<[string, (i: number) => string]> = [
    ...SLICE_COLUMNS.filter((c) => frame.categorical[c]).map((c): [string, (i: number) => string] => [
      c,
      (i) => frame.categorical[c][i] ?? '(missing)',
    ]),
    ['price band', (i) => priceBand(y[i])],
  ];
  const slices: SliceStats[] = [];
  let small = 0;
  for (const [column, key] of groups) {
    const by = new Map<string, number[]>();
    for (const i of all) {
      const k = key(i);
      let list = by.get(k);
      if (!list) by.set(k, (list = []));
      list.push(i);
    }
    const mine: SliceStats[] = [];
    for (const [value, idx] of by) {
      if (idx.length < o.minCount) {
        small += idx.length;
        continue;
      }
      const s = stats(idx, y, pred);
      mine.push({ column, value, ...s, flagged: s.mape > o.flagRatio * overall.mape });
    }
    mine.sort((a, b) => b.mape - a.mape || (a.value < b.value ? -1 : 1));
    slices.push(...mine);
  }
  return {
    overall,
    minCount: o.minCount,
    flagRatio: o.flagRatio,
    slices,
    flagged: slices.filter((s) => s.flagged),
    smallSliceListings: small,
  };
}
