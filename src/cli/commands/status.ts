/** `carprice status`: which stages and data sources are out of date, printed like dvc status. */
import type { Command } from '../command.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show changed stages and data sources (like dvc status)',
  help: `Usage: carprice status [TARGET...] [--json] [-q]

Prints what \`dvc status\` prints: per stage, changed deps (files and params keys),
changed outs (modified, deleted, not in cache), "always changed", "changed command".

Flags:
      --json   print the status as JSON
  -q, --quiet  print nothing; exit code 1 when something changed`,
  options: { json: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
  positionals: true,
  async run(args, ctx) {
    const { status, formatStatus, statusJson } = await import('../../pipeline/status.js');
    const r = await status({ cwd: ctx.cwd, targets: args.positionals });
    if (args.values.quiet) return r.changed.length ? 1 : 0;
    ctx.stdout.write(args.values.json ? JSON.stringify(statusJson(r)) + '\n' : formatStatus(r));
    return 0;
  },
};
