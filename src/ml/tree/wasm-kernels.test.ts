/**
 * The generated WebAssembly kernels against straightforward loops over the same arrays:
 * every histogram cell, total, partition and prediction bit for bit, for each shape the
 * generator specialises on (stride 2/3, float32/float64 gradients, 16/32-bit cells).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/rng.js';
import { GrowKernels } from './wasm-kernels.js';

const N = 1000;
const W = 5;
const SLOTS = 300;

function filled(stride: 2 | 3, gh32: boolean, cells16: boolean): GrowKernels {
  const groups = [
    { nPatterns: 7, nCells: 20 },
    { nPatterns: 3, nCells: 4 },
  ];
  const k = new GrowKernels({
    nRows: N,
    width: W,
    cells16,
    csrCells: 0,
    stride,
    gh32,
    histDoubles: (SLOTS + W) * stride,
    slots: SLOTS + W,
    groups,
    nHist: 3,
  });
  const rng = new Rng(7);
  for (let i = 0; i < N; i++) {
    k.gh[2 * i] = rng.next() - 0.5; // arbitrary values: the order of the additions shows
    k.gh[2 * i + 1] = stride === 3 ? rng.next() : 1;
    k.rows[i] = i;
  }
  for (let i = 0; i < N * W; i++) k.cells[i] = rng.int(SLOTS + W);
  k.groups.forEach((g, j) => {
    const np = groups[j].nPatterns;
    for (let i = 0; i < N; i++) g.pat[i] = rng.int(np);
    for (let p = 1; p < np; p++) g.ptr[p] = Math.min(g.ptr[p - 1] + rng.int(5), groups[j].nCells);
    g.ptr[np] = groups[j].nCells;
    for (let e = 0; e < groups[j].nCells; e++) g.slot[e] = rng.int(SLOTS);
  });
  // rows in a shuffled-then-sorted subset order, as a node's rows are
  const keep = Array.from({ length: N }, (_, i) => i).filter(() => rng.next() < 0.7);
  k.rows.set(keep);
  return k;
}

for (const stride of [2, 3] as const)
  for (const gh32 of [true, false])
    for (const cells16 of [true, false])
      test(`kernels (stride ${stride}, ${gh32 ? 'float32' : 'float64'} gradients, ${cells16 ? 16 : 32}-bit cells) equal plain loops`, () => {
        const k = filled(stride, gh32, cells16);
        const S = stride;
        const [start, end] = [50, 600];
        const rowsOf = () => Array.from(k.rows.subarray(start, end));
        const add = (h: Float64Array, x: number, g: number, hh: number, c: number) => {
          h[x * S] += g;
          h[x * S + 1] += hh;
          if (S === 3) h[x * S + 2] += c;
        };
        // the cell table and both groups summed by pattern in the same pass, then spread
        const hist = k.hists[0];
        k.histogram(hist, start, end, [0, 1]);
        k.spreadSums(hist, 0);
        k.spreadSums(hist, 1);
        const ref = new Float64Array(hist.length);
        let G = 0;
        let H = 0;
        for (const r of rowsOf()) {
          G += k.gh[2 * r];
          H += k.gh[2 * r + 1];
          for (let q = 0; q < W; q++) add(ref, k.cells[r * W + q], k.gh[2 * r], k.gh[2 * r + 1], 1);
        }
        for (const g of k.groups) {
          const np = g.side.length;
          const sums = new Float64Array(3 * np);
          for (const r of rowsOf()) {
            sums[3 * g.pat[r]] += k.gh[2 * r];
            sums[3 * g.pat[r] + 1] += k.gh[2 * r + 1];
            sums[3 * g.pat[r] + 2] += 1;
          }
          for (let p = 0; p < np; p++)
            if (sums[3 * p + 2] > 0)
              for (let e = g.ptr[p]; e < g.ptr[p + 1]; e++)
                add(ref, g.slot[e], sums[3 * p], sums[3 * p + 1], sums[3 * p + 2]);
        }
        assert.deepEqual(hist, ref);
        assert.deepEqual([...k.totals], [G, H]);
        // a group cell by cell (small nodes), and no group fused
        const h2 = k.hists[1];
        k.histogram(h2, start, end, []);
        k.groupCells(h2, 1, start, end);
        const ref2 = new Float64Array(hist.length);
        const g1 = k.groups[1];
        for (const r of rowsOf()) {
          for (let q = 0; q < W; q++) add(ref2, k.cells[r * W + q], k.gh[2 * r], k.gh[2 * r + 1], 1);
          for (let e = g1.ptr[g1.pat[r]]; e < g1.ptr[g1.pat[r] + 1]; e++)
            add(ref2, g1.slot[e], k.gh[2 * r], k.gh[2 * r + 1], 1);
        }
        assert.deepEqual(h2, ref2);
        // histogram subtraction
        const diff = hist.map((v, i) => v - h2[i]);
        k.subtract(hist, h2);
        assert.deepEqual(hist, diff);
        // stable partitions by a column's cells and by pattern
        const rng = new Rng(3);
        for (let s = 0; s < k.goSlot.length; s++) k.goSlot[s] = rng.next() < 0.4 ? 1 : 0;
        const byCell = (r: number) => k.goSlot[k.cells[r * W + 3]];
        let before = rowsOf();
        let mid = k.partitionWide(start, end, 3);
        assert.deepEqual(rowsOf(), [...before.filter((r) => byCell(r)), ...before.filter((r) => !byCell(r))]);
        assert.equal(mid, start + before.filter((r) => byCell(r)).length);
        g1.side.set([1, 0, 1]);
        const byPat = (r: number) => g1.side[g1.pat[r]];
        before = rowsOf();
        mid = k.partitionPattern(start, end, 1);
        assert.deepEqual(rowsOf(), [...before.filter((r) => byPat(r)), ...before.filter((r) => !byPat(r))]);
        assert.equal(mid, start + before.filter((r) => byPat(r)).length);
        // boosting's credits
        k.pred.fill(0.1);
        const want = Float64Array.from(k.pred);
        for (const r of rowsOf()) want[r] += byCell(r) ? 0.3 : -0.7;
        assert.equal(k.addLeavesWide(start, end, 3, 0.3, -0.7), rowsOf().filter(byCell).length);
        for (const r of rowsOf()) want[r] += byPat(r) ? 1.1 : 2.2;
        assert.equal(k.addLeavesPattern(start, end, 1, 1.1, 2.2), rowsOf().filter(byPat).length);
        for (const r of rowsOf()) want[r] += 0.01;
        k.addSegment(start, end, 0.01);
        assert.deepEqual(k.pred, want);
      });

test('CSR cells (no fixed-width table): each row adds its listed cells, with pattern sums fused', () => {
  const n = 500;
  const rng = new Rng(11);
  const counts = Array.from({ length: n }, () => rng.int(4));
  const nCells = counts.reduce((a, b) => a + b, 0);
  const k = new GrowKernels({
    nRows: n,
    width: 0,
    cells16: false,
    csrCells: nCells,
    stride: 2,
    gh32: true,
    histDoubles: 2 * SLOTS,
    slots: SLOTS,
    groups: [{ nPatterns: 4, nCells: 6 }],
    nHist: 1,
  });
  counts.forEach((c, i) => (k.rowPtr[i + 1] = k.rowPtr[i] + c));
  for (let e = 0; e < nCells; e++) k.slot[e] = rng.int(SLOTS);
  const g = k.groups[0];
  g.ptr.set([0, 1, 3, 3, 6]);
  g.slot.set([5, 6, 7, 8, 9, 10]);
  for (let i = 0; i < n; i++) {
    k.gh[2 * i] = rng.next();
    k.gh[2 * i + 1] = 1;
    k.rows[i] = i;
    g.pat[i] = rng.int(4);
  }
  const hist = k.hists[0];
  k.histogram(hist, 10, 400, [0]);
  k.spreadSums(hist, 0);
  const ref = new Float64Array(hist.length);
  const sums = new Float64Array(8);
  for (let i = 10; i < 400; i++) {
    for (let e = k.rowPtr[i]; e < k.rowPtr[i + 1]; e++) {
      ref[2 * k.slot[e]] += k.gh[2 * i];
      ref[2 * k.slot[e] + 1] += 1;
    }
    sums[2 * g.pat[i]] += k.gh[2 * i];
    sums[2 * g.pat[i] + 1] += 1;
  }
  for (let p = 0; p < 4; p++)
    for (let e = g.ptr[p]; e < g.ptr[p + 1]; e++) {
      ref[2 * g.slot[e]] += sums[2 * p];
      ref[2 * g.slot[e] + 1] += sums[2 * p + 1];
    }
  assert.deepEqual(hist, ref);
});

for (const gh32 of [true, false])
  test(`squared error's gradients and row sets in the kernels (${gh32 ? 'float32' : 'float64'}) equal loss.ts's loop bit for bit`, async () => {
    const { makeLoss } = await import('../gbt/loss.js');
    const k = filled(2, gh32, true);
    const rng = new Rng(11);
    const y = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      // prices and predictions of mixed magnitudes (float32 rounding shows), one NaN
      y[i] = i === 17 ? NaN : (rng.next() - 0.3) * 10 ** rng.int(7);
      k.pred[i] = (rng.next() - 0.5) * 10 ** rng.int(7);
    }
    k.y.set(y);
    const loss = makeLoss('reg:squarederror', 1);
    assert.ok(loss.squaredError);
    const expected = gh32 ? new Float32Array(2 * N) : new Float64Array(2 * N);
    const rmse = (loss.gradientsMetric as NonNullable<typeof loss.gradientsMetric>)(y, k.pred, null, expected);
    assert.ok(Number.isNaN(rmse) && Number.isNaN(Math.sqrt(k.squaredGradients(N) / N)));
    for (let i = 0; i < 2 * N; i++)
      assert.ok(Object.is(k.gh[i], expected[i]), `gh[${i}]: ${k.gh[i]} vs ${expected[i]}`);
    y[17] = 5;
    k.y[17] = 5;
    const again = (loss.gradientsMetric as NonNullable<typeof loss.gradientsMetric>)(y, k.pred, null, expected);
    assert.ok(Object.is(Math.sqrt(k.squaredGradients(N) / N), again));
    // fewer rows than the memory holds: only those are written
    k.gh.fill(-7);
    k.squaredGradients(10);
    assert.equal(k.gh[20], -7);
    k.rows.fill(0);
    k.identityRows(N - 1);
    assert.deepEqual(
      Array.from(k.rows.subarray(0, N - 1)),
      Array.from({ length: N - 1 }, (_, i) => i),
    );
    assert.equal(k.rows[N - 1], 0);
  });
