/**
 * The values the predict form offers: make -> model -> variant as they occur together in
 * the training listings, the other categorical fields' values (most frequent first) and
 * the numeric fields' range and median. Read once per file change (mtime + size).
 */
import { statSync } from 'node:fs';
import { AppError } from '../core/errors.js';
import { readTable } from '../data/read.js';
import type { Cell } from '../data/table.js';
import type { KnownValues } from './types.js';

const CATEGORICAL = ['transmissionType', 'bodyType', 'fuelType', 'color', 'year', 'ownership'];
const NUMERIC = ['odometer', 'fitnessAge', 'featureCount', 'year', 'ownership'];

function text(c: Cell | undefined): string | null {
  if (c === null || c === undefined) return null;
  const s = String(c).trim();
  return s === '' ? null : s;
}

/** Known values of a listings table. */
export function knownValuesOf(columns: string[], rows: Cell[][], source: string): KnownValues {
  const col = (name: string) => columns.indexOf(name);
  const [mk, md, vr] = ['make', 'model', 'variant'].map(col);
  if (mk < 0 || md < 0 || vr < 0)
    throw new AppError('DATA_INVALID', `${source} has no make/model/variant columns; it is not a listings file`);
  const tree = new Map<string, Map<string, Map<string, number>>>();
  const counts: Record<string, Map<string, number>> = {};
  for (const f of CATEGORICAL) counts[f] = new Map();
  const nums: Record<string, number[]> = {};
  for (const f of NUMERIC) nums[f] = [];
  for (const r of rows) {
    const make = text(r[mk]);
    const model = text(r[md]);
    const variant = text(r[vr]);
    if (make && model && variant) {
      let m = tree.get(make);
      if (!m) tree.set(make, (m = new Map()));
      let v = m.get(model);
      if (!v) m.set(model, (v = new Map()));
      v.set(variant, (v.get(variant) ?? 0) + 1);
    }
    for (const f of CATEGORICAL) {
      const i = col(f);
      const t = i >= 0 ? text(r[i]) : null;
      if (t !== null) counts[f].set(t, (counts[f].get(t) ?? 0) + 1);
    }
    for (const f of NUMERIC) {
      const i = col(f);
      const n = i >= 0 ? Number(r[i]) : NaN;
      if (i >= 0 && r[i] !== null && r[i] !== '' && Number.isFinite(n)) nums[f].push(n);
    }
  }
  const byName = (a: string, b: string) => a.localeCompare(b);
  const makes: KnownValues['makes'] = {};
  for (const make of [...tree.keys()].sort(byName)) {
    const models: Record<string, string[]> = {};
    const m = tree.get(make)!;
    for (const model of [...m.keys()].sort(byName)) models[model] = [...m.get(model)!.keys()].sort(byName);
    makes[make] = models;
  }
  const fields: KnownValues['fields'] = {};
  for (const f of CATEGORICAL)
    fields[f] = [...counts[f].entries()].sort((a, b) => b[1] - a[1] || byName(a[0], b[0])).map(([k]) => k);
  const numeric: KnownValues['numeric'] = {};
  for (const f of NUMERIC) {
    const v = nums[f].sort((a, b) => a - b);
    if (v.length) numeric[f] = { min: v[0], max: v[v.length - 1], median: v[Math.floor(v.length / 2)] };
  }
  return { source, rows: rows.length, makes, fields, numeric };
}

/** A cached reader of the known values of the first existing file among `paths`. */
export function knownValuesFrom(paths: string[], sheet?: string): () => Promise<KnownValues> {
  let cached: { stamp: string; value: KnownValues } | undefined;
  return async () => {
    for (const p of paths) {
      let stamp: string;
      try {
        const s = statSync(p);
        stamp = `${p}:${s.mtimeMs}:${s.size}`;
      } catch {
        continue;
      }
      if (cached?.stamp === stamp) return cached.value;
      const table = await readTable(p, { sheet: p.endsWith('.xlsx') ? sheet : undefined });
      const value = knownValuesOf(table.columns, table.rows, p);
      cached = { stamp, value };
      return value;
    }
    throw new AppError(
      'FILE_NOT_FOUND',
      `no listings to offer known values from (looked for ${paths.join(', ')}); run \`carprice repro\` or \`carprice pull\` first`,
    );
  };
}
