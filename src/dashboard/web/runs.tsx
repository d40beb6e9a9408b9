/**
 * The runs table of one experiment: params and metrics as columns (chosen, remembered per
 * experiment), sorting by any column on the server (MLflow order_by), MLflow's filter
 * syntax, pages from the server (Next / Previous keep the page tokens), nested runs folded
 * under their parent, and a selection to compare. The state lives in the URL.
 */
import { useState } from 'preact/hooks';
import { api, qs, type Experiment, type RunRow, type RunsPage } from './api';
import { ErrorBox, Show, Title, usePageTitle } from './common';
import { fmtDuration, fmtNum, fmtTime } from './format';
import { useLoad, useStored } from './hooks';
import { href, navigate, type Route } from './router';

interface Column {
  id: string;
  kind: 'metric' | 'param' | 'tag';
  key: string;
}

const colId = (c: Omit<Column, 'id'>) => `${c.kind}:${c.key}`;

function orderKey(c: Column): string {
  const kind = c.kind === 'metric' ? 'metrics' : c.kind === 'param' ? 'params' : 'tags';
  return `${kind}.\`${c.key}\``;
}

const ATTR_SORTS: Record<string, string> = {
  start: 'attributes.start_time',
  name: 'attributes.run_name',
  status: 'attributes.status',
};

export function RunsPage({ experimentId, route }: { experimentId: string; route: Route }) {
  const q = route.query;
  const filter = q.get('filter') ?? '';
  const order = q.get('order') ?? 'attributes.start_time DESC';
  const size = Number(q.get('size') ?? '50') || 50;
  const tokens = (q.get('pages') ?? '').split(',').filter(Boolean);
  const [draft, setDraft] = useState(filter);
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const [selected, setSelected] = useState<Record<string, boolean>>({});
  const [chooser, setChooser] = useState(false);
  const [stored, setStored] = useStored<string[] | null>(`carprice.cols.${experimentId}`, null);

  const exp = useLoad(async () => {
    const r = await api<{ experiments: Experiment[] }>('experiments?view=all');
    return r.experiments.find((e) => e.id === experimentId);
  }, [experimentId]);
  usePageTitle(exp.data ? `Runs of ${exp.data.name}` : 'Runs');

  const pageToken = tokens[tokens.length - 1];
  const l = useLoad(
    () =>
      api<RunsPage>(
        'runs' +
          qs({ experiment_ids: experimentId, filter, order_by: order, page_token: pageToken, max_results: size }),
      ),
    [experimentId, filter, order, pageToken, size],
  );

  const go = (patch: Record<string, string | null>) => {
    const next: Record<string, string | null> = {
      filter: filter || null,
      order: order === 'attributes.start_time DESC' ? null : order,
      size: size === 50 ? null : String(size),
      pages: tokens.join(',') || null,
      ...patch,
    };
    navigate(href(['experiments', experimentId], next));
  };

  const allCols = (d: RunsPage): Column[] => [
    ...d.metricKeys.map((key) => ({ id: colId({ kind: 'metric', key }), kind: 'metric' as const, key })),
    ...d.paramKeys.map((key) => ({ id: colId({ kind: 'param', key }), kind: 'param' as const, key })),
    ...d.tagKeys.map((key) => ({ id: colId({ kind: 'tag', key }), kind: 'tag' as const, key })),
  ];
  const shownCols = (d: RunsPage): Column[] => {
    const all = allCols(d);
    if (stored) return stored.map((id) => all.find((c) => c.id === id)).filter((c): c is Column => Boolean(c));
    const metrics = all.filter((c) => c.kind === 'metric').slice(0, 6);
    const params = all.filter((c) => c.kind === 'param').slice(0, 4);
    return [...metrics, ...params];
  };

  const sortBy = (key: string) => {
    const [cur, dir] = order.split(/ (?=ASC$|DESC$)/);
    const nextDir = cur === key && dir === 'DESC' ? 'ASC' : 'DESC';
    go({ order: `${key} ${nextDir}`, pages: null });
  };
  const sortMark = (key: string) => {
    const [cur, dir] = order.split(/ (?=ASC$|DESC$)/);
    return cur === key ? (dir === 'ASC' ? ' ▲' : ' ▼') : '';
  };
  const ariaSort = (key: string) => {
    const [cur, dir] = order.split(/ (?=ASC$|DESC$)/);
    return cur === key ? (dir === 'ASC' ? 'ascending' : 'descending') : undefined;
  };

  const picked = Object.keys(selected).filter((k) => selected[k]);

  return (
    <section>
      <Title sub={exp.data ? <span class="muted">experiment {experimentId}</span> : null}>
        {exp.data ? exp.data.name : `Experiment ${experimentId}`}
      </Title>
      <form
        class="filter"
        onSubmit={(e) => {
          e.preventDefault();
          go({ filter: draft.trim() || null, pages: null });
        }}
      >
        <input
          type="search"
          name="filter"
          aria-label="Filter runs"
          placeholder="metrics.rmse < 1 and params.algo = 'ridge'"
          value={draft}
          onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Search</button>
        {filter ? (
          <button
            type="button"
            class="ghost"
            onClick={() => {
              setDraft('');
              go({ filter: null, pages: null });
            }}
          >
            Clear
          </button>
        ) : null}
      </form>
      <p class="hint muted">
        MLflow filter syntax: <code>metrics.rmse &lt; 1</code>, <code>params.algo = 'ridge'</code>,{' '}
        <code>tags.stage LIKE 'tune%'</code>, <code>attributes.status = 'FINISHED'</code>, joined by <code>and</code>.
      </p>
      <Show l={l}>
        {(d) => {
          const cols = shownCols(d);
          const all = allCols(d);
          const rows: Array<{ r: RunRow; depth: number }> = [];
          for (const r of d.runs) {
            rows.push({ r, depth: 0 });
            if (r.children && open[r.id]) for (const c of r.children) rows.push({ r: c, depth: 1 });
          }
          return (
            <>
              <div class="toolbar">
                <button type="button" onClick={() => setChooser(!chooser)} aria-expanded={chooser}>
                  Columns ({cols.length}/{all.length})
                </button>
                <button
                  type="button"
                  disabled={picked.length < 2}
                  onClick={() => navigate(href(['compare'], { ids: picked.join(','), exp: experimentId }))}
                >
                  Compare {picked.length ? `(${picked.length})` : ''}
                </button>
                <label class="size">
                  Rows{' '}
                  <select
                    value={String(size)}
                    onChange={(e) => go({ size: (e.target as HTMLSelectElement).value, pages: null })}
                  >
                    {[25, 50, 100, 250].map((n) => (
                      <option value={String(n)}>{n}</option>
                    ))}
                  </select>
                </label>
              </div>
              {chooser ? (
                <fieldset class="chooser" data-testid="column-chooser">
                  <legend>Columns</legend>
                  {all.map((c) => {
                    const on = cols.some((x) => x.id === c.id);
                    return (
                      <label key={c.id}>
                        <input
                          type="checkbox"
                          checked={on}
                          onChange={() => {
                            const ids = cols.map((x) => x.id);
                            setStored(on ? ids.filter((x) => x !== c.id) : [...ids, c.id]);
                          }}
                        />{' '}
                        <span class={`kind-${c.kind}`}>{c.kind}</span> {c.key}
                      </label>
                    );
                  })}
                  <button type="button" class="ghost" onClick={() => setStored(null)}>
                    Defaults
                  </button>
                </fieldset>
              ) : null}
              {l.loading ? <div class="busy" aria-hidden="true" /> : null}
              {d.runs.length === 0 ? (
                <p class="empty">{filter ? 'No run matches this filter.' : 'No runs in this experiment yet.'}</p>
              ) : (
                <div class="table-wrap">
                  <table class="grid runs" data-testid="runs">
                    <thead>
                      <tr>
                        <th class="sel" />
                        <th aria-sort={ariaSort(ATTR_SORTS.name)}>
                          <button class="sort" onClick={() => sortBy(ATTR_SORTS.name)}>
                            Run{sortMark(ATTR_SORTS.name)}
                          </button>
                        </th>
                        <th aria-sort={ariaSort(ATTR_SORTS.start)}>
                          <button class="sort" onClick={() => sortBy(ATTR_SORTS.start)}>
                            Started{sortMark(ATTR_SORTS.start)}
                          </button>
                        </th>
                        <th class="hide-sm">Duration</th>
                        <th class="hide-sm" aria-sort={ariaSort(ATTR_SORTS.status)}>
                          <button class="sort" onClick={() => sortBy(ATTR_SORTS.status)}>
                            Status{sortMark(ATTR_SORTS.status)}
                          </button>
                        </th>
                        {cols.map((c) => (
                          <th key={c.id} class={`kind-${c.kind}`} aria-sort={ariaSort(orderKey(c))}>
                            <button class="sort" title={`${c.kind} ${c.key}`} onClick={() => sortBy(orderKey(c))}>
                              {c.key}
                              {sortMark(orderKey(c))}
                            </button>
                          </th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map(({ r, depth }) => (
                        <tr key={r.id} class={depth ? 'child' : ''} data-run={r.id}>
                          <td class="sel">
                            <input
                              type="checkbox"
                              aria-label={`select ${r.name}`}
                              checked={Boolean(selected[r.id])}
                              onChange={() => setSelected({ ...selected, [r.id]: !selected[r.id] })}
                            />
                          </td>
                          <td class="name">
                            {depth ? <span class="indent">↳ </span> : null}
                            {r.children ? (
                              <button
                                class="fold"
                                aria-expanded={Boolean(open[r.id])}
                                aria-label={`${open[r.id] ? 'fold' : 'unfold'} ${r.children.length} child runs`}
                                onClick={() => setOpen({ ...open, [r.id]: !open[r.id] })}
                              >
                                {open[r.id] ? '▾' : '▸'} {r.children.length}
                              </button>
                            ) : null}
                            <a class="run" href={href(['runs', r.id])}>
                              {r.name || r.id.slice(0, 8)}
                            </a>
                            {r.children ? (
                              <a
                                class="trials muted"
                                href={href(['compare'], { parent: r.id, exp: experimentId })}
                                title="compare this run's trials (parallel coordinates)"
                              >
                                {' '}
                                ⫶ compare trials
                              </a>
                            ) : null}
                            {depth === 0 && r.parentId ? (
                              <a class="parent muted" href={href(['runs', r.parentId])} title="parent run">
                                {' '}
                                ↰
                              </a>
                            ) : null}
                          </td>
                          <td>{fmtTime(r.start)}</td>
                          <td class="hide-sm">{fmtDuration(r.start, r.end)}</td>
                          <td class="hide-sm">
                            <span class={`status s-${r.status.toLowerCase()}`}>{r.status}</span>
                          </td>
                          {cols.map((c) => (
                            <td key={c.id} class={c.kind === 'metric' ? 'num' : ''}>
                              {c.kind === 'metric'
                                ? fmtNum(r.metrics[c.key])
                                : c.kind === 'param'
                                  ? (r.params[c.key] ?? '')
                                  : (r.tags[c.key] ?? '')}
                            </td>
                          ))}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <nav class="pager" aria-label="pages">
                <button
                  type="button"
                  disabled={tokens.length === 0}
                  onClick={() => go({ pages: tokens.slice(0, -1).join(',') || null })}
                >
                  ← Previous
                </button>
                <span class="muted">page {tokens.length + 1}</span>
                <button
                  type="button"
                  disabled={!d.nextPageToken || d.runs.length === 0}
                  onClick={() => go({ pages: [...tokens, d.nextPageToken!].join(',') })}
                >
                  Next →
                </button>
              </nav>
            </>
          );
        }}
      </Show>
      {l.error && l.data ? <ErrorBox error={l.error} /> : null}
    </section>
  );
}
