/**
 * Numeric oracles for the linear models: closed-form OLS, a hand-solved 2 x 2 ridge, the
 * single-feature soft-threshold lasso, scikit-learn 1.2.1 reference coefficients, and the
 * collinear designs that broke the original's OLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/rng.js';
import { fromRows, makeMatrix, type Matrix } from '../matrix.js';
import { ElasticNet, Lasso, LinearRegression, MeanBaseline, Ridge } from './index.js';
import { leastSquares } from '../linalg/householder-qr.js';

function close(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

function closeAll(actual: ArrayLike<number>, expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let j = 0; j < expected.length; j++) close(actual[j], expected[j], tol, `${what}[${j}]`);
}

// A small fixed design shared with the scikit-learn reference script (see SKLEARN below).
const X8 = fromRows(
  [
    [1, 2, 0.5],
    [2, 0, 1.5],
    [3, 1, -1],
    [4, 3, 2],
    [5, 5, 0],
    [6, 2, 1],
    [7, 4, -2],
    [8, 1, 3],
  ],
  ['a', 'b', 'c'],
);
const Y8 = Float64Array.from([3.1, 2.4, 6.8, 7.9, 12.2, 10.1, 15.3, 12.7]);
const W8 = Float64Array.from([1, 2, 1, 0.5, 3, 1, 1, 2.5]);

/**
 * Reference values from scikit-learn 1.2.1 (Debian python3-sklearn, numpy 1.24.2), computed
 * on X8/Y8/W8 above with e.g. `Ridge(alpha=1.5).fit(X, y)` and
 * `Lasso(alpha=0.3, tol=1e-12, max_iter=100000).fit(X, y, sample_weight=w)`; printed with
 * repr(coef_.tolist()), repr(float(intercept_)).
 */
const SKLEARN = {
  ridge15: { coef: [1.5473925236962616, 0.7313027323180329, -0.4716496858248429], intercept: 0.4985835492917765 },
  ridge15w: { coef: [1.5890127806639012, 0.782634133734382, -0.4247870920381013], intercept: 0.21428115810933868 },
  lasso03: { coef: [1.5495624387230604, 0.6955584201801513, -0.3958241039978163], intercept: 0.5218526453395231 },
  lasso03w: { coef: [1.5438179243957149, 0.7995599662344893, -0.28412089628492704], intercept: 0.27600752444434384 },
  enet02_04: { coef: [1.5528668966388244, 0.7233551302742752, -0.45567902604162763], intercept: 0.48184931328418834 },
  ols: { coef: [1.6010675768909557, 0.7470054589249188, -0.5089436798721811], intercept: 0.24502342132974597 },
  // LinearRegression on [a, a, 0, b] (duplicate and zero column): lstsq's minimum-norm solution
  olsDup: { coef: [0.7614837398373985, 0.7614837398373987, 0.0, 0.9983739837398368], intercept: -0.28719512195121943 },
};

test('LinearRegression recovers y = 1 + 2 x1 - 3 x2 exactly', () => {
  const rng = new Rng(42);
  const n = 200;
  const data = new Float64Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    data[2 * i] = 1000 * rng.normal() + 5e4; // different scales on purpose
    data[2 * i + 1] = rng.next();
    y[i] = 1 + 2 * data[2 * i] - 3 * data[2 * i + 1];
  }
  const m = new LinearRegression().fit(makeMatrix(n, 2, data, ['x1', 'x2']), y);
  closeAll(m.coef, [2, -3], 1e-10, 'coef');
  close(m.intercept, 1, 1e-10 * 1e5, 'intercept'); // intercept carries 2 * 5e4 of cancellation
  assert.equal(m.fitInfo.solver, 'qr');
  assert.equal(m.fitInfo.rank, 2);
});

test('LinearRegression matches scikit-learn on a full-rank design', () => {
  const m = new LinearRegression().fit(X8, Y8);
  closeAll(m.coef, SKLEARN.ols.coef, 1e-12, 'coef');
  close(m.intercept, SKLEARN.ols.intercept, 1e-12, 'intercept');
});

test('LinearRegression on a duplicated column and an all-zero column stays finite (min-norm like scikit-learn)', () => {
  const rows = Array.from({ length: 8 }, (_, i) => {
    const r = X8.data.subarray(i * 3, i * 3 + 3);
    return [r[0], r[0], 0, r[1]];
  });
  const X = fromRows(rows, ['a', 'a_copy', 'zero', 'b']);
  const m = new LinearRegression().fit(X, Y8);
  assert.equal(m.fitInfo.solver, 'qr_ridge');
  assert.equal(m.fitInfo.dropped_constant, 1);
  // lambda = 1e-8 on unit-norm columns moves the min-norm solution by ~1e-8 relative
  closeAll(m.coef, SKLEARN.olsDup.coef, 1e-6, 'coef');
  close(m.intercept, SKLEARN.olsDup.intercept, 1e-6, 'intercept');
  assert.equal(m.coef[2], 0, 'zero column gets exactly 0');
  close(m.coef[0], m.coef[1], 1e-9, 'duplicates share the weight');
});

test('LinearRegression on a full one-hot set plus a near-collinear column cannot explode (the R² = -2e11 case)', () => {
  // Three dummies that sum to 1 (collinear with the intercept) and a fourth column equal to
  // dummy 0 up to 1e-13 noise: plain OLS divides by singular values of ~1e-13.
  const rng = new Rng(5);
  const n = 60;
  const data = new Float64Array(n * 5);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = i % 3;
    const x = rng.normal();
    data[i * 5 + g] = 1;
    data[i * 5 + 3] = (g === 0 ? 1 : 0) + 1e-13 * rng.normal();
    data[i * 5 + 4] = x;
    y[i] = 10 + [0, 2, 5][g] + 3 * x + 0.1 * rng.normal();
  }
  const m = new LinearRegression().fit(makeMatrix(n, 5, data, ['g0', 'g1', 'g2', 'g0_noisy', 'x']), y);
  assert.equal(m.fitInfo.solver, 'qr_ridge');
  for (const c of m.coef) assert.ok(Number.isFinite(c) && Math.abs(c) < 10, `coef ${c} stays small`);
  close(m.coef[4], 3, 0.1, 'slope of x');
  // a row that breaks the collinearity (g0_noisy = 1 but no dummy set) stays in range
  const odd = m.predict(fromRows([[0, 0, 0, 1, 0]], ['g0', 'g1', 'g2', 'g0_noisy', 'x']));
  assert.ok(Math.abs(odd[0]) < 100, `prediction ${odd[0]} is bounded`);
  // and the fit is as good as the best: residuals ~ the 0.1 noise
  const pred = m.predict(makeMatrix(n, 5, data, ['g0', 'g1', 'g2', 'g0_noisy', 'x']));
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (pred[i] - y[i]) ** 2;
  assert.ok(Math.sqrt(ss / n) < 0.2);
});

test('Ridge solves the hand-worked 2 x 2 normal equations', () => {
  // x1 = [1,2,3,4], x2 = [1,0,1,0], y = [2,3,7,6]. Centered: x1c = [-1.5,-.5,.5,1.5],
  // x2c = [.5,-.5,.5,-.5], yc = [-2.5,-1.5,2.5,1.5] (mean 4.5).
  // Gram = [[5, -1], [-1, 1]], Xc^T yc = [8, 0]; alpha = 1 adds I:
  // [[6, -1], [-1, 2]] w = [8, 0] -> det 11, w1 = 16/11, w2 = 8/11;
  // intercept = 4.5 - 2.5 * 16/11 - 0.5 * 8/11 = 4.5 - 44/11 = 0.5.
  const X = fromRows(
    [
      [1, 1],
      [2, 0],
      [3, 1],
      [4, 0],
    ],
    ['x1', 'x2'],
  );
  const m = new Ridge({ alpha: 1 }).fit(X, Float64Array.from([2, 3, 7, 6]));
  closeAll(m.coef, [16 / 11, 8 / 11], 1e-14, 'coef');
  close(m.intercept, 0.5, 1e-14, 'intercept');
});

test('Ridge matches scikit-learn, with and without sample weights', () => {
  const a = new Ridge({ alpha: 1.5 }).fit(X8, Y8);
  closeAll(a.coef, SKLEARN.ridge15.coef, 1e-12, 'coef');
  close(a.intercept, SKLEARN.ridge15.intercept, 1e-12, 'intercept');
  const b = new Ridge({ alpha: 1.5 }).fit(X8, Y8, { sampleWeight: W8 });
  closeAll(b.coef, SKLEARN.ridge15w.coef, 1e-12, 'weighted coef');
  close(b.intercept, SKLEARN.ridge15w.intercept, 1e-12, 'weighted intercept');
});

test('Ridge with alpha = 0 on duplicated columns falls back to a jitter and stays finite', () => {
  const X = fromRows(
    [
      [1, 1],
      [2, 2],
      [3, 3],
      [5, 5],
    ],
    ['a', 'a2'],
  );
  const m = new Ridge({ alpha: 0 }).fit(X, Float64Array.from([2, 4, 6, 10]));
  assert.ok(typeof m.fitInfo.ridge_jitter === 'number');
  closeAll(m.coef, [1, 1], 1e-6, 'coef');
});

test('Lasso single feature equals the soft-threshold formula S(x.y/n, alpha) / (x.x/n)', () => {
  // x = [1..5], y = [2,4,5,4,5]: centered x = [-2,-1,0,1,2], yc = [-2,0,1,0,1];
  // x.y/n = 6/5 = 1.2, x.x/n = 10/5 = 2. alpha 0.5: w = (1.2 - 0.5) / 2 = 0.35,
  // intercept = mean(y) - w mean(x) = 4 - 0.35 * 3 = 2.95. alpha 2 > 1.2: w = 0, intercept 4.
  const X = fromRows([[1], [2], [3], [4], [5]], ['x']);
  const y = Float64Array.from([2, 4, 5, 4, 5]);
  const m = new Lasso({ alpha: 0.5 }).fit(X, y);
  close(m.coef[0], 0.35, 1e-15, 'w');
  close(m.intercept, 2.95, 1e-14, 'intercept');
  assert.equal(m.fitInfo.converged, true);
  const z = new Lasso({ alpha: 2 }).fit(X, y);
  assert.equal(z.coef[0], 0);
  assert.equal(z.intercept, 4);
});

test('Lasso zeroes a useless feature and keeps the useful one', () => {
  const rng = new Rng(9);
  const n = 500;
  const data = new Float64Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    data[2 * i] = rng.normal();
    data[2 * i + 1] = rng.normal(); // unrelated to y
    y[i] = 4 + 3 * data[2 * i] + 0.5 * rng.normal();
  }
  const m = new Lasso({ alpha: 0.1 }).fit(makeMatrix(n, 2, data, ['signal', 'noise']), y);
  assert.equal(m.coef[1], 0, 'noise coefficient is exactly zero');
  close(m.coef[0], 3 - 0.1, 0.1, 'signal coefficient shrunk by about alpha');
});

test('Lasso and ElasticNet match scikit-learn (tol 1e-12)', () => {
  const a = new Lasso({ alpha: 0.3, tol: 1e-12, max_iter: 100000 }).fit(X8, Y8);
  closeAll(a.coef, SKLEARN.lasso03.coef, 1e-9, 'lasso coef');
  close(a.intercept, SKLEARN.lasso03.intercept, 1e-9, 'lasso intercept');
  const b = new Lasso({ alpha: 0.3, tol: 1e-12, max_iter: 100000 }).fit(X8, Y8, { sampleWeight: W8 });
  closeAll(b.coef, SKLEARN.lasso03w.coef, 1e-9, 'weighted lasso coef');
  close(b.intercept, SKLEARN.lasso03w.intercept, 1e-9, 'weighted lasso intercept');
  const c = new ElasticNet({ alpha: 0.2, l1_ratio: 0.4, tol: 1e-12, max_iter: 100000 }).fit(X8, Y8);
  closeAll(c.coef, SKLEARN.enet02_04.coef, 1e-9, 'enet coef');
  close(c.intercept, SKLEARN.enet02_04.intercept, 1e-9, 'enet intercept');
});

test('ElasticNet at l1_ratio 1 is the Lasso, bit for bit', () => {
  const a = new Lasso({ alpha: 0.3 }).fit(X8, Y8);
  const b = new ElasticNet({ alpha: 0.3, l1_ratio: 1 }).fit(X8, Y8);
  assert.deepEqual(Array.from(b.coef), Array.from(a.coef));
  assert.equal(b.intercept, a.intercept);
});

test('ElasticNet at l1_ratio 0 is Ridge with alpha n * alpha (objective scaled by 1/(2n))', () => {
  // (1/(2n))||r||² + 0.5 alpha ||w||²  ==  (1/(2n)) (||r||² + n alpha ||w||²)
  const e = new ElasticNet({ alpha: 0.25, l1_ratio: 0, tol: 1e-12, max_iter: 100000 }).fit(X8, Y8);
  const r = new Ridge({ alpha: 0.25 * 8 }).fit(X8, Y8);
  closeAll(e.coef, Array.from(r.coef), 1e-8, 'coef');
});

test('coordinate descent stops at max_iter and says it did not converge', () => {
  const m = new Lasso({ alpha: 0.001, max_iter: 1, tol: 1e-12 }).fit(X8, Y8);
  assert.equal(m.fitInfo.n_iter, 1);
  assert.equal(m.fitInfo.converged, false);
});

test('an aborted signal stops coordinate descent with INTERRUPTED', () => {
  const ac = new AbortController();
  ac.abort();
  assert.throws(() => new Lasso().fit(X8, Y8, { signal: ac.signal }), { code: 'INTERRUPTED' });
});

test('MeanBaseline predicts the (weighted) training mean', () => {
  const m = new MeanBaseline().fit(X8, Y8);
  const p = m.predict(X8);
  const mean = Y8.reduce((s, v) => s + v, 0) / 8;
  assert.ok(p.every((v) => v === mean));
  const w = new MeanBaseline().fit(fromRows([[NaN], [1]]), Float64Array.from([1, 4]), {
    sampleWeight: Float64Array.from([2, 1]),
  });
  assert.equal(w.mean, 2); // (2 * 1 + 4) / 3, and NaN features are fine for the baseline
});

test('featureImportance is |coef| per column name', () => {
  const m = new LinearRegression().fit(X8, Y8);
  const fi = m.featureImportance();
  assert.deepEqual(Object.keys(fi), ['a', 'b', 'c']);
  assert.equal(fi.c, Math.abs(m.coef[2]));
  assert.ok(fi.c > 0);
});

test('missing and infinite values in X are MODEL_INVALID naming the column and row', () => {
  const bad = fromRows(
    [
      [1, 2],
      [3, NaN],
      [4, 5],
    ],
    ['odometer', 'fitnessAge'],
  );
  const y = Float64Array.from([1, 2, 3]);
  for (const m of [new LinearRegression(), new Ridge(), new Lasso(), new ElasticNet()])
    assert.throws(
      () => m.fit(bad, y),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'MODEL_INVALID');
        assert.match(e.message, /column "fitnessAge" has a missing value \(NaN\) at row 1/);
        assert.match(e.message, /imput/);
        return true;
      },
    );
  const m = new Ridge().fit(
    fromRows(
      [
        [1, 2],
        [3, 4],
        [4, 5],
      ],
      ['odometer', 'fitnessAge'],
    ),
    y,
  );
  assert.throws(
    () => m.predict(fromRows([[Infinity, 1]], ['odometer', 'fitnessAge'])),
    /column "odometer" has an infinite value/,
  );
});

test('misuse is MODEL_INVALID: predict before fit, wrong columns, bad y and weights', () => {
  assert.throws(() => new Ridge().predict(X8), { code: 'MODEL_INVALID', message: /not fitted/ });
  const m = new Ridge().fit(X8, Y8);
  assert.throws(() => m.predict(fromRows([[1, 2]], ['a', 'b'])), {
    code: 'MODEL_INVALID',
    message: /trained on 3 columns but got 2/,
  });
  assert.throws(() => m.predict(fromRows([[1, 2, 3]], ['a', 'c', 'b'])), {
    code: 'MODEL_INVALID',
    message: /column 1 is "c"/,
  });
  assert.throws(() => new Ridge().fit(X8, Y8.subarray(1)), {
    code: 'MODEL_INVALID',
    message: /7 target values for 8 rows/,
  });
  const yNaN = Float64Array.from(Y8);
  yNaN[2] = NaN;
  assert.throws(() => new Lasso().fit(X8, yNaN), { code: 'MODEL_INVALID', message: /target value at row 2/ });
  assert.throws(() => new Ridge().fit(X8, Y8, { sampleWeight: new Float64Array(8) }), {
    code: 'MODEL_INVALID',
    message: /all sample weights are zero/,
  });
  assert.throws(() => new Ridge().fit(X8, Y8, { sampleWeight: Float64Array.from([1, 1, 1, -1, 1, 1, 1, 1]) }), {
    code: 'MODEL_INVALID',
    message: /weight at row 3/,
  });
  const empty: Matrix = makeMatrix(0, 3, new Float64Array(0), ['a', 'b', 'c']);
  assert.throws(() => new LinearRegression().fit(empty, new Float64Array(0)), {
    code: 'MODEL_INVALID',
    message: /no rows/,
  });
});

test('a constant target gives zero coefficients and the constant as intercept', () => {
  const y = new Float64Array(8).fill(7);
  for (const m of [new LinearRegression(), new Ridge(), new Lasso(), new ElasticNet()]) {
    m.fit(X8, y);
    assert.ok(
      m.coef.every((c) => Math.abs(c) < 1e-12),
      m.kind,
    );
    close(m.intercept, 7, 1e-12, m.kind);
  }
});

test('LinearRegression on a wide design (>= 256 columns) solves on the Gram matrix: the QR solution to 1e-8, collinear sets as the tiny ridge', () => {
  const rng = new Rng(8);
  const n = 900;
  const p = 300;
  const data = new Float64Array(n * p);
  const beta = Float64Array.from({ length: p }, (_, j) => Math.sin(j));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 3;
    for (let j = 0; j < p; j++) {
      // dense normal columns and sparse 0/1 columns, different scales
      const v = j % 3 === 0 ? 50 * rng.normal() : rng.next() < 0.1 ? 1 : 0;
      data[i * p + j] = v;
      s += beta[j] * v;
    }
    y[i] = s + 0.01 * rng.normal();
  }
  const X = makeMatrix(
    n,
    p,
    data,
    Array.from({ length: p }, (_, j) => `c${j}`),
  );
  const m = new LinearRegression().fit(X, y);
  assert.equal(m.fitInfo.solver, 'cholesky');
  // the oracle: pivoted QR least squares on the centered design (what narrow designs use)
  const mean = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) mean[j] += data[i * p + j] / n;
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const a = new Float64Array(n * p);
  for (let j = 0; j < p; j++) for (let i = 0; i < n; i++) a[j * n + i] = data[i * p + j] - mean[j];
  const qr = leastSquares(
    a,
    n,
    p,
    y.map((v) => v - yMean),
  );
  closeAll(m.coef, Array.from(qr.x), 1e-8, 'coef');

  // a full one-hot set (sums to 1, so collinear with the intercept) plus a numeric column
  const levels = 280;
  const m2 = n;
  const d2 = new Float64Array(m2 * (levels + 1));
  const y2 = new Float64Array(m2);
  for (let i = 0; i < m2; i++) {
    const g = i % levels;
    d2[i * (levels + 1) + g] = 1;
    const x = rng.normal();
    d2[i * (levels + 1) + levels] = x;
    y2[i] = Math.cos(g) + 2 * x + 0.01 * rng.normal();
  }
  const X2 = makeMatrix(m2, levels + 1, d2, [...Array.from({ length: levels }, (_, g) => `g=${g}`), 'x']);
  const ols = new LinearRegression().fit(X2, y2);
  assert.equal(ols.fitInfo.solver, 'cholesky_ridge');
  close(ols.coef[levels], 2, 1e-2, 'slope');
  // predictions agree with a (nearly unpenalised) ridge, which has no collinearity problem
  const ridge = new Ridge({ alpha: 1e-9 }).fit(X2, y2);
  closeAll(ols.predict(X2), Array.from(ridge.predict(X2)), 1e-6, 'predictions');
});

test('a lasso whose penalty is tiny against the target scale converges by the ridge-point restart', () => {
  // correlated columns (pairs with correlation 0.995) and prices in the hundreds of
  // thousands: alpha / alpha_max about 1e-11, least squares in effect. From w = 0 cyclic descent
  // crawls along the pairs' differences (still moving after 100 sweeps), the restart lands
  // at the ridge point next to the optimum. Oracle: y is exactly X beta, so the optimum is
  // beta up to the tiny L1 pull.
  const rng = new Rng(5);
  const n = 300;
  const p = 6;
  const beta = [120000, -80000, 50000, 30000, -20000, 70000];
  const data = new Float64Array(n * p);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const base = rng.normal();
      data[i * p + 2 * k] = base;
      data[i * p + 2 * k + 1] = base + 0.1 * rng.normal();
    }
    let s = 500000;
    for (let j = 0; j < p; j++) s += beta[j] * data[i * p + j];
    y[i] = s;
  }
  const X = makeMatrix(n, p, data, ['a1', 'a2', 'b1', 'b2', 'c1', 'c2']);
  const cold = new Lasso({ alpha: 1e-6, max_iter: 100 }).fit(X, y);
  assert.equal(cold.fitInfo.converged, false, 'from 0, 100 sweeps are not enough');
  const m = new Lasso({ alpha: 1e-6 }).fit(X, y);
  assert.equal(m.fitInfo.converged, true, JSON.stringify(m.fitInfo));
  assert.equal(m.fitInfo.restarted_from, 'ridge');
  assert.ok(Number(m.fitInfo.n_iter) < 1000, `stopped after ${m.fitInfo.n_iter} sweeps`);
  closeAll(m.coef, beta, 1, 'coef (INR per unit)');
  close(m.intercept, 500000, 1, 'intercept');
});
