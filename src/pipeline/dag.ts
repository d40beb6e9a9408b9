/** `dag`: the stage graph as text or as DVC's `--mermaid` flowchart. */
import { buildGraph, dagText, mermaid, plan } from './graph.js';
import { Repo } from './repo.js';

/** Options of `dag`. */
export interface DagOptions {
  cwd: string;
  /** Show only this stage and its upstream. */
  target?: string;
  format?: 'text' | 'mermaid' | 'md';
}

/** Render the graph. */
export function dag(opts: DagOptions): string {
  const repo = Repo.find(opts.cwd);
  const index = repo.loadIndex();
  const g = buildGraph(index.stages);
  const names = opts.target ? new Set(plan(g, [opts.target], {})) : undefined;
  if (opts.format === 'mermaid') return mermaid(g, names) + '\n';
  if (opts.format === 'md') return '```mermaid\n' + mermaid(g, names) + '\n```\n';
  return dagText(g, names) + '\n';
}
