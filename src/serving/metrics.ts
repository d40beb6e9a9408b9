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
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelInfo } from './model-provider.js';

export class ServingMetrics {
  readonly registry = new Registry();
  readonly latency: Histogram<'method' | 'route' | 'status'>;
  readonly predictions: Counter<'route'>;
  readonly unknownCategories: Counter<'field'>;
  readonly modelInfo: Gauge<'name' | 'version' | 'stage' | 'origin'>;
  readonly reloads: Counter<'outcome'>;
  readonly loadedAt: Gauge;

  /** `labels` are added to every series. */
  constructor(o: { processMetrics?: boolean; labels?: Record<string, string> } = {}) {
    const registers = [this.registry];
    if (o.labels) this.registry.setDefaultLabels(o.labels);
    this.latency = new Histogram({
      name: 'carprice_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
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

  private readonly latencyLabels = new Map<string, Map<string, Map<number, Record<string, string | number>>>>();
  private readonly predictionLabels = new Map<string, Record<string, string>>();

  /** One request's latency; the label objects are made once per method/route/status, not per request. */
  observe(method: string, route: string, status: number, seconds: number): void {
    let byRoute = this.latencyLabels.get(method);
    if (!byRoute) this.latencyLabels.set(method, (byRoute = new Map()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map()));
    let labels = byStatus.get(status);
    if (!labels) byStatus.set(status, (labels = { method, route, status }));
    this.latency.observe(labels, seconds);
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
