/**
 * The registry: registered models; per model its versions (stage, aliases, test status,
 * test metrics), the promotion history, and per version its model card, test report
 * (gates, behaviour checks, champion comparison, error by slice) and, when the server can
 * score it, predicted-vs-actual and residual plots. Promote and roll back appear only for a
 * signed-in user on a server that manages the registry; both ask for a reason.
 */
import { useState } from 'preact/hooks';
import type { HistoryEntry, VersionRow } from '../wire';
import { api, type Session } from './api';
import { Bars, Scatter } from './charts';
import { Empty, ErrorBox, Show, Title, usePageTitle } from './common';
import { fmtNum, fmtPrice, fmtTime } from './format';
import { useLoad } from './hooks';
import { href, navigate, type Route } from './router';

interface ModelSummary {
  name: string;
  description: string;
  updated: number;
  aliases: Array<{ alias: string; version: string }>;
  latest: Array<{ version: string; stage: string }>;
}

interface ModelDetail {
  name: string;
  description: string;
  aliases: Array<{ alias: string; version: string }>;
  tags: Record<string, string>;
  listing: { name: string; versions: VersionRow[]; consistent: boolean; note: string | null };
  history: HistoryEntry[] | null;
}

interface Slice {
  column: string;
  value: string;
  n: number;
  mae: number;
  mape: number;
  flagged: boolean;
}

interface Report {
  passed: boolean;
  failures: string[];
  testedAt: string;
  metrics: Record<string, number>;
  gates: Array<{ name: string; value: number; threshold: number; passed: boolean }>;
  champion: { version: string; passed: boolean; detail: string } | null;
  championNote: string | null;
  behaviour: Array<{ name: string; passed: boolean; detail: string }>;
  slices: { overall: { n: number; mae: number; mape: number }; slices: Slice[]; flagged: Slice[] };
  data: { source: string; rows: number };
}

interface VersionDetail {
  version: {
    name: string;
    version: string;
    stage: string;
    runId: string | null;
    source: string;
    created: number;
    description: string;
    tags: Record<string, string>;
  };
  report: Report | null;
  card: {
    intendedUse?: string;
    limitations?: string[];
    model?: { algo: string };
    training?: { rows: number; source: string };
  } | null;
  cardMarkdown: string | null;
}

export function ModelsPage() {
  usePageTitle('Models');
  const l = useLoad(() => api<{ models: ModelSummary[] }>('models'), []);
  return (
    <section>
      <Title>Registered models</Title>
      <Show l={l}>
        {(d) =>
          d.models.length === 0 ? (
            <Empty>No registered model yet. `carprice repro` registers one at the end of the pipeline.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="grid" data-testid="models">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Latest versions</th>
                    <th>Aliases</th>
                    <th class="hide-sm">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {d.models.map((m) => (
                    <tr key={m.name}>
                      <td>
                        <a href={href(['models', m.name])}>{m.name}</a>
                      </td>
                      <td>
                        {m.latest.map((v) => (
                          <span class="badge">
                            v{v.version} {v.stage}
                          </span>
                        ))}
                      </td>
                      <td>
                        {m.aliases.map((a) => (
                          <span class="badge">
                            @{a.alias} → v{a.version}
                          </span>
                        ))}
                      </td>
                      <td class="hide-sm">{fmtTime(m.updated)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </section>
  );
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

export function ModelPage({ name, session, route }: { name: string; session: Session; route: Route }) {
  usePageTitle(`Model ${name}`);
  const l = useLoad(() => api<ModelDetail>(`models/${encodeURIComponent(name)}`), [name]);
  const picked = route.query.get('v');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<Error | null>(null);
  const act = async (what: 'promote' | 'rollback', version?: string) => {
    const reason = window.prompt(
      what === 'promote' ? `Why promote v${version} to Production?` : 'Why roll back the latest promotion?',
    );
    if (reason === null) return;
    setBusy(true);
    setActionError(null);
    try {
      await api(`models/${encodeURIComponent(name)}/${what}`, { method: 'POST', body: { version, reason } });
      l.reload();
    } catch (e) {
      setActionError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <p class="crumbs">
        <a href={href(['models'])}>Models</a> ›
      </p>
      <Title>{name}</Title>
      <Show l={l}>
        {(d) => {
          const versions = [...d.listing.versions].reverse();
          const chosen = picked ?? versions.find((v) => v.stage === 'Production')?.version ?? versions[0]?.version;
          const lastPromotion = (d.history ?? [])
            .filter((h) => h.action === 'promote' && !(d.history ?? []).some((x) => x.undoes === h.seq))
            .pop();
          return (
            <>
              {d.description ? <p>{d.description}</p> : null}
              {d.listing.note ? <p class="note">{d.listing.note}</p> : null}
              {actionError ? <ErrorBox error={actionError} /> : null}
              {!session.canWrite && session.writeNote ? (
                <p class="hint muted">Read-only: {session.writeNote}.</p>
              ) : null}
              <h2>Versions</h2>
              <div class="table-wrap">
                <table class="grid" data-testid="versions">
                  <thead>
                    <tr>
                      <th>Version</th>
                      <th>Stage</th>
                      <th>Aliases</th>
                      <th>Test</th>
                      <th class="num">MAE</th>
                      <th class="num">MAPE</th>
                      <th class="num">R²</th>
                      <th class="hide-sm">Created</th>
                      <th class="hide-sm">Promoted</th>
                      {session.canWrite ? <th /> : null}
                    </tr>
                  </thead>
                  <tbody>
                    {versions.map((v) => (
                      <tr key={v.version} class={v.version === chosen ? 'picked' : ''}>
                        <td>
                          <a href={href(['models', name], { v: v.version })}>v{v.version}</a>
                        </td>
                        <td>
                          <span class={`status stage-${v.stage.toLowerCase()}`}>{v.stage}</span>
                        </td>
                        <td>
                          {v.aliases.map((a) => (
                            <span class="badge">@{a}</span>
                          ))}
                        </td>
                        <td>
                          {v.test ? (
                            <span class={`status ${v.test === 'passed' ? 's-finished' : 's-failed'}`}>{v.test}</span>
                          ) : (
                            <span class="muted">not tested</span>
                          )}
                        </td>
                        <td class="num">{v.metrics.mae !== undefined ? fmtPrice(v.metrics.mae) : ''}</td>
                        <td class="num">{v.metrics.mape !== undefined ? pct(v.metrics.mape) : ''}</td>
                        <td class="num">{v.metrics.r2 !== undefined ? fmtNum(v.metrics.r2) : ''}</td>
                        <td class="hide-sm">{fmtTime(v.created)}</td>
                        <td class="hide-sm">
                          {v.promotedBy ? `${v.promotedBy}, ${v.promotedAt?.slice(0, 16).replace('T', ' ')}` : ''}
                        </td>
                        {session.canWrite ? (
                          <td>
                            {v.stage !== 'Production' ? (
                              <button
                                disabled={busy || v.test !== 'passed'}
                                title={
                                  v.test !== 'passed' ? 'only a version whose latest test passed can be promoted' : ''
                                }
                                onClick={() => act('promote', v.version)}
                              >
                                Promote
                              </button>
                            ) : null}
                          </td>
                        ) : null}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {session.canWrite && lastPromotion ? (
                <p>
                  <button class="danger" disabled={busy} onClick={() => act('rollback')}>
                    Roll back the promotion of v{lastPromotion.version}
                  </button>
                </p>
              ) : null}
              <h2>Promotion history</h2>
              {d.history === null ? (
                <p class="muted">This server does not keep promotion history.</p>
              ) : d.history.length === 0 ? (
                <Empty>No promotion yet.</Empty>
              ) : (
                <div class="table-wrap">
                  <table class="grid" data-testid="history">
                    <thead>
                      <tr>
                        <th>#</th>
                        <th>When</th>
                        <th>What</th>
                        <th>Who</th>
                        <th>Why</th>
                      </tr>
                    </thead>
                    <tbody>
                      {[...d.history].reverse().map((h) => (
                        <tr key={h.seq}>
                          <td>{h.seq}</td>
                          <td>{h.at.slice(0, 16).replace('T', ' ')}</td>
                          <td>
                            {h.action === 'promote'
                              ? `promoted v${h.version}${h.previous.length ? ` (archived v${h.previous.join(', v')})` : ''}`
                              : `rolled back #${h.undoes}: v${h.version} out${h.previous.length ? `, v${h.previous.join(', v')} back` : ''}`}
                          </td>
                          <td>{h.by}</td>
                          <td class="wrap">{h.reason}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              {chosen ? <VersionView name={name} version={chosen} session={session} /> : null}
            </>
          );
        }}
      </Show>
    </section>
  );
}

function VersionView({ name, version, session }: { name: string; version: string; session: Session }) {
  const l = useLoad(
    () => api<VersionDetail>(`models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`),
    [name, version],
  );
  const [tab, setTab] = useState<'report' | 'card' | 'plots'>('report');
  return (
    <>
      <h2 id="version">Version {version}</h2>
      <div class="tabs" role="tablist">
        <button role="tab" aria-selected={tab === 'report'} onClick={() => setTab('report')}>
          Test report
        </button>
        <button role="tab" aria-selected={tab === 'card'} onClick={() => setTab('card')}>
          Model card
        </button>
        <button role="tab" aria-selected={tab === 'plots'} onClick={() => setTab('plots')}>
          Predicted vs actual
        </button>
      </div>
      <Show l={l}>
        {(d) =>
          tab === 'report' ? (
            <ReportView d={d} />
          ) : tab === 'card' ? (
            d.cardMarkdown ? (
              <pre class="card-md" data-testid="model-card">
                {d.cardMarkdown}
              </pre>
            ) : (
              <Empty>No model card: run `carprice model test --version {version}` to write one.</Empty>
            )
          ) : session.features.versionPredictions ? (
            <PredictionPlots name={name} version={version} />
          ) : (
            <Empty>This server cannot score model versions.</Empty>
          )
        }
      </Show>
      {d_run(l.data)}
    </>
  );
}

function d_run(d: VersionDetail | undefined) {
  if (!d?.version.runId) return null;
  return (
    <p class="muted">
      From run <a href={href(['runs', d.version.runId])}>{d.version.runId.slice(0, 8)}</a> · {d.version.source}
    </p>
  );
}

function ReportView({ d }: { d: VersionDetail }) {
  const r = d.report;
  if (!r) return <Empty>No test report: run `carprice model test --version {d.version.version}`.</Empty>;
  const slices = r.slices.slices;
  const columns = [...new Set(slices.map((s) => s.column))];
  const [col, setCol] = useState(columns[0] ?? '');
  return (
    <div data-testid="report">
      <p>
        <span class={`status ${r.passed ? 's-finished' : 's-failed'}`}>{r.passed ? 'passed' : 'failed'}</span> on{' '}
        {r.data.rows} listings ({r.data.source}), {r.testedAt.slice(0, 16).replace('T', ' ')}
      </p>
      {r.failures.length ? (
        <ul class="error">
          {r.failures.map((f) => (
            <li>{f}</li>
          ))}
        </ul>
      ) : null}
      <div class="cards">
        <div class="card">
          <h3>Gates</h3>
          <table class="grid">
            <tbody>
              {r.gates.map((g) => (
                <tr>
                  <td>{g.passed ? '✓' : '✗'}</td>
                  <td>{g.name}</td>
                  <td class="num">{fmtNum(g.value)}</td>
                  <td class="num muted">{fmtNum(g.threshold)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Champion</h3>
          <p>
            {r.champion
              ? `${r.champion.passed ? '✓' : '✗'} v${r.champion.version}: ${r.champion.detail}`
              : (r.championNote ?? 'no champion')}
          </p>
        </div>
        <div class="card">
          <h3>Behaviour checks</h3>
          <ul class="checks">
            {r.behaviour.map((b) => (
              <li>
                {b.passed ? '✓' : '✗'} <strong>{b.name}</strong>: {b.detail}
              </li>
            ))}
          </ul>
        </div>
      </div>
      <h3>Error by slice (MAPE)</h3>
      {columns.length ? (
        <>
          <div class="axes">
            <label>
              Slice by{' '}
              <select aria-label="slice by" value={col} onChange={(e) => setCol((e.target as HTMLSelectElement).value)}>
                {columns.map((c) => (
                  <option value={c}>{c}</option>
                ))}
              </select>
            </label>
            <span class="muted">overall {pct(r.slices.overall.mape)}; red = flagged</span>
          </div>
          <Bars
            testid="slices"
            format={pct}
            items={slices
              .filter((s) => s.column === col)
              .map((s) => ({
                label: `${s.value} (${s.n})`,
                value: s.mape,
                flagged: s.flagged,
                note: `MAE ${fmtPrice(s.mae)}`,
              }))}
          />
        </>
      ) : (
        <Empty>No slice large enough to score.</Empty>
      )}
    </div>
  );
}

interface VersionPredictions {
  data: string;
  actual: number[];
  predicted: number[];
  columns: Record<string, string[]>;
}

function PredictionPlots({ name, version }: { name: string; version: string }) {
  const l = useLoad(
    () =>
      api<VersionPredictions>(`models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/predictions`),
    [name, version],
  );
  return (
    <Show l={l}>
      {(d) => {
        const pts = d.actual.map((a, i) => ({ x: a, y: d.predicted[i] }));
        const res = d.actual.map((a, i) => ({ x: d.predicted[i], y: a - d.predicted[i] }));
        return (
          <>
            <p class="muted">
              {d.actual.length} listings of {d.data}
            </p>
            <div class="cards wide">
              <div>
                <h3>Predicted vs actual</h3>
                <Scatter points={pts} xLabel="actual price" yLabel="predicted price" diagonal testid="pred-vs-actual" />
              </div>
              <div>
                <h3>Residuals</h3>
                <Scatter
                  points={res}
                  xLabel="predicted price"
                  yLabel="actual - predicted"
                  zeroLine
                  testid="residuals"
                />
              </div>
            </div>
          </>
        );
      }}
    </Show>
  );
}

export { navigate };
