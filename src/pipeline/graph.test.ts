/** The stage graph: edges from dep/out paths, DFS post-order plans, --downstream, --single-item, cycles, overlaps, mermaid. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, mermaid, plan } from './graph.js';
import type { IndexStage } from './repo.js';
import { isAppError } from '../core/errors.js';

function st(name: string, deps: string[], outs: string[], frozen = false): IndexStage {
  return {
    name,
    kind: 'stage',
    def: { name, file: 'dvc.yaml', cmd: 'x', wdir: '.', deps, params: [], outs: [], frozen, alwaysChanged: false },
    deps: deps.map((d) => ({ defPath: d, path: d })),
    outs: outs.map((o) => ({ defPath: o, path: o, cache: true, persist: false, push: true, kind: 'outs' as const })),
  };
}

// prepare -> featurize -> train -> evaluate; report depends on a file inside featurize's out dir.
const stages = [
  st('evaluate', ['model.pkl', 'data/features'], ['metrics.json']),
  st('prepare', ['data.xml'], ['data/prepared']),
  st('featurize', ['data/prepared'], ['data/features']),
  st('train', ['data/features/train.pkl'], ['model.pkl']),
  st('lonely', [], ['x.txt']),
];

test('plan is the DFS post-order over dependencies (upstream first)', () => {
  const g = buildGraph(stages);
  assert.deepEqual(g.upstream.get('train'), ['featurize']);
  assert.deepEqual(plan(g, undefined, {}), ['prepare', 'featurize', 'train', 'evaluate', 'lonely']);
  assert.deepEqual(plan(g, ['train'], {}), ['prepare', 'featurize', 'train']);
  assert.deepEqual(plan(g, ['featurize'], { downstream: true }), ['featurize', 'train', 'evaluate']);
  assert.deepEqual(plan(g, ['train', 'prepare'], { singleItem: true }), ['prepare', 'train']);
});

test('a frozen stage does not pull in its upstream', () => {
  const g = buildGraph(
    stages.map((s) => (s.name === 'train' ? st('train', ['data/features/train.pkl'], ['model.pkl'], true) : s)),
  );
  assert.deepEqual(plan(g, ['evaluate'], {}), ['train', 'prepare', 'featurize', 'evaluate']);
});

test('cycles, overlapping outputs and unknown targets are coded errors', () => {
  assert.throws(
    () => buildGraph([st('a', ['b.txt'], ['a.txt']), st('b', ['a.txt'], ['b.txt'])]),
    (e: unknown) => isAppError(e, 'PIPELINE_INVALID') && /cycle: a -> b -> a/.test(e.message),
  );
  assert.throws(
    () => buildGraph([st('a', [], ['data']), st('b', [], ['data/x'])]),
    (e: unknown) => isAppError(e, 'PIPELINE_INVALID') && /overlaps/.test(e.message),
  );
  assert.throws(
    () => plan(buildGraph(stages), ['trian'], {}),
    (e: unknown) => isAppError(e, 'USAGE') && /'trian' does not exist: no such stage/.test(e.message),
  );
});

test('mermaid output follows dvc dag --mermaid (pipelines, sorted nodes, sorted edges)', () => {
  assert.equal(
    mermaid(buildGraph(stages)),
    'flowchart TD\n\tnode1["evaluate"]\n\tnode2["featurize"]\n\tnode3["prepare"]\n\tnode4["train"]\n\tnode2-->node1\n\tnode2-->node4\n\tnode3-->node2\n\tnode4-->node1\n\tnode5["lonely"]',
  );
});
