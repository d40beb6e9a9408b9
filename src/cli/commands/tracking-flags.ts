/**
 * Flags shared by the tracking commands (experiments, runs, models, tracking serve) and the
 * store they open. The tracking URI comes from, in order: `--tracking-uri`, then
 * MLFLOW_TRACKING_URI, then params.yaml `mlflow.tracking_uri` (read with the usual
 * `--params`/`--set` flags), then the embedded default `.carprice/mlflow.db`.
 *
 * This module has no value imports: the CLI imports every command module at start-up, so
 * params.yaml parsing (yaml) and the stores (better-sqlite3, fetch clients) load only
 * inside run(), when a tracking command actually runs.
 */
import type { CommandContext, OptionSpec, ParsedArgs } from '../command.js';
import type { ResolvedTracking } from '../../tracking/resolve-store.js';

/**
 * `--params FILE` and `--set KEY=VALUE`: the same spec as PARAMS_OPTIONS in params-flags.ts,
 * restated so that importing this module stays free of yaml (tracking-flags.test.ts keeps
 * the two equal).
 */
export const TRACKING_PARAMS_OPTIONS: OptionSpec = {
  params: { type: 'string' },
  set: { type: 'string', multiple: true },
};

/** Options of every command that opens the tracking store. */
export const TRACKING_STORE_OPTIONS: OptionSpec = {
  'tracking-uri': { type: 'string' },
  ...TRACKING_PARAMS_OPTIONS,
};

/** Help lines for TRACKING_STORE_OPTIONS. */
export const TRACKING_STORE_HELP = `  --tracking-uri URI   store to read: sqlite:///path.db or http(s)://server
                       (default: $MLFLOW_TRACKING_URI, else params.yaml mlflow.tracking_uri,
                       else the embedded .carprice/mlflow.db)
  --params FILE        params file for mlflow.tracking_uri (default: $CARPRICE_PARAMS or ./params.yaml)
  --set KEY=VALUE      override a params key, e.g. --set mlflow.tracking_uri=sqlite:///other.db`;

/**
 * The tracking URI the flags, the environment and params.yaml select. params.yaml is read
 * only when neither the flag nor MLFLOW_TRACKING_URI decides, so a broken params file does
 * not stop `--tracking-uri` from working.
 */
export async function trackingUriFromFlags(
  args: ParsedArgs,
  ctx: CommandContext,
  flag = 'tracking-uri',
): Promise<string> {
  const explicit = args.values[flag];
  if (typeof explicit === 'string' && explicit.trim()) return explicit.trim();
  const { resolveTrackingUri } = await import('../../tracking/resolve-store.js');
  let paramsUri: string | undefined;
  if (!ctx.env.MLFLOW_TRACKING_URI) {
    const { paramsFromFlags } = await import('./params-flags.js');
    paramsUri = (await paramsFromFlags(args, ctx)).mlflow.tracking_uri ?? undefined;
  }
  return resolveTrackingUri({ env: ctx.env, paramsUri, cwd: ctx.cwd });
}

/** Open the tracking store the flags select (see the module comment for the order). */
export async function openTrackingFromFlags(args: ParsedArgs, ctx: CommandContext): Promise<ResolvedTracking> {
  const uri = await trackingUriFromFlags(args, ctx);
  const { openStore } = await import('../../tracking/resolve-store.js');
  return openStore(uri, { env: ctx.env, cwd: ctx.cwd, logger: ctx.logger });
}
