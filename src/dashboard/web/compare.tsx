/**
 * Compare runs: the chosen runs side by side (differences marked), a scatter of any two
 * metrics or params, and parallel coordinates over the params that vary (tuning trials),
 * coloured by a metric. `#/compare?ids=a,b,c` or `#/compare?parent=<run>&exp=<id>` (a
 * tuning run's trials).
 */
import { useState } from 'preact/hooks';
import { api, qs, type RunRow, type RunsPage } from './api';
import { ParallelCoordinates, Scatter } from './charts';
import { Empty, Show, Title, usePageTitle } from './common';
import { fmtNum } from './format';
import { useLoad } from './hooks';
import { href, type Route } from './router';

type Key = `metric:${string}` | `param:${string}`;

function valueOf(r: RunRow, k: Key): number | string | undefined {
  const [kind, ...rest] = k.split(':');
  const name = rest.join(':');
  if (kind === 'metric') return r.metrics[name];
  const v = r.params[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? n : v;
}

const numeric = (runs: RunRow[], k: Key) => runs.some((r) => typeof valueOf(r, k) === 'number');

export function ComparePage({ route }: { route: Route }) {
  usePageTitle('Compare runs');
  const ids = route.query.get('ids') ?? '';
  const parent = route.query.get('parent');
  const exp = route.query.get('exp');
  const l = useLoad(async () => {
    if (parent && exp) {
      const p = await api<RunsPage>(`runs${qs({ experiment_ids: exp, parent, max_results: 500, nest: 0 })}`);
      return p.runs;
    }
    if (!ids) return [];
    return (await api<{ runs: RunRow[] }>(`compare${qs({ ids })}`)).runs;
  }, [ids, parent, exp]);
  return (
    <section>
      <Title sub={exp ? <a href={href(['experiments', exp])}>back to the runs</a> : null}>
        {parent ? 'Tuning trials' : 'Compare runs'}
      </Title>
      <Show l={l}>
        {(runs) =>
          runs.length < 2 ? (
            <Empty>Pick two runs or more in a runs table, then Compare.</Empty>
          ) : (
            <Comparison runs={runs} />
          )
        }
      </Show>
    </section>
  );
}

function Comparison({ runs }: { runs: RunRow[] }) {
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const keys: Key[] = [...metricKeys.map((k) => `metric:${k}` as Key), ...paramKeys.map((k) => `param:${k}` as Key)];
  const numericKeys = keys.filter((k) => numeric(runs, k));
  const varying = paramKeys
    .map((k) => `param:${k}` as Key)
    .filter((k) => new Set(runs.map((r) => String(valueOf(r, k)))).size > 1);
  const firstMetric = metricKeys[0] ? (`metric:${metricKeys[0]}` as Key) : numericKeys[0];
  const [x, setX] = useState<Key | undefined>(
    varying.find((k) => numeric(runs, k)) ?? numericKeys[1] ?? numericKeys[0],
  );
  const [y, setY] = useState<Key | undefined>(firstMetric);
  const [color, setColor] = useState<Key | undefined>(firstMetric);
  const label = (k: Key) => k.replace(':', ' ');
  const pts =
    x && y
      ? runs
          .map((r) => ({ r, vx: valueOf(r, x), vy: valueOf(r, y) }))
          .filter(
            (p): p is { r: RunRow; vx: number; vy: number } => typeof p.vx === 'number' && typeof p.vy === 'number',
          )
          .map((p) => ({
            x: p.vx,
            y: p.vy,
            label: `${p.r.name}: ${fmtNum(p.vx)}, ${fmtNum(p.vy)}`,
            href: href(['runs', p.r.id]),
          }))
      : [];
  const pcDims = [...varying, ...(color && !varying.includes(color) ? [color] : [])].slice(-12);
  const select = (value: Key | undefined, set: (k: Key) => void, name: string, only: Key[]) => (
    <label>
      {name}{' '}
      <select aria-label={name} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value as Key)}>
        {only.map((k) => (
          <option value={k}>{label(k)}</option>
        ))}
      </select>
    </label>
  );
  return (
    <>
      <h2>Scatter</h2>
      <div class="axes">
        {select(x, setX, 'x axis', numericKeys)}
        {select(y, setY, 'y axis', numericKeys)}
      </div>
      {pts.length ? (
        <Scatter points={pts} xLabel={x ? label(x) : ''} yLabel={y ? label(y) : ''} testid="scatter" />
      ) : (
        <Empty>No run has numbers on both axes.</Empty>
      )}
      <h2>Parallel coordinates</h2>
      {pcDims.length >= 2 ? (
        <>
          <div class="axes">{select(color, setColor, 'colour by', numericKeys)}</div>
          <ParallelCoordinates
            testid="parallel"
            dims={pcDims.map((k) => ({ label: label(k), values: runs.map((r) => valueOf(r, k)) }))}
            rows={runs.map((r) => ({ label: r.name, href: href(['runs', r.id]) }))}
          />
          <p class="hint muted">
            Axes: the params that differ between these runs, then {color ? label(color) : 'a metric'} (the line colour).
          </p>
        </>
      ) : (
        <Empty>The runs' params do not differ; nothing to draw.</Empty>
      )}
      <h2>Side by side</h2>
      <div class="table-wrap">
        <table class="grid" data-testid="compare-table">
          <thead>
            <tr>
              <th />
              {runs.map((r) => (
                <th key={r.id}>
                  <a href={href(['runs', r.id])}>{r.name || r.id.slice(0, 8)}</a>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => {
              const vals = runs.map((r) => valueOf(r, k));
              const differ = new Set(vals.map(String)).size > 1;
              return (
                <tr key={k} class={differ ? 'differ' : ''}>
                  <td class={k.startsWith('metric') ? 'kind-metric' : 'kind-param'}>{label(k)}</td>
                  {vals.map((v, i) => (
                    <td key={i} class={typeof v === 'number' ? 'num' : ''}>
                      {typeof v === 'number' ? fmtNum(v) : (v ?? '')}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
