/** `carprice status`: which stages and data sources are out of date, printed like dvc status. */
import type { Command } from '../command.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show changed stages and data sources (like dvc status)',
  help: `Usage: carprice status [TARGET...] [--json] [-q] [-c [-r REMOTE]]

Prints what \`dvc status\` prints: per stage, changed deps (files and params keys),
changed outs (modified, deleted, not in cache), "always changed", "changed command".

Flags:
      --json   print the status as JSON
  -q, --quiet  print nothing; exit code 1 when something changed
  -c, --cloud  compare the local cache with the remote instead (\`dvc status -c\`):
               new (only local), deleted (only on the remote), missing (neither)
  -r, --remote NAME  the remote for -c (default core.remote; implies -c)`,
  options: {
    json: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    cloud: { type: 'boolean', short: 'c' },
    remote: { type: 'string', short: 'r' },
  },
  positionals: true,
  async run(args, ctx) {
    const { pyJsonDumps, pyJsonString } = await import('../../pipeline/py-json.js');
    // DVC prints JSON with Python's separators (", " and ": ").
    const pyJson = (v: object) => pyJsonDumps(v as never, (d) => pyJsonString(d.text), false);
    if (args.values.cloud || args.values.remote) {
      const { cloudStatus } = await import('../../pipeline/transfer.js');
      const r = await cloudStatus({
        cwd: ctx.cwd,
        targets: args.positionals,
        remote: args.values.remote as string | undefined,
        env: ctx.env,
      });
      if (args.values.quiet) return r.status.size ? 1 : 0;
      if (args.values.json) ctx.stdout.write(pyJson(Object.fromEntries(r.status)) + '\n');
      else if (r.status.size === 0) ctx.stdout.write(`Cache and remote '${r.remote}' are in sync.\n`);
      else for (const [p, st] of r.status) ctx.stdout.write(`\t${(st + ':').padEnd(20)}${p}\n`);
      return 0;
    }
    const { status, formatStatus, statusJson } = await import('../../pipeline/status.js');
    const r = await status({ cwd: ctx.cwd, targets: args.positionals });
    for (const name of r.frozen)
      ctx.stderr.write(
        `WARNING: stage: '${name}' is frozen. Its dependencies are not going to be shown in the status output.\n`,
      );
    if (args.values.quiet) return r.changed.length ? 1 : 0;
    ctx.stdout.write(args.values.json ? pyJson(statusJson(r)) + '\n' : formatStatus(r));
    return 0;
  },
};
