/** `carprice dag`: show the stage graph (ASCII like dvc dag, --dot, --mermaid, --outs). */
import type { Command } from '../command.js';

export const dagCommand: Command = {
  name: 'dag',
  summary: 'Show the pipeline graph (ASCII, --dot, --mermaid, --md, --outs)',
  help: `Usage: carprice dag [TARGET] [--dot | --mermaid | --md | --text] [--outs]

Draws the pipeline as \`dvc dag\` does: boxes, upstream stages on top, one drawing per
pipeline. TARGET limits it to a stage and what it depends on.
  --dot       Graphviz text (\`dvc dag --dot\`): nodes, then "dep" -> "stage" edges
  --mermaid   the flowchart of \`dvc dag --mermaid\`; --md wraps it in a markdown block
  --text      one line per stage in run order: "train  <-  prepare"
  --outs      the graph of outputs instead of stages (\`dvc dag --outs\`)`,
  options: {
    mermaid: { type: 'boolean' },
    md: { type: 'boolean' },
    dot: { type: 'boolean' },
    text: { type: 'boolean' },
    outs: { type: 'boolean' },
  },
  positionals: true,
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    if (args.positionals.length > 1) throw new AppError('USAGE', 'dag takes at most one TARGET');
    const v = args.values;
    if ([v.dot, v.mermaid || v.md, v.text].filter(Boolean).length > 1)
      throw new AppError('USAGE', 'choose one of --dot, --mermaid/--md, --text');
    const { dag } = await import('../../pipeline/dag.js');
    const format = v.md ? 'md' : v.mermaid ? 'mermaid' : v.dot ? 'dot' : v.text ? 'text' : 'ascii';
    // DVC prints the drawing through rich at the terminal's width: lines longer than it
    // lose their trailing spaces down to that width (COLUMNS, else the terminal, else 80).
    const width = Number(ctx.env.COLUMNS) || ctx.stdout.columns || 80;
    ctx.stdout.write(dag({ cwd: ctx.cwd, target: args.positionals[0], format, outs: Boolean(v.outs), width }));
  },
};
