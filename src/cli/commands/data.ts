/** `carprice data ingest` and `carprice data synth`: data preparation commands. */
import { AppError } from '../../core/errors.js';
import type { Command } from '../command.js';
import { PARAMS_HELP, PARAMS_OPTIONS, paramsFromFlags, resolvePath } from './params-flags.js';

export const dataIngestCommand: Command = {
  name: 'data ingest',
  summary: 'Validate, dedupe, select columns and split raw listings into train/test CSVs',
  help: `Usage: carprice data ingest [--source FILE|URL] [--out DIR]

  --source FILE|URL    raw listings (default: data_source.raw_data in params.yaml)
  --out DIR            output folder (default: data_ingestion.output_dir)
${PARAMS_HELP}
`,
  options: { source: { type: 'string' }, out: { type: 'string' }, ...PARAMS_OPTIONS },
  async run(args, ctx) {
    const params = await paramsFromFlags(args, ctx);
    const { ingest } = await import('../../jobs/ingest.js');
    const r = await ingest({
      params,
      source: resolvePath(
        ctx,
        (args.values.source as string | undefined) ?? ctx.env.CARPRICE_DATA_URL ?? params.data_source.raw_data,
      ),
      outDir: resolvePath(ctx, (args.values.out as string | undefined) ?? params.data_ingestion.output_dir),
      env: ctx.env,
      logger: ctx.logger,
      signal: ctx.signal,
      onReport: (s) => ctx.stderr.write(s + '\n'),
    });
    ctx.stdout.write(
      `wrote ${r.files.raw} (${r.rows} rows), ${r.files.train} (${r.trainRows}), ${r.files.test} (${r.testRows})\n`,
    );
  },
};

export const dataSynthCommand: Command = {
  name: 'data synth',
  summary: 'Write N synthetic listings resampled and perturbed from real ones (scale tests)',
  help: `Usage: carprice data synth --rows N --out FILE [--source FILE] [--seed N]

  --rows N             number of rows to generate
  --out FILE           CSV file to write
  --source FILE|URL    real listings to resample (default: data_source.raw_data)
  --seed N             random seed (default: base.random_state)
${PARAMS_HELP}
`,
  options: {
    rows: { type: 'string' },
    out: { type: 'string' },
    source: { type: 'string' },
    seed: { type: 'string' },
    ...PARAMS_OPTIONS,
  },
  async run(args, ctx) {
    const v = args.values;
    if (!v.rows || !v.out) throw new AppError('USAGE', 'carprice data synth needs --rows N and --out FILE');
    const rows = Number(v.rows);
    if (Number.isNaN(rows)) throw new AppError('USAGE', `--rows must be a positive integer, got "${String(v.rows)}"`);
    const params = await paramsFromFlags(args, ctx);
    const seed = v.seed === undefined ? undefined : Number(v.seed);
    if (seed !== undefined && !Number.isInteger(seed))
      throw new AppError('USAGE', `--seed must be an integer, got ${String(v.seed)}`);
    const { synth } = await import('../../jobs/synth.js');
    const r = await synth({
      params,
      rows,
      seed,
      out: resolvePath(ctx, v.out as string),
      source: v.source ? resolvePath(ctx, v.source as string) : resolvePath(ctx, params.data_source.raw_data),
      env: ctx.env,
      signal: ctx.signal,
    });
    ctx.stdout.write(`wrote ${r.rows} synthetic listings to ${v.out as string}\n`);
  },
};
