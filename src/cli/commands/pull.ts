/** `carprice pull`: fetch + checkout (like dvc pull). */
import type { Command } from '../command.js';
import { TRANSFER_OPTIONS, transferOptionsFromFlags } from './transfer-flags.js';

export const pullCommand: Command = {
  name: 'pull',
  summary: 'Download tracked data from the remote and put it in the workspace (like dvc pull)',
  help: `Usage: carprice pull [TARGET...] [-r REMOTE] [-j N] [--force] [--run-cache]

fetch, then checkout: afterwards the workspace holds the data recorded in dvc.lock and
.dvc files. Without a default remote, add one first:
  carprice remote add -d storage s3://BUCKET/PREFIX
--run-cache also downloads the remote's run-cache entries (as \`dvc pull --run-cache\`).`,
  options: { ...TRANSFER_OPTIONS, force: { type: 'boolean', short: 'f' }, 'run-cache': { type: 'boolean' } },
  positionals: true,
  async run(args, ctx) {
    const { pull, formatMissing, formatCheckout, formatCheckoutWarnings, dvcSummary } =
      await import('../../pipeline/transfer.js');
    const { AppError } = await import('../../core/errors.js');
    const opts = transferOptionsFromFlags(args, ctx);
    if (args.values['run-cache']) {
      const { pullRunCache } = await import('../../pipeline/transfer.js');
      const { Repo } = await import('../../pipeline/repo.js');
      await pullRunCache(Repo.find(ctx.cwd), opts.remote, ctx.env);
    }
    const r = await pull({ ...opts, force: Boolean(args.values.force) });
    ctx.stderr.write(formatMissing(r.fetch.missing, `remote '${r.fetch.remote}'`));
    ctx.stderr.write(formatCheckoutWarnings(r.checkout));
    ctx.stdout.write(formatCheckout(r.checkout));
    if (r.checkout.failed.length)
      throw new AppError(
        'CACHE_MISSING',
        `failed to pull data from the cloud - Checkout failed for following targets:\n${r.checkout.failed.join('\n')}\nIs your cache up to date? (the objects above are neither in the local cache nor on remote '${r.fetch.remote}')`,
      );
    const st = r.checkout.stats;
    const line = dvcSummary([
      ['fetched', r.fetch.transferred],
      ['modified', st.modified],
      ['added', st.added],
      ['deleted', st.deleted],
    ]);
    ctx.stdout.write((line || 'Everything is up to date.') + '\n');
  },
};
