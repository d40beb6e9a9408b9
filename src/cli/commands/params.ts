/** `carprice params diff`: params changed since a git revision (like dvc params diff). */
import type { Command } from '../command.js';

export const paramsDiffCommand: Command = {
  name: 'params diff',
  summary: 'Show params changed between a git revision (default HEAD) and the workspace',
  help: `Usage: carprice params diff [REV] [--all] [--md] [--json]

Covers the params used by stages, the top-level params files of dvc.yaml and params.yaml.
Prints DVC's table: Path  Param  HEAD  workspace (nothing when nothing changed).`,
  options: { all: { type: 'boolean' }, md: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: true,
  async run(args, ctx) {
    const { paramsDiff, plainTable, markdownTable } = await import('../../pipeline/index.js');
    const { pyStr } = await import('../../pipeline/py-value.js');
    const rev = args.positionals[0];
    const rows = paramsDiff({ cwd: ctx.cwd, rev, all: Boolean(args.values.all) });
    const cell = (v: unknown) => (v === undefined ? '-' : pyStr(v as never));
    if (args.values.json) {
      const out: Record<string, Record<string, { old: string; new: string }>> = {};
      for (const r of rows) (out[r.path] ??= {})[r.key] = { old: cell(r.old), new: cell(r.new) };
      ctx.stdout.write(JSON.stringify(out) + '\n');
      return;
    }
    if (rows.length === 0) return;
    const table = args.values.md ? markdownTable : plainTable;
    ctx.stdout.write(table(['Path', 'Param', rev ?? 'HEAD', 'workspace'], rows.map((r) => [r.path, r.key, cell(r.old), cell(r.new)])));
  },
};
