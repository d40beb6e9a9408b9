/** `carprice params diff`: params changed since a git revision (like dvc params diff). */
import type { Command } from '../command.js';

export const paramsDiffCommand: Command = {
  name: 'params diff',
  summary: 'Show params changed between a git revision (default HEAD) and the workspace',
  help: `Usage: carprice params diff [REV] [--all] [--md] [--json] [--no-path]

Covers the params used by stages, the top-level params files of dvc.yaml and params.yaml.
Prints DVC's table: Path  Param  HEAD  workspace (nothing when nothing changed);
--no-path drops the Path column. --json prints DVC's shape:
{"params.yaml": {"train.lr": {"old": 0.1, "new": 0.2, "diff": 0.1}}}.`,
  options: {
    all: { type: 'boolean' },
    md: { type: 'boolean' },
    json: { type: 'boolean' },
    'no-path': { type: 'boolean' },
  },
  positionals: true,
  async run(args, ctx) {
    const { paramsDiffReport, diffJson, plainTable, markdownTable } = await import('../../pipeline/index.js');
    const { pyStr } = await import('../../pipeline/py-value.js');
    const rev = args.positionals[0];
    const { rows, failed } = paramsDiffReport({ cwd: ctx.cwd, rev, all: Boolean(args.values.all) });
    // As DVC: a warning per revision that failed to load, then the list (oldest first).
    for (const f of failed) ctx.stderr.write(`WARNING: failed to load params in revision '${f.rev}', ${f.message}\n`);
    if (failed.length)
      ctx.stderr.write(
        `carprice failed to load the params of these revisions: '${failed
          .map((f) => f.rev)
          .reverse()
          .join(', ')}'; quote the dates named above to keep them as text.\n`,
      );
    const cell = (v: unknown) => (v === undefined ? '-' : pyStr(v as never));
    if (args.values.json) {
      ctx.stdout.write(diffJson(rows) + '\n');
      return;
    }
    if (rows.length === 0) return;
    const table = args.values.md ? markdownTable : plainTable;
    const noPath = Boolean(args.values['no-path']);
    const header = ['Path', 'Param', rev ?? 'HEAD', 'workspace'].slice(noPath ? 1 : 0);
    ctx.stdout.write(
      table(
        header,
        rows.map((r) => [r.path, r.key, cell(r.old), cell(r.new)].slice(noPath ? 1 : 0)),
      ),
    );
  },
};
