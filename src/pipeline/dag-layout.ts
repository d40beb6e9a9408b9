/**
 * The layered ("Sugiyama") layout behind `dag`'s ASCII drawing, written to place boxes
 * where `dvc dag` places them (DVC 3.64 lays its graphs out with grandalf 0.8). The
 * steps, each chosen to give the same result as DVC for the same input order:
 *
 * 1. Ranks: sources first, then every node one layer below its lowest-placed parent
 *    (longest path), taken in waves; then each parent is pulled down to just above its
 *    nearest child (walking the layers bottom-up), which moves it to the end of its layer.
 * 2. Long edges get one bend point per layer they cross (width: the median box width).
 * 3. Order in layers: sweeps down, up (only when some edges cross) and down again; in
 *    each, a layer whose edges to the layer before cross is sorted by the mean relative
 *    position of each node's neighbours there, then one pass of adjacent swaps that cut
 *    crossings.
 * 4. x: Brandes and Köpf's method run four times (leftmost/rightmost x upper/lower
 *    alignment, median neighbours, blocks compacted with `minw` between boxes); a node's
 *    x is the mean of the two middle values of its four. y: 6 rows per layer.
 * 5. Edges are polylines through their bend points, clipped at the boxes' borders.
 *
 * Ties (equal means, equal medians) are broken by the order nodes and edges come in,
 * like DVC, so the caller passes them in DVC's order: nodes in graph order, edges
 * grouped by their downstream node. The one input order DVC does not fix is the order
 * of its edge *set* (Python object addresses), which decides the starting order of bend
 * points that share a layer; here they start in edge order.
 */

/** A box or a bend point in the layout. */
interface Node {
  /** The text in the box; null for the bend point of a long edge. */
  label: string | null;
  width: number;
  rank: number;
  /** Index in its layer. */
  pos: number;
  /** Relative position in its layer (0..1), or the mean of its neighbours' while sorting. */
  bar: number;
  /** Edges touching a box, in input order. */
  edges: Edge[];
  /** For a bend point: the edge it belongs to. */
  edge: Edge | null;
  /** Neighbours in the layer above (-1) and below (+1), bend points included. */
  near: { [dir: number]: Node[] } | null;
  // Brandes-Köpf state.
  root: Node;
  align: Node;
  sink: Node;
  shift: number;
  X: number | null;
  xs: number[];
  /** Final centre. */
  x: number;
  y: number;
}

interface Edge {
  from: Node;
  to: Node;
  /** rank -> node on this edge (its two ends and its bend points), for long edges. */
  chain: Map<number, Node> | null;
  /** The drawn polyline. */
  points: Array<[number, number]>;
}

/** What the drawing needs: box centres (x, y = layer row + 1.5) and edge polylines. */
export interface Layout {
  boxes: Array<{ label: string; width: number; x: number; y: number }>;
  lines: Array<Array<[number, number]>>;
}

const BOX_HEIGHT = 3;

function newNode(label: string | null, width: number): Node {
  const n = {
    label,
    width,
    rank: -1,
    pos: 0,
    bar: 0,
    edges: [],
    edge: null,
    near: null,
    shift: Infinity,
    X: null,
    xs: [0, 0, 0, 0],
    x: 0,
    y: 0,
  } as unknown as Node;
  n.root = n.align = n.sink = n;
  return n;
}

/** Graph neighbours of a box: parents (-1) or children (+1), in edge order. */
function graphNeighbours(n: Node, dir: -1 | 1): Node[] {
  if (n.edge) {
    const m = n.edge.chain!.get(n.rank + dir);
    return m ? [m] : [];
  }
  return dir < 0
    ? n.edges.filter((e) => e.to === n).map((e) => e.from)
    : n.edges.filter((e) => e.from === n).map((e) => e.to);
}

/** Neighbours in the adjacent layer: a long edge's bend point stands in for its far end. */
function layerNeighbours(n: Node, dir: -1 | 1): Node[] {
  if (!n.near) {
    const near = { [-1]: graphNeighbours(n, -1), [1]: graphNeighbours(n, 1) };
    if (!n.edge)
      for (const d of [-1, 1] as const)
        near[d] = near[d].map((m) => {
          if (m.rank === n.rank + d) return m;
          const e = n.edges.find((x) => x.from === m || x.to === m)!;
          return e.chain!.get(n.rank + d)!;
        });
    n.near = near;
  }
  return n.near[dir];
}

/** Number of pairs out of order in a sequence (crossings between two layers). */
function inversions(seq: number[]): number {
  let count = 0;
  for (let i = 0; i < seq.length; i++) for (let j = 0; j < i; j++) if (seq[j] > seq[i]) count++;
  return count;
}

class Layered {
  layers: Node[][] = [];
  /** Alignment direction: h = +1 leftmost / -1 rightmost; v = -1 upper / +1 lower. */
  h: 1 | -1 = 1;
  v: 1 | -1 = -1;
  conflicts = new Set<string>();
  ids = new Map<Node, number>();

  constructor(
    readonly nodes: Node[],
    readonly edges: Edge[],
    readonly xspace: number,
    readonly bendWidth: number,
  ) {}

  id(n: Node): number {
    let i = this.ids.get(n);
    if (i === undefined) this.ids.set(n, (i = this.ids.size));
    return i;
  }

  rank(): void {
    const inEdges = (n: Node) => n.edges.filter((e) => e.to === n);
    const scanned = new Set<Edge>();
    let wave = this.nodes.filter((n) => inEdges(n).length === 0);
    while (wave.length > 0) {
      const next: Node[] = [];
      for (const n of wave) {
        n.rank = Math.max(-1, ...graphNeighbours(n, -1).map((p) => p.rank)) + 1;
        (this.layers[n.rank] ??= []).push(n);
        for (const e of n.edges) if (e.from === n) scanned.add(e);
        for (const c of graphNeighbours(n, 1))
          if (inEdges(c).every((e) => scanned.has(e)) && !next.includes(c)) next.push(c);
      }
      wave = next;
    }
    // Pull parents down to just above their nearest child.
    for (let r = this.layers.length - 1; r >= 0; r--)
      for (const n of [...this.layers[r]])
        for (const p of graphNeighbours(n, -1))
          if (graphNeighbours(p, 1).every((c) => c.rank >= n.rank)) {
            const from = this.layers[p.rank];
            from.splice(from.indexOf(p), 1);
            p.rank = n.rank - 1;
            this.layers[p.rank].push(p);
          }
  }

  bendPoints(order: Edge[]): void {
    for (const e of order) {
      const [r0, r1] = [e.from.rank, e.to.rank];
      if (r1 - r0 <= 1) continue;
      e.chain = new Map([
        [r0, e.from],
        [r1, e.to],
      ]);
      for (let r = r0 + 1; r < r1; r++) {
        const b = newNode(null, this.bendWidth);
        b.rank = r;
        b.edge = e;
        e.chain.set(r, b);
        this.layers[r].push(b);
      }
    }
    this.layers.forEach((l) => this.renumber(l, false));
  }

  step(l: Node[]): number {
    return l.length > 1 ? 1 / (l.length - 1) : 1;
  }

  renumber(l: Node[], keepBar: boolean): void {
    const s = this.step(l);
    l.forEach((n, i) => {
      n.pos = i;
      if (!keepBar) n.bar = i * s;
    });
  }

  /** The layer before `r` in the sweep direction (`v`), if any. */
  before(r: number): Node[] | undefined {
    return this.layers[r + (this.v < 0 ? -1 : 1)];
  }

  /** Reorder one layer against the one before it; returns the crossings left. */
  orderLayer(l: Node[]): number {
    const near = (n: Node) => layerNeighbours(n, this.v);
    let crossings = inversions(
      l.flatMap((n) =>
        near(n)
          .map((m) => m.pos)
          .sort((a, b) => a - b),
      ),
    );
    if (crossings === 0) return 0;
    const hasBefore = this.before(l[0].rank) !== undefined;
    for (const n of l) {
      const bars = near(n).map((m) => m.bar);
      if (hasBefore && bars.length > 0) n.bar = bars.reduce((a, b) => a + b, 0) / bars.length;
    }
    l.sort((a, b) => a.bar - b.bar);
    // One pass of adjacent swaps.
    crossings = 0;
    for (let i = 0; i + 1 < l.length; i++) {
      const left = near(l[i]).map((m) => m.bar);
      let keep = 0;
      let swap = 0;
      for (const b of near(l[i + 1]).map((m) => m.bar)) {
        const above = left.filter((a) => a > b).length;
        keep += above;
        swap += left.length - above;
      }
      if (swap < keep) {
        [l[i], l[i + 1]] = [l[i + 1], l[i]];
        crossings += swap;
      } else crossings += keep;
    }
    this.renumber(l, false);
    return crossings;
  }

  sweep(oneWay: boolean): void {
    this.v = -1;
    let crossings = 0;
    for (const l of this.layers) crossings += this.orderLayer(l);
    if (oneWay || crossings === 0) return;
    this.v = 1;
    for (let r = this.layers.length - 1; r >= 0; r--) this.orderLayer(this.layers[r]);
  }

  /** Median neighbour positions in the layer before (one, or two for an even count). */
  medians(n: Node): number[] {
    const pos = layerNeighbours(n, this.v)
      .map((m) => m.pos)
      .sort((a, b) => a - b);
    if (pos.length === 0) return [];
    if (this.h < 0) pos.reverse();
    const i = Math.floor((pos.length - 1) / 2);
    return pos.length % 2 === 1 ? [pos[i]] : [pos[i], pos[i + 1]];
  }

  /** Edges between a bend point and a box that would cross an edge between bend points. */
  markConflicts(): void {
    this.v = -1;
    this.h = 1;
    for (const [r, l] of this.layers.entries()) {
      const prev = this.layers[r - 1];
      if (!prev) continue;
      let k0 = 0;
      let start = 0;
      l.forEach((n, i) => {
        if (!n.edge) return;
        const inner = graphNeighbours(n, -1).some((m) => m.edge !== null);
        if (i !== l.length - 1 && !inner) return;
        const k1 = inner ? graphNeighbours(n, -1).at(-1)!.pos : prev.length - 1;
        for (const m of l.slice(start, i + 1))
          for (const u of layerNeighbours(m, -1))
            if (u.pos < k0 || u.pos > k1) this.conflicts.add(`${this.id(u)}>${this.id(m)}`);
        start = i + 1;
        k0 = k1;
      });
    }
  }

  alignVertically(): void {
    const order = this.v < 0 ? this.layers : [...this.layers].reverse();
    for (const l of order) {
      const prev = this.before(l[0].rank);
      if (!prev) continue;
      let last: number | null = null;
      for (const n of this.h > 0 ? l : [...l].reverse())
        for (const m of this.medians(n)) {
          if (n.align !== n) continue;
          const u = prev[m];
          const [upper, lower] = this.v > 0 ? [n, u] : [u, n];
          if (this.conflicts.has(`${this.id(upper)}>${this.id(lower)}`)) continue;
          if (last !== null && this.h * last >= this.h * m) continue;
          u.align = n;
          n.root = u.root;
          n.align = n.root;
          last = m;
        }
    }
  }

  placeBlock(root: Node): void {
    if (root.X !== null) return;
    root.X = 0;
    let w = root;
    do {
      const layer = this.layers[w.rank];
      const j = w.pos - this.h;
      if (j >= 0 && j < layer.length) {
        const prev = layer[j];
        const gap = this.xspace + (prev.width + w.width) / 2;
        const u = prev.root;
        this.placeBlock(u);
        if (root.sink === root) root.sink = u.sink;
        if (root.sink !== u.sink) u.sink.shift = Math.min(u.sink.shift, root.X - (u.X! + gap));
        else root.X = Math.max(root.X, u.X! + gap);
      }
      w = w.align;
    } while (w !== root);
  }

  compactHorizontally(slot: number): void {
    const order = this.v < 0 ? this.layers : [...this.layers].reverse();
    const along = (l: Node[]) => (this.h > 0 ? l : [...l].reverse());
    for (const l of order) for (const n of along(l)) if (n.root === n) this.placeBlock(n);
    if (this.h < 0) for (const l of order) for (const n of l) if (n.X) n.X = -n.X;
    for (const l of order)
      for (const n of along(l)) {
        const root = n.root;
        n.xs[slot] = root.X!;
        const s = root.sink.shift;
        if (s < Infinity) n.xs[slot] += this.h * s;
      }
    for (const l of this.layers)
      for (const n of l) {
        n.root = n.align = n.sink = n;
        n.shift = Infinity;
        n.X = null;
      }
  }

  coordinates(): void {
    this.markConflicts();
    const modes: Array<[1 | -1, 1 | -1]> = [
      [1, -1],
      [-1, -1],
      [1, 1],
      [-1, 1],
    ];
    for (const [slot, [h, v]] of modes.entries()) {
      this.h = h;
      this.v = v;
      this.alignVertically();
      this.compactHorizontally(slot);
    }
    let y = 0;
    for (const l of this.layers) {
      const half = BOX_HEIGHT / 2;
      for (const n of l) {
        const xs = [...n.xs].sort((a, b) => a - b);
        n.x = (xs[1] + xs[2]) / 2;
        n.y = y + half;
      }
      y += 2 * half + BOX_HEIGHT;
    }
  }

  route(): void {
    for (const e of this.edges) {
      const pts: Array<[number, number]> = [[e.from.x, e.from.y]];
      if (e.chain) for (let r = e.from.rank + 1; r < e.to.rank; r++) pts.push([e.chain.get(r)!.x, e.chain.get(r)!.y]);
      pts.push([e.to.x, e.to.y]);
      const tail = clip(e.from, pts[1]);
      const head = clip(e.to, pts[pts.length - 2]);
      pts[0] = tail;
      pts[pts.length - 1] = head;
      e.points = pts;
    }
  }
}

/** Where the segment from a box's centre towards `to` leaves the box (borders at ±⌊w/2⌋, ±1). */
function clip(n: Node, to: [number, number]): [number, number] {
  const dx = to[0] - n.x;
  const dy = to[1] - n.y;
  const hw = Math.floor(n.width / 2);
  const hh = Math.floor(BOX_HEIGHT / 2);
  const sides: Array<[number, number, number, number]> = [
    [-hw, -hh, hw, -hh],
    [hw, -hh, hw, hh],
    [-hw, hh, hw, hh],
    [-hw, hh, -hw, -hh],
  ];
  for (const [x3, y3, x4, y4] of sides) {
    const ex = x4 - x3;
    const ey = y4 - y3;
    const det = dx * ey - dy * ex;
    if (det === 0) continue;
    const s = (x3 * dy - y3 * dx) / det;
    if (s < 0 || s > 1) continue;
    const t = (x3 * ey - y3 * ex) / det;
    if (t < 0 || t > 1) continue;
    return [t * dx + n.x, t * dy + n.y];
  }
  return [n.x, n.y];
}

/**
 * Lay out one connected graph. `names` in graph order; `edges` as [upstream, downstream]
 * pairs. A box is the name with a space either side and a border: `name.length + 4` wide.
 * `bendOrder` (the same edges) is the order long edges get their bend points in; by
 * default the edge order (DVC's is its edge set's, see above).
 */
export function layoutDag(
  names: string[],
  edges: Array<[string, string]>,
  bendOrder?: Array<[string, string]>,
): Layout {
  const width = (s: string) => [...s].length + 4;
  const byName = new Map<string, Node>();
  for (const s of names) if (!byName.has(s)) byName.set(s, newNode(s, width(s)));
  const es: Edge[] = edges.map(([a, b]) => ({ from: byName.get(a)!, to: byName.get(b)!, chain: null, points: [] }));
  for (const e of es) {
    e.from.edges.push(e);
    e.to.edges.push(e);
  }
  // Nodes in the order their groups were joined edge by edge (a box alone keeps its place).
  const group = new Map<Node, Node[]>([...byName.values()].map((n) => [n, [n]]));
  for (const e of es) {
    const a = group.get(e.from)!;
    const b = group.get(e.to)!;
    if (a === b) continue;
    a.push(...b);
    for (const n of b) group.set(n, a);
  }
  const ordered = group.get([...byName.values()][0])!;
  const widths = ordered.map((n) => n.width).sort((a, b) => a - b);
  const layered = new Layered(ordered, es, widths[0], widths[Math.floor(widths.length / 2)]);
  layered.rank();
  const find = ([a, b]: [string, string]) => es.find((e) => e.from.label === a && e.to.label === b)!;
  layered.bendPoints(bendOrder ? bendOrder.map(find) : es);
  layered.sweep(false);
  layered.sweep(true);
  layered.coordinates();
  layered.route();
  return {
    boxes: ordered.map((n) => ({ label: n.label!, width: n.width, x: n.x, y: n.y })),
    lines: es.map((e) => e.points),
  };
}
