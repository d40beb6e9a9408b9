/** `carprice checkout`: restore recorded outputs from the cache (like dvc checkout). */
import type { Command } from '../command.js';

export const checkoutCommand: Command = {
  name: 'checkout',
  summary: 'Put the recorded versions of data and outputs from the cache into the workspace',
  help: `Usage: carprice checkout [TARGET...] [--force]

Makes every output recorded in dvc.lock and .dvc files match its recorded hash, copying
from .dvc/cache. Prints A (added) / M (modified) per output. Local changes that are not
in the cache are left alone unless --force.`,
  options: { force: { type: 'boolean', short: 'f' } },
  positionals: true,
  async run(args, ctx) {
    const { checkout, formatCheckout, formatCheckoutWarnings } = await import('../../pipeline/transfer.js');
    const { AppError } = await import('../../core/errors.js');
    const r = await checkout({ cwd: ctx.cwd, targets: args.positionals, force: Boolean(args.values.force) });
    ctx.stderr.write(formatCheckoutWarnings(r));
    ctx.stdout.write(formatCheckout(r));
    if (r.failed.length)
      throw new AppError(
        'CACHE_MISSING',
        `Checkout failed for following targets:\n${r.failed.join('\n')}\nIs your cache up to date? Run \`carprice pull\` (or \`carprice repro\`) first.`,
      );
  },
};
