/**
 * Prometheus metrics of the prediction API, on a registry of its own (one per app, so
 * several apps in one process, as in tests, never share counters):
 *   carprice_http_request_duration_seconds{method,route,status}  latency histogram
 *   carprice_predictions_total{route}                            listings priced
 *   carprice_unknown_categories_total{field}                     unseen category values
 *   carprice_model_info{name,version,stage,origin}               1 for the model serving
 *   carprice_model_reloads_total{outcome}                        swapped | failed
 *   carprice_model_loaded_timestamp_seconds                      when the model swapped in
 * plus prom-client's process metrics (memory, CPU, event-loop lag) with the carprice_ prefix.
 *
 * With `--workers N` each worker keeps its own registry and /metrics answers for the whole
 * cluster: the worker that gets the request asks the primary, which collects every
 * worker's registry (prom-client's AggregatorRegistry) and adds them up: counters and
 * histograms are summed, the model gauges take the maximum (serve.ts, `clusterMetrics`).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ModelInfo } from './model-provider.js';

type Labels = Record<string, string | number>;

/** One label set of a LatencyHistogram: its per-bucket counts (not cumulative), sum and count. */
export interface HistogramSeries {
  readonly labels: Labels;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface ExportValue {
  labels: Labels;
  sharedLabels?: Labels;
  value: number;
  metricName: string;
}

/**
 * A histogram that writes exactly what prom-client's Histogram writes (series, bucket
 * labels, `_bucket`/`_sum`/`_count`, summed across cluster workers), observed for the cost
 * of a bucket search and three additions: the caller holds the series object of its label
 * set (`series(labels)`, made once). prom-client's `observe(labels, v)` builds a label hash
 * string, validates the labels and turns the bucket bound into a property name on every
 * call, a measurable share of a request that costs ~100 µs in all.
 */
export class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registers: Registry[],
  ) {
    for (const r of registers) r.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series of a label set (the same object every time for the same labels). */
  series(labels: Labels): HistogramSeries {
    const key = JSON.stringify(
      Object.keys(labels)
        .sort()
        .map((k) => [k, labels[k]]),
    );
    let s = this.all.get(key);
    if (!s)
      this.all.set(
        key,
        (s = { labels: { ...labels }, counts: new Float64Array(this.bounds.length), sum: 0, count: 0 }),
      );
    return s;
  }

  observe(s: HistogramSeries, value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && !(value <= b[i])) i++;
    if (i < b.length) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  /** What the registry writes (prom-client's Histogram shape: `le` in labels, the series' in sharedLabels). */
  getForPromString(): Promise<{ name: string; help: string; type: string; values: ExportValue[]; aggregator: string }> {
    const values: ExportValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.all.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i];
        values.push({ labels: { le: this.bounds[i] }, sharedLabels: s.labels, value: acc, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The same values with every label in `labels` (what AggregatorRegistry sums across workers). */
  async get(): Promise<{ name: string; help: string; type: string; values: ExportValue[]; aggregator: string }> {
    const data = await this.getForPromString();
    data.values = data.values.map((v) => ({
      labels: { ...v.labels, ...v.sharedLabels },
      value: v.value,
      metricName: v.metricName,
    }));
    return data;
  }
}

export class ServingMetrics {
  readonly registry = new Registry();
  readonly latency: LatencyHistogram;
  readonly predictions: Counter<'route'>;
  readonly unknownCategories: Counter<'field'>;
  readonly modelInfo: Gauge<'name' | 'version' | 'stage' | 'origin'>;
  readonly reloads: Counter<'outcome'>;
  readonly loadedAt: Gauge;

  /** `labels` are added to every series. */
  constructor(o: { processMetrics?: boolean; labels?: Record<string, string> } = {}) {
    const registers = [this.registry];
    if (o.labels) this.registry.setDefaultLabels(o.labels);
    this.latency = new LatencyHistogram(
      'carprice_http_request_duration_seconds',
      'HTTP request latency by route and status',
      [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    );
    this.predictions = new Counter({
      name: 'carprice_predictions_total',
      help: 'Listings priced, by route',
      labelNames: ['route'],
      registers,
    });
    this.unknownCategories = new Counter({
      name: 'carprice_unknown_categories_total',
      help: 'Category values never seen in training, by field',
      labelNames: ['field'],
      registers,
    });
    this.modelInfo = new Gauge({
      name: 'carprice_model_info',
      help: 'The model serving (value 1)',
      labelNames: ['name', 'version', 'stage', 'origin'],
      registers,
      aggregator: 'max',
    });
    this.reloads = new Counter({
      name: 'carprice_model_reloads_total',
      help: 'Model reload attempts that swapped a new model in or were refused',
      labelNames: ['outcome'],
      registers,
    });
    this.loadedAt = new Gauge({
      name: 'carprice_model_loaded_timestamp_seconds',
      help: 'Unix time the serving model was swapped in',
      registers,
      aggregator: 'max',
    });
    this.reloads.inc({ outcome: 'swapped' }, 0);
    this.reloads.inc({ outcome: 'failed' }, 0);
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'carprice_' });
  }

  private readonly latencySeries = new Map<string, Map<string, Map<number, HistogramSeries>>>();
  private readonly predictionLabels = new Map<string, Record<string, string>>();

  /** One request's latency; the series of a method/route/status is looked up in nested maps, not hashed. */
  observe(method: string, route: string, status: number, seconds: number): void {
    let byRoute = this.latencySeries.get(method);
    if (!byRoute) this.latencySeries.set(method, (byRoute = new Map<string, Map<number, HistogramSeries>>()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map<number, HistogramSeries>()));
    let series = byStatus.get(status);
    if (!series) byStatus.set(status, (series = this.latency.series({ method, route, status })));
    this.latency.observe(series, seconds);
  }

  /** `n` listings priced on `route`. */
  countPredictions(route: string, n: number): void {
    let labels = this.predictionLabels.get(route);
    if (!labels) this.predictionLabels.set(route, (labels = { route }));
    this.predictions.inc(labels, n);
  }

  /** Record the model now serving (replacing the previous one's info series). */
  setModel(info: ModelInfo): void {
    this.modelInfo.reset();
    this.modelInfo.set(
      { name: info.name, version: info.version ?? '', stage: info.stage ?? '', origin: info.origin },
      1,
    );
    this.loadedAt.set(Date.parse(info.loadedAt) / 1000);
  }
}
