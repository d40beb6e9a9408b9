/**
 * Flags shared by the commands that read params.yaml: `--params FILE` and repeated
 * `--set key=value` overrides.
 */
import { join, isAbsolute } from 'node:path';
import type { Params } from '../../config/params.js';
import type { CommandContext, OptionSpec, ParsedArgs } from '../command.js';

export const PARAMS_OPTIONS: OptionSpec = {
  params: { type: 'string' },
  set: { type: 'string', multiple: true },
};

export const PARAMS_HELP = `  --params FILE        params file (default: $CARPRICE_PARAMS or ./params.yaml)
  --set KEY=VALUE      override a params key, repeatable (e.g. --set model_trainer.params.ridge.alpha=3)`;

/** Load params.yaml with the command's overrides (the YAML parser is loaded on first use). */
export async function paramsFromFlags(args: ParsedArgs, ctx: CommandContext): Promise<Params> {
  const { loadParams } = await import('../../config/params.js');
  const p = (args.values.params as string | undefined) ?? ctx.env.CARPRICE_PARAMS ?? 'params.yaml';
  return loadParams({
    path: isAbsolute(p) ? p : join(ctx.cwd, p),
    sets: (args.values.set as string[] | undefined) ?? [],
    mustExist: args.values.params !== undefined,
  });
}

/** Resolve a user path against the command's working directory (URLs untouched). */
export function resolvePath(ctx: CommandContext, p: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || isAbsolute(p) ? p : join(ctx.cwd, p);
}
