/**
 * `dag`: the stage graph as DVC draws it: an ASCII drawing (boxes in layers, upstream on
 * top, `*` connectors, one drawing per pipeline, as `dvc dag`), `--dot` (pydot's
 * `strict digraph {` with nodes then `"dep" -> "stage"` edges), `--mermaid` / `--md`,
 * and `--outs` (the graph of outputs instead of stages: an output points at the outputs
 * its stage depends on). The ASCII drawing places boxes and edges where DVC does (the
 * layered layout of dag-layout.ts, checked against recorded `dvc dag` sessions).
 */
import { dagText, mermaidOf, pipelinesOf, plan, buildGraph, type StageGraph } from './graph.js';
import { layoutDag } from './dag-layout.js';
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
  /** Output width: ASCII lines longer than this lose trailing spaces down to it (as DVC's rich output). */
  width?: number;
  /**
   * For each pipeline drawn, the order its long edges get their bend points in (default:
   * edge order). DVC takes its edge set's order, which varies between its runs; tests
   * replaying a recorded `dvc dag` pass the order that run used.
   */
  bendOrders?: Array<Array<[string, string]>>;
}

/** A plain directed graph: nodes in order, edges `[from, to]` meaning "to depends on from". */
export interface PlainGraph {
  nodes: string[];
  /** [upstream, downstream] pairs in DVC's order. */
  edges: Array<[string, string]>;
}

/** The stage graph (optionally limited to `names`) as a plain graph. */
function stagesGraph(g: StageGraph, names?: ReadonlySet<string>): PlainGraph {
  const nodes = g.stages.map((s) => s.name).filter((n) => !names || names.has(n));
  const edges: Array<[string, string]> = [];
  for (const n of nodes) for (const u of g.upstream.get(n) ?? []) if (!names || names.has(u)) edges.push([u, n]);
  return { nodes, edges };
}

/**
 * DVC's outs graph: every output (nodes in the order of DVC's outputs trie: grouped by
 * path components, each group where its first output came), and an edge from each
 * output a stage's dependency touches to each output of that stage, grouped by the
 * downstream output.
 */
function outsGraph(g: StageGraph, display: (p: string) => string, names?: ReadonlySet<string>): PlainGraph {
  type TrieNode = { children: Map<string, TrieNode>; out?: string };
  const trie: TrieNode = { children: new Map() };
  for (const s of g.stages) {
    if (names && !names.has(s.name)) continue;
    for (const o of s.outs) {
      let t = trie;
      for (const part of o.path.split('/')) {
        if (!t.children.has(part)) t.children.set(part, { children: new Map() });
        t = t.children.get(part)!;
      }
      t.out = o.path;
    }
  }
  const nodes: string[] = [];
  const walk = (t: TrieNode) => {
    if (t.out !== undefined) nodes.push(t.out);
    for (const c of t.children.values()) walk(c);
  };
  walk(trie);
  const present = new Set(nodes);
  const ups = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const s of g.stages) {
    if (names && !names.has(s.name)) continue;
    for (const d of s.deps) {
      // Outputs at or above the dependency first (shortest first), then those inside it.
      const touched = [
        ...nodes.filter((o) => d.path === o || d.path.startsWith(o + '/')).sort((a, b) => a.length - b.length),
        ...nodes.filter((o) => o.startsWith(d.path + '/')),
      ].filter((o) => present.has(o));
      for (const o of s.outs) for (const t of touched) if (!ups.get(o.path)!.includes(t)) ups.get(o.path)!.push(t);
    }
  }
  return {
    nodes: nodes.map(display),
    edges: nodes.flatMap((n) => ups.get(n)!.map((u): [string, string] => [display(u), display(n)])),
  };
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

/** Python's round(): halves to even. */
function pyRound(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/** A character canvas; `line` puts `*` on the cells of a straight line, as DVC's does. */
class Canvas {
  readonly cells: string[][];
  constructor(cols: number, rows: number) {
    this.cells = Array.from({ length: rows }, () => Array.from({ length: cols }, () => ' '));
  }

  put(x: number, y: number, c: string): void {
    if (y >= 0 && y < this.cells.length && x >= 0 && x < this.cells[y].length) this.cells[y][x] = c;
  }

  line(x0: number, y0: number, x1: number, y1: number): void {
    if (x0 > x1) [x0, y0, x1, y1] = [x1, y1, x0, y0];
    const dx = x1 - x0;
    const dy = y1 - y0;
    if (dx === 0 && dy === 0) this.put(x0, y0, '*');
    else if (Math.abs(dx) >= Math.abs(dy))
      for (let x = x0; x <= x1; x++) this.put(x, y0 + pyRound(((x - x0) * dy) / dx), '*');
    else if (y0 < y1) for (let y = y0; y <= y1; y++) this.put(x0 + pyRound(((y - y0) * dx) / dy), y, '*');
    else for (let y = y1; y <= y0; y++) this.put(x1 + pyRound(((y - y1) * dx) / dy), y, '*');
  }

  box(x0: number, y0: number, label: string): void {
    const text = [...` ${label} `];
    const right = x0 + text.length + 1;
    for (let x = x0; x <= right; x++) {
      this.put(x, y0, '-');
      this.put(x, y0 + 2, '-');
    }
    for (const [x, y] of [
      [x0, y0],
      [right, y0],
      [x0, y0 + 2],
      [right, y0 + 2],
    ])
      this.put(x, y, '+');
    this.put(x0, y0 + 1, '|');
    this.put(right, y0 + 1, '|');
    text.forEach((c, i) => this.put(x0 + 1 + i, y0 + 1, c));
  }

  toString(): string {
    return this.cells.map((r) => r.join('')).join('\n');
  }
}

/**
 * One pipeline drawn in ASCII as `dvc dag` draws it: the layout of dag-layout.ts, edges
 * first as lines of `*`, then the boxes over them; every line padded to the canvas width.
 */
function drawPart(pg: PlainGraph, bendOrder?: Array<[string, string]>): string {
  const { boxes, lines } = layoutDag(pg.nodes, pg.edges, bendOrder);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const b of boxes) {
    xs.push(b.x - b.width / 2, b.x + b.width / 2);
    ys.push(b.y, b.y + 3);
  }
  for (const pts of lines)
    for (const [x, y] of pts) {
      xs.push(x);
      ys.push(y);
    }
  const minx = Math.min(...xs);
  const miny = Math.min(...ys);
  const canvas = new Canvas(
    Math.ceil(Math.ceil(Math.max(...xs)) - Math.floor(minx)) + 1,
    pyRound(Math.max(...ys) - miny),
  );
  for (const pts of lines)
    for (let i = 1; i < pts.length; i++)
      canvas.line(
        pyRound(pts[i - 1][0] - minx),
        pyRound(pts[i - 1][1] - miny),
        pyRound(pts[i][0] - minx),
        pyRound(pts[i][1] - miny),
      );
  for (const b of boxes) canvas.box(pyRound(b.x - b.width / 2 - minx), pyRound(b.y - miny), b.label);
  return canvas.toString();
}

/** `dvc dag`'s default ASCII drawing: each pipeline drawn in turn, lines cut back to `width`. */
export function asciiOf(pg: PlainGraph, width = Infinity, bendOrders?: Array<Array<[string, string]>>): string {
  return parts(pg)
    .map((p, i) => drawPart(p, bendOrders?.[i]))
    .join('\n')
    .split('\n')
    .map((l) => (l.length > width ? l.slice(0, Math.max(width, l.trimEnd().length)) : l))
    .join('\n');
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
      return asciiOf(pg, opts.width, opts.bendOrders) + '\n';
  }
}
