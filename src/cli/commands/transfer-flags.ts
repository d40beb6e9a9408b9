/**
 * Flags shared by the remote transfer commands (push, fetch, pull): `[TARGET...]`,
 * `-r REMOTE` and `-j N`, and the TransferOptions they select. Type imports only, so the
 * CLI start-up (which imports every command module) does not load the pipeline code.
 */
import type { CommandContext, OptionSpec, ParsedArgs } from '../command.js';
import type { TransferOptions } from '../../pipeline/transfer.js';
import { wholeNumberFlag } from '../flag-values.js';

/** `-r/--remote REMOTE` and `-j/--jobs N`. */
export const TRANSFER_OPTIONS: OptionSpec = {
  remote: { type: 'string', short: 'r' },
  jobs: { type: 'string', short: 'j' },
};

/** TransferOptions from the TRANSFER_OPTIONS flags and positional targets; progress drawn unless CI / NO_COLOR. */
export function transferOptionsFromFlags(args: ParsedArgs, ctx: CommandContext): TransferOptions {
  return {
    cwd: ctx.cwd,
    remote: args.values.remote as string | undefined,
    targets: args.positionals,
    env: ctx.env,
    jobs: wholeNumberFlag('jobs', args.values.jobs, 1),
    progress: ctx.stderr,
    progressEnabled: !ctx.env.CI && !ctx.env.NO_COLOR,
  };
}
