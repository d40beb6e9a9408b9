/**
 * The stage graph, built like DVC's: stage S depends on stage P when one of S's deps
 * equals, lies inside, or contains one of P's outputs. Overlapping outputs of two stages
 * and cycles are errors. Plans are DFS post-orders (upstream first), visiting stages in
 * index order and dependencies in declaration order, as `networkx.dfs_postorder_nodes`
 * does in `dvc repro`. A frozen stage's upstream edges are dropped for planning.
 */
import { AppError } from '../core/errors.js';
import type { IndexStage } from './repo.js';

/** Stages with their upstream (dependency) edges. */
export interface StageGraph {
  stages: IndexStage[];
  /** name -> names of the stages it depends on, in dep declaration order. */
  upstream: Map<string, string[]>;
  byName: Map<string, IndexStage>;
}

function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(b + '/') || b.startsWith(a + '/') || a === '.' || b === '.';
}

/** Build the graph; throws on overlapping outputs and cycles. */
export function buildGraph(stages: IndexStage[]): StageGraph {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const outs: Array<{ path: string; stage: IndexStage }> = [];
  for (const s of stages) for (const o of s.outs) outs.push({ path: o.path, stage: s });
  for (let i = 0; i < outs.length; i++)
    for (let j = i + 1; j < outs.length; j++)
      if (outs[i].stage !== outs[j].stage && overlaps(outs[i].path, outs[j].path))
        throw new AppError(
          'PIPELINE_INVALID',
          `output '${outs[i].path}' of '${outs[i].stage.name}' overlaps output '${outs[j].path}' of '${outs[j].stage.name}'; each path may be produced by one stage only`,
        );
  const upstream = new Map<string, string[]>();
  for (const s of stages) {
    const ups: string[] = [];
    for (const d of s.deps)
      for (const o of outs)
        if (o.stage !== s && overlaps(d.path, o.path) && !ups.includes(o.stage.name)) ups.push(o.stage.name);
    upstream.set(s.name, ups);
  }
  const g = { stages, upstream, byName };
  checkCycles(g);
  return g;
}

function checkCycles(g: StageGraph): void {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    if (state.get(n) === 2) return;
    if (state.get(n) === 1) {
      const cyc = [...stack.slice(stack.indexOf(n)), n];
      throw new AppError(
        'PIPELINE_INVALID',
        `the pipeline has a cycle: ${cyc.join(' -> ')}; a stage cannot depend (even indirectly) on its own outputs`,
      );
    }
    state.set(n, 1);
    stack.push(n);
    for (const u of g.upstream.get(n) ?? []) visit(u);
    stack.pop();
    state.set(n, 2);
  };
  for (const s of g.stages) visit(s.name);
}

/** Upstream edges used for planning (a frozen stage does not pull its upstream in). */
function activeUpstream(g: StageGraph, name: string): string[] {
  const s = g.byName.get(name)!;
  return s.def?.frozen || s.dvcfile?.frozen ? [] : (g.upstream.get(name) ?? []);
}

/** DFS post-order of `roots` and everything upstream of them. */
export function postorder(g: StageGraph, roots: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const visit = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const u of activeUpstream(g, n)) visit(u);
    out.push(n);
  };
  for (const r of roots) visit(r);
  return out;
}

/**
 * Resolve repro/status targets to stage names: a stage name, a foreach/matrix group
 * name, `dvc.yaml`, `dvc.yaml:name`, or a `.dvc` file path. No targets = all stages.
 */
export function resolveTargets(g: StageGraph, targets: string[] | undefined): string[] {
  if (!targets || targets.length === 0) return g.stages.map((s) => s.name);
  const out: string[] = [];
  for (const raw of targets) {
    let t = raw.replace(/^\.\//, '');
    if (t === 'dvc.yaml') {
      out.push(...g.stages.filter((s) => s.kind === 'stage').map((s) => s.name));
      continue;
    }
    if (t.startsWith('dvc.yaml:')) t = t.slice('dvc.yaml:'.length);
    if (g.byName.has(t)) {
      out.push(t);
      continue;
    }
    const group = g.stages.filter((s) => s.def?.group === t).map((s) => s.name);
    if (group.length) {
      out.push(...group);
      continue;
    }
    const names = g.stages.map((s) => s.name);
    const close = names.filter((n) => n.includes(t) || t.includes(n)).slice(0, 5);
    throw new AppError(
      'USAGE',
      `'${raw}' does not exist: no such stage in dvc.yaml and no such .dvc file${close.length ? `; did you mean ${close.map((c) => `'${c}'`).join(', ')}?` : `; stages: ${names.join(', ') || '(none)'}`}`,
    );
  }
  return [...new Set(out)];
}

/** The repro plan for the given selection mode, upstream first. */
export function plan(
  g: StageGraph,
  targets: string[] | undefined,
  mode: { downstream?: boolean; singleItem?: boolean },
): string[] {
  const roots = resolveTargets(g, targets);
  if (mode.singleItem)
    return postorder(
      g,
      g.stages.map((s) => s.name),
    ).filter((n) => roots.includes(n));
  if (mode.downstream) {
    const want = new Set(roots);
    let grew = true;
    while (grew) {
      grew = false;
      for (const s of g.stages)
        if (!want.has(s.name) && activeUpstream(g, s.name).some((u) => want.has(u))) {
          want.add(s.name);
          grew = true;
        }
    }
    return postorder(
      g,
      g.stages.map((s) => s.name),
    ).filter((n) => want.has(n));
  }
  return postorder(g, roots);
}

/** Weakly connected components of nodes/edges, each as sorted node names; components sorted by first node. */
export function pipelinesOf(nodes: readonly string[], edges: ReadonlyArray<[string, string]>): string[][] {
  const parent = new Map(nodes.map((n) => [n, n]));
  const find = (x: string): string => {
    while (parent.get(x) !== x) x = parent.get(x)!;
    return x;
  };
  for (const [a, b] of edges) parent.set(find(a), find(b));
  const groups = new Map<string, string[]>();
  for (const n of nodes) {
    const r = find(n);
    groups.set(r, [...(groups.get(r) ?? []), n]);
  }
  return [...groups.values()].map((x) => x.sort()).sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** Weakly connected components of the stage graph. */
export function pipelines(g: StageGraph): string[][] {
  const edges: Array<[string, string]> = [];
  for (const [n, ups] of g.upstream) for (const u of ups) edges.push([u, n]);
  return pipelinesOf(
    g.stages.map((s) => s.name),
    edges,
  );
}

/** `dvc dag --mermaid` text for nodes and [upstream, downstream] edges (per pipeline, nodes sorted). */
export function mermaidOf(nodes: readonly string[], edges: ReadonlyArray<[string, string]>, comps: string[][]): string {
  let text = 'flowchart TD';
  let total = 0;
  for (const comp of comps) {
    const ids = new Map<string, string>();
    for (const n of comp) {
      if (!nodes.includes(n)) continue;
      total += 1;
      ids.set(n, `node${total}`);
      text += `\n\t${ids.get(n)}["${n}"]`;
    }
    const es = edges.filter(([a, b]) => ids.has(a) && ids.has(b));
    es.sort((a, b) => (a[0] + '\0' + a[1] < b[0] + '\0' + b[1] ? -1 : 1));
    for (const [a, b] of es) text += `\n\t${ids.get(a)}-->${ids.get(b)}`;
  }
  return text;
}

/** `dvc dag --mermaid` text (DVC's node numbering: per pipeline, nodes sorted). */
export function mermaid(g: StageGraph, names?: ReadonlySet<string>): string {
  const nodes = g.stages.map((s) => s.name).filter((n) => !names || names.has(n));
  const edges: Array<[string, string]> = [];
  for (const n of nodes) for (const u of g.upstream.get(n) ?? []) if (!names || names.has(u)) edges.push([u, n]);
  return mermaidOf(nodes, edges, pipelines(g));
}

/** A plain-text rendering: one line per stage in plan order with what it depends on. */
export function dagText(g: StageGraph, names?: ReadonlySet<string>): string {
  const order = postorder(
    g,
    g.stages.map((s) => s.name),
  ).filter((n) => !names || names.has(n));
  const lines: string[] = [];
  for (const comp of pipelines(g)) {
    const inComp = order.filter((n) => comp.includes(n));
    if (inComp.length === 0) continue;
    if (lines.length) lines.push('');
    for (const n of inComp) {
      const ups = (g.upstream.get(n) ?? []).filter((u) => !names || names.has(u));
      lines.push(ups.length ? `${n}  <-  ${ups.join(', ')}` : n);
    }
  }
  return lines.join('\n');
}
