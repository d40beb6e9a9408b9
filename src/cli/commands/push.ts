/** `carprice push`: upload cached outputs to a remote (like dvc push). */
import type { Command } from '../command.js';
import { TRANSFER_OPTIONS, transferOptionsFromFlags } from './transfer-flags.js';

export const pushCommand: Command = {
  name: 'push',
  summary: 'Upload tracked data and pipeline outputs to the remote (like dvc push)',
  help: `Usage: carprice push [TARGET...] [-r REMOTE] [-j N] [--run-cache]

Uploads the cache objects of every output recorded in dvc.lock and .dvc files that the
remote lacks (layout files/md5/xx/..., the same as DVC's). Default remote: core.remote
(set with \`carprice remote add -d NAME URL\`). --run-cache also uploads the run-cache
entries (.dvc/cache/runs, as \`dvc push --run-cache\`).`,
  options: { ...TRANSFER_OPTIONS, 'run-cache': { type: 'boolean' } },
  positionals: true,
  async run(args, ctx) {
    const { push, pushRunCache, formatMissing, plural } = await import('../../pipeline/transfer.js');
    const opts = transferOptionsFromFlags(args, ctx);
    const r = await push(opts);
    if (args.values['run-cache']) {
      const { Repo } = await import('../../pipeline/repo.js');
      r.transferred += await pushRunCache(Repo.find(ctx.cwd), opts.remote, ctx.env);
    }
    ctx.stderr.write(formatMissing(r.missing, `remote '${r.remote}'`));
    ctx.stdout.write(r.transferred ? `${plural(r.transferred, 'file')} pushed\n` : 'Everything is up to date.\n');
  },
};
