/** `carprice train`: fit a model bundle on listings and print its test metrics. */
import { AppError } from '../../core/errors.js';
import { describeAlgorithms } from '../../ml/algorithm-catalog.js';
import type { Command } from '../command.js';
import { formatMetrics, metricsJson } from './metrics-table.js';
import { PARAMS_HELP, PARAMS_OPTIONS, paramsFromFlags, resolvePath } from './params-flags.js';

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train a model bundle on listings and print its test metrics',
  help: `Usage: carprice train --train FILE [--test FILE] [--algo NAME] [--set key=value ...] --out DIR [--json]

Trains the model on FILE (.xlsx or .csv, local path, http(s):// or s3:// URL). Without --test,
FILE is split into train/test by data_ingestion.test_size with seed data_ingestion.random_state.
The model bundle (features + estimator + metadata) is written to DIR.

  --train FILE         training listings (needs the target column and the feature columns)
  --test FILE          test listings (default: split FILE)
  --algo NAME          algorithm (default: model_trainer.algo in params.yaml)
  --out DIR            where to write the model bundle
  --json               print the metrics as JSON
${PARAMS_HELP}

Algorithms:
${describeAlgorithms()}
`,
  options: {
    train: { type: 'string' },
    test: { type: 'string' },
    algo: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    ...PARAMS_OPTIONS,
  },
  async run(args, ctx) {
    const v = args.values;
    if (!v.train) throw new AppError('USAGE', 'missing --train FILE; see `carprice train --help`');
    if (!v.out)
      throw new AppError('USAGE', 'missing --out DIR (where to write the model); see `carprice train --help`');
    const params = await paramsFromFlags(args, ctx);
    const { train } = await import('../../jobs/train.js');
    const r = await train({
      params,
      train: resolvePath(ctx, v.train as string),
      test: v.test ? resolvePath(ctx, v.test as string) : undefined,
      algo: v.algo as string | undefined,
      out: resolvePath(ctx, v.out as string),
      env: ctx.env,
      logger: ctx.logger,
      signal: ctx.signal,
      onReport: (s) => ctx.stderr.write(s + '\n'),
    });
    // the process's peak resident memory (reading, features and fits; worker threads included)
    const peakMb = process.resourceUsage().maxRSS / 1024;
    if (v.json)
      ctx.stdout.write(
        JSON.stringify({
          ...metricsJson(r.metrics),
          algo: r.bundle.metadata.algo,
          train_rows: r.trainRows,
          model: v.out,
          seconds: Math.round(r.seconds * 100) / 100,
          peak_rss_mb: Math.round(peakMb),
        }) + '\n',
      );
    else
      ctx.stdout.write(
        `trained ${r.bundle.metadata.algo} on ${r.trainRows} listings in ${r.seconds.toFixed(1)} s (peak memory ${peakMb >= 1024 ? `${(peakMb / 1024).toFixed(2)} GB` : `${Math.round(peakMb)} MB`}); model saved to ${v.out}\ntest metrics (${r.testRows} listings):\n${formatMetrics(r.metrics)}\n`,
      );
  },
};
