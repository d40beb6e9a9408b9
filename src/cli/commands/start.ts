/**
 * `carprice start` (what `npm start` runs): the main job on a fresh checkout. It trains the
 * default model on the raw listings named in params.yaml and prints its test metrics.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../core/errors.js';
import type { Command } from '../command.js';
import { formatMetrics } from './metrics-table.js';
import { PARAMS_HELP, PARAMS_OPTIONS, paramsFromFlags, resolvePath } from './params-flags.js';

export const startCommand: Command = {
  name: 'start',
  summary: 'the main job: train the default model on the project data and print its test metrics',
  help: `Usage: carprice start

Trains model_trainer.algo on data_source.raw_data (split by data_ingestion.test_size) and
writes the bundle to model_trainer.output_dir/model.
${PARAMS_HELP}
`,
  options: { ...PARAMS_OPTIONS },
  async run(args, ctx) {
    const params = paramsFromFlags(args, ctx);
    const source = resolvePath(ctx, ctx.env.CARPRICE_DATA_URL ?? params.data_source.raw_data);
    if (!/^[a-z0-9]+:\/\//i.test(source) && !existsSync(source))
      throw new AppError('FILE_NOT_FOUND', `${source} does not exist; put the listings there or set data_source.raw_data in params.yaml`);
    const out = join(resolvePath(ctx, params.model_trainer.output_dir), 'model');
    const { train } = await import('../../jobs/train.js');
    const r = await train({ params, train: source, out, env: ctx.env, logger: ctx.logger, signal: ctx.signal, onReport: (s) => ctx.stderr.write(s + '\n') });
    ctx.stdout.write(
      `trained ${r.bundle.metadata.algo} on ${r.trainRows} listings in ${r.seconds.toFixed(1)} s; model saved to ${out}\ntest metrics (${r.testRows} listings):\n${formatMetrics(r.metrics)}\n`,
    );
  },
};
