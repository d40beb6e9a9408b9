/** `carprice metrics show|diff`: metrics files as DVC tables. */
import type { Command } from '../command.js';

export const metricsShowCommand: Command = {
  name: 'metrics show',
  summary: 'Show the metrics files of the pipeline',
  help: `Usage: carprice metrics show [--md] [--json]

Metrics files are the \`metrics\` outputs of stages and the top-level \`metrics\` list of
dvc.yaml. One row per file, one column per flattened key; floats rounded to 5 decimals.
--json prints DVC's shape: {"workspace": {"data": {"<file>": {"data": {...}}}}} (raw values).`,
  options: { md: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(args, ctx) {
    const { metricsShow, metricsShowJson, metricStr, plainTable, markdownTable } =
      await import('../../pipeline/index.js');
    const files = metricsShow({ cwd: ctx.cwd });
    if (args.values.json) {
      ctx.stdout.write(metricsShowJson(files) + '\n');
      return;
    }
    if (files.length === 0) {
      ctx.stderr.write(
        'No metrics files found: add `metrics:` outputs to a stage in dvc.yaml, then `carprice repro`.\n',
      );
      return;
    }
    const keys = [...new Set(files.flatMap((f) => [...f.values.keys()]))].sort();
    const rows = files.map((f) => [f.path, ...keys.map((k) => (f.values.has(k) ? metricStr(f.values.get(k)) : '-'))]);
    ctx.stdout.write((args.values.md ? markdownTable : plainTable)(['Path', ...keys], rows));
  },
};

export const metricsDiffCommand: Command = {
  name: 'metrics diff',
  summary: 'Show metrics changed between a git revision (default HEAD) and the workspace',
  help: `Usage: carprice metrics diff [REV] [--all] [--md] [--json] [--no-path]

Prints DVC's table: Path  Metric  HEAD  workspace  Change (Change = new - old for numbers);
--no-path drops the Path column. --json prints DVC's shape:
{"<file>": {"<key>": {"old": 0.9, "new": 0.95, "diff": 0.05}}} (raw values).`,
  options: {
    all: { type: 'boolean' },
    md: { type: 'boolean' },
    json: { type: 'boolean' },
    'no-path': { type: 'boolean' },
  },
  positionals: true,
  async run(args, ctx) {
    const { metricsDiff, diffJson, metricStr, metricChange, plainTable, markdownTable } =
      await import('../../pipeline/index.js');
    const rev = args.positionals[0];
    const rows = metricsDiff({ cwd: ctx.cwd, rev, all: Boolean(args.values.all) });
    if (args.values.json) {
      ctx.stdout.write(diffJson(rows) + '\n');
      return;
    }
    if (rows.length === 0) return;
    const cut = args.values['no-path'] ? 1 : 0;
    ctx.stdout.write(
      (args.values.md ? markdownTable : plainTable)(
        ['Path', 'Metric', rev ?? 'HEAD', 'workspace', 'Change'].slice(cut),
        rows.map((r) => [r.path, r.key, metricStr(r.old), metricStr(r.new), metricChange(r)].slice(cut)),
      ),
    );
  },
};
