/** `carprice serve`: the prediction API over the registry model (or a bundle directory). */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../core/errors.js';
import type { Params } from '../../config/params.js';
import type { FastifyInstance } from 'fastify';
import type { Command, CommandContext, ParsedArgs } from '../command.js';
import { PARAMS_HELP, PARAMS_OPTIONS, paramsFromFlags } from './params-flags.js';
import { checkHost, portFlag, wholeNumberFlag } from '../flag-values.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the prediction API (/predict, /predict/batch, /explain, /model, /metrics, /docs)',
  help: `Usage: carprice serve [--host 0.0.0.0] [--port 8000] [--model URI|DIR] [--workers N] [--ui]

  --host HOST          address to bind (default: $HOST, else serving.host in params.yaml, 0.0.0.0)
  --port N             port (default: $PORT, else serving.port, 8000; 0 = any free port)
  --model URI|DIR      models:/UsedCarPriceModel@champion (default), models:/NAME/Production,
                       models:/NAME/Staging, models:/NAME/3, models:/NAME/latest, runs:/RUN_ID/model,
                       or a bundle directory; registry URIs use the tracking store
                       ($MLFLOW_TRACKING_URI, mlflow.tracking_uri, else .carprice/mlflow.db)
  --workers N          processes sharing the port (default serving.workers, 1)
  --shadow URI|DIR     also price each logged request with this challenger (e.g.
                       models:/UsedCarPriceModel@challenger) on its own thread, after the
                       answer is sent; both prices go to the prediction log (carprice monitor shadow)
  --ui                 also serve the web dashboard at /ui (what \`carprice up\` does); it reads
                       the tracking store and asks for CARPRICE_TRACKING_USERS when they are set
${PARAMS_HELP}

Predictions are logged (sampled: monitoring.sample_rate) to monitoring.log_path, a SQLite
file, off the response path; rows that cannot be written in time are dropped and counted in
/metrics (carprice_prediction_log_dropped_total). Responses carry x-request-id, the key
\`carprice monitor feedback\` joins sold prices on. Drift scores against the model's training
reference are on /metrics (carprice_drift_score) every monitoring.drift_interval_s.

When the registry cannot be reached at start, the bundle at $CARPRICE_MODEL_DIR serves.
A new version behind the alias or stage is loaded, warmed and swapped in every
serving.poll_interval_s seconds and on SIGHUP; SIGTERM drains in-flight requests.
Set CARPRICE_API_TOKEN to require "Authorization: Bearer <token>" on the prediction routes.
Request logs are pino JSON on stderr (CARPRICE_LOG_LEVEL, default info).
Example: carprice serve --model artifacts/model_trainer/model --port 8000 && open http://127.0.0.1:8000/docs`,
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    model: { type: 'string' },
    workers: { type: 'string' },
    shadow: { type: 'string' },
    ui: { type: 'boolean' },
    ...PARAMS_OPTIONS,
  },
  async run(args, ctx) {
    const params = await paramsFromFlags(args, ctx);
    return serveWith(args, ctx, params);
  },
};

/**
 * --host, --port and --workers (else $HOST and $PORT, else params.yaml's serving section),
 * checked: `carprice up` checks them before its pipeline runs, not after.
 */
export function serveFlags(args: ParsedArgs, ctx: CommandContext, params: Params) {
  const v = args.values;
  const s = params.serving;
  const host = (v.host as string | undefined) ?? ctx.env.HOST ?? s.host;
  if (v.host !== undefined || ctx.env.HOST !== undefined) checkHost(host);
  const port = portFlag(v.port) ?? portFlag(ctx.env.PORT, 0, '$PORT') ?? s.port;
  const workers = wholeNumberFlag('workers', v.workers, 1, 256) ?? s.workers;
  return { host, port, workers };
}

/** Serve with the given params (also what `carprice up` ends with). Returns when stopped. */
export async function serveWith(args: ParsedArgs, ctx: CommandContext, params: Params): Promise<number> {
  const v = args.values;
  const s = params.serving;
  const { host, port, workers } = serveFlags(args, ctx, params);
  const model =
    (v.model as string | undefined) ?? s.model_uri ?? `models:/${params.model_registration.model_name}@champion`;
  const { serve, serveCluster, serverLogger, announceReady, leaveCluster } = await import('../../serving/serve.js');
  const { logger, flush } = await serverLogger(ctx.env.CARPRICE_LOG_LEVEL);
  try {
    if (workers > 1) {
      const forwarded = [
        ...((v.set as string[] | undefined) ?? []).flatMap((x) => ['--set', x]),
        ...(v.params ? ['--params', v.params as string] : []),
        ...(v.ui ? ['--ui'] : []),
      ];
      const c = await serveCluster({
        workers,
        exec: fileURLToPath(new URL('../main.js', import.meta.url)),
        args: [
          'serve',
          '--host',
          host,
          '--port',
          String(port),
          '--model',
          model,
          '--workers',
          '1',
          ...(v.shadow ? ['--shadow', v.shadow as string] : []),
          ...forwarded,
        ],
        cwd: ctx.cwd,
        logger,
        signal: ctx.signal,
      });
      ctx.stdout.write(
        `carprice API listening on ${c.url} with ${workers} workers (model ${c.model.name}${c.model.version ? ` v${c.model.version}` : ''}); docs at ${c.url}/docs\n`,
      );
      await c.done;
      ctx.stdout.write('carprice API stopped\n');
      return 0;
    }
    const dashboard = v.ui ? await dashboardExtension(ctx, params, model) : undefined;
    let server: Awaited<ReturnType<typeof serve>>;
    try {
      server = await serve({
        host,
        port,
        model,
        cwd: ctx.cwd,
        env: ctx.env,
        paramsTrackingUri: params.mlflow.tracking_uri ?? undefined,
        logger,
        pollIntervalS: s.poll_interval_s,
        batchLimit: s.batch_limit,
        bodyLimit: s.body_limit_bytes,
        rateLimitPerMinute: s.rate_limit_per_minute,
        maxStringLength: s.max_string_length,
        ranges: params.ranges,
        shutdownTimeoutS: s.shutdown_timeout_s,
        logRequests: s.log_requests,
        extend: dashboard?.extend,
        monitoring: await monitoringOptions(params, ctx, v.shadow as string | undefined),
      });
    } catch (e) {
      await dashboard?.close();
      throw e;
    }
    const m = server.model.info;
    const inCluster = announceReady({ url: server.url, model: { name: m.name, version: m.version } });
    if (!inCluster)
      ctx.stdout.write(
        `carprice API listening on ${server.url} (model ${m.name}${m.version ? ` v${m.version}` : ''}${m.stage && m.stage !== 'None' ? ` ${m.stage}` : ''} from ${m.origin === 'fallback' ? `CARPRICE_MODEL_DIR ${m.source}` : m.source}); docs at ${server.url}/docs${dashboard ? `; dashboard at ${server.url}/ui/` : ''}\n`,
      );
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
    await dashboard?.close();
    if (inCluster) leaveCluster();
    else ctx.stdout.write('carprice API stopped\n');
    return 0;
  } finally {
    flush();
  }
}

/** The dashboard on the prediction API: its own tracking client, closed with the server. */
async function dashboardExtension(
  ctx: CommandContext,
  params: Params,
  model: string,
): Promise<{ extend: (app: FastifyInstance) => Promise<void>; close(): Promise<void> }> {
  const [{ registerDashboard }, wiring, { TrackingClient }] = await Promise.all([
    import('../../dashboard/index.js'),
    import('../dashboard-wiring.js'),
    import('../../tracking/index.js'),
  ]);
  const client = TrackingClient.open({
    env: ctx.env,
    paramsUri: params.mlflow.tracking_uri ?? undefined,
    cwd: ctx.cwd,
    logger: ctx.logger,
  });
  const knownValues = await wiring.knownValuesFor(params, ctx.cwd);
  return {
    extend: (app) =>
      registerDashboard(app, {
        store: client.store,
        artifactsFor: (uri) => client.artifacts.repositoryFor(uri),
        users: ctx.env.CARPRICE_TRACKING_USERS,
        pipelineDir: ctx.cwd,
        governance: wiring.governanceAdapter(client),
        knownValues,
        predict: wiring.injectedPredictor(app, ctx.env),
        versionPredictions: wiring.versionPredictionsFor(client, params, ctx.cwd, ctx.env),
        monitoring: wiring.monitoringAdapter({
          params,
          cwd: ctx.cwd,
          env: ctx.env,
          logPath: resolve(ctx.cwd, params.monitoring.log_path),
          model,
          client: () => client,
        }),
        host: 'prediction API',
      }),
    close: () => client.close(),
  };
}

/** The server's prediction log, drift and shadow settings from params.yaml and --shadow. */
async function monitoringOptions(
  params: Params,
  ctx: CommandContext,
  shadow: string | undefined,
): Promise<import('../../serving/serve.js').ServeMonitoringOptions | undefined> {
  const m = params.monitoring;
  if (!m.log_enabled) {
    if (shadow)
      throw new AppError(
        'USAGE',
        '--shadow needs the prediction log (the challenger prices are compared there); set monitoring.log_enabled: true',
      );
    return undefined;
  }
  const { thresholdsFromParams } = await import('../../monitoring/drift-report.js');
  const { parseDuration } = await import('../../monitoring/time-window.js');
  return {
    logPath: resolve(ctx.cwd, m.log_path),
    sampleRate: m.sample_rate,
    queueSize: m.queue_size,
    retentionDays: m.retention_days,
    maxRows: m.max_rows,
    driftIntervalS: m.drift_interval_s,
    driftWindowMs: parseDuration(m.drift.window, 'monitoring.drift.window'),
    thresholds: thresholdsFromParams(m.drift),
    shadow: shadow
      ? {
          source: shadow,
          queueSize: m.shadow_queue_size,
          timeoutMs: m.shadow_timeout_ms,
          nice: m.shadow_nice,
          policy: m.shadow_policy,
          isolation: m.shadow_isolation,
          batchMs: m.shadow_batch_ms,
          yieldUs: m.shadow_yield_us,
        }
      : undefined,
  };
}
