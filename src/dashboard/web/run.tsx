/** One run: its facts, params, metrics (with history charts), tags and artifacts (browse, preview, download). */
import { useState } from 'preact/hooks';
import { api, qs, type RunRow } from './api';
import { LineChart } from './charts';
import { Empty, ErrorBox, Show, Title, usePageTitle } from './common';
import { fmtBytes, fmtDuration, fmtNum, fmtTime } from './format';
import { useLoad } from './hooks';
import { href } from './router';

interface RunDetail {
  run: RunRow & { artifactUri: string; lifecycleStage: string };
  experiment: { id: string; name: string };
  datasets: Array<{ name: string; digest: string; source: string }>;
}

interface FileInfo {
  path: string;
  isDir: boolean;
  fileSize?: number;
}

export function RunPage({ runId }: { runId: string }) {
  const l = useLoad(() => api<RunDetail>(`runs/${encodeURIComponent(runId)}`), [runId]);
  const [tab, setTab] = useState<'overview' | 'charts' | 'artifacts'>('overview');
  usePageTitle(l.data ? `Run ${l.data.run.name}` : 'Run');
  return (
    <Show l={l}>
      {(d) => (
        <section>
          <p class="crumbs">
            <a href={href(['experiments', d.experiment.id])}>{d.experiment.name}</a> ›
          </p>
          <Title sub={<span class={`status s-${d.run.status.toLowerCase()}`}>{d.run.status}</span>}>
            {d.run.name || d.run.id}
          </Title>
          <div class="tabs" role="tablist">
            {(['overview', 'charts', 'artifacts'] as const).map((t) => (
              <button role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
                {t === 'overview' ? 'Overview' : t === 'charts' ? 'Metric charts' : 'Artifacts'}
              </button>
            ))}
          </div>
          {tab === 'overview' ? (
            <Overview d={d} />
          ) : tab === 'charts' ? (
            <Charts run={d.run} />
          ) : (
            <Artifacts runId={d.run.id} />
          )}
        </section>
      )}
    </Show>
  );
}

function Overview({ d }: { d: RunDetail }) {
  const r = d.run;
  const tags = Object.entries(r.tags).filter(
    ([k]) => !k.startsWith('mlflow.') || k === 'mlflow.source.git.commit' || k === 'mlflow.note.content',
  );
  return (
    <div class="cards">
      <div class="card">
        <h2>Run</h2>
        <dl class="kv">
          <dt>ID</dt>
          <dd class="mono">{r.id}</dd>
          <dt>Started</dt>
          <dd>{fmtTime(r.start)}</dd>
          <dt>Duration</dt>
          <dd>{fmtDuration(r.start, r.end)}</dd>
          <dt>User</dt>
          <dd>{r.user}</dd>
          {r.parentId ? (
            <>
              <dt>Parent</dt>
              <dd>
                <a href={href(['runs', r.parentId])}>{r.parentId.slice(0, 8)}</a>
              </dd>
            </>
          ) : null}
          <dt>Artifacts</dt>
          <dd class="mono">{r.artifactUri}</dd>
          {d.datasets.map((ds) => (
            <>
              <dt>Dataset</dt>
              <dd>
                {ds.name} <span class="muted mono">{ds.digest}</span>
              </dd>
            </>
          ))}
        </dl>
      </div>
      <div class="card">
        <h2>Metrics</h2>
        {Object.keys(r.metrics).length === 0 ? (
          <Empty>No metrics.</Empty>
        ) : (
          <table class="grid" data-testid="metrics">
            <tbody>
              {Object.keys(r.metrics)
                .sort()
                .map((k) => (
                  <tr>
                    <td class="wrap">{k}</td>
                    <td class="num">{fmtNum(r.metrics[k])}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        )}
      </div>
      <div class="card">
        <h2>Parameters</h2>
        {Object.keys(r.params).length === 0 ? (
          <Empty>No parameters.</Empty>
        ) : (
          <table class="grid" data-testid="params">
            <tbody>
              {Object.keys(r.params)
                .sort()
                .map((k) => (
                  <tr>
                    <td class="wrap">{k}</td>
                    <td class="wrap">{r.params[k]}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        )}
      </div>
      <div class="card">
        <h2>Tags</h2>
        {tags.length === 0 ? (
          <Empty>No tags.</Empty>
        ) : (
          <table class="grid" data-testid="tags">
            <tbody>
              {tags.map(([k, v]) => (
                <tr>
                  <td class="wrap">{k}</td>
                  <td class="wrap">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

function Charts({ run }: { run: RunRow }) {
  const keys = Object.keys(run.metrics).sort();
  type History = { history: Record<string, Array<[number, number, number | string]>> };
  const l = useLoad<History>(
    () =>
      keys.length
        ? api<History>(`runs/${encodeURIComponent(run.id)}/metric-history${qs({ keys: keys.join(',') })}`)
        : Promise.resolve({ history: {} }),
    [run.id],
  );
  if (keys.length === 0) return <Empty>This run logged no metrics.</Empty>;
  return (
    <Show l={l}>
      {(d) => (
        <div class="cards">
          {keys.map((k) => {
            const pts = (d.history[k] ?? [])
              .filter((p): p is [number, number, number] => typeof p[2] === 'number')
              .map((p) => [p[0], p[2]] as [number, number]);
            return pts.length > 1 ? (
              <LineChart key={k} title={k} xLabel="step" series={[{ label: k, points: pts }]} />
            ) : (
              <div class="card" key={k}>
                <h3>{k}</h3>
                <p class="muted">one value: {fmtNum(pts[0]?.[1] ?? (d.history[k]?.[0]?.[2] as number))}</p>
              </div>
            );
          })}
        </div>
      )}
    </Show>
  );
}

const TEXT =
  /\.(txt|md|csv|tsv|ya?ml|log|py|toml|ini|cfg|json)$|(^|\/)(MLmodel|requirements\.txt|conda\.yaml|[^./]+)$/i;
const IMAGE = /\.(png|jpe?g|gif)$/i;

function Artifacts({ runId }: { runId: string }) {
  const [dir, setDir] = useState('');
  const [file, setFile] = useState<FileInfo | null>(null);
  const l = useLoad(
    () => api<{ files: FileInfo[] }>(`runs/${encodeURIComponent(runId)}/artifacts${qs({ path: dir })}`),
    [runId, dir],
  );
  const up = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '';
  const url = (p: string, extra: Record<string, string> = {}) =>
    `/ui/api/runs/${encodeURIComponent(runId)}/artifact${qs({ path: p, ...extra })}`;
  return (
    <div class="artifacts">
      <div class="card">
        <p class="mono muted">/{dir}</p>
        <Show l={l}>
          {(d) =>
            d.files.length === 0 && !dir ? (
              <Empty>No artifacts.</Empty>
            ) : (
              <ul data-testid="artifact-list">
                {dir ? (
                  <li>
                    <button onClick={() => (setDir(up), setFile(null))}>..</button>
                  </li>
                ) : null}
                {d.files.map((f) => {
                  const name = f.path.split('/').pop()!;
                  return (
                    <li key={f.path}>
                      {f.isDir ? (
                        <button onClick={() => (setDir(f.path), setFile(null))}>📁 {name}/</button>
                      ) : (
                        <button onClick={() => setFile(f)} aria-current={file?.path === f.path}>
                          {name} <span class="muted">{fmtBytes(f.fileSize)}</span>
                        </button>
                      )}
                    </li>
                  );
                })}
              </ul>
            )
          }
        </Show>
      </div>
      <div class="card" data-testid="artifact-preview">
        {file ? (
          <>
            <div class="toolbar">
              <strong class="mono">{file.path}</strong>
              <a class="button-link" href={url(file.path, { download: '1' })} download>
                Download
              </a>
            </div>
            <Preview path={file.path} url={url(file.path, { preview: '1' })} imgUrl={url(file.path)} />
          </>
        ) : (
          <p class="muted">Pick a file to preview it.</p>
        )}
      </div>
    </div>
  );
}

function Preview({ path, url, imgUrl }: { path: string; url: string; imgUrl: string }) {
  const image = IMAGE.test(path);
  const text = !image && TEXT.test(path);
  const l = useLoad(async () => {
    if (!text) return null;
    const r = await fetch(url, { credentials: 'same-origin' });
    if (!r.ok)
      throw new Error(((await r.json().catch(() => ({}))) as { message?: string }).message ?? `HTTP ${r.status}`);
    let body = await r.text();
    if (/\.json$/i.test(path))
      try {
        body = JSON.stringify(JSON.parse(body), null, 2);
      } catch {
        // shown as it is
      }
    return { body, truncated: r.headers.get('x-carprice-truncated') };
  }, [url]);
  if (image) return <img class="preview" src={imgUrl} alt={path} />;
  if (!text) return <p class="muted">No preview for this kind of file; download it.</p>;
  if (l.error) return <ErrorBox error={l.error} />;
  if (!l.data) return <p class="muted">Loading…</p>;
  return (
    <>
      {l.data.truncated ? (
        <p class="note">Showing the first {fmtBytes(Number(l.data.truncated))}; download for the rest.</p>
      ) : null}
      <pre class="preview">{l.data.body}</pre>
    </>
  );
}
