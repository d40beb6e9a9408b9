/**
 * `dag`: the stage graph as DVC draws it: an ASCII drawing (boxes in layers, upstream on
 * top, `*` connectors, one drawing per pipeline, as `dvc dag`), `--dot` (pydot's
 * `strict digraph {` with nodes then `"dep" -> "stage"` edges), `--mermaid` / `--md`,
 * and `--outs` (the graph of outputs instead of stages: an output points at the outputs
 * its stage depends on). The ASCII layout is DVC's style (layers by longest path from the
 * sources, nodes ordered by their parents' positions); for graphs wider than a chain the
 * exact placement of boxes can differ from grandalf's.
 */
import { dagText, mermaidOf, pipelinesOf, plan, buildGraph, type StageGraph } from './graph.js';
import { Repo } from './repo.js';
import { displayFrom } from './stage-state.js';

/** Options of `dag`. */
export interface DagOptions {
  cwd: string;
  /** Show only this stage and its upstream. */
  target?: string;
  format?: 'ascii' | 'text' | 'mermaid' | 'md' | 'dot';
  /** The graph of outputs instead of stages. */
  outs?: boolean;
}

/** A plain directed graph: nodes in order, edges `[from, to]` meaning "to depends on from". */
export interface PlainGraph {
  nodes: string[];
  /** [upstream, downstream] pairs in DVC's order. */
  edges: Array<[string, string]>;
}

function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(b + '/') || b.startsWith(a + '/');
}

/** The stage graph (optionally limited to `names`) as a plain graph. */
function stagesGraph(g: StageGraph, names?: ReadonlySet<string>): PlainGraph {
  const nodes = g.stages.map((s) => s.name).filter((n) => !names || names.has(n));
  const edges: Array<[string, string]> = [];
  for (const n of nodes) for (const u of g.upstream.get(n) ?? []) if (!names || names.has(u)) edges.push([u, n]);
  return { nodes, edges };
}

/** DVC's outs graph: every output; out -> the outputs its stage's deps come from. */
function outsGraph(g: StageGraph, display: (p: string) => string, names?: ReadonlySet<string>): PlainGraph {
  const nodes: string[] = [];
  const edges: Array<[string, string]> = [];
  for (const s of g.stages) {
    if (names && !names.has(s.name)) continue;
    for (const o of s.outs) {
      const shown = display(o.path);
      if (!nodes.includes(shown)) nodes.push(shown);
      for (const u of g.upstream.get(s.name) ?? []) {
        if (names && !names.has(u)) continue;
        for (const uo of g.byName.get(u)!.outs)
          if (s.deps.some((d) => overlaps(d.path, uo.path))) edges.push([display(uo.path), shown]);
      }
    }
  }
  return { nodes, edges };
}

/** pydot's rendering of the reversed graph (`dvc dag --dot`). */
export function dotOf(pg: PlainGraph): string {
  const q = (s: string) => (s.startsWith('"') && s.endsWith('"') ? s : `"${s}"`);
  // pydot writes `strict digraph  {` (two spaces: an empty graph name) and a blank line after `}`.
  let out = 'strict digraph  {\n';
  for (const n of pg.nodes) out += `${q(n)};\n`;
  for (const [a, b] of pg.edges) out += `${q(a)} -> ${q(b)};\n`;
  return out + '}\n\n';
}

/** Weakly connected parts of a plain graph, in node order. */
function parts(pg: PlainGraph): PlainGraph[] {
  const parent = new Map(pg.nodes.map((n) => [n, n]));
  const find = (x: string): string => {
    while (parent.get(x) !== x) x = parent.get(x)!;
    return x;
  };
  for (const [a, b] of pg.edges) parent.set(find(a), find(b));
  const groups = new Map<string, string[]>();
  for (const n of pg.nodes) groups.set(find(n), [...(groups.get(find(n)) ?? []), n]);
  return [...groups.values()].map((ns) => ({ nodes: ns, edges: pg.edges.filter(([a]) => ns.includes(a)) }));
}

/** DVC's AsciiCanvas.line: the points of a line of `*` from (x0,y0) to (x1,y1). */
function line(canvas: string[][], x0: number, y0: number, x1: number, y1: number): void {
  const put = (x: number, y: number) => {
    if (y >= 0 && y < canvas.length && x >= 0 && x < canvas[y].length) canvas[y][x] = '*';
  };
  if (x0 > x1) [x0, y0, x1, y1] = [x1, y1, x0, y0];
  const dx = x1 - x0;
  const dy = y1 - y0;
  const pyRound = (v: number) => {
    const f = Math.floor(v);
    const d = v - f;
    return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  };
  if (dx === 0 && dy === 0) put(x0, y0);
  else if (Math.abs(dx) >= Math.abs(dy))
    for (let x = x0; x <= x1; x++) put(x, dx === 0 ? y0 : y0 + pyRound(((x - x0) * dy) / dx));
  else if (y0 < y1) for (let y = y0; y <= y1; y++) put(dy === 0 ? x0 : x0 + pyRound(((y - y0) * dx) / dy), y);
  else for (let y = y1; y <= y0; y++) put(dy === 0 ? x0 : x1 + pyRound(((y - y1) * dx) / dy), y);
}

/** One pipeline drawn in ASCII, DVC style. */
function drawPart(pg: PlainGraph): string {
  const ups = new Map(pg.nodes.map((n) => [n, [] as string[]]));
  for (const [a, b] of pg.edges) ups.get(b)!.push(a);
  // Layer = longest path from a source.
  const rank = new Map<string, number>();
  const rankOf = (n: string): number => {
    if (!rank.has(n)) rank.set(n, Math.max(-1, ...ups.get(n)!.map(rankOf)) + 1);
    return rank.get(n)!;
  };
  pg.nodes.forEach(rankOf);
  const layers: string[][] = [];
  for (const n of pg.nodes) (layers[rank.get(n)!] ??= []).push(n);
  const width = (n: string) => n.length + 4; // "| name |"
  const minw = Math.min(...pg.nodes.map(width));
  const cx = new Map<string, number>();
  const layerWidth = (l: string[]) => l.reduce((s, n) => s + width(n), 0) + minw * (l.length - 1);
  const maxW = Math.max(...layers.map(layerWidth));
  layers.forEach((l, i) => {
    if (i > 0) {
      const bary = (n: string) => {
        const p = ups.get(n)!.map((u) => cx.get(u)!);
        return p.length ? p.reduce((a, b) => a + b, 0) / p.length : 0;
      };
      l.sort((a, b) => bary(a) - bary(b));
    }
    let x = Math.floor((maxW - layerWidth(l)) / 2);
    for (const n of l) {
      cx.set(n, x + Math.floor(width(n) / 2));
      x += width(n) + minw;
    }
  });
  const GAP = 3;
  const top = (r: number) => r * (3 + GAP);
  const lines = top(layers.length - 1) + 3;
  const canvas = Array.from({ length: lines }, () => Array.from({ length: maxW + 1 }, () => ' '));
  for (const [a, b] of pg.edges) line(canvas, cx.get(a)!, top(rank.get(a)!) + 3, cx.get(b)!, top(rank.get(b)!) - 1);
  for (const n of pg.nodes) {
    const w = width(n);
    const x0 = cx.get(n)! - Math.floor(w / 2);
    const y0 = top(rank.get(n)!);
    const row = (y: number, s: string) => [...s].forEach((c, i) => (canvas[y][x0 + i] = c));
    row(y0, '+' + '-'.repeat(w - 2) + '+');
    row(y0 + 1, `| ${n} |`);
    row(y0 + 2, '+' + '-'.repeat(w - 2) + '+');
  }
  // Lines keep the canvas width (DVC's AsciiCanvas pads every line with spaces).
  return canvas.map((r) => r.join('')).join('\n');
}

/** `dvc dag`'s default ASCII drawing: each pipeline drawn in turn. */
export function asciiOf(pg: PlainGraph): string {
  return parts(pg).map(drawPart).join('\n');
}

/** Render the graph. */
export function dag(opts: DagOptions): string {
  const repo = Repo.find(opts.cwd);
  const index = repo.loadIndex();
  const g = buildGraph(index.stages);
  const names = opts.target ? new Set(plan(g, [opts.target], {})) : undefined;
  const pg = opts.outs ? outsGraph(g, displayFrom(repo.rel(opts.cwd)), names) : stagesGraph(g, names);
  if (pg.nodes.length === 0) return '';
  switch (opts.format) {
    case 'dot':
      return dotOf(pg);
    case 'mermaid':
      return mermaidOf(pg.nodes, pg.edges, pipelinesOf(pg.nodes, pg.edges)) + '\n';
    case 'md':
      return '```mermaid\n' + mermaidOf(pg.nodes, pg.edges, pipelinesOf(pg.nodes, pg.edges)) + '\n```\n';
    case 'text':
      return opts.outs
        ? pg.nodes
            .map(
              (n) =>
                `${n}${
                  pg.edges.some(([, b]) => b === n)
                    ? `  <-  ${pg.edges
                        .filter(([, b]) => b === n)
                        .map(([a]) => a)
                        .join(', ')}`
                    : ''
                }`,
            )
            .join('\n') + '\n'
        : dagText(g, names) + '\n';
    default:
      return asciiOf(pg) + '\n';
  }
}
