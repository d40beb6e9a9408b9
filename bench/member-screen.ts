/**
 * bench/member-screen: other model families as a third blend member, screened on one 85/15
 * cut of the 5,912 training rows of the seed-42 split (never its test rows; --cut picks
 * another cut): log RMSE and MAPE of ridge, gbdt (params.yaml's), their best blend, and the
 * best blend with each candidate. Weights come from a 0.05 grid chosen on the scored rows
 * themselves, so every line is optimistic alike: a screen for what might add diversity, not
 * the criterion (5-fold CV on the training rows, bench/quality-grid, is).
 * Candidates: (a) a neural network (bench/mlp-prototype.ts) on the linear family's
 * features, one per argument `mlp:key=value,...`, e.g. `mlp:hidden=16,inputs=plain,l2=0.003,n_models=4`;
 * (b) k nearest neighbours within make_model (fallback make) on standardised year and log
 * km with costs for a different fuel, transmission or variant; (c) a GBDT given the
 * out-of-fold ridge prediction as one more feature (stacking), with ridge and with both.
 * Usage: node dist/bench/member-screen.js [--cut N] [--only-mlp] [mlp:...] ...
 */
import { loadParams } from '../src/config/params.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { splitIndices } from '../src/data/split.js';
import { takeFrameRows, takeValues } from '../src/data/frame.js';
import { prepareFeatures } from '../src/bundle/train-bundle.js';
import { trainingOptions } from '../src/jobs/training-options.js';
import { createEstimator } from '../src/ml/algorithms.js';
import { columnMatrix, matrixColumn, takeRows, type Matrix } from '../src/ml/matrix.js';
import { Rng } from '../src/core/rng.js';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { MlpRegressor } from './mlp-prototype.js';
import { benchArgs, runBench, usageError, wholeNumber } from './bench-args.js';
import { DATA } from './dataset.js';

const args = benchArgs({
  name: 'member-screen',
  summary: 'other model families (a neural network, nearest neighbours, stacking) as a third blend member, screened',
  options: {
    cut: {
      type: 'string',
      value: 'N',
      default: '7',
      help: 'seed of the 85/15 cut of the training rows',
      check: wholeNumber(0),
    },
    'only-mlp': { type: 'boolean', help: 'print the networks named as arguments only (no neighbours, no stacking)' },
  },
  positionals: {
    value: 'mlp:KEY=VALUE',
    help: 'a network (bench/mlp-prototype.ts params), e.g. mlp:hidden=16,inputs=plain,l2=0.003,n_models=4',
    check: (v) => (v.startsWith('mlp:') || v === 'mlp' ? undefined : 'must start with "mlp:"'),
  },
});
if (args.positionals.length === 0 && args.flag('only-mlp'))
  usageError('member-screen', '--only-mlp needs at least one mlp:... argument');

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
  console.log(`load average ${load()}`);
  const base = loadParams({ path: 'params.yaml' });
  const all = await loadListings(DATA, { params: base });
  const s42 = splitIndices(all.frame.nRows, 0.2, 42);
  const frame = takeFrameRows(all.frame, s42.train);
  const y = takeValues(all.y!, s42.train);
  const seed = args.number('cut')!;
  const prep = prepareFeatures(frame, y, all.schema, { ...trainingOptions(base, 'blend'), alsoFamilies: ['linear'] });
  const XL = prep.families.linear!.X;
  const XT = prep.families.tree!.X;
  const z = prep.z;
  const n = z.length;
  const perm = new Rng(seed).permutation(n);
  const nVal = Math.floor(n * 0.15);
  const val = perm.slice(0, nVal).sort();
  const fit = perm.slice(nVal).sort();
  const zv = takeValues(z, val);
  const zf = takeValues(z, fit);

  function fitPredict(algo: string, Xf: Matrix, yf: Float64Array, Xp: Matrix, extra: Record<string, unknown> = {}) {
    const e = createEstimator(algo, { ...(base.model_trainer.params[algo] ?? {}), ...extra });
    e.fit(Xf, yf);
    return e.predict(Xp);
  }
  function score(q: ArrayLike<number>): [number, number] {
    let s2 = 0;
    let a2 = 0;
    for (let i = 0; i < q.length; i++) {
      s2 += (q[i] - zv[i]) ** 2;
      a2 += Math.abs(Math.expm1(q[i]) - Math.expm1(zv[i])) / Math.expm1(zv[i]);
    }
    return [Math.sqrt(s2 / q.length), (100 * a2) / q.length];
  }
  const fmt = ([r, m]: [number, number]) => `logRMSE ${r.toFixed(4)} MAPE ${m.toFixed(2)}%`;
  function best(members: Float64Array[]): string {
    const k = members.length;
    let out: [number, number, number[]] = [Infinity, 0, []];
    const units = new Array<number>(k).fill(0);
    const visit = (m: number, left: number) => {
      if (m === k - 1) {
        units[m] = left;
        const q = new Float64Array(zv.length);
        for (let j = 0; j < k; j++) for (let i = 0; i < q.length; i++) q[i] += (units[j] / 20) * members[j][i];
        const [r, mp] = score(q);
        if (r < out[0]) out = [r, mp, units.map((u) => u / 20)];
        return;
      }
      for (let u = 0; u <= left; u++) {
        units[m] = u;
        visit(m + 1, left - u);
      }
    };
    visit(0, 20);
    return `${fmt([out[0], out[1]])} weights ${out[2].join('/')}`;
  }

  const t0 = performance.now();
  const ridge = fitPredict('ridge', takeRows(XL, fit), zf, takeRows(XL, val));
  const gbdt = fitPredict('gbdt', takeRows(XT, fit), zf, takeRows(XT, val));
  console.log('ridge', fmt(score(ridge)), '| gbdt', fmt(score(gbdt)));
  console.log('ridge+gbdt', best([ridge, gbdt]));

  // (a) networks named on the command line: 'mlp:key=value,...' on the linear family's matrix
  for (const spec of args.positionals) {
    const [, kv = ''] = spec.split(':');
    const extra: Record<string, unknown> = {};
    for (const s of kv.split(',').filter(Boolean)) {
      const [k, v] = s.split('=');
      extra[k] = v === 'true' ? true : v === 'false' ? false : Number.isNaN(Number(v)) ? v : Number(v);
    }
    const t1 = performance.now();
    const net = new MlpRegressor(extra).fit(takeRows(XL, fit), zf);
    const p = net.predict(takeRows(XL, val));
    const secs = ((performance.now() - t1) / 1000).toFixed(1);
    console.log(spec, fmt(score(p)), `fit ${secs} s, epochs ${String(net.fitInfo?.epochs)} |`, best([ridge, gbdt, p]));
  }
  if (args.flag('only-mlp')) return;

  // (b) kNN within make_model (fallback make, then all): standardised car_age, log_odometer; mismatch costs
  const cat = (c: string) => frame.categorical[c];
  const num = (c: string) => frame.numeric[c];
  const mk = cat('make');
  const md = cat('model');
  const fu = cat('fuelType');
  const tr = cat('transmissionType');
  const va = cat('variant');
  const yr = cat('year').map((v) => Number(v));
  const od = Array.from(num('odometer'), (v) => Math.log1p(v));
  const sd = (a: number[]) => {
    const m = a.reduce((s, v) => s + v, 0) / a.length;
    return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
  };
  const sYr = sd(yr);
  const sOd = sd(od);
  const byMM = new Map<string, number[]>();
  const byMake = new Map<string, number[]>();
  for (const i of fit) {
    const key = `${mk[i]}|${md[i]}`;
    (byMM.get(key) ?? byMM.set(key, []).get(key)!).push(i);
    (byMake.get(mk[i]!) ?? byMake.set(mk[i]!, []).get(mk[i]!)!).push(i);
  }
  function knn(k: number, wOd: number, cost: number, costVar: number): Float64Array {
    const out = new Float64Array(val.length);
    val.forEach((i, q) => {
      const pool = byMM.get(`${mk[i]}|${md[i]}`) ?? byMake.get(mk[i]!) ?? Array.from(fit);
      const d = pool.map((j) => {
        const e =
          ((yr[i] - yr[j]) / sYr) ** 2 +
          wOd * ((od[i] - od[j]) / sOd) ** 2 +
          (fu[i] !== fu[j] ? cost : 0) +
          (tr[i] !== tr[j] ? cost : 0) +
          (va[i] !== va[j] ? costVar : 0);
        return [e, z[j]] as const;
      });
      d.sort((a, b) => a[0] - b[0]);
      const take = d.slice(0, k);
      let s = 0;
      let w = 0;
      for (const [e, zj] of take) {
        const wt = 1 / (0.05 + Math.sqrt(e));
        s += wt * zj;
        w += wt;
      }
      out[q] = s / w;
    });
    return out;
  }
  for (const [k, wOd, cost, costVar] of [
    [10, 0.3, 1, 0.3],
    [5, 0.3, 1, 0.3],
    [20, 0.3, 1, 0.3],
    [10, 1, 1, 0.3],
    [10, 0.3, 4, 1],
  ]) {
    const p = knn(k, wOd, cost, costVar);
    console.log(`knn k=${k} wOd=${wOd} cost=${cost} var=${costVar}`, fmt(score(p)), '| +', best([ridge, gbdt, p]));
  }

  // (c) GBDT with the out-of-fold ridge prediction as a feature (stacking), blended with ridge
  const oof = new Float64Array(fit.length);
  const K = 5;
  const fperm = new Rng(seed + 100).permutation(fit.length);
  for (let f = 0; f < K; f++) {
    const a = Math.floor((f * fit.length) / K);
    const b = Math.floor(((f + 1) * fit.length) / K);
    const te = fperm.slice(a, b);
    const trIdx = Uint32Array.from([...fperm.slice(0, a), ...fperm.slice(b)]);
    const Xf = takeRows(
      XL,
      Array.from(trIdx, (r) => fit[r]),
    );
    const p = fitPredict(
      'ridge',
      Xf,
      takeValues(zf, trIdx),
      takeRows(
        XL,
        Array.from(te, (r) => fit[r]),
      ),
    );
    te.forEach((r, q) => (oof[r] = p[q]));
  }
  const withCol = (X: Matrix, extra: Float64Array): Matrix => {
    const cols = Array.from({ length: X.nCols }, (_, j) => matrixColumn(X, j));
    const cats = X.categorical ? [...X.categorical, false] : undefined;
    const ncat = X.nCategories ? [...X.nCategories, 0] : undefined;
    return columnMatrix(X.nRows, [...cols, extra], [...X.columnNames, 'ridge_oof'], {
      ...(cats ? { categorical: cats } : {}),
      ...(ncat ? { nCategories: ncat } : {}),
    });
  };
  for (const extra of [{}, { n_estimators: 400 }, { max_depth: 3, n_estimators: 600 }]) {
    const g2 = fitPredict('gbdt', withCol(takeRows(XT, fit), oof), zf, withCol(takeRows(XT, val), ridge), extra);
    console.log(
      `gbdt+ridge feature ${JSON.stringify(extra)}`,
      fmt(score(g2)),
      '| ridge+',
      best([ridge, g2]),
      '| ridge+gbdt+',
      best([ridge, gbdt, g2]),
    );
  }
  console.log(`${((performance.now() - t0) / 1000).toFixed(0)} s after the features; load average ${load()}`);
}

runBench('member-screen', main);
