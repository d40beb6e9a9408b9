/** `carprice fetch`: download missing cache objects from a remote (like dvc fetch). */
import type { Command } from '../command.js';
import { TRANSFER_OPTIONS, transferOptionsFromFlags } from './transfer-flags.js';

export const fetchCommand: Command = {
  name: 'fetch',
  summary: 'Download tracked data from the remote into the cache (like dvc fetch)',
  help: `Usage: carprice fetch [TARGET...] [-r REMOTE] [-j N] [--run-cache]

Downloads into .dvc/cache the objects of recorded outputs that are not there yet,
checking each against its md5. The workspace is not touched (see pull / checkout).
--run-cache also downloads the remote's run-cache entries.`,
  options: { ...TRANSFER_OPTIONS, 'run-cache': { type: 'boolean' } },
  positionals: true,
  async run(args, ctx) {
    const { fetch, formatMissing, plural } = await import('../../pipeline/transfer.js');
    const opts = transferOptionsFromFlags(args, ctx);
    if (args.values['run-cache']) {
      const { pullRunCache } = await import('../../pipeline/transfer.js');
      const { Repo } = await import('../../pipeline/repo.js');
      await pullRunCache(Repo.find(ctx.cwd), opts.remote, ctx.env);
    }
    const r = await fetch(opts);
    ctx.stderr.write(formatMissing(r.missing, `remote '${r.remote}'`));
    ctx.stdout.write(r.transferred ? `${plural(r.transferred, 'file')} fetched\n` : 'Everything is up to date.\n');
    return r.missing.length ? 1 : 0;
  },
};
