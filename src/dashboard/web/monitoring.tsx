/**
 * Monitoring: a window of the prediction log against the served model's training data
 * (drift per input: PSI, category-share shift, unseen-category rate; the predictions'
 * distribution; the thresholds and which scores are past them), the realized accuracy of
 * the sales imported so far (MAPE and interval coverage by week, by slice, by model), and
 * the shadow challenger's agreement with the champion. The window is in the URL (?since=).
 */
import { useState } from 'preact/hooks';
import { api, qs } from './api';
import { Bars, useBoxWidth } from './charts';
import { Empty, Show, Title, usePageTitle } from './common';
import { fmtAxis, fmtBytes, fmtNum } from './format';
import { useLoad } from './hooks';
import { href, navigate, type Route } from './router';
import type { DriftReport } from '../wire';

interface Accuracy {
  n: number;
  mape: number | null;
  medape: number | null;
  mae: number | null;
  coverage: number | null;
}

interface AccuracyGroup extends Accuracy {
  key: string;
}

interface RealizedAccuracy {
  overall: Accuracy;
  intervalLevel: number | null;
  feedbackEntries: number;
  unmatched: number;
  period: string;
  byPeriod: AccuracyGroup[];
  bySlice: Array<AccuracyGroup & { column: string; flagged: boolean }>;
  byModel: AccuracyGroup[];
}

interface ShadowReport {
  champion: string[];
  challenger: string[];
  pairs: number;
  championOnly: number;
  challengerFailures: number;
  agreement: {
    medianAbsRelDiff: number;
    p90AbsRelDiff: number;
    within5: number;
    within10: number;
    meanRelDiff: number;
  } | null;
  accuracy: {
    n: number;
    champion: Accuracy;
    challenger: Accuracy;
    difference: { mean: number; lower: number; upper: number; confidence: number; resamples: number } | null;
    verdict: 'challenger_better' | 'champion_better' | 'no_significant_difference' | 'too_few_sales';
  } | null;
}

interface Overview {
  log: { path: string; exists: boolean; rows: number; first: string | null; last: string | null; bytes: number };
  window: { since: string; until: string };
  windowText: string;
  defaultWindow: string;
  note: string | null;
  drift: DriftReport | null;
  driftError: string | null;
  accuracy: RealizedAccuracy | null;
  shadow: ShadowReport | null;
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : `${(x * 100).toFixed(1)}%`;
const f3 = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(3));
const pp = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pp`;
const when = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '-');

const STATUS_CLASS: Record<string, string> = {
  ok: 'st-up',
  warn: 's-warn',
  alert: 'st-changed',
  insufficient: 'st-frozen',
  no_reference: 'st-frozen',
};

function Status({ s, testid }: { s: string; testid?: string }) {
  return (
    <span class={`status ${STATUS_CLASS[s] ?? ''}`} data-testid={testid}>
      {s === 'insufficient' ? 'too few rows' : s === 'no_reference' ? 'no reference' : s}
    </span>
  );
}

const WINDOWS = ['24h', '7d', '30d', '90d'];

function WindowPicker({ current }: { current: string }) {
  const [text, setText] = useState(current);
  return (
    <form
      class="axes"
      data-testid="window"
      onSubmit={(e) => {
        e.preventDefault();
        navigate(href(['monitoring'], { since: text.trim() }));
      }}
    >
      <span class="muted">Window:</span>
      {WINDOWS.map((w) => (
        <a key={w} href={href(['monitoring'], { since: w })} aria-current={w === current ? 'true' : undefined}>
          last {w}
        </a>
      ))}
      <label>
        since{' '}
        <input
          aria-label="window start"
          size={12}
          value={text}
          placeholder="7d or 2026-12-01"
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit">Show</button>
    </form>
  );
}

function FeatureTable({ d }: { d: DriftReport }) {
  return (
    <div class="table-wrap">
      <table class="grid" data-testid="drift-features">
        <thead>
          <tr>
            <th>Input</th>
            <th title="population stability index on the training deciles (numeric inputs and year)">PSI</th>
            <th title="PSI of the category shares (values under 1% of training pooled)">Category PSI</th>
            <th title="share of the window's values never seen in training (expected from the training data)">
              Unseen (expected)
            </th>
            <th>Missing (training)</th>
            <th>Status</th>
            <th>Why / largest share changes</th>
          </tr>
        </thead>
        <tbody>
          {d.features.map((f) => (
            <tr key={f.feature} data-feature={f.feature} data-status={f.status} class={`drift-${f.status}`}>
              <td>
                {f.feature} <span class="muted small">{f.kind}</span>
              </td>
              <td class="num" title={f.psiNoise !== null ? `sampling noise ${f3(f.psiNoise)}` : undefined}>
                {f3(f.psi)}
              </td>
              <td
                class="num"
                title={f.categoryPsiNoise !== null ? `sampling noise ${f3(f.categoryPsiNoise)}` : undefined}
              >
                {f3(f.categoryPsi)}
              </td>
              <td class="num">{f.unseenRate === null ? '-' : `${pct(f.unseenRate)} (${pct(f.expectedUnseenRate)})`}</td>
              <td class="num">
                {pct(f.missingRate.window)} ({pct(f.missingRate.reference)})
              </td>
              <td>
                <Status s={f.status} />
              </td>
              <td class="wrap">
                {f.reasons.map((r) => (
                  <div class="reason">{r}</div>
                ))}
                {f.topShifts.map((s) => (
                  <div class="muted small">
                    {s.value}: {pct(s.reference)} → {pct(s.window)}
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Training vs window shares of the predicted price per training-prediction decile, drawn at
 * the box's real width (below 560 px it keeps 560 and scrolls inside its box).
 */
function PredictionShift({ p }: { p: NonNullable<DriftReport['prediction']> }) {
  const { box, width: W } = useBoxWidth(720, 560, 1200);
  const k = p.referenceShares.length;
  const label = (i: number) =>
    i === 0 ? `≤ ${fmtAxis(p.edges[0])}` : i === k - 1 ? `> ${fmtAxis(p.edges[k - 2])}` : `≤ ${fmtAxis(p.edges[i])}`;
  const H = 220;
  const m = { l: 52, r: 8, t: 12, b: 44 };
  const max = Math.max(...p.referenceShares, ...p.windowShares, 1e-9);
  const bw = (W - m.l - m.r) / k;
  const y = (v: number) => H - m.b - (v / max) * (H - m.t - m.b);
  return (
    <div class="chart scroll-x" data-testid="prediction-shift" ref={box}>
      <svg
        width={W}
        height={H}
        viewBox={`0 0 ${W} ${H}`}
        style={{ width: `${W}px`, minWidth: `${W}px` }}
        role="img"
        aria-label="predicted price distribution, training vs window"
      >
        {[0, max / 2, max].map((t) => (
          <g key={t}>
            <line x1={m.l} x2={W - m.r} y1={y(t)} y2={y(t)} stroke="#eaecf0" />
            <text x={m.l - 6} y={y(t) + 4} text-anchor="end">
              {pct(t)}
            </text>
          </g>
        ))}
        {p.referenceShares.map((r, i) => {
          const w = p.windowShares[i];
          const x = m.l + i * bw;
          return (
            <g key={i}>
              <rect x={x + 2} y={y(r)} width={Math.max(1, bw / 2 - 3)} height={H - m.b - y(r)} fill="#98a2b3">
                <title>{`${label(i)}: training ${pct(r)}`}</title>
              </rect>
              <rect x={x + bw / 2} y={y(w)} width={Math.max(1, bw / 2 - 3)} height={H - m.b - y(w)} fill="#2457c5">
                <title>{`${label(i)}: window ${pct(w)}`}</title>
              </rect>
              <text x={x + bw / 2} y={H - m.b + 16} text-anchor="middle" style={{ fontSize: '11px' }}>
                {label(i)}
              </text>
            </g>
          );
        })}
        <text x={m.l} y={H - 6} style={{ fontSize: '12px' }}>
          predicted price bins (training deciles) · grey: training · blue: this window
        </text>
      </svg>
    </div>
  );
}

function DriftView({ d }: { d: DriftReport }) {
  const t = d.thresholds;
  const past = d.features.filter((f) => f.status !== 'ok').map((f) => f.feature);
  if (d.prediction && d.prediction.status !== 'ok') past.push('predictions');
  return (
    <div data-testid="drift">
      <p>
        <Status s={d.status} testid="drift-status" /> <span data-testid="drift-summary">{d.summary}</span>
      </p>
      <p class="muted">
        {d.model.name}
        {d.model.version ? ` v${d.model.version}` : ''} · reference:{' '}
        {d.reference.available ? `${fmtNum(d.reference.rows)} training rows (${d.reference.origin})` : 'none'} ·{' '}
        {d.window.rows.toLocaleString('en')} logged predictions from {when(d.window.since)} to {when(d.window.until)}{' '}
        UTC
      </p>
      {d.reference.note ? <p class="note">{d.reference.note}</p> : null}
      <p class="muted small" data-testid="thresholds">
        Thresholds (params.yaml monitoring.drift, warn / alert, judged after subtracting sampling noise): PSI{' '}
        {t.psiWarn} / {t.psiAlert}; category PSI {t.categoryPsiWarn} / {t.categoryPsiAlert}; unseen-category excess{' '}
        {pct(t.unseenExcessWarn)} / {pct(t.unseenExcessAlert)}; at least {t.minRows} rows.{' '}
        {past.length ? (
          <strong data-testid="past-thresholds">Past them: {past.join(', ')}.</strong>
        ) : d.features.length ? (
          'None past them.'
        ) : null}
      </p>
      {d.features.length ? <FeatureTable d={d} /> : null}
      <h3>Predicted prices</h3>
      {d.prediction ? (
        <>
          <p>
            PSI {f3(d.prediction.psi)} <span class="muted">(noise {f3(d.prediction.psiNoise)})</span>{' '}
            <Status s={d.prediction.status} /> over {d.prediction.rows.toLocaleString('en')} predictions{' '}
            {d.prediction.reasons.length ? <span>· {d.prediction.reasons.join('; ')}</span> : null}
          </p>
          <PredictionShift p={d.prediction} />
        </>
      ) : (
        <Empty>No priced request of this model version in the window.</Empty>
      )}
    </div>
  );
}

function AccuracyTable({ rows, label, testid }: { rows: AccuracyGroup[]; label: string; testid: string }) {
  return (
    <div class="table-wrap">
      <table class="grid" data-testid={testid}>
        <thead>
          <tr>
            <th>{label}</th>
            <th>Sold</th>
            <th>MAPE</th>
            <th>Interval coverage</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((g) => (
            <tr key={g.key} class={(g as { flagged?: boolean }).flagged ? 'drift-alert' : undefined}>
              <td>{g.key}</td>
              <td class="num">{g.n}</td>
              <td class="num">{pct(g.mape)}</td>
              <td class="num">{pct(g.coverage)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AccuracyView({ a }: { a: RealizedAccuracy }) {
  const o = a.overall;
  const flagged = a.bySlice.filter((s) => s.flagged);
  return (
    <div data-testid="accuracy">
      <p>
        Over <strong>{o.n}</strong> sold car(s) with a logged prediction ({a.feedbackEntries} sales imported,{' '}
        {a.unmatched} unmatched): MAPE <strong data-testid="realized-mape">{pct(o.mape)}</strong>, median APE{' '}
        {pct(o.medape)}, interval coverage <strong data-testid="realized-coverage">{pct(o.coverage)}</strong>
        {a.intervalLevel !== null ? ` (nominal ${pct(a.intervalLevel)})` : ''}.
      </p>
      {a.byPeriod.length ? (
        <>
          <h3>By {a.period} of the prediction (MAPE)</h3>
          <Bars
            testid="accuracy-by-period"
            format={pct}
            items={a.byPeriod.map((g) => ({
              label: `${g.key} (${g.n})`,
              value: g.mape ?? 0,
              note: `coverage ${pct(g.coverage)}`,
            }))}
          />
          <AccuracyTable rows={a.byPeriod} label={a.period} testid="accuracy-periods" />
        </>
      ) : null}
      {a.byModel.length > 1 ? (
        <>
          <h3>By model version</h3>
          <AccuracyTable rows={a.byModel} label="model" testid="accuracy-models" />
        </>
      ) : null}
      <h3>By slice</h3>
      {a.bySlice.length ? (
        <>
          <p class="muted small">
            {flagged.length
              ? `Flagged (MAPE well above the overall, model_test.slice_flag_ratio): ${flagged.map((s) => `${s.column} = ${s.key}`).join(', ')}`
              : 'No slice stands out.'}
          </p>
          <AccuracyTable
            rows={a.bySlice.map((s) => ({ ...s, key: `${s.column} = ${s.key}` }))}
            label="slice"
            testid="accuracy-slices"
          />
        </>
      ) : (
        <Empty>No slice has 10 sales yet.</Empty>
      )}
    </div>
  );
}

const VERDICT: Record<string, string> = {
  challenger_better: 'the challenger is more accurate',
  champion_better: 'the champion is more accurate',
  no_significant_difference: 'no significant difference',
  too_few_sales: 'too few sold cars for an interval (at least 10)',
};

function ShadowView({ s }: { s: ShadowReport }) {
  const a = s.agreement;
  const acc = s.accuracy;
  return (
    <div data-testid="shadow">
      <p>
        Champion {s.champion.join(', ') || '-'} vs challenger {s.challenger.join(', ') || '-'}: {s.pairs} request row(s)
        priced by both, {s.challengerFailures} challenger failure(s), {s.championOnly} champion row(s) without a
        challenger price.
      </p>
      {a ? (
        <p data-testid="agreement">
          The challenger's price is within 5% of the champion's for <strong>{pct(a.within5)}</strong> of requests,
          within 10% for {pct(a.within10)}; median difference {pct(a.medianAbsRelDiff)}, 90th percentile{' '}
          {pct(a.p90AbsRelDiff)}, mean {pp(a.meanRelDiff)}.
        </p>
      ) : null}
      {acc ? (
        <p data-testid="shadow-accuracy">
          On {acc.n} sold car(s): champion MAPE {pct(acc.champion.mape)}, challenger MAPE {pct(acc.challenger.mape)}
          {acc.difference
            ? `; APE difference ${pp(acc.difference.mean)}, ${Math.round(acc.difference.confidence * 100)}% interval [${pp(acc.difference.lower)}, ${pp(acc.difference.upper)}]`
            : ''}
          : <strong>{VERDICT[acc.verdict]}</strong>.
        </p>
      ) : (
        <p class="muted">No realized prices for these requests yet.</p>
      )}
    </div>
  );
}

export function MonitoringPage({ route }: { route: Route }) {
  usePageTitle('Monitoring');
  const since = route.query.get('since') ?? '';
  const l = useLoad(() => api<Overview>('monitoring' + qs({ since })), [since]);
  const d = l.data;
  return (
    <section>
      <Title
        sub={
          d ? (
            <span class="muted">
              <span class="mono">{d.log.path}</span>
              {d.log.exists
                ? ` · ${d.log.rows.toLocaleString('en')} rows, ${fmtBytes(d.log.bytes)}, ${when(d.log.first)} to ${when(d.log.last)} UTC`
                : ''}
            </span>
          ) : null
        }
      >
        Monitoring
      </Title>
      {d ? <WindowPicker key={d.windowText} current={d.windowText} /> : null}
      {l.loading && d ? <div class="busy" /> : null}
      <Show l={l}>
        {(o) =>
          !o.log.exists ? (
            <p class="empty" data-testid="monitoring-empty">
              {o.note}
            </p>
          ) : (
            <>
              {o.note ? <p class="note">{o.note}</p> : null}
              <h2>Drift</h2>
              {o.drift ? <DriftView d={o.drift} /> : <p class="error">{o.driftError}</p>}
              <h2>Realized accuracy</h2>
              {o.accuracy ? (
                <AccuracyView a={o.accuracy} />
              ) : (
                <Empty>
                  No sold prices imported yet: `carprice monitor feedback sold.csv` (request_id or listing_id with
                  sold_price) joins them to the logged predictions.
                </Empty>
              )}
              <h2>Shadow challenger</h2>
              {o.shadow ? (
                <ShadowView s={o.shadow} />
              ) : (
                <Empty>
                  No challenger rows in this window: `carprice serve --shadow models:/NAME@challenger` prices each
                  logged request with a second model too.
                </Empty>
              )}
            </>
          )
        }
      </Show>
    </section>
  );
}
