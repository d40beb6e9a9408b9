/**
 * The pipeline: dvc.yaml's stages as a graph (upstream on the left), each box coloured by
 * its state (up to date, changed, never run, frozen), and below it every stage with the
 * reasons it would run again; then the params and metrics that differ from the last commit.
 */
import { api } from './api';
import { Empty, Show, Title, usePageTitle } from './common';
import { useLoad } from './hooks';

interface StageView {
  name: string;
  kind: 'stage' | 'dvcfile';
  cmd: string | null;
  state: 'up to date' | 'changed' | 'never run' | 'frozen';
  reasons: string[];
  deps: string[];
  outs: string[];
}

interface DiffView {
  path: string;
  key: string;
  old: string | null;
  new: string | null;
  change: string | null;
}

interface PipelineView {
  root: string;
  stages: StageView[];
  edges: Array<[string, string]>;
  params: DiffView[];
  metrics: DiffView[];
  diffNote: string | null;
}

const STATE_CLASS: Record<StageView['state'], string> = {
  'up to date': 'st-up',
  changed: 'st-changed',
  'never run': 'st-never',
  frozen: 'st-frozen',
};
const FILL: Record<StageView['state'], [string, string]> = {
  'up to date': ['#ecfdf3', '#12b76a'],
  changed: ['#fef3f2', '#d92d20'],
  'never run': ['#eff8ff', '#2e90fa'],
  frozen: ['#f2f4f7', '#98a2b3'],
};

/** Layers by longest path from a source; order within a layer by the parents' order. */
function layout(stages: StageView[], edges: Array<[string, string]>) {
  const ups = new Map<string, string[]>(stages.map((s) => [s.name, []]));
  for (const [u, d] of edges) ups.get(d)?.push(u);
  const layer = new Map<string, number>();
  const depth = (n: string, seen = new Set<string>()): number => {
    if (layer.has(n)) return layer.get(n)!;
    if (seen.has(n)) return 0;
    seen.add(n);
    const l = Math.max(-1, ...(ups.get(n) ?? []).map((u) => depth(u, seen))) + 1;
    layer.set(n, l);
    return l;
  };
  stages.forEach((s) => depth(s.name));
  const cols: string[][] = [];
  for (const s of stages) (cols[layer.get(s.name)!] ??= []).push(s.name);
  return { cols, layer };
}

function Dag({ p }: { p: PipelineView }) {
  const { cols } = layout(p.stages, p.edges);
  const bw = 170;
  const bh = 40;
  const gx = 60;
  const gy = 18;
  const pos = new Map<string, { x: number; y: number }>();
  const rows = Math.max(...cols.map((c) => c.length));
  cols.forEach((c, i) =>
    c.forEach((n, j) =>
      pos.set(n, { x: 10 + i * (bw + gx), y: 10 + j * (bh + gy) + ((rows - c.length) * (bh + gy)) / 2 }),
    ),
  );
  const W = 20 + cols.length * (bw + gx) - gx;
  const H = 20 + rows * (bh + gy) - gy;
  const byName = new Map(p.stages.map((s) => [s.name, s]));
  return (
    <div class="chart dag scroll-x" data-testid="dag">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        style={{ minWidth: `${Math.min(W, 640)}px` }}
        role="img"
        aria-label="pipeline graph"
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" fill="#98a2b3" />
          </marker>
        </defs>
        {p.edges.map(([u, d]) => {
          const a = pos.get(u)!;
          const b = pos.get(d)!;
          const x1 = a.x + bw;
          const y1 = a.y + bh / 2;
          const x2 = b.x;
          const y2 = b.y + bh / 2;
          const mx = (x1 + x2) / 2;
          return (
            <path
              key={`${u}>${d}`}
              d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`}
              fill="none"
              stroke="#98a2b3"
              marker-end="url(#arrow)"
            />
          );
        })}
        {[...pos.entries()].map(([n, { x, y }]) => {
          const s = byName.get(n)!;
          const [fill, stroke] = FILL[s.state];
          return (
            <a key={n} href={`#stage-${encodeURIComponent(n)}`} class="node">
              <rect x={x} y={y} width={bw} height={bh} rx="8" fill={fill} stroke={stroke} />
              <text x={x + bw / 2} y={y + 17} text-anchor="middle" style={{ fill: '#1d2330', fontWeight: 600 }}>
                {n.length > 24 ? n.slice(0, 23) + '…' : n}
              </text>
              <text x={x + bw / 2} y={y + 32} text-anchor="middle">
                {s.state}
              </text>
              <title>{`${n}: ${s.state}${s.reasons.length ? '\n' + s.reasons.join('\n') : ''}`}</title>
            </a>
          );
        })}
      </svg>
    </div>
  );
}

function DiffTable({ rows, testid, metric }: { rows: DiffView[]; testid: string; metric?: boolean }) {
  if (rows.length === 0) return <Empty>No change since the last commit.</Empty>;
  return (
    <div class="table-wrap">
      <table class="grid" data-testid={testid}>
        <thead>
          <tr>
            <th>Path</th>
            <th>{metric ? 'Metric' : 'Param'}</th>
            <th>HEAD</th>
            <th>Workspace</th>
            {metric ? <th>Change</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.path + r.key}>
              <td class="mono">{r.path}</td>
              <td>{r.key}</td>
              <td class="wrap">{r.old ?? '-'}</td>
              <td class="wrap">{r.new ?? '-'}</td>
              {metric ? <td class="num">{r.change ?? '-'}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function PipelinePage() {
  usePageTitle('Pipeline');
  const l = useLoad(() => api<PipelineView>('pipeline'), []);
  return (
    <section>
      <Title sub={l.data ? <span class="muted mono">{l.data.root}</span> : null}>Pipeline</Title>
      <Show l={l}>
        {(p) =>
          p.stages.length === 0 ? (
            <Empty>dvc.yaml has no stages.</Empty>
          ) : (
            <>
              <p>
                {(['up to date', 'changed', 'never run', 'frozen'] as const).map((s) => {
                  const n = p.stages.filter((x) => x.state === s).length;
                  return n ? (
                    <span class={`status ${STATE_CLASS[s]}`} style={{ marginRight: '6px' }}>
                      {n} {s}
                    </span>
                  ) : null;
                })}
              </p>
              <Dag p={p} />
              <h2>Stages</h2>
              <div class="cards" data-testid="stages">
                {p.stages.map((s) => (
                  <div class="card" id={`stage-${encodeURIComponent(s.name)}`} data-stage={s.name} key={s.name}>
                    <h3>
                      {s.name} <span class={`status ${STATE_CLASS[s.state]}`}>{s.state}</span>
                    </h3>
                    {s.cmd ? <p class="mono wrap">{s.cmd}</p> : null}
                    {s.reasons.length ? (
                      <ul class="reasons">
                        {s.reasons.map((r) => (
                          <li>{r}</li>
                        ))}
                      </ul>
                    ) : (
                      <p class="muted">Nothing changed since it last ran.</p>
                    )}
                    <details>
                      <summary class="muted">
                        {s.deps.length} deps, {s.outs.length} outs
                      </summary>
                      <p class="mono small">deps: {s.deps.join(', ') || '-'}</p>
                      <p class="mono small">outs: {s.outs.join(', ') || '-'}</p>
                    </details>
                  </div>
                ))}
              </div>
              <h2>Params changed since the last commit</h2>
              {p.diffNote ? <p class="note">{p.diffNote}</p> : <DiffTable rows={p.params} testid="params-diff" />}
              <h2>Metrics changed since the last commit</h2>
              {p.diffNote ? null : <DiffTable rows={p.metrics} testid="metrics-diff" metric />}
            </>
          )
        }
      </Show>
    </section>
  );
}
