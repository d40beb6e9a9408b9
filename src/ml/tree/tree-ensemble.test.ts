/**
 * Tests of the flattened ensemble's prediction walk on hand-built trees: numeric splits
 * with either default direction, categorical bitsets, the fast path for rows without
 * missing values, and refusal of corrupt layouts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../core/errors.js';
import { columnMatrix, makeMatrix, sparseBinary } from '../matrix.js';
import { FLAG_CATEGORICAL, FLAG_DEFAULT_LEFT, TreeEnsemble, type SavedTrees } from './tree-ensemble.js';

// tree 0: node0 x0 <= 0.5 (missing -> left) ? node1 : node2
//         node1 leaf 1; node2: x1 <= 10 (missing -> right) ? node3 leaf 2 : node4 leaf 3
// tree 1: node5 categorical on x2, codes {1, 3} go left, others/missing right -> node6 leaf 10 / node7 leaf 20
const TREES: SavedTrees = {
  roots: [0, 5],
  feature: [0, -1, 1, -1, -1, 2, -1, -1],
  threshold: [0.5, 0, 10, 0, 0, 0, 0, 0],
  left: [1, -1, 3, -1, -1, 6, -1, -1],
  right: [2, -1, 4, -1, -1, 7, -1, -1],
  value: [0, 1, 0, 2, 3, 0, 10, 20],
  flags: [FLAG_DEFAULT_LEFT, 0, 0, 0, 0, FLAG_CATEGORICAL, 0, 0],
  catStart: [0, 0, 0, 0, 0, 0, 0, 0],
  catLen: [0, 0, 0, 0, 0, 4, 0, 0],
  catBits: [0b1010],
};

const rows = (r: number[][]) => makeMatrix(r.length, r[0].length, Float64Array.from(r.flat()), ['x0', 'x1', 'x2']);

test('numeric and categorical splits, missing values to the learned side', () => {
  const e = TreeEnsemble.fromJSON(TREES, 3, 'test');
  const X = rows([
    [0.2, 99, 1], // left leaf 1 + code 1 left 10
    [0.9, 5, 3], // right, x1 <= 10 -> 2 + code 3 left 10
    [0.9, 50, 2], // 3 + code 2 right 20
    [NaN, 50, 0], // missing x0 goes left: 1 + code 0 right 20
    [0.9, NaN, NaN], // missing x1 goes right: 3 + missing code right 20
    [0.9, 5, 7], // code outside the bitset goes the default (right) way: 2 + 20
    [0.9, 5, 1.5], // non-integer code: default way: 2 + 20
  ]);
  assert.deepEqual(Array.from(e.sumInto(X, new Float64Array(7), 100)), [111, 112, 123, 121, 123, 122, 122]);
  assert.equal(e.leafValue(1, X.data, 0), 10);
  assert.deepEqual(Array.from(e.sumInto(X, new Float64Array(7), 0, 1, 2)), [10, 10, 20, 20, 20, 20, 20]);
});

test('the fast path (no missing values, numeric splits only) agrees with the full walk, including the default-left nodes', () => {
  const numericOnly: SavedTrees = {
    ...TREES,
    roots: [0],
    feature: TREES.feature.slice(0, 5),
    threshold: TREES.threshold.slice(0, 5),
    left: TREES.left.slice(0, 5),
    right: TREES.right.slice(0, 5),
    value: TREES.value.slice(0, 5),
    flags: TREES.flags.slice(0, 5),
    catStart: [0, 0, 0, 0, 0],
    catLen: [0, 0, 0, 0, 0],
    catBits: [],
  };
  const e = TreeEnsemble.fromJSON(numericOnly, 3, 'test');
  const X = rows([
    [0.5, 10, 0], // both thresholds hit exactly: left, leaf 1
    [0.50001, 10, 0], // right then left: 2
    [NaN, 10, 0], // full walk for this row: missing goes left: 1
    [1, 10.5, 0], // 3
  ]);
  assert.deepEqual(Array.from(e.sumInto(X, new Float64Array(4), 0)), [1, 2, 1, 3]);
  // a round trip through JSON keeps the original arrays (the packed layout is derived)
  assert.deepEqual(e.toJSON(), numericOnly);
});

test('a node reachable from two parents is refused, not walked out of bounds', () => {
  const shared: SavedTrees = { ...TREES, left: [1, -1, 3, -1, -1, 6, -1, -1], right: [2, -1, 3, -1, -1, 7, -1, -1] };
  assert.throws(
    () => TreeEnsemble.fromJSON(shared, 3, 'test'),
    (e: unknown) => e instanceof AppError && e.code === 'MODEL_INVALID',
  );
});

test('blocks of rows walked tree by tree give, bit for bit, the row-by-row sums (rows with and without missing values mixed)', () => {
  const e = TreeEnsemble.fromJSON(TREES, 3, 'test');
  const n = 150; // more than one block
  const r: number[][] = [];
  for (let i = 0; i < n; i++)
    r.push([i % 7 === 0 ? NaN : (i % 10) / 10 + 0.01, i % 11 === 0 ? NaN : (i * 3.7) % 20, i % 5]);
  const X = rows(r);
  const got = e.sumInto(X, new Float64Array(n), 0.1);
  for (let i = 0; i < n; i++) {
    let s = 0.1;
    for (let t = 0; t < e.nTrees; t++) s += e.leafValue(t, X.data, i * 3);
    assert.equal(got[i], s, `row ${i}`);
  }
});

test('the compiled trees (WebAssembly) give, bit for bit, the walked sums: numeric, categorical, missing, unseen and non-integer codes', async () => {
  const { GradientBoostingRegressor } = await import('../gbt/index.js');
  // a boosted model with native categorical splits and missing values, so every kind of node is compiled
  const n = 1500;
  const data = new Float64Array(n * 4);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = i % 13 === 0 ? NaN : Math.sin(i) * 10;
    const c = i % 17 === 0 ? NaN : i % 9;
    const b = (i * 7.3) % 5;
    data.set([a, b, c, i % 2], i * 4);
    y[i] = (Number.isNaN(a) ? 3 : a) + [5, -2, 7, 0, 1, -4, 2, 9, -1][i % 9] + b * 0.5;
  }
  const X = makeMatrix(n, 4, data, ['a', 'b', 'c', 'd'], {
    categorical: [false, false, true, false],
    nCategories: [0, 0, 9, 0],
  });
  const m = new GradientBoostingRegressor({ n_estimators: 40, max_depth: 4, learning_rate: 0.3 }).fit(X, y);
  const trees = m.trees as TreeEnsemble;
  // prediction rows also hold unseen (12), negative and non-integer codes
  const test = new Float64Array(data);
  for (let i = 0; i < n; i += 11) test[i * 4 + 2] = [12, -1, 2.5, NaN][(i / 11) % 4];
  const T = makeMatrix(n, 4, test, ['a', 'b', 'c', 'd']);
  const walked = trees.sumInto(T, new Float64Array(n), 0.25);
  const compiled = trees.sumIntoCompiled(T, new Float64Array(n), 0.25);
  for (let i = 0; i < n; i++) assert.ok(Object.is(compiled[i], walked[i]), `row ${i}: ${compiled[i]} vs ${walked[i]}`);
});

test('compiling ahead (batch prediction) takes the nested branches, a first large batch the level walk: the same sums bit for bit', async () => {
  const { GradientBoostingRegressor } = await import('../gbt/index.js');
  const n = 900;
  const data = new Float64Array(n * 3);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    data.set([i % 23 === 0 ? NaN : Math.cos(i) * 4, (i * 3.7) % 11, i % 5], i * 3);
    y[i] = Math.cos(i) * 4 + ((i * 3.7) % 11) - (i % 5);
  }
  const X = makeMatrix(n, 3, data, ['a', 'b', 'c']);
  const m = new GradientBoostingRegressor({ n_estimators: 30, max_depth: 4, learning_rate: 0.3 }).fit(X, y);
  const saved = (m.trees as TreeEnsemble).toJSON();
  const ahead = TreeEnsemble.fromJSON(saved, 3, 'gbdt');
  const lazy = TreeEnsemble.fromJSON(saved, 3, 'gbdt');
  assert.equal(ahead.compiledEngine, null);
  ahead.compile();
  assert.equal(ahead.compiledEngine, 'branches');
  const a = ahead.sumIntoCompiled(X, new Float64Array(n), 0.5);
  const b = lazy.sumIntoCompiled(X, new Float64Array(n), 0.5);
  assert.equal(lazy.compiledEngine, 'levels');
  const walked = TreeEnsemble.fromJSON(saved, 3, 'gbdt').sumInto(X, new Float64Array(n), 0.5);
  for (let i = 0; i < n; i++) {
    assert.ok(Object.is(a[i], b[i]), `row ${i}: ${a[i]} vs ${b[i]}`);
    assert.ok(Object.is(a[i], walked[i]), `row ${i}: ${a[i]} vs walked ${walked[i]}`);
  }
});

test('the trees compiled to WebAssembly match the walk bit for bit with multi-word category sets, huge, infinite and -0 codes, and a forest of stumps', async () => {
  const { GradientBoostingRegressor } = await import('../gbt/index.js');
  // 70 categories: the bitsets span three 32-bit words
  const n = 2100;
  const data = new Float64Array(n * 3);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 23 === 0 ? NaN : (i * 11) % 70;
    const a = i % 19 === 0 ? NaN : Math.cos(i) * 100;
    data.set([c, a, i % 3], i * 3);
    y[i] = (Number.isNaN(c) ? 0 : ((c * 37) % 70) - 35) + (Number.isNaN(a) ? 50 : a / 10);
  }
  const meta = { categorical: [true, false, false], nCategories: [70, 0, 0] };
  const X = makeMatrix(n, 3, data, ['c', 'a', 'k'], meta);
  const trees = new GradientBoostingRegressor({
    n_estimators: 60,
    max_depth: 5,
    learning_rate: 0.2,
    max_cat_native: 100,
  }).fit(X, y).trees as TreeEnsemble;
  assert.ok(
    Array.from(trees.catLen).some((l, k) => l > 64 && (trees.flags[k] & 2) !== 0),
    'the model has a split over more than 64 codes',
  );
  const test = new Float64Array(data);
  const odd = [69, 70, 64, 63.5, -0, -1, 2 ** 31, 2 ** 32 + 5, 1e300, Infinity, -Infinity, NaN];
  for (let i = 0; i < n; i += 7) test[i * 3] = odd[(i / 7) % odd.length];
  for (let i = 3; i < n; i += 29) test[i * 3 + 1] = [Infinity, -Infinity, -0][i % 3];
  const T = makeMatrix(n, 3, test, ['c', 'a', 'k']);
  const walked = trees.sumInto(T, new Float64Array(n), -1.5);
  const compiled = trees.sumIntoCompiled(T, new Float64Array(n), -1.5);
  for (let i = 0; i < n; i++) assert.ok(Object.is(compiled[i], walked[i]), `row ${i}: ${compiled[i]} vs ${walked[i]}`);
  // an ensemble whose trees are single leaves, and an empty one
  const stumps = trees.truncate(0);
  assert.deepEqual(Array.from(stumps.sumIntoCompiled(T, new Float64Array(3), 2).subarray(0, 3)), [2, 2, 2]);
  const leaf = new TreeEnsemble(
    Int32Array.of(0, 1),
    Int32Array.of(-1, -1),
    Float64Array.of(0, 0),
    Int32Array.of(-1, -1),
    Int32Array.of(-1, -1),
    Float64Array.of(0.25, -0.125),
    Uint8Array.of(0, 0),
    Int32Array.of(-1, -1),
    Int32Array.of(0, 0),
    new Uint32Array(0),
  );
  const two = makeMatrix(2, 3, new Float64Array(6), ['c', 'a', 'k']);
  assert.deepEqual(Array.from(leaf.sumIntoCompiled(two, new Float64Array(2), 1)), [1.125, 1.125]);
});

test('a column-built matrix (float, byte, sparse 0/1 and category columns) is summed compiled, reading only the split features, bit for bit as walked', async () => {
  const { GradientBoostingRegressor } = await import('../gbt/index.js');
  // 9,000 rows of 300 trees: past the batch size from which sumInto compiles for columns
  const n = 9000;
  const num = new Float64Array(n);
  const byte = new Uint8Array(n);
  const cat = new Float64Array(n);
  const unused = new Float64Array(n);
  const ones: number[] = [];
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    num[i] = i % 31 === 0 ? NaN : Math.sin(i) * 10;
    byte[i] = i % 3 === 0 ? 1 : 0;
    cat[i] = i % 29 === 0 ? NaN : i % 7;
    unused[i] = 5;
    if (i % 5 === 0) ones.push(i);
    y[i] = (num[i] || 0) + 3 * byte[i] + [4, -2, 0, 6, 1, -5, 3][i % 7] + (i % 5 === 0 ? 8 : 0);
  }
  const cols = [unused, num, byte, sparseBinary(n, Uint32Array.from(ones)), cat];
  const names = ['unused', 'num', 'byte', 'word', 'cat'];
  const meta = { categorical: [false, false, false, false, true], nCategories: [0, 0, 0, 0, 7] };
  const X = columnMatrix(n, cols, names, meta);
  const trees = new GradientBoostingRegressor({ n_estimators: 300, max_depth: 4, learning_rate: 0.1 }).fit(X, y)
    .trees as TreeEnsemble;
  assert.ok(
    trees.feature.includes(3) && trees.feature.includes(4),
    'the trees split on the sparse and category columns',
  );
  assert.ok(!trees.feature.includes(0), 'one column is never split on');
  const R = makeMatrix(n, 5, Float64Array.from(X.data), names, meta);
  const walked = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0.5;
    for (let t = 0; t < trees.nTrees; t++) s += trees.leafValue(t, R.data, i * 5);
    walked[i] = s;
  }
  const fromColumns = trees.sumInto(X, new Float64Array(n), 0.5);
  const compiled = trees.sumIntoCompiled(X, new Float64Array(n), 0.5);
  for (let i = 0; i < n; i++) {
    assert.ok(Object.is(fromColumns[i], walked[i]), `row ${i}: ${fromColumns[i]} vs ${walked[i]}`);
    assert.ok(Object.is(compiled[i], walked[i]), `row ${i}: ${compiled[i]} vs ${walked[i]}`);
  }
  // a few rows (below the batch size) and the first trees only still walk, with the same sums
  const few = columnMatrix(
    3,
    cols.map((c) => ('ones' in c ? sparseBinary(3, Uint32Array.of(0)) : c.subarray(0, 3))),
    names,
    meta,
  );
  const first = trees.sumInto(few, new Float64Array(3), 0.5, 0, 10);
  for (let i = 0; i < 3; i++) {
    let s = 0.5;
    for (let t = 0; t < 10; t++) s += trees.leafValue(t, R.data, i * 5);
    assert.ok(Object.is(first[i], s));
  }
});

test('the level walk and the nested branches (wasm-trees.ts) both give the walked sums bit for bit: row counts off the walk groups, missing values in some blocks only, shallow leaves, categorical codes, trees past the level depth', async () => {
  const { GradientBoostingRegressor } = await import('../gbt/index.js');
  const { WasmTrees, WASM_BLOCK_ROWS, LEVEL_MAX_DEPTH, maxTreeDepth } = await import('./wasm-trees.js');
  const n = 1203; // two full blocks and a part, not a multiple of the rows walked together
  const num = new Float64Array(n);
  const cat = new Float64Array(n);
  const byte = new Uint8Array(n);
  const ones: number[] = [];
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // missing values only in the second block, so the first walks without the missing test
    num[i] = i >= WASM_BLOCK_ROWS && i % 37 === 0 ? NaN : Math.sin(i * 1.7) * 10;
    cat[i] = i % 41 === 0 ? NaN : i % 9;
    byte[i] = (i * 7) % 3 === 0 ? 1 : 0;
    if (i % 6 === 1) ones.push(i);
    y[i] =
      (Number.isNaN(num[i]) ? 4 : num[i]) + [3, -1, 6, 0, 2, -5, 1, 8, -2][i % 9] + 2 * byte[i] + (i % 6 === 1 ? 5 : 0);
  }
  const names = ['num', 'cat', 'byte', 'word', 'unused'];
  const meta = { categorical: [false, true, false, false, false], nCategories: [0, 9, 0, 0, 0] };
  const cols = [num, cat, byte, sparseBinary(n, Uint32Array.from(ones)), new Float64Array(n).fill(1)];
  const X = columnMatrix(n, cols, names, meta);
  // predicted with unseen, negative and non-integer codes too
  const oddCat = Float64Array.from(cat, (c, i) => (i % 43 === 0 ? [11, -1, 2.5, -0][(i / 43) % 4] : c));
  const P = columnMatrix(n, [num, oddCat, ...cols.slice(2)], names);
  const rowMajor = makeMatrix(n, 5, Float64Array.from(P.data), names);
  // every word set: what a first pass leaves in the module's memory must not leak into the next
  const stale = columnMatrix(n, [num, cat, byte, sparseBinary(n, Uint32Array.from(num.keys())), cols[4]], names);
  const sums = (w: InstanceType<typeof WasmTrees>, compact: boolean, init: number, M = P) => {
    const out = new Float64Array(n).fill(init);
    // last block first: the part block then follows a full one (of the pass before)
    for (let i = Math.floor((n - 1) / WASM_BLOCK_ROWS) * WASM_BLOCK_ROWS; i >= 0; i -= WASM_BLOCK_ROWS) {
      const e = Math.min(n, i + WASM_BLOCK_ROWS);
      if (compact) w.sumColumns(M.columns!, out, i, e);
      else w.sum(M === P ? rowMajor.data : stale.data, 5, out, i, e);
    }
    return out;
  };
  // depth 5 with min_child_weight: leaves above the last level; depth 10: past LEVEL_MAX_DEPTH
  for (const [depth, minChild] of [
    [5, 40],
    [10, 1],
  ]) {
    const trees = new GradientBoostingRegressor({
      n_estimators: 30,
      max_depth: depth,
      learning_rate: 0.3,
      min_child_weight: minChild,
    }).fit(X, y).trees as TreeEnsemble;
    assert.ok(
      trees.flags.some((f, k) => (f & FLAG_CATEGORICAL) !== 0 && trees.feature[k] >= 0),
      'a categorical split',
    );
    const deepest = maxTreeDepth(trees);
    if (depth === 10) assert.ok(deepest > LEVEL_MAX_DEPTH, `trees deeper than the level walk takes (${deepest})`);
    else assert.equal(deepest, depth);
    const walked = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0.5;
      for (let t = 0; t < trees.nTrees; t++) s += trees.leafValue(t, rowMajor.data, i * 5);
      walked[i] = s;
    }
    for (const engine of ['levels', 'branches', 'auto'] as const)
      for (const compact of [true, false]) {
        const w = new WasmTrees(trees, compact, engine);
        sums(w, compact, 0, stale);
        const got = sums(w, compact, 0.5);
        for (let i = 0; i < n; i++)
          assert.ok(
            Object.is(got[i], walked[i]),
            `depth ${depth}, ${engine}, ${compact ? 'columns' : 'rows'}: row ${i}: ${got[i]} vs ${walked[i]}`,
          );
      }
  }
});
