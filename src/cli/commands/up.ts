/**
 * `carprice up` (what `npm start` runs): the whole system in one command.
 *   1. `carprice start`: pull the data when missing, reproduce the pipeline (stages whose
 *      inputs did not change are skipped, so a second run takes well under a second), test
 *      the Staging version and promote it when it passes;
 *   2. serve the API on serving.port (8000) with the best model the registry has: the
 *      champion alias, else Production, else Staging, else the latest version.
 */
import { AppError, isAppError } from '../../core/errors.js';
import type { Params } from '../../config/params.js';
import type { Command, CommandContext } from '../command.js';
import { PARAMS_HELP, PARAMS_OPTIONS, paramsFromFlags } from './params-flags.js';
import { startCommand } from './start.js';
import { serveFlags, serveWith } from './serve.js';

export const upCommand: Command = {
  name: 'up',
  summary: 'The whole system: pull data, reproduce the pipeline, test and promote the model, serve the API on :8000',
  help: `Usage: carprice up [--host 0.0.0.0] [--port 8000] [--workers N] [--jobs N]

1. pulls the data, reproduces dvc.yaml, tests the Staging version and promotes it when it
   passes (as \`carprice start\`; up-to-date stages are skipped);
2. serves the API (as \`carprice serve --ui\`) with the registry's champion, else its
   Production, Staging or latest version, and the web dashboard at /ui.
Run it again and it serves in about a second. Stop it with Ctrl-C or SIGTERM.

  --host HOST, --port N, --workers N   as for \`carprice serve\`
  -j, --jobs N                         pipeline stages run at once
${PARAMS_HELP}
`,
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    workers: { type: 'string' },
    jobs: { type: 'string', short: 'j' },
    ...PARAMS_OPTIONS,
  },
  async run(args, ctx) {
    const v = args.values;
    // the serving flags, and that the port is free, are checked now, not after the pipeline has run
    const { host, port } = serveFlags(args, ctx, await paramsFromFlags(args, ctx));
    await portFree(host, port);
    await startCommand.run({ values: { jobs: v.jobs, params: v.params, set: v.set }, positionals: [] }, ctx);
    if (ctx.signal.aborted) return 130;
    const params = await paramsFromFlags(args, ctx);
    const model = await bestModelUri(ctx, params);
    ctx.stderr.write(`serving ${model}\n`);
    return serveWith(
      {
        values: { host: v.host, port: v.port, workers: v.workers, model, params: v.params, set: v.set, ui: true },
        positionals: [],
      },
      ctx,
      params,
    );
  },
};

/** Resolves when `port` on `host` can be listened on now (0: any port, always); else the listen error. */
async function portFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const { createServer } = await import('node:net');
  const { listenError } = await import('../../core/errors.js');
  await new Promise<void>((res, rej) => {
    const probe = createServer();
    probe.once('error', (e) => rej(listenError(host, port, e)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => res()));
  });
}

/** The first of champion, Production, Staging, latest that the registry resolves. */
export async function bestModelUri(ctx: CommandContext, params: Params): Promise<string> {
  if (params.serving.model_uri) return params.serving.model_uri;
  const name = params.model_registration.model_name;
  const { TrackingClient } = await import('../../tracking/index.js');
  const client = TrackingClient.open({
    env: ctx.env,
    paramsUri: params.mlflow.tracking_uri ?? undefined,
    cwd: ctx.cwd,
    logger: ctx.logger,
  });
  try {
    for (const uri of [
      `models:/${name}@champion`,
      `models:/${name}/Production`,
      `models:/${name}/Staging`,
      `models:/${name}/latest`,
    ]) {
      try {
        await client.resolveModelVersion(uri);
        return uri;
      } catch (e) {
        if (!isAppError(e) || !['RESOURCE_DOES_NOT_EXIST', 'NOT_FOUND', 'INVALID_PARAMETER_VALUE'].includes(e.code))
          throw e;
      }
    }
  } finally {
    await client.close();
  }
  if (ctx.env.CARPRICE_MODEL_DIR) return `models:/${name}@champion`;
  throw new AppError(
    'MODEL_NOT_READY',
    `the registry has no version of ${name}; the pipeline should have registered one (see \`carprice models show ${name}\`)`,
  );
}
