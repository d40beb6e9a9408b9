/**
 * The pipeline page's data: every stage of dvc.yaml (and `.dvc` data source) with its
 * status and the reasons (the same observation `carprice status` makes, kept for the
 * stages that are up to date too), the edges between them, and the params and metrics
 * diffs against the last commit (`carprice params diff` / `metrics diff`).
 */
import { buildGraph } from '../pipeline/graph.js';
import { Repo } from '../pipeline/repo.js';
import { displayFrom, isChanged, observeStage } from '../pipeline/stage-state.js';
import { metricsDiff, paramsDiff, metricStr, type DiffRow } from '../pipeline/compare.js';
import { pyStr } from '../pipeline/py-value.js';

export interface StageView {
  name: string;
  kind: 'stage' | 'dvcfile';
  cmd: string | null;
  state: 'up to date' | 'changed' | 'never run' | 'frozen';
  /** Human sentences: why the stage would run again. */
  reasons: string[];
  deps: string[];
  outs: string[];
}

export interface DiffView {
  path: string;
  key: string;
  old: string | null;
  new: string | null;
  change: string | null;
}

export interface PipelineView {
  root: string;
  stages: StageView[];
  edges: Array<[string, string]>;
  params: DiffView[];
  metrics: DiffView[];
  /** Why a diff could not be computed (no git, no commit). */
  diffNote: string | null;
}

function describe(state: string): string {
  return state;
}

function diffView(rows: DiffRow[], metric: boolean): DiffView[] {
  const str = (v: DiffRow['old']) => (v === undefined ? null : metric ? metricStr(v) : pyStr(v));
  return rows.map((r) => {
    let change: string | null = null;
    if (metric && typeof r.old === 'number' && typeof r.new === 'number') change = metricStr(r.new - r.old);
    else if (metric && r.old !== undefined && r.new !== undefined) {
      const o = Number(metricStr(r.old));
      const n = Number(metricStr(r.new));
      if (Number.isFinite(o) && Number.isFinite(n)) change = String(Math.round((n - o) * 1e5) / 1e5);
    }
    return { path: r.path, key: r.key, old: str(r.old), new: str(r.new), change };
  });
}

export async function pipelineView(cwd: string): Promise<PipelineView> {
  const repo = Repo.find(cwd);
  const stages: StageView[] = [];
  let edges: Array<[string, string]> = [];
  try {
    const index = repo.loadIndex();
    const g = buildGraph(index.stages);
    const display = displayFrom(repo.rel(cwd));
    for (const s of index.stages) {
      const lock = s.kind === 'stage' ? index.lock.get(s.name) : undefined;
      const obs = await observeStage(repo, s, lock, display);
      const st = obs.status;
      const reasons: string[] = [];
      for (const [p, change] of st.changedDeps)
        if (typeof change === 'string') reasons.push(`dependency ${p}: ${describe(change)}`);
        else for (const [k, c] of change) reasons.push(`parameter ${k} in ${p}: ${describe(c)}`);
      for (const [p, change] of st.changedOuts) reasons.push(`output ${p}: ${describe(change)}`);
      if (st.changedCmd) reasons.push('the command changed');
      if (st.alwaysChanged) reasons.push('always runs (always_changed: true)');
      let state: StageView['state'] = isChanged(st) ? 'changed' : 'up to date';
      if (s.kind === 'stage' && !lock) {
        state = 'never run';
        reasons.unshift('not in dvc.lock: the stage has never run');
      }
      if (st.frozen) state = 'frozen';
      stages.push({
        name: s.name,
        kind: s.kind,
        cmd: s.def ? [s.def.cmd].flat().join(' && ') : null,
        state,
        reasons,
        deps: s.deps.map((d) => display(d.path)),
        outs: s.outs.map((o) => display(o.path)),
      });
    }
    edges = [];
    for (const s of g.stages) for (const u of g.upstream.get(s.name) ?? []) edges.push([u, s.name]);
  } finally {
    repo.state.save();
  }
  let params: DiffView[] = [];
  let metrics: DiffView[] = [];
  let diffNote: string | null = null;
  try {
    params = diffView(paramsDiff({ cwd }), false);
    metrics = diffView(metricsDiff({ cwd }), true);
  } catch (e) {
    diffNote = `no diff against the last commit: ${(e as Error).message}`;
  }
  return { root: repo.root, stages, edges, params, metrics, diffNote };
}
