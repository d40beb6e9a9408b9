/** `carprice tracking serve`: an MLflow-compatible tracking server over any store. */
import { resolve } from 'node:path';
import { AppError } from '../../core/errors.js';
import type { Command, CommandContext, ParsedArgs } from '../command.js';
import { checkHost, portFlag } from '../flag-values.js';
import type { Params } from '../../config/params.js';
import type { TrackingServerOptions } from '../../tracking/index.js';
import { TRACKING_PARAMS_OPTIONS, trackingUriFromFlags } from './tracking-flags.js';

export const trackingServeCommand: Command = {
  name: 'tracking serve',
  summary: 'Serve the MLflow REST API (tracking, registry, proxied artifacts) so MLflow clients can log to carprice',
  help: `Usage: carprice tracking serve [--host 127.0.0.1] [--port 5000] [--backend-store-uri URI] [--artifacts-destination DIR|s3://bucket/prefix]
                              [--allowed-hosts PATTERNS] [--cors-allowed-origins ORIGINS]
                              [--predict-url URL] [--prediction-log FILE] [--no-ui]

Serves /api/2.0/mlflow/*, /ajax-api/2.0/mlflow/*, /api/2.0/mlflow-artifacts/*, /get-artifact,
/model-versions/get-artifact, /graphql, /health and /version, and the web dashboard at /ui
(experiments, runs, compare, models, the pipeline of the current directory, predict,
monitoring).
  --backend-store-uri      sqlite:///path.db or http(s)://server (default: $MLFLOW_TRACKING_URI,
                           else params.yaml mlflow.tracking_uri, else .carprice/mlflow.db)
  --artifacts-destination  where proxied artifacts go (default: mlartifacts/ next to the database)
  --allowed-hosts          Host headers accepted, comma-separated fnmatch patterns, '*' = any
                           (default: $MLFLOW_SERVER_ALLOWED_HOSTS, else localhost, private
                           addresses and the --host name); others get 403 (DNS rebinding)
  --cors-allowed-origins   origins allowed to POST/PUT/DELETE/PATCH cross-origin (default:
                           $MLFLOW_SERVER_CORS_ALLOWED_ORIGINS; local origins always are)
  --predict-url URL        prediction API the dashboard's predict page asks (default:
                           http://127.0.0.1:<serving.port from params.yaml>)
  --prediction-log FILE    the prediction log the dashboard's monitoring page reads (default:
                           monitoring.log_path in params.yaml, the file \`carprice serve\` writes
                           from this directory); drift is judged against serving.model_uri,
                           else models:/<model_name>@champion
  --no-ui                  do not serve the dashboard
  --params FILE            params file (default: $CARPRICE_PARAMS or ./params.yaml)
  --set KEY=VALUE          override a params key, e.g. --set mlflow.tracking_uri=sqlite:///x.db
Set CARPRICE_TRACKING_USERS=user:password[,user:password] to require basic auth; without it the
server is open (it says so at start). Errors are logged on stderr (CARPRICE_LOG_LEVEL, default warn).
Example: carprice tracking serve --port 5000 && MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python train.py`,
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '5000' },
    'backend-store-uri': { type: 'string' },
    'artifacts-destination': { type: 'string' },
    'allowed-hosts': { type: 'string' },
    'cors-allowed-origins': { type: 'string' },
    'predict-url': { type: 'string' },
    'prediction-log': { type: 'string' },
    'no-ui': { type: 'boolean' },
    ...TRACKING_PARAMS_OPTIONS,
  },
  async run(args, ctx) {
    const port = portFlag(args.values.port)!;
    checkHost(String(args.values.host));
    const backendStoreUri = await trackingUriFromFlags(args, ctx, 'backend-store-uri');
    const { serveTracking } = await import('../../tracking/server/serve-tracking.js');
    // A server logs its errors even when no log level is set, so "see the server log" in a
    // 500 answer points at this process's stderr.
    const logger = ctx.env.CARPRICE_LOG_LEVEL
      ? ctx.logger
      : await (await import('../logger.js')).createLogger({ ...ctx.env, CARPRICE_LOG_LEVEL: 'warn' });
    const server = await serveTracking({
      host: String(args.values.host),
      port,
      backendStoreUri,
      artifactsDestination: args.values['artifacts-destination'] as string | undefined,
      allowedHosts: args.values['allowed-hosts'] as string | undefined,
      corsAllowedOrigins: args.values['cors-allowed-origins'] as string | undefined,
      env: ctx.env,
      cwd: ctx.cwd,
      logger,
      extend: args.values['no-ui'] ? undefined : await dashboardExtension(args, ctx),
    });
    ctx.stdout.write(
      `carprice tracking server listening on ${server.url} (backend ${server.backendUri}, artifacts ${server.artifactsUri})\n`,
    );
    if (!args.values['no-ui']) ctx.stdout.write(`dashboard at ${server.url}/ui/\n`);
    if (server.users.length === 0)
      ctx.stderr.write(
        'carprice: warning: this tracking server is open: no users are set, so anyone who can reach it can read, write and delete runs, models and artifacts; set CARPRICE_TRACKING_USERS=user:password to require basic auth\n',
      );
    else ctx.stdout.write(`basic auth required (${server.users.length} user${server.users.length === 1 ? '' : 's'})\n`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
    ctx.stdout.write('carprice tracking server stopped\n');
  },
};

/** The dashboard mounted on the tracking server: its store, governance, pipeline, known values, predictions. */
async function dashboardExtension(args: ParsedArgs, ctx: CommandContext): Promise<TrackingServerOptions['extend']> {
  const [{ registerDashboard }, wiring, { TrackingClient }] = await Promise.all([
    import('../../dashboard/index.js'),
    import('../dashboard-wiring.js'),
    import('../../tracking/index.js'),
  ]);
  let params: Params | undefined;
  try {
    const { paramsFromFlags } = await import('./params-flags.js');
    params = await paramsFromFlags(args, ctx);
  } catch (e) {
    ctx.stderr.write(`carprice: warning: the dashboard's predict page has no known values (${(e as Error).message})\n`);
  }
  const predictUrl =
    (args.values['predict-url'] as string | undefined) ?? `http://127.0.0.1:${params?.serving.port ?? 8000}`;
  const predictionLog = args.values['prediction-log'] as string | undefined;
  if (!/^https?:\/\/[^/]+/.test(predictUrl))
    throw new AppError('USAGE', `--predict-url must be an http(s):// URL, got "${predictUrl}"`);
  return async (app, c) => {
    // the server's own artifact lookup (mlflow-artifacts: -> its destination); closed with the server
    const client = new TrackingClient({
      store: c.store,
      artifacts: { repositoryFor: (uri) => c.artifactsFor(uri), close() {} },
    });
    await registerDashboard(app, {
      store: c.store,
      artifactsFor: (uri) => c.artifactsFor(uri),
      users: ctx.env.CARPRICE_TRACKING_USERS,
      pipelineDir: ctx.cwd,
      governance: wiring.governanceAdapter(client),
      knownValues: params ? await wiring.knownValuesFor(params, ctx.cwd) : undefined,
      predict: wiring.remotePredictor(predictUrl, ctx.env),
      versionPredictions: params ? wiring.versionPredictionsFor(client, params, ctx.cwd, ctx.env) : undefined,
      monitoring: params
        ? wiring.monitoringAdapter({
            params,
            cwd: ctx.cwd,
            env: ctx.env,
            logPath: resolve(ctx.cwd, predictionLog ?? params.monitoring.log_path),
            model: params.serving.model_uri ?? `models:/${params.model_registration.model_name}@champion`,
            client: () => client,
          })
        : undefined,
      host: 'tracking server',
    });
  };
}
