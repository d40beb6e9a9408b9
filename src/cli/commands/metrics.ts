/** `carprice metrics show|diff`: metrics files as DVC tables. */
import type { Command } from '../command.js';

export const metricsShowCommand: Command = {
  name: 'metrics show',
  summary: 'Show the metrics files of the pipeline',
  help: `Usage: carprice metrics show [--md] [--json]

Metrics files are the \`metrics\` outputs of stages and the top-level \`metrics\` list of
dvc.yaml. One row per file, one column per flattened key; floats rounded to 5 decimals.`,
  options: { md: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(args, ctx) {
    const { metricsShow, metricStr, plainTable, markdownTable } = await import('../../pipeline/index.js');
    const files = metricsShow({ cwd: ctx.cwd });
    if (args.values.json) {
      const out: Record<string, Record<string, string>> = {};
      for (const f of files) out[f.path] = Object.fromEntries([...f.values].map(([k, v]) => [k, metricStr(v)]));
      ctx.stdout.write(JSON.stringify(out) + '\n');
      return;
    }
    if (files.length === 0) {
      ctx.stderr.write('No metrics files found: add `metrics:` outputs to a stage in dvc.yaml, then `carprice repro`.\n');
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
  help: `Usage: carprice metrics diff [REV] [--all] [--md] [--json]

Prints DVC's table: Path  Metric  HEAD  workspace  Change (Change = new - old for numbers).`,
  options: { all: { type: 'boolean' }, md: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: true,
  async run(args, ctx) {
    const { metricsDiff, metricStr, metricChange, plainTable, markdownTable } = await import('../../pipeline/index.js');
    const rev = args.positionals[0];
    const rows = metricsDiff({ cwd: ctx.cwd, rev, all: Boolean(args.values.all) });
    if (args.values.json) {
      const out: Record<string, Record<string, { old: string; new: string; diff: string }>> = {};
      for (const r of rows) (out[r.path] ??= {})[r.key] = { old: metricStr(r.old), new: metricStr(r.new), diff: metricChange(r) };
      ctx.stdout.write(JSON.stringify(out) + '\n');
      return;
    }
    if (rows.length === 0) return;
    ctx.stdout.write(
      (args.values.md ? markdownTable : plainTable)(['Path', 'Metric', rev ?? 'HEAD', 'workspace', 'Change'], rows.map((r) => [r.path, r.key, metricStr(r.old), metricStr(r.new), metricChange(r)])),
    );
  },
};
