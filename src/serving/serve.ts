/**
 * The server entry of the prediction API, the only place that listens.
 *
 * One process (`serve`): build the app, listen at once (so /health answers while the
 * model loads; /ready says 503), load and warm the model, poll for new versions, reload on
 * SIGHUP, and on `close()` (SIGTERM) stop accepting, let in-flight requests finish (up to
 * the shutdown timeout), then release the store.
 *
 * Several processes (`serveCluster`, `--workers N`): a node:cluster primary forks N
 * workers that each run `serve` on the same port (the primary hands connections out), waits
 * until every one is ready, forwards SIGHUP and SIGTERM to them, and forks a replacement
 * for a worker that dies.
 */
import cluster, { type Worker } from 'node:cluster';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { AppError, listenError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import type { Logger } from '../core/logger.js';
import type { PlausibleRanges } from '../data/plausible-ranges.js';
import { buildApp } from './build-app.js';
import { ServingMetrics } from './metrics.js';
import { ModelProvider, errorText, isRegistryUri, type ServedModel } from './model-provider.js';
import type { ServingPredictor } from './predictor.js';
import type { PredictionMonitorOptions, PredictionMonitor } from '../monitoring/prediction-monitor.js';
import type { BackgroundPolicy } from '../monitoring/thread-priority.js';
import type { ShadowIsolation } from '../monitoring/shadow-scorer.js';

/** The prediction log, drift scores and shadow challenger of a server. */
export type ServeMonitoringOptions = Omit<PredictionMonitorOptions, 'registry' | 'logger' | 'clock' | 'shadow'> & {
  /** Shadow challenger: models:/..., runs:/... or a bundle directory, scored off the response path. */
  shadow?: {
    source: string;
    queueSize: number;
    timeoutMs: number;
    nice?: number;
    policy?: BackgroundPolicy;
    isolation?: ShadowIsolation;
    /** Milliseconds between the challenger's batches (default 250). */
    batchMs?: number;
    /** The pause protocol: µs of the challenger's work between looks at the serving thread (default 100; 0 = off; shadow-scorer.ts). */
    yieldUs?: number;
  };
};

export interface ServeOptions {
  host: string;
  port: number;
  /** models:/..., runs:/... or a bundle directory. */
  model: string;
  cwd: string;
  env: Env;
  /** `mlflow.tracking_uri` from params.yaml. */
  paramsTrackingUri?: string;
  /** pino logger (request logs, reloads, errors). */
  logger: FastifyBaseLogger;
  pollIntervalS: number;
  batchLimit: number;
  bodyLimit: number;
  rateLimitPerMinute: number;
  maxStringLength: number;
  ranges?: PlausibleRanges;
  shutdownTimeoutS: number;
  logRequests: boolean;
  /** Prediction log, drift scores and shadow challenger; absent = off. */
  monitoring?: ServeMonitoringOptions;
  /** More routes on the app (the web dashboard), as BuildAppOptions.extend. */
  extend?: (app: FastifyInstance) => Promise<void>;
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  provider: ModelProvider;
  model: ServedModel;
  /** Reload the model now (what SIGHUP does). */
  reload(): Promise<string>;
  /** Stop accepting, drain in-flight requests (bounded by the shutdown timeout), release everything. */
  close(): Promise<void>;
}

function urlOf(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/** Serve the API in this process. Resolves once the model is loaded and warm. */
export async function serve(o: ServeOptions): Promise<RunningServer> {
  const log = o.logger as unknown as Logger;
  // the tracking client (SQLite, S3, HTTP) is loaded only for a registry source: a bundle
  // directory starts faster without it
  const { TrackingClient } = isRegistryUri(o.model)
    ? await import('../tracking/index.js')
    : { TrackingClient: undefined };
  const provider = new ModelProvider({
    source: o.model,
    cwd: o.cwd,
    fallbackDir: o.env.CARPRICE_MODEL_DIR,
    logger: log,
    openTracking: TrackingClient
      ? () => TrackingClient.open({ env: o.env, paramsUri: o.paramsTrackingUri, cwd: o.cwd, logger: log })
      : undefined,
  });
  const metrics = new ServingMetrics();
  const inCluster = cluster.isWorker && typeof process.send === 'function';
  // the log's writer thread starts while this thread builds the app and loads the model;
  // both are awaited before the server says it is ready. No request is priced before then
  // (/predict answers 503 until the model is in), so none misses the log.
  const monStarting = o.monitoring ? startMonitoring(o, provider, metrics, log, TrackingClient) : undefined;
  let mon: Awaited<typeof monStarting> = undefined;
  const app = await buildApp({
    provider,
    onPrediction: monStarting ? (e) => mon?.monitor.observe(e) : undefined,
    logger: o.logger,
    logRequests: o.logRequests,
    apiToken: o.env.CARPRICE_API_TOKEN,
    batchLimit: o.batchLimit,
    bodyLimit: o.bodyLimit,
    rateLimitPerMinute: o.rateLimitPerMinute,
    maxStringLength: o.maxStringLength,
    ranges: o.ranges,
    metrics,
    metricsText: inCluster ? await workerMetrics(metrics) : undefined,
    worker: inCluster ? cluster.worker?.id : undefined,
    extend: o.extend,
  }).catch(async (e: unknown) => {
    await (await monStarting)?.close();
    throw e;
  });
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    await app.close();
    await (await monStarting)?.close();
    throw listenError(o.host, o.port, e);
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  let model: ServedModel;
  try {
    model = await provider.start();
  } catch (e) {
    await app.close();
    await provider.close();
    await (await monStarting)?.close();
    throw e;
  }
  mon = await monStarting;
  provider.startPolling(o.pollIntervalS * 1000);
  mon?.startShadow(o.pollIntervalS * 1000);
  const onHup = () => void provider.refresh({ force: true });
  process.on('SIGHUP', onHup);
  let closing: Promise<void> | undefined;
  return {
    url: urlOf(o.host, port),
    app,
    provider,
    model,
    async reload() {
      return provider.refresh({ force: true });
    },
    close() {
      closing ??= (async () => {
        process.off('SIGHUP', onHup);
        provider.stopPolling();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((res) => {
          timer = setTimeout(() => {
            o.logger.warn({ seconds: o.shutdownTimeoutS }, 'shutdown timeout: closing the connections still open');
            app.server.closeAllConnections();
            res();
          }, o.shutdownTimeoutS * 1000);
        });
        await Promise.race([app.close(), timeout]);
        clearTimeout(timer);
        await provider.close();
        await mon?.close();
      })();
      return closing;
    },
  };
}

/**
 * Open the prediction log (and the shadow challenger's provider) for a server. A log that
 * cannot be opened is logged and the server runs without it: monitoring never stops serving.
 */
async function startMonitoring(
  o: ServeOptions,
  provider: ModelProvider,
  metrics: ServingMetrics,
  log: Logger,
  TrackingClient: typeof import('../tracking/index.js').TrackingClient | undefined,
): Promise<{ monitor: PredictionMonitor; startShadow(pollMs: number): void; close(): Promise<void> } | undefined> {
  const m = o.monitoring!;
  const { PredictionMonitor } = await import('../monitoring/prediction-monitor.js');
  let monitor: PredictionMonitor;
  try {
    monitor = await PredictionMonitor.open({
      ...m,
      shadow: m.shadow
        ? {
            queueSize: m.shadow.queueSize,
            timeoutMs: m.shadow.timeoutMs,
            nice: m.shadow.nice,
            policy: m.shadow.policy,
            isolation: m.shadow.isolation,
            batchMs: m.shadow.batchMs,
            yieldUs: m.shadow.yieldUs,
          }
        : undefined,
      registry: metrics.registry,
      logger: log,
    });
  } catch (e) {
    log.error({ err: errorText(e), path: m.logPath }, 'prediction log unavailable: serving without monitoring');
    return undefined;
  }
  const champion = (sm: ServedModel) =>
    monitor.setChampion({ name: sm.info.name, version: sm.info.version }, sm.bundle.reference);
  if (provider.current) champion(provider.current);
  provider.onReload((e) => e.outcome === 'swapped' && e.model && champion(e.model));
  let shadowProvider: ModelProvider | undefined;
  if (m.shadow) {
    const source = m.shadow.source;
    const Client = isRegistryUri(source)
      ? (TrackingClient ?? (await import('../tracking/index.js')).TrackingClient)
      : undefined;
    shadowProvider = new ModelProvider({
      source,
      cwd: o.cwd,
      logger: log,
      prepare: challengerOnItsThread,
      openTracking: Client
        ? () => Client.open({ env: o.env, paramsUri: o.paramsTrackingUri, cwd: o.cwd, logger: log })
        : undefined,
    });
    shadowProvider.onReload((e) => {
      if (e.outcome === 'swapped' && e.model)
        monitor.setChallenger(e.model.bundle.toJSON(), { name: e.model.info.name, version: e.model.info.version });
      else if (e.outcome === 'failed')
        log.error({ source, err: errorText(e.error) }, 'shadow challenger not loaded; the champion serves alone');
    });
  }
  return {
    monitor,
    startShadow(pollMs) {
      if (!shadowProvider) return;
      // loaded after the champion and never awaited: a challenger that fails to load costs nothing
      void shadowProvider.refresh({ force: true }).then(() => shadowProvider.startPolling(pollMs));
    },
    async close() {
      await shadowProvider?.close();
      await monitor.close();
    },
  };
}

/**
 * The shadow challenger's provider loads the bundle and compiles nothing on this thread:
 * the challenger is compiled, proved and priced on its own thread (a model that fails
 * there is logged and counted). A second compiled model on the serving thread cost the
 * champion's requests CPU (its code paths optimised for one model, then for two) and
 * doubled the warm-up.
 */
function challengerOnItsThread(): ServingPredictor {
  const elsewhere = (): never => {
    throw new AppError('MODEL_NOT_READY', "the shadow challenger is priced on its own thread, not the server's");
  };
  return { categoricalFields: [], predictOne: elsewhere, predictMany: elsewhere };
}

export interface ClusterOptions {
  workers: number;
  /** Script and arguments each worker runs (the CLI with `serve ... --workers 1`). */
  exec: string;
  args: string[];
  cwd: string;
  logger: FastifyBaseLogger;
  /** Aborted on SIGTERM/SIGINT: workers are told to drain and stop. */
  signal: AbortSignal;
}

/** Message a worker sends the primary once its model is warm. */
export interface WorkerReady {
  type: 'carprice-serve-ready';
  url: string;
  model: { name: string; version: string | null };
}

/** A worker asks the primary for the cluster's metrics (`id` pairs the answer with the request). */
interface MetricsRequest {
  type: 'carprice-metrics-req';
  id: number;
}

interface MetricsResponse {
  type: 'carprice-metrics-res';
  id: number;
  text?: string;
  error?: string;
}

/**
 * In a cluster worker: let the primary read this worker's registry (prom-client's
 * AggregatorRegistry answers its requests), and return the /metrics text function that
 * asks the primary for the sum over every worker. Should the primary not answer within
 * 5 s, this worker's own metrics are served, with a comment line saying so.
 */
async function workerMetrics(metrics: ServingMetrics): Promise<() => Promise<string>> {
  const { AggregatorRegistry } = await import('prom-client');
  AggregatorRegistry.setRegistries([metrics.registry]);
  new AggregatorRegistry(); // installs the worker's listener for the primary's requests
  let seq = 0;
  const pending = new Map<number, (m: MetricsResponse) => void>();
  process.on('message', (m: MetricsResponse) => {
    if (m?.type !== 'carprice-metrics-res') return;
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  const local = async (why: string) =>
    `# carprice: the cluster's metrics are unavailable (${why}); these are one worker's\n${await metrics.registry.metrics()}`;
  return () =>
    new Promise<string>((resolve) => {
      const id = ++seq;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(local('the primary did not answer in 5 s'));
      }, 5000);
      pending.set(id, (m) => {
        clearTimeout(timer);
        resolve(m.text ?? local(m.error ?? 'no answer'));
      });
      try {
        process.send!({ type: 'carprice-metrics-req', id } satisfies MetricsRequest);
      } catch (e) {
        clearTimeout(timer);
        pending.delete(id);
        resolve(local(errorText(e)));
      }
    });
}

/** Tell the cluster primary (if any) that this worker is ready; true in a worker. */
export function announceReady(msg: Omit<WorkerReady, 'type'>): boolean {
  if (!cluster.isWorker || !process.send) return false;
  process.send({ type: 'carprice-serve-ready', ...msg } satisfies WorkerReady);
  return true;
}

/** In a cluster worker, close the channel to the primary so the process can exit. */
export function leaveCluster(): void {
  if (cluster.isWorker) cluster.worker?.disconnect();
}

export interface RunningCluster {
  url: string;
  model: WorkerReady['model'];
  /** Resolves when every worker has exited after the signal. */
  done: Promise<void>;
}

/** Fork `workers` servers sharing one port; resolves once all are ready. */
export async function serveCluster(o: ClusterOptions): Promise<RunningCluster> {
  cluster.setupPrimary({ exec: o.exec, args: o.args, cwd: o.cwd, silent: false });
  // /metrics in any worker: every worker's registry, summed (see workerMetrics)
  const { AggregatorRegistry } = await import('prom-client');
  const aggregator = new AggregatorRegistry();
  const answerMetrics = (w: Worker, id: number) => {
    aggregator.clusterMetrics().then(
      (text) =>
        w.isConnected() &&
        w.send({
          type: 'carprice-metrics-res',
          id,
          text: `${text}# HELP carprice_workers Worker processes serving\n# TYPE carprice_workers gauge\ncarprice_workers ${readyCount}\n`,
        } satisfies MetricsResponse),
      (e: unknown) =>
        w.isConnected() && w.send({ type: 'carprice-metrics-res', id, error: errorText(e) } satisfies MetricsResponse),
    );
  };
  const live = new Set<Worker>();
  let stopping = false;
  let readyCount = 0;
  let first: WorkerReady | undefined;
  let onAllReady: (() => void) | undefined;
  let onFail: ((e: Error) => void) | undefined;
  let onDone: (() => void) | undefined;
  const done = new Promise<void>((res) => (onDone = res));
  const fork = () => {
    const w = cluster.fork();
    live.add(w);
    let wasReady = false;
    w.on('message', (m: WorkerReady | MetricsRequest) => {
      if (m?.type === 'carprice-metrics-req') return answerMetrics(w, m.id);
      if (m?.type !== 'carprice-serve-ready') return;
      wasReady = true;
      first ??= m;
      if (++readyCount === o.workers) onAllReady?.();
    });
    w.on('exit', (code, signal) => {
      live.delete(w);
      if (stopping) {
        if (live.size === 0) onDone?.();
        return;
      }
      if (!wasReady) {
        onFail?.(
          new AppError(
            'MODEL_NOT_READY',
            `worker ${w.id} exited before it was ready (code ${code ?? signal}); see its error above`,
          ),
        );
        return;
      }
      o.logger.error({ worker: w.id, code, signal }, 'worker died; starting a replacement');
      readyCount--;
      setTimeout(() => !stopping && fork(), 500).unref();
    });
  };
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.off('SIGHUP', hup);
    if (readyCount < o.workers) onFail?.(new AppError('INTERRUPTED', 'stopped before every worker was ready'));
    if (live.size === 0) onDone?.();
    for (const w of live) w.process.kill('SIGTERM');
  };
  const hup = () => {
    for (const w of live) w.process.kill('SIGHUP');
  };
  process.on('SIGHUP', hup);
  o.signal.addEventListener('abort', stop, { once: true });
  const ready = new Promise<void>((res, rej) => {
    onAllReady = res;
    onFail = rej;
  });
  for (let i = 0; i < o.workers; i++) fork();
  try {
    await ready;
  } catch (e) {
    stop();
    await done;
    throw e;
  }
  return { url: first!.url, model: first!.model, done };
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/**
 * The server's pino logger: JSON lines on stderr at `level` (CARPRICE_LOG_LEVEL, default
 * info), off the request path: lines collect in a buffer written out once it holds 8 KiB
 * or every 250 ms, whichever comes first (one write per line costs a system call per
 * request); `flush` before exit. Authorization headers are redacted should anything ever
 * log them.
 */
export async function serverLogger(
  level: string | undefined,
): Promise<{ logger: FastifyBaseLogger; flush: () => void }> {
  const { pino } = await import('pino');
  const dest = pino.destination({ dest: 2, sync: false, minLength: 8 * 1024 });
  setInterval(() => {
    try {
      dest.flush();
    } catch {
      // closed at exit
    }
  }, 250).unref();
  const logger = pino(
    {
      level: level && LEVELS.has(level) ? level : 'info',
      base: { pid: process.pid },
      redact: ['req.headers.authorization', 'headers.authorization', 'authorization'],
    },
    dest,
  );
  return {
    logger,
    flush: () => {
      try {
        dest.flushSync();
      } catch {
        // nothing buffered, or the stream is already closed
      }
    },
  };
}
