/** `carprice evaluate`: metrics of a saved model on a listings file. */
import { AppError } from '../../core/errors.js';
import type { Command } from '../command.js';
import { ttyProgress } from '../progress.js';
import { formatMetrics, metricsJson } from './metrics-table.js';
import { PARAMS_HELP, PARAMS_OPTIONS, paramsFromFlags, resolvePath } from './params-flags.js';

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'Metrics of a saved model on listings (R², RMSE, MAE, MAPE, MedAPE, within10)',
  help: `Usage: carprice evaluate --model DIR --data FILE [--json]

  --model DIR          model bundle directory (from carprice train)
  --data FILE          listings with prices (.xlsx/.csv, path or URL)
  --json               print {"r2","rmse","mae","mape","medape","within10","n"} as JSON
${PARAMS_HELP}
`,
  options: { model: { type: 'string' }, data: { type: 'string' }, json: { type: 'boolean' }, ...PARAMS_OPTIONS },
  async run(args, ctx) {
    const v = args.values;
    if (!v.model) throw new AppError('USAGE', 'missing --model DIR; see `carprice evaluate --help`');
    if (!v.data) throw new AppError('USAGE', 'missing --data FILE; see `carprice evaluate --help`');
    const { evaluate } = await import('../../jobs/evaluate.js');
    const r = await evaluate({
      params: await paramsFromFlags(args, ctx),
      model: resolvePath(ctx, v.model as string),
      data: resolvePath(ctx, v.data as string),
      env: ctx.env,
      logger: ctx.logger,
      signal: ctx.signal,
      onReport: (s) => ctx.stderr.write(s + '\n'),
      progress: ttyProgress(ctx.stderr),
    });
    const unknown = Object.entries(r.unknownCategories);
    if (v.json)
      ctx.stdout.write(JSON.stringify({ ...metricsJson(r.metrics), unknown_categories: r.unknownCategories }) + '\n');
    else
      ctx.stdout.write(
        `metrics on ${v.data as string}:\n${formatMetrics(r.metrics)}\n` +
          (unknown.length ? `categories unseen in training: ${unknown.map(([k, n]) => `${k} ${n}`).join(', ')}\n` : ''),
      );
  },
};
