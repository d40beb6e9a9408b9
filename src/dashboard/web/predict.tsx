/**
 * Predict: the original service's form. Make, model and variant are pickers fed by the
 * known values (the model list follows the make, the variants follow the model; typing a
 * value never seen is allowed and the answer warns about it); the other fields offer the
 * values seen most often. The answer: the price, its interval, and the explanation as bars
 * (each field's push up or down, in the model's units).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from './api';
import { Bars } from './charts';
import { ErrorBox, Show, Title, usePageTitle } from './common';
import { fmtNum, fmtPrice } from './format';
import { useLoad } from './hooks';

interface KnownValues {
  source: string;
  rows: number;
  makes: Record<string, Record<string, string[]>>;
  fields: Record<string, string[]>;
  numeric: Record<string, { min: number; max: number; median: number }>;
}

interface Prediction {
  predicted_price: number;
  interval?: { lower: number; upper: number; level: number };
  warnings?: Array<{ field: string; message: string }>;
  model: { name: string; version: string | null };
}

interface Explanation {
  predicted_price: number;
  base_value: number;
  scale: string;
  contributions: Array<{ feature: string; contribution: number; value?: unknown }>;
}

type Form = Record<string, string>;

const NUMERIC = ['year', 'odometer', 'fitnessAge', 'featureCount', 'ownership'];
const LABELS: Record<string, string> = {
  make: 'Make',
  model: 'Model',
  variant: 'Variant',
  year: 'Year',
  odometer: 'Odometer (km)',
  fitnessAge: 'Fitness age (years)',
  featureCount: 'Feature count',
  transmissionType: 'Transmission',
  bodyType: 'Body type',
  fuelType: 'Fuel',
  ownership: 'Owners',
  color: 'Colour',
};

function initial(k: KnownValues | undefined): Form {
  const f: Form = {
    make: 'Maruti',
    model: 'Swift',
    variant: 'VXI',
    year: '2019',
    odometer: '50000',
    fitnessAge: '10',
    featureCount: '30',
    transmissionType: 'Manual',
    bodyType: 'Hatchback',
    fuelType: 'Petrol',
    ownership: '1',
    color: 'White',
  };
  if (k && !k.makes[f.make]) {
    const make = Object.keys(k.makes)[0];
    if (make) {
      const model = Object.keys(k.makes[make])[0];
      Object.assign(f, { make, model, variant: k.makes[make][model][0] });
    }
  }
  return f;
}

export function PredictPage() {
  usePageTitle('Predict');
  const known = useLoad(() => api<KnownValues>('known-values').catch(() => undefined as unknown as KnownValues), []);
  const k = known.data;
  const [form, setForm] = useState<Form>(() => initial(undefined));
  useEffect(() => {
    if (k) setForm(initial(k));
  }, [k]);
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<{ p: Prediction; e: Explanation | null; eError: string | null } | null>(null);
  const [error, setError] = useState<ApiError | Error | null>(null);

  const set = (name: string, value: string) => {
    const next = { ...form, [name]: value };
    if (k && name === 'make') {
      const models = Object.keys(k.makes[value] ?? {});
      next.model = models[0] ?? '';
      next.variant = (k.makes[value]?.[next.model] ?? [])[0] ?? '';
    }
    if (k && name === 'model') next.variant = (k.makes[form.make]?.[value] ?? [])[0] ?? '';
    setForm(next);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const listing: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(form))
      listing[key] = NUMERIC.includes(key) && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
    setBusy(true);
    setError(null);
    try {
      const [p, ex] = await Promise.all([
        api<Prediction>('predict', { method: 'POST', body: listing }),
        api<Explanation>('explain', { method: 'POST', body: listing }).then(
          (x) => ({ x, err: null }),
          (err: Error) => ({ x: null, err: err.message }),
        ),
      ]);
      setAnswer({ p, e: ex.x, eError: ex.err });
    } catch (err) {
      setAnswer(null);
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const problems =
    error instanceof ApiError
      ? ((error.body as { problems?: Array<{ field: string; reason: string }> })?.problems ?? [])
      : [];
  const invalid = new Set(problems.map((p) => p.field));
  const list = (name: string, values: string[]) => (
    <datalist id={`dl-${name}`}>
      {values.slice(0, 500).map((v) => (
        <option value={v} />
      ))}
    </datalist>
  );
  const models = k ? Object.keys(k.makes[form.make] ?? {}) : [];
  const variants = k ? (k.makes[form.make]?.[form.model] ?? []) : [];
  const field = (name: string, options?: string[]) => (
    <label key={name}>
      {LABELS[name] ?? name}
      <input
        name={name}
        value={form[name]}
        inputMode={NUMERIC.includes(name) ? 'numeric' : undefined}
        list={options ? `dl-${name}` : undefined}
        aria-invalid={invalid.has(name)}
        onInput={(e) => set(name, (e.target as HTMLInputElement).value)}
        onChange={(e) => set(name, (e.target as HTMLInputElement).value)}
        required
      />
      {options ? list(name, options) : null}
    </label>
  );
  const select = (name: string, options: string[]) =>
    options.length && options.includes(form[name]) ? (
      <label key={name}>
        {LABELS[name]}
        <select name={name} value={form[name]} onChange={(e) => set(name, (e.target as HTMLSelectElement).value)}>
          {options.map((o) => (
            <option value={o}>{o}</option>
          ))}
        </select>
      </label>
    ) : (
      field(name, options)
    );
  return (
    <section>
      <Title>Predict a price</Title>
      {known.data === undefined && !known.loading ? (
        <p class="note">No known values to pick from (the server has no listings); type the fields.</p>
      ) : null}
      <form class="form" onSubmit={submit} data-testid="predict-form">
        {select('make', k ? Object.keys(k.makes) : [])}
        {select('model', models)}
        {select('variant', variants)}
        {field('year', k?.fields.year)}
        {field('odometer')}
        {field('fitnessAge')}
        {field('featureCount')}
        {select('transmissionType', k?.fields.transmissionType ?? [])}
        {select('bodyType', k?.fields.bodyType ?? [])}
        {select('fuelType', k?.fields.fuelType ?? [])}
        {field('ownership', k?.fields.ownership)}
        {select('color', k?.fields.color ?? [])}
        <div>
          <button type="submit" disabled={busy}>
            {busy ? 'Pricing…' : 'Predict'}
          </button>
        </div>
      </form>
      {k ? (
        <p class="hint muted">
          Pickers from {k.rows} listings in {k.source}.
        </p>
      ) : null}
      {error ? (
        <div class="error" role="alert">
          {problems.length ? (
            <ul>
              {problems.map((p) => (
                <li>
                  <strong>{LABELS[p.field] ?? p.field}</strong>: {p.reason}
                </li>
              ))}
            </ul>
          ) : (
            error.message
          )}
        </div>
      ) : null}
      {answer ? <Answer a={answer} /> : null}
    </section>
  );
}

function Answer({ a }: { a: { p: Prediction; e: Explanation | null; eError: string | null } }) {
  const { p, e } = a;
  const items = e
    ? [...e.contributions]
        .sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution))
        .slice(0, 15)
        .map((c) => ({
          label: c.value !== undefined && c.value !== null ? `${c.feature} = ${String(c.value)}` : c.feature,
          value: c.contribution,
        }))
    : [];
  return (
    <div class="card" data-testid="prediction">
      <div class="price" data-testid="price">
        {fmtPrice(p.predicted_price)}
      </div>
      {p.interval ? (
        <p data-testid="interval">
          {Math.round(p.interval.level * 100)}% interval: {fmtPrice(p.interval.lower)} – {fmtPrice(p.interval.upper)}
        </p>
      ) : (
        <p class="muted">This model gives no interval.</p>
      )}
      <p class="muted">
        model {p.model.name}
        {p.model.version ? ` v${p.model.version}` : ''}
      </p>
      {p.warnings?.length ? (
        <ul class="note">
          {p.warnings.map((w) => (
            <li>{w.message}</li>
          ))}
        </ul>
      ) : null}
      <h3>Why this price</h3>
      {e ? (
        <>
          <p class="hint muted">
            Each field's push from the base ({fmtNum(e.base_value)} in {e.scale}); red raises the price, green lowers
            it.
          </p>
          <Bars items={items} format={(v) => (v >= 0 ? '+' : '') + fmtNum(v)} signed testid="explanation" />
        </>
      ) : (
        <p class="muted">{a.eError ?? 'No explanation.'}</p>
      )}
    </div>
  );
}

export { ErrorBox, Show };
