/**
 * `status`: which stages (and `.dvc` data sources) are out of date and why, printed
 * exactly like `dvc status` (one TAB per level, states padded to 20 characters) or as
 * DVC's JSON shape.
 */
import { buildGraph, resolveTargets } from './graph.js';
import { Repo } from './repo.js';
import { displayFrom, observeStage, isChanged, type StageStatus } from './stage-state.js';

/** Options of `status`. */
export interface StatusOptions {
  cwd: string;
  /** Stage names, groups, `.dvc` files; default all. */
  targets?: string[];
}

/** Result of `status`: only the stages that changed, in index order. */
export interface StatusResult {
  changed: StageStatus[];
  /** False when the repo tracks nothing at all. */
  hasStages: boolean;
  /** Frozen stages looked at: DVC warns for each that its dependencies are not shown. */
  frozen: string[];
}

/** Compute the status of the pipeline and data sources. */
export async function status(opts: StatusOptions): Promise<StatusResult> {
  const repo = Repo.find(opts.cwd);
  try {
    const index = repo.loadIndex();
    if (index.stages.length === 0) return { changed: [], hasStages: false, frozen: [] };
    const graph = buildGraph(index.stages);
    const names = new Set(resolveTargets(graph, opts.targets));
    const display = displayFrom(repo.rel(opts.cwd));
    const changed: StageStatus[] = [];
    const frozen: string[] = [];
    for (const s of index.stages) {
      if (!names.has(s.name)) continue;
      if (s.def?.frozen) frozen.push(s.name);
      const obs = await observeStage(repo, s, s.kind === 'stage' ? index.lock.get(s.name) : undefined, display);
      if (isChanged(obs.status)) changed.push(obs.status);
    }
    return { changed, hasStages: true, frozen };
  } finally {
    repo.state.save();
  }
}

type Json = string | Json[] | { [k: string]: Json };

/** DVC's status dict: `{stage: [{"changed deps": {...}}, {"changed outs": {...}}, "always changed", "changed command"]}`. */
export function statusJson(r: StatusResult): Record<string, Json[]> {
  const out: Record<string, Json[]> = {};
  for (const s of r.changed) {
    const list: Json[] = [];
    if (s.changedDeps.length) {
      const deps: Record<string, Json> = {};
      for (const [p, st] of s.changedDeps) deps[p] = typeof st === 'string' ? st : Object.fromEntries(st);
      list.push({ 'changed deps': deps });
    }
    if (s.changedOuts.length) list.push({ 'changed outs': Object.fromEntries(s.changedOuts) });
    if (s.alwaysChanged) list.push('always changed');
    if (s.changedCmd) list.push('changed command');
    out[s.name] = list;
  }
  return out;
}

function show(v: Json, indent: number, lines: string[]): void {
  const ind = '\t'.repeat(indent);
  if (typeof v === 'string') {
    lines.push(ind + v);
    return;
  }
  if (Array.isArray(v)) {
    for (const e of v) show(e, indent, lines);
    return;
  }
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string') lines.push(`${ind}${(val + ':').padEnd(20)}${k}`);
    else {
      lines.push(`${ind}${k}:`);
      show(val, indent + 1, lines);
    }
  }
}

/** The text `dvc status` prints. */
export function formatStatus(r: StatusResult): string {
  if (!r.hasStages)
    return 'There are no data or pipelines tracked in this project yet.\nSee <https://dvc.org/doc/start> to get started!\n';
  if (r.changed.length === 0) return 'Data and pipelines are up to date.\n';
  const lines: string[] = [];
  show(statusJson(r), 0, lines);
  return lines.join('\n') + '\n';
}
