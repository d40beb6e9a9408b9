/** `carprice dag`: show the stage graph (text, or DVC's --mermaid flowchart). */
import type { Command } from '../command.js';

export const dagCommand: Command = {
  name: 'dag',
  summary: 'Show the pipeline graph (text, --mermaid, --md)',
  help: `Usage: carprice dag [TARGET] [--mermaid | --md]

Text: one line per stage in run order, with the stages it depends on ("train  <-  prepare").
--mermaid prints the same flowchart as \`dvc dag --mermaid\`; --md wraps it in a
markdown code block.`,
  options: { mermaid: { type: 'boolean' }, md: { type: 'boolean' } },
  positionals: true,
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    if (args.positionals.length > 1) throw new AppError('USAGE', 'dag takes at most one TARGET');
    const { dag } = await import('../../pipeline/dag.js');
    ctx.stdout.write(dag({ cwd: ctx.cwd, target: args.positionals[0], format: args.values.md ? 'md' : args.values.mermaid ? 'mermaid' : 'text' }));
  },
};
